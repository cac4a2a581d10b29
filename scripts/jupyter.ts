/**
 * What `npm start`, `npm run notebooks` and the notebook and browser tests share: building `lib`
 * when its sources changed, the environment a notebook kernel runs in, and the JupyterLab command.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

import { jupyterEnv, PROJECT_ROOT, SetupError } from "./python-env";

/** The newest modification time of the files under `dir` (recursively), in ms. */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : fs.statSync(full).mtimeMs);
  }
  return newest;
}

/** Whether `lib/dist` is older than anything in `lib/src` or lib's package and compiler settings. */
export function libIsStale(root: string = PROJECT_ROOT): boolean {
  const lib = path.join(root, "lib");
  const built = path.join(lib, "dist", "index.js");
  if (!fs.existsSync(built)) return true;
  const inputs = Math.max(
    newestMtime(path.join(lib, "src")),
    fs.statSync(path.join(lib, "package.json")).mtimeMs,
    fs.statSync(path.join(lib, "tsconfig.json")).mtimeMs,
  );
  return inputs > fs.statSync(built).mtimeMs;
}

/** Runs `npm run build` unless `lib/dist` is up to date; the notebooks import the built package. */
export function ensureLibBuilt(root: string = PROJECT_ROOT, log: (line: string) => void = console.log): void {
  if (!fs.existsSync(path.join(root, "node_modules", "tslab"))) {
    throw new SetupError("The project's Node.js packages are not installed; run npm install first.");
  }
  if (!libIsStale(root)) return;
  log("Building lib (npm run build)…");
  const res = spawnSync(process.platform === "win32" ? "npm.cmd" : "npm", ["run", "--silent", "build"], {
    cwd: root,
    stdio: "inherit",
    shell: process.platform === "win32",
  });
  if (res.status !== 0)
    throw new SetupError("lib did not build; fix the errors above and run this command again.");
}

/**
 * The environment for Jupyter and the notebook kernels it starts: the project's kernelspec first,
 * and, for reproducible outputs, the wasm backend (unless `ATTENTION_POOLING_BACKEND` says
 * otherwise) and UTC.
 */
export function notebookEnv(
  extra: NodeJS.ProcessEnv = {},
  base: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  return jupyterEnv(
    { ATTENTION_POOLING_BACKEND: base.ATTENTION_POOLING_BACKEND || "wasm", TZ: "UTC", ...extra },
    base,
  );
}

/** Options for {@link jupyterLabArgs}. */
export interface LabOptions {
  /** The folder JupyterLab shows. */
  readonly rootDir: string;
  /** The port; 0 (default) lets JupyterLab pick a free one starting at 8888. */
  readonly port?: number;
  /** Open the user's browser. Default `false`. */
  readonly openBrowser?: boolean;
}

/**
 * The arguments for `<venv python> <args>` that start JupyterLab on localhost only. The token comes
 * from `JUPYTER_TOKEN` in the environment (see {@link labToken}); nothing here turns authentication off.
 */
export function jupyterLabArgs(options: LabOptions): string[] {
  const args = [
    "-m",
    "jupyterlab",
    "--ServerApp.ip=127.0.0.1",
    `--ServerApp.root_dir=${options.rootDir}`,
    `--ServerApp.open_browser=${options.openBrowser ? "True" : "False"}`,
  ];
  if (options.port) args.push(`--ServerApp.port=${options.port}`, "--ServerApp.port_retries=0");
  // Jupyter refuses to start as root (containers, CI) unless told; that changes nothing about auth.
  if (process.getuid?.() === 0) args.push("--ServerApp.allow_root=True");
  return args;
}

/** The token to start JupyterLab with: `JUPYTER_TOKEN` when set and non-empty, else a fresh random one. */
export function labToken(env: NodeJS.ProcessEnv = process.env): string {
  const given = env.JUPYTER_TOKEN?.trim();
  return given ? given : randomBytes(24).toString("hex");
}

/** Whether a browser window can be opened here: not under CI, and with a display on Linux. */
export function canOpenBrowser(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.CI && env.CI !== "false" && env.CI !== "0") return false;
  if (process.platform !== "linux") return true;
  return Boolean(env.DISPLAY || env.WAYLAND_DISPLAY);
}
