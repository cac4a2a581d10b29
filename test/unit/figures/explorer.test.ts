// figures/explorer.ts on every backend: the live spec's in-browser arithmetic, evaluated headless
// with the vega-lite and vega versions JupyterLab bundles, equals nadarayaWatson and
// attentionWeights, which compute with tensors. The spec itself: once/figures/explorer.test.ts.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";

import { attentionWeights, initBackend, nadarayaWatson } from "../../../lib/src/index";
import { TUTORIAL_KERNELS, data } from "./helpers";
import { explorer, liveView, rowsWith } from "./live-view";

before(async () => {
  await initBackend({ quiet: true });
});

describe("nadarayaWatsonExplorer", () => {
  test("the spec's estimate equals nadarayaWatson's to 1e-5 at σ = 0.1, 0.5, 1 for each tutorial kernel", async () => {
    const { view, spec } = await liveView(explorer());
    for (const kernel of TUTORIAL_KERNELS) {
      for (const sigma of [0.1, 0.5, 1]) {
        await view.signal("logSigma", Math.log10(sigma)).signal("kernel", kernel).runAsync();
        const rows = rowsWith(view, spec, "estimate");
        assert.equal(rows.length, data.xVal.length);
        const { predictions } = nadarayaWatson(data.xTrain, data.yTrain, data.xVal, kernel, {
          sigma,
          onEmpty: "nan",
        });
        const expected = Array.from(predictions.dataSync());
        predictions.dispose();
        for (const row of rows) {
          const want = expected[row.j!]!;
          const where = `${kernel}, σ = ${sigma}, query ${row.j}`;
          if (Number.isNaN(want))
            assert.ok(Number.isNaN(row.estimate), `${where}: an empty window has no estimate`);
          else assert.ok(Math.abs(row.estimate! - want) <= 1e-5, `${where}: ${row.estimate} vs ${want}`);
        }
      }
    }
  });

  test("its attention map equals attentionWeights, [query][key], each query's weights summing to 1", async () => {
    const { view, spec } = await liveView(explorer());
    await view.signal("logSigma", Math.log10(0.2)).signal("kernel", "gaussian").runAsync();
    const expected = attentionWeights(data.xTrain, data.xVal, "gaussian", { sigma: 0.2 });
    const w = expected.arraySync() as number[][];
    expected.dispose();
    const rows = rowsWith(view, spec, "alpha");
    assert.equal(rows.length, data.xTrain.length * data.xVal.length);
    for (const row of rows)
      assert.ok(Math.abs(row.alpha! - w[row.j!]![row.i!]!) <= 1e-5, `query ${row.j}, key ${row.i}`);
  });
});
