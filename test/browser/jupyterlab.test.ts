/**
 * A real-browser test of the notebooks in JupyterLab: start JupyterLab from the project's Python
 * environment (localhost, fresh token, throw-away Jupyter settings), open a notebook in headless
 * Chromium driven by playwright-core, run all its cells from the Run menu, and check that every
 * cell finished without error output and that every figure is really on screen. A committed
 * notebook opened without running it (so untrusted) must show its figures too.
 *
 * Every notebook in notebooks/ is run (the smoke fixture when there are none); the first one, the
 * tutorial, is also opened unexecuted. BROWSER_NOTEBOOK=path picks one notebook instead. The browser works on copies in a temporary folder, so
 * committed files are never touched. Screenshots go to test-artifacts/browser/.
 *
 * Needs Debian's `chromium` (or CHROMIUM_PATH). Without it the test is skipped with a message,
 * except under CI, where it fails.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";

import { type BrowserContext, chromium, type Locator, type Page } from "playwright-core";

import { launchJupyterLab, type RunningLab } from "../../scripts/jupyter";
import { PROJECT_ROOT } from "../../scripts/python-env";
import { NOTEBOOK_TIMEOUT, pythonEnv } from "../notebooks/helpers";

const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const IN_CI = Boolean(process.env.CI && process.env.CI !== "false" && process.env.CI !== "0");
const ARTIFACTS = path.join(PROJECT_ROOT, "test-artifacts", "browser");
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
const STDERR_MIME = "application/vnd.jupyter.stderr";

const haveChromium = fs.existsSync(CHROMIUM);
const INSTALL_CHROMIUM = "Debian/Ubuntu: sudo apt-get install chromium; or set CHROMIUM_PATH";
if (!haveChromium && !IN_CI) {
  console.error(
    `\n!!! The browser test is SKIPPED: no Chromium at ${CHROMIUM}.\n` +
      `!!! Install it (${INSTALL_CHROMIUM}), then run npm test again. Under CI this is a failure.\n`,
  );
  test(`JupyterLab in a real browser (needs Chromium at ${CHROMIUM})`, {
    skip: `install Chromium (${INSTALL_CHROMIUM})`,
  });
}

/**
 * The notebooks the browser runs: BROWSER_NOTEBOOK (one path), else every notebook in notebooks/
 * (the tutorial and the exercises), else the smoke fixture.
 */
export function browserNotebooks(root: string = PROJECT_ROOT): string[] {
  if (process.env.BROWSER_NOTEBOOK) return [path.resolve(process.env.BROWSER_NOTEBOOK)];
  const dir = path.join(root, "notebooks");
  const found = fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((name) => name.endsWith(".ipynb"))
        .sort()
    : [];
  return found.length > 0
    ? found.map((name) => path.join(dir, name))
    : [path.join(root, "test", "fixtures", "smoke.ipynb")];
}

const VEGA_LITE_MIME = "application/vnd.vegalite.v5+json";
/** An output JupyterLab draws with its Vega-Lite renderer (which sets no data-mime-type). */
const LIVE_OUTPUT = ".jp-OutputArea-output.jp-RenderedVegaLite";

/**
 * The figures among a notebook file's outputs: those JupyterLab shows as a PNG, and those it
 * draws live from their Vega-Lite spec (which ranks above the PNG in the same output).
 */
function figureOutputs(file: string): { png: number; live: number } {
  const nb = JSON.parse(fs.readFileSync(file, "utf8")) as {
    cells: { cell_type: string; outputs?: { data?: Record<string, unknown> }[] }[];
  };
  const outputs = nb.cells
    .filter((c) => c.cell_type === "code")
    .flatMap((c) => c.outputs ?? [])
    .filter((o) => o.data !== undefined && "image/png" in o.data);
  const live = outputs.filter((o) => VEGA_LITE_MIME in (o.data as object)).length;
  return { png: outputs.length - live, live };
}

/** JupyterLab's cell metadata for a heading whose section is folded. */
const HEADING_FOLDED = "jp-MarkdownHeadingCollapsed";

/** A notebook's folded answer: the folded heading's cell index and text, and its first code cell with a hidden source. */
export function foldedAnswer(
  file: string,
):
  | { heading: number; title: string; codeCell: number; firstLine: string; last: number; cleanEnd: boolean }
  | undefined {
  const nb = JSON.parse(fs.readFileSync(file, "utf8")) as {
    cells: { cell_type: string; source: string | string[]; metadata?: Record<string, unknown> }[];
  };
  const text = (c: { source: string | string[] }): string =>
    Array.isArray(c.source) ? c.source.join("") : c.source;
  const heading = nb.cells.findIndex(
    (c) => c.cell_type === "markdown" && c.metadata?.[HEADING_FOLDED] === true,
  );
  if (heading < 0) return undefined;
  const codeCell = nb.cells.findIndex(
    (c, i) =>
      i > heading &&
      c.cell_type === "code" &&
      (c.metadata?.jupyter as { source_hidden?: boolean } | undefined)?.source_hidden === true,
  );
  if (codeCell < 0) return undefined;
  const title = (text(nb.cells[heading]!).split("\n")[0] ?? "").replace(/^#+\s*/, "");
  const firstLine =
    text(nb.cells[codeCell]!)
      .split("\n")
      .find((l) => l.trim().length > 0) ?? "";
  // The fold ends before the next cell with a heading of the same or a higher level (## or #).
  const next = nb.cells.findIndex(
    (c, i) => i > heading && c.cell_type === "markdown" && /^#{1,2} /m.test(text(c)),
  );
  const last = (next < 0 ? nb.cells.length : next) - 1;
  // A cell that merely contains such a heading below some text would end the fold early, showing its text.
  const cleanEnd = next < 0 || /^#{1,2} /.test(text(nb.cells[next]!).trimStart());
  return { heading, title, codeCell, firstLine: firstLine.trim(), last, cleanEnd };
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The parts of a page's `<img>` and `window` the figure check reads (the project compiles without DOM types). */
interface BrowserImage {
  readonly complete: boolean;
  readonly naturalWidth: number;
  readonly naturalHeight: number;
  readonly src: string;
  getBoundingClientRect(): {
    left: number;
    right: number;
    top: number;
    bottom: number;
    width: number;
    height: number;
  };
}
interface BrowserWindow {
  readonly innerWidth: number;
  readonly innerHeight: number;
  readonly document: { elementFromPoint(x: number, y: number): unknown };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe("JupyterLab in a real browser", { skip: !haveChromium && !IN_CI ? "no Chromium" : false }, () => {
  const sources = browserNotebooks();
  const token = randomBytes(24).toString("hex");
  let work: string;
  let base: string;
  let lab: RunningLab | undefined;
  let labLog = "";
  let context: BrowserContext | undefined;

  before(async () => {
    assert.ok(
      haveChromium,
      `No Chromium at ${CHROMIUM}, and CI requires the browser test: install it (${INSTALL_CHROMIUM}).`,
    );
    const env = await pythonEnv();
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    for (const old of fs.readdirSync(ARTIFACTS))
      fs.rmSync(path.join(ARTIFACTS, old), { recursive: true, force: true });
    // Inside the project, so that the kernel resolves "attention-pooling" from node_modules/.
    work = fs.mkdtempSync(path.join(PROJECT_ROOT, "test-artifacts", "browser-work-"));
    for (const sub of ["run", "committed"]) {
      fs.mkdirSync(path.join(work, "notebooks", sub), { recursive: true });
      for (const source of sources)
        fs.copyFileSync(source, path.join(work, "notebooks", sub, path.basename(source)));
    }
    const jupyter = path.join(work, "jupyter");
    const config = path.join(jupyter, "config");
    fs.mkdirSync(path.join(config, "labconfig"), { recursive: true });
    // No news pop-up asking to fetch announcements from the network.
    fs.writeFileSync(
      path.join(config, "labconfig", "page_config.json"),
      // exposeAppInBrowser: the test runs JupyterLab commands (expand every folded heading and cell).
      JSON.stringify({
        disabledExtensions: { "@jupyterlab/apputils-extension:announcements": true },
        exposeAppInBrowser: true,
      }),
    );
    try {
      lab = await launchJupyterLab({
        python: env.python,
        rootDir: path.join(work, "notebooks"),
        port: await freePort(),
        reproducible: true,
        detached: true,
        onOutput: (text) => (labLog += text),
        env: {
          JUPYTER_TOKEN: token,
          JUPYTER_CONFIG_DIR: config,
          JUPYTER_DATA_DIR: path.join(jupyter, "data"),
          JUPYTER_RUNTIME_DIR: path.join(jupyter, "runtime"),
          JUPYTERLAB_SETTINGS_DIR: path.join(jupyter, "settings"),
          JUPYTERLAB_WORKSPACES_DIR: path.join(jupyter, "workspaces"),
        },
      });
    } catch (err) {
      assert.fail(`${(err as Error).message}\n${labLog}`);
    }
    base = lab.base;
    context = await chromium.launchPersistentContext(path.join(work, "chromium-profile"), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 900 },
    });
  });

  after(async () => {
    await context?.close().catch(() => undefined);
    const child = lab?.child;
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      // JupyterLab runs in its own process group with its kernels: stop them all.
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      process.kill(-child.pid, "SIGTERM");
      await Promise.race([exited, sleep(15_000)]);
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid, "SIGKILL");
    }
    if (fs.existsSync(ARTIFACTS)) fs.writeFileSync(path.join(ARTIFACTS, "jupyterlab.log"), labLog);
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  test("the server listens on 127.0.0.1, refuses requests without the token, and offers the project's tslab", async () => {
    const without = await fetch(`${base}/api/contents`);
    assert.equal(without.status, 403);
    const wrong = await fetch(`${base}/api/contents`, { headers: { Authorization: "token not-the-token" } });
    assert.equal(wrong.status, 403);
    const page = await fetch(`${base}/lab`, { redirect: "manual" });
    assert.notEqual(page.status, 200, "the JupyterLab page itself must ask for the token");
    const withToken = await fetch(`${base}/api/contents`, { headers: { Authorization: `token ${token}` } });
    assert.equal(withToken.status, 200);

    const specs = (await (
      await fetch(`${base}/api/kernelspecs`, { headers: { Authorization: `token ${token}` } })
    ).json()) as {
      default: string;
      kernelspecs: Record<string, { spec: { argv: string[]; display_name: string } }>;
    };
    assert.equal(specs.default, "tslab");
    assert.equal(specs.kernelspecs.tslab?.spec.display_name, "TypeScript");
    assert.equal(
      specs.kernelspecs.tslab?.spec.argv[1],
      path.join(PROJECT_ROOT, "scripts", "tslab-kernel.cjs"),
    );

    const runtime = path.join(work, "jupyter", "runtime");
    const info = fs.readdirSync(runtime).find((f) => /^jpserver-\d+\.json$/.test(f));
    assert.ok(info, `no server info file in ${fs.readdirSync(runtime).join(", ")}`);
    const server = JSON.parse(fs.readFileSync(path.join(runtime, info), "utf8")) as {
      url: string;
      token: string;
    };
    assert.equal(new URL(server.url).hostname, "127.0.0.1");
    assert.equal(server.token, token);
  });

  const first = sources[0] as string;
  test(`a committed notebook opened without running shows its figures (${path.basename(first)}, untrusted)`, async () => {
    const source = first;
    const name = path.basename(source);
    const expected = figureOutputs(source);
    assert.ok(expected.png > 0, `${path.relative(PROJECT_ROOT, source)} has no committed PNG figure to show`);
    const model = (await (
      await fetch(`${base}/api/contents/committed/${encodeURIComponent(name)}`, {
        headers: { Authorization: `token ${token}` },
      })
    ).json()) as { content: { cells: { cell_type: string; metadata: { trusted?: boolean } }[] } };
    const code = model.content.cells.filter((c) => c.cell_type === "code");
    assert.ok(
      code.every((c) => c.metadata.trusted === false),
      "the server must treat the fresh copy as untrusted",
    );

    const page = await openNotebook(`committed/${name}`, "committed");
    await unfoldAll(page);
    await assertFigures(page, expected, "committed");
    await page.close();
  });

  test("a bad library call in a cell shows the library's message and the cell's line, with no frames from lib or tslab", async () => {
    const name = "bad-call.ipynb";
    const cells = [
      'import { initBackend, nadarayaWatson } from "attention-pooling";\nawait initBackend();',
      'nadarayaWatson([0, 1, 2], [1, 2], [0.5], "gaussian", { sigma: 0.5 });',
    ].map((source) => ({ cell_type: "code", execution_count: null, metadata: {}, outputs: [], source }));
    const put = await fetch(`${base}/api/contents/run/${name}`, {
      method: "PUT",
      headers: { Authorization: `token ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({
        type: "notebook",
        format: "json",
        content: {
          cells,
          metadata: { kernelspec: { display_name: "TypeScript", language: "typescript", name: "tslab" } },
          nbformat: 4,
          nbformat_minor: 5,
        },
      }),
    });
    assert.ok(put.ok, `could not write ${name}: ${put.status}`);
    const page = await openNotebook(`run/${name}`, "bad-call");
    await waitForKernelIdle(page);
    await page.getByRole("menuitem", { name: "Run", exact: true }).click();
    await page.getByRole("menuitem", { name: /^Run All Cells/ }).click();
    const notebook = activeNotebook(page);
    const error = notebook.locator(".jp-CodeCell").nth(1).locator(".jp-OutputArea-output");
    await error.first().waitFor({ timeout: 90_000 });
    const text = (await error.allInnerTexts()).join("\n");
    await page.screenshot({ path: path.join(ARTIFACTS, "bad-call.png") });
    assert.match(text, /nadarayaWatson: keys and values must have the same length, got 3 and 2\./);
    // The learner's own line, counted in the cell's TypeScript.
    assert.ok(
      text.includes(
        'Cell In[2], line 1: nadarayaWatson([0, 1, 2], [1, 2], [0.5], "gaussian", { sigma: 0.5 });',
      ),
      `the error output does not show the cell's line:\n${text}`,
    );
    for (const frame of ["lib/dist", "tslab/dist", "node_modules", "    at "])
      assert.ok(!text.includes(frame), `the error output shows ${JSON.stringify(frame)}:\n${text}`);
    await page.close();
  });

  const explorable = sources.find((s) => figureOutputs(s).live > 0);
  test(
    `a live figure redraws its curve when its σ slider moves and its kernel menu changes (${explorable ? path.basename(explorable) : "no notebook has one"}, untrusted)`,
    // Every notebook set has one, except a single notebook picked with BROWSER_NOTEBOOK.
    {
      skip:
        explorable === undefined && process.env.BROWSER_NOTEBOOK
          ? "the picked notebook has no live figure"
          : false,
    },
    async () => {
      assert.ok(explorable, "no notebook under test has a live (Vega-Lite) figure");
      const name = path.basename(explorable);
      const page = await openNotebook(`committed/${name}`, "committed-live");
      const output = activeNotebook(page).locator(LIVE_OUTPUT).first();
      await output.scrollIntoViewIfNeeded();
      const slider = output.locator('input[type="range"]').first();
      await slider.waitFor({ timeout: 60_000 });
      const menu = output.locator("select").first();
      const chart = output.locator(".vega-embed canvas, .vega-embed svg.marks").first();
      await chart.waitFor({ timeout: 60_000 });
      // The left panel's plot area, below its title (which names σ): the curve, the points and the truth.
      const plot = async (): Promise<Buffer> => {
        const box = await chart.boundingBox();
        assert.ok(
          box && box.width > 100 && box.height > 100,
          `the live figure has no size: ${JSON.stringify(box)}`,
        );
        await sleep(400);
        return page.screenshot({
          clip: { x: box.x + 60, y: box.y + 45, width: box.width * 0.4, height: box.height - 100 },
        });
      };
      const before = await plot();
      assert.deepEqual(await plot(), before, "the live figure changes while nobody touches it");
      await page.screenshot({ path: path.join(ARTIFACTS, "live-before.png") });

      await slider.fill("-1.2"); // log10 σ: σ ≈ 0.063
      const narrow = await plot();
      await page.screenshot({ path: path.join(ARTIFACTS, "live-narrow.png") });
      assert.ok(!narrow.equals(before), "moving the σ slider must redraw the curve");

      await menu.selectOption("boxcar");
      const boxcar = await plot();
      await page.screenshot({ path: path.join(ARTIFACTS, "live-boxcar.png") });
      assert.ok(!boxcar.equals(narrow), "choosing another kernel must redraw the curve");
      await page.close();
    },
  );

  const folded = sources.find((s) => foldedAnswer(s) !== undefined);
  test(
    `an exercise opens with its worked answer folded; one click unfolds it, one more shows its code (${folded ? path.basename(folded) : "no notebook has one"}, untrusted)`,
    {
      skip:
        folded === undefined && process.env.BROWSER_NOTEBOOK
          ? "the picked notebook has no folded answer"
          : false,
    },
    async () => {
      assert.ok(folded, "no notebook under test folds a worked answer");
      const answer = foldedAnswer(folded) as NonNullable<ReturnType<typeof foldedAnswer>>;
      const name = path.basename(folded);
      const page = await openNotebook(`committed/${name}`, "committed-folded");
      const cells = activeNotebook(page).locator(".jp-Cell");
      const heading = cells.nth(answer.heading);
      const code = cells.nth(answer.codeCell);
      await heading.scrollIntoViewIfNeeded();
      assert.match(
        await heading.innerText(),
        new RegExp(answer.title.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")),
      );
      assert.ok(await cells.nth(answer.heading - 1).isVisible(), "the cell before the answer is shown");
      assert.ok(
        !(await code.isVisible()),
        "the answer's code cell must be folded away when the notebook opens",
      );
      assert.ok(answer.cleanEnd, "the cell that ends the folded answer must start with its heading");
      assert.ok(
        !(await cells.nth(answer.last).isVisible()),
        `the answer's last cell (${answer.last}) must be folded away too`,
      );
      await page.screenshot({ path: path.join(ARTIFACTS, "folded-closed.png") });

      await heading.locator(".jp-showHiddenCellsButton").click();
      await code.waitFor({ state: "visible", timeout: 10_000 });
      const placeholder = code.locator(".jp-InputPlaceholder");
      assert.ok(
        await placeholder.isVisible(),
        "the answer's code is folded to a placeholder until asked for",
      );
      assert.equal(await code.locator(".cm-content").count(), 0, "no code editor shown before the click");
      await code.scrollIntoViewIfNeeded();
      await page.screenshot({ path: path.join(ARTIFACTS, "folded-open.png") });

      await placeholder.click();
      const editor = code.locator(".cm-content");
      await editor.waitFor({ state: "visible", timeout: 10_000 });
      assert.ok(
        (await editor.innerText()).includes(answer.firstLine),
        `the unfolded cell shows its code, starting ${JSON.stringify(answer.firstLine)}`,
      );
      await page.screenshot({ path: path.join(ARTIFACTS, "folded-code.png") });
      await page.close();
    },
  );

  for (const source of sources) {
    const name = path.basename(source);
    test(
      `Run All Cells runs ${name} without errors and shows every figure`,
      { timeout: (NOTEBOOK_TIMEOUT + 180) * 1000 },
      async () => {
        const page = await openNotebook(`run/${name}`, `run-${name.replace(/\W+/g, "-")}`);
        await waitForKernelIdle(page);
        await unfoldAll(page);
        const notebook = activeNotebook(page);
        const codeCells = await notebook.locator(".jp-CodeCell").count();
        assert.ok(codeCells > 0);

        await page.getByRole("menuitem", { name: "Run", exact: true }).click();
        await page.getByRole("menuitem", { name: /^Run All Cells/ }).click();

        // Done when every prompt is numbered in order; stopped when nothing runs or waits for a while.
        const deadline = Date.now() + NOTEBOOK_TIMEOUT * 1000;
        let prompts: string[] = [];
        let quietSince: number | undefined;
        for (;;) {
          prompts = (await notebook.locator(".jp-CodeCell .jp-InputArea-prompt").allTextContents()).map((p) =>
            p.trim(),
          );
          const idle = (await executionStatus(page)) === "idle";
          if (idle && prompts.every((p, i) => p === `[${i + 1}]:`)) break;
          const busy = !idle || prompts.some((p) => p.includes("*"));
          quietSince = busy ? undefined : (quietSince ?? Date.now());
          if (quietSince !== undefined && Date.now() - quietSince > 15_000) break;
          if (Date.now() > deadline) {
            await page.screenshot({ path: path.join(ARTIFACTS, `run-timeout-${name}.png`) });
            assert.fail(`not finished within ${NOTEBOOK_TIMEOUT} s; prompts: ${prompts.join(" ")}`);
          }
          await sleep(500);
        }

        const errors = await notebook
          .locator(`.jp-OutputArea-output[data-mime-type="${STDERR_MIME}"]`)
          .allTextContents();
        if (errors.length > 0) await page.screenshot({ path: path.join(ARTIFACTS, `run-error-${name}.png`) });
        assert.deepEqual(errors, [], "no cell may write error output");
        assert.equal(prompts.length, codeCells);
        assert.deepEqual(
          prompts,
          prompts.map((_, i) => `[${i + 1}]:`),
          "every code cell must have run, in order",
        );

        await assertFigures(page, figureOutputs(source), `run-${name}`);
        await page.close();
      },
    );
  }

  /**
   * Opens a notebook in its own JupyterLab workspace (so no tab from another page is restored)
   * and waits until its cells and its TypeScript kernel are there.
   */
  async function openNotebook(relative: string, workspace: string): Promise<Page> {
    assert.ok(context);
    const page = await context.newPage();
    const file = relative.split("/").map(encodeURIComponent).join("/");
    await page.goto(`${base}/lab/workspaces/${workspace}/tree/${file}?token=${token}`);
    try {
      await activeNotebook(page).locator(".jp-Cell").first().waitFor({ timeout: 90_000 });
      await assertKernelName(page);
    } catch (err) {
      await page.screenshot({ path: path.join(ARTIFACTS, `${workspace}-open-failed.png`) });
      throw err;
    }
    return page;
  }

  /** Unfolds every folded heading and hidden cell source, so that every prompt and figure is on the page. */
  async function unfoldAll(page: Page): Promise<void> {
    await page.evaluate(async () => {
      const app = (
        globalThis as unknown as { jupyterapp: { commands: { execute(id: string): Promise<unknown> } } }
      ).jupyterapp;
      await app.commands.execute("notebook:expand-all-headings");
      await app.commands.execute("notebook:show-all-cell-code");
    });
  }

  /** The notebook in the visible tab. */
  function activeNotebook(page: Page): Locator {
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook");
  }

  async function assertKernelName(page: Page): Promise<void> {
    const kernel = page.locator(
      ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-NotebookPanel-toolbar .jp-KernelName",
    );
    await kernel.first().waitFor({ timeout: 60_000 });
    const deadline = Date.now() + 60_000;
    let text = "";
    while (Date.now() < deadline) {
      text = (await kernel.first().innerText()).trim();
      if (text === "TypeScript") return;
      await sleep(250);
    }
    assert.fail(`kernel shown as ${JSON.stringify(text)}, expected "TypeScript"`);
  }

  async function executionStatus(page: Page): Promise<string | null> {
    return page
      .locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator")
      .first()
      .getAttribute("data-status");
  }

  async function waitForKernelIdle(page: Page): Promise<void> {
    const deadline = Date.now() + 120_000;
    while ((await executionStatus(page)) !== "idle") {
      if (Date.now() > deadline)
        assert.fail(`the kernel never became idle (status ${await executionStatus(page)})`);
      await sleep(250);
    }
  }

  /**
   * Each PNG output is loaded, has pixels, and is the topmost element where it sits once scrolled
   * to; each live (Vega-Lite) output has drawn a chart of some size.
   */
  async function assertFigures(
    page: Page,
    expected: { png: number; live: number },
    label: string,
  ): Promise<void> {
    const live = activeNotebook(page).locator(LIVE_OUTPUT);
    if (expected.live > 0) await live.nth(expected.live - 1).waitFor({ state: "attached", timeout: 60_000 });
    assert.equal(await live.count(), expected.live, `${label}: live figures on the page`);
    for (let i = 0; i < expected.live; i++) {
      const chart = live.nth(i).locator(".vega-embed canvas, .vega-embed svg.marks").first();
      await chart.scrollIntoViewIfNeeded();
      await chart.waitFor({ timeout: 60_000 });
      const box = await chart.boundingBox();
      assert.ok(box && box.width > 100 && box.height > 100, `${label} live figure ${i + 1} has no size`);
      assert.equal(
        await live.nth(i).locator("text=Javascript Error").count(),
        0,
        `${label} live figure ${i + 1} failed to render`,
      );
      await page.screenshot({ path: path.join(ARTIFACTS, `${label}-live-${i + 1}.png`) });
    }
    const images = activeNotebook(page).locator(".jp-OutputArea-output img");
    await images.nth(Math.max(0, expected.png - 1)).waitFor({ state: "attached", timeout: 60_000 });
    const count = await images.count();
    assert.equal(
      count,
      expected.png,
      `${label}: ${count} figures on the page, ${expected.png} PNG outputs in the notebook (besides ${expected.live} live)`,
    );
    for (let i = 0; i < count; i++) {
      const image: Locator = images.nth(i);
      await image.scrollIntoViewIfNeeded();
      await page.waitForFunction(
        (el) => (el as unknown as BrowserImage).complete,
        await image.elementHandle(),
      );
      const seen = await image.evaluate((el) => {
        const img = el as unknown as BrowserImage;
        const win = globalThis as unknown as BrowserWindow;
        const r = img.getBoundingClientRect();
        // The centre of the part of the image inside the viewport: is the image what is drawn there?
        const left = Math.max(r.left, 0);
        const right = Math.min(r.right, win.innerWidth);
        const top = Math.max(r.top, 0);
        const bottom = Math.min(r.bottom, win.innerHeight);
        return {
          naturalWidth: img.naturalWidth,
          naturalHeight: img.naturalHeight,
          width: r.width,
          height: r.height,
          inViewport: right > left && bottom > top,
          onTop: win.document.elementFromPoint((left + right) / 2, (top + bottom) / 2) === el,
          src: img.src.slice(0, 22),
        };
      });
      assert.equal(seen.src, "data:image/png;base64,", `${label} figure ${i + 1} is not an inline PNG`);
      assert.ok(seen.naturalWidth > 0 && seen.naturalHeight > 0, `${label} figure ${i + 1} did not decode`);
      assert.ok(seen.width > 0 && seen.height > 0, `${label} figure ${i + 1} has no size on the page`);
      assert.ok(seen.inViewport, `${label} figure ${i + 1} is not in the viewport after scrolling to it`);
      assert.ok(seen.onTop, `${label} figure ${i + 1} is covered by another element`);
      await page.screenshot({ path: path.join(ARTIFACTS, `${label}-figure-${i + 1}.png`) });
    }
  }
});
