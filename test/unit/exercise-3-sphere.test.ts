/**
 * Exercise 3's notebook claims about its figures and the 1/√d scale, from the same lib functions
 * the notebook and `npm run figures` call.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";

import {
  attentionScalingFigure,
  attentionPeakedness,
  attentionWeightTolerance,
  circleAttentionFigure,
  circlePoints,
  dotProductVariance,
  initBackend,
  SCALING_DIMS,
  tf,
} from "../../lib/src/index";
import { renderSvgWithWarnings } from "../../lib/src/figures/render";

before(async () => {
  await initBackend({ quiet: true });
});

describe("exercise 3: attention maps on the unit circle", () => {
  test("the two panels hold the same weights within the float32 tolerance at σ² = 0.1", () => {
    const f = circleAttentionFigure({ sigma2: 0.1 });
    const [nw, dot] = f.panels;
    assert.equal(nw!.nQueries, 50);
    assert.equal(nw!.nKeys, 40);
    let diff = 0;
    nw!.weights.forEach((row, i) =>
      row.forEach((w, j) => (diff = Math.max(diff, Math.abs(w - dot!.weights[i]![j]!)))),
    );
    assert.ok(diff <= attentionWeightTolerance(0.1), `max difference ${diff}`);
    for (const row of nw!.weights) assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5);
  });

  test("each query attends most to the key nearest in angle (a diagonal band that wraps around)", () => {
    const { keys, queries } = circlePoints();
    const f = circleAttentionFigure();
    f.panels[1]!.weights.forEach((row, i) => {
      const q = queries[i]!;
      const dots = keys.map((k) => k[0]! * q[0]! + k[1]! * q[1]!);
      assert.equal(row.indexOf(Math.max(...row)), dots.indexOf(Math.max(...dots)), `query ${i}`);
    });
    const angles = keys.map((k) => Math.atan2(k[1]!, k[0]!));
    assert.ok(
      angles.every((a, i) => i === 0 || a >= angles[i - 1]!),
      "keys are sorted by angle",
    );
  });

  test("circleAttentionFigure leaks no tensors and rejects a bad temperature", () => {
    const before = tf.memory().numTensors;
    circleAttentionFigure();
    assert.equal(tf.memory().numTensors, before);
    assert.throws(
      () => circleAttentionFigure({ sigma2: -1 }),
      (e: Error) => e.message === "circleAttentionFigure: options.sigma2 must be finite and > 0, got -1.",
    );
  });
});

describe("exercise 3: why transformers divide by √d", () => {
  test("q·k has variance ≈ d (within 5%) for d in {2, 16, 128}", () => {
    for (const d of [2, 16, 128]) {
      const dotVariance = dotProductVariance(d);
      assert.ok(Math.abs(dotVariance / d - 1) < 0.05, `d = ${d}: variance ${dotVariance}`);
    }
  });

  test("unscaled attention collapses onto one key as d grows; scaled by 1/√d it does not", () => {
    const stats = SCALING_DIMS.map((d) => attentionPeakedness(d));
    const first = stats[0]!;
    const last = stats[stats.length - 1]!;
    assert.equal(first.maxWeightScaled, first.maxWeightUnscaled, "d = 1: the two scales coincide");
    assert.ok(last.maxWeightUnscaled > 0.85, `d = 1024 unscaled: ${last.maxWeightUnscaled}`);
    for (const s of stats) {
      assert.ok(
        s.maxWeightScaled > 0.03 && s.maxWeightScaled < 0.12,
        `d = ${s.d} scaled: ${s.maxWeightScaled}`,
      );
    }
  });

  test("attentionPeakedness leaks no tensors and rejects a bad dimension", () => {
    const before = tf.memory().numTensors;
    attentionPeakedness(8, 20);
    assert.equal(tf.memory().numTensors, before);
    assert.throws(
      () => attentionPeakedness(0),
      (e: Error) => e.message === "attentionPeakedness: d must be a positive integer, got 0.",
    );
  });

  test("attentionWeightTolerance is 1e-6 · max(1, 1/T)", () => {
    assert.equal(attentionWeightTolerance(4), 1e-6);
    assert.equal(attentionWeightTolerance(1), 1e-6);
    assert.ok(Math.abs(attentionWeightTolerance(0.01) - 1e-4) < 1e-18);
    assert.throws(
      () => attentionWeightTolerance(0),
      (e: Error) => e.message === "attentionWeightTolerance: temperature must be finite and > 0, got 0.",
    );
  });
});

describe("exercise 3: figures", () => {
  test("both figures render without vega warnings", async () => {
    for (const [name, figure] of [
      ["circle attention", circleAttentionFigure()],
      ["attention scaling", attentionScalingFigure()],
    ] as const) {
      const { warnings } = await renderSvgWithWarnings(figure);
      assert.deepEqual(warnings, [], name);
    }
    const scaling = attentionScalingFigure();
    assert.equal(scaling.panels[0]!.series[0]!.x.length, SCALING_DIMS.length);
  });
});
