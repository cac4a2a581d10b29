/**
 * Seeded data and CSV files. The tutorial's data are generated in float64 JavaScript with
 * `seedrandom` (not with tfjs), so they are identical on every backend and platform, and are
 * rounded to 6 decimals so that the CSV in `data/` and the generator agree exactly.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import seedrandom from "seedrandom";

import { describe, fail } from "./errors";
import { checkInteger } from "./validate";

/** The seed of the tutorial data shipped in `data/tutorial/`. */
export const TUTORIAL_SEED = "attention-pooling";

/** The tutorial's true function, f(x) = 2 sin x + x. */
export function trueFunction(x: number): number {
  return 2 * Math.sin(x) + x;
}

/** The tutorial's regression data: 40 sorted keys with noisy values, and 50 validation queries. */
export interface TutorialData {
  /** Training inputs (keys), 40 draws from U(0, 5), sorted ascending. */
  readonly xTrain: number[];
  /** Training targets (values), y = 2 sin x + x + ε with ε ~ N(0, 1). */
  readonly yTrain: number[];
  /** Validation queries 0, 0.1, …, 4.9. */
  readonly xVal: number[];
  /** The true function at each validation query. */
  readonly yVal: number[];
}

const round6 = (v: number): number => Math.round(v * 1e6) / 1e6;

/**
 * A seeded stream of uniform U(0, 1) and standard normal numbers (Box-Muller), in float64.
 *
 * @example
 * ```ts
 * const rng = seededRandom("demo");
 * rng.uniform(); rng.normal();
 * ```
 */
export function seededRandom(seed: string): { uniform: () => number; normal: () => number } {
  if (typeof seed !== "string" || seed.length === 0) {
    fail("seededRandom", `seed must be a non-empty string, got ${describe(seed)}`);
  }
  const rng = seedrandom(seed);
  let spare: number | undefined;
  return {
    uniform: () => rng(),
    normal: () => {
      if (spare !== undefined) {
        const s = spare;
        spare = undefined;
        return s;
      }
      const u1 = 1 - rng(); // in (0, 1], so the log is finite
      const u2 = rng();
      const radius = Math.sqrt(-2 * Math.log(u1));
      spare = radius * Math.sin(2 * Math.PI * u2);
      return radius * Math.cos(2 * Math.PI * u2);
    },
  };
}

/**
 * Generates the tutorial's data: n = 40 keys x ~ U(0, 5), sorted; values y = 2 sin x + x + N(0, 1)
 * (noise drawn after sorting); validation queries 0, 0.1, …, 4.9 with the true function.
 * All numbers are rounded to 6 decimals. The shipped `data/tutorial/*.csv` use {@link TUTORIAL_SEED}.
 */
export function tutorialData(seed: string = TUTORIAL_SEED, n = 40): TutorialData {
  checkInteger("tutorialData", "n", n);
  const rng = seededRandom(seed);
  const xTrain = Array.from({ length: n }, () => round6(rng.uniform() * 5)).sort((a, b) => a - b);
  const yTrain = xTrain.map((x) => round6(trueFunction(x) + rng.normal()));
  const xVal = Array.from({ length: 50 }, (_, i) => i / 10);
  const yVal = xVal.map((x) => round6(trueFunction(x)));
  return { xTrain, yTrain, xVal, yVal };
}

/** A numeric table read from CSV: column names and one array per column. */
export interface Table {
  readonly columns: string[];
  readonly data: Record<string, number[]>;
}

/**
 * Reads a numeric CSV file with a header row. Blank lines and lines starting with `#` are skipped.
 * A malformed file is reported with its name and line number.
 */
export function readCsv(file: string): Table {
  const fn = "readCsv";
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    return fail(
      fn,
      `cannot read ${JSON.stringify(file)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  const name = path.basename(file);
  const lines = text.split(/\r?\n/);
  let columns: string[] | undefined;
  const data: Record<string, number[]> = {};
  lines.forEach((raw, index) => {
    const line = raw.trim();
    const lineNo = index + 1;
    if (line === "" || line.startsWith("#")) return;
    const cells = line.split(",").map((c) => c.trim());
    if (columns === undefined) {
      if (cells.some((c) => c === ""))
        fail(fn, `${name} line ${lineNo}: empty column name in header ${JSON.stringify(line)}`);
      if (new Set(cells).size !== cells.length)
        fail(fn, `${name} line ${lineNo}: duplicate column name in header ${JSON.stringify(line)}`);
      columns = cells;
      for (const c of cells) data[c] = [];
      return;
    }
    if (cells.length !== columns.length) {
      fail(
        fn,
        `${name} line ${lineNo}: expected ${columns.length} fields, got ${cells.length} in ${JSON.stringify(line)}`,
      );
    }
    cells.forEach((cell, j) => {
      const v = cell === "" ? Number.NaN : Number(cell);
      if (!Number.isFinite(v)) {
        fail(
          fn,
          `${name} line ${lineNo}: column ${JSON.stringify(columns![j])} is not a finite number, got ${JSON.stringify(cell)}`,
        );
      }
      data[columns![j] as string]!.push(v);
    });
  });
  if (columns === undefined) return fail(fn, `${name}: no header row (the file is empty)`);
  return { columns, data };
}

/** Writes columns of numbers as CSV with a header, LF line endings and a trailing newline. */
export function writeCsv(file: string, table: Record<string, readonly number[]>, comment?: string): void {
  const columns = Object.keys(table);
  const length = table[columns[0] as string]?.length ?? 0;
  for (const c of columns) {
    if (table[c]!.length !== length)
      fail("writeCsv", `column ${JSON.stringify(c)} has ${table[c]!.length} rows, expected ${length}`);
  }
  const lines = comment ? comment.split("\n").map((l) => `# ${l}`) : [];
  lines.push(columns.join(","));
  for (let i = 0; i < length; i++) lines.push(columns.map((c) => String(table[c]![i])).join(","));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, lines.join("\n") + "\n");
}

/**
 * The `data/` folder: inside the installed package (`npm pack` copies the project's `data/` into
 * it), or the project's own in a checkout.
 */
export function dataDir(): string {
  const packaged = path.resolve(__dirname, "..", "data");
  if (fs.existsSync(path.join(packaged, "tutorial"))) return packaged;
  return path.resolve(__dirname, "..", "..", "data");
}

/** Loads the tutorial data shipped in `data/tutorial/` (or in `dir/tutorial/`). */
export function loadTutorialData(dir: string = dataDir()): TutorialData {
  const train = readCsv(path.join(dir, "tutorial", "train.csv"));
  const val = readCsv(path.join(dir, "tutorial", "validation.csv"));
  const need = (t: Table, c: string, file: string): number[] =>
    t.data[c] ??
    fail("loadTutorialData", `${file} has no column ${JSON.stringify(c)}, got ${t.columns.join(", ")}`);
  return {
    xTrain: need(train, "x", "train.csv"),
    yTrain: need(train, "y", "train.csv"),
    xVal: need(val, "x", "validation.csv"),
    yVal: need(val, "f", "validation.csv"),
  };
}
