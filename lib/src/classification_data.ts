/**
 * Labelled 2-D data for the classification side of kernel smoothing (Parzen windows): a seeded
 * synthetic set, {@link twoMoons}, and a real one shipped in `data/iris/`, {@link loadIris}.
 * Points are plain float64 arrays, rounded to 6 decimals like the tutorial's data, so they are
 * identical on every backend and can feed float64 reference loops in tests.
 */
import * as path from "node:path";

import { dataDir, readCsv, seededRandom } from "./data";
import { describe, fail } from "./errors";
import { checkInteger, checkNonNegative, checkOptions } from "./validate";

/** Points with one integer class label each. */
export interface LabelledPoints {
  /** `[n][d]` coordinates. */
  readonly points: number[][];
  /** `[n]` class labels 0, 1, …, C − 1. */
  readonly labels: number[];
  /** The name of each feature (column of `points`). */
  readonly featureNames: string[];
  /** The name of each class: `classNames[c]` belongs to label c. */
  readonly classNames: string[];
}

/** The seed of the synthetic moons used by the exercise notebooks and tests. */
export const MOONS_SEED = "parzen-moons";

const round6 = (v: number): number => Math.round(v * 1e6) / 1e6;

/** Options for {@link twoMoons}. */
export interface TwoMoonsOptions {
  /** Points per class. Default 100. */
  readonly perClass?: number;
  /** Standard deviation of the Gaussian noise added to both coordinates. Default 0.25. */
  readonly noise?: number;
  /** Seed of the random stream. Default {@link MOONS_SEED}. */
  readonly seed?: string;
}

/**
 * Two interleaved half-moons in the plane, a seeded synthetic 2-D classification set.
 * Class 0 lies near the upper arc (cos t, sin t), class 1 near the lower arc
 * (1 − cos t, ½ − sin t), with t ~ U(0, π) and N(0, noise²) added to each coordinate.
 * Points alternate between the classes (0, 1, 0, 1, …); coordinates are rounded to 6 decimals.
 *
 * @returns `2 · perClass` points with labels 0 and 1.
 *
 * @example
 * ```ts
 * const { points, labels } = twoMoons({ perClass: 50, noise: 0.2 });
 * points.length; // 100
 * ```
 */
export function twoMoons(options: TwoMoonsOptions = {}): LabelledPoints {
  const fn = "twoMoons";
  checkOptions(fn, options);
  const perClass = options.perClass ?? 100;
  checkInteger(fn, "options.perClass", perClass);
  const noise = options.noise ?? 0.25;
  checkNonNegative(fn, "options.noise", noise);
  const rng = seededRandom(options.seed ?? MOONS_SEED);
  const points: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < perClass; i++) {
    for (const label of [0, 1]) {
      const t = Math.PI * rng.uniform();
      const x = label === 0 ? Math.cos(t) : 1 - Math.cos(t);
      const y = label === 0 ? Math.sin(t) : 0.5 - Math.sin(t);
      points.push([round6(x + noise * rng.normal()), round6(y + noise * rng.normal())]);
      labels.push(label);
    }
  }
  return { points, labels, featureNames: ["x1", "x2"], classNames: ["upper moon", "lower moon"] };
}

/** The four measurement columns of `data/iris/iris.csv`, in file order. */
export const IRIS_FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"] as const;

/** An Iris measurement column. */
export type IrisFeature = (typeof IRIS_FEATURES)[number];

/** The three species of `data/iris/iris.csv`, by their label 0, 1, 2. */
export const IRIS_SPECIES = ["setosa", "versicolor", "virginica"] as const;

/** An Iris species name. */
export type IrisSpecies = (typeof IRIS_SPECIES)[number];

/** Options for {@link loadIris}. */
export interface LoadIrisOptions {
  /** Which measurements become the columns of `points`, in this order. Default all four. */
  readonly features?: readonly IrisFeature[];
  /**
   * Which species to keep. They are relabelled 0, 1, … in the order given here, e.g.
   * `["versicolor", "virginica"]` gives versicolor 0 and virginica 1. Default all three.
   */
  readonly species?: readonly IrisSpecies[];
  /** The `data/` folder holding `iris/iris.csv`. Default {@link dataDir}(). */
  readonly dir?: string;
}

/**
 * Loads Fisher's Iris data from `data/iris/iris.csv` (see the README beside it for its source
 * and licence): 150 flowers, 50 per species, measurements in cm.
 *
 * @returns the chosen features as `points` `[n][f]` and the species as labels (relabelled when
 * `species` is given), in file order.
 *
 * @example
 * ```ts
 * const iris = loadIris({ features: ["petal_length", "petal_width"], species: ["versicolor", "virginica"] });
 * iris.points.length; // 100
 * ```
 */
export function loadIris(options: LoadIrisOptions = {}): LabelledPoints {
  const fn = "loadIris";
  checkOptions(fn, options);
  const features = [...(options.features ?? IRIS_FEATURES)];
  const species = [...(options.species ?? IRIS_SPECIES)];
  checkSubset(fn, "options.features", features, IRIS_FEATURES);
  checkSubset(fn, "options.species", species, IRIS_SPECIES);
  const table = readCsv(path.join(options.dir ?? dataDir(), "iris", "iris.csv"));
  for (const column of [...IRIS_FEATURES, "species"]) {
    if (table.data[column] === undefined) {
      fail(fn, `iris.csv has no column ${JSON.stringify(column)}, got ${table.columns.join(", ")}`);
    }
  }
  const codes = table.data.species as number[];
  const points: number[][] = [];
  const labels: number[] = [];
  codes.forEach((code, row) => {
    const name = IRIS_SPECIES[code];
    if (name === undefined) fail(fn, `iris.csv row ${row + 1}: species must be 0, 1 or 2, got ${code}`);
    const label = species.indexOf(name);
    if (label < 0) return;
    points.push(features.map((f) => (table.data[f] as number[])[row] as number));
    labels.push(label);
  });
  return { points, labels, featureNames: features, classNames: species };
}

function checkSubset(fn: string, arg: string, chosen: readonly string[], allowed: readonly string[]): void {
  if (chosen.length === 0) fail(fn, `${arg} must name at least one entry, got []`);
  for (const c of chosen) {
    if (!allowed.includes(c)) {
      fail(fn, `${arg} entries must be one of ${allowed.join(", ")}, got ${describe(c)}`);
    }
  }
  if (new Set(chosen).size !== chosen.length)
    fail(fn, `${arg} must not repeat an entry, got ${describe(chosen)}`);
}

/** A regular 2-D grid of query points; see {@link grid2d}. */
export interface Grid2D {
  /** The `nx` grid coordinates along the first axis, ascending. */
  readonly x: number[];
  /** The `ny` grid coordinates along the second axis, ascending. */
  readonly y: number[];
  /** `[ny · nx][2]` grid points, row by row: `points[iy · nx + ix] = [x[ix], y[iy]]`. */
  readonly points: number[][];
}

/** Options for {@link grid2d}. */
export interface Grid2DOptions {
  /** Grid lines along each axis. Default 150. */
  readonly steps?: number;
  /** Margin added on every side of the points' bounding box, as a fraction of its width or height. Default 0.1. */
  readonly pad?: number;
}

/**
 * A regular grid covering the bounding box of 2-D `points`, padded on every side, for evaluating
 * a classifier everywhere in the plane (decision-boundary plots). Row-major: reshaping per-point
 * results to `[ny, nx]` gives an image whose row index follows `y`.
 *
 * @param points `[n][2]` points to cover.
 * @returns the axis coordinates and the `steps²` grid points.
 *
 * @example
 * ```ts
 * const g = grid2d([[0, 0], [1, 2]], { steps: 3, pad: 0 });
 * g.x; // [0, 0.5, 1]
 * g.points[3]; // [0, 1]
 * ```
 */
export function grid2d(points: readonly (readonly number[])[], options: Grid2DOptions = {}): Grid2D {
  const fn = "grid2d";
  if (!Array.isArray(points) || points.length === 0) {
    fail(fn, `points must be a non-empty array of [x, y] pairs, got ${describe(points)}`);
  }
  points.forEach((p, i) => {
    if (!Array.isArray(p) || p.length !== 2 || !p.every((v) => typeof v === "number" && Number.isFinite(v))) {
      fail(fn, `points must be finite [x, y] pairs, got ${describe(p)} at index ${i}`);
    }
  });
  const steps = options.steps ?? 150;
  checkInteger(fn, "options.steps", steps, 2);
  const pad = options.pad ?? 0.1;
  checkNonNegative(fn, "options.pad", pad);
  const axis = (j: number): number[] => {
    const v = points.map((p) => p[j] as number);
    let lo = Math.min(...v);
    let hi = Math.max(...v);
    if (hi === lo) {
      lo -= 0.5;
      hi += 0.5;
    }
    const margin = pad * (hi - lo);
    return Array.from({ length: steps }, (_, i) => lo - margin + ((hi - lo + 2 * margin) * i) / (steps - 1));
  };
  const x = axis(0);
  const y = axis(1);
  const grid: number[][] = [];
  for (const yv of y) for (const xv of x) grid.push([xv, yv]);
  return { x, y, points: grid };
}
