/**
 * Helpers for the notebook tests: the project's Python environment (set up on first use, as
 * `npm start` does), the headless runner, and small notebooks written on the fly.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { ensureLibBuilt, notebookEnv } from "../../scripts/jupyter";
import { ensurePythonEnv, PROJECT_ROOT, type PythonEnv } from "../../scripts/python-env";

/** Seconds each notebook may take; `NOTEBOOK_TIMEOUT` overrides. */
export const NOTEBOOK_TIMEOUT = Number(process.env.NOTEBOOK_TIMEOUT ?? 300);

let ready: Promise<PythonEnv> | undefined;

/** Builds lib when stale and creates or reuses `.venv` with the tslab kernel (once per process). */
export function pythonEnv(): Promise<PythonEnv> {
  ready ??= Promise.resolve().then(() => {
    ensureLibBuilt();
    return ensurePythonEnv({ log: (line) => console.log(`# ${line}`) });
  });
  return ready;
}

/** What a run of scripts/notebooks.py printed, its exit status, and the figures its notebooks saved. */
export interface RunResult {
  readonly code: number;
  readonly output: string;
  /** The figures the notebooks saved with `show(figure, { name })`: file name → bytes. */
  readonly figures: ReadonlyMap<string, Buffer>;
}

/** Runs scripts/notebooks.py with `args`, as `npm run notebooks` does, and collects its output. */
export async function runNotebookScript(args: string[]): Promise<RunResult> {
  const env = await pythonEnv();
  const runtimeDir = fs.mkdtempSync(path.join(os.tmpdir(), "jupyter-runtime-"));
  const figuresDir = fs.mkdtempSync(path.join(os.tmpdir(), "notebook-figures-"));
  try {
    const child = spawn(env.python, [path.join(PROJECT_ROOT, "scripts", "notebooks.py"), ...args], {
      cwd: PROJECT_ROOT,
      env: notebookEnv({ JUPYTER_RUNTIME_DIR: runtimeDir, ATTENTION_POOLING_FIGURES_DIR: figuresDir }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number>((resolve) => {
      child.on("error", (err) => {
        output += err.message;
        resolve(127);
      });
      child.on("close", (c) => resolve(c ?? 1));
    });
    const figures = new Map(
      fs.readdirSync(figuresDir).map((f) => [f, fs.readFileSync(path.join(figuresDir, f))] as const),
    );
    return { code, output, figures };
  } finally {
    fs.rmSync(runtimeDir, { recursive: true, force: true });
    fs.rmSync(figuresDir, { recursive: true, force: true });
  }
}

/** Every notebook the notebook test runs: the smoke fixture(s) and each notebook in notebooks/. */
export function notebooksUnderTest(root: string = PROJECT_ROOT): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    if (!fs.existsSync(dir)) return;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === ".ipynb_checkpoints") continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith(".ipynb")) found.push(path.relative(root, full));
    }
  };
  walk(path.join(root, "test", "fixtures"));
  walk(path.join(root, "notebooks"));
  return found.sort();
}

/** A code cell for {@link writeNotebook}. */
export interface CellSpec {
  readonly source: string;
  readonly tags?: string[];
  /** Committed outputs; default none. */
  readonly outputs?: object[];
  readonly executionCount?: number | null;
}

/** Writes a tslab notebook of code cells (after one markdown cell) and returns its path. */
export function writeNotebook(dir: string, name: string, cells: CellSpec[]): string {
  const nb = {
    cells: [
      { cell_type: "markdown", id: "intro", metadata: {}, source: `# ${name}` },
      ...cells.map((cell, i) => ({
        cell_type: "code",
        execution_count: cell.executionCount ?? null,
        id: `cell-${i + 1}`,
        metadata: cell.tags ? { tags: cell.tags } : {},
        outputs: cell.outputs ?? [],
        source: cell.source,
      })),
    ],
    metadata: { kernelspec: { display_name: "TypeScript", language: "typescript", name: "tslab" } },
    nbformat: 4,
    nbformat_minor: 5,
  };
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify(nb, null, 1) + "\n");
  return file;
}

/** A stdout stream output, as nbformat stores it. */
export function stdout(text: string): object {
  return { name: "stdout", output_type: "stream", text };
}

/** What one code cell printed: its stdout and stderr text. */
export interface CellOutput {
  readonly stdout: string;
  readonly stderr: string;
}

/** Reads a JSON list of cell sources on stdin, runs them in a fresh tslab kernel, prints what each printed. */
const RUN_CELLS = `
import json, sys, nbformat
from nbclient import NotebookClient
cells, cwd = json.load(sys.stdin)
nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
NotebookClient(nb, kernel_name="tslab", allow_errors=True, timeout=120,
               resources={"metadata": {"path": cwd}}).execute()
out = [{"stdout": "".join(o.get("text", "") for o in c.outputs if o.get("name") == "stdout"),
        "stderr": "".join(o.get("text", "") for o in c.outputs if o.get("name") == "stderr")} for c in nb.cells]
print(json.dumps(out))
`;

/**
 * Runs `cells` top to bottom in a fresh tslab kernel started as the notebooks' kernel is (in
 * notebooks/, with {@link notebookEnv} plus `env`), going on past a failing cell, and returns
 * what each cell printed. The kernel drops the requests of the 200 ms after a failure, so a
 * failing cell should be the last.
 */
export async function runCells(cells: string[], env: NodeJS.ProcessEnv = {}): Promise<CellOutput[]> {
  const { python } = await pythonEnv();
  const runtimeDir = fs.mkdtempSync(path.join(os.tmpdir(), "jupyter-runtime-"));
  try {
    const child = spawn(python, ["-c", RUN_CELLS], {
      cwd: PROJECT_ROOT,
      env: notebookEnv({ JUPYTER_RUNTIME_DIR: runtimeDir, ...env }),
      stdio: ["pipe", "pipe", "pipe"],
    });
    child.stdin.end(JSON.stringify([cells, path.join(PROJECT_ROOT, "notebooks")]));
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number>((resolve) => child.on("close", (c) => resolve(c ?? 1)));
    if (code !== 0) throw new Error(`running the cells failed (exit code ${code}):\n${err}`);
    return JSON.parse(out) as CellOutput[];
  } finally {
    fs.rmSync(runtimeDir, { recursive: true, force: true });
  }
}
