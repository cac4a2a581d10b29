/**
 * figures/decision.ts, decisionFigure (classification regions, cell-edge boundaries and labelled
 * points on a 2-D grid): its regions, boundary segments and colours, and input errors, on plain
 * numbers (no tensor), so these run once. Drawn from parzenClassifier's decisions and rendered:
 * figures/decision.test.ts, on every backend.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { decisionFigure } from "../../../../lib/src/index";

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
