/**
 * fit_bandwidth.ts: fitBandwidth's grid and descent, exercise 2's claims on the tutorial data
 * (training loss drives σ to 0, leave-one-out finds a finite σ*, one width per dimension), and
 * logSpace.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import seedrandom from "seedrandom";

import {
  bandwidthLossAndGradient,
  bandwidthLossCurve,
  fitBandwidth,
  heldOutLoss,
  initBackend,
  loadTutorialData,
  logSpace,
  tf,
} from "../../lib/src/index";
import { REFERENCE_PROFILES, assertNoLeak, assertThrowsClean, uniformMatrix } from "./helpers";
import { referenceLoss, assertNear, columns, twoWidthData } from "./loss-reference";

before(async () => {
  await initBackend({ quiet: true });
});

describe("exercise 2 on the tutorial data", () => {
  const { xTrain, yTrain, xVal, yVal } = loadTutorialData();
  const testMse = (sigma: number) => heldOutLoss(xTrain, yTrain, xVal, yVal, "gaussian", { sigma });

  test("(a) minimising the training loss drives σ toward 0: train loss → 0 while the test error rises", () => {
    const fit = fitBandwidth(xTrain, yTrain, "gaussian", { objective: "train", init: 0.5, maxStep: 0.25 });
    const sigmas = fit.path.sigma.map((s) => s[0]!);
    assert.ok(
      sigmas.every((s) => Number.isFinite(s) && s > 0),
      "σ path finite",
    );
    assert.ok(fit.path.loss.every(Number.isFinite), "loss path finite");
    fit.path.loss.forEach(
      (l, i) => i === 0 || assert.ok(l <= fit.path.loss[i - 1]!, `loss rose at step ${i}`),
    );
    assert.ok(fit.sigma[0]! < 1e-3, `σ ended at ${fit.sigma[0]}`);
    assert.ok(fit.loss < 1e-6, `training loss ended at ${fit.loss}`);
    const start = testMse(0.5);
    const end = testMse(fit.sigma[0]!);
    assert.ok(end > 5 * start, `test MSE ${start} at σ = 0.5, ${end} at the end`);
    assert.ok(end > 0.9, `test MSE ${end}: interpolating the noise costs about its variance`);
  });

  test("(b) LOO converges to a finite σ* within 1% of the argmin of a fine grid", () => {
    const fit = fitBandwidth(xTrain, yTrain);
    assert.ok(fit.converged, `stopped by ${fit.stopReason}`);
    const sigma = fit.sigma[0]!;
    assert.ok(sigma > 0.1 && sigma < 2, `σ* = ${sigma}`);
    // The grid: 2000 widths, 0.28% apart.
    const grid = logSpace(0.02, 5, 2000);
    const curve = bandwidthLossCurve(xTrain, yTrain, grid);
    const argmin = grid[curve.indexOf(Math.min(...curve))]!;
    assert.ok(Math.abs(sigma / argmin - 1) < 0.01, `σ* = ${sigma}, grid argmin ${argmin}`);
    // The same grid in float64.
    const ref = grid.map((s) =>
      referenceLoss(columns(xTrain), columns(yTrain), [s], REFERENCE_PROFILES.gaussian!, "loo"),
    );
    const refArgmin = grid[ref.indexOf(Math.min(...ref))]!;
    assert.ok(Math.abs(sigma / refArgmin - 1) < 0.01, `σ* = ${sigma}, float64 grid argmin ${refArgmin}`);
    assertNear(fit.loss, Math.min(...ref), 1e-5, 0, "LOO loss at σ*");
  });

  test("(b) the test error at σ* beats each of the tutorial's fixed widths 0.1, 0.2, 0.5, 1", () => {
    const sigma = fitBandwidth(xTrain, yTrain).sigma[0]!;
    const atStar = testMse(sigma);
    for (const fixed of [0.1, 0.2, 0.5, 1]) {
      assert.ok(atStar < testMse(fixed), `σ* = ${sigma}: ${atStar}; σ = ${fixed}: ${testMse(fixed)}`);
    }
  });

  test("(c) one width per dimension: y varies fast in x₁ and slowly in x₂, so σ₁ ≪ σ₂", () => {
    const { keys, values } = twoWidthData();
    const fit = fitBandwidth(keys, values, "gaussian", { perDimension: true });
    const [s1, s2] = fit.sigma as [number, number];
    assert.ok(fit.converged, `stopped by ${fit.stopReason}`);
    assert.ok(s2 > 3 * s1, `σ₁ = ${s1}, σ₂ = ${s2}`);
    const shared = fitBandwidth(keys, values);
    assert.ok(fit.loss < shared.loss, `per-dimension LOO ${fit.loss}, shared ${shared.loss}`);
    const { gradient } = bandwidthLossAndGradient(keys, values, "gaussian", { sigma: fit.sigma });
    gradient.forEach((g, d) =>
      assert.ok(Math.abs(g) < 1e-3 * fit.loss, `∂L/∂log σ_${d} = ${g} at the optimum`),
    );
  });
});

describe("fitBandwidth", () => {
  const { xTrain, yTrain } = loadTutorialData();

  test("is deterministic, and reports its grid and path", () => {
    const a = fitBandwidth(xTrain, yTrain);
    const b = fitBandwidth(xTrain, yTrain);
    assert.deepEqual(a, b);
    assert.equal(a.grid.sigma.length, 15);
    assert.equal(a.path.sigma.length, a.iterations + 1);
    const best = a.grid.loss.indexOf(Math.min(...a.grid.loss));
    assert.deepEqual(a.path.sigma[0], a.grid.sigma[best], "the descent starts at the best grid point");
    assert.ok(a.loss <= a.path.loss[0]!);
  });

  test("starting from init follows a descent to the same σ*", () => {
    const fromGrid = fitBandwidth(xTrain, yTrain).sigma[0]!;
    for (const init of [0.05, 1, 3]) {
      const fit = fitBandwidth(xTrain, yTrain, "gaussian", { init });
      assert.equal(fit.grid.sigma.length, 0);
      assertNear(fit.path.sigma[0]![0]!, init, 1e-12, 0, "start");
      assert.ok(
        Math.abs(fit.sigma[0]! / fromGrid - 1) < 0.005,
        `init ${init}: ${fit.sigma[0]} vs ${fromGrid}`,
      );
    }
  });

  test("an input the values do not depend on gets the widest width, as 'irrelevant'", () => {
    const rng = seedrandom("irrelevant");
    const keys = Array.from({ length: 80 }, () => [rng(), rng()]);
    const values = keys.map(([a]) => Math.sin(6 * a!) + 0.1 * (rng() - 0.5));
    const fit = fitBandwidth(keys, values, "gaussian", { perDimension: true });
    assert.ok(fit.converged, `stopped by ${fit.stopReason}`);
    assert.ok(fit.sigma[1]! > 1000 * fit.sigma[0]!, `σ = ${fit.sigma}`);
    assert.ok(Number.isFinite(fit.loss));
  });

  test("maxIterations 0 returns the start", () => {
    const fit = fitBandwidth(xTrain, yTrain, "gaussian", { init: 0.3, maxIterations: 0 });
    assert.equal(fit.sigma.length, 1);
    assertNear(fit.sigma[0]!, 0.3, 1e-12, 0, "σ");
    assert.equal(fit.iterations, 0);
    assert.equal(fit.stopReason, "maxIterations");
    assert.equal(fit.converged, false);
  });
});

describe("no tensor leaks", () => {
  const { xTrain, yTrain } = loadTutorialData();
  const calls: Record<string, () => void> = {
    "fitBandwidth (LOO)": () => void fitBandwidth(xTrain, yTrain, "gaussian", { chunkSize: 9 }),
    "fitBandwidth (train)": () =>
      void fitBandwidth(xTrain, yTrain, "gaussian", { objective: "train", maxIterations: 5 }),
    "fitBandwidth (per dimension)": () =>
      void fitBandwidth(uniformMatrix("leak", 30, 2), xTrain.slice(0, 30), "gaussian", {
        perDimension: true,
      }),
  };
  for (const [name, call] of Object.entries(calls)) {
    test(`${name} leaves the tensor count unchanged`, () => assertNoLeak(name, call));
  }

  test("tensors passed in are neither disposed nor leaked", () => {
    const keys = tf.tensor1d(xTrain);
    const values = tf.tensor1d(yTrain);
    assertNoLeak("fitBandwidth on tensors", () => void fitBandwidth(keys, values));
    assert.equal(keys.isDisposed, false);
    tf.dispose([keys, values]);
  });
});

describe("input errors name the function, the argument and the value", () => {
  const { xTrain, yTrain } = loadTutorialData();
  const cases: [string, () => unknown, string][] = [
    [
      "bad objective",
      () => fitBandwidth(xTrain, yTrain, "gaussian", { objective: "test" as "loo" }),
      "fitBandwidth: options.objective must be one of 'loo', 'train', got \"test\".",
    ],
    [
      "bad grid",
      () => fitBandwidth(xTrain, yTrain, "gaussian", { grid: [0.1, -2] }),
      "fitBandwidth: options.grid[1] must be finite and > 0, got -2.",
    ],
    [
      "bad init",
      () => fitBandwidth(xTrain, yTrain, "gaussian", { init: 0 }),
      "fitBandwidth: options.init must be finite and > 0, got 0.",
    ],
    [
      "bad maxIterations",
      () => fitBandwidth(xTrain, yTrain, "gaussian", { maxIterations: 1.5 }),
      "fitBandwidth: options.maxIterations must be a non-negative integer, got 1.5.",
    ],
    [
      "bad learning rate",
      () => fitBandwidth(xTrain, yTrain, "gaussian", { learningRate: Number.NaN }),
      "fitBandwidth: options.learningRate must be finite and > 0, got NaN.",
    ],
    ["bad logSpace", () => logSpace(0, 1, 3), "logSpace: start must be finite and > 0, got 0."],
  ];
  for (const [label, call, message] of cases) {
    // A message starting with ^ is a pattern (its tail lists the kernels); the rest are exact.
    test(`rejects ${label}`, () =>
      assertThrowsClean(call, message.startsWith("^") ? new RegExp(message) : message));
  }
});
