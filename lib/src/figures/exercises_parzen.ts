/**
 * Exercise 1 (Parzen windows): its settings and figures, in one place, so that its notebook, its
 * unit tests and `npm run figures` use the same data, widths and grids.
 */
import { grid2d, loadIris, twoMoons, type Grid2D, type IrisFeature, type LabelledPoints } from "../classification_data";
import type { KernelName } from "../kernels";
import { compareParzenWithNadarayaWatson, type DecisionAgreement } from "../parzen";
import { decisionFigure, type DecisionFigure, type DecisionPanelInput } from "./decision";
import type { FigureSizeOptions } from "./types";

/** One demonstration of exercise 1: a labelled 2-D data set, a kernel and width, and priors. */
export interface ParzenCase {
  /** Short title, used above the figure panel. */
  readonly title: string;
  readonly data: LabelledPoints;
  readonly kernel: KernelName;
  readonly sigma: number;
  /** Class priors; default empirical. */
  readonly priors?: readonly number[];
}

/** The settings of exercise 1's demonstrations. */
export const PARZEN_SETTINGS = {
  /** Grid lines per axis: 150 × 150 = 22 500 grid points per case. */
  gridSteps: 150,
  kernel: "gaussian",
  /** Width for the synthetic moons (200 points, noise 0.25). */
  moonsSigma: 0.2,
  /** Skewed priors for the moons: upper moon 0.8, lower moon 0.2. */
  skewedPriors: [0.8, 0.2],
  /** The two Iris measurements used as the plane. */
  irisFeatures: ["petal_length", "petal_width"] as readonly IrisFeature[],
  /** Width for Iris, in cm. */
  irisSigma: 0.25,
} as const;

/**
 * Exercise 1's four cases: the seeded moons with empirical and with skewed priors, Iris
 * versicolor against virginica (two classes, ±1), and all three Iris species (one-hot).
 */
export function parzenCases(): {
  moons: ParzenCase;
  moonsSkewed: ParzenCase;
  iris: ParzenCase;
  iris3: ParzenCase;
} {
  const s = PARZEN_SETTINGS;
  const moons = twoMoons();
  const iris = loadIris({ features: s.irisFeatures, species: ["versicolor", "virginica"] });
  const iris3 = loadIris({ features: s.irisFeatures });
  return {
    moons: { title: `moons, empirical priors, σ = ${s.moonsSigma}`, data: moons, kernel: s.kernel, sigma: s.moonsSigma },
    moonsSkewed: {
      title: `moons, priors ${s.skewedPriors.join(" / ")}, σ = ${s.moonsSigma}`,
      data: moons,
      kernel: s.kernel,
      sigma: s.moonsSigma,
      priors: s.skewedPriors,
    },
    iris: { title: `Iris, two species, σ = ${s.irisSigma} cm`, data: iris, kernel: s.kernel, sigma: s.irisSigma },
    iris3: { title: `Iris, three species, σ = ${s.irisSigma} cm`, data: iris3, kernel: s.kernel, sigma: s.irisSigma },
  };
}

/** A case evaluated on its grid: the grid, the agreement of the two rules, and a figure panel. */
export interface ParzenBoundary {
  readonly case: ParzenCase;
  readonly grid: Grid2D;
  readonly agreement: DecisionAgreement;
  /** Parzen regions, with the Parzen boundary (solid) and the Nadaraya-Watson boundary (dashed). */
  readonly panel: DecisionPanelInput;
}

const AXIS_LABELS: Record<string, string> = {
  sepal_length: "sepal length (cm)",
  sepal_width: "sepal width (cm)",
  petal_length: "petal length (cm)",
  petal_width: "petal width (cm)",
};

/**
 * Evaluates the Parzen classifier and Nadaraya-Watson on a `steps × steps` grid over the case's
 * data (from `grid2d`), compares their decisions with `compareParzenWithNadarayaWatson`, and
 * builds a figure panel with both boundaries.
 *
 * @example
 * ```ts
 * const b = parzenBoundary(parzenCases().moons);
 * console.log(`${b.agreement.agree} of ${b.agreement.total}`);
 * ```
 */
export function parzenBoundary(c: ParzenCase, steps: number = PARZEN_SETTINGS.gridSteps): ParzenBoundary {
  const grid = grid2d(c.data.points, { steps });
  const agreement = compareParzenWithNadarayaWatson(c.data.points, c.data.labels, grid.points, c.kernel, {
    sigma: c.sigma,
    ...(c.priors === undefined ? {} : { priors: c.priors }),
  });
  const [xName, yName] = c.data.featureNames;
  const panel: DecisionPanelInput = {
    title: c.title,
    grid,
    regions: agreement.parzen,
    boundaries: [
      { name: "Parzen", decisions: agreement.parzen },
      { name: "Nadaraya-Watson", decisions: agreement.nadarayaWatson, style: "dashed" },
    ],
    points: c.data.points,
    labels: c.data.labels,
    classNames: c.data.classNames,
    xLabel: AXIS_LABELS[xName as string] ?? xName,
    yLabel: AXIS_LABELS[yName as string] ?? yName,
  };
  return { case: c, grid, agreement, panel };
}

/**
 * A row of decision-boundary panels for evaluated cases, each panel with its data set's class names.
 *
 * @example
 * ```ts
 * const { moons, moonsSkewed } = parzenCases();
 * await show(parzenBoundaryFigure([parzenBoundary(moons), parzenBoundary(moonsSkewed)]));
 * ```
 */
export function parzenBoundaryFigure(
  boundaries: readonly ParzenBoundary[],
  options: FigureSizeOptions = {},
): DecisionFigure {
  // The legend lists the classes of the case with the most of them, in its order.
  const classNames = boundaries.reduce<readonly string[]>(
    (most, b) => (b.case.data.classNames.length > most.length ? b.case.data.classNames : most),
    [],
  );
  return decisionFigure(
    boundaries.map((b) => b.panel),
    { ...options, classNames },
  );
}

