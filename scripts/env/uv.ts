/**
 * Choosing the installer: uv when it can be had (a `uv` on `PATH`, or the pinned uv installed once
 * from the package index into the project's `.venv-tools/`), pip otherwise. uv sets up the Jupyter
 * environment in seconds where pip takes a minute or two. `ATTENTION_POOLING_INSTALLER=pip`
 * (or `=uv`) forces one.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

import { lastLines, run, SetupError } from "./commands";
import { withLock } from "./lock";
import { findPython, isExecutable, venvPython, which } from "./python";

/** The variable that forces an installer. */
export const INSTALLER_VARIABLE = "ATTENTION_POOLING_INSTALLER";

/** What {@link INSTALLER_VARIABLE} may say: `auto` (the default) prefers uv and falls back to pip. */
export type InstallerChoice = "auto" | "uv" | "pip";
const CHOICES: readonly InstallerChoice[] = ["auto", "uv", "pip"];

/** The oldest uv on `PATH` that is used (older ones lack `UV_DEFAULT_INDEX`); otherwise the pinned one is installed. */
export const MIN_UV: readonly [number, number, number] = [0, 5, 0];

/** Where uv comes from and how to reach it. */
export interface UvSource {
  /** The project folder: `.venv-tools/` and `requirements-uv.txt` are found there by default. */
  readonly root: string;
  /** Where the pinned uv is installed. Default `<root>/.venv-tools`. */
  readonly toolsDir?: string;
  /** The pinned uv (`uv==X` with its hashes). Default `<root>/requirements-uv.txt`. */
  readonly uvRequirements?: string;
  readonly env: NodeJS.ProcessEnv;
  readonly log: (line: string) => void;
}

/** The installer chosen: uv (with its path and version), or pip with the reason. */
export type Installer =
  | { readonly kind: "uv"; readonly uv: string; readonly version: string }
  | { readonly kind: "pip"; readonly forced: boolean; readonly why: string };

/**
 * The installer asked for by `override`, else by {@link INSTALLER_VARIABLE}, else `auto`.
 *
 * @throws SetupError for any other value.
 */
export function installerChoice(env: NodeJS.ProcessEnv, override?: InstallerChoice): InstallerChoice {
  const raw = override ?? (env[INSTALLER_VARIABLE]?.trim().toLowerCase() || "auto");
  if (!(CHOICES as readonly string[]).includes(raw)) {
    throw new SetupError(
      `${INSTALLER_VARIABLE} must be one of ${CHOICES.join(", ")}, got ${JSON.stringify(env[INSTALLER_VARIABLE])}.`,
    );
  }
  return raw as InstallerChoice;
}

/**
 * Picks the installer for an environment that needs installing: pip when forced, else uv from
 * `PATH`, else the pinned uv from `.venv-tools/` (installed there first if need be), else pip.
 *
 * @throws SetupError when uv is forced but cannot be had.
 */
export async function chooseInstaller(source: UvSource, override?: InstallerChoice): Promise<Installer> {
  const choice = installerChoice(source.env, override);
  if (choice === "pip") return { kind: "pip", forced: true, why: `${INSTALLER_VARIABLE}=pip` };
  const problems: string[] = [];
  const onPath = which("uv", source.env);
  if (onPath !== undefined) {
    const version = uvVersion(onPath, source.env);
    if (version !== undefined && atLeast(version, MIN_UV)) return { kind: "uv", uv: onPath, version };
    problems.push(
      version === undefined
        ? `${onPath} does not run`
        : `uv ${version} on PATH is older than ${MIN_UV.join(".")}`,
    );
  }
  let got: { uv: string; version: string } | { problem: string };
  try {
    got = await pinnedUv(source);
  } catch (err) {
    got = { problem: err instanceof Error ? err.message : String(err) };
  }
  if ("uv" in got) return { kind: "uv", ...got };
  problems.push(got.problem);
  const why = `${onPath === undefined ? "none on PATH, and " : ""}${problems.join("; ")}`;
  if (choice === "uv") {
    throw new SetupError(`${INSTALLER_VARIABLE}=uv, but uv is not available: ${why}.`);
  }
  return { kind: "pip", forced: false, why };
}

/** `uv --version` as "0.13.9", or `undefined` when it does not run. */
export function uvVersion(uv: string, env: NodeJS.ProcessEnv): string | undefined {
  const res = spawnSync(uv, ["--version"], { env, encoding: "utf8", timeout: 60_000 });
  const match = /^uv (\d+\.\d+\.\d+)/.exec((res.stdout ?? "").trim());
  return res.status === 0 && match ? match[1] : undefined;
}

function atLeast(version: string, min: readonly number[]): boolean {
  const parts = version.split(".").map(Number);
  for (let i = 0; i < min.length; i++) {
    const [have = 0, want = 0] = [parts[i], min[i]];
    if (have !== want) return have > want;
  }
  return true;
}

/** The uv executable inside the tools folder (pip's `--target` and a virtual environment both put it in `bin/`). */
export function toolsUv(toolsDir: string): string {
  const candidates =
    process.platform === "win32"
      ? [path.join(toolsDir, "bin", "uv.exe"), path.join(toolsDir, "Scripts", "uv.exe")]
      : [path.join(toolsDir, "bin", "uv")];
  return candidates.find(isExecutable) ?? (candidates[0] as string);
}

const TOOLS_STAMP = ".attention-pooling-stamp.json";

/**
 * The pinned uv from `requirements-uv.txt`, installed into the tools folder the first time with the
 * Python found for the project: by its own pip into that folder (`pip install --target`), or, when
 * that Python has no pip, into a small virtual environment there. Returns why when it cannot.
 */
async function pinnedUv(source: UvSource): Promise<{ uv: string; version: string } | { problem: string }> {
  const toolsDir = path.resolve(source.toolsDir ?? path.join(source.root, ".venv-tools"));
  const requirements = source.uvRequirements ?? path.join(source.root, "requirements-uv.txt");
  let text: string;
  try {
    text = fs.readFileSync(requirements, "utf8");
  } catch {
    return { problem: `its pin ${requirements} is missing` };
  }
  const pinned = /^uv==(\S+)/m.exec(text)?.[1] ?? "(unpinned)";
  const stamp = createHash("sha256").update(text).digest("hex");
  const rel = path.relative(process.cwd(), toolsDir) || toolsDir;
  return withLock(`${toolsDir}.lock`, `installing uv into ${rel}`, source.log, async () => {
    const uv = toolsUv(toolsDir);
    if (readStamp(toolsDir) === stamp) {
      const version = uvVersion(uv, source.env);
      if (version !== undefined) return { uv, version };
    }
    let python: string;
    try {
      python = findPython(source.env).command;
    } catch {
      return { problem: "no Python was found to install it with" };
    }
    fs.rmSync(toolsDir, { recursive: true, force: true });
    source.log(`Installing uv ${pinned} into ${rel} (once; it sets up the environment faster than pip)…`);
    const pipEnv: NodeJS.ProcessEnv = {
      ...source.env,
      PIP_DISABLE_PIP_VERSION_CHECK: "1",
      PIP_USER: "0",
      PIP_REQUIRE_VIRTUALENV: "0",
      PIP_ROOT_USER_ACTION: "ignore",
      PYTHONNOUSERSITE: "1",
    };
    const install = ["-m", "pip", "install", "--no-input", "--progress-bar", "off"];
    const args = [...install, "--only-binary=:all:", "--no-deps", "-r", requirements];
    let res = await run(python, [...args, "--target", toolsDir], pipEnv);
    if (res.code !== 0 && /No module named '?pip'?(\s|$)/m.test(res.output)) {
      // A Python without pip (Debian's python3 without python3-pip) can still make a venv that has one.
      fs.rmSync(toolsDir, { recursive: true, force: true });
      res = await run(python, ["-m", "venv", toolsDir], pipEnv);
      if (res.code === 0) res = await run(venvPython(toolsDir), args, pipEnv);
    }
    const version = res.code === 0 ? uvVersion(toolsUv(toolsDir), source.env) : undefined;
    if (version === undefined) {
      fs.rmSync(toolsDir, { recursive: true, force: true });
      const said = lastLines(
        res.output
          .split(/\r?\n/)
          .filter((l) => /error/i.test(l))
          .join("\n"),
        1,
      );
      return {
        problem: `installing uv ${pinned} failed (${said || lastLines(res.output, 1) || `exit code ${res.code}`})`,
      };
    }
    fs.writeFileSync(
      path.join(toolsDir, TOOLS_STAMP),
      JSON.stringify({ stamp, uv: version }, null, 2) + "\n",
    );
    return { uv: toolsUv(toolsDir), version };
  });
}

function readStamp(dir: string): string | undefined {
  try {
    return (JSON.parse(fs.readFileSync(path.join(dir, TOOLS_STAMP), "utf8")) as { stamp?: string }).stamp;
  } catch {
    return undefined;
  }
}

/**
 * pip's settings that uv knows by other names, so that a package index, mirror or certificate set up
 * for pip serves uv too. Each is copied only when none of uv's own names for it is set.
 */
const PIP_TO_UV: ReadonlyArray<{ pip: string; uv: string; unlessSet: readonly string[] }> = [
  { pip: "PIP_INDEX_URL", uv: "UV_DEFAULT_INDEX", unlessSet: ["UV_DEFAULT_INDEX", "UV_INDEX_URL"] },
  { pip: "PIP_EXTRA_INDEX_URL", uv: "UV_INDEX", unlessSet: ["UV_INDEX", "UV_EXTRA_INDEX_URL"] },
  { pip: "PIP_CERT", uv: "SSL_CERT_FILE", unlessSet: ["SSL_CERT_FILE"] },
];

/** The environment uv runs in: pip's index and certificate settings carried over, and no Python downloads. */
export function uvEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env, UV_PYTHON_DOWNLOADS: "never", PYTHONNOUSERSITE: "1" };
  for (const { pip, uv, unlessSet } of PIP_TO_UV) {
    const value = env[pip];
    if (value && unlessSet.every((name) => !env[name])) out[uv] = value;
  }
  return out;
}
