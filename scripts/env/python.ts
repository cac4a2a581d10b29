/**
 * Finding a Python interpreter: `$PYTHON` or the usual names on `PATH`, recent enough for the
 * environment being made, and (for the pip path) able to create virtual environments.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

import { lastLines, SetupError } from "./commands";

/** A Python version as [major, minor]. */
export type PythonVersion = readonly [number, number];

/** The oldest Python the Jupyter environment installs on (JupyterLab 4.6 needs 3.10). */
export const MIN_PYTHON: PythonVersion = [3, 10];

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

/** Whether `file` is a regular file this process may execute. */
export function isExecutable(file: string): boolean {
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
export function probeVersion(
  command: string,
  env: NodeJS.ProcessEnv,
): { version?: string; problem?: string } {
  const res = spawnSync(command, ["-c", VERSION_PROBE], { env, encoding: "utf8", timeout: 60_000 });
  if (res.error) return { problem: res.error.message };
  const out = (res.stdout ?? "").trim();
  if (res.status !== 0 || !/^\d+\.\d+\.\d+$/.test(out)) {
    const said = lastLines(`${res.stderr ?? ""}\n${out}`, 1) || `exit code ${res.status}`;
    return { problem: said };
  }
  return { version: out };
}

/** Whether `version` ("3.11.7") is at least `min` (default {@link MIN_PYTHON}). */
export function isRecentEnough(version: string, min: PythonVersion = MIN_PYTHON): boolean {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  return major > min[0] || (major === min[0] && minor >= min[1]);
}

function installPythonHint(min: PythonVersion): string {
  return [
    `  Install Python ${min.join(".")} or newer, then run this command again:`,
    "    Debian/Ubuntu:  sudo apt-get install python3 python3-venv",
    "    Fedora:         sudo dnf install python3",
    "    macOS:          brew install python",
    "    Windows:        install Python 3 from its official installer and tick 'Add to PATH'",
    "  Or point PYTHON at a suitable interpreter: PYTHON=/path/to/python3 npm start",
  ].join("\n");
}

/**
 * Finds a Python at least `min`: `$PYTHON` when set, else the first suitable of `python3`,
 * `python`, `python3.14` … `python3.10` on `PATH`. `who` names what needs it, for the message.
 *
 * @throws SetupError naming what to install when none is suitable.
 */
export function findPython(
  env: NodeJS.ProcessEnv = process.env,
  min: PythonVersion = MIN_PYTHON,
  who = "JupyterLab",
): FoundPython {
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
    if (isRecentEnough(version, min)) return { command, version };
    seen.push(`${command} is Python ${version}`);
  }
  const hint = installPythonHint(min);
  const minText = min.join(".");
  if (requested && seen.length === 0) {
    throw new SetupError(`PYTHON is set to ${JSON.stringify(requested)}, which was not found.\n${hint}`);
  }
  if (seen.length === 0) {
    throw new SetupError(
      `${who} needs Python ${minText} or newer, and no python3 or python was found on PATH.\n${hint}`,
    );
  }
  throw new SetupError(`${who} needs Python ${minText} or newer, but ${seen.join("; ")}.\n${hint}`);
}

/**
 * Checks that `python` can create virtual environments with pip in them (`venv` and `ensurepip`).
 * Only the pip path needs this: uv makes environments without either.
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

/** Whether `python -m pip` runs (a uv-made environment, or Debian's python3 without python3-pip, has none). */
export function hasPip(python: string, env: NodeJS.ProcessEnv): boolean {
  const res = spawnSync(python, ["-m", "pip", "--version"], { env, encoding: "utf8", timeout: 60_000 });
  return res.status === 0 && !res.error;
}
