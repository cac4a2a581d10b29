import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import fc from "fast-check";

import {
  initBackend,
  KERNEL_NAMES,
  KERNELS,
  defineKernel,
  fusedKernelInfo,
  nadarayaWatson,
  attentionWeights,
  tf,
  type KernelName,
} from "../../lib/src/index";
import { REFERENCE_PROFILES, assertClose, assertNoLeak, referenceNW, take, uniformMatrix } from "./helpers";

before(async () => {
  await initBackend({ quiet: true });
});

describe("agreement with a float64 loop reference", () => {
  const widths: Record<string, (dims: number) => number[]> = {
    "σ = 0.35": () => [0.35],
    "σ = 1": () => [1],
    "σ = 2.5": () => [2.5],
    "σ per dimension": (dims) => Array.from({ length: dims }, (_, d) => 0.4 + 0.3 * d),
  };
  for (const dims of [1, 2, 3, 8]) {
    const keys = uniformMatrix(`keys-${dims}`, 30, dims, 0, 2);
    const values = uniformMatrix(`values-${dims}`, 30, 2, -3, 5);
    const queries = uniformMatrix(`queries-${dims}`, 17, dims, -0.2, 2.2);
    for (const kernel of KERNEL_NAMES) {
      for (const [label, width] of Object.entries(widths)) {
        test(`${kernel}, ${label}, d = ${dims}: predictions and weights match within 1e-5`, () => {
          const sigma = width(dims);
          const ref = referenceNW(keys, values, queries, REFERENCE_PROFILES[kernel]!, sigma);
          const { predictions, weights } = nadarayaWatson(keys, values, queries, kernel, {
            sigma,
            returnWeights: true,
            onEmpty: "nan",
          });
          assert.deepEqual(predictions.shape, [17, 2]);
          assert.deepEqual(weights!.shape, [17, 30]);
          assertClose(take(weights!), ref.weights.flat(), 1e-5, 1e-6, "weights");
          assertClose(take(predictions), ref.predictions.flat(), 1e-5, 1e-5, "predictions");
          // Predictions alone take the fused kernel where the backend has one (see fusedKernelInfo).
          const alone = nadarayaWatson(keys, values, queries, kernel, { sigma, onEmpty: "nan" });
          assertClose(take(alone.predictions), ref.predictions.flat(), 1e-5, 1e-5, "predictions alone");
        });
      }
    }
  }
});

describe("shapes and orientation", () => {
  test("values [n] give predictions [m]; values [n, k] give [m, k]", () => {
    const a = nadarayaWatson([0, 1, 2], [1, 2, 3], [0.5, 1.5, 2.5, 3]);
    assert.deepEqual(a.predictions.shape, [4]);
    const b = nadarayaWatson(
      [0, 1, 2],
      [
        [1, 0],
        [0, 1],
        [1, 0],
      ],
      [0.5],
    );
    assert.deepEqual(b.predictions.shape, [1, 2]);
    tf.dispose([a.predictions, b.predictions]);
  });

  test("weights are [nQueries, nKeys] and row i belongs to query i", () => {
    const keys = [0, 10];
    const queries = [0, 10, 0.1];
    const w = attentionWeights(keys, queries, "gaussian", { sigma: 1 });
    assert.deepEqual(w.shape, [3, 2]);
    const rows = w.arraySync();
    w.dispose();
    assert.ok(rows[0]![0]! > 0.999, "query 0 sits on key 0");
    assert.ok(rows[1]![1]! > 0.999, "query 1 sits on key 1");
    assert.ok(rows[2]![0]! > 0.999, "query 2 is next to key 0");
  });

  test("one-hot values give class probabilities that sum to 1", () => {
    const keys = [
      [0, 0],
      [0.2, 0.1],
      [3, 3],
      [3.1, 2.9],
    ];
    const oneHot = [
      [1, 0],
      [1, 0],
      [0, 1],
      [0, 1],
    ];
    const { predictions } = nadarayaWatson(
      keys,
      oneHot,
      [
        [0.1, 0],
        [3, 3.05],
      ],
      "gaussian",
      { sigma: 0.5 },
    );
    const p = predictions.arraySync() as number[][];
    predictions.dispose();
    assert.ok(p[0]![0]! > 0.99 && p[1]![1]! > 0.99, JSON.stringify(p));
    for (const row of p) assert.ok(Math.abs(row[0]! + row[1]! - 1) < 1e-6);
  });

  test("accepts tensors, nested arrays and typed arrays alike, without disposing of inputs", () => {
    const keys = tf.tensor1d([0, 1, 2]);
    const values = new Float32Array([1, 2, 4]);
    const fromTensor = nadarayaWatson(keys, values, tf.tensor2d([[0.3]]), "gaussian", { sigma: 0.7 });
    const fromArray = nadarayaWatson([0, 1, 2], [1, 2, 4], [0.3], "gaussian", { sigma: 0.7 });
    assert.deepEqual(take(fromTensor.predictions), take(fromArray.predictions));
    assert.equal(keys.isDisposed, false);
    keys.dispose();
  });

  test("int32 tensors are accepted and cast", () => {
    const { predictions } = nadarayaWatson(tf.tensor1d([0, 1, 2], "int32"), [0, 3, 6], [1], "constant");
    assert.deepEqual(take(predictions), [3]);
  });
});

describe("numerical stability in float32", () => {
  test("narrow Gaussian far from every key stays finite and picks the nearest key", () => {
    const keys = [0, 0.5, 1, 1.5, 2];
    const values = [3, -1, 4, 1, -5];
    const query = [3]; // 1.0 from the nearest key
    // The tutorial's direct formula k / Σk underflows to 0/0 here:
    const direct = tf.tidy(() => {
      const k = tf.exp(tf.div(tf.neg(tf.square(tf.sub(tf.tensor1d(keys), 3))), 2 * 0.05 ** 2));
      return tf.div(k, tf.sum(k));
    });
    assert.ok(take(direct).every(Number.isNaN), "the direct formula is NaN in float32");
    const { predictions, weights } = nadarayaWatson(keys, values, query, "gaussian", {
      sigma: 0.05,
      returnWeights: true,
    });
    assert.deepEqual(take(predictions), [-5]);
    assert.deepEqual(take(weights!), [0, 0, 0, 0, 1]);
  });

  test("between two far keys the estimate is finite and their average", () => {
    const { predictions } = nadarayaWatson([0, 2], [1, 3], [1], "gaussian", { sigma: 0.01 });
    assert.deepEqual(take(predictions), [2]);
  });

  test("a σ so small that (d/σ)² overflows still gives the nearest key", () => {
    const { predictions } = nadarayaWatson([0, 1], [7, 9], [0.9], "gaussian", { sigma: 1e-30 });
    assert.deepEqual(take(predictions), [9]);
  });

  test("values near the float32 maximum, summed over many keys, stay finite on every path", () => {
    // Σ k v over 2000 keys of 1e37 would overflow float32 (3.4e38): the values are scaled by a
    // power of two first, exactly.
    const keys = Array.from({ length: 2000 }, (_, i) => i / 2000);
    const values = keys.map((x) => 1e37 * (1 + x));
    for (const options of [{}, { chunkSize: 7 }, { returnWeights: true }]) {
      const r = nadarayaWatson(keys, values, [0.5], "boxcar", { sigma: 0.25, ...options });
      const [p] = take(r.predictions);
      r.weights?.dispose();
      assert.ok(Math.abs(p! / 1.5e37 - 1) < 1e-5, `${JSON.stringify(options)}: ${p}`);
    }
    const [tiny] = take(
      nadarayaWatson([0, 1], [1e-40, 3e-40], [0.5], "epanechnikov", { sigma: 2 }).predictions,
    );
    assert.ok(Math.abs(tiny! / 2e-40 - 1) < 1e-5, `subnormal values: ${tiny}`);
  });

  test("huge but finite values pass through without overflow", () => {
    const { predictions } = nadarayaWatson([0, 1], [1e30, 3e30], [0.5], "gaussian");
    const [p] = take(predictions);
    assert.ok(Math.abs(p! / 2e30 - 1) < 1e-6, String(p));
  });
});

describe("queries with no key in a compact support", () => {
  const keys = [0, 0.5, 1];
  const values = [1, 2, 3];
  test("throws by default, naming the count and the first empty query", () => {
    assert.throws(() => nadarayaWatson(keys, values, [0.2, 5, 7], "boxcar"), {
      message:
        "nadarayaWatson: 2 of 3 queries have no key inside the boxcar kernel's support (first: query 1 at 5); " +
        "widen sigma, or pass onEmpty: 'nan' or 'nearest'.",
    });
  });
  test("onEmpty 'nan' gives NaN exactly where the window is empty", () => {
    const { predictions } = nadarayaWatson(keys, values, [0.2, 5, 1.4], "triangular", { onEmpty: "nan" });
    const p = take(predictions);
    assert.ok(Number.isNaN(p[1]!) && Number.isFinite(p[0]!) && Number.isFinite(p[2]!), String(p));
  });
  test("onEmpty 'nearest' uses the nearest key's value", () => {
    const { predictions } = nadarayaWatson(keys, values, [-4, 5], "epanechnikov", { onEmpty: "nearest" });
    assert.deepEqual(take(predictions), [1, 3]);
  });
  test("the error names the query's index in the whole set when evaluating in chunks", () => {
    const queries = [0, 0.1, 0.2, 0.3, 9];
    // The count is the chunk's: query 4 is alone in the last chunk of two.
    assert.throws(() => nadarayaWatson(keys, values, queries, "boxcar", { chunkSize: 2 }), {
      message:
        "nadarayaWatson: 1 of 1 queries have no key inside the boxcar kernel's support (first: query 4 at 9); " +
        "widen sigma, or pass onEmpty: 'nan' or 'nearest'.",
    });
  });
});

/**
 * How far two evaluations of the same prediction may differ when only their batch shape differs.
 * wasm and cpu reduce each row the same way whatever the batch, so there they agree exactly. The
 * tensorflow backend's kernels (matMul for a single row, softmax for small batches, exp's scalar
 * tail when a row's length is not a multiple of 8) take other code paths by shape, so the n-term
 * sum and dot product are re-associated: each evaluation is within (n + 5)·u·max|v| of the exact
 * value (n − 1 additions, the exp, the reciprocal and the product, each with relative error
 * u = 2⁻²⁴), so two evaluations are within twice that of each other. A chunking bug (a wrong row,
 * a missing key) moves predictions by the order of max|v|, far above this bound.
 */
function chunkTolerance(n: number, values: readonly number[]): number {
  if (tf.getBackend() !== "tensorflow") return 0;
  const maxAbs = values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  return 2 * (n + 5) * 2 ** -24 * maxAbs;
}

describe("chunked evaluation", () => {
  const keys = uniformMatrix("chunk-keys", 50, 2, 0, 3);
  const values = uniformMatrix("chunk-values", 50, 1, -1, 1).map((r) => r[0]!);
  const queries = uniformMatrix("chunk-queries", 23, 2, -1, 4);
  for (const kernel of ["gaussian", "biweight"] as KernelName[]) {
    test(`${kernel}: chunked and unchunked predictions agree (exactly, except on tensorflow)`, () => {
      const options = { sigma: 0.8, onEmpty: "nan" } as const;
      const whole = take(
        nadarayaWatson(keys, values, queries, kernel, { ...options, chunkSize: 23 }).predictions,
      );
      for (const chunkSize of [1, 4, 7, 22, 100]) {
        const chunked = nadarayaWatson(keys, values, queries, kernel, { ...options, chunkSize });
        assertClose(
          take(chunked.predictions),
          whole,
          0,
          chunkTolerance(keys.length, values),
          `chunkSize ${chunkSize}`,
        );
      }
    });
    test(`${kernel}: predictions with and without the weights agree to float32 rounding`, () => {
      // Normalised weights times the values, or the weighted sums divided by the sum of weights:
      // each within (n + 5)·u·max|v| of the exact prediction (see chunkTolerance), so within twice that.
      const options = { sigma: 0.8, onEmpty: "nan" } as const;
      const withWeights = nadarayaWatson(keys, values, queries, kernel, { ...options, returnWeights: true });
      const alone = nadarayaWatson(keys, values, queries, kernel, { ...options, chunkSize: 23 });
      const maxAbs = values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      assertClose(
        take(alone.predictions),
        Array.from(withWeights.predictions.dataSync()),
        0,
        2 * (keys.length + 5) * 2 ** -24 * maxAbs,
        "with and without weights",
      );
      tf.dispose([withWeights.predictions, withWeights.weights!]);
    });
  }
  test("the default chunk splits large query sets and matches the whole evaluation", () => {
    const n = 3000;
    const k = Array.from({ length: n }, (_, i) => (i * 5) / n);
    const v = k.map((x) => Math.sin(x));
    const q = Array.from({ length: 1500 }, (_, i) => (i * 5) / 1500 + 0.001); // 3000 × 1500 > 2²² pairs → 2 chunks
    // A kernel of one's own has no fused form, so the default is the chunked dense path on every backend.
    const gaussian = defineKernel((r) => tf.exp(tf.mul(-0.5, tf.square(r))), { name: "own-gaussian" });
    const chunked = nadarayaWatson(k, v, q, gaussian, { sigma: 0.1 });
    const whole = nadarayaWatson(k, v, q, gaussian, { sigma: 0.1, chunkSize: 1500 });
    assertClose(take(chunked.predictions), take(whole.predictions), 0, chunkTolerance(n, v), "default chunk");
  });
});

describe("the fused kernel", () => {
  /**
   * The fused kernel and the dense path each compute a prediction within (n + 5)·u·max|v| of its
   * exact value (n − 1 additions, the weight, the quotient and the rounding to float32, each with
   * relative error u = 2⁻²⁴; the fused kernel's sums are shorter: 32 float32 terms per lane, then
   * float64), so they agree within twice that. A wrong weight or a missing key moves a prediction
   * by the order of max|v|, far above it.
   */
  const keys = uniformMatrix("fused-keys", 700, 2, 0, 3);
  const values = uniformMatrix("fused-values", 700, 3, -2, 2);
  const queries = uniformMatrix("fused-queries", 90, 2, -0.5, 3.5);
  const tolerance = 2 * (700 + 5) * 2 ** -24 * 2;
  for (const kernel of KERNEL_NAMES) {
    test(`${kernel}: fused and dense predictions agree to float32 rounding, empty queries included`, () => {
      const options = { sigma: [0.35, 0.5], onEmpty: "nan" } as const;
      const fused = take(nadarayaWatson(keys, values, queries, kernel, options).predictions);
      const dense = take(
        nadarayaWatson(keys, values, queries, kernel, { ...options, chunkSize: 90 }).predictions,
      );
      assertClose(fused, dense, 0, tolerance, kernel);
      if (Number.isFinite(KERNELS[kernel].support)) {
        assert.ok(dense.some(Number.isNaN) && dense.some(Number.isFinite), "some queries empty, some not");
      }
    });
  }

  test("keys nearer than any in the first blocks, far or a little nearer, change nothing (the Gaussian's shift)", () => {
    // The fused kernels take the Gaussian's weights against the nearest key seen so far, block by
    // block of 256 keys: here the first 300 keys lie 6 to 9 away from every query, the rest near them.
    const far = Array.from({ length: 300 }, (_, i) => [6 + (3 * i) / 300]);
    const near = Array.from({ length: 400 }, (_, i) => [(2 * i) / 400 - 1]);
    const keys = [...far, ...near];
    const values = keys.map(([x]) => [Math.sin(3 * x!), 1 + Math.cos(x!)]);
    const queries = [[-0.93], [0.017], [0.5], [1.2]];
    for (const sigma of [0.05, 0.4, 2, 6]) {
      const ref = referenceNW(keys, values, queries, REFERENCE_PROFILES.gaussian!, [sigma]);
      const got = take(nadarayaWatson(keys, values, queries, "gaussian", { sigma }).predictions);
      assertClose(got, ref.predictions.flat(), 1e-5, 1e-6, `σ = ${sigma}`);
    }
  });

  test("needs no [nQueries, nKeys] memory where the backend has it", async () => {
    const info = fusedKernelInfo();
    assert.equal(info.backend, tf.getBackend());
    // The cpu backend's is plain JavaScript and the wasm module is committed; CI builds the
    // TensorFlow op (npm run tfjs-node), which elsewhere may be missing.
    if (process.env.CI || info.backend !== "tensorflow") assert.ok(info.available, info.detail);
    const n = 2000;
    const k = Array.from({ length: n }, (_, i) => (i * 5) / n);
    const before = tf.memory().numBytes;
    const profile = await tf.profile(() => {
      nadarayaWatson(k, k, k, "gaussian", { sigma: 0.2 }).predictions.dispose();
    });
    const matrix = n * n * 4;
    if (info.available)
      assert.ok(profile.peakBytes - before < matrix / 20, `${profile.peakBytes - before} bytes`);
    else assert.ok(profile.peakBytes - before >= matrix / 2, `${profile.peakBytes - before} bytes`);
  });
});

describe("properties", () => {
  const point = fc.float({ min: -5, max: 5, noNaN: true, noDefaultInfinity: true });
  const sample = fc.record({
    keys: fc.array(point, { minLength: 1, maxLength: 12 }),
    queries: fc.array(point, { minLength: 1, maxLength: 6 }),
    seed: fc.integer(),
    sigma: fc.double({ min: 0.2, max: 4, noNaN: true }),
    kernel: fc.constantFrom<KernelName>(
      "gaussian",
      "constant",
      "triangular",
      "epanechnikov",
      "biweight",
      "cosine",
    ),
  });
  const valuesFor = (n: number, seed: number): number[] =>
    uniformMatrix(String(seed), n, 1, -10, 10).map((r) => r[0]!);
  const params = { numRuns: 40, seed: 20261125 };

  test("each query's weights are ≥ 0 and sum to 1", () => {
    fc.assert(
      fc.property(sample, ({ keys, queries, sigma, kernel }) => {
        const w = attentionWeights(keys, queries, kernel, { sigma, onEmpty: "nearest" });
        const rows = w.arraySync();
        w.dispose();
        for (const row of rows) {
          assert.ok(row.every((x) => x >= 0));
          assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5);
        }
      }),
      params,
    );
  });

  test("the constant kernel predicts the mean of the values", () => {
    fc.assert(
      fc.property(sample, ({ keys, queries, seed }) => {
        const values = valuesFor(keys.length, seed);
        const mean = values.reduce((a, b) => a + b, 0) / values.length;
        const p = take(nadarayaWatson(keys, values, queries, "constant").predictions);
        for (const x of p) assert.ok(Math.abs(x - mean) < 1e-5, `${x} vs ${mean}`);
      }),
      params,
    );
  });

  test("predictions stay within [min, max] of the values", () => {
    fc.assert(
      fc.property(sample, ({ keys, queries, seed, sigma, kernel }) => {
        const values = valuesFor(keys.length, seed);
        const lo = Math.min(...values);
        const hi = Math.max(...values);
        const p = take(
          nadarayaWatson(keys, values, queries, kernel, { sigma, onEmpty: "nearest" }).predictions,
        );
        for (const x of p) assert.ok(x >= lo - 1e-5 && x <= hi + 1e-5, `${x} outside [${lo}, ${hi}]`);
      }),
      params,
    );
  });

  test("permuting keys together with their values changes nothing", () => {
    fc.assert(
      fc.property(sample, fc.integer(), ({ keys, queries, seed, sigma, kernel }, shuffleSeed) => {
        const values = valuesFor(keys.length, seed);
        const order = uniformMatrix(String(shuffleSeed), keys.length, 1).map((r, i) => [r[0]!, i] as const);
        order.sort((a, b) => a[0] - b[0]);
        const pk = order.map(([, i]) => keys[i]!);
        const pv = order.map(([, i]) => values[i]!);
        const opts = { sigma, onEmpty: "nan" as const };
        const a = take(nadarayaWatson(keys, values, queries, kernel, opts).predictions);
        const b = take(nadarayaWatson(pk, pv, queries, kernel, opts).predictions);
        assertClose(b, a, 1e-5, 1e-5, "permuted");
      }),
      params,
    );
  });

  test("translating keys and queries by the same amount changes nothing", () => {
    fc.assert(
      fc.property(
        sample,
        fc.double({ min: -10, max: 10, noNaN: true }),
        ({ keys, queries, seed, sigma }, shift) => {
          const values = valuesFor(keys.length, seed);
          const a = take(nadarayaWatson(keys, values, queries, "gaussian", { sigma }).predictions);
          const b = take(
            nadarayaWatson(
              keys.map((k) => k + shift),
              values,
              queries.map((q) => q + shift),
              "gaussian",
              { sigma },
            ).predictions,
          );
          // Rounding the shifted inputs to float32 moves them by up to ~1e-6; weights move by less than 1e-4 relative.
          assertClose(b, a, 0, 1e-4 * 20, "translated");
        },
      ),
      params,
    );
  });

  test("a very wide σ tends to the mean of the values", () => {
    fc.assert(
      fc.property(sample, ({ keys, queries, seed }) => {
        const values = valuesFor(keys.length, seed);
        const mean = values.reduce((a, b) => a + b, 0) / values.length;
        const p = take(nadarayaWatson(keys, values, queries, "gaussian", { sigma: 1e4 }).predictions);
        for (const x of p) assert.ok(Math.abs(x - mean) < 1e-3, `${x} vs ${mean}`);
      }),
      params,
    );
  });
});

describe("no tensor leaks", () => {
  test("nadarayaWatson returns only its results, in every path", () => {
    assertNoLeak("whole", () =>
      nadarayaWatson([0, 1, 2], [1, 2, 3], [0.5], "gaussian", { returnWeights: true }),
    );
    assertNoLeak("chunked", () =>
      nadarayaWatson([0, 1, 2], [1, 2, 3], [0.5, 1, 1.5, 2], "gaussian", { chunkSize: 3 }),
    );
    assertNoLeak("nan", () =>
      nadarayaWatson([0, 1], [1, 2], [0.5, 9], "boxcar", { onEmpty: "nan", returnWeights: true }),
    );
    assertNoLeak("nearest", () =>
      nadarayaWatson([0, 1], [1, 2], [0.5, 9], "boxcar", { onEmpty: "nearest", chunkSize: 1 }),
    );
    assertNoLeak("2-D", () =>
      nadarayaWatson(
        [
          [0, 1],
          [1, 0],
        ],
        [
          [1, 0],
          [0, 1],
        ],
        [[0.5, 0.5]],
        "tricube",
        { sigma: [2, 3] },
      ),
    );
    assertNoLeak("8-D", () =>
      nadarayaWatson(uniformMatrix("l", 5, 8), [1, 2, 3, 4, 5], uniformMatrix("m", 2, 8)),
    );
    assertNoLeak("attentionWeights", () => attentionWeights([0, 1, 2], [0.5, 3], "cosine", { sigma: 2 }));
    assertNoLeak("values scaled by a power of two", () =>
      nadarayaWatson([0, 1, 2], [1e30, 2e30, 3e30], [0.5, 1.5], "gaussian", { returnWeights: true }),
    );
    assertNoLeak("values scaled, chunked", () =>
      nadarayaWatson([0, 1, 2], [1e-30, 2e-30, 3e-30], [0.5, 1.5], "biweight", { sigma: 2, chunkSize: 1 }),
    );
  });
  test("nothing is left behind when a call throws", () => {
    const before = tf.memory().numTensors;
    const empty =
      "nadarayaWatson: 1 of 1 queries have no key inside the boxcar kernel's support (first: query 0 at 9); " +
      "widen sigma, or pass onEmpty: 'nan' or 'nearest'.";
    assert.throws(() => nadarayaWatson([0, 1], [1, 2], [9], "boxcar"), { message: empty });
    assert.throws(() => nadarayaWatson([0, 1], [1, 2, 3], [9]), {
      message: "nadarayaWatson: keys and values must have the same length, got 2 and 3.",
    });
    assert.throws(() => nadarayaWatson([0, 1], [1, 2], [9], "gaussian", { sigma: -1 }), {
      message: "nadarayaWatson: options.sigma must be finite and > 0, got -1.",
    });
    // In chunks of one query, the first chunk ([9]) is the empty one: the same message.
    assert.throws(() => nadarayaWatson([0, 1], [1, 2], [9, 0], "boxcar", { chunkSize: 1 }), {
      message: empty,
    });
    assert.equal(tf.memory().numTensors, before);
  });
});
