import assert from "node:assert/strict";
import { before, describe, test } from "node:test";

import {
  KERNELS,
  KERNEL_NAMES,
  TUTORIAL_KERNELS,
  evaluateKernel,
  initBackend,
  logNormalizer,
  resolveKernel,
  tf,
} from "../../lib/src/index";
import { REFERENCE_PROFILES, assertClose, assertNoLeak, take } from "./helpers";

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

  test("the tutorial's four kernels come first, under its names", () => {
    assert.deepEqual([...TUTORIAL_KERNELS], ["gaussian", "boxcar", "constant", "epanechikov"]);
  });

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

describe("normalising constants", () => {
  const oneDim: Record<string, number> = {
    gaussian: 1 / Math.sqrt(2 * Math.PI),
    boxcar: 0.5,
    triangular: 1,
    epanechnikov: 1,
    biweight: 1,
    tricube: 1,
    cosine: 1,
  };
  for (const [name, c] of Object.entries(oneDim)) {
    test(`${name}: the 1-D constant is ${c.toPrecision(6)}`, () => {
      assert.ok(Math.abs(Math.exp(logNormalizer(name as "gaussian", 1)) - c) < 1e-9 * c + 1e-9);
    });
  }
  test("in 2-D and 3-D the normalised kernels integrate to 1 (checked on a grid)", () => {
    for (const name of ["boxcar", "epanechnikov", "triangular", "gaussian"] as const) {
      for (const dims of [2, 3]) {
        const c = Math.exp(logNormalizer(name, dims));
        const h = 0.02;
        const lim = name === "gaussian" ? 6 : 1;
        let total = 0;
        const steps = Math.round((2 * lim) / h);
        const axis = Array.from({ length: steps }, (_, i) => -lim + (i + 0.5) * h);
        if (dims === 2)
          for (const a of axis) for (const b of axis) total += KERNELS[name].profile(Math.hypot(a, b));
        else
          for (const a of axis)
            for (const b of axis) for (const z of axis) total += KERNELS[name].profile(Math.hypot(a, b, z));
        total *= c * h ** dims;
        assert.ok(Math.abs(total - 1) < 5e-3, `${name} d=${dims}: ${total}`);
      }
    }
  });
  test("the constant kernel has no density, and says so", () => {
    assert.throws(() => logNormalizer("constant", 1), {
      message: 'logNormalizer: kernel "constant" does not integrate to a finite value, so it has no density.',
    });
  });
});

describe("kernel lookup", () => {
  test("accepts a Kernel object and passes it through", () => {
    assert.equal(resolveKernel("f", KERNELS.cosine), KERNELS.cosine);
  });
  test("rejects something that is not a kernel", () => {
    assert.throws(() => resolveKernel("f", 3), {
      message: /^f: kernel must be a kernel name \(gaussian, .*\) or a Kernel, got 3\.$/,
    });
  });
  test("evaluateKernel leaks nothing", () => {
    for (const name of KERNEL_NAMES) assertNoLeak(name, () => evaluateKernel(name, grid, 1.5));
  });
});
