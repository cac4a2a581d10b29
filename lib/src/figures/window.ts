/**
 * A figure window's server, for {@link openFigure}: a one-page web server on this machine that
 * draws one Plotly figure with the Plotly build of the `plotly.js-dist-min` package. The page
 * needs nothing from any other host, so it works offline.
 *
 * Routes, all below a random token (so another site or user cannot guess the page's address):
 * `/<token>/` the page, `/<token>/plotly.min.js` Plotly, `/<token>/viewer` an event stream each
 * open tab holds, which tells the server when the last tab has closed. Anything else is a 404.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";

import { AttentionPoolingError } from "../errors";
import type { PlotlyFigure } from "./interactive";

/** A running figure window: where it is served, and how to stop it. */
export interface FigureWindow {
  /** The page's address, token included, e.g. `http://127.0.0.1:41235/Yc2sV…/`. */
  readonly url: string;
  /** The address the server listens on, as the operating system reports it (`127.0.0.1` by default). */
  readonly host: string;
  /** The port the server listens on. */
  readonly port: number;
  /** Stops the server and ends the open tabs' connections; resolves once it has stopped. Safe to call again. */
  close(): Promise<void>;
  /** Resolves when the server has stopped: by `close()`, or after its last tab closed. */
  readonly closed: Promise<void>;
}

/** What {@link serveFigure} needs; `openFigure` has checked every field. */
export interface ServeOptions {
  readonly host: string;
  readonly port: number;
  /** Stop when the last tab showing the page has been closed for {@link LAST_TAB_GRACE_MS}. */
  readonly stopWithLastTab: boolean;
  /** The page's title. */
  readonly title: string;
  /** The path of `plotly.min.js`. */
  readonly plotlyPath: string;
}

/**
 * How long the server waits, after the last tab closed, before it stops: long enough for a
 * reload (the tab closes its event stream and opens a new one within a second).
 */
export const LAST_TAB_GRACE_MS = 3000;

/**
 * Starts the server on `options.host:options.port` (port 0: a free one) and resolves when it
 * listens. Rejects with an `openFigure` error when the address cannot be used.
 */
export function serveFigure(figure: PlotlyFigure, options: ServeOptions): Promise<FigureWindow> {
  const token = randomBytes(18).toString("base64url");
  const nonce = randomBytes(18).toString("base64");
  const page = pageHtml(figure, options.title, nonce);
  const viewers = new Set<http.ServerResponse>();
  let graceTimer: NodeJS.Timeout | undefined;

  const server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const send = (status: number, type: string, body: string | Buffer, extra: http.OutgoingHttpHeaders = {}) => {
      res.writeHead(status, { "Content-Type": type, ...COMMON_HEADERS, ...extra });
      res.end(body);
    };
    if (req.method !== "GET") {
      send(405, "text/plain; charset=utf-8", "Method not allowed\n", { Allow: "GET" });
    } else if (path === `/${token}`) {
      send(308, "text/plain; charset=utf-8", "", { Location: `/${token}/` });
    } else if (path === `/${token}/`) {
      send(200, "text/html; charset=utf-8", page, {
        "Content-Security-Policy": contentSecurityPolicy(nonce),
      });
    } else if (path === `/${token}/plotly.min.js`) {
      res.writeHead(200, { "Content-Type": "text/javascript; charset=utf-8", ...COMMON_HEADERS });
      fs.createReadStream(options.plotlyPath).on("error", () => res.destroy()).pipe(res);
    } else if (path === `/${token}/viewer`) {
      res.writeHead(200, { "Content-Type": "text/event-stream", ...COMMON_HEADERS });
      res.write(": viewing\n\n");
      viewers.add(res);
      clearTimeout(graceTimer);
      res.on("close", () => {
        viewers.delete(res);
        if (options.stopWithLastTab && viewers.size === 0 && server.listening) {
          // Unref'd: while it runs the server keeps the process alive anyway, and after close() it must not.
          graceTimer = setTimeout(() => {
            if (viewers.size === 0) void close();
          }, LAST_TAB_GRACE_MS).unref();
        }
      });
    } else {
      send(404, "text/plain; charset=utf-8", "Not found\n");
    }
  });

  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  server.on("close", () => {
    clearTimeout(graceTimer);
    resolveClosed();
  });
  let closing: Promise<void> | undefined;
  function close(): Promise<void> {
    if (closing) return closing;
    clearTimeout(graceTimer);
    if (!server.listening) {
      closing = closed;
      return closing;
    }
    closing = new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const res of viewers) res.end();
      server.closeAllConnections();
    });
    return closing;
  }

  return new Promise<FigureWindow>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) => {
      resolveClosed();
      reject(
        new AttentionPoolingError(
          "openFigure",
          `cannot listen on ${hostForUrl(options.host)}:${options.port} (${err.code ?? err.message})`,
        ),
      );
    });
    server.listen({ host: options.host, port: options.port }, () => {
      const address = server.address() as AddressInfo;
      // A server listening on every interface (0.0.0.0 or ::) is opened through loopback.
      const browse = address.address === "0.0.0.0" ? "127.0.0.1" : address.address === "::" ? "::1" : address.address;
      resolve({
        url: `http://${hostForUrl(browse)}:${address.port}/${token}/`,
        host: address.address,
        port: address.port,
        close,
        closed,
      });
    });
  });
}

/** An IPv6 address in brackets, as URLs write it; anything else as it is. */
function hostForUrl(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/** Headers on every answer: nothing cached, nothing sniffed, no referrer sent anywhere. */
const COMMON_HEADERS: http.OutgoingHttpHeaders = {
  "Cache-Control": "no-store",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
};

/**
 * The page's Content-Security-Policy: scripts, styles, images and connections from this server
 * only (and Plotly's inline styles and data-URL images), so the browser itself refuses anything
 * from another host.
 */
function contentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'self' 'nonce-${nonce}'`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** Text for HTML element content. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The page: the figure as JSON in a data block, drawn by Plotly from this server. */
function pageHtml(figure: PlotlyFigure, title: string, nonce: string): string {
  // `<` escaped, so no string in the figure (a series name, a title) can end the data block.
  const json = JSON.stringify(figure).replace(/</g, "\\u003c");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
  body { margin: 16px; font-family: system-ui, sans-serif; color: #222; }
  #status { color: #666; font-size: 13px; }
</style>
<script src="plotly.min.js"></script>
</head>
<body>
<div id="figure"></div>
<p id="status"></p>
<script type="application/json" id="figure-data">${json}</script>
<script nonce="${nonce}">
  const figure = JSON.parse(document.getElementById("figure-data").textContent);
  Plotly.newPlot("figure", figure.data, figure.layout, { displaylogo: false });
  // Held open while this tab shows the figure: the server stops when the last tab has closed.
  const viewer = new EventSource("viewer");
  viewer.onerror = () => {
    viewer.close();
    document.getElementById("status").textContent =
      "The server has stopped. The figure stays interactive until you close this tab.";
  };
</script>
</body>
</html>
`;
}
