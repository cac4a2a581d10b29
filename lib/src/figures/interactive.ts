/**
 * `openFigure`: the same figure as an interactive Plotly chart in a browser window, through
 * `nodeplotlib`, for scripts and the REPL. Never used by notebooks or tests.
 */
import { describe, fail } from "../errors";
import { REDS } from "./style";
import type { HeatmapsFigure, LinesFigure } from "./types";

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
  if (typeof figure !== "object" || figure === null || (figure.kind !== "lines" && figure.kind !== "heatmaps")) {
    fail("toPlotly", `figure must be a figure from linesFigure or heatmapsFigure, got ${describe(figure)}`);
  }
  return figure.kind === "lines" ? linesToPlotly(figure) : heatmapsToPlotly(figure);
}

/**
 * Opens a figure as an interactive Plotly chart (zoom, pan, hover values) in a browser window,
 * through the optional `nodeplotlib` package, which is loaded only here. For scripts and the
 * REPL; notebooks use `show`, files use `saveFigure`.
 *
 * Network: nodeplotlib (1.1.2) starts a NestJS/Express web server that serves the page and
 * streams the data over socket.io. It calls `listen(port)` without a host, so the server
 * listens on ALL of the machine's network interfaces (the unspecified address `::` or
 * `0.0.0.0`), not only on localhost, and has no authentication: anyone who can reach the
 * machine and guess the port can read the plotted data while it runs. The port is random
 * unless the environment variable `NODEPLOTLIB_PORT` sets it (then no browser is opened
 * either). It prints the address as `http://localhost:<port>`, opens it with `xdg-open`,
 * `open` or `start`, and keeps the process alive until the last browser tab is closed.
 * Do not call it on a machine exposed to an untrusted network.
 *
 * @example
 * ```ts
 * openFigure(attentionFigure(loadTutorialData()));
 * ```
 */
export function openFigure(figure: PlotlyDrawable): void {
  const { data, layout } = toPlotly(figure);
  let nodeplotlib: { plot(data: unknown[], layout?: unknown): void };
  try {
    nodeplotlib = require("nodeplotlib") as typeof nodeplotlib;
  } catch (err) {
    fail(
      "openFigure",
      `cannot load the optional package nodeplotlib (${(err as Error).message.split("\n")[0]}); ` +
        `install it with npm install nodeplotlib, or use saveFigure()`,
    );
  }
  nodeplotlib.plot(data, layout);
}
