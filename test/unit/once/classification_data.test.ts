// classification_data.ts: the seeded two moons, Fisher's Iris and the 2-D query grid, all plain
// numbers (no tensor), so they run once rather than on every backend. Moved from parzen.test.ts.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { grid2d, loadIris, twoMoons } from "../../../lib/src/index";

describe("labelled 2-D data", () => {
  test("twoMoons is seeded, balanced, alternating and rounded to 6 decimals", () => {
    const a = twoMoons();
    const b = twoMoons();
    assert.deepEqual(a, b);
    assert.equal(a.points.length, 200);
    assert.deepEqual(a.labels.slice(0, 4), [0, 1, 0, 1]);
    assert.equal(a.labels.filter((l) => l === 1).length, 100);
    assert.ok(a.points.flat().every((v) => Math.round(v * 1e6) / 1e6 === v));
    assert.notDeepEqual(twoMoons({ seed: "other" }).points, a.points);
  });

  test("twoMoons without noise lies on the two arcs", () => {
    const { points, labels } = twoMoons({ perClass: 20, noise: 0 });
    points.forEach(([x, y], i) => {
      const [cx, cy] = labels[i] === 0 ? [0, 0] : [1, 0.5];
      assert.ok(Math.abs(Math.hypot(x! - cx, y! - cy) - 1) < 2e-6, `point ${i} is on its unit arc`);
      assert.ok(labels[i] === 0 ? y! >= 0 : y! <= 0.5, `point ${i} is on the correct half`);
    });
  });

  test("loadIris reads Fisher's 150 flowers, 50 per species, with Fisher's rows 35 and 38", () => {
    const iris = loadIris();
    assert.equal(iris.points.length, 150);
    assert.deepEqual(
      [0, 1, 2].map((c) => iris.labels.filter((l) => l === c).length),
      [50, 50, 50],
    );
    assert.deepEqual(iris.points[0], [5.1, 3.5, 1.4, 0.2]);
    assert.deepEqual(iris.points[34], [4.9, 3.1, 1.5, 0.2]);
    assert.deepEqual(iris.points[37], [4.9, 3.6, 1.4, 0.1]);
    assert.deepEqual(iris.points[149], [5.9, 3.0, 5.1, 1.8]);
  });

  test("loadIris selects and orders features and relabels a subset of species", () => {
    const iris = loadIris({
      features: ["petal_width", "petal_length"],
      species: ["virginica", "versicolor"],
    });
    assert.equal(iris.points.length, 100);
    assert.deepEqual(iris.points[0], [1.4, 4.7], "row 51 of the file, versicolor, features swapped");
    assert.equal(iris.labels[0], 1, "versicolor is the second species asked for");
    assert.equal(iris.labels[99], 0);
    assert.deepEqual(iris.classNames, ["virginica", "versicolor"]);
  });

  test("loadIris rejects unknown features and repeated species", () => {
    assert.throws(() => loadIris({ features: ["petal_area" as "petal_width"] }), {
      message:
        'loadIris: options.features entries must be one of sepal_length, sepal_width, petal_length, petal_width, got "petal_area".',
    });
    assert.throws(() => loadIris({ species: ["setosa", "setosa"] }), {
      message: 'loadIris: options.species must not repeat an entry, got ["setosa", "setosa"] (length 2).',
    });
  });

  test("grid2d covers the padded bounding box, row by row", () => {
    const g = grid2d(
      [
        [0, 0],
        [1, 2],
      ],
      { steps: 3, pad: 0 },
    );
    assert.deepEqual(g.x, [0, 0.5, 1]);
    assert.deepEqual(g.y, [0, 1, 2]);
    assert.deepEqual(g.points[3], [0, 1]);
    assert.deepEqual(g.points[8], [1, 2]);
    const padded = grid2d(
      [
        [0, 0],
        [10, 10],
      ],
      { steps: 5, pad: 0.1 },
    );
    assert.deepEqual(padded.x, [-1, 2, 5, 8, 11]);
    assert.throws(() => grid2d([[0, 0, 0]]), {
      message: "grid2d: points must be finite [x, y] pairs, got [0, 0, 0] (length 3) at index 0.",
    });
  });
});
