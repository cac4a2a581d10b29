/**
 * Bad and extreme input, class 3: precision lost before the math starts (lib/src/validate.ts's
 * centring, and the blocked sums in lib/src/nadaraya_watson.ts). Every kernel depends on q − k
 * only, so points with a large common offset must give what float64 gives, to within float32
 * precision of the differences; and sums over very many keys must not drift.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";

import {
  initBackend,
  looLoss,
  nadarayaWatson,
  parzenDensity,
  seededRandom,
  windowedNadarayaWatson,
} from "../../lib/src/index";
import { take } from "./helpers";

before(async () => {
  await initBackend({ quiet: true });
});

/** Gaussian Nadaraya-Watson in float64, with the row maximum subtracted. */
function reference(keys: number[], values: number[], queries: number[], sigma: number): number[] {
  return queries.map((q) => {
    const logits = keys.map((k) => -((q - k) ** 2) / (2 * sigma * sigma));
    let top = -Infinity;
    for (const l of logits) top = Math.max(top, l);
    let num = 0;
    let den = 0;
    logits.forEach((l, j) => {
      const w = Math.exp(l - top);
      num += w * values[j]!;
      den += w;
    });
    return num / den;
  });
}

const maxAbs = (a: number[], b: number[]): number => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));

describe("keys with a large common offset keep their spacing", () => {
  // Values in [−1, 1]; float32 keeps about 7 digits of the differences (a few units of 10⁻²),
  // so the predictions must agree to about 10⁻⁶ of the value range, not 0.16 as before.
  const cases = [
    {
      name: "positions 10⁶ + 0.01·i",
      keys: Array.from({ length: 300 }, (_, i) => 1e6 + 0.01 * i),
      sigma: 0.03,
    },
    {
      name: "Unix timestamps in seconds, one minute apart",
      keys: Array.from({ length: 300 }, (_, i) => 1.7e9 + 60 * i),
      sigma: 150,
    },
  ];
  for (const c of cases) {
    const span = c.keys[c.keys.length - 1]! - c.keys[0]!;
    const values = c.keys.map((_, i) => Math.sin(i / 7));
    const queries = Array.from({ length: 40 }, (_, i) => c.keys[0]! + (span * (i + 0.37)) / 40);
    const want = reference(c.keys, values, queries, c.sigma);
    test(`${c.name}: dense, windowed and chunked Nadaraya-Watson`, () => {
      const dense = take(nadarayaWatson(c.keys, values, queries, "gaussian", { sigma: c.sigma }).predictions);
      assert.ok(maxAbs(dense, want) < 2e-6, `dense error ${maxAbs(dense, want)}`);
      const chunked = take(
        nadarayaWatson(c.keys, values, queries, "gaussian", { sigma: c.sigma, chunkSize: 7 }).predictions,
      );
      assert.ok(maxAbs(chunked, want) < 2e-6, `chunked error ${maxAbs(chunked, want)}`);
      const windowed = take(
        windowedNadarayaWatson(c.keys, values, queries, "gaussian", { sigma: c.sigma }).predictions,
      );
      assert.ok(maxAbs(windowed, want) < 2e-6, `windowed error ${maxAbs(windowed, want)}`);
    });
    test(`${c.name}: the leave-one-out loss and the Parzen density`, () => {
      // Shifting keys and queries together changes neither, so the offset version must match
      // the same points near 0 to float32 precision.
      const near0 = c.keys.map((k) => k - c.keys[0]!);
      const q0 = queries.map((q) => q - c.keys[0]!);
      const a = looLoss(c.keys, values, "gaussian", { sigma: c.sigma });
      const b = looLoss(near0, values, "gaussian", { sigma: c.sigma });
      assert.ok(Math.abs(a / b - 1) < 1e-5, `looLoss ${a} against ${b}`);
      const pa = take(parzenDensity(c.keys, queries, "gaussian", { sigma: c.sigma }));
      const pb = take(parzenDensity(near0, q0, "gaussian", { sigma: c.sigma }));
      pa.forEach((v, i) => assert.ok(Math.abs(v / pb[i]! - 1) < 1e-4, `density ${i}: ${v} against ${pb[i]}`));
    });
  }
});

describe("sums over very many keys do not drift", () => {
  test("10⁶ keys: predictions within 2·10⁻⁵ relative of float64", () => {
    const n = 1_000_000;
    const rng = seededRandom("many-keys");
    const keys = Array.from({ length: n }, () => rng.uniform());
    // Values with a large mean make the relative error of the sums show.
    const values = keys.map((x) => 2 + Math.sin(6 * x));
    const queries = [0.05, 0.3, 0.5, 0.77, 0.95];
    for (const sigma of [0.5, 0.05]) {
      const want = reference(keys, values, queries, sigma);
      const got = take(nadarayaWatson(keys, values, queries, "gaussian", { sigma }).predictions);
      got.forEach((v, i) =>
        assert.ok(Math.abs(v / want[i]! - 1) <= 2e-5, `σ = ${sigma}, query ${i}: ${v} against ${want[i]}`),
      );
    }
  });
});
