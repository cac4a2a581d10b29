// The claims the tutorial notebook makes in prose about its seeded data, checked here so that a
// change in lib or in the data cannot silently make the notebook's text false.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";

import {
  TUTORIAL_KERNELS,
  attentionWeights,
  errorSummary,
  initBackend,
  loadTutorialData,
  nadarayaWatson,
  tf,
  type KernelName,
} from "../../lib/src/index";

before(async () => {
  await initBackend({ quiet: true });
});

const data = loadTutorialData();

function errorOf(kernel: KernelName, sigma: number) {
  const { predictions } = nadarayaWatson(data.xTrain, data.yTrain, data.xVal, kernel, { sigma });
  try {
    return errorSummary(predictions, data.yVal, data.xVal);
  } finally {
    predictions.dispose();
  }
}

describe("the tutorial notebook's claims hold on the shipped data", () => {
  test("of the four kernels at σ = 1, the tent is best and the constant kernel worst", () => {
    const mse = Object.fromEntries(TUTORIAL_KERNELS.map((k) => [k, errorOf(k, 1).mse]));
    const sorted = [...TUTORIAL_KERNELS].sort((a, b) => mse[a]! - mse[b]!);
    assert.equal(sorted[0], "epanechikov", JSON.stringify(mse));
    assert.equal(sorted[3], "constant", JSON.stringify(mse));
  });

  test("the constant kernel predicts the mean of the 40 training values", () => {
    const { predictions } = nadarayaWatson(data.xTrain, data.yTrain, data.xVal, "constant");
    const mean = data.yTrain.reduce((a, b) => a + b, 0) / data.yTrain.length;
    for (const p of predictions.dataSync()) assert.ok(Math.abs(p - mean) < 1e-5);
    predictions.dispose();
  });

  test("the Gaussian at σ = 1 is worst at the left boundary, x = 0, and too high there", () => {
    const e = errorOf("gaussian", 1);
    assert.equal(e.worstAt, 0);
    const { predictions } = nadarayaWatson(data.xTrain, data.yTrain, [0], "gaussian", { sigma: 1 });
    assert.ok(predictions.dataSync()[0]! > data.yVal[0]! + 1);
    predictions.dispose();
  });

  test("of the widths 0.1, 0.2, 0.5 and 1, σ = 0.5 has the lowest error, and both extremes are worse than 0.2", () => {
    const mse = [0.1, 0.2, 0.5, 1].map((s) => errorOf("gaussian", s).mse);
    assert.equal(Math.min(...mse), mse[2]);
    assert.ok(mse[0]! > mse[1]! && mse[3]! > mse[1]!, JSON.stringify(mse));
  });

  test("at σ = 0.1 some query puts more than 90% of its weight on one key; at σ = 1 none puts more than 20%", () => {
    const narrow = attentionWeights(data.xTrain, data.xVal, "gaussian", { sigma: 0.1 });
    const wide = attentionWeights(data.xTrain, data.xVal, "gaussian", { sigma: 1 });
    assert.ok(tf.max(narrow).dataSync()[0]! > 0.9);
    assert.ok(tf.max(wide).dataSync()[0]! < 0.2);
    tf.dispose([narrow, wide]);
  });

  test("σ = 0.1 is about the mean gap between neighbouring keys, and the widest gap is near x ≈ 3.9", () => {
    const gaps = data.xTrain.slice(1).map((x, i) => x - data.xTrain[i]!);
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    assert.ok(mean > 0.08 && mean < 0.15, String(mean));
    const widest = Math.max(...gaps);
    const at = gaps.indexOf(widest);
    assert.ok(Math.abs(widest - 0.37) < 0.01, String(widest));
    assert.ok(Math.abs((data.xTrain[at]! + data.xTrain[at + 1]!) / 2 - 3.9) < 0.1);
  });
});
