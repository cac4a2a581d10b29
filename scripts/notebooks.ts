/**
 * `npm run notebooks`: execute every notebook in notebooks/ in a fresh tslab kernel, write the
 * outputs back, and write the figures the notebooks show to figures/.
 * `npm run notebooks -- --check` re-runs git's committed version of each notebook into a temporary
 * copy and fails when its outputs or figures differ from the committed ones;
 * `npm run notebooks -- --restore <notebook>` puts a notebook back as committed. Notebook paths
 * may follow; `--timeout SECONDS` sets the limit per notebook, `--jobs N` how many notebooks run at
 * once (default: one more than the CPUs, at most 4), `--report FILE` writes each notebook's result as JSON. The
 * work is done by scripts/notebooks.py (nbclient) in the project's Python environment, which this
 * sets up first.
 *
 * Backends: the committed outputs and figures are made on wasm (PINNED_BACKEND), so that they
 * reproduce byte for byte. `--backend tensorflow` (or cpu, or `ATTENTION_POOLING_BACKEND` set in the
 * environment) runs the notebooks on that backend and checks that each runs cleanly there, every
 * claim holding, without writing or comparing outputs or figures.
 *
 * Figures: the notebooks are the one source of the figures in figures/. A notebook shows a
 * figure with `show(figure, { name })`; while the notebooks run here, the kernels have
 * ATTENTION_POOLING_FIGURES_DIR set to a temporary folder, where `show` also saves each named
 * figure as SVG and PNG. After the run those files are copied to figures/ (or, with --check,
 * compared with it). The PNG inline in a notebook and the file are therefore the same bytes.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { ensureLibBuilt, notebookEnv, PINNED_BACKEND } from "./jupyter";
import { ensurePythonEnv, PROJECT_ROOT, runMain, SetupError } from "./python-env";

/** Where the committed figures live. */
export const FIGURES_DIR = path.join(PROJECT_ROOT, "figures");

/** The backends the notebooks can run on (lib's BACKENDS). */
export const NOTEBOOK_BACKENDS = ["tensorflow", "wasm", "cpu"] as const;

/**
 * The backend a run asks for: `--backend NAME` in `args`, else `ATTENTION_POOLING_BACKEND` in the
 * environment, else undefined (the pinned one).
 * @throws SetupError when the name is not a backend.
 */
export function requestedBackend(
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const at = args.indexOf("--backend");
  const [name, from] =
    at >= 0
      ? [args[at + 1], "--backend"]
      : [env.ATTENTION_POOLING_BACKEND?.trim() || undefined, "ATTENTION_POOLING_BACKEND"];
  if (name === undefined) return undefined;
  if (!(NOTEBOOK_BACKENDS as readonly string[]).includes(name)) {
    throw new SetupError(
      `${from} must be one of ${NOTEBOOK_BACKENDS.join(", ")}, got ${JSON.stringify(name)}`,
    );
  }
  return name;
}

/** What to do with the figures the notebooks saved. */
export type FigureMode = "write" | "check";

/** Options for {@link runNotebooks}. */
export interface RunOptions {
  /** "inherit" prints as it goes; "pipe" keeps the child's output to itself. Default "inherit". */
  readonly stdio?: "inherit" | "pipe";
  /** Write or check figures/ from the figures the notebooks saved. Default: "check" with --check, else "write". */
  readonly figures?: FigureMode;
}

/**
 * Runs scripts/notebooks.py with `args` in the project's environment, then writes or checks the
 * figures the notebooks saved. Returns the exit status: 0 when both went well.
 */
export async function runNotebooks(args: string[], options: RunOptions = {}): Promise<number> {
  const backend = requestedBackend(args);
  // A backend set in the environment counts as --backend, so that its outputs are never written.
  if (backend !== undefined && !args.includes("--backend")) args = ["--backend", backend, ...args];
  const runOnly = backend !== undefined && backend !== PINNED_BACKEND;
  ensureLibBuilt();
  const env = await ensurePythonEnv();
  const runtimeDir = fs.mkdtempSync(path.join(os.tmpdir(), "jupyter-runtime-"));
  const figuresDir = fs.mkdtempSync(path.join(os.tmpdir(), "notebook-figures-"));
  const mode: FigureMode = options.figures ?? (args.includes("--check") ? "check" : "write");
  try {
    const child = spawn(env.python, [path.join(PROJECT_ROOT, "scripts", "notebooks.py"), ...args], {
      cwd: PROJECT_ROOT,
      stdio: options.stdio ?? "inherit",
      env: notebookEnv({ JUPYTER_RUNTIME_DIR: runtimeDir, ATTENTION_POOLING_FIGURES_DIR: figuresDir }),
    });
    const code = await new Promise<number>((resolve) => {
      child.on("error", () => resolve(1));
      child.on("exit", (c) => resolve(c ?? 1));
    });
    // A failed run leaves figures/ alone (its figures may be partial or wrong); --restore runs nothing.
    if (code !== 0 || args.includes("--restore")) return code;
    if (runOnly) {
      console.log(`figures: not written or compared (the committed figures are made on ${PINNED_BACKEND})`);
      return code;
    }
    // With notebooks named, only their figures are known; on a full run every figure is.
    const complete = !args.some((a) => a.endsWith(".ipynb"));
    return syncFigures(figuresDir, FIGURES_DIR, mode, complete);
  } finally {
    fs.rmSync(runtimeDir, { recursive: true, force: true });
    fs.rmSync(figuresDir, { recursive: true, force: true });
  }
}

/**
 * Copies (mode "write") or compares (mode "check") every file in `saved` with `target`. When
 * `complete`, files in `target` that no notebook saved are stale: removed, or reported.
 * Prints one line per file that changed or differs, and a summary. Returns 0, or 1 on a difference.
 */
export function syncFigures(saved: string, target: string, mode: FigureMode, complete: boolean): number {
  const made = fs.existsSync(saved) ? fs.readdirSync(saved).sort() : [];
  fs.mkdirSync(target, { recursive: true });
  const rel = (file: string): string => path.relative(PROJECT_ROOT, path.join(target, file));
  let changed = 0;
  for (const file of made) {
    const bytes = fs.readFileSync(path.join(saved, file));
    const dest = path.join(target, file);
    const same = fs.existsSync(dest) && bytes.equals(fs.readFileSync(dest));
    if (same) continue;
    changed++;
    if (mode === "check") {
      console.log(`figure differs from a fresh run: ${rel(file)}`);
    } else {
      fs.writeFileSync(dest, bytes);
      console.log(`wrote ${rel(file)} (${bytes.length} bytes)`);
    }
  }
  if (complete) {
    const stale = fs
      .readdirSync(target)
      .filter((f) => /\.(svg|png)$/.test(f) && !made.includes(f))
      .sort();
    for (const file of stale) {
      changed++;
      if (mode === "check") {
        console.log(`figure no notebook shows: ${rel(file)}`);
      } else {
        fs.rmSync(path.join(target, file));
        console.log(`removed ${rel(file)} (no notebook shows it)`);
      }
    }
  }
  const summary = `figures: ${made.length} files saved by the notebooks, ${changed} ${mode === "check" ? "differ" : "updated"}`;
  if (mode === "check" && changed > 0) {
    console.error(`${summary}; run npm run figures to write them`);
    return 1;
  }
  console.log(summary);
  return 0;
}

if (require.main === module) {
  // npm runs scripts from the project root; paths the user typed are relative to where they typed them.
  const userDir = process.env.INIT_CWD ?? process.cwd();
  const args = process.argv
    .slice(2)
    .map((arg, i, all) =>
      (arg.endsWith(".ipynb") && all[i - 1] !== "--timeout") || all[i - 1] === "--report"
        ? path.resolve(userDir, arg)
        : arg,
    );
  runMain(() => runNotebooks(args));
}
