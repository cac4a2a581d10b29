// kernels.ts without tensors: the normalising constants (each normalised kernel integrates to 1)
// and the kernel lookup, all in plain float64, so they run once rather than on every backend.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { KERNELS, logNormalizer, resolveKernel } from "../../../lib/src/index";

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
});
