// figures/render.ts, figures/show.ts and figures/interactive.ts: headless rendering (exact size,
// byte-identical on re-render, bundled font), what show() hands to tslab's display, files, and the
// Plotly view, on the tutorial's figures built from the float64 reference. No tensor is made, so
// this runs once; the same figures built from lib's tensors: figures/tutorial.test.ts.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";

import {
  displayBundle,
  linesFigure,
  renderPng,
  renderSvg,
  saveFigure,
  show,
  toPlotly,
  type DisplayBundle,
  type Figure,
  type HeatmapsFigure,
  type LinesFigure,
  type TutorialData,
} from "../../../../lib/src/index";
import { FIGURES_DIR_ENV } from "../../../../lib/src/figures/show";
import { renderSvgWithWarnings } from "../../../../lib/src/figures/render";
import { REFERENCE_PROFILES, referenceNW } from "../../helpers";
import { GAUSSIAN_WIDTHS, N_KEYS, N_QUERIES, data, pngSize, tutorialFigures } from "../../figures/helpers";

/** Nadaraya-Watson on the tutorial data in float64, with the test's own kernel profiles. */
const reference = (d: TutorialData, kernel: keyof typeof REFERENCE_PROFILES, sigma: number) =>
  referenceNW(
    d.xTrain.map((x) => [x]),
    d.yTrain.map((y) => [y]),
    d.xVal.map((x) => [x]),
    REFERENCE_PROFILES[kernel]!,
    [sigma],
  );

const { kernelShapesFigure, predictionsFigure, attentionFigure } = tutorialFigures({
  kernel: (name, x) => x.map((v) => REFERENCE_PROFILES[name]!(Math.abs(v))),
  predictions: (d, kernel, sigma) => reference(d, kernel, sigma).predictions.map((row) => row[0]!),
  weights: (d, kernel, sigma) => reference(d, kernel, sigma).weights,
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
      await assert.rejects(show(rendered.get("tutorial-kernel-shapes")!.figure), {
        message:
          "show: the notebook did not accept the figure (Not ready); show() works inside a tslab kernel, " +
          "elsewhere use saveFigure() or renderPng().",
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
