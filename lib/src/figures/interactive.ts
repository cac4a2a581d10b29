/**
 * `openFigure`: the same figure as an interactive Plotly chart in a browser window, for scripts
 * and the REPL (notebooks use `show`). `toPlotly` converts the figure; `./window` serves it.
 */
import { spawn } from "node:child_process";

import { describe, fail } from "../errors";
import { checkOptions } from "../validate";
import { REDS } from "./style";
import type { HeatmapsFigure, LinesFigure } from "./types";
import { type FigureWindow, serveFigure } from "./window";

export type { FigureWindow } from "./window";

/** The figures a Plotly window can draw: line panels and heatmaps. */
type PlotlyDrawable = LinesFigure | HeatmapsFigure;

/** A Plotly figure as plain JSON: traces and layout. */
export interface PlotlyFigure {
  readonly data: Record<string, unknown>[];
  readonly layout: Record<string, unknown>;
}


const axisName = (i: number) => (i === 0 ? "" : String(i + 1));

/** Horizontal domains of n panels side by side in [0, right], with a small gap. */
function domains(n: number, right: number): [number, number][] {
  const gap = n > 1 ? 0.03 : 0;
  const w = (right - gap * (n - 1)) / n;
  return Array.from({ length: n }, (_, i) => [i * (w + gap), i * (w + gap) + w]);
}

function titles(figure: PlotlyDrawable, dom: [number, number][]): Record<string, unknown>[] {
  return figure.panels.flatMap((p, i) =>
    p.title === undefined
      ? []
      : [
          {
            text: p.title,
            showarrow: false,
            xref: "paper",
            yref: "paper",
            x: ((dom[i] as [number, number])[0] + (dom[i] as [number, number])[1]) / 2,
            y: 1,
            xanchor: "center",
            yanchor: "bottom",
          },
        ],
  );
}

function linesToPlotly(figure: LinesFigure): PlotlyFigure {
  const dom = domains(figure.panels.length, 1);
  const seen = new Set<string>();
  const data = figure.panels.flatMap((panel, i) =>
    panel.series.map((s) => {
      const first = !seen.has(s.name);
      seen.add(s.name);
      return {
        type: "scatter",
        mode: s.style === "points" ? "markers" : "lines",
        name: s.name,
        legendgroup: s.name,
        showlegend: figure.legend && first,
        x: [...s.x],
        y: [...s.y],
        xaxis: `x${axisName(i)}`,
        yaxis: "y",
        opacity: s.opacity,
        line: { color: s.color, width: 2, dash: s.style === "dashed" ? "dash" : "solid" },
        marker: { color: s.color, size: 7 },
      };
    }),
  );
  const layout: Record<string, unknown> = {
    width: figure.width + 120,
    height: figure.height + 80,
    ...(figure.title === undefined ? {} : { title: { text: figure.title } }),
    yaxis: { title: { text: figure.yLabel }, range: [...figure.yDomain], anchor: "x" },
    annotations: titles(figure, dom),
    showlegend: figure.legend,
  };
  figure.panels.forEach((panel, i) => {
    layout[`xaxis${axisName(i)}`] = {
      domain: dom[i],
      anchor: "y",
      range: [...panel.xDomain],
      title: { text: panel.xLabel },
    };
  });
  return { data, layout };
}

function heatmapsToPlotly(figure: HeatmapsFigure): PlotlyFigure {
  const n = figure.panels.length;
  const dom = domains(n, 0.9);
  const shared = figure.panels.every((p) => p.nKeys === (figure.panels[0] as { nKeys: number }).nKeys);
  const data = figure.panels.map((panel, i) => ({
    type: "heatmap",
    name: panel.title ?? `panel ${i + 1}`,
    // Plotly draws z[row][column] with rows along y: rows are keys, columns are queries.
    z: Array.from({ length: panel.nKeys }, (_, k) => panel.weights.map((row) => row[k] as number)),
    x: Array.from({ length: panel.nQueries }, (_, q) => q),
    y: Array.from({ length: panel.nKeys }, (_, k) => k),
    xaxis: `x${axisName(i)}`,
    yaxis: shared ? "y" : `y${axisName(i)}`,
    coloraxis: "coloraxis",
    hovertemplate: "query %{x}<br>key %{y}<br>weight %{z:.4f}<extra></extra>",
  }));
  const colorscale = REDS.map((c, i) => [i / (REDS.length - 1), c]);
  const layout: Record<string, unknown> = {
    width: figure.width + 120,
    height: figure.height + 80,
    ...(figure.title === undefined ? {} : { title: { text: figure.title } }),
    coloraxis: {
      colorscale,
      cmin: figure.colorDomain[0],
      cmax: figure.colorDomain[1],
      colorbar: { title: { text: figure.colorLabel } },
    },
    annotations: titles(figure, dom),
  };
  figure.panels.forEach((_, i) => {
    layout[`xaxis${axisName(i)}`] = { domain: dom[i], anchor: shared ? "y" : `y${axisName(i)}`, title: { text: figure.xLabel } };
    if (i === 0 || !shared) {
      layout[`yaxis${axisName(i)}`] = {
        autorange: "reversed",
        anchor: `x${axisName(i)}`,
        title: { text: i === 0 ? figure.yLabel : "" },
      };
    }
  });
  return { data, layout };
}

/**
 * The Plotly traces and layout that {@link openFigure} sends: one subplot per panel, the
 * panels' shared y axis, one legend or one shared colour axis ("Reds"), and the same
 * orientation as the static figure (heatmaps: key index on y, key 0 at the top, query on x).
 *
 * @example
 * ```ts
 * const { data, layout } = toPlotly(kernelShapesFigure());
 * data.length; // 4 traces, one per panel
 * ```
 */
export function toPlotly(figure: PlotlyDrawable): PlotlyFigure {
  return convert("toPlotly", figure);
}

function convert(fn: string, figure: PlotlyDrawable): PlotlyFigure {
  if (typeof figure !== "object" || figure === null || (figure.kind !== "lines" && figure.kind !== "heatmaps")) {
    fail(fn, `figure must be a figure from linesFigure or heatmapsFigure, got ${describe(figure)}`);
  }
  return figure.kind === "lines" ? linesToPlotly(figure) : heatmapsToPlotly(figure);
}

/** Options for {@link openFigure}. */
export interface OpenFigureOptions {
  /**
   * The address the server listens on. Default `"127.0.0.1"`: only programs on this machine can
   * connect. Any other address is your explicit choice: `"0.0.0.0"` (every IPv4 interface) lets
   * anyone who can reach this machine and learn the page's address read the figure.
   */
  readonly host?: string;
  /** The port, 0 to 65535. Default 0: a free port the system picks. */
  readonly port?: number;
  /** Open the page in the default browser (`xdg-open`, `open` or `start`). Default `true`. */
  readonly open?: boolean;
  /**
   * Keep serving after the last tab showing the figure has closed, until `close()` or the end of
   * the process. Default `false`: the server stops 3 s after its last tab closes, so a script
   * that opened a figure ends when you close the figure.
   */
  readonly keepServing?: boolean;
  /** Print nothing. Default `false`: one line with the page's address. */
  readonly quiet?: boolean;
}

/**
 * Opens a figure as an interactive Plotly chart (zoom, pan, hover values) in a browser window,
 * for scripts and the REPL; notebooks use `show`, files use `saveFigure`.
 *
 * It starts a small web server in this process, prints one line with the page's address, and
 * opens the page in your browser. The page draws with the Plotly build of the optional package
 * `plotly.js-dist-min` (installed with this library), served by the same server, so it needs
 * no other host and works offline.
 *
 * Network: the server listens on 127.0.0.1 only, on a free port, unless `options.host` and
 * `options.port` say otherwise. The page's address carries a random token, and the server
 * answers nothing else.
 *
 * Stopping: the server stops 3 s after the last tab showing the figure closes (unless
 * `options.keepServing`), when you call `close()` on the window it resolves to, or with the
 * process (Ctrl-C). While it serves, it keeps a script's process running.
 *
 * Each call serves its own page, on its own port.
 *
 * @param figure a figure from `linesFigure` or `heatmapsFigure`.
 * @param options see {@link OpenFigureOptions}.
 * @returns a promise of the running {@link FigureWindow} (its `url`, `host`, `port`, `close()`
 *   and `closed`); it rejects when the address cannot be used. Bad arguments throw at once.
 *
 * @example
 * ```ts
 * const window = await openFigure(attentionFigure(loadTutorialData()));
 * // openFigure: http://127.0.0.1:41235/Yc2sV…/ (serving until its tab closes; Ctrl-C stops it)
 * await window.closed; // the user closed the tab
 * ```
 */
export function openFigure(figure: PlotlyDrawable, options: OpenFigureOptions = {}): Promise<FigureWindow> {
  const fn = "openFigure";
  const plotly = convert(fn, figure);
  checkOptions(fn, options);
  const { host = "127.0.0.1", port = 0, open = true, keepServing = false, quiet = false } = options;
  if (typeof host !== "string" || host.trim() === "") {
    fail(fn, `options.host must be an address such as "127.0.0.1", got ${describe(host)}`);
  }
  if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65535) {
    fail(fn, `options.port must be an integer from 0 to 65535 (0: a free port), got ${describe(port)}`);
  }
  for (const [name, v] of [
    ["open", open],
    ["keepServing", keepServing],
    ["quiet", quiet],
  ] as const) {
    if (typeof v !== "boolean") fail(fn, `options.${name} must be true or false, got ${describe(v)}`);
  }
  const plotlyPath = plotlyScript(fn);
  const title = figure.title ?? "attention-pooling figure";
  return serveFigure(plotly, { host, port, stopWithLastTab: !keepServing, title, plotlyPath }).then((window) => {
    if (!quiet) {
      const until = keepServing ? "until close() or Ctrl-C" : "until its tab closes; Ctrl-C stops it";
      console.log(`${fn}: ${window.url} (serving ${until})`);
    }
    if (open) openBrowser(window.url);
    return window;
  });
}

/** The path of Plotly's browser build, from the optional package `plotly.js-dist-min`. */
function plotlyScript(fn: string): string {
  try {
    return require.resolve("plotly.js-dist-min");
  } catch (err) {
    let version = "";
    try {
      const pkg = require("../../package.json") as { optionalDependencies?: Record<string, string> };
      version = pkg.optionalDependencies?.["plotly.js-dist-min"] ?? "";
    } catch {
      // No package.json beside the library: name the package without a version.
    }
    return fail(
      fn,
      `cannot find the optional package plotly.js-dist-min (${(err as Error).message.split("\n")[0]}); ` +
        `install it with npm install plotly.js-dist-min${version ? `@${version}` : ""}, or use saveFigure()`,
    );
  }
}

/** Opens `url` in the default browser, if there is one; a missing opener is not an error (the address was printed). */
function openBrowser(url: string): void {
  const [command, args] =
    process.platform === "darwin"
      ? ["open", [url]]
      : process.platform === "win32"
        ? ["cmd", ["/c", "start", '""', url]]
        : ["xdg-open", [url]];
  try {
    const child = spawn(command, args, { stdio: "ignore", detached: true });
    child.on("error", () => undefined);
    child.unref();
  } catch {
    // No opener on this machine: the printed address is the way in.
  }
}
