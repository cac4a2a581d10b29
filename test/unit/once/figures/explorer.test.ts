// figures/explorer.ts, the live Nadaraya-Watson explorer: a valid Vega-Lite v5 spec (the version
// JupyterLab 4.6 renders) that compiles without warnings, its curves panel, what show() sends for
// it, and input errors. None of it makes a tensor, so it runs once. Its in-browser arithmetic
// against nadarayaWatson and attentionWeights: figures/explorer.test.ts, on every backend.
import assert from "node:assert/strict";
import * as path from "node:path";
import { describe, test } from "node:test";

import Ajv from "ajv";

import {
  nadarayaWatsonExplorer,
  renderPng,
  show,
  type DisplayBundle,
  type KernelName,
} from "../../../../lib/src/index";
import { VEGA_LITE_V5_MIME } from "../../../../lib/src/figures/show";
import { TUTORIAL_KERNELS, data } from "../../figures/helpers";
import { explorer, liveView, rowsWith, vega5, vl5 } from "../../figures/live-view";

describe("nadarayaWatsonExplorer", () => {
  test("its live spec is valid against the Vega-Lite v5 schema JupyterLab 4.6 uses", () => {
    assert.equal(vl5.version, "5.6.1");
    assert.equal(vega5.version, "5.33.0");
    const schema = require(
      path.join(path.dirname(require.resolve("vega-lite-5/package.json")), "build", "vega-lite-schema.json"),
    );
    const ajv = new Ajv({ strict: false, allErrors: true });
    const validate = ajv.compile(schema);
    const live = explorer().live;
    assert.equal(live.$schema, "https://vega.github.io/schema/vega-lite/v5.json");
    assert.ok(validate(live), JSON.stringify(validate.errors?.slice(0, 5), null, 1));
    // A spec that is not valid fails the same check (so the check can fail).
    assert.equal(validate({ ...live, hconcat: "not a list" }), false);
  });

  test("compiles with vega-lite 5 without a warning, with σ bound to a range input and the kernel to a menu", async () => {
    const { spec, warnings } = await liveView(explorer());
    assert.deepEqual(warnings, []);
    const bound = Object.fromEntries(
      (spec.signals ?? []).filter((s) => s.bind).map((s) => [s.name, s.bind!]),
    );
    assert.equal(bound.logSigma?.input, "range");
    assert.equal(bound.kernel?.input, "select");
    assert.deepEqual(bound.kernel?.options, TUTORIAL_KERNELS);
  });

  test("show sends the live spec and the PNG in one output, and the same figure gives the same bytes", async () => {
    const figure = explorer();
    const bundles: DisplayBundle[] = [];
    await show(figure, { display: { bundle: (b) => bundles.push(b), png: () => assert.fail("PNG alone") } });
    assert.deepEqual(Object.keys(bundles[0]!.data), [VEGA_LITE_V5_MIME, "image/png"]);
    assert.equal(
      bundles[0]!.data[VEGA_LITE_V5_MIME],
      figure.live,
      "a JSON object, not a string (a string is read as a URL)",
    );
    const png = Buffer.from(await renderPng(explorer()));
    assert.ok(png.equals(Buffer.from(bundles[0]!.data["image/png"] as string, "base64")));
    assert.ok(JSON.stringify(figure.live).length < 20_000, "the spec stays small");
  });

  test("curves against σ: a panel with a marker on each curve at the grid point nearest the slider", async () => {
    const grid = [0.05, 0.1, 0.2, 0.4, 0.8, 1.6];
    const figure = nadarayaWatsonExplorer(data.xTrain, data.yTrain, {
      queries: data.xVal,
      attention: false,
      sigmaRange: [0.05, 1.6],
      sigma: 0.2,
      curves: {
        sigma: grid,
        series: [
          { label: "leave-one-out", values: grid.map((s) => 1 + s) },
          { label: "training", values: grid.map((s) => s) },
        ],
        yLabel: "loss",
      },
    });
    const hconcat = figure.live.hconcat as { title?: unknown }[];
    assert.equal(hconcat.length, 2, "the fit and the curves, no attention map");
    assert.equal(hconcat[1]!.title, "Against σ");
    const schema = require(
      path.join(path.dirname(require.resolve("vega-lite-5/package.json")), "build", "vega-lite-schema.json"),
    );
    const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
    assert.ok(validate(figure.live), JSON.stringify(validate.errors?.slice(0, 5), null, 1));
    const { view, spec, warnings } = await liveView(figure);
    assert.deepEqual(warnings, []);
    for (const [sigma, nearest] of [
      [0.2, 0.2],
      [0.13, 0.1],
      [0.15, 0.2],
      [1.5, 1.6],
    ] as const) {
      await view.signal("logSigma", Math.log10(sigma)).runAsync();
      const markers = rowsWith(view, spec, "nearest").filter((r) => r.gap === r.nearest);
      assert.equal(markers.length, 2, `one marker per curve at σ = ${sigma}`);
      for (const m of markers) assert.equal(m.s, nearest, `σ = ${sigma}: marker at ${m.s}`);
      const rule = spec.data
        .map(({ name }) => view.data(name))
        .find((rows) => rows.length === 1 && "s" in rows[0]! && !("series" in rows[0]!));
      assert.ok(rule !== undefined && Math.abs(rule[0]!.s! - sigma) < 1e-9, `the rule follows σ = ${sigma}`);
    }
    assert.throws(
      () =>
        nadarayaWatsonExplorer([0, 1], [1, 2], {
          queries: [0],
          curves: { sigma: [0.1, 0.1], series: [{ label: "a", values: [1, 2] }] },
        }),
      { message: "nadarayaWatsonExplorer: options.curves.sigma must increase, got 0.1 then 0.1 at index 1." },
    );
    assert.throws(
      () =>
        nadarayaWatsonExplorer([0, 1], [1, 2], {
          queries: [0],
          curves: { sigma: [0.1, 0.2], series: [{ label: "a", values: [1] }] },
        }),
      {
        message:
          "nadarayaWatsonExplorer: options.curves.series[0].values must have one value per σ, got 1 for 2 grid points.",
      },
    );
  });

  test("rejects bad input, naming the argument", () => {
    assert.throws(() => nadarayaWatsonExplorer([0, 1], [1], { queries: [0] }), {
      message: "nadarayaWatsonExplorer: keys and values must have the same length, got 2 and 1.",
    });
    assert.throws(() => nadarayaWatsonExplorer([0, 1], [1, 2], {} as never), {
      message: "nadarayaWatsonExplorer: options.queries is required: where to draw the estimate.",
    });
    assert.throws(
      () => nadarayaWatsonExplorer([0, 1], [1, 2], { queries: [0], kernels: ["gauss" as KernelName] }),
      {
        message:
          'nadarayaWatsonExplorer: options.kernels[0]: unknown kernel "gauss"; expected one of gaussian, boxcar, ' +
          "constant, epanechikov, triangular, epanechnikov, biweight, tricube, cosine.",
      },
    );
    assert.throws(() => nadarayaWatsonExplorer([0, 1], [1, 2], { queries: [0], sigma: 5 }), {
      message: "nadarayaWatsonExplorer: options.sigma must lie in options.sigmaRange [0.05, 2], got 5.",
    });
  });
});
