/**
 * Consistency rates (exercise 4): the d = 1 rates against the bias–variance theory, in a
 * configuration small enough for a unit test on both backends, and the runner's building blocks.
 *
 * The notebook runs n up to 32 000 with two seeds per n; this test runs n = 250 … 4000 with one
 * seed and 200 evaluation points (the exact conditional risk has no noise Monte-Carlo error, so
 * one data set per n already gives clean slopes). Its measured slopes: h* −0.206, MSE −0.804,
 * MSE at the LOO width −0.836 (theory −0.2 and −0.8).
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";

import {
  consistencyData,
  consistencyExperiment,
  initBackend,
  logLogSlope,
  periodicTarget,
  tf,
  type ConsistencyResult,
} from "../../lib/src/index";

before(async () => {
  await initBackend({ quiet: true });
});

describe("exercise 4: rates in d = 1 agree with the theory within 0.1", () => {
  let result: ConsistencyResult | undefined;
  const run = (): ConsistencyResult =>
    (result ??= consistencyExperiment({
      dims: 1,
      sizes: [250, 500, 1000, 2000, 4000],
      seeds: 1,
      evalPoints: 200,
      looMaxSize: 2000,
    }));

  test("the risk-minimising width h* shrinks like n^(−1/5)", () => {
    const r = run();
    assert.equal(r.theory.sigma, -0.2);
    assert.ok(Math.abs(r.sigma.slope - r.theory.sigma) < 0.1, `slope ${r.sigma.slope}`);
    r.sigma.values.forEach(
      (h, i) => i === 0 || assert.ok(h < r.sigma.values[i - 1]!, `h* rose at n = ${r.sizes[i]}`),
    );
  });

  test("the MSE at h* falls like n^(−4/5)", () => {
    const r = run();
    assert.equal(r.theory.mse, -0.8);
    assert.ok(Math.abs(r.mse.slope - r.theory.mse) < 0.1, `slope ${r.mse.slope}`);
  });

  test("with σ chosen by leave-one-out, the MSE falls at the same rate and never beats h*", () => {
    const r = run();
    assert.deepEqual(r.looMse!.sizes, [250, 500, 1000, 2000]);
    assert.ok(Math.abs(r.looMse!.slope - r.theory.mse) < 0.1, `slope ${r.looMse!.slope}`);
    for (const run of r.runs.filter((x) => x.looMse !== undefined)) {
      // h* minimises the risk (to the golden-section tolerance), so no other width does better.
      assert.ok(run.looMse! >= run.mse * (1 - 1e-4), `n = ${run.n}: LOO ${run.looMse}, h* ${run.mse}`);
      assert.ok(run.looSigma! > 0 && Number.isFinite(run.looSigma!));
    }
  });

  test("the fitted lines pass through the data: intercepts reproduce the geometric means", () => {
    const r = run();
    r.sizes.forEach((n, i) => {
      const fitted = Math.exp(r.mse.intercept + r.mse.slope * Math.log(n));
      assert.ok(
        Math.abs(Math.log(fitted / r.mse.values[i]!)) < 0.15,
        `n = ${n}: fitted ${fitted}, measured ${r.mse.values[i]}`,
      );
    });
  });
});

describe("building blocks", () => {
  test("logLogSlope recovers an exact power law", () => {
    const x = [10, 100, 1000, 5000];
    const { slope, intercept } = logLogSlope(
      x,
      x.map((v) => 3 * v ** -0.8),
    );
    assert.ok(Math.abs(slope + 0.8) < 1e-12, `${slope}`);
    assert.ok(Math.abs(intercept - Math.log(3)) < 1e-12, `${intercept}`);
  });

  test("periodicTarget is smooth and periodic on the torus", () => {
    assert.ok(Math.abs(periodicTarget([0.25]) - 1) < 1e-15);
    assert.ok(Math.abs(periodicTarget([0.25, 0.75])) < 1e-15);
    for (const x of [0.1, 0.37, 0.93]) {
      assert.ok(Math.abs(periodicTarget([x, 0.2]) - periodicTarget([x + 1, 0.2 - 1])) < 1e-12);
    }
  });

  test("consistencyData is seeded, on [0, 1)^d, with noise of the given size", () => {
    const a = consistencyData(2, 2000, "seed-a", 0.5);
    assert.deepEqual(a, consistencyData(2, 2000, "seed-a", 0.5));
    assert.notDeepEqual(a.keys, consistencyData(2, 2000, "seed-b", 0.5).keys);
    assert.ok(a.keys.every((k) => k.length === 2 && k.every((v) => v >= 0 && v < 1)));
    const residuals = a.values.map((y, i) => y - periodicTarget(a.keys[i]!));
    const sd = Math.sqrt(residuals.reduce((s, r) => s + r * r, 0) / residuals.length);
    assert.ok(Math.abs(sd - 0.5) < 0.03, `noise sd ${sd}`);
  });

  test("the experiment leaks no tensors and is deterministic", () => {
    const options = { dims: 2, sizes: [100, 200], seeds: 1, evalPoints: 50, looMaxSize: 200 };
    const before = tf.memory().numTensors;
    const a = consistencyExperiment(options);
    assert.equal(tf.memory().numTensors, before);
    assert.deepEqual(a, consistencyExperiment(options));
    assert.equal(a.runs.length, 2);
    assert.equal(a.theory.mse, -4 / 6);
  });

  const errors: [string, () => unknown, string][] = [
    [
      "one size",
      () => consistencyExperiment({ dims: 1, sizes: [100, 100] }),
      "consistencyExperiment: options.sizes must hold at least 2 distinct sample sizes, got [100, 100] (length 2).",
    ],
    [
      "bad dims",
      () => consistencyExperiment({ dims: 0, sizes: [10, 20] }),
      "consistencyExperiment: options.dims must be a positive integer, got 0.",
    ],
    [
      "bad noise",
      () => consistencyExperiment({ dims: 1, sizes: [10, 20], noise: 0 }),
      "consistencyExperiment: options.noise must be finite and > 0, got 0.",
    ],
    [
      "LOO on one size",
      () => consistencyExperiment({ dims: 1, sizes: [10, 20], looMaxSize: 10 }),
      "consistencyExperiment: options.looMaxSize must leave at least 2 distinct sizes for leave-one-out, got 10.",
    ],
    [
      "bad slope input",
      () => logLogSlope([1, 2], [1, -1]),
      "logLogSlope: y must hold finite numbers > 0, got -1 at index 1.",
    ],
    ["constant x", () => logLogSlope([2, 2], [1, 3]), "logLogSlope: x must not be constant."],
    [
      "bad data size",
      () => consistencyData(1, 0, "s"),
      "consistencyData: n must be a positive integer, got 0.",
    ],
  ];
  for (const [label, call, message] of errors) {
    test(`rejects ${label}`, () => {
      assert.throws(call, (err: Error) => {
        assert.equal(err.message, message);
        return true;
      });
    });
  }
});
