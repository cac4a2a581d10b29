/**
 * `npm start`: build lib, set up the project's Python environment with the tslab kernel, and start
 * JupyterLab on notebooks/, on localhost with token authentication.
 *
 *   npm start                      first free port from 8888, opens a browser when there is a display
 *   npm start -- --port 9000       a fixed port
 *   npm start -- --no-browser      only print the address
 */
import { spawn } from "node:child_process";
import * as path from "node:path";

import { canOpenBrowser, ensureLibBuilt, jupyterLabArgs, labToken } from "./jupyter";
import { ensurePythonEnv, jupyterEnv, PROJECT_ROOT, runMain, SetupError } from "./python-env";

interface StartOptions {
  port: number;
  openBrowser: boolean;
}

function parseArgs(argv: string[]): StartOptions {
  const options: StartOptions = { port: 0, openBrowser: canOpenBrowser() };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] = arg.split("=", 2) as [string, string | undefined];
    if (flag === "--no-browser") {
      options.openBrowser = false;
    } else if (flag === "--port") {
      const value = inline ?? argv[++i];
      const port = Number(value);
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw new SetupError(
          `npm start: --port must be a port number from 1 to 65535, got ${JSON.stringify(value)}.`,
        );
      }
      options.port = port;
    } else {
      throw new SetupError(
        `npm start: unknown option ${JSON.stringify(arg)}; it takes --port N and --no-browser.\n` +
          "  (JupyterLab always listens on 127.0.0.1 with a token here.)",
      );
    }
  }
  return options;
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  ensureLibBuilt();
  const env = await ensurePythonEnv();
  const token = labToken();
  const args = jupyterLabArgs({
    rootDir: path.join(PROJECT_ROOT, "notebooks"),
    port: options.port,
    openBrowser: options.openBrowser,
  });
  console.log(
    "Starting JupyterLab on notebooks/ (localhost only, token required; stop it with Ctrl+C twice).\n" +
      "Open the address with ?token=… that JupyterLab prints below.",
  );
  const child = spawn(env.python, args, {
    cwd: PROJECT_ROOT,
    stdio: "inherit",
    env: jupyterEnv({ JUPYTER_TOKEN: token }),
  });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => child.kill(signal));
  }
  return new Promise((resolve) => {
    child.on("error", (err) => {
      console.error(`Could not start JupyterLab: ${err.message}`);
      resolve(1);
    });
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 0 : 1)));
  });
}

runMain(main);
