// kernels.ts on tensors: each kernel's values and logs against its formula, gradients, and
// defineKernel. The kernel table's plain-number facts (normalising constants, lookup) run once:
// once/kernels.test.ts.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";

import {
  KERNELS,
  KERNEL_NAMES,
  attentionWeights,
  defineKernel,
  evaluateKernel,
  fitBandwidth,
  initBackend,
  nadarayaWatson,
  tf,
} from "../../lib/src/index";
import { REFERENCE_PROFILES, assertClose, assertNoLeak, referenceNW, take, uniformMatrix } from "./helpers";

before(async () => {
  await initBackend({ quiet: true });
});

const grid = Array.from({ length: 61 }, (_, i) => -3 + i * 0.1 + 0.013);

describe("kernel shapes", () => {
  for (const name of KERNEL_NAMES) {
    test(`${name} matches its formula elementwise, and k_σ(x) = k(x/σ)`, () => {
      const ref = REFERENCE_PROFILES[name]!;
      assertClose(
        take(evaluateKernel(name, grid)),
        grid.map((x) => ref(Math.abs(x))),
        1e-6,
        1e-7,
        name,
      );
      assertClose(
        take(evaluateKernel(name, grid, 0.7)),
        grid.map((x) => ref(Math.abs(x / 0.7))),
        1e-6,
        1e-7,
        `${name} σ=0.7`,
      );
    });
    test(`${name}: exp(logValue) equals value, and logValue is −∞ exactly outside the support`, () => {
      const k = KERNELS[name];
      const r2 = tf.tensor1d(grid.map((x) => x * x));
      const value = take(k.value(r2));
      const logValue = take(k.logValue(r2));
      r2.dispose();
      value.forEach((v, i) => {
        if (v === 0) assert.equal(logValue[i], -Infinity, `log at ${grid[i]}`);
        else
          assert.ok(
            Math.abs(Math.exp(logValue[i]!) - v) <= 2e-6 * v,
            `at ${grid[i]}: ${Math.exp(logValue[i]!)} vs ${v}`,
          );
      });
    });
  }

  test("the tutorial's 'epanechikov' is the triangular kernel, not Epanechnikov's", () => {
    const tri = take(evaluateKernel("triangular", grid));
    assert.deepEqual(take(evaluateKernel("epanechikov", grid)), tri);
    assert.notDeepEqual(take(evaluateKernel("epanechnikov", grid)), tri);
    assert.deepEqual(take(evaluateKernel("epanechikov", [-1, -0.5, 0, 0.5, 1])), [0, 0.5, 1, 0.5, 0]);
  });

  test("boxcar is 1 strictly inside |x| < 1 and 0 on the boundary", () => {
    assert.deepEqual(take(evaluateKernel("boxcar", [-1, -0.999, 0, 0.999, 1])), [0, 1, 1, 1, 0]);
  });

  test("log kernels have finite gradients everywhere, including outside the support and at 0", () => {
    for (const name of KERNEL_NAMES) {
      const x = tf.tensor1d([0, 0.5, 0.99, 1, 2, 5]);
      const g = tf.grad((s: tf.Tensor) => {
        const r2 = tf.square(tf.div(x, s));
        const lv = KERNELS[name].logValue(r2);
        // Sum only the finite entries, as softmax effectively does.
        return tf.sum(tf.where(tf.isFinite(lv), lv, tf.zerosLike(lv)));
      })(tf.scalar(1.3));
      const [v] = take(g);
      x.dispose();
      assert.ok(Number.isFinite(v), `${name}: gradient ${v}`);
    }
  });
});

describe("kernel lookup", () => {
  test("evaluateKernel leaks nothing", () => {
    for (const name of KERNEL_NAMES) assertNoLeak(name, () => evaluateKernel(name, grid, 1.5));
  });
});

describe("defineKernel: a kernel from one function of the scaled offset", () => {
  // The tutorial's lambdas, in tfjs, and the real Epanechnikov kernel in one line.
  const gaussianFn = (x: tf.Tensor) => tf.exp(tf.div(tf.neg(tf.square(x)), 2));
  const tentFn = (x: tf.Tensor) => tf.maximum(tf.sub(1, tf.abs(x)), 0);
  const parabolaFn = (x: tf.Tensor) => tf.mul(0.75, tf.relu(tf.sub(1, tf.square(x))));

  test("reproduces the built-in kernels it restates, in value and in Nadaraya-Watson weights", () => {
    const keys = uniformMatrix("define-keys", 30, 2, 0, 3);
    const queries = uniformMatrix("define-queries", 12, 2, 0, 3);
    for (const [fn, name, support] of [
      [gaussianFn, "gaussian", Infinity],
      [tentFn, "triangular", 1],
      [parabolaFn, "epanechnikov", 1],
    ] as const) {
      const custom = defineKernel(fn, { name: `my ${name}`, support });
      assertClose(
        take(evaluateKernel(custom, grid, 0.7)),
        take(evaluateKernel(name, grid, 0.7)),
        1e-6,
        1e-7,
        name,
      );
      const mine = take(attentionWeights(keys, queries, custom, { sigma: 1.5 }));
      const builtIn = take(attentionWeights(keys, queries, name, { sigma: 1.5 }));
      assertClose(mine, builtIn, 1e-5, 1e-7, `${name} weights`);
    }
  });

  test("a one-line kernel works in nadarayaWatson against the float64 reference", () => {
    const keys = uniformMatrix("define-nw-keys", 40, 1, 0, 5);
    const values = keys.map(([x]) => [2 * Math.sin(x!) + x!]);
    const queries = Array.from({ length: 25 }, (_, i) => [0.1 + i * 0.2]);
    const cosine = defineKernel((r) => tf.mul(Math.PI / 4, tf.cos(tf.mul(Math.PI / 2, r))), { support: 1 });
    const { predictions } = nadarayaWatson(keys, values, queries, cosine, { sigma: 0.8 });
    const ref = referenceNW(keys, values, queries, REFERENCE_PROFILES.cosine!, [0.8]);
    assertClose(
      take(predictions),
      ref.predictions.map((r) => r[0]!),
      1e-5,
      1e-6,
      "cosine",
    );
  });

  test("declared support: outside it the weight is 0, and an empty query follows onEmpty", () => {
    const wide = defineKernel((r) => tf.onesLike(r), { name: "flat", support: 1 });
    assert.deepEqual(take(evaluateKernel(wide, [-1.5, -0.99, 0, 0.99, 1, 2])), [0, 1, 1, 1, 0, 0]);
    assert.throws(() => nadarayaWatson([0, 1], [5, 7], [10], wide, { sigma: 0.5 }), {
      message:
        "nadarayaWatson: 1 of 1 queries have no key inside the flat kernel's support (first: query 0 at 10); " +
        "widen sigma, or pass onEmpty: 'nan' or 'nearest'.",
    });
    assert.deepEqual(
      take(nadarayaWatson([0, 1], [5, 7], [10], wide, { sigma: 0.5, onEmpty: "nearest" }).predictions),
      [7],
    );
  });

  test("unbounded support: a query whose weights all underflow gets the nearest key's value", () => {
    const custom = defineKernel(gaussianFn);
    // (1/0.01)² / 2 = 5000: exp(−5000) is 0 in float32 for every key.
    const { predictions } = nadarayaWatson([0, 1, 2], [10, 20, 30], [3.2], custom, { sigma: 0.01 });
    assert.deepEqual(take(predictions), [30]);
  });

  test("is differentiable in σ: fitBandwidth runs on it and agrees with the built-in kernel", () => {
    const x = uniformMatrix("define-fit", 60, 1, 0, 5).map(([v]) => v!);
    const y = x.map((v, i) => 2 * Math.sin(v) + v + 0.3 * Math.sin(17 * i));
    const mine = fitBandwidth(x, y, defineKernel(gaussianFn));
    const builtIn = fitBandwidth(x, y, "gaussian");
    assert.ok(
      Math.abs(mine.sigma[0]! / builtIn.sigma[0]! - 1) < 1e-3,
      `${mine.sigma[0]} vs ${builtIn.sigma[0]}`,
    );
  });

  test("leaks no tensors, neither when defined nor when used", () => {
    assertNoLeak("defineKernel", () => {
      defineKernel(tentFn, { support: 1 });
    });
    const k = defineKernel(tentFn, { support: 1 });
    assertNoLeak("evaluateKernel(custom)", () => evaluateKernel(k, grid));
    assertNoLeak("nadarayaWatson(custom)", () => nadarayaWatson([0, 1, 2], [1, 2, 3], [0.5, 1.5], k));
  });

  test("rejects a function that is not a kernel, naming what it returned", () => {
    assert.throws(() => defineKernel(3 as never), {
      message: "defineKernel: profile must be a function of a tensor, got 3.",
    });
    assert.throws(() => defineKernel(() => 1 as never), {
      message: "defineKernel: profile must return a tensor, got 1.",
    });
    assert.throws(() => defineKernel((r) => tf.sum(r)), {
      message:
        "defineKernel: profile must return a tensor of the shape of its input, got shape [] for shape [5].",
    });
    assert.throws(() => defineKernel((r) => tf.div(1, r)), {
      message:
        "defineKernel: profile must be finite, got [Infinity, 4, 2, 1, 0.5] at r = [0, 0.25, 0.5, 1, 2].",
    });
    assert.throws(() => defineKernel((r) => tf.neg(r)), {
      message: "defineKernel: profile must be positive at r = 0, got 0.",
    });
    assert.throws(() => defineKernel(tentFn, { support: 0 }), {
      message: "defineKernel: options.support must be a number > 0 (or Infinity), got 0.",
    });
  });
});
