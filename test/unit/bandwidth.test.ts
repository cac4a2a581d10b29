/**
 * Learning σ (exercise 2): the training and leave-one-out losses against a float64 loop, their
 * autodiff gradients against finite differences, the σ → 0 limits, and the exercise's numerical
 * claims on the tutorial data.
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
  looLoss,
  nadarayaWatsonRisk,
  oracleBandwidth,
  seededRandom,
  tf,
  trainingLoss,
  type KernelName,
} from "../../lib/src/index";
import { REFERENCE_PROFILES, assertNoLeak, uniformMatrix } from "./helpers";

before(async () => {
  await initBackend({ quiet: true });
});

type Mode = "loo" | "train";

/**
 * The slow, obvious loss in float64: for each evaluated row i, kernel values against every key
 * (all but i itself for leave-one-out), the weighted mean of the values, and the squared error.
 * `period` wraps each coordinate difference the shorter way round. A row with zero total weight
 * makes the loss infinite.
 */
function referenceLoss(
  keys: number[][],
  values: number[][],
  sigma: number[],
  profile: (r: number) => number,
  mode: Mode,
  options: { rows?: number[]; period?: number; queries?: number[][]; targets?: number[][] } = {},
): number {
  const queries = options.queries ?? (options.rows ?? keys.map((_, i) => i)).map((i) => keys[i]!);
  const targets = options.targets ?? (options.rows ?? keys.map((_, i) => i)).map((i) => values[i]!);
  const self = options.queries ? undefined : (options.rows ?? keys.map((_, i) => i));
  let total = 0;
  queries.forEach((q, r) => {
    let wsum = 0;
    const acc = new Array<number>(values[0]!.length).fill(0);
    keys.forEach((k, j) => {
      if (mode === "loo" && self !== undefined && self[r] === j) return;
      let r2 = 0;
      k.forEach((kd, d) => {
        let delta = Math.abs(q[d]! - kd);
        if (options.period !== undefined) {
          delta %= options.period;
          delta = Math.min(delta, options.period - delta);
        }
        r2 += (delta / (sigma.length === 1 ? sigma[0]! : sigma[d]!)) ** 2;
      });
      const w = profile(Math.sqrt(r2));
      wsum += w;
      values[j]!.forEach((v, c) => (acc[c]! += w * v));
    });
    if (wsum === 0) {
      total = Infinity;
      return;
    }
    acc.forEach((a, c) => (total += (a / wsum - targets[r]![c]!) ** 2));
  });
  return total / queries.length;
}

/** ∂L/∂log σ_d of {@link referenceLoss} by central differences in float64 (step 1e-5). */
function referenceGradient(
  keys: number[][],
  values: number[][],
  sigma: number[],
  profile: (r: number) => number,
  mode: Mode,
  options: { period?: number } = {},
): number[] {
  const h = 1e-5;
  return sigma.map((_, d) => {
    const at = (sign: number) =>
      referenceLoss(
        keys,
        values,
        sigma.map((s, e) => (e === d ? s * Math.exp(sign * h) : s)),
        profile,
        mode,
        options,
      );
    return (at(1) - at(-1)) / (2 * h);
  });
}

/** |a − e| ≤ rtol·|e| + atol, with a message; infinities must match exactly. */
function assertNear(actual: number, expected: number, rtol: number, atol: number, what: string): void {
  if (!Number.isFinite(expected)) {
    assert.equal(actual, expected, `${what}: expected ${expected}, got ${actual}`);
    return;
  }
  const tol = rtol * Math.abs(expected) + atol;
  assert.ok(
    Math.abs(actual - expected) <= tol,
    `${what}: got ${actual}, expected ${expected} (tolerance ${tol.toExponential(2)})`,
  );
}

const columns = (v: number[]): number[][] => v.map((x) => [x]);

/**
 * A seeded 2-D regression problem whose inputs need different widths: keys uniform on [0, 1)²,
 * y = sin(2π x₁) + 0.5 x₂ + 0.2 ε with ε ~ N(0, 1). y changes fast along x₁ and slowly along x₂,
 * so leave-one-out should prefer a narrow σ₁ and a wide σ₂. (The same draws as the former
 * lib `anisotropicData`, removed from lib with the exercise drivers.)
 */
function twoWidthData(n = 200, seed = "two-widths"): { keys: number[][]; values: number[] } {
  const rng = seededRandom(seed);
  const keys = Array.from({ length: n }, () => [rng.uniform(), rng.uniform()]);
  const values = keys.map(([a, b]) => Math.sin(2 * Math.PI * a!) + 0.5 * b! + 0.2 * rng.normal());
  return { keys, values };
}

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
          test(`${mode}, ${kernel}, d = ${dims}, σ = ${sigma}: autodiff matches a float64 central difference`, () => {
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

  test("on a torus, autodiff matches a float64 central difference", () => {
    const keys = uniformMatrix("grad-torus", 40, 2, 0, 1);
    const values = uniformMatrix("grad-torus-v", 40, 1, -1, 1);
    const sigma = [0.08, 0.2];
    const expected = referenceGradient(keys, values, sigma, REFERENCE_PROFILES.gaussian!, "loo", {
      period: 1,
    });
    const got = bandwidthLossAndGradient(keys, values, "gaussian", { sigma, period: 1 });
    got.gradient.forEach((g, d) => assertNear(g, expected[d]!, 1e-3, 1e-6, `∂L/∂log σ_${d}`));
  });

  test("tutorial data: autodiff matches a float32 central difference of looLoss (step 0.01 in log σ, within 1%)", () => {
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
    looLoss: () => void looLoss(xTrain, yTrain, "gaussian", { sigma: 0.3, chunkSize: 7 }),
    trainingLoss: () => void trainingLoss(xTrain, yTrain, "epanechnikov", { sigma: 0.9 }),
    heldOutLoss: () => void heldOutLoss(xTrain, yTrain, xVal, yVal, "gaussian", { sigma: 0.3 }),
    bandwidthLossAndGradient: () =>
      void bandwidthLossAndGradient(xTrain, yTrain, "triangular", { sigma: 1, cacheFloats: 0 }),
    bandwidthLossCurve: () => void bandwidthLossCurve(xTrain, yTrain, [0.1, 0.2], "gaussian", { period: 5 }),
    "fitBandwidth (LOO)": () => void fitBandwidth(xTrain, yTrain, "gaussian", { chunkSize: 9 }),
    "fitBandwidth (train)": () =>
      void fitBandwidth(xTrain, yTrain, "gaussian", { objective: "train", maxIterations: 5 }),
    "fitBandwidth (per dimension)": () =>
      void fitBandwidth(uniformMatrix("leak", 30, 2), xTrain.slice(0, 30), "gaussian", {
        perDimension: true,
      }),
    nadarayaWatsonRisk: () =>
      void nadarayaWatsonRisk(xTrain, yTrain, xVal, yVal, "gaussian", { noiseVariance: 1 }),
    oracleBandwidth: () => void oracleBandwidth(xTrain, yTrain, xVal, yVal),
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
      "length mismatch",
      () => looLoss([1, 2, 3], [1, 2]),
      "looLoss: keys and values must have the same length, got 3 and 2.",
    ],
    ["one key", () => looLoss([1], [1]), "looLoss: leave-one-out needs at least 2 keys, got 1."],
    [
      "negative σ",
      () => trainingLoss(xTrain, yTrain, "gaussian", { sigma: -1 }),
      "trainingLoss: options.sigma must be finite and > 0, got -1.",
    ],
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
      "negative noise variance",
      () => nadarayaWatsonRisk(xTrain, yTrain, [1], [1], "gaussian", { noiseVariance: -1 }),
      "nadarayaWatsonRisk: options.noiseVariance must be finite and >= 0, got -1.",
    ],
    [
      "means/keys mismatch",
      () => nadarayaWatsonRisk([1, 2], [1], [1], [1]),
      "nadarayaWatsonRisk: keys and means must have the same length, got 2 and 1.",
    ],
    [
      "empty curve",
      () => bandwidthLossCurve(xTrain, yTrain, []),
      "bandwidthLossCurve: sigmas must be a non-empty array of widths, got [] (length 0).",
    ],
    ["bad logSpace", () => logSpace(0, 1, 3), "logSpace: start must be finite and > 0, got 0."],
  ];
  for (const [label, call, message] of cases) {
    test(`rejects ${label}`, () => {
      const before = tf.memory().numTensors;
      assert.throws(call, (err: Error) => {
        if (message.startsWith("^")) assert.match(err.message, new RegExp(message));
        else assert.equal(err.message, message);
        return true;
      });
      assert.equal(tf.memory().numTensors, before, "tensors leaked on the error path");
    });
  }
});
