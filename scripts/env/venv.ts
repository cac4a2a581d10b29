/**
 * A virtual environment holding one pinned requirements file: created with uv (or pip's `venv`),
 * installed with `uv pip sync` (or `pip install`), and left alone while a stamp, a hash of the
 * requirements and the Python version, says it is up to date.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

import { indent, lastLines, run, SetupError } from "./commands";
import { withLock } from "./lock";
import {
  checkVenvModule,
  findPython,
  hasPip,
  isRecentEnough,
  MIN_PYTHON,
  probeVersion,
  type PythonVersion,
  venvPython,
} from "./python";
import {
  chooseInstaller,
  type Installer,
  type InstallerChoice,
  installerChoice,
  type UvSource,
  uvEnv,
} from "./uv";

/** Bump when the layout of the environments changes, so old environments are set up again. */
const LAYOUT_VERSION = 1;
/** The stamp file inside an environment. */
export const STAMP_FILE = ".attention-pooling-stamp.json";

/** What to set up: where, from which pinned file, and with which Python. */
export interface VenvSpec extends UvSource {
  /** The environment's folder (absolute). */
  readonly venvDir: string;
  /** The pinned requirements to install. */
  readonly requirements: string;
  /** Other requirements files whose installed environment serves this one too (a superset). */
  readonly alsoServedBy?: readonly string[];
  /** The oldest Python the requirements install on. Default {@link MIN_PYTHON}. */
  readonly minPython?: PythonVersion;
  /** What needs this environment, for messages ("JupyterLab"). */
  readonly who: string;
  /** What the requirements hold, for the progress line ("JupyterLab and the notebook runner"). */
  readonly what: string;
  /** The installer to use instead of `$ATTENTION_POOLING_INSTALLER`. */
  readonly installer?: InstallerChoice;
}

/** What {@link ensureVenv} set up. */
export interface Venv {
  /** The environment's folder. */
  readonly venvDir: string;
  /** The environment's Python interpreter (run tools as `python -m jupyterlab`, never via `bin/` scripts). */
  readonly python: string;
  /** The environment's Python version, e.g. `"3.11.7"`. */
  readonly version: string;
  /** Whether this call created the environment or installed into it (false when it was up to date). */
  readonly changed: boolean;
  /** What installed the packages now in it. */
  readonly installer: "uv" | "pip";
  /** The requirements file it holds: the one asked for, or one of `alsoServedBy`. */
  readonly requirements: string;
}

/** The hash that decides whether the installed packages are up to date. */
function stampFor(requirementsText: string, pythonVersion: string): string {
  return createHash("sha256")
    .update(`layout ${LAYOUT_VERSION}\npython ${pythonVersion}\n`)
    .update(requirementsText)
    .digest("hex");
}

/** What the stamp file records: the hash, the folder the environment was made in, and the installer. */
interface Stamp {
  readonly stamp?: string;
  readonly venv?: string;
  readonly installer?: "uv" | "pip";
}

function readStamp(venvDir: string): Stamp {
  try {
    const parsed = JSON.parse(fs.readFileSync(path.join(venvDir, STAMP_FILE), "utf8")) as Stamp;
    return typeof parsed === "object" && parsed !== null ? parsed : {};
  } catch {
    return {};
  }
}

function readRequirements(file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    throw new SetupError(`The pinned Python requirements ${file} are missing.`);
  }
}

/**
 * Creates or reuses the environment `spec.venvDir` with `spec.requirements` installed. Safe to call
 * from several processes at once: they take turns through a lock folder beside it.
 *
 * @throws SetupError when Python, its venv module (pip path) or the package index is missing.
 */
export async function ensureVenv(spec: VenvSpec): Promise<Venv> {
  installerChoice(spec.env, spec.installer); // a mistyped choice fails even when nothing is installed
  const rel = path.relative(process.cwd(), spec.venvDir) || spec.venvDir;
  return withLock(`${spec.venvDir}.lock`, `setting up ${rel}`, spec.log, () => setUp(spec, rel));
}

async function setUp(spec: VenvSpec, rel: string): Promise<Venv> {
  const { venvDir, env } = spec;
  const text = readRequirements(spec.requirements);
  const python = venvPython(venvDir);
  const quietEnv: NodeJS.ProcessEnv = { ...env, PIP_DISABLE_PIP_VERSION_CHECK: "1", PYTHONNOUSERSITE: "1" };
  const min = spec.minPython ?? MIN_PYTHON;

  const version = fs.existsSync(python) ? probeVersion(python, quietEnv).version : undefined;
  const stamp = readStamp(venvDir);
  const moved = stamp.venv !== undefined && stamp.venv !== venvDir;
  if (version !== undefined && !moved) {
    for (const file of [spec.requirements, ...(spec.alsoServedBy ?? [])]) {
      const served = file === spec.requirements ? text : readOptional(file);
      if (served !== undefined && stamp.stamp === stampFor(served, version)) {
        return {
          venvDir,
          python,
          version,
          changed: false,
          installer: stamp.installer ?? "pip",
          requirements: file,
        };
      }
    }
  }
  // Virtual environments cannot move (their scripts name their folder): make a moved one again.
  const remake = version === undefined || !isRecentEnough(version, min) || moved;
  const why = moved ? `was made in ${stamp.venv}` : "is broken or too old";

  const installer = await chooseInstaller(spec, spec.installer);
  if (installer.kind === "uv") {
    const made = await withUv(spec, installer, rel, remake, why, text, quietEnv);
    if (typeof made !== "string") return made;
    spec.log(`uv could not set up ${rel} (${made}); installing with pip instead.`);
    if (remake) fs.rmSync(venvDir, { recursive: true, force: true }); // uv made it just now
  } else if (!installer.forced) {
    spec.log(`uv is not available (${installer.why}); installing with pip, which takes a minute or two.`);
  }
  return withPip(spec, rel, remake, why, text, quietEnv);
}

function readOptional(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/** Removes `venvDir` before it is made again, after checking that it is an environment. */
function clearOld(venvDir: string, rel: string, why: string, log: (line: string) => void): void {
  if (!fs.existsSync(venvDir)) return;
  if (!fs.existsSync(path.join(venvDir, "pyvenv.cfg"))) {
    throw new SetupError(`${venvDir} exists but is not a Python environment; move it away and run again.`);
  }
  log(`Python environment ${rel} ${why}; creating it again.`);
  fs.rmSync(venvDir, { recursive: true, force: true });
}

function writeStamp(venvDir: string, text: string, version: string, installer: "uv" | "pip"): void {
  fs.writeFileSync(
    path.join(venvDir, STAMP_FILE),
    JSON.stringify({ stamp: stampFor(text, version), venv: venvDir, python: version, installer }, null, 2) +
      "\n",
  );
}

/** Sets the environment up with uv; returns what went wrong instead when uv fails (so pip can try). */
async function withUv(
  spec: VenvSpec,
  uv: Installer & { kind: "uv" },
  rel: string,
  remake: boolean,
  why: string,
  text: string,
  quietEnv: NodeJS.ProcessEnv,
): Promise<Venv | string> {
  const { venvDir } = spec;
  const env = uvEnv(quietEnv);
  const python = venvPython(venvDir);
  if (remake) {
    const found = findPython(spec.env, spec.minPython ?? MIN_PYTHON, spec.who);
    clearOld(venvDir, rel, why, spec.log);
    spec.log(
      `Creating the Python environment ${rel} with Python ${found.version} (${found.command}), using uv ${uv.version}…`,
    );
    const made = await run(uv.uv, ["venv", "--quiet", "--python", found.command, venvDir], env);
    if (made.code !== 0) return `uv venv said: ${uvReason(made.output) || `exit code ${made.code}`}`;
  }
  const version = probeVersion(python, env).version;
  if (version === undefined) return `the interpreter of ${rel} does not run`;
  spec.log(`Installing ${spec.what} into ${rel} with uv (pinned in ${path.basename(spec.requirements)})…`);
  fs.rmSync(path.join(venvDir, STAMP_FILE), { force: true });
  const args = ["pip", "sync", "--python", python, spec.requirements];
  if (text.includes("--hash=")) args.push("--require-hashes");
  const started = Date.now();
  const installed = await run(uv.uv, args, env);
  fs.writeFileSync(path.join(venvDir, "uv-install.log"), installed.output);
  if (installed.code !== 0) return `uv said: ${uvReason(installed.output) || `exit code ${installed.code}`}`;
  writeStamp(venvDir, text, version, "uv");
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  spec.log(`Python environment ready (Python ${version}; uv installed it in ${seconds} s).`);
  return { venvDir, python, version, changed: true, installer: "uv", requirements: spec.requirements };
}

/** uv's error in one line: its `error:` line and the innermost `cause:` (e.g. "Connection refused"). */
export function uvReason(output: string): string {
  const lines = output.split(/\r?\n/).map((l) => l.trim());
  const error = lines
    .find((l) => l.startsWith("error:"))
    ?.slice("error:".length)
    .trim();
  const cause = lines
    .filter((l) => l.startsWith("cause:"))
    .pop()
    ?.slice("cause:".length)
    .trim();
  if (error === undefined) return lastLines(output, 1);
  return cause === undefined ? error : `${error}: ${cause}`;
}

/** Sets the environment up with Python's `venv` and pip. */
async function withPip(
  spec: VenvSpec,
  rel: string,
  remake: boolean,
  why: string,
  text: string,
  pipEnv: NodeJS.ProcessEnv,
): Promise<Venv> {
  const { venvDir } = spec;
  const python = venvPython(venvDir);
  // An environment uv made has no pip in it: make it again with pip.
  if (!remake && !hasPip(python, pipEnv)) {
    remake = true;
    why = "has no pip (uv made it)";
  }
  if (remake) {
    const found = findPython(spec.env, spec.minPython ?? MIN_PYTHON, spec.who);
    checkVenvModule(found, spec.env);
    clearOld(venvDir, rel, why, spec.log);
    spec.log(`Creating the Python environment ${rel} with Python ${found.version} (${found.command})…`);
    const made = await run(found.command, ["-m", "venv", venvDir], pipEnv);
    if (made.code !== 0) {
      fs.rmSync(venvDir, { recursive: true, force: true });
      if (/ensurepip|venv/.test(made.output)) checkVenvModule(found, spec.env);
      throw new SetupError(`Python could not create ${rel}:\n${indent(lastLines(made.output, 8))}`);
    }
  }
  const version = probeVersion(python, pipEnv).version;
  if (version === undefined) throw new SetupError(`Python created ${rel}, but its interpreter does not run.`);
  spec.log(
    `Installing ${spec.what} into ${rel} with pip (pinned in ${path.basename(spec.requirements)}; the first time takes a minute or two)…`,
  );
  fs.rmSync(path.join(venvDir, STAMP_FILE), { force: true });
  const logFile = path.join(venvDir, "pip-install.log");
  const installed = await run(
    python,
    ["-m", "pip", "install", "--no-input", "--progress-bar", "off", "-r", spec.requirements],
    pipEnv,
  );
  fs.writeFileSync(logFile, installed.output);
  if (installed.code !== 0) throw pipError(installed.output, logFile, spec.requirements);
  writeStamp(venvDir, text, version, "pip");
  spec.log(`Python environment ready (Python ${version}).`);
  return { venvDir, python, version, changed: true, installer: "pip", requirements: spec.requirements };
}

/** pip's words for "I could not reach the index". */
const UNREACHABLE =
  /NewConnectionError|ConnectTimeoutError|Failed to establish a new connection|Temporary failure in name resolution|Name or service not known|Max retries exceeded|ProxyError|SSLError|Connection refused|Network is unreachable|timed out|\(from versions: none\)/i;

/** Turns a failed `pip install` into a message that says what to do. */
export function pipError(output: string, logFile: string, requirements: string): SetupError {
  const lines = output.split(/\r?\n/).filter((l) => l.trim() !== "");
  const reason =
    lines.find((l) => UNREACHABLE.test(l) && !/^\s*Retrying/.test(l)) ??
    lines.find((l) => UNREACHABLE.test(l));
  if (reason !== undefined) {
    return new SetupError(
      [
        `pip could not reach its package index to install ${path.basename(requirements)}.`,
        `  pip said: ${reason.trim()}`,
        "  Check the network connection and proxy (pip honours HTTPS_PROXY), or point pip at a reachable",
        "  index or mirror with PIP_INDEX_URL, then run this command again.",
        `  Full pip output: ${logFile}`,
      ].join("\n"),
    );
  }
  const errors = lines.filter((l) => /^ERROR:|error:/i.test(l));
  return new SetupError(
    [
      `pip could not install ${path.basename(requirements)}:`,
      indent((errors.length > 0 ? errors.slice(-4) : lines.slice(-6)).join("\n")),
      `  Full pip output: ${logFile}`,
    ].join("\n"),
  );
}
