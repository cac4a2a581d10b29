/**
 * Exercise 1's notebook claims, from the same settings and code the notebook and `npm run figures`
 * use (PARZEN_SETTINGS, parzenCases, parzenBoundary), and the decision-boundary figure builder.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";

import {
  decisionFigure,
  initBackend,
  nadarayaWatson,
  oneHotLabels,
  parzenBoundary,
  parzenBoundaryFigure,
  parzenCases,
  parzenPosterior,
  PARZEN_SETTINGS,
  type ParzenBoundary,
} from "../../lib/src/index";
import { renderSvgWithWarnings } from "../../lib/src/figures/render";
import { take } from "./helpers";

before(async () => {
  await initBackend({ quiet: true });
});

describe("exercise 1: the notebook's four cases", () => {
  const cases = parzenCases();
  const evaluated = new Map<string, ParzenBoundary>();
  const get = (name: keyof typeof cases): ParzenBoundary => {
    if (!evaluated.has(name)) evaluated.set(name, parzenBoundary(cases[name]));
    return evaluated.get(name)!;
  };

  for (const name of ["moons", "moonsSkewed", "iris", "iris3"] as const) {
    test(`${name}: Parzen and Nadaraya-Watson agree at all 22 500 grid points`, () => {
      const { agreement } = get(name);
      assert.equal(agreement.total, PARZEN_SETTINGS.gridSteps ** 2);
      assert.equal(
        agreement.agree,
        agreement.total,
        `disagreements at ${agreement.disagreements.slice(0, 5)}`,
      );
      assert.ok(agreement.minMargin > 0, "no grid point sits exactly on the boundary");
      assert.ok(!agreement.parzen.includes(-1), "every grid point is decided");
    });
  }

  test("the data are what the notebook says: 200 moons, 100 Iris flowers of two species, 150 of three", () => {
    assert.equal(cases.moons.data.points.length, 200);
    assert.equal(cases.iris.data.points.length, 100);
    assert.deepEqual(cases.iris.data.classNames, ["versicolor", "virginica"]);
    assert.equal(cases.iris3.data.points.length, 150);
    assert.deepEqual(cases.moonsSkewed.priors, [0.8, 0.2]);
  });

  test("skewed priors enlarge the favoured class's region", () => {
    const even = get("moons").agreement.parzen;
    const skewed = get("moonsSkewed").agreement.parzen;
    const count = (d: Int32Array, c: number) => d.filter((v) => v === c).length;
    assert.ok(count(skewed, 0) > count(even, 0) + 500, `${count(even, 0)} → ${count(skewed, 0)}`);
  });

  test("the boundary figure renders without vega warnings", async () => {
    const figure = parzenBoundaryFigure([get("iris"), get("iris3")]);
    assert.deepEqual(figure.classNames, ["setosa", "versicolor", "virginica"], "legend in species order");
    const { svg, warnings } = await renderSvgWithWarnings(figure);
    assert.deepEqual(warnings, []);
    assert.match(svg, /^<svg/);
    assert.match(svg, /Nadaraya-Watson/);
  });
});

describe("decisionFigure", () => {
  const grid = { x: [0, 1, 2], y: [0, 1] };
  // Row y = 0: classes 0 0 1; row y = 1: classes 0 1 1.
  const regions = [0, 0, 1, 0, 1, 1];
  const points = [
    [0, 0],
    [2, 1],
  ];

  test("merges each row into runs of one class and draws edges between differing cells", () => {
    const f = decisionFigure([
      { grid, regions, points, labels: [0, 1], boundaries: [{ name: "rule", decisions: regions }] },
    ]);
    const panel = f.panels[0]!;
    assert.deepEqual(panel.regions, [
      { x0: -0.5, x1: 1.5, y0: -0.5, y1: 0.5, class: "class 0" },
      { x0: 1.5, x1: 2.5, y0: -0.5, y1: 0.5, class: "class 1" },
      { x0: -0.5, x1: 0.5, y0: 0.5, y1: 1.5, class: "class 0" },
      { x0: 0.5, x1: 2.5, y0: 0.5, y1: 1.5, class: "class 1" },
    ]);
    // Vertical edges at x = 1.5 (row 0) and x = 0.5 (row 1); a horizontal edge above cell (1, 0).
    assert.deepEqual(panel.boundaries[0]!.segments, [
      { x: 1.5, y: -0.5, x2: 1.5, y2: 0.5 },
      { x: 0.5, y: 0.5, x2: 1.5, y2: 0.5 },
      { x: 0.5, y: 0.5, x2: 0.5, y2: 1.5 },
    ]);
    assert.deepEqual(panel.xDomain, [-0.5, 2.5]);
    assert.deepEqual(panel.points, [
      { x: 0, y: 0, class: "class 0" },
      { x: 2, y: 1, class: "class 1" },
    ]);
  });

  test("undecided grid points (−1) are left out of the regions", () => {
    const f = decisionFigure([{ grid, regions: [0, -1, -1, 0, 0, 0], points, labels: [0, 0] }]);
    assert.deepEqual(
      f.panels[0]!.regions.map((r) => [r.x0, r.x1, r.y0]),
      [
        [-0.5, 0.5, -0.5],
        [-0.5, 2.5, 0.5],
      ],
    );
  });

  test("colours follow class names across panels that number classes differently", () => {
    const f = decisionFigure(
      [
        { grid, regions, points, labels: [0, 1], classNames: ["b", "c"] },
        { grid, regions, points, labels: [0, 1], classNames: ["a", "b"] },
      ],
      { classNames: ["a", "b", "c"] },
    );
    assert.deepEqual(f.classNames, ["a", "b", "c"]);
    assert.equal(f.panels[0]!.points[0]!.class, "b");
    assert.equal(f.panels[1]!.points[0]!.class, "a");
    assert.equal(f.classColors.length, 3);
  });

  const errors: [string, () => unknown, string][] = [
    [
      "regions of the wrong length",
      () => decisionFigure([{ grid, regions: [0, 1], points, labels: [0, 1] }]),
      "decisionFigure: panels[0].regions must have 6 entries, got 2.",
    ],
    [
      "a descending grid axis",
      () => decisionFigure([{ grid: { x: [0, 2, 1], y: [0, 1] }, regions, points, labels: [0, 1] }]),
      "decisionFigure: panels[0].grid.x must be strictly ascending, got 2 then 1 at index 2.",
    ],
    [
      "a fractional class",
      () => decisionFigure([{ grid, regions, points, labels: [0, 0.5] }]),
      "decisionFigure: panels[0].labels must hold class indices >= 0 or −1, got 0.5 at index 1.",
    ],
    [
      "too few class names",
      () => decisionFigure([{ grid, regions, points, labels: [0, 1], classNames: ["only"] }]),
      'decisionFigure: panels[0].classNames must name each of the 2 classes, got ["only"] (length 1).',
    ],
    [
      "an unknown boundary style",
      () =>
        decisionFigure([
          {
            grid,
            regions,
            points,
            labels: [0, 1],
            boundaries: [{ name: "b", decisions: regions, style: "dotted" as "line" }],
          },
        ]),
      "decisionFigure: panels[0].boundaries[0].style must be one of 'line', 'dashed', got \"dotted\".",
    ],
    [
      "a point that is not a pair",
      () => decisionFigure([{ grid, regions, points: [[0, 0, 0]], labels: [0] }]),
      "decisionFigure: panels[0].points[0] must be an [x, y] pair, got [0, 0, 0] (length 3).",
    ],
  ];
  for (const [name, body, message] of errors) {
    test(`rejects ${name}`, () => {
      assert.throws(body, (e: Error) => {
        assert.equal(e.message, message);
        return true;
      });
    });
  }
});

describe("exercise 1: the notebook's further checks", () => {
  const cases = parzenCases();

  test("priors as a moved threshold: plain ±1 Nadaraya-Watson above t = 0.6 is the Parzen decision with priors", () => {
    const skewed = parzenBoundary(cases.moonsSkewed);
    const { points, labels } = cases.moons.data;
    const [piMinus, piPlus] = PARZEN_SETTINGS.skewedPriors;
    const N = labels.length;
    const nPlus = labels.filter((l) => l === 1).length;
    const wMinus = (piMinus * N) / (N - nPlus);
    const wPlus = (piPlus * N) / nPlus;
    const t = (wMinus - wPlus) / (wMinus + wPlus);
    assert.ok(Math.abs(t - 0.6) < 1e-12, `t = ${t}`);
    const nw = nadarayaWatson(
      points,
      labels.map((l) => 2 * l - 1),
      skewed.grid.points,
      "gaussian",
      { sigma: cases.moons.sigma },
    );
    const f = take(nw.predictions);
    const matches = f.filter((v, i) => (v > t ? 1 : 0) === skewed.agreement.parzen[i]).length;
    assert.equal(matches, f.length);
  });

  test("three Iris species: the Parzen posterior equals Nadaraya-Watson on one-hot labels within 2e-6 on the grid", () => {
    const three = cases.iris3;
    const grid = parzenBoundary(three, 150).grid.points;
    const posterior = take(
      parzenPosterior(three.data.points, three.data.labels, grid, "gaussian", { sigma: three.sigma }),
    );
    const oneHot = oneHotLabels(three.data.labels);
    const pooled = nadarayaWatson(three.data.points, oneHot, grid, "gaussian", { sigma: three.sigma });
    oneHot.dispose();
    const nw = take(pooled.predictions);
    let maxDiff = 0;
    posterior.forEach((p, i) => (maxDiff = Math.max(maxDiff, Math.abs(p - nw[i]!))));
    assert.ok(maxDiff <= 2e-6, `max difference ${maxDiff}`);
    assert.ok(maxDiff > 0, "the two paths really are different computations");
  });
});
