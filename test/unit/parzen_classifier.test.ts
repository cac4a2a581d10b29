/**
 * parzen_classifier.ts: parzenClassifier, parzenPosterior and oneHotLabels against a float64 Bayes
 * rule; the classifier as Nadaraya-Watson on one-hot labels, decision for decision; queries with no
 * point in the support (onEmpty); input errors and leaks.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";

import {
  grid2d,
  initBackend,
  loadIris,
  nadarayaWatson,
  oneHotLabels,
  parzenClassifier,
  parzenLogDensity,
  parzenPosterior,
  tf,
  twoMoons,
  type KernelName,
} from "../../lib/src/index";
import { assertClose, assertNoLeak, assertThrowsClean, take, uniformMatrix } from "./helpers";
import { logKernel, referenceLogJoint, assertCloseWithInfinities, softmaxRow } from "./parzen-reference";

before(async () => {
  await initBackend({ quiet: true });
});

describe("parzenClassifier against a float64 Bayes rule", () => {
  const points = uniformMatrix("clf-points", 30, 2, 0, 3);
  const labels = points.map((p, i) => (p[0]! + p[1]! > 3 ? 1 : 0) + (i % 7 === 0 ? 1 : 0));
  const queries = uniformMatrix("clf-queries", 20, 2, 0.2, 2.8);
  const counts = [0, 1, 2].map((c) => labels.filter((l) => l === c).length);
  const cases: Record<string, number[] | undefined> = {
    "empirical priors": undefined,
    "priors [0.2, 0.3, 0.5]": [0.2, 0.3, 0.5],
    "priors given unnormalised [2, 3, 5]": [2, 3, 5],
  };
  for (const kernel of ["gaussian", "epanechnikov"] as KernelName[]) {
    for (const [label, priors] of Object.entries(cases)) {
      test(`${kernel}, ${label}: log joints, posteriors and labels`, () => {
        const pi = priors
          ? priors.map((p) => p / priors.reduce((a, b) => a + b, 0))
          : counts.map((n) => n / 30);
        const sigma = [kernel === "gaussian" ? 0.5 : 1.5];
        const refJoint = referenceLogJoint(kernel, points, labels, queries, sigma, pi);
        const r = parzenClassifier(points, labels, queries, kernel, { sigma, priors });
        assert.deepEqual(r.logJoint.shape, [20, 3]);
        assert.deepEqual(r.posterior.shape, [20, 3]);
        assert.equal(r.labels.dtype, "int32");
        assertCloseWithInfinities(take(r.logJoint), refJoint.flat(), 1e-5, 1e-5, "log joint");
        const refPost = refJoint.map(softmaxRow);
        assertClose(take(r.posterior), refPost.flat(), 0, 2e-6, "posterior");
        const refLabels = refPost.map((row) => row.indexOf(Math.max(...row)));
        assert.deepEqual(take(r.labels), refLabels);
      });
    }
  }

  test("a class whose points are all far from the query keeps its finite log joint", () => {
    // Class 1 sits 100σ from the first query: its kernel values are e^-5000 beside class 0's, far
    // below float32's range, so a sum shifted by the row's largest score would give −∞ for it.
    const far = [[0], [0.3], [0.7], [50], [50.4]];
    const farLabels = [0, 0, 0, 1, 1];
    const at = [[0.2], [25.2], [50.1]];
    const ref = referenceLogJoint("gaussian", far, farLabels, at, [0.5], [0.6, 0.4]);
    const r = parzenClassifier(far, farLabels, at, "gaussian", { sigma: 0.5 });
    const joint = take(r.logJoint);
    assert.ok(joint.every(Number.isFinite), `log joints ${joint}`);
    assert.ok((ref[0]![1] as number) < -4000, "the reference itself is far below float32's exp range");
    assertClose(joint, ref.flat(), 1e-6, 0, "log joint");
    assert.deepEqual(take(r.labels), [0, 0, 1]);
    tf.dispose([r.logJoint, r.posterior, r.labels]);
  });

  test("one-hot labels give the same result as integer labels", () => {
    const oneHot = labels.map((l) => [0, 1, 2].map((c) => (c === l ? 1 : 0)));
    const a = take(parzenPosterior(points, labels, queries, "gaussian", { sigma: 0.5 }));
    const b = take(parzenPosterior(points, oneHot, queries, "gaussian", { sigma: 0.5 }));
    assert.deepEqual(b, a);
  });

  test("permuting the points together with their labels changes nothing", () => {
    const order = points.map((_, i) => (i * 11) % 30);
    const a = take(parzenPosterior(points, labels, queries, "gaussian", { sigma: 0.5 }));
    const b = take(
      parzenPosterior(
        order.map((i) => points[i]!),
        order.map((i) => labels[i]!),
        queries,
        "gaussian",
        { sigma: 0.5 },
      ),
    );
    assertClose(b, a, 0, 1e-6, "posterior");
  });

  test("translating points and queries together changes nothing", () => {
    const shift = (p: number[]): number[] => [p[0]! + 100, p[1]! - 40];
    const a = take(parzenPosterior(points, labels, queries, "gaussian", { sigma: 0.5 }));
    const b = take(
      parzenPosterior(points.map(shift), labels, queries.map(shift), "gaussian", { sigma: 0.5 }),
    );
    assertClose(b, a, 0, 2e-5, "posterior");
  });

  test("chunked evaluation equals evaluation in one block", () => {
    const whole = parzenClassifier(points, labels, queries, "gaussian", { sigma: 0.5 });
    const chunked = parzenClassifier(points, labels, queries, "gaussian", { sigma: 0.5, chunkSize: 3 });
    // Exactly equal on wasm and cpu. On tensorflow exp's scalar tail depends on the batch shape,
    // so a log-sum-exp over N points may be re-associated: within (log₂ N + 4)·u relative for
    // the log joint (the sum's rounding, the exp, the log), and the posteriors within twice that.
    const u = 2 ** -24;
    const tensorflow = tf.getBackend() === "tensorflow";
    const rtol = tensorflow ? (Math.log2(points.length) + 4) * u : 0;
    assertClose(take(chunked.logJoint), take(whole.logJoint), rtol, 0, "log joint");
    assertClose(take(chunked.posterior), take(whole.posterior), 0, tensorflow ? 2 * rtol : 0, "posterior");
    assert.deepEqual(take(chunked.labels), take(whole.labels));
    const a = take(parzenLogDensity(points, queries, "gaussian", { sigma: 0.5 }));
    const b = take(parzenLogDensity(points, queries, "gaussian", { sigma: 0.5, chunkSize: 4 }));
    assertClose(b, a, rtol, 0, "log density");
  });

  test("a class with prior 0 is never predicted and has log joint −∞", () => {
    const r = parzenClassifier(points, labels, queries, "gaussian", { sigma: 0.5, priors: [0.5, 0, 0.5] });
    const joint = take(r.logJoint);
    for (let i = 0; i < 20; i++) assert.equal(joint[i * 3 + 1], -Infinity);
    assert.ok(!take(r.labels).includes(1));
    r.posterior.dispose();
  });
});

describe("the Parzen classifier is Nadaraya-Watson on one-hot labels", () => {
  const { points, labels } = twoMoons({ perClass: 40, seed: "nw-equivalence" });
  const queries = grid2d(points, { steps: 25 }).points;

  test("empirical priors: posterior equals Nadaraya-Watson on one-hot labels within 2e-6", () => {
    const post = take(parzenPosterior(points, labels, queries, "gaussian", { sigma: 0.3 }));
    const values = oneHotLabels(labels);
    const { predictions } = nadarayaWatson(points, values, queries, "gaussian", { sigma: 0.3 });
    values.dispose();
    assertClose(take(predictions), post, 0, 2e-6, "NW on one-hot vs Parzen posterior");
  });

  test("priors π: Nadaraya-Watson on labels reweighted by π_c/(n_c/N) is proportional to p̂(x, c)", () => {
    // Unequal class sizes, so the reweighting is not trivial.
    const keep = labels.map((l, i) => l === 0 || i % 3 === 0);
    const pts = points.filter((_, i) => keep[i]);
    const lab = labels.filter((_, i) => keep[i]);
    const priors = [0.3, 0.7];
    const r = parzenClassifier(pts, lab, queries, "gaussian", { sigma: 0.3, priors });
    const joint = take(r.logJoint);
    const predicted = take(r.labels);
    r.posterior.dispose();
    const values = oneHotLabels(lab, { priors });
    const { predictions } = nadarayaWatson(pts, values, queries, "gaussian", { sigma: 0.3 });
    values.dispose();
    const nw = take(predictions);
    // NW_c / NW_c' = p̂(x, c) / p̂(x, c') : compare log ratios where both are well above underflow.
    let compared = 0;
    for (let i = 0; i < queries.length; i++) {
      const [a, b] = [nw[2 * i]!, nw[2 * i + 1]!];
      if (a < 1e-3 || b < 1e-3) continue;
      compared++;
      assertClose([Math.log(b / a)], [joint[2 * i + 1]! - joint[2 * i]!], 0, 2e-4, `log ratio at query ${i}`);
      assert.equal(predicted[i], b > a ? 1 : 0, `decision at query ${i}`);
    }
    assert.ok(compared > 100, `enough queries compared: ${compared}`);
  });

  test("oneHotLabels: empirical priors give plain one-hot rows; priors give π_c N / n_c", () => {
    assert.deepEqual(take(oneHotLabels([1, 0, 1])), [0, 1, 1, 0, 0, 1]);
    assertClose(
      take(oneHotLabels([0, 0, 0, 1], { priors: [0.5, 0.5] })),
      [2 / 3, 0, 2 / 3, 0, 2 / 3, 0, 0, 2],
      1e-7,
      0,
      "weights",
    );
    assert.deepEqual(take(oneHotLabels([0, 1], { numClasses: 3 })), [1, 0, 0, 0, 1, 0]);
  });
});

describe("Parzen decisions equal Nadaraya-Watson decisions on (reweighted) one-hot labels", () => {
  /** The index of the unique largest entry, or −1 when the largest is shared or NaN. */
  function argmaxOrTie(row: ArrayLike<number>): number {
    let best = -1;
    let bestValue = -Infinity;
    let tied = false;
    for (let j = 0; j < row.length; j++) {
      const v = row[j]!;
      if (Number.isNaN(v)) return -1;
      if (best < 0 || v > bestValue) {
        best = j;
        bestValue = v;
        tied = false;
      } else if (v === bestValue) {
        tied = true;
      }
    }
    return tied ? -1 : best;
  }

  interface Decisions {
    /** Per query: argmaxOrTie of log p̂(x, c), or the classifier's label where every class has density 0. */
    readonly parzen: number[];
    /** The labels parzenClassifier returns. */
    readonly labels: number[];
    /** `[m][C]` the Parzen posterior. */
    readonly posterior: number[][];
    /** argmaxOrTie of Nadaraya-Watson on oneHotLabels(labels, { priors }). */
    readonly nw: number[];
    /** `[m][C]` the Nadaraya-Watson outputs. */
    readonly nwRows: number[][];
    /** Largest minus second-largest Nadaraya-Watson output. */
    readonly margin: number[];
    /** Queries with density 0 in every class (a compact kernel's empty window). */
    readonly empty: number[];
    /**
     * The float32 rounding allowance τ = 4 · N · 2⁻²⁴ · max_c w_c, w_c = π_c N / n_c: the two rules
     * are computed along different float32 paths (per-class log-sum-exp against softmax and a matrix
     * product), so they may round to different decisions only where the margin is below τ.
     */
    readonly tolerance: number;
  }

  /** Evaluates both rules on the same queries with the remaining lib primitives. */
  function decide(
    points: number[][],
    labels: number[],
    queries: number[][],
    kernel: KernelName,
    options: { sigma: number; priors?: number[]; onEmpty?: "nearest" },
  ): Decisions {
    const { sigma, priors, onEmpty } = options;
    const r = parzenClassifier(points, labels, queries, kernel, {
      sigma,
      ...(priors === undefined ? {} : { priors }),
      ...(onEmpty === undefined ? {} : { onEmpty }),
    });
    const logJoint = take(r.logJoint);
    const posterior = take(r.posterior);
    const classifierLabels = take(r.labels);
    const values = oneHotLabels(labels, priors === undefined ? {} : { priors });
    const { predictions } = nadarayaWatson(points, values, queries, kernel, {
      sigma,
      ...(onEmpty === undefined ? {} : { onEmpty }),
    });
    values.dispose();
    const out = take(predictions);
    const m = queries.length;
    const C = out.length / m;
    const rows = (flat: number[]) => Array.from({ length: m }, (_, i) => flat.slice(i * C, (i + 1) * C));
    const nwRows = rows(out);
    const jointRows = rows(logJoint);
    const empty: number[] = [];
    const parzen = jointRows.map((row, i) => {
      if (!row.every((v) => v === -Infinity)) return argmaxOrTie(row);
      empty.push(i);
      return classifierLabels[i]!;
    });
    const margin = nwRows.map((row) => {
      const [a, b] = [...row].sort((x, y) => y - x);
      return a! - b!;
    });
    // The class weights, from the counts, independently of oneHotLabels.
    const N = labels.length;
    const counts = Array.from({ length: C }, (_, c) => labels.filter((l) => l === c).length);
    const total = priors?.reduce((s, p) => s + p, 0);
    const w = counts.map((n, c) => (priors === undefined ? 1 : ((priors[c]! / total!) * N) / n));
    return {
      parzen,
      labels: classifierLabels,
      posterior: rows(posterior),
      nw: nwRows.map(argmaxOrTie),
      nwRows,
      margin,
      empty,
      tolerance: 4 * N * 2 ** -24 * Math.max(...w),
    };
  }

  /**
   * The two rules may differ only within rounding of the boundary (margin ≤ τ); here they differ
   * nowhere, and the classifier's own labels are its joint argmax wherever that is decided.
   */
  function assertAgree(d: Decisions, what: string): void {
    const within = d.margin.filter((v) => !(v > d.tolerance)).length;
    d.parzen.forEach((p, i) => {
      if (p !== d.nw[i])
        assert.ok(
          d.margin[i]! <= d.tolerance,
          `${what}: disagreement at ${i} with margin ${d.margin[i]} > τ = ${d.tolerance}`,
        );
      if (p >= 0 && d.margin[i]! > d.tolerance)
        assert.equal(d.labels[i], p, `${what}: parzenClassifier's label at ${i}`);
    });
    const disagree = d.parzen.filter((p, i) => p !== d.nw[i]).length;
    assert.equal(disagree, 0, `${what}: ${disagree} disagreements (${within} queries lie within τ)`);
  }

  /** Float64 Nadaraya-Watson on the signed labels −w₀ / +w₁: the same rule evaluated slowly, independent of lib. */
  function referenceBinary(
    points: number[][],
    labels: number[],
    queries: number[][],
    sigma: number,
    priors?: number[],
  ) {
    const N = labels.length;
    const n = [0, 1].map((c) => labels.filter((l) => l === c).length);
    const sum = priors?.reduce((s, p) => s + p, 0);
    const pi = priors ? priors.map((p) => p / sum!) : n.map((v) => v / N);
    const w = [0, 1].map((c) => (pi[c]! * N) / n[c]!);
    return queries.map((q) => {
      const logK = points.map((x) => logKernel("gaussian", q, x, [sigma]));
      const m = Math.max(...logK);
      let num = 0;
      let den = 0;
      logK.forEach((l, i) => {
        const k = Math.exp(l - m);
        num += (labels[i] === 1 ? w[1]! : -w[0]!) * k;
        den += k;
      });
      return num / den; // (p̂(x, 1) − p̂(x, 0)) / p̂(x), p̂(x) the pooled density: its sign is the decision
    });
  }

  /** Max |a − b| over two [m][C] arrays. */
  const maxAbsDiff = (a: number[][], b: number[][]): number =>
    a.reduce((m, row, i) => row.reduce((mm, v, c) => Math.max(mm, Math.abs(v - b[i]![c]!)), m), 0);

  /** Each row divided by its sum. */
  const normalise = (rows: number[][]): number[][] =>
    rows.map((row) => {
      const s = row.reduce((a, b) => a + b, 0);
      return row.map((v) => v / s);
    });

  // Exercise 1's settings: the seeded moons (200 points) at σ = 0.2, with empirical and with
  // skewed priors; Iris versicolor against virginica by petal length and width at σ = 0.25 cm;
  // all three species; a 150 × 150 grid over each data set.
  const steps = 150;
  const moons = twoMoons();
  const irisFeatures: ("petal_length" | "petal_width")[] = ["petal_length", "petal_width"];
  const iris = loadIris({ features: irisFeatures, species: ["versicolor", "virginica"] });
  const iris3 = loadIris({ features: irisFeatures });
  const binaryCases = [
    { name: "moons, empirical priors, σ = 0.2", data: moons, sigma: 0.2, priors: undefined },
    { name: "moons, priors 0.8 / 0.2, σ = 0.2", data: moons, sigma: 0.2, priors: [0.8, 0.2] },
    { name: "Iris versicolor / virginica, σ = 0.25 cm", data: iris, sigma: 0.25, priors: undefined },
  ];

  for (const { name, data, sigma, priors } of binaryCases) {
    test(`${name}: every one of ${steps} × ${steps} grid points agrees, and agrees with float64`, () => {
      const grid = grid2d(data.points, { steps });
      const d = decide(data.points, data.labels, grid.points, "gaussian", {
        sigma,
        ...(priors === undefined ? {} : { priors }),
      });
      const total = steps * steps;
      assert.equal(d.nw.length, total);
      assertAgree(d, name);
      assert.ok(Math.min(...d.margin) > 0, "no grid point lies exactly on the boundary");
      assert.ok(!d.parzen.includes(-1), "every grid point is decided");
      // Both classes are present: the boundary crosses the grid, so the comparison is not trivial.
      const positive = d.parzen.filter((v) => v === 1).length;
      assert.ok(positive > 0.1 * total && positive < 0.9 * total, `class 1 covers ${positive} of ${total}`);
      // Independent check: the float64 rule decides the same wherever its margin exceeds 1e-6,
      // about 16 float32 rounding units: far below τ, so this also covers the grid points whose
      // margin is within τ (where the agreement above is observed rather than implied by τ).
      const ref = referenceBinary(data.points, data.labels, grid.points, sigma, priors);
      let checked = 0;
      ref.forEach((f, i) => {
        if (Math.abs(f) <= 1e-6) return;
        checked++;
        if ((f > 0 ? 1 : 0) !== d.parzen[i])
          assert.fail(`grid point ${i}: float64 says ${f}, Parzen ${d.parzen[i]}`);
      });
      d.margin.forEach((v, i) => {
        if (v <= d.tolerance) assert.ok(Math.abs(ref[i]!) > 1e-6, `grid point ${i} within τ is checked too`);
      });
      assert.equal(checked, total, `compared with float64 at ${checked} of ${total} points`);
      // By linearity, Nadaraya-Watson's w₁-column minus its w₀-column is the float64 signed rule.
      assertClose(
        d.nwRows.map(([a, b]) => b! - a!),
        ref,
        0,
        1e-5,
        "NW on reweighted one-hot labels, column 1 − column 0, vs float64",
      );
      if (priors === undefined) {
        // Empirical priors: the posterior itself is Nadaraya-Watson on one-hot labels.
        const diff = maxAbsDiff(d.posterior, d.nwRows);
        assert.ok(diff <= 2e-6, `max |posterior − NW| = ${diff}`);
      }
    });
  }

  test("priors move the boundary; NW on reweighted labels moves with it, with rows ∝ p̂(x, c) not summing to 1", () => {
    const grid = grid2d(moons.points, { steps: 60 });
    const even = decide(moons.points, moons.labels, grid.points, "gaussian", { sigma: 0.2 });
    const skewed = decide(moons.points, moons.labels, grid.points, "gaussian", {
      sigma: 0.2,
      priors: [0.8, 0.2],
    });
    const flipped = even.parzen.filter((v, i) => v !== skewed.parzen[i]).length;
    assert.ok(flipped > 50, `a prior of 0.8 on class 0 flips ${flipped} grid points`);
    assert.ok(
      even.parzen.every((v, i) => v === 1 || skewed.parzen[i] === 0),
      "flips only go towards class 0",
    );
    assertAgree(even, "empirical priors");
    assertAgree(skewed, "priors 0.8 / 0.2");
    // With empirical priors NW's rows are posteriors (sum 1). With π = (0.8, 0.2) and n₀ = n₁ = 100
    // the columns carry w = (1.6, 0.4), so a row sums to 1.6 p₀ + 0.4 p₁ (p the empirical posterior):
    // near 1.6 deep in class 0 and near 0.4 deep in class 1. Not a posterior ...
    const sums = (rows: number[][]) => rows.map((r) => r.reduce((a, b) => a + b, 0));
    assertClose(sums(even.nwRows), new Array<number>(even.nwRows.length).fill(1), 0, 1e-5, "row sums");
    const skewedSums = sums(skewed.nwRows);
    assert.ok(Math.max(...skewedSums) > 1.5, `largest row sum ${Math.max(...skewedSums)}`);
    assert.ok(Math.min(...skewedSums) < 0.5, `smallest row sum ${Math.min(...skewedSums)}`);
    // ... but proportional to p̂(x, c): normalised, the rows are the Parzen posterior with those priors.
    const diff = maxAbsDiff(normalise(skewed.nwRows), skewed.posterior);
    assert.ok(diff <= 1e-5, `max |normalised NW − posterior| = ${diff}`);
    const unnormalised = maxAbsDiff(skewed.nwRows, skewed.posterior);
    assert.ok(unnormalised > 0.1, `the raw rows differ from the posterior by ${unnormalised}`);
  });

  test("three Iris species: argmax of p̂(x, c) equals argmax of Nadaraya-Watson on one-hot labels", () => {
    const grid = grid2d(iris3.points, { steps });
    for (const priors of [undefined, [0.2, 0.3, 0.5]]) {
      const d = decide(iris3.points, iris3.labels, grid.points, "gaussian", {
        sigma: 0.25,
        ...(priors === undefined ? {} : { priors }),
      });
      assertAgree(d, `priors ${priors}`);
      assert.deepEqual(new Set(d.parzen), new Set([0, 1, 2]), "all three species are predicted somewhere");
      const diff = maxAbsDiff(d.posterior, priors === undefined ? d.nwRows : normalise(d.nwRows));
      if (priors === undefined) {
        assert.ok(diff <= 2e-6, `empirical priors: max |posterior − NW| = ${diff}`);
        assert.ok(diff > 0, "the two paths really are different computations");
      } else {
        assert.ok(diff <= 1e-5, `priors: max |posterior − normalised NW| = ${diff}`);
      }
    }
  });

  test("a query on the boundary of a symmetric set is a tie for both rules", () => {
    const d = decide([[-1], [1]], [0, 1], [[0], [0.25], [-0.25]], "gaussian", { sigma: 0.5 });
    assert.deepEqual(d.parzen, [-1, 1, 0]);
    assert.deepEqual(d.nw, [-1, 1, 0]);
    assert.deepEqual(d.nwRows[0], [0.5, 0.5]);
    assert.equal(d.margin[0], 0);
    assert.equal(d.margin.filter((v) => v <= d.tolerance).length, 1, "only the tie lies within τ");
    // parzenClassifier itself resolves the tie to the first class, as documented.
    assert.deepEqual(d.labels, [0, 1, 0]);
  });

  test("compact kernel with onEmpty 'nearest': empty grid points agree too, on the nearest point's class", () => {
    const grid = grid2d(iris.points, { steps: 80, pad: 0.5 });
    const d = decide(iris.points, iris.labels, grid.points, "epanechnikov", {
      sigma: 0.6,
      onEmpty: "nearest",
    });
    assert.ok(d.empty.length > 0, "some grid points have no flower within σ, so the fallback is exercised");
    assertAgree(d, "epanechnikov, nearest");
    // Float64 nearest neighbour at the empty grid points (any class at the smallest distance:
    // Iris repeats some measurements).
    for (const i of d.empty) {
      const [gx, gy] = grid.points[i]!;
      const dist = iris.points.map(([x, y]) => Math.hypot(x! - gx!, y! - gy!));
      const nearest = Math.min(...dist);
      assert.ok(nearest >= 0.6, `grid point ${i} is empty: nearest flower at ${nearest}`);
      const classes = new Set(iris.labels.filter((_, j) => dist[j]! <= nearest * (1 + 1e-9)));
      assert.ok(classes.has(d.parzen[i]!), `grid point ${i}: class ${d.parzen[i]}, nearest ${[...classes]}`);
    }
  });
});

describe("queries with no point in the support", () => {
  const points = [[0], [1], [5]];
  const labels = [0, 1, 1];

  test("throws by default, naming the count and the first query", () => {
    assertThrowsClean(
      () => parzenClassifier(points, labels, [[0.5], [3], [9]], "epanechnikov", { sigma: 1 }),
      "parzenClassifier: 2 of 3 queries have no point inside the epanechnikov kernel's support (first: query 1 at 3); " +
        "widen sigma, or pass onEmpty: 'nan' or 'nearest'.",
    );
  });

  test("'nan' gives NaN posteriors and label −1 there", () => {
    const r = parzenClassifier(points, labels, [[0.2], [3]], "epanechnikov", { sigma: 1, onEmpty: "nan" });
    const post = take(r.posterior);
    assert.ok(Number.isFinite(post[0]!) && Number.isNaN(post[2]!) && Number.isNaN(post[3]!));
    assert.deepEqual(take(r.labels), [0, -1]);
    assert.deepEqual(take(r.logJoint).slice(2), [-Infinity, -Infinity]);
  });

  test("'nearest' gives the class of the nearest point", () => {
    const r = parzenClassifier(points, labels, [[-3], [2.4], [3.6]], "boxcar", {
      sigma: 0.5,
      onEmpty: "nearest",
    });
    assert.deepEqual(take(r.labels), [0, 1, 1]);
    assert.deepEqual(take(r.posterior), [1, 0, 0, 1, 0, 1]);
    r.logJoint.dispose();
  });
});

describe("input errors name the function, the argument and the value", () => {
  const points = [
    [0, 0],
    [1, 1],
    [2, 0],
  ];
  const labels = [0, 1, 1];
  const queries = [[0.5, 0.5]];
  const cases: [string, () => unknown, string][] = [
    [
      "unknown kernel",
      () => parzenClassifier(points, labels, queries, "gauss" as KernelName),
      'parzenClassifier: unknown kernel "gauss"; expected one of gaussian, boxcar, constant, epanechikov, triangular, epanechnikov, biweight, tricube, cosine.',
    ],
    [
      "labels length",
      () => parzenClassifier(points, [0, 1], queries),
      "parzenClassifier: points and labels must have the same length, got 3 and 2.",
    ],
    [
      "fractional label",
      () => parzenClassifier(points, [0, 1.5, 1], queries),
      "parzenClassifier: labels must be integer classes >= 0, got 1.5 at index 1.",
    ],
    [
      "negative label",
      () => parzenPosterior(points, [0, -1, 1], queries),
      "parzenPosterior: labels must be integer classes >= 0, got -1 at index 1.",
    ],
    [
      "bad one-hot row",
      () =>
        parzenClassifier(
          points,
          [
            [1, 0],
            [1, 1],
            [0, 1],
          ],
          queries,
        ),
      "parzenClassifier: labels rows must be one-hot (a single 1, the rest 0), got [1, 1] in row 1.",
    ],
    [
      "labels of rank 3",
      () => parzenClassifier(points, [[[0]], [[1]], [[1]]], queries),
      "parzenClassifier: labels must be [N] integer classes or [N, C] one-hot rows, got float32 tensor of shape [3, 1, 1].",
    ],
    [
      "numClasses too small",
      () => parzenClassifier(points, [0, 1, 2], queries, "gaussian", { numClasses: 2 }),
      "parzenClassifier: labels has class 2, but options.numClasses is 2.",
    ],
    [
      "priors length",
      () => parzenClassifier(points, labels, queries, "gaussian", { priors: [1] }),
      "parzenClassifier: options.priors must have one entry per class (2), got 1.",
    ],
    [
      "negative prior",
      () => parzenClassifier(points, labels, queries, "gaussian", { priors: [1.5, -0.5] }),
      "parzenClassifier: options.priors must be finite and >= 0, got -0.5 at index 1.",
    ],
    [
      "priors all zero",
      () => parzenClassifier(points, labels, queries, "gaussian", { priors: [0, 0] }),
      "parzenClassifier: options.priors must not all be 0, got [0, 0] (length 2).",
    ],
    [
      "prior for a class without points",
      () => parzenClassifier(points, labels, queries, "gaussian", { numClasses: 3, priors: [1, 1, 1] }),
      "parzenClassifier: options.priors gives class 2 the prior 1, but labels has no point of class 2.",
    ],
    [
      "bad onEmpty",
      () => parzenClassifier(points, labels, queries, "gaussian", { onEmpty: "skip" as "nan" }),
      "parzenClassifier: options.onEmpty must be one of 'throw', 'nan', 'nearest', got \"skip\".",
    ],
    [
      "oneHotLabels priors length",
      () => oneHotLabels([0, 1], { priors: [1, 2, 3] }),
      "oneHotLabels: options.priors must have one entry per class (2), got 3.",
    ],
  ];
  for (const [name, body, message] of cases) {
    test(`rejects ${name}`, () => assertThrowsClean(body, message));
  }
});

describe("no tensor leaks", () => {
  const { points, labels } = twoMoons({ perClass: 10 });
  const queries = grid2d(points, { steps: 6 }).points;
  test("every public call leaves only its returned tensors", () => {
    assertNoLeak("parzenClassifier", () => ({
      ...parzenClassifier(points, labels, queries, "gaussian", { sigma: 0.3 }),
    }));
    assertNoLeak("parzenClassifier chunked with priors", () => ({
      ...parzenClassifier(points, labels, queries, "gaussian", {
        sigma: 0.3,
        chunkSize: 5,
        priors: [0.3, 0.7],
      }),
    }));
    assertNoLeak("parzenClassifier nearest fallback", () => ({
      ...parzenClassifier(points, labels, queries, "boxcar", {
        sigma: 0.05,
        onEmpty: "nearest",
        chunkSize: 4,
      }),
    }));
    assertNoLeak("parzenClassifier nan fallback", () => ({
      ...parzenClassifier(points, labels, queries, "boxcar", { sigma: 0.05, onEmpty: "nan" }),
    }));
    assertNoLeak("parzenPosterior", () =>
      parzenPosterior(points, labels, queries, "gaussian", { sigma: 0.3 }),
    );
    assertNoLeak("oneHotLabels", () => oneHotLabels(labels, { priors: [1, 3] }));
  });

  test("the error for an empty query in a later chunk leaves nothing behind", () => {
    assertThrowsClean(
      () => parzenClassifier([[0], [1]], [0, 1], [[0.5], [0.6], [9]], "boxcar", { sigma: 1, chunkSize: 2 }),
      // The count is the chunk's: query 2 is alone in the last chunk of two.
      "parzenClassifier: 1 of 1 queries have no point inside the boxcar kernel's support (first: query 2 at 9); " +
        "widen sigma, or pass onEmpty: 'nan' or 'nearest'.",
    );
  });
});
