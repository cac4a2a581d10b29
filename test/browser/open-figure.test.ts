/**
 * openFigure in a real browser, offline: open the tutorial's predictions and attention weights as
 * a user would, load each page in headless Chromium (playwright-core) with every request to
 * another host blocked, and check that Plotly drew the figure's traces: one SVG trace per line
 * and point series, every training point, each heatmap as an image, the legend's names. The page
 * must ask no other host for anything, and log no error. Closing the tab stops the server.
 *
 * Screenshots go to test-artifacts/open-figure/. Needs Debian's `chromium` (or CHROMIUM_PATH);
 * without it the test is skipped with a message, except under CI, where it fails.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";

import { type Browser, type BrowserContext, chromium } from "playwright-core";

import {
  type FigureWindow,
  attentionWeights,
  heatmapsFigure,
  initBackend,
  linesFigure,
  loadTutorialData,
  nadarayaWatson,
  openFigure,
  toPlotly,
} from "../../lib/src/index";
import { LAST_TAB_GRACE_MS } from "../../lib/src/figures/window";

const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const IN_CI = Boolean(process.env.CI && process.env.CI !== "false" && process.env.CI !== "0");
const ARTIFACTS = path.resolve(__dirname, "..", "..", "test-artifacts", "open-figure");
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
];
const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

const haveChromium = fs.existsSync(CHROMIUM);
const INSTALL_CHROMIUM = "Debian/Ubuntu: sudo apt-get install chromium; or set CHROMIUM_PATH";
if (!haveChromium && !IN_CI) {
  console.error(
    `\n!!! The openFigure browser test is SKIPPED: no Chromium at ${CHROMIUM}.\n` +
      `!!! Install it (${INSTALL_CHROMIUM}), then run npm test again. Under CI this is a failure.\n`,
  );
}

const data = loadTutorialData();
const SIGMAS = [0.1, 0.5] as const;

/** The tutorial's predictions for two widths: a line per prediction and the truth, points for the training data. */
function predictionsFigure() {
  return linesFigure(
    SIGMAS.map((sigma) => {
      const { predictions } = nadarayaWatson(data.xTrain, data.yTrain, data.xVal, "gaussian", { sigma });
      const y = Array.from(predictions.dataSync());
      predictions.dispose();
      return {
        title: `σ = ${sigma}`,
        series: [
          { name: "prediction", x: data.xVal, y },
          { name: "truth", x: data.xVal, y: data.yVal, style: "dashed" as const },
          { name: "training data", x: data.xTrain, y: data.yTrain, style: "points" as const },
        ],
      };
    }),
    { title: "Nadaraya-Watson predictions", xLabel: "x", yLabel: "y" },
  );
}

/** The attention weights [nQueries, nKeys] for the same two widths. */
function attentionFigure() {
  return heatmapsFigure(
    SIGMAS.map((sigma) => {
      const w = attentionWeights(data.xTrain, data.xVal, "gaussian", { sigma });
      const weights = w.arraySync();
      w.dispose();
      return { title: `σ = ${sigma}`, weights };
    }),
    { title: "Attention weights" },
  );
}

/** The parts of an SVG element the trace check reads (the project compiles without DOM types). */
interface DrawnTrace {
  querySelectorAll(selector: string): { readonly length: number };
  querySelector(selector: string): { getAttribute(name: string): string | null } | null;
}

/** What a page did: the requests it sent to another host (all blocked), and its errors. */
interface PageRecord {
  readonly blocked: string[];
  readonly errors: string[];
}

describe(
  "openFigure in headless Chromium, with every other host blocked",
  { skip: !haveChromium && !IN_CI },
  () => {
    let browser: Browser;
    let context: BrowserContext;
    const windows: FigureWindow[] = [];
    /** Requests to any host but this machine: aborted, and recorded here. */
    const blocked: string[] = [];

    before(async () => {
      assert.ok(haveChromium, `no Chromium at ${CHROMIUM} (${INSTALL_CHROMIUM})`);
      await initBackend({ quiet: true });
      fs.rmSync(ARTIFACTS, { recursive: true, force: true });
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
      context = await browser.newContext({ viewport: { width: 1200, height: 700 } });
      await context.route("**/*", async (route) => {
        const url = new URL(route.request().url());
        if ((url.protocol === "http:" || url.protocol === "https:") && !LOOPBACK.has(url.hostname)) {
          blocked.push(url.href);
          await route.abort("internetdisconnected");
        } else {
          await route.continue();
        }
      });
    });

    after(async () => {
      await Promise.all(windows.map((w) => w.close()));
      await browser?.close();
    });

    /** Opens `figure` with openFigure, loads its page, and waits until Plotly has drawn. */
    async function load(figure: Parameters<typeof openFigure>[0], name: string) {
      const window = await openFigure(figure, { open: false, quiet: true });
      windows.push(window);
      const page = await context.newPage();
      const record: PageRecord = { blocked: [], errors: [] };
      const before = blocked.length;
      page.on("console", (m) => {
        if (m.type() === "error" || m.type() === "warning") record.errors.push(`${m.type()}: ${m.text()}`);
      });
      page.on("pageerror", (e) => record.errors.push(`pageerror: ${e.message}`));
      await page.goto(window.url);
      try {
        await page.locator("#figure .main-svg").first().waitFor({ timeout: 30_000 });
      } catch {
        assert.fail(
          `Plotly drew nothing in 30 s at ${window.url}; requests to other hosts: ` +
            `${JSON.stringify(blocked.slice(before))}; page errors: ${JSON.stringify(record.errors)}`,
        );
      } finally {
        await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
        record.blocked.push(...blocked.slice(before));
      }
      return { window, page, record };
    }

    test("the route blocks other hosts (so what follows proves the page needs none)", async () => {
      const page = await context.newPage();
      const result = await page.evaluate(async () => {
        try {
          await fetch("https://cdn.plot.ly/plotly-1.58.4.min.js");
          return "loaded";
        } catch {
          return "blocked";
        }
      });
      await page.close();
      assert.equal(result, "blocked");
      assert.deepEqual(blocked.splice(0), ["https://cdn.plot.ly/plotly-1.58.4.min.js"]);
    });

    test("the predictions: a trace per series and panel, every training point, the legend's names", async () => {
      const figure = predictionsFigure();
      const { window, page, record } = await load(figure, "predictions");
      assert.equal(window.host, "127.0.0.1");
      const traces = toPlotly(figure).data;
      assert.equal(traces.length, SIGMAS.length * 3);
      // Plotly draws each scatter trace as a g.trace in its subplot's scatter layer.
      assert.equal(await page.locator("#figure .scatterlayer g.trace").count(), traces.length);
      const drawn = await page.locator("#figure .scatterlayer g.trace").evaluateAll((els) =>
        (els as unknown as DrawnTrace[]).map((t) => ({
          points: t.querySelectorAll("path.point").length,
          line: (t.querySelector("path.js-line")?.getAttribute("d") ?? "").length,
        })),
      );
      for (const [i, trace] of traces.entries()) {
        if (trace.mode === "markers") {
          assert.equal(
            drawn[i]!.points,
            data.xTrain.length,
            `trace ${i} (${String(trace.name)}): one marker per training point`,
          );
        } else {
          assert.ok(
            drawn[i]!.line > 100,
            `trace ${i} (${String(trace.name)}): a drawn line, got a path of ${drawn[i]!.line} characters`,
          );
        }
      }
      assert.deepEqual(await page.locator("#figure .legendtext").allTextContents(), [
        "prediction",
        "truth",
        "training data",
      ]);
      assert.deepEqual(await page.locator("#figure .annotation-text").allTextContents(), [
        "σ = 0.1",
        "σ = 0.5",
      ]);
      assert.equal(await page.title(), "Nadaraya-Watson predictions");
      assert.deepEqual(record, { blocked: [], errors: [] });
      await page.close();
    });

    test("the attention weights: one heatmap image per panel and the colour bar", async () => {
      const figure = attentionFigure();
      const { page, record } = await load(figure, "attention");
      const images = await page.locator("#figure .heatmaplayer g.hm image").evaluateAll((els) =>
        els.map((e) => ({
          href: (e.getAttribute("href") ?? "").slice(0, 22),
          width: Number(e.getAttribute("width")),
          height: Number(e.getAttribute("height")),
        })),
      );
      assert.equal(images.length, SIGMAS.length);
      for (const image of images) {
        assert.equal(image.href, "data:image/png;base64,");
        assert.ok(
          image.width > 100 && image.height > 100,
          `a heatmap of ${image.width} × ${image.height} px`,
        );
      }
      assert.equal(await page.locator("#figure .colorbar").count(), 1);
      assert.deepEqual(record, { blocked: [], errors: [] });
      await page.close();
    });

    test(`closing the last tab stops the server (after ${LAST_TAB_GRACE_MS} ms)`, async () => {
      const figure = predictionsFigure();
      const { window, page } = await load(figure, "closing");
      await page.close();
      const stopped = await Promise.race([
        window.closed.then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), LAST_TAB_GRACE_MS + 5000)),
      ]);
      assert.equal(stopped, true, "the server stopped after its tab closed");
    });
  },
);
