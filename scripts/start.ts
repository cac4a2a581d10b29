/**
 * `npm start`: build lib, set up the project's Python environment with the tslab kernel, and start
 * JupyterLab on notebooks/, on 127.0.0.1 with token authentication.
 *
 *   npm start                      first free port from 8888; opens a browser when there is a display
 *   npm start -- --port 9000       a fixed port
 *   npm start -- --no-browser      only print the address
 *
 * `JUPYTER_TOKEN` chooses the token; otherwise a fresh one is made for each start.
 *
 * Everything JupyterLab writes (its server and kernel connection files, the layout of open tabs,
 * the settings you change, and the data, config and IPython folders it creates on start) goes to
 * `.jupyter/` in the project, not to the home folder. Set `JUPYTER_CONFIG_DIR`, `JUPYTER_DATA_DIR`,
 * `JUPYTER_RUNTIME_DIR`, `JUPYTERLAB_WORKSPACES_DIR`, `JUPYTERLAB_SETTINGS_DIR` or `IPYTHONDIR` to
 * choose otherwise.
 */
import * as path from "node:path";

import { canOpenBrowser, ensureLibBuiltAsync, launchJupyterLab } from "./jupyter";
import { ensurePythonEnv, PROJECT_ROOT, runMain, SetupError } from "./python-env";

interface StartOptions {
  port?: number;
  openBrowser: boolean;
}

function parseArgs(argv: string[]): StartOptions {
  const options: StartOptions = { openBrowser: canOpenBrowser() };
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

/** The environment with the folders JupyterLab writes to in the project, unless set already. */
export function projectJupyterDirs(
  env: NodeJS.ProcessEnv = process.env,
  root: string = PROJECT_ROOT,
): NodeJS.ProcessEnv {
  return {
    ...env,
    JUPYTER_CONFIG_DIR: env.JUPYTER_CONFIG_DIR || path.join(root, ".jupyter", "config"),
    JUPYTER_RUNTIME_DIR: env.JUPYTER_RUNTIME_DIR || path.join(root, ".jupyter", "runtime"),
    JUPYTERLAB_WORKSPACES_DIR: env.JUPYTERLAB_WORKSPACES_DIR || path.join(root, ".jupyter", "workspaces"),
    JUPYTERLAB_SETTINGS_DIR: env.JUPYTERLAB_SETTINGS_DIR || path.join(root, ".jupyter", "settings"),
    JUPYTER_DATA_DIR: env.JUPYTER_DATA_DIR || path.join(root, ".jupyter", "data"),
    IPYTHONDIR: env.IPYTHONDIR || path.join(root, ".jupyter", "ipython"),
  };
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  // lib builds (CPU) while the Python environment installs (network and disk), so a first start is quicker.
  const [built, ready] = await Promise.allSettled([ensureLibBuiltAsync(), ensurePythonEnv()]);
  if (built.status === "rejected") throw built.reason;
  if (ready.status === "rejected") throw ready.reason;
  const env = ready.value;
  console.log("Starting JupyterLab on notebooks/ (127.0.0.1 only, token required)…");
  // Until JupyterLab is up, Ctrl+C simply ends this command (and the terminal ends JupyterLab with it).
  const lab = await launchJupyterLab({
    python: env.python,
    rootDir: path.join(PROJECT_ROOT, "notebooks"),
    port: options.port,
    openBrowser: options.openBrowser,
    env: projectJupyterDirs(),
  });
  // Ctrl+C (or a signal to npm): JupyterLab's SIGTERM shutdown stops its kernels without asking; wait for it.
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const)
    process.on(signal, () => lab.child.kill("SIGTERM"));
  console.log(
    `\nJupyterLab is ready with the TypeScript (tslab) kernel. Open:\n\n    ${lab.url}\n\nStop it with Ctrl+C.\n`,
  );
  return new Promise((resolve) => {
    lab.child.on("exit", (code, signal) => resolve(code ?? (signal ? 0 : 1)));
  });
}

if (require.main === module) runMain(main);
