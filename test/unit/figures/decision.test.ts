/**
 * figures/decision.ts fed by parzenClassifier: decisionFigure draws the Parzen decisions on Iris,
 * which are computed with tensors, so this runs on every backend. decisionFigure's own logic on
 * plain numbers: once/figures/decision.test.ts.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";

import { decisionFigure, grid2d, initBackend, loadIris, parzenClassifier } from "../../../lib/src/index";
import { renderSvgWithWarnings } from "../../../lib/src/figures/render";
import { take } from "../helpers";

before(async () => {
  await initBackend({ quiet: true });
});

describe("decisionFigure", () => {
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
