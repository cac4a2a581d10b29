/**
 * The optimisers of bandwidth selection, in float64 on plain numbers: a quasi-Newton (BFGS)
 * descent with a backtracking line search for the fits, and a golden-section search for the
 * one-dimensional oracle width.
 */
import { type LossAndGradient } from "./loss_engine";

/**
 * Why {@link fitBandwidth} stopped:
 * - `"step"`: the last step moved every log σ_d by less than `tolerance` (converged);
 * - `"gradient"`: the gradient is exactly zero (converged; e.g. the training loss once every
 *   point attends only to itself);
 * - `"precision"`: the loss cannot be lowered within float32 resolution: either a full
 *   quasi-Newton step would gain less than 10⁻⁶ of the loss (converged), or the line search
 *   found no decrease at all (converged only if that step is below 10⁻³ in log σ; the
 *   training loss may end this way, still falling as σ → 0 until it underflows, or by
 *   `"maxIterations"` while it still falls);
 * - `"maxIterations"`: the iteration budget ran out (not converged).
 */
export type StopReason = "step" | "gradient" | "precision" | "maxIterations";

interface MinimiseOptions {
  /** Upper bound of each t_j; steps are projected onto it. */
  readonly upper: readonly number[];
  readonly maxIterations: number;
  readonly learningRate: number;
  readonly maxStep: number;
  readonly tolerance: number;
}

interface MinimiseResult {
  t: number[];
  loss: number;
  gradient: number[];
  converged: boolean;
  stopReason: StopReason;
  iterations: number;
  path: number[][];
  pathLoss: number[];
}

/** Relative resolution of a float32 loss summed over blocks: gains below this are noise. */
const PRECISION = 1e-6;

const dot = (a: readonly number[], b: readonly number[]): number =>
  a.reduce((s, v, i) => s + v * (b[i] as number), 0);
const maxAbs = (a: readonly number[]): number => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const isFiniteAll = (a: readonly number[]): boolean => a.every(Number.isFinite);

/**
 * BFGS on a small vector t with an Armijo backtracking line search; `f` returns the loss and
 * its gradient. The inverse Hessian starts as (learningRate / L) I and is rescaled by sᵀy / yᵀy
 * after the first step (Nocedal & Wright, eq. 6.20).
 */
export function minimise(
  f: (t: number[]) => LossAndGradient,
  t0: number[],
  o: MinimiseOptions,
): MinimiseResult {
  const p = t0.length;
  let t = t0.slice();
  let { loss, gradient: g } = f(t);
  const path = [t.slice()];
  const pathLoss = [loss];
  const result = (converged: boolean, stopReason: StopReason, iterations: number): MinimiseResult => ({
    t,
    loss,
    gradient: g,
    converged,
    stopReason,
    iterations,
    path,
    pathLoss,
  });
  if (!Number.isFinite(loss) || !isFiniteAll(g)) return result(false, "precision", 0);
  const identity = (scale: number): number[][] =>
    Array.from({ length: p }, (_, i) => Array.from({ length: p }, (_, j) => (i === j ? scale : 0)));
  let H = identity(o.learningRate / Math.max(Math.abs(loss), Number.MIN_VALUE));
  let first = true;
  for (let iter = 1; iter <= o.maxIterations; iter++) {
    if (maxAbs(g) === 0) return result(true, "gradient", iter - 1);
    // Coordinates held at their upper bound and pushed further out do not move.
    const free = t.map((v, j) => v < (o.upper[j] as number) || (g[j] as number) > 0);
    const project = (d: number[]): number[] => d.map((v, j) => (free[j] ? v : 0));
    let dir = project(H.map((row) => -dot(row, g)));
    if (!(dot(dir, g) < 0) || !isFiniteAll(dir)) {
      H = identity(o.learningRate / Math.max(Math.abs(loss), Number.MIN_VALUE));
      dir = project(H.map((row) => -dot(row, g)));
    }
    if (maxAbs(dir) === 0) return result(true, "gradient", iter - 1);
    const longest = maxAbs(dir);
    if (longest > o.maxStep) dir = dir.map((v) => (v * o.maxStep) / longest);
    const slope = dot(dir, g);
    if (!first && -slope <= PRECISION * Math.abs(loss)) {
      // A full quasi-Newton step would gain less than float32 can resolve in the loss.
      return result(true, "precision", iter - 1);
    }
    let alpha = 1;
    let accepted: { t: number[]; loss: number; gradient: number[] } | undefined;
    for (let k = 0; k < 40; k++) {
      const trial = t.map((v, i) => Math.min(v + alpha * (dir[i] as number), o.upper[i] as number));
      const next = f(trial);
      if (
        Number.isFinite(next.loss) &&
        isFiniteAll(next.gradient) &&
        next.loss <= loss + 1e-4 * alpha * slope
      ) {
        accepted = { t: trial, loss: next.loss, gradient: next.gradient };
        break;
      }
      alpha /= 2;
      if (alpha * maxAbs(dir) < o.tolerance * 1e-3) break;
    }
    if (accepted === undefined) {
      // No decrease representable in float32: we are at the floor of the loss's precision.
      return result(maxAbs(dir) < 1e-3, "precision", iter - 1);
    }
    const s = accepted.t.map((v, i) => v - (t[i] as number));
    const y = accepted.gradient.map((v, i) => v - (g[i] as number));
    t = accepted.t;
    loss = accepted.loss;
    g = accepted.gradient;
    path.push(t.slice());
    pathLoss.push(loss);
    const sy = dot(s, y);
    if (sy > 1e-12 * Math.sqrt(dot(s, s) * dot(y, y))) {
      if (first) {
        H = identity(sy / dot(y, y));
        first = false;
      }
      // H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ
      const rho = 1 / sy;
      const Hy = H.map((row) => dot(row, y));
      const yHy = dot(y, Hy);
      H = H.map((row, i) =>
        row.map(
          (h, j) =>
            h -
            rho * ((s[i] as number) * (Hy[j] as number) + (Hy[i] as number) * (s[j] as number)) +
            (rho * rho * yHy + rho) * (s[i] as number) * (s[j] as number),
        ),
      );
    }
    if (maxAbs(s) < o.tolerance) return result(true, "step", iter);
  }
  return maxAbs(g) === 0
    ? result(true, "gradient", o.maxIterations)
    : result(false, "maxIterations", o.maxIterations);
}

/**
 * Golden-section search for a minimum of `score(f(x))` on [a, b], down to a bracket narrower
 * than `tolerance`. Assumes one minimum in the bracket. Returns the better of the last two
 * points and its value.
 */
export function goldenSection<T>(
  f: (x: number) => T,
  score: (value: T) => number,
  a: number,
  b: number,
  tolerance: number,
): { x: number; value: T } {
  const ratio = (Math.sqrt(5) - 1) / 2;
  let c = b - ratio * (b - a);
  let d = a + ratio * (b - a);
  let fc = f(c);
  let fd = f(d);
  while (b - a > tolerance) {
    if (score(fc) <= score(fd)) {
      b = d;
      d = c;
      fd = fc;
      c = b - ratio * (b - a);
      fc = f(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + ratio * (b - a);
      fd = f(d);
    }
  }
  return score(fc) <= score(fd) ? { x: c, value: fc } : { x: d, value: fd };
}
