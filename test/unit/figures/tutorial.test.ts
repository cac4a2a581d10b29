// figures/lines.ts and figures/heatmaps.ts on the tutorial's figures, built as notebook 01 builds
// them from lib's tensors (so on every backend): panels, series, axes, colour scales, and the
// numbers drawn against a float64 Nadaraya-Watson; and the README's figures example. Rendering and
// showing the figures, built from float64 numbers, runs once: once/figures/output.test.ts.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { before, describe, test } from "node:test";

import {
  attentionWeights,
  evaluateKernel,
  heatmapsFigure,
  initBackend,
  linesFigure,
  nadarayaWatson,
  tf,
  type HeatmapsFigure,
  type LinesFigure,
} from "../../../lib/src/index";
import { REFERENCE_PROFILES, assertClose, referenceNW } from "../helpers";
import {
  GAUSSIAN_WIDTHS,
  N_KEYS,
  N_QUERIES,
  TUTORIAL_KERNELS,
  data,
  pngSize,
  specOf,
  tutorialFigures,
} from "./helpers";

before(async () => {
  await initBackend({ quiet: true });
});

// The numbers as the notebook computes them, with lib on the active backend.
const { kernelShapesFigure, predictionsFigure, attentionFigure } = tutorialFigures({
  kernel: (name, x) => {
    const y = evaluateKernel(name, x);
    const values = Array.from(y.dataSync());
    y.dispose();
    return values;
  },
  predictions: (d, kernel, sigma) => {
    const { predictions } = nadarayaWatson(d.xTrain, d.yTrain, d.xVal, kernel, { sigma });
    const yHat = Array.from(predictions.dataSync());
    predictions.dispose();
    return yHat;
  },
  weights: (d, kernel, sigma) => attentionWeights(d.xTrain, d.xVal, kernel, { sigma }),
});

describe("kernelShapesFigure", () => {
  let figure: LinesFigure;
  before(() => {
    figure = kernelShapesFigure();
  });

  test("has one panel per tutorial kernel, titled, with the triangular kernel named as such", () => {
    assert.equal(figure.kind, "lines");
    assert.deepEqual(
      figure.panels.map((p) => p.title),
      ["Gaussian", "Boxcar", "Constant", "Epanechikov (triangular)"],
    );
    assert.equal(specOf(figure).hconcat.length, 4);
  });

  test("draws k(x) on x = -2.5, -2.4, …, 2.4 with the tutorial's kernel definitions", () => {
    for (const [i, name] of TUTORIAL_KERNELS.entries()) {
      const panel = figure.panels[i]!;
      assert.equal(panel.series.length, 1, `${name}: one series`);
      const s = panel.series[0]!;
      assert.equal(s.x.length, 50);
      assert.equal(s.x[0], -2.5);
      assert.ok(Math.abs(s.x[49]! - 2.4) < 1e-12, `${name}: last x is 2.4, got ${s.x[49]}`);
      const profile = REFERENCE_PROFILES[name]!;
      assertClose(
        s.y,
        s.x.map((x) => profile(Math.abs(x))),
        1e-6,
        1e-7,
        `${name} k(x)`,
      );
      assert.equal(specOf(figure).datasets[`panel-${i}-lines`]!.length, 50, `${name}: rows drawn`);
    }
  });

  test("labels x in every panel, k(x) once, and has no legend for its single series", () => {
    assert.deepEqual(
      figure.panels.map((p) => p.xLabel),
      ["x", "x", "x", "x"],
    );
    assert.equal(figure.yLabel, "k(x)");
    assert.equal(figure.legend, false);
    const yTitles = specOf(figure).hconcat.map((p) => p.layer[0]!.encoding!.y.title);
    assert.deepEqual(yTitles, ["k(x)", null, null, null]);
  });
});

describe("predictionsFigure", () => {
  let figure: LinesFigure;
  before(() => {
    figure = predictionsFigure(data);
  });

  test("draws all four kernels, the constant one included", () => {
    assert.equal(figure.panels.length, 4);
    assert.equal(specOf(figure).hconcat.length, 4);
    assert.equal(figure.panels[2]!.title, "Constant");
  });

  test("each panel has prediction (solid), true function (dashed) and training points (opacity 0.5)", () => {
    for (const panel of figure.panels) {
      assert.deepEqual(
        panel.series.map((s) => [s.name, s.style, s.opacity]),
        [
          ["Prediction", "line", 1],
          ["True function", "dashed", 1],
          ["Training data", "points", 0.5],
        ],
        `${panel.title}`,
      );
      assert.equal(panel.xLabel, "x");
    }
    for (let p = 0; p < 4; p++) {
      assert.equal(
        specOf(figure).datasets[`panel-${p}-lines`]!.length,
        2 * N_QUERIES,
        `panel ${p} line rows`,
      );
      assert.equal(specOf(figure).datasets[`panel-${p}-points`]!.length, N_KEYS, `panel ${p} point rows`);
    }
    assert.equal(figure.yLabel, "y");
    assert.equal(figure.legend, true);
  });

  test("the constant kernel predicts the mean of the training targets everywhere", () => {
    const mean = data.yTrain.reduce((a, b) => a + b, 0) / N_KEYS;
    const constant = figure.panels[2]!.series[0]!;
    assertClose(constant.y, new Array(N_QUERIES).fill(mean), 1e-5, 1e-5, "constant prediction");
  });

  test("predictions for the Gaussian widths match a float64 Nadaraya-Watson", () => {
    const widths = predictionsFigure(data, GAUSSIAN_WIDTHS);
    assert.deepEqual(
      widths.panels.map((p) => p.title),
      ["σ = 0.1", "σ = 0.2", "σ = 0.5", "σ = 1"],
    );
    for (const [i, sigma] of GAUSSIAN_WIDTHS.entries()) {
      const ref = referenceNW(
        data.xTrain.map((x) => [x]),
        data.yTrain.map((y) => [y]),
        data.xVal.map((x) => [x]),
        REFERENCE_PROFILES.gaussian!,
        [sigma],
      );
      assertClose(
        widths.panels[i]!.series[0]!.y,
        ref.predictions.map((r) => r[0]!),
        1e-4,
        1e-4,
        `σ = ${sigma}`,
      );
    }
  });

  test("shares one y range that holds every drawn value", () => {
    const all = figure.panels.flatMap((p) => p.series.flatMap((s) => s.y));
    assert.ok(figure.yDomain[0] < Math.min(...all) && figure.yDomain[1] > Math.max(...all));
    for (const panel of specOf(figure).hconcat) {
      for (const layer of panel.layer.filter((l) => l.encoding?.y?.field === "y")) {
        assert.deepEqual(layer.encoding!.y.scale.domain, [...figure.yDomain]);
      }
    }
  });
});

describe("attentionFigure", () => {
  let kernels: HeatmapsFigure;
  let widths: HeatmapsFigure;
  before(() => {
    kernels = attentionFigure(data);
    widths = attentionFigure(data, GAUSSIAN_WIDTHS);
  });

  test("has nQueries × nKeys cells per panel, key index on y and query index on x", () => {
    for (const figure of [kernels, widths]) {
      assert.equal(figure.kind, "heatmaps");
      assert.equal(figure.panels.length, 4);
      for (const [p, panel] of figure.panels.entries()) {
        assert.equal(panel.nQueries, N_QUERIES);
        assert.equal(panel.nKeys, N_KEYS);
        const cells = specOf(figure).datasets[`panel-${p}-cells`]!;
        assert.equal(cells.length, N_QUERIES * N_KEYS, `panel ${p} cells`);
        // The cell of query 7 and key 3 is centred at x = 7, y = 3 and holds weights[7][3].
        const cell = cells.find((c) => c.q0 === 6.5 && c.k0 === 2.5)!;
        assert.equal(cell.w, panel.weights[7]![3]);
      }
      const first = specOf(figure).hconcat[0]!.layer[0]!.encoding!;
      assert.equal(first.x.field, "q0");
      assert.equal(first.y.field, "k0");
      assert.equal(first.y.scale.reverse, true, "key 0 at the top, as imshow draws row 0");
      assert.equal(first.x.title, "Query (validation) index");
      assert.equal(first.y.title, "Key (training) index");
      const otherTitles = specOf(figure)
        .hconcat.slice(1)
        .map((p) => p.layer[0]!.encoding!.y.title);
      assert.deepEqual(otherTitles, [null, null, null], "y axis labelled once");
    }
  });

  test("each query's weights in a panel sum to 1", () => {
    for (const panel of [...kernels.panels, ...widths.panels]) {
      for (const [q, row] of panel.weights.entries()) {
        const sum = row.reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(sum - 1) < 1e-5, `${panel.title} query ${q}: weights sum to ${sum}`);
      }
    }
  });

  test("uses one Reds colour scale from 0 to the largest weight of all panels", () => {
    for (const figure of [kernels, widths]) {
      const max = Math.max(...figure.panels.flatMap((p) => p.weights.flat()));
      assert.deepEqual(figure.colorDomain, [0, max]);
      assert.equal(figure.colorScheme, "Reds");
      const legends = specOf(figure).hconcat.map((p) => p.layer[0]!.encoding!.color);
      for (const color of legends) {
        const domain = color.scale.domain as number[];
        assert.equal(domain[0], 0);
        assert.equal(domain[domain.length - 1], max);
        assert.equal(color.scale.range[0], "#fff5f0", "near-white at 0, as matplotlib's Reds");
        assert.equal(color.scale.range[color.scale.range.length - 1], "#67000d");
      }
      assert.deepEqual(
        (figure.spec as { resolve: { scale: { color: string } } }).resolve.scale.color,
        "shared",
      );
    }
  });

  test("a sqrt colour scale puts the nine reds evenly in √weight, on the same shared domain", () => {
    const sqrt = attentionFigure(data, GAUSSIAN_WIDTHS, { colorScale: "sqrt" });
    assert.equal(sqrt.colorScale, "sqrt");
    assert.equal(widths.colorScale, "linear", "linear by default");
    assert.deepEqual(sqrt.colorDomain, widths.colorDomain);
    const max = widths.colorDomain[1];
    for (const panel of specOf(sqrt).hconcat) {
      const scale = panel.layer[0]!.encoding!.color.scale;
      assert.equal(scale.type, "sqrt");
      const stops = scale.domain as number[];
      assert.equal(stops.length, 9);
      stops.forEach((v, i) =>
        assert.ok(Math.abs(Math.sqrt(v) - (Math.sqrt(max) * i) / 8) < 1e-12, `stop ${i}: ${v}`),
      );
    }
    assert.throws(() => heatmapsFigure([{ weights: [[1]] }], { colorScale: "sqrt", colorDomain: [-1, 1] }), {
      message:
        'heatmapsFigure: options.colorDomain must start at 0 or above for a "sqrt" colour scale, got [-1, 1].',
    });
  });

  test("the narrowest Gaussian concentrates more weight than the widest", () => {
    const peak = (i: number) => Math.max(...widths.panels[i]!.weights.flat());
    assert.ok(peak(0) > 2 * peak(3), `peak σ=0.1 ${peak(0)} vs σ=1 ${peak(3)}`);
  });
});

describe("builders", () => {
  test("heatmapsFigure reads a tensor without disposing of it and accepts nested arrays alike", () => {
    const weights = attentionWeights([0, 1, 2], [0.5, 1.5], "gaussian", { sigma: 0.5 });
    const before = tf.memory().numTensors;
    const fromTensor = heatmapsFigure([{ weights }]);
    assert.equal(tf.memory().numTensors, before);
    assert.equal(weights.isDisposed, false);
    const fromArrays = heatmapsFigure([{ weights: weights.arraySync() }]);
    weights.dispose();
    assert.deepEqual(fromTensor.panels, fromArrays.panels);
    assert.equal(specOf(fromTensor).datasets["panel-0-cells"]!.length, 2 * 3);
  });

  test("reject bad input with a message naming the function, the argument and the value", () => {
    assert.throws(() => heatmapsFigure([{ weights: [[0.5, 0.5], [1]] }]), {
      message: "heatmapsFigure: panels[0].weights must be rectangular: row 0 has 2 entries, row 1 has 1.",
    });
    assert.throws(() => linesFigure([{ series: [{ name: "a", x: [0, 1, 2], y: [0, 1] }] }]), {
      message:
        "linesFigure: panels[0].series[0].x and panels[0].series[0].y must have the same length, got 3 and 2.",
    });
    assert.throws(
      () =>
        linesFigure([
          { series: [{ name: "a", x: [0], y: [0] }] },
          { series: [{ name: "a", x: [0], y: [0], style: "points" }] },
        ]),
      {
        message:
          'linesFigure: series named "a" must keep one style in every panel (they share a legend entry), ' +
          "got 'line' (opacity 1) and 'points' (opacity 0.5) at panels[1].series[0].",
      },
    );
    assert.throws(() => linesFigure([]), {
      message: "linesFigure: panels must be a non-empty array, got [] (length 0).",
    });
    assert.throws(() => heatmapsFigure([{ weights: [[1]] }], { colorScale: "log" as never }), {
      message: 'heatmapsFigure: options.colorScale must be "linear" or "sqrt", got "log".',
    });
    assert.throws(() => linesFigure([{ series: [{ name: "a", x: [0], y: [0] }] }], { width: 50 }), {
      message: "linesFigure: options.width must be an integer number of CSS pixels in [100, 10000], got 50.",
    });
  });
});

describe("README", () => {
  test("the figures example runs, prints what its comments say and writes both files", () => {
    const root = path.resolve(__dirname, "..", "..", "..");
    const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
    const match = /```js\n(\/\/ figures-example\.mjs[\s\S]*?)```/.exec(readme);
    assert.ok(match, "README has the figures-example.mjs block");
    // Beside the built package, so that "attention-pooling" resolves; run in a scratch folder.
    const file = path.join(root, "lib", "dist", ".figures-example.mjs");
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "figures-example-"));
    fs.writeFileSync(file, match[1]!);
    try {
      const out = execFileSync(process.execPath, [file], { cwd, encoding: "utf8" }).trim().split("\n");
      const expected = [...match[1]!.matchAll(/console\.log\(.*\); \/\/ (.*)/g)].map((m) => m[1]);
      assert.deepEqual(out, expected);
      assert.deepEqual(pngSize(fs.readFileSync(path.join(cwd, "widths.png"))), { width: 1920, height: 480 });
      assert.match(fs.readFileSync(path.join(cwd, "widths.svg"), "utf8"), /^<svg /);
    } finally {
      fs.rmSync(file, { force: true });
      fs.rmSync(cwd, { recursive: true, force: true });
    }
  });
});
