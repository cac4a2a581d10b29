// kernels.ts without tensors: the normalising constants (each normalised kernel integrates to 1,
// checked on a 2-D grid and by a radial quadrature in 1 to 5 dimensions) and the kernel lookup,
// all in plain float64, so they run once rather than on every backend.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { KERNELS, KERNEL_NAMES, logNormalizer } from "../../../lib/src/index";
import { resolveKernel } from "../../../lib/src/kernels";

/** Gauss-Legendre nodes and weights on [−1, 1]: the roots of P_n, by Newton's method from Tricomi's guesses. */
function gaussLegendre(n: number): { nodes: number[]; weights: number[] } {
  const nodes: number[] = [];
  const weights: number[] = [];
  for (let i = 1; i <= n; i++) {
    let x = Math.cos((Math.PI * (i - 0.25)) / (n + 0.5));
    let slope = 0;
    for (let step = 0; step < 100; step++) {
      // P_n(x) and P_n'(x) by the three-term recurrence.
      let previous = 1;
      let current = x;
      for (let k = 2; k <= n; k++)
        [previous, current] = [current, ((2 * k - 1) * x * current - (k - 1) * previous) / k];
      slope = (n * (x * current - previous)) / (x * x - 1);
      const dx = current / slope;
      x -= dx;
      if (Math.abs(dx) < 1e-16) break;
    }
    nodes.push(x);
    weights.push(2 / ((1 - x * x) * slope * slope));
  }
  return { nodes, weights };
}

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
  test("in 2-D the normalised kernels integrate to 1 on a Cartesian grid (no polar coordinates)", () => {
    for (const name of ["boxcar", "epanechnikov", "triangular", "gaussian"] as const) {
      const c = Math.exp(logNormalizer(name, 2));
      const h = 0.02;
      const lim = name === "gaussian" ? 6 : 1;
      let total = 0;
      const steps = Math.round((2 * lim) / h);
      const axis = Array.from({ length: steps }, (_, i) => -lim + (i + 0.5) * h);
      for (const a of axis) for (const b of axis) total += KERNELS[name].profile(Math.hypot(a, b));
      total *= c * h ** 2;
      assert.ok(Math.abs(total - 1) < 5e-3, `${name} d=2: ${total}`);
    }
  });

  // For a radial kernel, ∫_{ℝ^d} k(‖u‖) du = |S^(d−1)| ∫₀^∞ k(r) r^(d−1) dr, with the unit sphere's
  // area written out (not computed as lib computes it) and the radial integral by composite
  // 20-point Gauss-Legendre: exact for the polynomial kernels, and at rounding level for the
  // Gaussian (on [0, 12]; the tail beyond is below 1e-30) and the cosine kernel. The sums come out
  // within 1e-14 of 1, so 1e-10 leaves room for rounding while any real error in a normaliser (a
  // wrong sphere area, power of r or support) is of order 1. The Cartesian grid above cannot see
  // an error below 5e-3.
  const SPHERE_AREA = [2, 2 * Math.PI, 4 * Math.PI, 2 * Math.PI ** 2, (8 * Math.PI ** 2) / 3];
  const rule = gaussLegendre(20);
  const integrate = (f: (r: number) => number, end: number, panels: number): number => {
    const h = end / panels;
    let sum = 0;
    for (let p = 0; p < panels; p++)
      rule.nodes.forEach((x, i) => (sum += rule.weights[i]! * f((p + 0.5 + x / 2) * h)));
    return (sum * h) / 2;
  };

  test("the radial rule integrates r⁹ and eʳ on [0, 1] to within 1e-15", () => {
    assert.ok(Math.abs(integrate((r) => r ** 9, 1, 1) - 0.1) < 1e-15);
    assert.ok(Math.abs(integrate(Math.exp, 1, 1) - (Math.E - 1)) < 1e-15);
  });

  for (const name of KERNEL_NAMES.filter((k) => k !== "constant")) {
    test(`${name}: in 1 to 5 dimensions the normalised kernel integrates to 1 within 1e-10 (radial quadrature)`, () => {
      const k = KERNELS[name];
      const bounded = Number.isFinite(k.support);
      for (let dims = 1; dims <= 5; dims++) {
        const c = Math.exp(logNormalizer(name, dims));
        const radial = integrate(
          (r) => k.profile(r) * r ** (dims - 1),
          bounded ? k.support : 12,
          bounded ? 4 : 24,
        );
        const total = c * SPHERE_AREA[dims - 1]! * radial;
        assert.ok(Math.abs(total - 1) < 1e-10, `${name} d=${dims}: ${total}`);
      }
    });
  }

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
      message:
        "f: kernel must be a kernel name (gaussian, boxcar, constant, epanechikov, triangular, epanechnikov, " +
        "biweight, tricube, cosine) or a Kernel, got 3.",
    });
  });
});
