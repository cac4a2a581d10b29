/**
 * parzen.ts: parzenLogDensity and parzenDensity against a float64 loop, the density integrating to 1,
 * narrow kernels in log space, input errors and leaks.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";

import {
  grid2d,
  initBackend,
  parzenClassifier,
  parzenDensity,
  parzenLogDensity,
  tf,
  twoMoons,
  type KernelName,
} from "../../lib/src/index";
import { assertClose, assertNoLeak, assertThrowsClean, take, uniformMatrix } from "./helpers";
import { DENSITY_KERNELS, referenceLogDensity } from "./parzen-reference";

before(async () => {
  await initBackend({ quiet: true });
});

describe("parzenLogDensity and parzenDensity against a float64 loop", () => {
  for (const dims of [1, 2, 3, 8]) {
    const points = uniformMatrix(`parzen-points-${dims}`, 25, dims, 0, 2);
    // Queries near the points, so compact kernels cover every one of them at these widths.
    const queries = uniformMatrix(`parzen-queries-${dims}`, 13, dims, 0.3, 1.7);
    const widths: Record<string, number[]> = {
      "σ = 0.9": [0.9 * Math.sqrt(dims)],
      "σ = 2": [2 * Math.sqrt(dims)],
      "σ per dimension": Array.from({ length: dims }, (_, j) => (0.8 + 0.4 * j) * Math.sqrt(dims)),
    };
    for (const kernel of DENSITY_KERNELS) {
      for (const [label, sigma] of Object.entries(widths)) {
        test(`${kernel}, ${label}, d = ${dims}: log density within 2e-5 relative`, () => {
          const expected = referenceLogDensity(kernel, points, queries, sigma);
          assert.ok(
            expected.every((v) => Number.isFinite(v)),
            "every reference query is covered",
          );
          const logP = take(parzenLogDensity(points, queries, kernel, { sigma }));
          assertClose(logP, expected, 2e-5, 2e-5, "log density");
          const p = take(parzenDensity(points, queries, kernel, { sigma }));
          assertClose(
            p,
            expected.map((v) => Math.exp(v)),
            5e-5,
            0,
            "density",
          );
        });
      }
    }
  }
});

describe("normalisation: the density integrates to 1", () => {
  const points1 = [[-0.7], [0.1], [0.15], [1.2], [2.9]];
  for (const kernel of DENSITY_KERNELS) {
    test(`${kernel} in 1-D, σ = 0.4: Riemann sum of p̂ over [−4, 6] is 1 within 2e-3`, () => {
      const steps = 20000;
      const h = 10 / steps;
      const grid = Array.from({ length: steps }, (_, i) => [-4 + (i + 0.5) * h]);
      const p = take(parzenDensity(points1, grid, kernel, { sigma: 0.4 }));
      const integral = p.reduce((a, b) => a + b, 0) * h;
      assert.ok(Math.abs(integral - 1) < 2e-3, `integral ${integral}`);
    });
  }
  for (const kernel of ["gaussian", "epanechnikov", "boxcar"] as KernelName[]) {
    test(`${kernel} in 2-D with σ = [0.3, 0.7]: Riemann sum over the plane is 1 within 5e-3`, () => {
      const points = [
        [0, 0],
        [0.5, -0.2],
        [1, 1],
      ];
      const steps = 400;
      const x0 = -2;
      const x1 = 3;
      const y0 = -3.5;
      const y1 = 4.5;
      const hx = (x1 - x0) / steps;
      const hy = (y1 - y0) / steps;
      const grid: number[][] = [];
      for (let i = 0; i < steps; i++)
        for (let j = 0; j < steps; j++) grid.push([x0 + (i + 0.5) * hx, y0 + (j + 0.5) * hy]);
      const p = take(parzenDensity(points, grid, kernel, { sigma: [0.3, 0.7] }));
      const integral = p.reduce((a, b) => a + b, 0) * hx * hy;
      assert.ok(Math.abs(integral - 1) < 5e-3, `integral ${integral}`);
    });
  }
});

describe("narrow kernels in log space", () => {
  test("narrow Gaussian far from every point: log density stays finite and exact, density underflows", () => {
    const points = [
      [0, 0],
      [0.001, 0],
      [5, 5],
    ];
    const queries = [[2.5, -2.5]];
    const sigma = [1e-3];
    const expected = referenceLogDensity("gaussian", points, queries, sigma)[0]!;
    assert.ok(expected < -1e6, `the true log density is very negative: ${expected}`);
    const [logP] = take(parzenLogDensity(points, queries, "gaussian", { sigma }));
    assert.ok(Number.isFinite(logP), `log density is finite, got ${logP}`);
    assertClose([logP!], [expected], 1e-6, 0, "log density");
    const [p] = take(parzenDensity(points, queries, "gaussian", { sigma }));
    assert.equal(p, 0, "exp of it underflows float32: the reason to work in logs");
  });

  test("narrow Gaussian classifier still decides far from the data", () => {
    const points = [[0], [1], [10]];
    const labels = [0, 1, 1];
    const r = parzenClassifier(points, labels, [[3], [7]], "gaussian", { sigma: 0.01 });
    assert.deepEqual(take(r.labels), [1, 1], "query 3 is nearest to 1, query 7 to 10");
    const joint = take(r.logJoint);
    assert.ok(
      joint.every((v) => Number.isFinite(v)),
      `log joints are finite: ${joint}`,
    );
    r.posterior.dispose();
  });

  test("compact kernel: log density is −∞ outside the support, not NaN", () => {
    const [inside, outside] = take(parzenLogDensity([0, 1], [0.5, 5], "epanechnikov", { sigma: 1 }));
    assert.ok(Number.isFinite(inside));
    assert.equal(outside, -Infinity);
  });
});

describe("input errors name the function, the argument and the value", () => {
  const points = [
    [0, 0],
    [1, 1],
    [2, 0],
  ];
  const queries = [[0.5, 0.5]];
  const cases: [string, () => unknown, string][] = [
    [
      "dimension mismatch",
      () => parzenDensity(points, [[1, 2, 3]]),
      "parzenLogDensity: points and queries must have the same dimension, got 2 and 3.",
    ],
    [
      "kernel without a density",
      () => parzenDensity(points, queries, "constant"),
      'parzenLogDensity: kernel "constant" has no finite integral, so it defines no density; use a kernel such as "gaussian" or "epanechnikov".',
    ],
    [
      "bad width",
      () => parzenDensity(points, queries, "gaussian", { sigma: -1 }),
      "parzenLogDensity: options.sigma must be finite and > 0, got -1.",
    ],
    [
      "points not finite",
      () => parzenDensity([[0, NaN]], queries),
      "parzenLogDensity: points must be finite, got NaN at flat index 1 of shape [1, 2].",
    ],
    [
      "bad chunk size",
      () => parzenDensity(points, queries, "gaussian", { chunkSize: 0 }),
      "parzenLogDensity: options.chunkSize must be a positive integer, got 0.",
    ],
    [
      "options not an object",
      () => parzenDensity(points, queries, "gaussian", null as unknown as object),
      "parzenLogDensity: options must be an object, got null.",
    ],
  ];
  for (const [name, body, message] of cases) {
    test(`rejects ${name}`, () => assertThrowsClean(body, message));
  }
});

describe("no tensor leaks", () => {
  const { points } = twoMoons({ perClass: 10 });
  const queries = grid2d(points, { steps: 6 }).points;
  test("every public call leaves only its returned tensors", () => {
    assertNoLeak("parzenLogDensity", () => parzenLogDensity(points, queries, "gaussian", { sigma: 0.3 }));
    assertNoLeak("parzenDensity chunked", () =>
      parzenDensity(points, queries, "epanechnikov", { sigma: 2, chunkSize: 7 }),
    );
    const input = tf.tensor2d(points);
    assertNoLeak("tensor inputs are not disposed or leaked", () => parzenDensity(input, input, "gaussian"));
    assert.equal(input.isDisposed, false);
    input.dispose();
  });
});
