/**
 * The project's Python environments, one module for all who need one: `npm start`, the notebook
 * runner and the tests use the Jupyter environment `.venv`; the benchmark's Python baselines use
 * `.bench-venv`. Each is made from a pinned, hash-checked requirements file, with uv when it can be
 * had and pip otherwise (see scripts/env/uv.ts), and left alone while it is up to date.
 *
 * The pieces, one concept a file, in scripts/env/: finding Python (python.ts), getting uv (uv.ts),
 * making and stamping an environment (venv.ts), the tslab kernelspec (kernel.ts), taking turns
 * (lock.ts) and running commands (commands.ts). This file puts them together and is what the rest
 * of the project imports.
 *
 * Whatever is missing on the machine (Python, its `venv` module on the pip path, a reachable
 * package index) ends in a {@link SetupError}, whose message says what to install; the command-line
 * entry points print it without a stack trace.
 *
 * Run directly (`node --import tsx scripts/python-env.ts`) to set the Jupyter environment up and
 * print its interpreter.
 */
import * as path from "node:path";

import { runMain, SetupError } from "./env/commands";
import { registerKernel } from "./env/kernel";
import { type PythonVersion } from "./env/python";
import { type InstallerChoice } from "./env/uv";
import { ensureVenv, type Venv } from "./env/venv";

export { runMain, SetupError } from "./env/commands";
export { ENV_JUPYTER_CONFIG, jupyterEnv, KERNEL_NAME, kernelSpec, registerKernel } from "./env/kernel";
export {
  checkVenvModule,
  findPython,
  type FoundPython,
  isRecentEnough,
  MIN_PYTHON,
  venvPython,
  which,
} from "./env/python";
export { INSTALLER_VARIABLE, type InstallerChoice } from "./env/uv";
export { pipError, STAMP_FILE } from "./env/venv";

/** The project's root folder (the parent of `scripts/`). */
export const PROJECT_ROOT = path.resolve(__dirname, "..");

/** Options for {@link ensurePythonEnv}. */
export interface PythonEnvOptions {
  /** The project folder. Default: this repository. */
  readonly root?: string;
  /** Where the environment lives. Default: `$ATTENTION_POOLING_VENV`, else `<root>/.venv`. */
  readonly venvDir?: string;
  /** The pinned requirements. Default: `<root>/requirements.txt`. */
  readonly requirements?: string;
  /** The environment variables to look up `PYTHON`, `PATH` and the installer in, and to install with. Default: `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** Where progress lines go. Default: `console.log`. */
  readonly log?: (line: string) => void;
  /** `uv`, `pip` or `auto`. Default: `$ATTENTION_POOLING_INSTALLER`, else `auto` (uv when it can be had). */
  readonly installer?: InstallerChoice;
  /** Where the pinned uv is installed when there is none on `PATH`. Default: `<root>/.venv-tools`. */
  readonly toolsDir?: string;
  /** The pinned uv. Default: `<root>/requirements-uv.txt`. */
  readonly uvRequirements?: string;
}

/** What {@link ensurePythonEnv} set up. */
export type PythonEnv = Venv;

/**
 * Creates or reuses the Jupyter environment (JupyterLab, nbclient, nbformat from `requirements.txt`)
 * and registers the project's tslab kernel in it. Safe to call from several processes at once.
 *
 * @throws SetupError when Python, its venv module (pip path) or the package index is missing.
 */
export async function ensurePythonEnv(options: PythonEnvOptions = {}): Promise<PythonEnv> {
  const root = options.root ?? PROJECT_ROOT;
  const env = options.env ?? process.env;
  const made = await ensureVenv({
    root,
    env,
    venvDir: path.resolve(options.venvDir ?? (env.ATTENTION_POOLING_VENV || path.join(root, ".venv"))),
    requirements: options.requirements ?? path.join(root, "requirements.txt"),
    who: "JupyterLab",
    what: "JupyterLab and the notebook runner",
    log: options.log ?? ((line: string) => console.log(line)),
    installer: options.installer,
    toolsDir: options.toolsDir,
    uvRequirements: options.uvRequirements,
  });
  registerKernel(made.venvDir, root);
  return made;
}

/** The benchmark's environment. */
export const BENCH_VENV = path.join(PROJECT_ROOT, ".bench-venv");
/** The benchmark's pinned baselines (numpy, statsmodels, threadpoolctl). */
export const BENCH_REQUIREMENTS = path.join(PROJECT_ROOT, "bench", "requirements.txt");
/** The same with PyTorch (about 5 GB with the CUDA libraries its Linux wheels depend on). */
export const BENCH_TORCH_REQUIREMENTS = path.join(PROJECT_ROOT, "bench", "requirements-torch.txt");
/** numpy 2.4 needs Python 3.11. */
const BENCH_MIN_PYTHON: PythonVersion = [3, 11];

/** What {@link ensureBenchEnv} set up. */
export interface BenchEnv {
  /** The environment's interpreter, or undefined when no environment could be made. */
  readonly python?: string;
  /** The Python version inside it. */
  readonly version?: string;
  /** Whether PyTorch is installed. */
  readonly torch: boolean;
  /** Why the environment, or its PyTorch, is missing. */
  readonly problems: string[];
}

/**
 * Creates or reuses `.bench-venv` with the pinned baselines, and PyTorch too when `wantTorch`
 * (an environment that has PyTorch also serves a run without it). Never throws for a missing
 * Python or package index: the harness then measures the library alone and reports the baselines
 * (or PyTorch) as absent, with the reason.
 */
export async function ensureBenchEnv(
  wantTorch: boolean,
  log: (line: string) => void,
  options: { env?: NodeJS.ProcessEnv; installer?: InstallerChoice } = {},
): Promise<BenchEnv> {
  const base = {
    root: PROJECT_ROOT,
    env: options.env ?? process.env,
    installer: options.installer,
    venvDir: BENCH_VENV,
    minPython: BENCH_MIN_PYTHON,
    who: "The benchmark's numpy 2.4",
    log: (line: string) => log(`bench: ${line}`),
  };
  const problems: string[] = [];
  const firstLine = (err: SetupError): string => err.message.trim().split("\n")[0] ?? "";
  try {
    if (wantTorch) {
      try {
        const made = await ensureVenv({
          ...base,
          requirements: BENCH_TORCH_REQUIREMENTS,
          what: "the pinned Python baselines with PyTorch (about 5 GB the first time)",
        });
        return { python: made.python, version: made.version, torch: true, problems };
      } catch (err) {
        if (!(err instanceof SetupError)) throw err;
        problems.push(`PyTorch could not be installed (${firstLine(err)}); it is reported absent`);
      }
    }
    const made = await ensureVenv({
      ...base,
      requirements: BENCH_REQUIREMENTS,
      alsoServedBy: [BENCH_TORCH_REQUIREMENTS],
      what: "the pinned Python baselines",
    });
    const torch = made.requirements === BENCH_TORCH_REQUIREMENTS;
    return { python: made.python, version: made.version, torch, problems };
  } catch (err) {
    if (!(err instanceof SetupError)) throw err;
    problems.push(`${firstLine(err)} The Python baselines are absent.`);
    return { torch: false, problems };
  }
}

if (require.main === module) {
  runMain(async () => {
    const env = await ensurePythonEnv();
    console.log(`${env.python} (Python ${env.version}${env.changed ? "" : ", up to date"})`);
  });
}
