/**
 * risk.ts: nadarayaWatsonRisk (bias² + variance, against a float64 loop and a Monte Carlo average)
 * and oracleBandwidth, the width that minimises it.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import seedrandom from "seedrandom";

import {
  heldOutLoss,
  initBackend,
  loadTutorialData,
  logSpace,
  nadarayaWatsonRisk,
  oracleBandwidth,
} from "../../lib/src/index";
import { assertNoLeak, assertThrowsClean, uniformMatrix } from "./helpers";
import { assertNear } from "./loss-reference";

before(async () => {
  await initBackend({ quiet: true });
});

describe("risk and the oracle width", () => {
  const keys = uniformMatrix("risk-keys", 60, 1, 0, 1).map(([x]) => x!);
  const means = keys.map((x) => Math.sin(2 * Math.PI * x));
  const queries = Array.from({ length: 40 }, (_, i) => (i + 0.5) / 40);
  const truth = queries.map((x) => Math.sin(2 * Math.PI * x));

  function referenceRisk(sigma: number, noiseVariance: number): { bias2: number; variance: number } {
    let bias2 = 0;
    let variance = 0;
    for (const [i, q] of queries.entries()) {
      const w = keys.map((k) => Math.exp(-0.5 * ((q - k) / sigma) ** 2));
      const total = w.reduce((a, b) => a + b, 0);
      const f = w.reduce((a, wj, j) => a + wj * means[j]!, 0) / total;
      bias2 += (f - truth[i]!) ** 2;
      variance += (noiseVariance * w.reduce((a, wj) => a + wj * wj, 0)) / total ** 2;
    }
    return { bias2: bias2 / queries.length, variance: variance / queries.length };
  }

  test("nadarayaWatsonRisk is bias² + s² Σw², as a float64 loop computes it", () => {
    for (const sigma of [0.02, 0.08, 0.3]) {
      const expected = referenceRisk(sigma, 0.25);
      const got = nadarayaWatsonRisk(keys, means, queries, truth, "gaussian", { sigma, noiseVariance: 0.25 });
      assertNear(got.bias2, expected.bias2, 1e-4, 1e-9, `bias² at σ = ${sigma}`);
      assertNear(got.variance, expected.variance, 1e-5, 0, `variance at σ = ${sigma}`);
      assertNear(got.mse, got.bias2 + got.variance, 1e-12, 0, "mse");
    }
  });

  test("nadarayaWatsonRisk is the average test error over noise draws (Monte Carlo, 400 draws)", () => {
    const rng = seedrandom("risk-mc");
    const normal = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
    const sigma = 0.06;
    const draws = Array.from({ length: 400 }, () =>
      heldOutLoss(
        keys,
        means.map((m) => m + 0.5 * normal()),
        queries,
        truth,
        "gaussian",
        { sigma },
      ),
    );
    const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
    const sd = Math.sqrt(draws.reduce((a, b) => a + (b - mean) ** 2, 0) / (draws.length - 1));
    const { mse } = nadarayaWatsonRisk(keys, means, queries, truth, "gaussian", {
      sigma,
      noiseVariance: 0.25,
    });
    // Four standard errors of the Monte-Carlo mean.
    assert.ok(
      Math.abs(mean - mse) < (4 * sd) / Math.sqrt(draws.length),
      `MC ${mean} ± ${sd / 20}, exact ${mse}`,
    );
  });

  test("oracleBandwidth finds the argmin of the float64 risk within 1%", () => {
    const grid = logSpace(0.01, 0.5, 800);
    const risks = grid.map((s) => {
      const r = referenceRisk(s, 0.25);
      return r.bias2 + r.variance;
    });
    const argmin = grid[risks.indexOf(Math.min(...risks))]!;
    const { sigma, risk } = oracleBandwidth(keys, means, queries, truth, "gaussian", { noiseVariance: 0.25 });
    assert.equal(sigma.length, 1, "one shared width, as fitBandwidth returns it");
    assert.ok(Math.abs(sigma[0]! / argmin - 1) < 0.01, `oracle ${sigma[0]}, grid ${argmin}`);
    assertNear(risk.mse, Math.min(...risks), 1e-4, 0, "risk at the oracle width");
  });
});

describe("no tensor leaks", () => {
  const { xTrain, yTrain, xVal, yVal } = loadTutorialData();
  const calls: Record<string, () => void> = {
    nadarayaWatsonRisk: () =>
      void nadarayaWatsonRisk(xTrain, yTrain, xVal, yVal, "gaussian", { noiseVariance: 1 }),
    oracleBandwidth: () => void oracleBandwidth(xTrain, yTrain, xVal, yVal),
  };
  for (const [name, call] of Object.entries(calls)) {
    test(`${name} leaves the tensor count unchanged`, () => assertNoLeak(name, call));
  }
});

describe("input errors name the function, the argument and the value", () => {
  const { xTrain, yTrain } = loadTutorialData();
  const cases: [string, () => unknown, string][] = [
    [
      "negative noise variance",
      () => nadarayaWatsonRisk(xTrain, yTrain, [1], [1], "gaussian", { noiseVariance: -1 }),
      "nadarayaWatsonRisk: options.noiseVariance must be finite and >= 0, got -1.",
    ],
    [
      "means/keys mismatch",
      () => nadarayaWatsonRisk([1, 2], [1], [1], [1]),
      "nadarayaWatsonRisk: keys and means must have the same length, got 2 and 1.",
    ],
  ];
  for (const [label, call, message] of cases) {
    // A message starting with ^ is a pattern (its tail lists the kernels); the rest are exact.
    test(`rejects ${label}`, () =>
      assertThrowsClean(call, message.startsWith("^") ? new RegExp(message) : message));
  }
});
