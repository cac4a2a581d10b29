/**
 * decisionFigure (classification regions, cell-edge boundaries and labelled points on a 2-D grid):
 * its regions, boundary segments and colours, rendering, and input errors. Moved here from the
 * exercise 1 test file when exercise 1's drivers left lib; decisionFigure stays in lib.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";

import { decisionFigure, grid2d, initBackend, loadIris, parzenClassifier } from "../../../../lib/src/index";
import { renderSvgWithWarnings } from "../../../../lib/src/figures/render";
import { take } from "../../helpers";

before(async () => {
  await initBackend({ quiet: true });
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

  test("panels of Parzen decisions on Iris render without vega warnings, with a solid and a dashed boundary", async () => {
    // Two species in one panel and three in the other, as exercise 1 shows them: the legend
    // follows the figure's class names, and each panel maps its class indices through its own.
    const features: ("petal_length" | "petal_width")[] = ["petal_length", "petal_width"];
    const two = loadIris({ features, species: ["versicolor", "virginica"] });
    const three = loadIris({ features });
    const decide = (data: typeof two, grid: { points: number[][] }, priors?: number[]): number[] => {
      const r = parzenClassifier(data.points, data.labels, grid.points, "gaussian", {
        sigma: 0.25,
        ...(priors === undefined ? {} : { priors }),
      });
      r.logJoint.dispose();
      r.posterior.dispose();
      return take(r.labels);
    };
    const panel = (data: typeof two, title: string, priors: number[]) => {
      const grid = grid2d(data.points, { steps: 40 });
      const decisions = decide(data, grid);
      return {
        title,
        grid,
        regions: decisions,
        boundaries: [
          { name: "empirical priors", decisions },
          { name: "skewed priors", decisions: decide(data, grid, priors), style: "dashed" as const },
        ],
        points: data.points,
        labels: data.labels,
        classNames: data.classNames,
      };
    };
    const figure = decisionFigure(
      [panel(two, "two species", [0.8, 0.2]), panel(three, "three species", [0.2, 0.3, 0.5])],
      {
        classNames: three.classNames,
      },
    );
    assert.deepEqual(figure.classNames, ["setosa", "versicolor", "virginica"], "legend in species order");
    assert.equal(
      figure.panels[0]!.points[0]!.class,
      "versicolor",
      "label 0 of the first panel is versicolor",
    );
    for (const p of figure.panels) {
      const [even, skewed] = p.boundaries;
      assert.ok(even!.segments.length > 0, "the boundary crosses the grid");
      assert.notDeepEqual(skewed!.segments, even!.segments, "priors move the boundary");
    }
    const { svg, warnings } = await renderSvgWithWarnings(figure);
    assert.deepEqual(warnings, []);
    assert.match(svg, /^<svg/);
    assert.match(svg, /skewed priors/);
  });
});
