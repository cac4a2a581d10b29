/**
 * `npm run notebooks`: execute every notebook in notebooks/ in a fresh tslab kernel and write the
 * outputs back; `npm run notebooks -- --check` re-runs into a temporary copy and fails when the
 * outputs differ from the committed ones. Notebook paths may follow; `--timeout SECONDS` sets the
 * limit per notebook. The work is done by scripts/notebooks.py (nbclient) in the project's
 * Python environment, which this sets up first.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { ensureLibBuilt, notebookEnv } from "./jupyter";
import { ensurePythonEnv, PROJECT_ROOT, runMain } from "./python-env";

/** Runs scripts/notebooks.py with `args` in the project's environment and returns its exit status. */
export async function runNotebooks(args: string[], stdio: "inherit" | "pipe" = "inherit"): Promise<number> {
  ensureLibBuilt();
  const env = await ensurePythonEnv();
  const runtimeDir = fs.mkdtempSync(path.join(os.tmpdir(), "jupyter-runtime-"));
  try {
    const child = spawn(env.python, [path.join(PROJECT_ROOT, "scripts", "notebooks.py"), ...args], {
      cwd: PROJECT_ROOT,
      stdio,
      env: notebookEnv({ JUPYTER_RUNTIME_DIR: runtimeDir }),
    });
    return await new Promise<number>((resolve) => {
      child.on("error", () => resolve(1));
      child.on("exit", (code) => resolve(code ?? 1));
    });
  } finally {
    fs.rmSync(runtimeDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  // npm runs scripts from the project root; paths the user typed are relative to where they typed them.
  const userDir = process.env.INIT_CWD ?? process.cwd();
  const args = process.argv
    .slice(2)
    .map((arg, i, all) =>
      arg.endsWith(".ipynb") && all[i - 1] !== "--timeout" ? path.resolve(userDir, arg) : arg,
    );
  runMain(() => runNotebooks(args));
}
