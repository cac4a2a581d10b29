/**
 * figures/text_metrics.ts: text widths from the bundled font's own tables, and the layout vega makes
 * with them (a legend right after the panels, however long the last panel's title).
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, test } from "node:test";

import { Resvg } from "@resvg/resvg-js";

import { chartsFigure, renderSvg } from "../../../../lib/src/index";
import { figureFontFiles, FIGURE_FONT } from "../../../../lib/src/figures/style";
import { textWidth } from "../../../../lib/src/figures/text_metrics";

/** The width of the ink resvg draws for `text` in the bundled font: an independent measure. */
function inkWidth(text: string, size: number): number {
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="2000" height="100">` +
    `<text x="10" y="50" font-family="${FIGURE_FONT}" font-size="${size}">${text}</text></svg>`;
  const box = new Resvg(svg, {
    font: { loadSystemFonts: false, fontFiles: figureFontFiles(), defaultFontFamily: FIGURE_FONT },
    logLevel: "off",
  }).getBBox();
  return box?.width ?? 0;
}

describe("textWidth", () => {
  test("a digit is DejaVu Sans's 1303 of 2048 units wide, and digits add up (no kerning between them)", () => {
    assert.ok(Math.abs(textWidth("0", 10) - (10 * 1303) / 2048) < 1e-9, `${textWidth("0", 10)}`);
    assert.ok(Math.abs(textWidth("00000", 10) - 5 * textWidth("0", 10)) < 1e-9);
  });

  test("kerned pairs are narrower than their letters apart", () => {
    assert.ok(textWidth("AV", 12) < textWidth("A", 12) + textWidth("V", 12) - 0.5, `${textWidth("AV", 12)}`);
  });

  test("Greek letters have their own glyphs, and bold is wider", () => {
    assert.ok(textWidth("σ", 12) > 5 && textWidth("σ", 12) !== textWidth("\uffff", 12));
    assert.ok(textWidth("iteration", 11, true) > textWidth("iteration", 11));
  });

  test("agrees with the ink resvg draws within the side bearings (2 px at 12 px)", () => {
    for (const text of ["errors along the training-loss descent", "σ = 0.452", "minimising the LOO loss", "1e-14"]) {
      const ours = textWidth(text, 12);
      const ink = inkWidth(text, 12);
      assert.ok(Math.abs(ours - ink) < 2, `${text}: ${ours.toFixed(2)} against resvg's ${ink.toFixed(2)}`);
      // What vega guesses without them: 0.8 em a character.
      assert.ok(0.8 * 12 * text.length - ink > 0.25 * ink, `${text}: vega's guess is not the problem here`);
    }
  });
});

/** The x of `translate(x,…)` on the group that follows `marker` in vega's SVG. */
function translateAfter(svg: string, marker: string): number {
  const at = svg.indexOf(marker);
  assert.ok(at >= 0, `no ${marker} in the SVG`);
  const m = /transform="translate\(([-\d.]+),/.exec(svg.slice(at));
  return Number(m![1]);
}

describe("layout with the font's widths", () => {
  const descent = (lastTitle: string) =>
    chartsFigure(
      [
        {
          title: "σ along gradient descent",
          yScale: "log",
          series: [
            { name: "minimising the LOO loss", x: [0, 1, 2], y: [1, 0.6, 0.45] },
            { name: "minimising the training loss", x: [0, 1, 2], y: [1, 0.1, 0.01] },
          ],
        },
        {
          title: lastTitle,
          yScale: "log",
          series: [
            { name: "training loss", x: [0, 1, 2], y: [1, 1e-4, 1e-8], style: "dashed" },
            { name: "test MSE", x: [0, 1, 2], y: [1, 1, 1] },
          ],
        },
      ],
      { width: 960, height: 300 },
    );

  test("the legend sits just right of the last panel, however long that panel's title", async () => {
    for (const title of ["errors", "errors along the training-loss descent"]) {
      const svg = await renderSvg(descent(title));
      const panel = translateAfter(svg, "concat_1_group");
      const width = Number(/concat_1_group.*?d="M0\.3,0\.3h([\d.]+)/.exec(svg)![1]);
      const gap = translateAfter(svg, 'class="mark-group role-legend"') - (panel + width);
      // Vega's legend offset (18 px) and the last x tick's label sticking out.
      assert.ok(gap >= 18 && gap <= 24, `${title}: ${gap} px between the last panel and the legend`);
    }
  });

  test("vega's own width function is back once the renders that overlapped are done", async () => {
    const vegaPath = require.resolve("vega", { paths: [path.join(__dirname, "../../../../lib")] });
    const vega = (await import(pathToFileURL(vegaPath).href)) as { textMetrics: { width: unknown } };
    const before = vega.textMetrics.width;
    await Promise.all([renderSvg(descent("a")), renderSvg(descent("b"))]);
    assert.equal(vega.textMetrics.width, before);
  });
});
