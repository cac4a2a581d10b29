import assert from "node:assert/strict";
import { before, describe, test } from "node:test";

import {
  initBackend,
  nadarayaWatson,
  tf,
  windowedNadarayaWatson,
  type KernelName,
} from "../../lib/src/index";
import { DEFAULT_WINDOW_TOLERANCE } from "../../lib/src/windowed";
import {
  REFERENCE_PROFILES,
  assertClose,
  assertNoLeak,
  assertThrowsClean,
  referenceNW,
  take,
  uniformMatrix,
} from "./helpers";

before(async () => {
  await initBackend({ quiet: true });
});

/** A seeded column of float32-representable numbers, so the float64 reference sees the same inputs. */
function column(seed: string, n: number, lo: number, hi: number): number[] {
  return uniformMatrix(seed, n, 1, lo, hi).map((r) => Math.fround(r[0]!));
}

const COMPACT: KernelName[] = [
  "boxcar",
  "epanechikov",
  "triangular",
  "epanechnikov",
  "biweight",
  "tricube",
  "cosine",
];

describe("compact kernels: exact, like the dense estimate", () => {
  // Unsorted keys with a run of duplicates, two value columns, queries beyond both ends.
  const x = column("w-keys", 300, 0, 10);
  x.splice(40, 3, x[7]!, x[7]!, x[7]!);
  const v = uniformMatrix("w-values", 300, 2, -3, 5).map((r) => r.map(Math.fround));
  const queries = column("w-queries", 60, -0.5, 10.5);
  const range = 8;
  for (const kernel of COMPACT) {
    for (const sigma of [0.05, 0.4, 3]) {
      for (const [path, directWindow] of [
        ["moment tree", 0],
        ["direct sums", Infinity],
      ] as const) {
        test(`${kernel}, σ = ${sigma}, ${path}: matches a float64 loop within 1e-6 of the value range`, () => {
          const ref = referenceNW(
            x.map((k) => [k]),
            v,
            queries.map((q) => [q]),
            REFERENCE_PROFILES[kernel]!,
            [sigma],
          ).predictions;
          const { predictions } = windowedNadarayaWatson(x, v, queries, kernel, {
            sigma,
            directWindow,
            onEmpty: "nan",
          });
          const got = take(predictions);
          const expected = ref.flat(); // NaN where no key is in the support (0/0)
          for (let i = 0; i < expected.length; i++) {
            const e = expected[i]!;
            const g = got[i]!;
            if (Number.isNaN(e))
              assert.ok(Number.isNaN(g), `query ${i >> 1}: expected no key in the window, got ${g}`);
            else assert.ok(Math.abs(g - e) <= 1e-6 * range, `query ${i >> 1}, column ${i & 1}: ${g} vs ${e}`);
          }
        });
      }
    }
  }

  test("agrees with nadarayaWatson (float32) on a sorted grid of keys", () => {
    const keys = Array.from({ length: 2000 }, (_, i) => i / 400);
    const values = keys.map((k) => Math.fround(2 * Math.sin(k) + k));
    const qs = Array.from({ length: 500 }, (_, i) => Math.fround(0.003 + i / 100));
    for (const kernel of ["epanechnikov", "tricube", "boxcar"] as const) {
      // σ = 0.2 puts about 160 keys in each window, past the direct-sum threshold.
      const dense = take(nadarayaWatson(keys, values, qs, kernel, { sigma: 0.2 }).predictions);
      const windowed = windowedNadarayaWatson(keys, values, qs, kernel, { sigma: 0.2 });
      assertClose(take(windowed.predictions), dense, 1e-5, 1e-5, kernel);
      assert.ok(windowed.treeNodes > 0, `${kernel}: the moment tree was used`);
    }
  });

  test("the moment tree visits O(log n) nodes per query and sums no pair directly", () => {
    const n = 4096;
    const keys = Array.from({ length: n }, (_, i) => i / n);
    const values = keys.map((k) => k * k);
    const qs = Array.from({ length: 100 }, (_, i) => 0.2 + i / 200);
    const { predictions, treeNodes, directPairs } = windowedNadarayaWatson(keys, values, qs, "biweight", {
      sigma: 0.15,
      directWindow: 0,
    });
    predictions.dispose();
    assert.equal(directPairs, 0);
    // Two sides per query, each at most 2 log2(n) nodes.
    assert.ok(treeNodes <= 100 * 4 * Math.log2(n), `${treeNodes} nodes`);
  });
});

/**
 * The untruncated Gaussian estimate in float64, with weights relative to the nearest key
 * (exp(−(u² − u_min²)/2)) so that far queries do not underflow to 0/0.
 */
function gaussianReference(x: number[], v: number[], queries: number[], sigma: number): number[] {
  return queries.map((q) => {
    const u2 = x.map((k) => ((k - q) / sigma) ** 2);
    const min = Math.min(...u2);
    let num = 0;
    let den = 0;
    u2.forEach((u, j) => {
      const w = Math.exp(-(u - min) / 2);
      num += w * v[j]!;
      den += w;
    });
    return num / den;
  });
}

describe("truncated Gaussian: within tolerance × value range", () => {
  const x = column("g-keys", 400, 0, 5);
  const v = x.map((k) => Math.fround(2 * Math.sin(k) + k));
  const range = Math.max(...v) - Math.min(...v);
  const queries = column("g-queries", 80, -1, 6);
  for (const sigma of [0.02, 0.1, 0.5]) {
    const ref = gaussianReference(x, v, queries, sigma);
    for (const tolerance of [1e-1, 1e-3, DEFAULT_WINDOW_TOLERANCE]) {
      test(`σ = ${sigma}, tolerance ${tolerance}: every prediction within the bound of the full sum`, () => {
        const { predictions, directPairs } = windowedNadarayaWatson(x, v, queries, "gaussian", {
          sigma,
          tolerance,
        });
        const got = take(predictions);
        // float32 output adds at most a few ulps of the value size.
        const bound = tolerance * range + 4e-7 * 7;
        let worst = 0;
        got.forEach((g, i) => (worst = Math.max(worst, Math.abs(g - ref[i]!))));
        assert.ok(worst <= bound, `max error ${worst} > ${bound}`);
        if (sigma <= 0.1) assert.ok(directPairs < 400 * 80, `the window skipped keys (${directPairs} pairs)`);
      });
    }
  }

  test("queries far from every key get the nearest key's value, as the dense path gives", () => {
    const { predictions } = windowedNadarayaWatson(
      [0, 0.5, 1, 1.5, 2],
      [3, -1, 4, 1, -5],
      [3, -7],
      "gaussian",
      {
        sigma: 0.05,
      },
    );
    assert.deepEqual(take(predictions), [-5, 3]);
  });

  test("agrees with nadarayaWatson (float32) at the default tolerance", () => {
    const dense = take(nadarayaWatson(x, v, queries, "gaussian", { sigma: 0.1 }).predictions);
    const windowed = take(windowedNadarayaWatson(x, v, queries, "gaussian", { sigma: 0.1 }).predictions);
    assertClose(windowed, dense, 2e-5, 2e-5, "gaussian");
  });
});

describe("empty windows and inputs", () => {
  const keys = [0, 1, 2, 3];
  const values = [10, 11, 12, 13];

  test("onEmpty 'throw' names the first query with no key in the support", () => {
    assertThrowsClean(
      () => windowedNadarayaWatson(keys, values, [1.5, 7, -4], "epanechnikov", { sigma: 0.6 }),
      "windowedNadarayaWatson: 2 of 3 queries have no key inside the epanechnikov kernel's support " +
        "(first: query 1 at 7); widen sigma, or pass onEmpty: 'nan' or 'nearest'.",
    );
  });

  test("onEmpty 'nan' and 'nearest' match the dense path", () => {
    for (const onEmpty of ["nan", "nearest"] as const) {
      const dense = take(
        nadarayaWatson(keys, values, [1.2, 7, -4, 1.5], "boxcar", { sigma: 0.3, onEmpty }).predictions,
      );
      const got = take(
        windowedNadarayaWatson(keys, values, [1.2, 7, -4, 1.5], "boxcar", { sigma: 0.3, onEmpty })
          .predictions,
      );
      assert.deepEqual(got, dense, onEmpty);
    }
  });

  test("permuting keys with their values changes nothing", () => {
    const a = take(
      windowedNadarayaWatson([3, 0, 2, 1], [13, 10, 12, 11], [0.4, 2.2], "triangular", { sigma: 1.5 })
        .predictions,
    );
    const b = take(
      windowedNadarayaWatson(keys, values, [0.4, 2.2], "triangular", { sigma: 1.5 }).predictions,
    );
    assertClose(a, b, 1e-7, 1e-6, "permuted");
  });

  test("returns [m, k] for [n, k] values and leaks no tensors", () => {
    assertNoLeak("windowed", () => {
      const { predictions } = windowedNadarayaWatson(
        keys,
        [
          [1, 2],
          [3, 4],
          [5, 6],
          [7, 8],
        ],
        [1, 2],
        "gaussian",
      );
      assert.deepEqual(predictions.shape, [2, 2]);
      return predictions;
    });
    const before = tf.memory().numTensors;
    assertThrowsClean(
      () => windowedNadarayaWatson([[0, 1]], [1], [[0, 1]]),
      "windowedNadarayaWatson: keys must be one-dimensional ([n] or [n, 1]), got shape [1, 2].",
    );
    assert.equal(tf.memory().numTensors, before);
  });

  test("rejects two-dimensional keys, kernels without a window, and bad options, naming the value", () => {
    assertThrowsClean(
      () =>
        windowedNadarayaWatson(
          [
            [0, 1],
            [1, 2],
          ],
          [1, 2],
          [[0, 0]],
        ),
      "windowedNadarayaWatson: keys must be one-dimensional ([n] or [n, 1]), got shape [2, 2].",
    );
    assertThrowsClean(
      () => windowedNadarayaWatson(keys, values, [1], "constant"),
      'windowedNadarayaWatson: kernel constant has unbounded support and no truncation rule; use a compact kernel, "gaussian", or nadarayaWatson.',
    );
    assertThrowsClean(
      () => windowedNadarayaWatson(keys, values, [1], "gaussian", { tolerance: 2 }),
      "windowedNadarayaWatson: options.tolerance must be a number in (0, 1), got 2.",
    );
    assertThrowsClean(
      () => windowedNadarayaWatson(keys, values, [1], "gaussian", { sigma: -1 }),
      "windowedNadarayaWatson: options.sigma must be finite and > 0, got -1.",
    );
  });
});
