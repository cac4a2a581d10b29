/**
 * chartsFigure (panels with their own linear or log axes, used by exercises 2 and 4): structure,
 * exact size, byte-identical re-render, rendering without vega warnings, input errors.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";

import { chartsFigure, initBackend, renderSvg } from "../../../../lib/src/index";
import { svgToPng } from "../../../../lib/src/figures/render";
import { renderSvgWithWarnings } from "../../../../lib/src/figures/render";

before(async () => {
  await initBackend({ quiet: true });
});

const n = [100, 1000, 10000];
const logPanel = {
  xScale: "log" as const,
  yScale: "log" as const,
  xLabel: "n",
  yLabel: "MSE",
  series: [
    { name: "measured", x: n, y: [0.1, 0.016, 0.0025], style: "points" as const },
    { name: "theory", x: n, y: n.map((v) => 4 * v ** -0.8), style: "dashed" as const },
    { name: "theory", x: n, y: n.map((v) => 8 * v ** -0.8), style: "dashed" as const },
  ],
};

describe("chartsFigure", () => {
  test("log axes get log scales, a log-padded domain and 1-2-5 ticks", () => {
    const f = chartsFigure([logPanel]);
    const p = f.panels[0]!;
    assert.equal(p.xScale, "log");
    assert.ok(
      p.xDomain[0] < 100 && p.xDomain[0] > 50 && p.xDomain[1] > 10000 && p.xDomain[1] < 20000,
      `${p.xDomain}`,
    );
    const layer = (f.spec.hconcat as { layer: { encoding: { x: Record<string, unknown> } }[] }[])[0]!
      .layer[0]!;
    const x = layer.encoding.x as { scale: { type: string }; axis: { values: number[] } };
    assert.equal(x.scale.type, "log");
    assert.deepEqual(x.axis.values, [100, 200, 500, 1000, 2000, 5000, 10000]);
  });

  test("series sharing a name share colour and legend entry but are drawn as separate lines", () => {
    const f = chartsFigure([logPanel]);
    const theory = f.panels[0]!.series.filter((s) => s.name === "theory");
    assert.equal(theory.length, 2);
    assert.equal(theory[0]!.color, theory[1]!.color);
    const rows = (f.spec.datasets as Record<string, { sid: number }[]>)["panel-0-lines"]!;
    assert.deepEqual([...new Set(rows.map((r) => r.sid))], [1, 2]);
  });

  test("a field panel draws one cell per grid value and spans the cell edges", () => {
    const f = chartsFigure([
      {
        xScale: "log",
        field: {
          x: [0.01, 0.1, 1],
          y: [1, 2],
          values: [
            [1, 2, 3],
            [4, 5, 6],
          ],
          label: "loss",
        },
        series: [],
      },
    ]);
    const cells = (f.spec.datasets as Record<string, unknown[]>)["panel-0-cells"]!;
    assert.equal(cells.length, 6);
    const [lo, hi] = f.panels[0]!.xDomain;
    assert.ok(Math.abs(lo - 10 ** -2.5) < 1e-12 && Math.abs(hi - 10 ** 0.5) < 1e-9, `${lo} ${hi}`);
  });

  test("renders at exactly its size, and the same bytes twice", async () => {
    const f = chartsFigure([logPanel, { ...logPanel, yScale: "linear" }], { width: 700, height: 260 });
    const svg = await renderSvg(f);
    assert.match(svg, /^<svg[^>]*\swidth="700"[^>]*\sheight="260"/);
    assert.equal(await renderSvg(f), svg);
    const png = svgToPng(svg, 1);
    assert.equal(Buffer.from(png.subarray(16, 20)).readUInt32BE(0), 700);
  });

  const errors: [string, () => unknown, string][] = [
    [
      "a non-positive value on a log axis",
      () => chartsFigure([{ yScale: "log", series: [{ name: "a", x: [1, 2], y: [1, 0] }] }]),
      "chartsFigure: panels[0].series[0].y must be > 0 on a log axis, got 0 at index 1.",
    ],
    [
      "an unknown scale",
      () => chartsFigure([{ xScale: "sqrt" as "log", series: [{ name: "a", x: [1], y: [1] }] }]),
      "chartsFigure: panels[0].xScale must be 'linear' or 'log', got \"sqrt\".",
    ],
    [
      "a field row of the wrong length",
      () => chartsFigure([{ field: { x: [1, 2], y: [1, 2], values: [[1, 2], [3]], label: "" }, series: [] }]),
      "chartsFigure: panels[0].field.values[1] must have one value per x (2), got 1.",
    ],
    [
      "no panels",
      () => chartsFigure([]),
      "chartsFigure: panels must be a non-empty array, got [] (length 0).",
    ],
  ];
  for (const [label, call, message] of errors) {
    test(`rejects ${label}`, () => {
      assert.throws(call, (err: Error) => {
        assert.equal(err.message, message);
        return true;
      });
    });
  }
});

describe("chartsFigure rendering", () => {
  test("titled panels with lines, dashes, coloured points, log axes and a field render without vega warnings", async () => {
    // The mix of panel features the exercise 2 figures use (log σ axis, training loss dashed,
    // grid and descent as points, a per-dimension loss field with coloured optima on top).
    const sigma = [0.01, 0.03, 0.1, 0.3, 1];
    const figure = chartsFigure([
      {
        title: "losses",
        xScale: "log",
        xLabel: "σ",
        yLabel: "loss",
        series: [
          { name: "LOO loss", x: sigma, y: [2, 1.2, 0.9, 1, 1.6] },
          { name: "training loss", x: sigma, y: [0, 0.1, 0.5, 0.9, 1.5], style: "dashed" },
          { name: "descent", x: [0.5, 0.2, 0.12], y: [1.3, 0.95, 0.9], style: "points" },
        ],
      },
      {
        title: "along the descent",
        yScale: "log",
        xLabel: "step",
        yLabel: "σ",
        series: [{ name: "σ", x: [0, 1, 2, 3], y: [0.5, 0.2, 0.12, 0.11] }],
      },
      {
        title: "one width per dimension",
        xScale: "log",
        yScale: "log",
        field: {
          x: [0.1, 1],
          y: [0.1, 1],
          values: [
            [1, 2],
            [3, 4],
          ],
          label: "v",
        },
        series: [
          { name: "optimum", x: [0.1], y: [1], style: "points", color: "#ff7f0e" },
          { name: "shared", x: [0.3], y: [0.3], style: "points", color: "#d62728" },
        ],
      },
    ]);
    const { svg, warnings } = await renderSvgWithWarnings(figure);
    assert.deepEqual(warnings, []);
    for (const title of ["losses", "along the descent", "one width per dimension"]) {
      assert.ok(svg.includes(title), `the SVG shows the panel title "${title}"`);
    }
  });
});
