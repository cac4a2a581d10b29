// Figures: the structure of every tutorial figure, headless rendering (exact size, byte-identical
// on re-render, bundled font), what show() hands to tslab's display, files, and the Plotly view.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";

import {
  SERIES_COLORS,
  attentionWeights,
  evaluateKernel,
  heatmapsFigure,
  initBackend,
  linesFigure,
  loadTutorialData,
  nadarayaWatson,
  renderPng,
  renderSvg,
  saveFigure,
  show,
  tf,
  toPlotly,
  displayBundle,
  type DisplayBundle,
  type Figure,
  type HeatmapsFigure,
  type KernelName,
  type LinesFigure,
} from "../../lib/src/index";
import { FIGURES_DIR_ENV } from "../../lib/src/figures/show";
import { renderSvgWithWarnings } from "../../lib/src/figures/render";
import { REFERENCE_PROFILES, assertClose, referenceNW } from "./helpers";

before(async () => {
  await initBackend({ quiet: true });
});

const data = loadTutorialData();
const N_KEYS = data.xTrain.length;
const N_QUERIES = data.xVal.length;

// The tutorial's figures, built here as the notebook builds them: numbers computed with the
// library, handed to the generic builders. They exercise linesFigure and heatmapsFigure on
// realistic input.
const GAUSSIAN_WIDTHS = [0.1, 0.2, 0.5, 1] as const;
const TUTORIAL_KERNELS: readonly KernelName[] = ["gaussian", "boxcar", "constant", "epanechikov"];
type Panel = KernelName | number;
const titleOf = (p: Panel): string =>
  typeof p === "number"
    ? `σ = ${p}`
    : p === "epanechikov"
      ? "Epanechikov (triangular)"
      : p.charAt(0).toUpperCase() + p.slice(1);
const kernelOf = (p: Panel): KernelName => (typeof p === "number" ? "gaussian" : p);
const sigmaOf = (p: Panel): number => (typeof p === "number" ? p : 1);

function kernelShapesFigure(kernels: readonly KernelName[] = TUTORIAL_KERNELS): LinesFigure {
  const x = Array.from({ length: 50 }, (_, i) => (i - 25) / 10);
  return linesFigure(
    kernels.map((k) => {
      const y = evaluateKernel(k, x);
      const series = [{ name: "k(x)", x, y: Array.from(y.dataSync()) }];
      y.dispose();
      return { title: titleOf(k), series };
    }),
    { xLabel: "x", yLabel: "k(x)" },
  );
}

function predictionsFigure(d = data, panels: readonly Panel[] = TUTORIAL_KERNELS): LinesFigure {
  return linesFigure(
    panels.map((p) => {
      const { predictions } = nadarayaWatson(d.xTrain, d.yTrain, d.xVal, kernelOf(p), { sigma: sigmaOf(p) });
      const yHat = Array.from(predictions.dataSync());
      predictions.dispose();
      return {
        title: titleOf(p),
        series: [
          { name: "Prediction", x: d.xVal, y: yHat, color: SERIES_COLORS[0] },
          { name: "True function", x: d.xVal, y: d.yVal, style: "dashed" as const, color: "#bf00bf" },
          {
            name: "Training data",
            x: d.xTrain,
            y: d.yTrain,
            style: "points" as const,
            color: SERIES_COLORS[1],
          },
        ],
      };
    }),
    { xLabel: "x", yLabel: "y" },
  );
}

function attentionFigure(
  d = data,
  panels: readonly Panel[] = TUTORIAL_KERNELS,
  options: { colorScale?: "linear" | "sqrt" } = {},
): HeatmapsFigure {
  const weights = panels.map((p) => attentionWeights(d.xTrain, d.xVal, kernelOf(p), { sigma: sigmaOf(p) }));
  try {
    return heatmapsFigure(
      panels.map((p, i) => ({ title: titleOf(p), weights: weights[i]! })),
      { xLabel: "Query (validation) index", yLabel: "Key (training) index", ...options },
    );
  } finally {
    tf.dispose(weights);
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a Vega-Lite spec read loosely
type Encoding = Record<string, any>;
type Spec = {
  hconcat: {
    width: number;
    height: number;
    layer: { data: { name?: string }; encoding?: Encoding }[];
  }[];
  datasets: Record<string, Record<string, number | string>[]>;
};
const specOf = (f: Figure) => f.spec as unknown as Spec;

/** Width and height from a PNG's IHDR chunk, after checking the signature. */
function pngSize(bytes: Uint8Array): { width: number; height: number } {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  assert.deepEqual([...bytes.subarray(0, 8)], signature, "PNG signature");
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  assert.equal(view.toString("latin1", 12, 16), "IHDR", "first chunk is IHDR");
  return { width: view.readUInt32BE(16), height: view.readUInt32BE(20) };
}

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
      (err: Error) => {
        assert.match(
          err.message,
          /^linesFigure: series named "a" must keep one style in every panel .* got 'line' \(opacity 1\) and 'points' \(opacity 0.5\) at panels\[1\]\.series\[0\]\.$/,
        );
        return true;
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

describe("rendering", () => {
  const entries = [
    { name: "tutorial-kernel-shapes", build: () => kernelShapesFigure() },
    { name: "tutorial-kernel-predictions", build: () => predictionsFigure(data) },
    { name: "tutorial-kernel-attention", build: () => attentionFigure(data) },
    { name: "tutorial-width-predictions", build: () => predictionsFigure(data, GAUSSIAN_WIDTHS) },
    { name: "tutorial-width-attention", build: () => attentionFigure(data, GAUSSIAN_WIDTHS) },
  ];
  const rendered = new Map<string, { svg: string; png: Uint8Array; figure: Figure }>();

  before(async () => {
    for (const entry of entries) {
      const figure = entry.build();
      const { svg, warnings } = await renderSvgWithWarnings(figure);
      assert.deepEqual(warnings, [], `${entry.name}: vega-lite and vega report no warnings`);
      rendered.set(entry.name, { svg, png: await renderPng(figure), figure });
    }
  });

  test("the SVG is exactly the figure's size and names the bundled font only", () => {
    for (const [name, { svg, figure }] of rendered) {
      const open = /^<svg[^>]*>/.exec(svg)![0];
      assert.match(open, new RegExp(` width="${figure.width}" height="${figure.height}"`), name);
      const families = new Set([...svg.matchAll(/font-family="([^"]*)"/g)].map((m) => m[1]));
      assert.deepEqual([...families], ["DejaVu Sans"], `${name}: font families`);
      assert.ok(!/ id="(clip|gradient_)\d/.test(svg), `${name}: vega's process-wide ids are renamed`);
    }
  });

  test("the PNG is 2× the figure's size and under 150 kB", () => {
    for (const [name, { png, figure }] of rendered) {
      assert.deepEqual(pngSize(png), { width: 2 * figure.width, height: 2 * figure.height }, name);
      assert.deepEqual(
        pngSize(png),
        { width: 1920, height: 480 },
        `${name}: default 12 × 3 in at 80 px/in, 2×`,
      );
      assert.ok(png.length < 150_000, `${name}: ${png.length} bytes`);
    }
  });

  test("rendering again gives the same bytes, whatever was rendered in between", async () => {
    for (const name of ["tutorial-kernel-predictions", "tutorial-width-attention"]) {
      const first = rendered.get(name)!;
      const again = first.figure.kind === "lines" ? attentionFigure(data) : predictionsFigure(data);
      await renderSvg(again);
      const rebuilt = entries.find((e) => e.name === name)!.build();
      assert.equal(await renderSvg(rebuilt), first.svg, `${name}: SVG`);
      assert.ok(Buffer.from(await renderPng(rebuilt)).equals(Buffer.from(first.png)), `${name}: PNG`);
    }
  });

  test("a custom size and pixel ratio give a PNG of that size", async () => {
    const figure = linesFigure([{ series: [{ name: "a", x: [0, 1, 2], y: [1, 0, 1] }] }], {
      width: 400,
      height: 300,
      pixelRatio: 1.5,
    });
    assert.deepEqual(pngSize(await renderPng(figure)), { width: 600, height: 450 });
  });

  describe("show", () => {
    test("sends one bundle: the PNG (the same bytes as renderPng) with its display size in CSS pixels", async () => {
      const { png, figure } = rendered.get("tutorial-kernel-attention")!;
      const bundles: DisplayBundle[] = [];
      const pngs: Uint8Array[] = [];
      const result = await show(figure, {
        display: { bundle: (b) => bundles.push(b), png: (bytes) => pngs.push(bytes) },
      });
      assert.equal(result, undefined, "nothing for the notebook cell to print");
      assert.equal(bundles.length, 1, "one display call");
      assert.equal(pngs.length, 0, "the PNG-only fallback is not used when a bundle can be sent");
      assert.deepEqual(Object.keys(bundles[0]!.data), ["image/png"]);
      const sent = Buffer.from(bundles[0]!.data["image/png"] as string, "base64");
      assert.ok(sent.equals(Buffer.from(png)));
      assert.deepEqual(pngSize(sent), { width: 2 * figure.width, height: 2 * figure.height });
      assert.deepEqual(bundles[0]!.metadata, { "image/png": { width: figure.width, height: figure.height } });
    });

    test("falls back to the PNG alone for a display without a bundle method", async () => {
      const { png, figure } = rendered.get("tutorial-kernel-shapes")!;
      const calls: Uint8Array[] = [];
      await show(figure, { display: { png: (bytes) => calls.push(bytes) } });
      assert.equal(calls.length, 1);
      assert.ok(Buffer.from(calls[0]!).equals(Buffer.from(png)));
    });

    test("with a name and ATTENTION_POOLING_FIGURES_DIR set, also saves <name>.svg and <name>.png there", async () => {
      const { svg, png, figure } = rendered.get("tutorial-kernel-shapes")!;
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "show-figures-"));
      const saved = process.env[FIGURES_DIR_ENV];
      const display = { png: () => undefined };
      try {
        await show(figure, { display }); // no name: nothing saved
        delete process.env[FIGURES_DIR_ENV];
        await show(figure, { name: "shapes", display }); // no folder: nothing saved
        assert.deepEqual(fs.readdirSync(dir), []);
        process.env[FIGURES_DIR_ENV] = dir;
        await show(figure, { name: "shapes", display });
        assert.deepEqual(fs.readdirSync(dir).sort(), ["shapes.png", "shapes.svg"]);
        assert.equal(fs.readFileSync(path.join(dir, "shapes.svg"), "utf8"), svg);
        assert.ok(fs.readFileSync(path.join(dir, "shapes.png")).equals(Buffer.from(png)));
        await assert.rejects(show(figure, { name: "shapes", display }), {
          message:
            'show: a figure named "shapes" was already saved in this run; give each figure its own name.',
        });
      } finally {
        if (saved === undefined) delete process.env[FIGURES_DIR_ENV];
        else process.env[FIGURES_DIR_ENV] = saved;
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    test("rejects a name that is not a plain file name", async () => {
      const figure = rendered.get("tutorial-kernel-shapes")!.figure;
      for (const name of ["../escape", "Shapes", "a b", "", "a--b"]) {
        await assert.rejects(show(figure, { name, display: { png: () => undefined } }), {
          message:
            "show: options.name must be lower-case letters, digits and single dashes, e.g. " +
            `"tutorial-kernel-shapes", got ${JSON.stringify(name)}.`,
        });
      }
    });

    test("outside a tslab kernel, says to use saveFigure or renderPng", async () => {
      await assert.rejects(show(rendered.get("tutorial-kernel-shapes")!.figure), (err: Error) => {
        assert.match(err.message, /^show: .*tslab.*use saveFigure\(\) or renderPng\(\)\.$/);
        return true;
      });
    });

    test("rejects a display without a png method", async () => {
      await assert.rejects(show(kernelShapesFigure(), { display: {} as never }), {
        message: "show: options.display must have a png(bytes) method, got object.",
      });
    });
  });

  describe("displayBundle (tslab's internal bundle writer, pinned)", () => {
    // tslab/dist/jupyter is internal to tslab 1.0.22. If an upgrade moves or reshapes it, these
    // tests fail first, and show() still falls back to the public display.png.
    const jupyter = require("tslab/dist/jupyter") as { lastWriteDisplayData: unknown };
    const tslab = require("tslab") as { display: { png(bytes: Uint8Array): void } };

    test("tslab still exports lastWriteDisplayData from tslab/dist/jupyter (null outside an execute request)", () => {
      assert.ok("lastWriteDisplayData" in jupyter);
      assert.equal(jupyter.lastWriteDisplayData, null);
    });

    test("sends the whole bundle through it, as one display_data with data, metadata and transient", () => {
      const sent: unknown[][] = [];
      jupyter.lastWriteDisplayData = (...args: unknown[]) => sent.push(args);
      try {
        const how = displayBundle(
          {
            data: { "image/png": "AAAA", "text/plain": "a figure" },
            metadata: { "image/png": { width: 10 } },
          },
          new Uint8Array([1]),
        );
        assert.equal(how, "bundle");
        assert.deepEqual(sent, [
          [
            {
              data: { "image/png": "AAAA", "text/plain": "a figure" },
              metadata: { "image/png": { width: 10 } },
              transient: {},
            },
            false,
          ],
        ]);
      } finally {
        jupyter.lastWriteDisplayData = null;
      }
    });

    test("falls back to the public display.png when the writer is missing", () => {
      const original = tslab.display.png;
      const sent: Uint8Array[] = [];
      tslab.display.png = (bytes) => sent.push(bytes);
      try {
        assert.equal(displayBundle({ data: { "image/png": "AAAA" } }, new Uint8Array([7, 8])), "png");
        assert.deepEqual(sent, [new Uint8Array([7, 8])]);
      } finally {
        tslab.display.png = original;
      }
    });
  });

  describe("saveFigure", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "figures-test-"));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    test("writes <base>.svg and <base>.png, whatever extension the path has", async () => {
      const { svg, png, figure } = rendered.get("tutorial-kernel-shapes")!;
      for (const file of ["shapes", "shapes.png", "shapes.svg"]) {
        const saved = await saveFigure(figure, path.join(dir, "sub", file));
        assert.equal(saved.svg, path.join(dir, "sub", "shapes.svg"));
        assert.equal(saved.png, path.join(dir, "sub", "shapes.png"));
        assert.equal(fs.readFileSync(saved.svg, "utf8"), svg);
        assert.ok(fs.readFileSync(saved.png).equals(Buffer.from(png)));
      }
    });
  });
});

describe("toPlotly (what openFigure sends)", () => {
  test("lines: one trace per series, one legend entry per name, the shared y axis", () => {
    const figure = predictionsFigure(data) as LinesFigure;
    const { data: traces, layout } = toPlotly(figure);
    assert.equal(traces.length, 4 * 3);
    assert.equal(traces.filter((t) => t.showlegend).length, 3);
    assert.deepEqual(new Set(traces.map((t) => t.yaxis)), new Set(["y"]));
    assert.deepEqual(
      traces.slice(0, 3).map((t) => [t.mode, (t.line as { dash: string }).dash]),
      [
        ["lines", "solid"],
        ["lines", "dash"],
        ["markers", "solid"],
      ],
    );
    assert.deepEqual((layout.yaxis as { range: number[] }).range, [...figure.yDomain]);
  });

  test("heatmaps: z is [nKeys][nQueries] with key 0 on top and one shared colour axis", () => {
    const figure = attentionFigure(data) as HeatmapsFigure;
    const { data: traces, layout } = toPlotly(figure);
    assert.equal(traces.length, 4);
    for (const [p, trace] of traces.entries()) {
      const z = trace.z as number[][];
      assert.equal(z.length, N_KEYS);
      assert.equal(z[0]!.length, N_QUERIES);
      assert.equal(z[3]![7], figure.panels[p]!.weights[7]![3]);
      assert.equal(trace.coloraxis, "coloraxis");
    }
    assert.equal((layout.yaxis as { autorange: string }).autorange, "reversed");
    const axis = layout.coloraxis as { cmin: number; cmax: number };
    assert.deepEqual([axis.cmin, axis.cmax], [...figure.colorDomain]);
  });
});

describe("README", () => {
  test("the figures example runs, prints what its comments say and writes both files", () => {
    const root = path.resolve(__dirname, "..", "..");
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
