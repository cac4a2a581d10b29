/**
 * Bad and extreme input, class 2: typed arrays (lib/src/validate.ts, read by every public call
 * that takes data). Every numeric typed array gives exactly the result of the same numbers as a
 * plain array.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";

import {
  attentionWeights,
  fitBandwidth,
  initBackend,
  looLoss,
  nadarayaWatson,
  parzenClassifier,
  parzenDensity,
  windowedNadarayaWatson,
} from "../../lib/src/index";
import { take } from "./helpers";

before(async () => {
  await initBackend({ quiet: true });
});

// Small integers, so that every type below holds them exactly.
const KEYS = [0, 2, 3, 7, 8, 11, 12, 15];
const VALUES = [4, 9, 1, 6, 6, 2, 8, 3];
const QUERIES = [1, 5, 9, 14];
const TYPES = [
  Float64Array,
  Float32Array,
  Int32Array,
  Int16Array,
  Int8Array,
  Uint32Array,
  Uint16Array,
  Uint8Array,
  Uint8ClampedArray,
];

describe("every numeric typed array works in every call that takes data", () => {
  for (const Type of TYPES) {
    test(`${Type.name}`, () => {
      const k = Type.from(KEYS);
      const v = Type.from(VALUES);
      const q = Type.from(QUERIES);
      const same = (got: number[], want: number[], what: string) =>
        assert.deepEqual(got, want, `${Type.name}: ${what}`);
      same(
        take(nadarayaWatson(k, v, q, "gaussian", { sigma: 2 }).predictions),
        take(nadarayaWatson(KEYS, VALUES, QUERIES, "gaussian", { sigma: 2 }).predictions),
        "nadarayaWatson",
      );
      same(
        take(attentionWeights(k, q, "epanechnikov", { sigma: 3 })),
        take(attentionWeights(KEYS, QUERIES, "epanechnikov", { sigma: 3 })),
        "attentionWeights",
      );
      same(
        take(windowedNadarayaWatson(k, v, q, "boxcar", { sigma: 3 }).predictions),
        take(windowedNadarayaWatson(KEYS, VALUES, QUERIES, "boxcar", { sigma: 3 }).predictions),
        "windowedNadarayaWatson",
      );
      assert.equal(
        looLoss(k, v, "gaussian", { sigma: 2 }),
        looLoss(KEYS, VALUES, "gaussian", { sigma: 2 }),
        `${Type.name}: looLoss`,
      );
      same(
        fitBandwidth(k, v, "gaussian", { maxIterations: 3 }).sigma,
        fitBandwidth(KEYS, VALUES, "gaussian", { maxIterations: 3 }).sigma,
        "fitBandwidth",
      );
      same(
        take(parzenDensity(k, q, "gaussian", { sigma: 2 })),
        take(parzenDensity(KEYS, QUERIES, "gaussian", { sigma: 2 })),
        "parzenDensity",
      );
      const labels = Type.from([0, 0, 0, 1, 1, 1, 1, 0]);
      same(
        take(parzenClassifier(k, labels, q, "gaussian", { sigma: 2 }).labels),
        take(parzenClassifier(KEYS, [0, 0, 0, 1, 1, 1, 1, 0], QUERIES, "gaussian", { sigma: 2 }).labels),
        "parzenClassifier",
      );
      same(
        take(nadarayaWatson(KEYS, VALUES, QUERIES, "gaussian", { sigma: Type.from([2]) }).predictions),
        take(nadarayaWatson(KEYS, VALUES, QUERIES, "gaussian", { sigma: 2 }).predictions),
        "sigma",
      );
    });
  }

  test("rows of typed arrays are points in d dimensions", () => {
    const rows = [Float64Array.from([0, 1]), Float64Array.from([2, 3]), Float64Array.from([4, 1])];
    const plain = rows.map((r) => Array.from(r));
    assert.deepEqual(
      take(
        nadarayaWatson(rows, [1, 2, 3], [Float64Array.from([1, 1])], "gaussian", { sigma: 1.5 }).predictions,
      ),
      take(nadarayaWatson(plain, [1, 2, 3], [[1, 1]], "gaussian", { sigma: 1.5 }).predictions),
    );
  });

  test("a BigInt array is not numeric data", () => {
    assert.throws(() => nadarayaWatson(BigInt64Array.from([1n, 2n]) as unknown as number[], [1, 2], [1]), {
      message:
        "nadarayaWatson: keys must be a tensor, an array or a typed array, got BigInt64Array of length 2.",
    });
  });
});
