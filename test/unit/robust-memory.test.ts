/**
 * Bad and extreme input, class 1: dense calls too large for the backend (lib/src/memory.ts and
 * its callers in nadaraya_watson.ts, attention.ts, parzen.ts, loss_engine.ts). Each is refused
 * before anything is allocated, with the size and the alternative, and the next call works.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";

import {
  attentionWeights,
  initBackend,
  KERNEL_NAMES,
  KERNELS,
  nadarayaWatson,
  parzenDensity,
  scaledDotProductAttention,
  tf,
} from "../../lib/src/index";
import { availableBytes, denseTemporaries } from "../../lib/src/memory";
import { assertClose, assertThrowsClean, referenceNW, take } from "./helpers";

before(async () => {
  await initBackend({ quiet: true });
});

/** A side length whose square needs more than the backend's budget for `kernel` (or the dot-product softmax). */
function tooBig(temporaries: number): number {
  return Math.ceil(Math.sqrt(availableBytes() / (4 * temporaries))) + 1000;
}

/** The next call after a refusal: a small prediction against the float64 reference. */
function nextCallWorks(): void {
  const keys = [0, 0.5, 1, 1.5, 2];
  const values = [1, 3, 2, 5, 4];
  const got = take(nadarayaWatson(keys, values, [0.25, 1.2], "gaussian", { sigma: 0.4 }).predictions);
  const want = referenceNW(
    keys.map((k) => [k]),
    values.map((v) => [v]),
    [[0.25], [1.2]],
    (r) => Math.exp(-0.5 * r * r),
    [0.4],
  );
  assertClose(got, want.predictions.flat(), 1e-5, 1e-6, "the call after the refusal");
}

const SIZE =
  /needs about \d+\.\d GiB at its peak on the (wasm|cpu|tensorflow) backend, more than the \d+\.\d GiB available/;

describe("dense calls that would not fit are refused before they start", () => {
  test("the issue's first example: epanechikov weights too large for the backend", () => {
    // 10 000² on wasm once was; weights normalised directly need 4 temporaries, not 10.5, so the
    // size is taken from the estimate on every backend.
    const n = tooBig(denseTemporaries(KERNELS.epanechikov, 1, true));
    const keys = new Float32Array(n).map((_, i) => i / n);
    const before = tf.memory().numTensors;
    assertThrowsClean(
      () => nadarayaWatson(keys, keys, keys, "epanechikov", { returnWeights: true, sigma: 0.1 }),
      new RegExp(
        `^nadarayaWatson: a ${n} × ${n} weight matrix ${SIZE.source}; omit returnWeights to evaluate in chunks, or pass fewer queries\\.$`,
      ),
    );
    assert.equal(tf.memory().numTensors, before, "nothing left behind");
    nextCallWorks();
  });

  test("the issue's second example: attentionWeights at 24 000², which had no cap", () => {
    const n = Math.max(24000, tooBig(denseTemporaries(KERNELS.gaussian, 1)));
    const keys = new Float32Array(n).map((_, i) => i / n);
    const before = tf.memory().numTensors;
    assertThrowsClean(
      () => attentionWeights(keys, keys, "gaussian", { sigma: 0.1 }),
      new RegExp(
        `^attentionWeights: a ${n} × ${n} weight matrix ${SIZE.source}; pass fewer queries per call, or call nadarayaWatson without returnWeights for predictions in chunks\\.$`,
      ),
    );
    assert.equal(tf.memory().numTensors, before, "nothing left behind");
    nextCallWorks();
  });

  test("scaled dot-product attention, Parzen with a huge chunk, and a huge chunk for Nadaraya-Watson", () => {
    const big = tooBig(denseTemporaries(undefined, 1));
    const flatBig = new Float32Array(big).map((_, i) => i / big);
    const pointsBig = Array.from(flatBig, (v) => [v, 1 - v]);
    assertThrowsClean(
      () => scaledDotProductAttention(pointsBig, flatBig, pointsBig),
      new RegExp(
        `^scaledDotProductAttention: a ${big} × ${big} weight matrix ${SIZE.source}; pass fewer queries per call\\.$`,
      ),
    );
    const n = tooBig(denseTemporaries(KERNELS.cosine, 2));
    const flat = new Float32Array(n).map((_, i) => i / n);
    const points = Array.from(flat, (v) => [v, 1 - v]);
    assertThrowsClean(
      () => parzenDensity(points, points, "cosine", { chunkSize: n }),
      new RegExp(
        `^parzenLogDensity: a ${n} × ${n} weight matrix ${SIZE.source}; pass a smaller options\\.chunkSize\\.$`,
      ),
    );
    // Nadaraya-Watson normalises the cosine's weights directly, with fewer temporaries.
    const nw = tooBig(denseTemporaries(KERNELS.cosine, 2, true));
    const nwFlat = new Float32Array(nw).map((_, i) => i / nw);
    const nwPoints = Array.from(nwFlat, (v) => [v, 1 - v]);
    assertThrowsClean(
      () => nadarayaWatson(nwPoints, nwFlat, nwPoints, "cosine", { chunkSize: nw }),
      new RegExp(
        `^nadarayaWatson: a ${nw} × ${nw} weight matrix ${SIZE.source}; pass a smaller options\\.chunkSize\\.$`,
      ),
    );
    nextCallWorks();
  });

  test("the estimate counts each kernel's measured temporaries, more for more dimensions", async () => {
    assert.ok(denseTemporaries(KERNELS.gaussian, 1) < denseTemporaries(KERNELS.boxcar, 1));
    assert.ok(denseTemporaries(KERNELS.boxcar, 1, true) < denseTemporaries(KERNELS.boxcar, 1));
    assert.ok(denseTemporaries(KERNELS.gaussian, 1) < denseTemporaries(KERNELS.gaussian, 3));
    assert.ok(denseTemporaries(KERNELS.gaussian, 3) < denseTemporaries(KERNELS.gaussian, 8));
    // Measured peaks of Nadaraya-Watson's dense step over 800 × 1000 pairs, every kernel and every
    // dense path (weights, chunked predictions, weights alone): within the estimate, and not far
    // below it (an estimate too high refuses calls that would fit).
    const keys = new Float32Array(1000).map((_, i) => i / 1000);
    const queries = keys.subarray(0, 800);
    for (const name of KERNEL_NAMES) {
      const kernel = KERNELS[name];
      const estimate = denseTemporaries(kernel, 1, kernel.weight !== undefined);
      let worst = 0;
      for (const path of ["weights", "chunked", "attentionWeights"]) {
        const before = tf.memory().numBytes;
        const info = await tf.profile(() => {
          if (path === "attentionWeights") attentionWeights(keys, queries, name, { sigma: 0.2 }).dispose();
          else {
            const options =
              path === "weights" ? { returnWeights: true, sigma: 0.2 } : { chunkSize: 800, sigma: 0.2 };
            const r = nadarayaWatson(keys, keys, queries, name, options);
            tf.dispose([r.predictions, ...(r.weights ? [r.weights] : [])]);
          }
        });
        worst = Math.max(worst, (info.peakBytes - before) / (800 * 1000 * 4));
      }
      assert.ok(worst <= estimate, `${name}: measured ${worst.toFixed(2)} temporaries, estimate ${estimate}`);
      assert.ok(estimate <= 1.5 * worst, `${name}: estimate ${estimate} for ${worst.toFixed(2)} measured`);
    }
  });
});
