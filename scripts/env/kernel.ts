/**
 * The TypeScript kernel inside the Jupyter environment: the tslab kernelspec from this project's
 * `node_modules`, Jupyter's settings that make it the only kernel, and the variables Jupyter runs
 * with so that the environment's own kernelspecs win.
 */
import * as fs from "node:fs";
import * as path from "node:path";

import { SetupError } from "./commands";

/** The name of the kernelspec this project registers, and that its notebooks ask for. */
export const KERNEL_NAME = "tslab";

/**
 * The kernelspec that starts this project's tslab, through scripts/tslab-kernel.cjs (which shows a
 * cell's error as its message and the learner's line), with the Node.js running this script. It is
 * written into the environment only, and rewritten whenever the project folder (or Node.js) moved.
 */
export function kernelSpec(root: string): { argv: string[]; display_name: string; language: string } {
  return {
    argv: [
      process.execPath,
      path.join(root, "scripts", "tslab-kernel.cjs"),
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
