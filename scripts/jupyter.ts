/**
 * What `npm start`, `npm run notebooks` and the notebook and browser tests share: building `lib`
 * when its sources changed, the environment a notebook kernel runs in, and the JupyterLab command.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";

import { jupyterEnv, KERNEL_NAME, PROJECT_ROOT, SetupError } from "./python-env";

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

/** Says "Building lib" and returns true unless `lib/dist` is up to date. */
function libNeedsBuilding(root: string, log: (line: string) => void): boolean {
  if (!fs.existsSync(path.join(root, "node_modules", "tslab"))) {
    throw new SetupError("The project's Node.js packages are not installed; run npm install first.");
  }
  if (!libIsStale(root)) return false;
  log("Building lib (npm run build)…");
  return true;
}

const NPM = process.platform === "win32" ? "npm.cmd" : "npm";
const BUILD_ARGS = ["run", "--silent", "build"];
const buildOptions = (root: string) =>
  ({ cwd: root, stdio: "inherit", shell: process.platform === "win32" }) as const;
const buildFailed = () =>
  new SetupError("lib did not build; fix the errors above and run this command again.");

/** Runs `npm run build` unless `lib/dist` is up to date; the notebooks import the built package. */
export function ensureLibBuilt(root: string = PROJECT_ROOT, log: (line: string) => void = console.log): void {
  if (!libNeedsBuilding(root, log)) return;
  if (spawnSync(NPM, BUILD_ARGS, buildOptions(root)).status !== 0) throw buildFailed();
}

/** {@link ensureLibBuilt} without blocking, so that `npm start` builds lib while the Python environment installs. */
export async function ensureLibBuiltAsync(
  root: string = PROJECT_ROOT,
  log: (line: string) => void = console.log,
): Promise<void> {
  if (!libNeedsBuilding(root, log)) return;
  const code = await new Promise<number>((resolve) => {
    const child = spawn(NPM, BUILD_ARGS, buildOptions(root));
    child.on("error", () => resolve(127));
    child.on("close", (c) => resolve(c ?? 1));
  });
  if (code !== 0) throw buildFailed();
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
    {
      ATTENTION_POOLING_BACKEND: base.ATTENTION_POOLING_BACKEND || "wasm",
      ...(base.ATTENTION_POOLING_BACKEND
        ? {}
        : { ATTENTION_POOLING_BACKEND_REASON: "pinned so that the committed outputs reproduce" }),
      TZ: "UTC",
      ...extra,
    },
    base,
  );
}

/** Options for {@link jupyterLabArgs}. */
export interface LabOptions {
  /** The folder JupyterLab shows. */
  readonly rootDir: string;
  /** The port (required: {@link launchJupyterLab} picks a free one). */
  readonly port: number;
  /** Open the user's browser. Default `false`. */
  readonly openBrowser?: boolean;
}

/**
 * The arguments for `<venv python> <args>` that start JupyterLab on 127.0.0.1 only. The token comes
 * from `JUPYTER_TOKEN` in the environment, which keeps it out of the process list; nothing here
 * turns authentication off.
 */
export function jupyterLabArgs(options: LabOptions): string[] {
  const args = [
    "-m",
    "jupyterlab",
    "--ServerApp.ip=127.0.0.1",
    `--ServerApp.port=${options.port}`,
    "--ServerApp.port_retries=0",
    `--ServerApp.root_dir=${options.rootDir}`,
    `--ServerApp.open_browser=${options.openBrowser ? "True" : "False"}`,
    `--MappingKernelManager.default_kernel_name=${KERNEL_NAME}`,
  ];
  // Jupyter refuses to start as root (containers, CI) unless told; that changes nothing about auth.
  if (process.getuid?.() === 0) args.push("--ServerApp.allow_root=True");
  return args;
}

/** The token to start JupyterLab with: `JUPYTER_TOKEN` when set and non-empty, else a fresh random one. */
export function labToken(env: NodeJS.ProcessEnv = process.env): string {
  const given = env.JUPYTER_TOKEN?.trim();
  return given ? given : randomBytes(24).toString("hex");
}

/** Whether `port` on 127.0.0.1 is free to listen on. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** The first free port on 127.0.0.1 from `first` on (50 tries), as JupyterLab itself would pick. */
export async function freePortFrom(first = 8888): Promise<number> {
  for (let port = first; port < first + 50; port++) {
    if (await portIsFree(port)) return port;
  }
  throw new SetupError(
    `No free port from ${first} to ${first + 49} on 127.0.0.1; pass --port with a free one.`,
  );
}

/** Options for {@link launchJupyterLab}. */
export interface LaunchOptions {
  /** The project environment's Python (see `ensurePythonEnv`). */
  readonly python: string;
  /** The folder JupyterLab shows. */
  readonly rootDir: string;
  /** A fixed port; default: the first free one from 8888. */
  readonly port?: number;
  /** Open the user's browser once it is up. Default `false`. */
  readonly openBrowser?: boolean;
  /** Extra environment variables for JupyterLab and its kernels. */
  readonly env?: NodeJS.ProcessEnv;
  /** Give the kernels {@link notebookEnv}'s settings (wasm, UTC), as the committed outputs were made. Default `false`. */
  readonly reproducible?: boolean;
  /** Receives JupyterLab's log; without it the log goes to this process's stdout and stderr. */
  readonly onOutput?: (text: string) => void;
  /** Start it in its own process group, so that it and its kernels can be stopped together. */
  readonly detached?: boolean;
  /** Seconds to wait for it to answer. Default 120. */
  readonly timeout?: number;
}

/** A JupyterLab started by {@link launchJupyterLab}. */
export interface RunningLab {
  readonly child: ChildProcess;
  readonly port: number;
  readonly token: string;
  /** `http://127.0.0.1:<port>`. */
  readonly base: string;
  /** The address to open, with the token. */
  readonly url: string;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts JupyterLab from the project environment on 127.0.0.1 with a token, waits until it answers,
 * and checks that it refuses a request without the token (a user's Jupyter config could turn
 * authentication off; then it is stopped and this throws).
 *
 * @throws SetupError when the port is taken, JupyterLab exits or does not answer, or auth is off.
 */
export async function launchJupyterLab(options: LaunchOptions): Promise<RunningLab> {
  let port: number;
  if (options.port) {
    if (!(await portIsFree(options.port))) {
      throw new SetupError(`Port ${options.port} on 127.0.0.1 is in use; choose another with --port.`);
    }
    port = options.port;
  } else {
    port = await freePortFrom(8888);
  }
  const token = labToken(options.env ?? process.env);
  const child = spawn(
    options.python,
    jupyterLabArgs({ rootDir: options.rootDir, port, openBrowser: options.openBrowser }),
    {
      cwd: PROJECT_ROOT,
      stdio: options.onOutput ? ["ignore", "pipe", "pipe"] : "inherit",
      detached: options.detached ?? false,
      env: (options.reproducible ? notebookEnv : jupyterEnv)({ ...options.env, JUPYTER_TOKEN: token }),
    },
  );
  if (options.onOutput) {
    const forward = options.onOutput;
    child.stdout?.on("data", (d: Buffer) => forward(d.toString()));
    child.stderr?.on("data", (d: Buffer) => forward(d.toString()));
  }
  const base = `http://127.0.0.1:${port}`;
  const lab: RunningLab = { child, port, token, base, url: `${base}/lab?token=${token}` };
  let spawnError: Error | undefined;
  child.once("error", (err) => (spawnError = err));
  const deadline = Date.now() + (options.timeout ?? 120) * 1000;
  for (;;) {
    if (spawnError) throw new SetupError(`Could not start JupyterLab: ${spawnError.message}`);
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new SetupError(
        `JupyterLab stopped (exit code ${child.exitCode ?? child.signalCode}) before it answered.`,
      );
    }
    try {
      const res = await fetch(`${base}/api/status`, { headers: { Authorization: `token ${token}` } });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGTERM");
      throw new SetupError(`JupyterLab did not answer on ${base} within ${options.timeout ?? 120} s.`);
    }
    await sleep(300);
  }
  if (!(await authenticates(lab, options.env?.JUPYTER_RUNTIME_DIR ?? process.env.JUPYTER_RUNTIME_DIR))) {
    child.kill("SIGTERM");
    throw new SetupError(
      "JupyterLab runs without a token or password, so authentication is off,\n" +
        "  probably by a token or password setting in your Jupyter config; npm start will not serve without it.",
    );
  }
  return lab;
}

/**
 * Whether the server asks for credentials. It says so in its server file (`jpserver-<pid>.json`
 * in the runtime folder, with its token and whether a password is set), which leaves nothing in its
 * log. Without a known runtime folder, a request without the token must be refused (and the server
 * logs that refusal as a warning).
 */
async function authenticates(lab: RunningLab, runtimeDir: string | undefined): Promise<boolean> {
  if (runtimeDir) {
    const file = path.join(runtimeDir, `jpserver-${lab.child.pid}.json`);
    try {
      const info = JSON.parse(fs.readFileSync(file, "utf8")) as {
        token?: string;
        password?: boolean;
        port?: number;
      };
      if (info.port === lab.port) return Boolean(info.token) || info.password === true;
    } catch {
      // no server file: ask over HTTP
    }
  }
  const anonymous = await fetch(`${lab.base}/api/contents`);
  return anonymous.status === 403;
}

/** Whether a browser window can be opened here: not under CI, and with a display on Linux. */
export function canOpenBrowser(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.CI && env.CI !== "false" && env.CI !== "0") return false;
  if (process.platform !== "linux") return true;
  return Boolean(env.DISPLAY || env.WAYLAND_DISPLAY);
}
