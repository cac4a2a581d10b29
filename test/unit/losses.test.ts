/**
 * losses.ts and the loss engine under it (loss_engine.ts): the training, leave-one-out and held-out
 * losses against a float64 loop, their invariances, their autodiff gradients in log σ against finite
 * differences, and the σ → 0 limits in log space.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";

import {
  bandwidthLossAndGradient,
  bandwidthLossCurve,
  heldOutLoss,
  initBackend,
  loadTutorialData,
  looLoss,
  tf,
  trainingLoss,
  type KernelName,
} from "../../lib/src/index";
import { REFERENCE_PROFILES, assertNoLeak, assertThrowsClean, uniformMatrix } from "./helpers";
import { referenceLoss, referenceGradient, assertNear, twoWidthData } from "./loss-reference";

before(async () => {
  await initBackend({ quiet: true });
});

describe("losses agree with a float64 loop", () => {
  const kernels: KernelName[] = ["gaussian", "epanechnikov", "triangular", "boxcar", "constant"];
  for (const dims of [1, 2, 3]) {
    const keys = uniformMatrix(`bw-keys-${dims}`, 30, dims, 0, 2);
    const values = uniformMatrix(`bw-values-${dims}`, 30, 2, -3, 5);
    const widths: Record<string, number[]> = {
      "σ = 0.6": [0.6],
      "σ = 1.7": [1.7],
      "σ per dimension": Array.from({ length: dims }, (_, d) => 0.5 + 0.4 * d),
    };
    for (const kernel of kernels) {
      for (const [label, sigma] of Object.entries(widths)) {
        for (const mode of ["loo", "train"] as const) {
          test(`${mode}, ${kernel}, ${label}, d = ${dims}, two value columns: within 1e-5`, () => {
            const expected = referenceLoss(keys, values, sigma, REFERENCE_PROFILES[kernel]!, mode);
            const f = mode === "loo" ? looLoss : trainingLoss;
            assertNear(f(keys, values, kernel, { sigma }), expected, 1e-5, 1e-6, "loss");
          });
        }
      }
    }
  }

  test("a compact kernel with a point that has no other key in reach gives an infinite LOO loss", () => {
    const keys = [0, 0.1, 0.2, 3];
    const values = [1, 2, 3, 4];
    assert.equal(looLoss(keys, values, "boxcar", { sigma: 0.5 }), Infinity);
    assert.ok(Number.isFinite(trainingLoss(keys, values, "boxcar", { sigma: 0.5 })));
    assert.ok(Number.isFinite(looLoss(keys, values, "gaussian", { sigma: 0.01 })));
  });

  test("periodic distances (a torus) match the wrapped float64 loop, in 1 and 2 dimensions", () => {
    for (const dims of [1, 2]) {
      const keys = uniformMatrix(`torus-${dims}`, 40, dims, 0, 1);
      const values = uniformMatrix(`torus-v-${dims}`, 40, 1, -1, 1);
      for (const sigma of [[0.05], [0.3], Array.from({ length: dims }, (_, d) => 0.1 + 0.2 * d)]) {
        const expected = referenceLoss(keys, values, sigma, REFERENCE_PROFILES.gaussian!, "loo", {
          period: 1,
        });
        assertNear(
          looLoss(keys, values, "gaussian", { sigma, period: 1 }),
          expected,
          1e-5,
          1e-6,
          `d=${dims} σ=${sigma}`,
        );
      }
    }
  });

  test("rows evaluates the loss at a subset of points, pooling over all keys", () => {
    const keys = uniformMatrix("rows-keys", 50, 2, 0, 1);
    const values = uniformMatrix("rows-values", 50, 1, 0, 1);
    const rows = [3, 7, 7, 20, 49];
    for (const mode of ["loo", "train"] as const) {
      const expected = referenceLoss(keys, values, [0.2], REFERENCE_PROFILES.gaussian!, mode, { rows });
      const f = mode === "loo" ? looLoss : trainingLoss;
      assertNear(f(keys, values, "gaussian", { sigma: 0.2, rows }), expected, 1e-5, 1e-7, mode);
    }
  });

  test("heldOutLoss is the mean squared error of predictions at new queries", () => {
    const keys = uniformMatrix("ho-keys", 40, 2, 0, 1);
    const values = uniformMatrix("ho-values", 40, 2, -1, 1);
    const queries = uniformMatrix("ho-q", 25, 2, -0.1, 1.1);
    const targets = uniformMatrix("ho-t", 25, 2, -1, 1);
    for (const sigma of [[0.15], [0.1, 0.4]]) {
      const expected = referenceLoss(keys, values, sigma, REFERENCE_PROFILES.gaussian!, "train", {
        queries,
        targets,
      });
      assertNear(
        heldOutLoss(keys, values, queries, targets, "gaussian", { sigma }),
        expected,
        1e-5,
        1e-7,
        `σ=${sigma}`,
      );
    }
  });

  test("blocks of rows and the cache change nothing: chunkSize 3 and cacheFloats 0 agree with the default", () => {
    const keys = uniformMatrix("chunks", 45, 2, 0, 1);
    const values = uniformMatrix("chunks-v", 45, 1, 0, 1);
    for (const sigma of [[0.2], [0.1, 0.3]]) {
      const base = bandwidthLossAndGradient(keys, values, "gaussian", { sigma });
      for (const options of [{ chunkSize: 3 }, { cacheFloats: 0 }, { chunkSize: 7, cacheFloats: 200 }]) {
        const other = bandwidthLossAndGradient(keys, values, "gaussian", { sigma, ...options });
        assertNear(other.loss, base.loss, 1e-6, 0, `loss ${JSON.stringify(options)}`);
        other.gradient.forEach((g, d) =>
          assertNear(g, base.gradient[d]!, 1e-4, 1e-7, `gradient[${d}] ${JSON.stringify(options)}`),
        );
      }
    }
  });
});

describe("invariances of the LOO loss", () => {
  const keys = uniformMatrix("inv-keys", 35, 2, 0, 1);
  const values = uniformMatrix("inv-values", 35, 1, -1, 1);
  const base = () => looLoss(keys, values, "gaussian", { sigma: [0.15, 0.3] });

  test("permuting keys together with their values changes nothing", () => {
    const order = keys.map((_, i) => (i * 13) % 35);
    const loss = looLoss(
      order.map((i) => keys[i]!),
      order.map((i) => values[i]!),
      "gaussian",
      { sigma: [0.15, 0.3] },
    );
    assertNear(loss, base(), 1e-6, 0, "permuted");
  });

  test("translating the keys, or adding a constant to the values, changes nothing", () => {
    const moved = keys.map(([a, b]) => [a! + 100, b! - 40]);
    assertNear(
      looLoss(moved, values, "gaussian", { sigma: [0.15, 0.3] }),
      base(),
      1e-4,
      0,
      "translated keys",
    );
    const shifted = values.map(([v]) => [v! + 1000]);
    assertNear(looLoss(keys, shifted, "gaussian", { sigma: [0.15, 0.3] }), base(), 1e-4, 0, "shifted values");
  });

  test("scaling the keys and σ by the same factor changes nothing", () => {
    const scaled = keys.map((k) => k.map((v) => 7 * v));
    assertNear(looLoss(scaled, values, "gaussian", { sigma: [1.05, 2.1] }), base(), 1e-5, 0, "scaled");
  });
});

describe("gradients in log σ", () => {
  for (const dims of [1, 2]) {
    const keys = uniformMatrix(`grad-keys-${dims}`, 30, dims, 0, 2);
    const values = uniformMatrix(`grad-values-${dims}`, 30, 2, -2, 3);
    const widths = dims === 1 ? [[0.2], [0.6]] : [[0.6], [0.5, 0.9]];
    for (const kernel of ["gaussian", "epanechnikov"] as const) {
      for (const sigma of widths) {
        for (const mode of ["loo", "train"] as const) {
          test(`${mode}, ${kernel}, d = ${dims}, σ = ${sigma}: the gradient matches a float64 central difference`, () => {
            const profile = REFERENCE_PROFILES[kernel]!;
            const loss = referenceLoss(keys, values, sigma, profile, mode);
            if (!Number.isFinite(loss)) return assert.fail(`σ = ${sigma} leaves a point without neighbours`);
            const expected = referenceGradient(keys, values, sigma, profile, mode);
            const got = bandwidthLossAndGradient(keys, values, kernel, { sigma, objective: mode });
            assert.equal(got.gradient.length, sigma.length);
            got.gradient.forEach((g, d) => assertNear(g, expected[d]!, 1e-3, 1e-5 * loss, `∂L/∂log σ_${d}`));
          });
        }
      }
    }
  }

  test("on a torus, the gradient matches a float64 central difference", () => {
    const keys = uniformMatrix("grad-torus", 40, 2, 0, 1);
    const values = uniformMatrix("grad-torus-v", 40, 1, -1, 1);
    const sigma = [0.08, 0.2];
    const expected = referenceGradient(keys, values, sigma, REFERENCE_PROFILES.gaussian!, "loo", {
      period: 1,
    });
    const got = bandwidthLossAndGradient(keys, values, "gaussian", { sigma, period: 1 });
    got.gradient.forEach((g, d) => assertNear(g, expected[d]!, 1e-3, 1e-6, `∂L/∂log σ_${d}`));
  });

  test("tutorial data: the gradient matches a float32 central difference of looLoss (step 0.01 in log σ, within 1%)", () => {
    // Truncation error of the central difference is h²/6 · L''' ≈ 1e-5 relative at h = 0.01; float32
    // rounding of the two losses (≈ 1e-7 · L each) adds ≈ 1e-5 · L / (2h) ≈ 1e-5. So 1% is loose
    // enough for both and still catches a wrong factor or sign.
    const { xTrain, yTrain } = loadTutorialData();
    const h = 0.01;
    for (const sigma of [0.1, 0.2, 0.5, 1]) {
      const { gradient } = bandwidthLossAndGradient(xTrain, yTrain, "gaussian", { sigma });
      const fd =
        (looLoss(xTrain, yTrain, "gaussian", { sigma: sigma * Math.exp(h) }) -
          looLoss(xTrain, yTrain, "gaussian", { sigma: sigma * Math.exp(-h) })) /
        (2 * h);
      assertNear(gradient[0]!, fd, 1e-2, 1e-5, `σ = ${sigma}`);
    }
  });
});

describe("tiny widths stay finite (log-space softmax)", () => {
  const { xTrain, yTrain } = loadTutorialData();

  test("as σ → 0 the LOO loss tends to the nearest-neighbour error and the training loss to 0", () => {
    // Nearest-neighbour LOO: each point predicted by the value of its nearest other key.
    const nn =
      xTrain.reduce((acc, x, i) => {
        let best = -1;
        xTrain.forEach((z, j) => {
          if (j !== i && (best < 0 || Math.abs(z - x) < Math.abs(xTrain[best]! - x))) best = j;
        });
        return acc + (yTrain[best]! - yTrain[i]!) ** 2;
      }, 0) / xTrain.length;
    for (const sigma of [1e-4, 1e-8, 1e-15]) {
      assertNear(looLoss(xTrain, yTrain, "gaussian", { sigma }), nn, 1e-5, 0, `LOO at σ = ${sigma}`);
      const train = trainingLoss(xTrain, yTrain, "gaussian", { sigma });
      // Below σ = 1e-6 every other weight underflows to exactly 0 and each point's own weight is 1:
      // the loss is exactly 0 on wasm and cpu. tensorflow's softmax multiplies by an approximate
      // reciprocal, so the own weight is within 2u of 1 (u = 2⁻²⁴) and the product adds u: each
      // residual is within 3u·|y − ȳ| (the values are centred), the loss within (3u)²·mean (y − ȳ)².
      const mean = yTrain.reduce((a, b) => a + b, 0) / yTrain.length;
      const spread = yTrain.reduce((a, y) => a + (y - mean) ** 2, 0) / yTrain.length;
      const floor = tf.getBackend() === "tensorflow" ? (3 * 2 ** -24) ** 2 * spread : 0;
      assert.ok(sigma < 1e-6 ? train <= floor : train < 1e-12, `training loss ${train} at σ = ${sigma}`);
      for (const objective of ["loo", "train"] as const) {
        const { loss, gradient } = bandwidthLossAndGradient(xTrain, yTrain, "gaussian", { sigma, objective });
        assert.ok(Number.isFinite(loss) && gradient.every(Number.isFinite), `${objective} at σ = ${sigma}`);
      }
    }
  });

  test("per-dimension tiny widths stay finite too", () => {
    const { keys, values } = twoWidthData(60);
    const { loss, gradient } = bandwidthLossAndGradient(keys, values, "gaussian", { sigma: [1e-9, 1e-3] });
    assert.ok(Number.isFinite(loss) && gradient.every(Number.isFinite), `${loss} ${gradient}`);
  });
});

describe("no tensor leaks", () => {
  const { xTrain, yTrain, xVal, yVal } = loadTutorialData();
  const calls: Record<string, () => void> = {
    looLoss: () => void looLoss(xTrain, yTrain, "gaussian", { sigma: 0.3, chunkSize: 7 }),
    trainingLoss: () => void trainingLoss(xTrain, yTrain, "epanechnikov", { sigma: 0.9 }),
    heldOutLoss: () => void heldOutLoss(xTrain, yTrain, xVal, yVal, "gaussian", { sigma: 0.3 }),
    bandwidthLossAndGradient: () =>
      void bandwidthLossAndGradient(xTrain, yTrain, "triangular", { sigma: 1, cacheFloats: 0 }),
    bandwidthLossCurve: () => void bandwidthLossCurve(xTrain, yTrain, [0.1, 0.2], "gaussian", { period: 5 }),
  };
  for (const [name, call] of Object.entries(calls)) {
    test(`${name} leaves the tensor count unchanged`, () => assertNoLeak(name, call));
  }
});

describe("input errors name the function, the argument and the value", () => {
  const { xTrain, yTrain } = loadTutorialData();
  const cases: [string, () => unknown, string][] = [
    [
      "length mismatch",
      () => looLoss([1, 2, 3], [1, 2]),
      "looLoss: keys and values must have the same length, got 3 and 2.",
    ],
    ["one key", () => looLoss([1], [1]), "looLoss: leave-one-out needs at least 2 keys, got 1."],
    [
      "σ of the wrong length",
      () =>
        looLoss(
          [
            [0, 1],
            [1, 0],
          ],
          [1, 2],
          "gaussian",
          { sigma: [1, 2, 3] },
        ),
      "looLoss: options.sigma must have 1 or 2 entries (one per dimension), got 3 entries.",
    ],
    [
      "unknown kernel",
      () => looLoss(xTrain, yTrain, "gauss" as KernelName),
      /^looLoss: unknown kernel "gauss"/.source,
    ],
    [
      "row out of range",
      () => looLoss(xTrain, yTrain, "gaussian", { rows: [0, 40] }),
      "looLoss: options.rows must hold integers in [0, 40), got 40 at index 1.",
    ],
    [
      "bad period",
      () => looLoss(xTrain, yTrain, "gaussian", { period: 0 }),
      "looLoss: options.period must be finite and > 0, got 0.",
    ],
    [
      "negative σ",
      () => trainingLoss(xTrain, yTrain, "gaussian", { sigma: -1 }),
      "trainingLoss: options.sigma must be finite and > 0, got -1.",
    ],
    [
      "rows on held-out queries",
      () => heldOutLoss(xTrain, yTrain, [1], [1], "gaussian", { rows: [0] } as object),
      "heldOutLoss: options.rows does not apply to held-out queries; pass the queries you want instead.",
    ],
    [
      "queries/targets mismatch",
      () => heldOutLoss(xTrain, yTrain, [1, 2], [1]),
      "heldOutLoss: queries and targets must have the same length, got 2 and 1.",
    ],
    [
      "empty curve",
      () => bandwidthLossCurve(xTrain, yTrain, []),
      "bandwidthLossCurve: sigmas must be a non-empty array of widths, got [] (length 0).",
    ],
  ];
  for (const [label, call, message] of cases) {
    // A message starting with ^ is a pattern (its tail lists the kernels); the rest are exact.
    test(`rejects ${label}`, () =>
      assertThrowsClean(call, message.startsWith("^") ? new RegExp(message) : message));
  }
});
