// attention.ts: scaledDotProductAttention against a float64 loop, normalizeRows and the seeded
// random vectors; and, with nadaraya_watson.ts's attentionWeights, that Gaussian Nadaraya-Watson
// on the unit sphere is softmax(q·k / σ²) (exercise 3).
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";

import {
  attentionWeights,
  initBackend,
  normalizeRows,
  randomNormalVectors,
  randomUnitVectors,
  scaledDotProductAttention,
  tf,
} from "../../lib/src/index";
import { assertClose, assertNoLeak, assertThrowsClean, take, uniformMatrix } from "./helpers";

before(async () => {
  await initBackend({ quiet: true });
});

const dot = (a: number[], b: number[]): number => a.reduce((s, x, t) => s + x * b[t]!, 0);

function softmaxRows(logits: number[][]): number[][] {
  return logits.map((row) => {
    const m = Math.max(...row);
    const e = row.map((v) => Math.exp(v - m));
    const z = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / z);
  });
}

/** Float64 Gaussian Nadaraya-Watson weights from explicit differences (no dot-product expansion). */
function referenceGaussianWeights(queries: number[][], keys: number[][], sigma: number): number[][] {
  return softmaxRows(
    queries.map((q) =>
      keys.map((k) => -q.reduce((s, x, t) => s + (x - k[t]!) ** 2, 0) / (2 * sigma * sigma)),
    ),
  );
}

/** Float64 softmax(scale · q·k). */
function referenceDotWeights(queries: number[][], keys: number[][], scale: number): number[][] {
  return softmaxRows(queries.map((q) => keys.map((k) => scale * dot(q, k))));
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

/** The values float32 would store: the inputs both lib paths actually see. */
const toFloat32 = (rows: number[][]): number[][] => rows.map((r) => r.map(Math.fround));

/**
 * The float32 tolerance for attention weights at temperature T = σ² (logits q·k/T for unit
 * vectors, so of size up to 1/T): τ(T) = 1e-6 · max(1, 1/T). Each logit is rounded with an
 * absolute error of a few units of 2⁻²⁴ ≈ 6e-8 times its size, and a softmax weight moves by at
 * most about twice the largest logit error; 16 · 2⁻²⁴ ≈ 1e-6 per unit of logit size covers both
 * lib paths with room to spare.
 */
const weightTolerance = (temperature: number): number => 1e-6 * Math.max(1, 1 / temperature);

describe("unit vectors: ‖q − k‖² = 2 − 2 q·k", () => {
  for (const d of [2, 16, 128]) {
    test(`d = ${d}: holds in float64 to 1e-14 on seeded random unit vectors`, () => {
      const q = randomUnitVectors(30, d, `identity-q-${d}`);
      const k = randomUnitVectors(20, d, `identity-k-${d}`);
      for (const qi of q) {
        assert.ok(Math.abs(dot(qi, qi) - 1) < 1e-14, "unit length");
        for (const kj of k) {
          const lhs = qi.reduce((s, x, t) => s + (x - kj[t]!) ** 2, 0);
          assert.ok(Math.abs(lhs - (2 - 2 * dot(qi, kj))) < 1e-14, `${lhs} vs ${2 - 2 * dot(qi, kj)}`);
        }
      }
    });
  }
});

describe("Gaussian Nadaraya-Watson on the sphere is softmax(q·k / σ²)", () => {
  // The notebook's setting: 50 queries, 40 keys, σ² in {1, 1/√d, 0.01}.
  for (const d of [2, 16, 128]) {
    const queries = randomUnitVectors(50, d, `sphere-queries-${d}`);
    const keys = randomUnitVectors(40, d, `sphere-keys-${d}`);
    for (const sigma2 of [1, 1 / Math.sqrt(d), 0.01]) {
      const sigma = Math.sqrt(sigma2);
      const tol = weightTolerance(sigma2);
      test(`d = ${d}, σ² = ${+sigma2.toFixed(3)}: the identity in float64, and both lib paths within ${tol.toExponential(0)}`, () => {
        // 1. The identity itself, in float64: exact up to 1e-13.
        const gauss64 = referenceGaussianWeights(queries, keys, sigma);
        const dot64 = referenceDotWeights(queries, keys, 1 / sigma2);
        assert.ok(maxAbsDiff(gauss64.flat(), dot64.flat()) < 1e-13, "float64 identity");
        // 2. Each lib path against a float64 loop on the float32 inputs it sees. The Gaussian
        //    reference forms differences explicitly, so it is independent of both the
        //    dot-product path and attentionWeights' ‖q‖² + ‖k‖² − 2q·k expansion (d > 4).
        const ref = referenceGaussianWeights(toFloat32(queries), toFloat32(keys), sigma).flat();
        const nw = take(attentionWeights(keys, queries, "gaussian", { sigma }));
        const sdpa = scaledDotProductAttention(keys, keys, queries, { temperature: sigma2 });
        const att = take(sdpa.weights);
        sdpa.predictions.dispose();
        assertClose(nw, ref, 0, tol, "Gaussian Nadaraya-Watson weights vs float64");
        assertClose(att, ref, 0, tol, "scaled dot-product weights vs float64");
        // 3. The number the notebook prints.
        const diff = maxAbsDiff(nw, att);
        assert.ok(diff <= tol, `max |NW − SDPA| = ${diff} > ${tol}`);
        // The weights are far from uniform compared with the tolerance, so agreement means something.
        const fromUniform = maxAbsDiff(att, new Array<number>(att.length).fill(1 / 40));
        assert.ok(fromUniform > 100 * tol, `weights differ from uniform by only ${fromUniform}`);
      });
    }
  }

  test("off the sphere the identity fails: vectors of unequal length give different weights", () => {
    const q = randomNormalVectors(10, 16, "off-sphere-q");
    const k = randomNormalVectors(12, 16, "off-sphere-k");
    const nw = take(attentionWeights(k, q, "gaussian", { sigma: 2 }));
    const sdpa = scaledDotProductAttention(k, k, q, { temperature: 4 });
    const att = take(sdpa.weights);
    sdpa.predictions.dispose();
    assert.ok(maxAbsDiff(nw, att) > 0.05, `differ by ${maxAbsDiff(nw, att)}`);
  });

  test("only the keys need equal length: the query's ‖q‖² is the same for every key and cancels", () => {
    const q = randomNormalVectors(10, 16, "off-sphere-q").map((row, i) =>
      row.map((v) => v * (0.2 + 0.3 * i)),
    );
    const k = randomUnitVectors(12, 16, "on-sphere-k");
    const nw = take(attentionWeights(k, q, "gaussian", { sigma: 2 }));
    const sdpa = scaledDotProductAttention(k, k, q, { temperature: 4 });
    const att = take(sdpa.weights);
    sdpa.predictions.dispose();
    const ref = referenceGaussianWeights(toFloat32(q), toFloat32(k), 2).flat();
    assertClose(att, ref, 0, 1e-6, "dot-product weights vs float64 Gaussian weights");
    assertClose(nw, ref, 0, 1e-6, "Gaussian weights vs float64");
  });

  test("normalising the rows first restores the identity", () => {
    const q = normalizeRows(randomNormalVectors(10, 16, "off-sphere-q"));
    const k = normalizeRows(randomNormalVectors(12, 16, "off-sphere-k"));
    const nw = take(attentionWeights(k, q, "gaussian", { sigma: 2 }));
    const sdpa = scaledDotProductAttention(k, k, q, { temperature: 4 });
    const att = take(sdpa.weights);
    tf.dispose([q, k, sdpa.predictions]);
    assert.ok(maxAbsDiff(nw, att) < weightTolerance(4));
  });
});

describe("scaledDotProductAttention against a float64 loop", () => {
  for (const d of [1, 3, 16]) {
    const queries = uniformMatrix(`sdpa-q-${d}`, 7, d, -1, 1);
    const keys = uniformMatrix(`sdpa-k-${d}`, 9, d, -1, 1);
    const values = uniformMatrix(`sdpa-v-${d}`, 9, 2, -5, 5);
    for (const [label, options, scale] of [
      ["default scale 1/√d", {}, 1 / Math.sqrt(d)],
      ["scale 3", { scale: 3 }, 3],
      ["temperature 0.25", { temperature: 0.25 }, 4],
    ] as const) {
      test(`d = ${d}, ${label}: weights and predictions`, () => {
        const w = referenceDotWeights(queries, keys, scale);
        const out = w.map((row) => [0, 1].map((c) => row.reduce((s, wi, j) => s + wi * values[j]![c]!, 0)));
        const r = scaledDotProductAttention(keys, values, queries, options);
        assert.deepEqual(r.weights.shape, [7, 9]);
        assert.deepEqual(r.predictions.shape, [7, 2]);
        assertClose(take(r.weights), w.flat(), 1e-5, 1e-6, "weights");
        assertClose(take(r.predictions), out.flat(), 1e-5, 1e-5, "predictions");
      });
    }
  }

  test("weights are [nQueries, nKeys], rows sum to 1, and values [n] give predictions [m]", () => {
    const r = scaledDotProductAttention(
      [
        [1, 0],
        [0, 1],
      ],
      [10, 20],
      [
        [1, 0],
        [0, 1],
        [1, 1],
      ],
      { temperature: 0.5 },
    );
    assert.deepEqual(r.predictions.shape, [3]);
    const w = take(r.weights);
    assertClose(w.slice(0, 2), [Math.exp(2) / (1 + Math.exp(2)), 1 / (1 + Math.exp(2))], 1e-6, 0, "row 0");
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(w[2 * i]! + w[2 * i + 1]! - 1) < 1e-6);
    assertClose(take(r.predictions).slice(2), [15], 1e-6, 0, "equal weights average the values");
  });

  test("permuting keys together with values changes nothing", () => {
    const q = uniformMatrix("perm-q", 4, 3);
    const k = uniformMatrix("perm-k", 6, 3);
    const v = [1, 2, 3, 4, 5, 6];
    const order = [3, 0, 5, 1, 4, 2];
    const a = scaledDotProductAttention(k, v, q);
    const b = scaledDotProductAttention(
      order.map((i) => k[i]!),
      order.map((i) => v[i]!),
      q,
    );
    assertClose(take(b.predictions), take(a.predictions), 1e-6, 0, "predictions");
    tf.dispose([a.weights, b.weights]);
  });
});

describe("normalizeRows and random vectors", () => {
  test("normalizeRows keeps directions and gives unit length", () => {
    const x = uniformMatrix("norm", 8, 5, -3, 3);
    const unit = normalizeRows(x);
    const out = unit.arraySync();
    unit.dispose();
    out.forEach((row, i) => {
      const n = Math.hypot(...x[i]!);
      assertClose(
        row,
        x[i]!.map((v) => v / n),
        1e-6,
        1e-7,
        `row ${i}`,
      );
    });
  });

  test("randomUnitVectors is seeded and lies on the sphere; randomNormalVectors has unit variance", () => {
    assert.deepEqual(randomUnitVectors(3, 4, "s"), randomUnitVectors(3, 4, "s"));
    assert.notDeepEqual(randomUnitVectors(3, 4, "s"), randomUnitVectors(3, 4, "t"));
    for (const row of randomUnitVectors(20, 7, "s")) assert.ok(Math.abs(Math.hypot(...row) - 1) < 1e-15);
    const flat = randomNormalVectors(200, 50, "variance").flat();
    const mean = flat.reduce((a, b) => a + b, 0) / flat.length;
    const variance = flat.reduce((a, b) => a + (b - mean) ** 2, 0) / flat.length;
    assert.ok(Math.abs(mean) < 0.03 && Math.abs(variance - 1) < 0.03, `mean ${mean}, variance ${variance}`);
  });

  test("q·k of vectors with unit-variance entries has variance d; scaled by 1/√d it has variance 1", () => {
    for (const d of [2, 16, 128]) {
      const q = randomNormalVectors(2000, d, `dot-variance-q-${d}`);
      const k = randomNormalVectors(2000, d, `dot-variance-k-${d}`);
      const dots = q.map((qi, i) => dot(qi, k[i]!));
      const variance = dots.reduce((a, b) => a + b * b, 0) / dots.length;
      // Var(q·k) = d exactly; 2000 samples estimate it to within about ±6% (3 standard errors).
      assert.ok(Math.abs(variance / d - 1) < 0.1, `d = ${d}: variance ${variance}`);
    }
  });
});

describe("errors and leaks", () => {
  const cases: [string, () => unknown, string][] = [
    [
      "zero row",
      () =>
        normalizeRows([
          [1, 0],
          [0, 0],
        ]),
      "normalizeRows: x must have no zero row (a zero vector has no direction), got one at row 1.",
    ],
    [
      "scale and temperature together",
      () => scaledDotProductAttention([[1]], [1], [[1]], { scale: 2, temperature: 0.5 }),
      "scaledDotProductAttention: give options.scale or options.temperature, not both, got 2 and 0.5.",
    ],
    [
      "bad temperature",
      () => scaledDotProductAttention([[1]], [1], [[1]], { temperature: 0 }),
      "scaledDotProductAttention: options.temperature must be finite and > 0, got 0.",
    ],
    [
      "bad scale",
      () => scaledDotProductAttention([[1]], [1], [[1]], { scale: NaN }),
      "scaledDotProductAttention: options.scale must be finite and > 0, got NaN.",
    ],
    [
      "dimension mismatch",
      () => scaledDotProductAttention([[1, 2, 3]], [1], [[1, 2]]),
      "scaledDotProductAttention: queries and keys must have the same dimension, got 2 and 3.",
    ],
    [
      "keys and values length",
      () => scaledDotProductAttention([[1], [2]], [1, 2, 3], [[1]]),
      "scaledDotProductAttention: keys and values must have the same length, got 2 and 3.",
    ],
    [
      "values not finite",
      () => scaledDotProductAttention([[1]], [Infinity], [[1]]),
      "scaledDotProductAttention: values must be finite, got Infinity at index 0.",
    ],
    ["bad n", () => randomUnitVectors(0, 3, "s"), "randomUnitVectors: n must be a positive integer, got 0."],
    [
      "bad d",
      () => randomNormalVectors(2, 1.5, "s"),
      "randomNormalVectors: d must be a positive integer, got 1.5.",
    ],
  ];
  for (const [name, body, message] of cases) {
    test(`rejects ${name}`, () => assertThrowsClean(body, message));
  }

  test("no tensor leaks", () => {
    const q = randomUnitVectors(5, 16, "leak-q");
    const k = randomUnitVectors(6, 16, "leak-k");
    assertNoLeak("normalizeRows", () => normalizeRows(q));
    assertNoLeak("scaledDotProductAttention", () => ({
      ...scaledDotProductAttention(k, [1, 2, 3, 4, 5, 6], q),
    }));
    assertNoLeak("scaledDotProductAttention [n, k] values", () => ({
      ...scaledDotProductAttention(k, k, q, { temperature: 2 }),
    }));
    const t = tf.tensor2d(q);
    assertNoLeak("tensor input kept", () => ({ ...scaledDotProductAttention(t, t, t) }));
    assert.equal(t.isDisposed, false);
    t.dispose();
  });
});
