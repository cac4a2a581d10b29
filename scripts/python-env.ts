/**
 * The project-local Python environment that runs JupyterLab and the headless notebook runner.
 *
 * `ensurePythonEnv()` finds a Python (3.10 or newer), creates `.venv` with it, installs the pinned
 * `requirements.txt`, and registers the tslab kernel from this project's `node_modules` into that
 * environment only (never into the user's own Jupyter). A stamp holding a hash of the requirements
 * makes a second call skip the install, so it takes well under a second.
 *
 * Whatever is missing on the machine (Python, its `venv` module, a reachable package index) ends in
 * a {@link SetupError}, whose message says what to install; the command-line entry points print it
 * without a stack trace.
 *
 * Run directly (`node --import tsx scripts/python-env.ts`) to set the environment up and print its
 * interpreter.
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/** The oldest Python the pinned requirements install on (JupyterLab 4.6 needs 3.10). */
export const MIN_PYTHON: readonly [number, number] = [3, 10];

/** The project's root folder (the parent of `scripts/`). */
export const PROJECT_ROOT = path.resolve(__dirname, "..");

/** The name of the kernelspec this project registers, and that its notebooks ask for. */
export const KERNEL_NAME = "tslab";

/** Bump when the layout of the environment changes, so old environments are set up again. */
const LAYOUT_VERSION = 1;
const STAMP_FILE = ".attention-pooling-stamp.json";
const PIP_LOG = "pip-install.log";

/** A problem the user can fix by installing or configuring something; printed without a stack trace. */
export class SetupError extends Error {
  override name = "SetupError";
}

/** Options for {@link ensurePythonEnv}. */
export interface PythonEnvOptions {
  /** The project folder. Default: this repository. */
  readonly root?: string;
  /** Where the environment lives. Default: `$ATTENTION_POOLING_VENV`, else `<root>/.venv`. */
  readonly venvDir?: string;
  /** The pinned requirements. Default: `<root>/requirements.txt`. */
  readonly requirements?: string;
  /** The environment variables to look up `PYTHON` and `PATH` in and to run pip with. Default: `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** Where progress lines go. Default: `console.log`. */
  readonly log?: (line: string) => void;
}

/** What {@link ensurePythonEnv} set up. */
export interface PythonEnv {
  /** The environment's folder. */
  readonly venvDir: string;
  /** The environment's Python interpreter (run tools as `python -m jupyterlab`, never via `bin/` scripts). */
  readonly python: string;
  /** The environment's Python version, e.g. `"3.11.7"`. */
  readonly version: string;
  /** Whether this call created the environment or installed into it (false when it was up to date). */
  readonly changed: boolean;
}

/** A Python interpreter found on the machine. */
export interface FoundPython {
  readonly command: string;
  readonly version: string;
}

const isWindows = process.platform === "win32";

/** The interpreter inside a virtual environment. */
export function venvPython(venvDir: string): string {
  return isWindows ? path.join(venvDir, "Scripts", "python.exe") : path.join(venvDir, "bin", "python");
}

/** Looks a command up on `PATH` the way a shell would; returns its full path or `undefined`. */
export function which(command: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (command.includes("/") || command.includes(path.sep)) return isExecutable(command) ? command : undefined;
  const exts = isWindows ? (env.PATHEXT ?? ".EXE;.BAT;.CMD").split(";") : [""];
  for (const dir of (env.PATH ?? "").split(path.delimiter)) {
    if (dir === "") continue;
    for (const ext of exts) {
      const candidate = path.join(dir, command + ext);
      if (isExecutable(candidate)) return candidate;
    }
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) return false;
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const VERSION_PROBE = "import sys; print('%d.%d.%d' % sys.version_info[:3])";

/** Runs `command -c <probe>` and returns its version, or why it could not be run. */
function probeVersion(command: string, env: NodeJS.ProcessEnv): { version?: string; problem?: string } {
  const res = spawnSync(command, ["-c", VERSION_PROBE], { env, encoding: "utf8", timeout: 60_000 });
  if (res.error) return { problem: res.error.message };
  const out = (res.stdout ?? "").trim();
  if (res.status !== 0 || !/^\d+\.\d+\.\d+$/.test(out)) {
    const said = lastLines(`${res.stderr ?? ""}\n${out}`, 1) || `exit code ${res.status}`;
    return { problem: said };
  }
  return { version: out };
}

/** Whether `version` ("3.11.7") is at least {@link MIN_PYTHON}. */
export function isRecentEnough(version: string): boolean {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  return major > MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor >= MIN_PYTHON[1]);
}

const MIN_TEXT = MIN_PYTHON.join(".");

const INSTALL_PYTHON_HINT = [
  `  Install Python ${MIN_TEXT} or newer, then run this command again:`,
  "    Debian/Ubuntu:  sudo apt-get install python3 python3-venv",
  "    Fedora:         sudo dnf install python3",
  "    macOS:          brew install python",
  "    Windows:        install Python 3 from its official installer and tick 'Add to PATH'",
  "  Or point PYTHON at a suitable interpreter: PYTHON=/path/to/python3 npm start",
].join("\n");

/**
 * Finds a Python at least {@link MIN_PYTHON}: `$PYTHON` when set, else the first suitable of `python3`,
 * `python`, `python3.14` … `python3.10` on `PATH`.
 *
 * @throws SetupError naming what to install when none is suitable.
 */
export function findPython(env: NodeJS.ProcessEnv = process.env): FoundPython {
  const requested = env.PYTHON?.trim();
  const versioned = ["3.14", "3.13", "3.12", "3.11", "3.10"].map((v) => `python${v}`);
  const names = requested
    ? [requested]
    : isWindows
      ? ["python", "python3"]
      : ["python3", "python", ...versioned];
  const seen: string[] = [];
  for (const name of names) {
    const command = which(name, env);
    if (command === undefined) continue;
    const { version, problem } = probeVersion(command, env);
    if (version === undefined) {
      seen.push(`${command} did not run (${problem})`);
      continue;
    }
    if (isRecentEnough(version)) return { command, version };
    seen.push(`${command} is Python ${version}`);
  }
  if (requested && seen.length === 0) {
    throw new SetupError(
      `PYTHON is set to ${JSON.stringify(requested)}, which was not found.\n${INSTALL_PYTHON_HINT}`,
    );
  }
  if (seen.length === 0) {
    throw new SetupError(
      `JupyterLab needs Python ${MIN_TEXT} or newer, and no python3 or python was found on PATH.\n${INSTALL_PYTHON_HINT}`,
    );
  }
  throw new SetupError(
    `JupyterLab needs Python ${MIN_TEXT} or newer, but ${seen.join("; ")}.\n${INSTALL_PYTHON_HINT}`,
  );
}

/**
 * Checks that `python` can create virtual environments with pip in them (`venv` and `ensurepip`).
 *
 * @throws SetupError naming the package to install (Debian and Ubuntu ship `venv` separately).
 */
export function checkVenvModule(python: FoundPython, env: NodeJS.ProcessEnv = process.env): void {
  const res = spawnSync(python.command, ["-c", "import venv, ensurepip"], {
    env,
    encoding: "utf8",
    timeout: 60_000,
  });
  if (res.status === 0 && !res.error) return;
  const said = lastLines(res.stderr ?? "", 1) || res.error?.message || `exit code ${res.status}`;
  const [major, minor] = python.version.split(".");
  throw new SetupError(
    [
      `Python ${python.version} at ${python.command} cannot create virtual environments (${said}).`,
      "  Install its venv module, then run this command again:",
      `    Debian/Ubuntu:  sudo apt-get install python${major}.${minor}-venv   (or python3-venv)`,
      "  Or point PYTHON at another Python 3 that has it: PYTHON=/path/to/python3 npm start",
    ].join("\n"),
  );
}

/** The hash that decides whether the installed packages are up to date. */
function stampFor(requirementsText: string, pythonVersion: string): string {
  return createHash("sha256")
    .update(`layout ${LAYOUT_VERSION}\npython ${pythonVersion}\n`)
    .update(requirementsText)
    .digest("hex");
}

/** What the stamp file records: the hash, and the folder the environment was made in. */
interface Stamp {
  readonly stamp?: string;
  readonly venv?: string;
}

function readStamp(venvDir: string): Stamp {
  try {
    const parsed = JSON.parse(fs.readFileSync(path.join(venvDir, STAMP_FILE), "utf8")) as Stamp;
    return typeof parsed === "object" && parsed !== null ? parsed : {};
  } catch {
    return {};
  }
}

/** The Python version inside an existing environment, or `undefined` when it is missing or broken. */
function existingVenvVersion(venvDir: string, env: NodeJS.ProcessEnv): string | undefined {
  const python = venvPython(venvDir);
  if (!fs.existsSync(python)) return undefined;
  return probeVersion(python, env).version;
}

/**
 * Creates or reuses the project's Python environment and registers the tslab kernel in it.
 * Safe to call from several processes at once: they take turns through a lock folder.
 *
 * @throws SetupError when Python, its venv module or the package index is missing.
 */
export async function ensurePythonEnv(options: PythonEnvOptions = {}): Promise<PythonEnv> {
  const root = options.root ?? PROJECT_ROOT;
  const env = options.env ?? process.env;
  const venvDir = path.resolve(options.venvDir ?? (env.ATTENTION_POOLING_VENV || path.join(root, ".venv")));
  const requirements = options.requirements ?? path.join(root, "requirements.txt");
  const log = options.log ?? ((line: string) => console.log(line));
  return withLock(`${venvDir}.lock`, log, async () => {
    const result = await setUp(venvDir, requirements, env, log);
    registerKernel(venvDir, root);
    return result;
  });
}

async function setUp(
  venvDir: string,
  requirements: string,
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
): Promise<PythonEnv> {
  let requirementsText: string;
  try {
    requirementsText = fs.readFileSync(requirements, "utf8");
  } catch {
    throw new SetupError(`The pinned Python requirements ${requirements} are missing.`);
  }
  const pipEnv: NodeJS.ProcessEnv = { ...env, PIP_DISABLE_PIP_VERSION_CHECK: "1", PYTHONNOUSERSITE: "1" };
  const python = venvPython(venvDir);
  const rel = path.relative(process.cwd(), venvDir) || venvDir;

  let version = existingVenvVersion(venvDir, pipEnv);
  const stamp = readStamp(venvDir);
  const moved = stamp.venv !== undefined && stamp.venv !== venvDir;
  if (version !== undefined && !moved && stamp.stamp === stampFor(requirementsText, version)) {
    return { venvDir, python, version, changed: false };
  }

  // Virtual environments cannot move (their scripts name their folder): make a moved one again.
  if (version === undefined || !isRecentEnough(version) || moved) {
    const found = findPython(env);
    checkVenvModule(found, env);
    if (fs.existsSync(venvDir)) {
      if (!fs.existsSync(path.join(venvDir, "pyvenv.cfg"))) {
        throw new SetupError(
          `${venvDir} exists but is not a Python environment; move it away and run again.`,
        );
      }
      const why = moved ? `was made in ${stamp.venv}` : "is broken or too old";
      log(`Python environment ${rel} ${why}; creating it again.`);
      fs.rmSync(venvDir, { recursive: true, force: true });
    }
    log(`Creating the Python environment ${rel} with Python ${found.version} (${found.command})…`);
    const made = await run(found.command, ["-m", "venv", venvDir], pipEnv);
    if (made.code !== 0) {
      fs.rmSync(venvDir, { recursive: true, force: true });
      if (/ensurepip|venv/.test(made.output)) checkVenvModule(found, env);
      throw new SetupError(`Python could not create ${rel}:\n${indent(lastLines(made.output, 8))}`);
    }
    version = existingVenvVersion(venvDir, pipEnv);
    if (version === undefined)
      throw new SetupError(`Python created ${rel}, but its interpreter does not run.`);
  }

  log(
    `Installing JupyterLab and the notebook runner into ${rel} (pinned in requirements.txt; the first time takes a minute)…`,
  );
  fs.rmSync(path.join(venvDir, STAMP_FILE), { force: true });
  const logFile = path.join(venvDir, PIP_LOG);
  const installed = await run(
    python,
    ["-m", "pip", "install", "--no-input", "--progress-bar", "off", "-r", requirements],
    pipEnv,
  );
  fs.writeFileSync(logFile, installed.output);
  if (installed.code !== 0) throw pipError(installed.output, logFile, requirements);
  fs.writeFileSync(
    path.join(venvDir, STAMP_FILE),
    JSON.stringify({ stamp: stampFor(requirementsText, version), venv: venvDir, python: version }, null, 2) +
      "\n",
  );
  log(`Python environment ready (Python ${version}).`);
  return { venvDir, python, version, changed: true };
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

/**
 * The kernelspec that starts this project's tslab with the Node.js running this script. It is
 * written into the environment only, and rewritten whenever the project folder (or Node.js) moved.
 */
export function kernelSpec(root: string): { argv: string[]; display_name: string; language: string } {
  return {
    argv: [
      process.execPath,
      path.join(root, "node_modules", "tslab", "bin", "tslab"),
      "kernel",
      "--config-path",
      "{connection_file}",
    ],
    display_name: "TypeScript",
    language: "typescript",
  };
}

/**
 * Jupyter's settings inside the environment (`<venv>/etc/jupyter/jupyter_config.json`, read by
 * every Jupyter command run from it): tslab is the only kernel. ipykernel, which JupyterLab pulls
 * in, would otherwise offer Python too, and a notebook bound to it by mistake runs nothing.
 */
export const ENV_JUPYTER_CONFIG = {
  KernelSpecManager: { allowed_kernelspecs: [KERNEL_NAME], ensure_native_kernel: false },
} as const;

/**
 * Writes `<venv>/share/jupyter/kernels/tslab/kernel.json` and {@link ENV_JUPYTER_CONFIG}, each
 * unless it already says the same. Returns the kernelspec's path.
 */
export function registerKernel(venvDir: string, root: string): string {
  const tslab = path.join(root, "node_modules", "tslab", "bin", "tslab");
  if (!fs.existsSync(tslab)) {
    throw new SetupError(
      `tslab is not installed in ${path.join(root, "node_modules")}; run npm install first.`,
    );
  }
  const file = path.join(venvDir, "share", "jupyter", "kernels", KERNEL_NAME, "kernel.json");
  writeIfChanged(file, JSON.stringify(kernelSpec(root), null, 1) + "\n");
  writeIfChanged(
    path.join(venvDir, "etc", "jupyter", "jupyter_config.json"),
    JSON.stringify(ENV_JUPYTER_CONFIG, null, 1) + "\n",
  );
  return file;
}

function writeIfChanged(file: string, text: string): void {
  let current: string | undefined;
  try {
    current = fs.readFileSync(file, "utf8");
  } catch {
    current = undefined;
  }
  if (current !== text) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  }
}

/**
 * The environment variables for the environment's Jupyter: its own kernelspecs win over any the
 * user installed elsewhere, and the user's site-packages stay out.
 */
export function jupyterEnv(
  extra: NodeJS.ProcessEnv = {},
  base: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  return {
    ...base,
    JUPYTER_PREFER_ENV_PATH: "1",
    PYTHONNOUSERSITE: "1",
    PIP_DISABLE_PIP_VERSION_CHECK: "1",
    ...extra,
  };
}

function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("error", (err) => resolve({ code: 127, output: output + err.message }));
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });
}

function lastLines(text: string, n: number): string {
  return text
    .split(/\r?\n/)
    .filter((l) => l.trim() !== "")
    .slice(-n)
    .join("\n")
    .trim();
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n");
}

/** Runs `fn` while holding a lock folder; waits for another process holding it, and takes over a dead one's. */
async function withLock<T>(lockDir: string, log: (line: string) => void, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 15 * 60_000;
  let told = false;
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      fs.writeFileSync(path.join(lockDir, "pid"), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const holder = Number(readOr(path.join(lockDir, "pid"), "0"));
      if (holder > 0 && !isAlive(holder)) {
        fs.rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline)
        throw new SetupError(`Timed out waiting for ${lockDir} (held by process ${holder}).`);
      if (!told)
        log(
          `Waiting for another process (${holder || "starting"}) that is setting up the Python environment…`,
        );
      told = true;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
}

function readOr(file: string, fallback: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return fallback;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Runs a command-line entry point: a {@link SetupError} is printed as its message alone and exits
 * with status 1; anything else is a bug and keeps its stack.
 */
export function runMain(main: () => Promise<number | void>): void {
  main().then(
    (code) => {
      if (typeof code === "number") process.exitCode = code;
    },
    (err: unknown) => {
      if (err instanceof SetupError) {
        console.error(`\n${err.message}\n`);
      } else {
        console.error(err);
      }
      process.exitCode = 1;
    },
  );
}

if (require.main === module) {
  runMain(async () => {
    const env = await ensurePythonEnv();
    console.log(`${env.python} (Python ${env.version}${env.changed ? "" : ", up to date"})`);
  });
}
