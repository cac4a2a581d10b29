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
  test("the issue's first example: epanechikov weights at 10 000² on wasm (scaled to the budget elsewhere)", () => {
    const n = tf.getBackend() === "wasm" ? 10000 : tooBig(denseTemporaries(KERNELS.epanechikov, 1));
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
    assertThrowsClean(
      () => nadarayaWatson(points, flat, points, "cosine", { chunkSize: n }),
      new RegExp(
        `^nadarayaWatson: a ${n} × ${n} weight matrix ${SIZE.source}; pass a smaller options\\.chunkSize\\.$`,
      ),
    );
    nextCallWorks();
  });

  test("the estimate counts each kernel's measured temporaries, more for compact kernels and more dimensions", () => {
    assert.ok(denseTemporaries(KERNELS.gaussian, 1) < denseTemporaries(KERNELS.boxcar, 1));
    assert.ok(denseTemporaries(KERNELS.boxcar, 1) < denseTemporaries(KERNELS.epanechikov, 1));
    assert.ok(denseTemporaries(KERNELS.gaussian, 1) < denseTemporaries(KERNELS.gaussian, 3));
    assert.ok(denseTemporaries(KERNELS.gaussian, 3) < denseTemporaries(KERNELS.gaussian, 8));
    // A measured peak: a Gaussian step over 800 × 1000 pairs stays within the estimate.
    const keys = new Float32Array(1000).map((_, i) => i / 1000);
    const queries = keys.subarray(0, 800);
    const before = tf.memory().numBytes;
    return tf
      .profile(() => {
        const r = nadarayaWatson(keys, keys, queries, "gaussian", { returnWeights: true, sigma: 0.2 });
        tf.dispose([r.predictions, r.weights]);
      })
      .then((info) => {
        const perPair = (info.peakBytes - before) / (800 * 1000 * 4);
        assert.ok(perPair <= denseTemporaries(KERNELS.gaussian, 1), `measured ${perPair} temporaries`);
      });
  });
});
