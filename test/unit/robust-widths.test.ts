/**
 * Bad and extreme input, class 4: extreme widths (lib/src/distance.ts, lib/src/empty.ts and the
 * loss engine). A width that passes validation, however small, gives the σ → 0 limit: the
 * nearest key's value, tied keys averaged; never NaN or ∞.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";

import {
  attentionWeights,
  initBackend,
  looLoss,
  nadarayaWatson,
  parzenClassifier,
  windowedNadarayaWatson,
} from "../../lib/src/index";
import { take } from "./helpers";

before(async () => {
  await initBackend({ quiet: true });
});

// Two keys at 1 (a tie), one at 0, 2 and 3.
const KEYS = [0, 1, 1, 2, 3];
const VALUES = [10, 20, 40, 50, 60];
// Query 0.5 is equally far from 0 and from both 1s: the limit averages all three.
const QUERIES = [1, 1.4, 2.5, 0.5, 3.2];
const LIMIT = [30, 30, 55, (10 + 20 + 40) / 3, 60];
const TINY = [1e-20, 1e-40, 1e-50]; // 1e-50 is 0 in float32

describe("a tiny width gives the nearest key's value, ties averaged", () => {
  for (const sigma of TINY) {
    test(`σ = ${sigma}: nadarayaWatson and attentionWeights`, () => {
      const got = take(nadarayaWatson(KEYS, VALUES, QUERIES, "gaussian", { sigma }).predictions);
      got.forEach((v, i) =>
        assert.ok(Math.abs(v - LIMIT[i]!) < 1e-4, `query ${QUERIES[i]}: ${v}, limit ${LIMIT[i]}`),
      );
      const w = take(attentionWeights(KEYS, [0.5, 1], "gaussian", { sigma }));
      const third = 1 / 3;
      const want = [third, third, third, 0, 0, 0, 0.5, 0.5, 0, 0];
      w.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 1e-6, `weight ${i}: ${v}, want ${want[i]}`));
    });
    test(`σ = ${sigma}: looLoss is the nearest-neighbour error, finite`, () => {
      // Leave-one-out nearest neighbours (ties averaged): 0 → the two 1s (30), each 1 → the other
      // 1 (40, 20), 2 → the two 1s and 3 tie at distance 1 (avg of 20, 40, 60 = 40), 3 → 2 (50).
      const predicted = [30, 40, 20, 40, 50];
      const want = predicted.reduce((s, p, i) => s + (p - VALUES[i]!) ** 2, 0) / VALUES.length;
      const got = looLoss(KEYS, VALUES, "gaussian", { sigma });
      assert.ok(Number.isFinite(got) && Math.abs(got / want - 1) < 1e-5, `looLoss ${got}, want ${want}`);
    });
  }
  test("a compact kernel with onEmpty 'nearest' averages tied keys, dense and windowed alike", () => {
    const queries = [0.5, 2.5];
    const want = [(10 + 20 + 40) / 3, 55];
    const dense = take(
      nadarayaWatson(KEYS, VALUES, queries, "boxcar", { sigma: 0.1, onEmpty: "nearest" }).predictions,
    );
    const windowed = take(
      windowedNadarayaWatson(KEYS, VALUES, queries, "boxcar", { sigma: 0.1, onEmpty: "nearest" }).predictions,
    );
    dense.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 1e-5, `dense ${i}: ${v}`));
    windowed.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) < 1e-5, `windowed ${i}: ${v}`));
  });
  test("Parzen at a tiny width: the nearest points' classes share the posterior", () => {
    const { posterior } = parzenClassifier(KEYS, [0, 0, 1, 1, 1], [0.5], "gaussian", { sigma: 1e-40 });
    // Nearest: key 0 (class 0) and the two 1s (classes 0 and 1), equally far.
    const p = take(posterior);
    assert.ok(Math.abs(p[0]! - 2 / 3) < 1e-5 && Math.abs(p[1]! - 1 / 3) < 1e-5, `posterior ${p}`);
  });
});
