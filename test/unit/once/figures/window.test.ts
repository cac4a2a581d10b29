// openFigure's server, without a browser: where it listens (as the operating system reports it),
// what it serves (the page, the figure, Plotly from the local package, nothing else), how it
// stops (close(), the last tab closing, Ctrl-C), what it prints (one line), and its errors.
// test/browser/open-figure.test.ts loads the page in Chromium and checks what Plotly draws.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, test } from "node:test";

import { type FigureWindow, linesFigure, openFigure, toPlotly } from "../../../../lib/src/index";
import { LAST_TAB_GRACE_MS } from "../../../../lib/src/figures/window";

const ROOT = path.resolve(__dirname, "..", "..", "..", "..");
const LINUX = process.platform === "linux";

const x = [0, 1, 2, 3, 4];
const figure = linesFigure(
  [
    {
      title: "squares",
      series: [
        { name: "x²", x, y: x.map((v) => v * v) },
        { name: "samples", x, y: [0.2, 1.1, 3.8, 9.3, 15.6], style: "points" },
      ],
    },
  ],
  { title: "A small figure" },
);

/** Every window a test opens, closed after the suite even when a test failed half-way. */
const opened: FigureWindow[] = [];
async function open(options: Parameters<typeof openFigure>[1] = {}): Promise<FigureWindow> {
  const window = await openFigure(figure, { open: false, quiet: true, ...options });
  opened.push(window);
  return window;
}
after(async () => {
  await Promise.all(opened.map((w) => w.close()));
});

/**
 * The local addresses of the sockets listening on `port`, read from the kernel's tables
 * (/proc/net/tcp and tcp6), not from the server: e.g. ["127.0.0.1"], or ["::"] for every interface.
 */
function listeningAddresses(port: number): string[] {
  const found: string[] = [];
  for (const [file, v6] of [
    ["/proc/net/tcp", false],
    ["/proc/net/tcp6", true],
  ] as const) {
    if (!fs.existsSync(file)) continue;
    for (const line of fs.readFileSync(file, "utf8").trim().split("\n").slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      const [hex, portHex] = (local ?? "").split(":");
      if (state !== "0A" || parseInt(portHex ?? "", 16) !== port) continue; // 0A: LISTEN
      found.push(v6 ? ipv6FromProc(hex ?? "") : ipv4FromProc(hex ?? ""));
    }
  }
  return found;
}
/** /proc/net/tcp writes an IPv4 address as one little-endian 32-bit word in hex. */
function ipv4FromProc(hex: string): string {
  return [3, 2, 1, 0].map((i) => parseInt(hex.slice(2 * i, 2 * i + 2), 16)).join(".");
}
/** /proc/net/tcp6 writes an IPv6 address as four little-endian 32-bit words in hex. */
function ipv6FromProc(hex: string): string {
  const bytes = [0, 1, 2, 3].flatMap((w) =>
    [3, 2, 1, 0].map((i) => hex.slice(8 * w + 2 * i, 8 * w + 2 * i + 2)),
  );
  const groups = Array.from({ length: 8 }, (_, g) =>
    parseInt(bytes[2 * g]! + bytes[2 * g + 1]!, 16).toString(16),
  );
  return groups.join(":").replace(/(^|:)0(:0)+(:|$)/, "::");
}

/** A GET on this machine: status, headers and body. */
function get(url: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return request(url, "GET");
}
function request(
  url: string,
  method: string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

/** Whether a TCP connection to host:port is refused. */
function refused(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", (err: NodeJS.ErrnoException) => resolve(err.code === "ECONNREFUSED"));
  });
}

/** Resolves to "settled" if `p` settles within `ms`, else "pending". */
function within(p: Promise<unknown>, ms: number): Promise<"settled" | "pending"> {
  return Promise.race([
    p.then(() => "settled" as const),
    new Promise<"pending">((resolve) => setTimeout(() => resolve("pending"), ms)),
  ]);
}

describe("openFigure: where the server listens", () => {
  test(
    "on 127.0.0.1 only by default, as the kernel's socket table shows",
    { skip: !LINUX && "reads /proc/net" },
    async () => {
      const window = await open();
      assert.equal(window.host, "127.0.0.1");
      assert.match(window.url, new RegExp(`^http://127\\.0\\.0\\.1:${window.port}/[A-Za-z0-9_-]{24}/$`));
      assert.deepEqual(listeningAddresses(window.port), ["127.0.0.1"]);
    },
  );

  test(
    "on the address options.host names, and the port options.port names",
    { skip: !LINUX && "127.0.0.2 is Linux's" },
    async () => {
      const first = await open({ host: "127.0.0.2" });
      assert.equal(first.host, "127.0.0.2");
      assert.deepEqual(listeningAddresses(first.port), ["127.0.0.2"]);
      assert.match(first.url, /^http:\/\/127\.0\.0\.2:/);
      await first.close();
      // The port just freed, asked for by number.
      const second = await open({ port: first.port });
      assert.equal(second.port, first.port);
      assert.deepEqual(listeningAddresses(second.port), ["127.0.0.1"]);
    },
  );

  test("a port in use is refused with the address in the message", async () => {
    const first = await open();
    await assert.rejects(open({ port: first.port }), {
      name: "AttentionPoolingError",
      message: `openFigure: cannot listen on 127.0.0.1:${first.port} (EADDRINUSE).`,
    });
  });
});

describe("openFigure: what the server serves", () => {
  test("the page carries the figure as toPlotly builds it and loads Plotly from its own server only", async () => {
    const window = await open();
    const page = await get(window.url);
    assert.equal(page.status, 200);
    assert.equal(page.headers["content-type"], "text/html; charset=utf-8");
    const html = page.body.toString("utf8");
    // No address of any other host anywhere in the page: nothing to fetch from outside.
    assert.deepEqual(html.match(/(https?:)?\/\/[^\s"'<>]+/g), null);
    assert.match(html, /<script src="plotly\.min\.js"><\/script>/);
    const data = /<script type="application\/json" id="figure-data">([^<]*)<\/script>/.exec(html);
    assert.ok(data, "the page has the figure-data block");
    assert.deepEqual(JSON.parse(data[1]!), toPlotly(figure));
    assert.match(html, /<title>A small figure<\/title>/);
    // The browser refuses anything from elsewhere too.
    const csp = String(page.headers["content-security-policy"]);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self' 'nonce-[A-Za-z0-9+/=]+'/);
    assert.match(csp, /connect-src 'self'/);
  });

  test("plotly.min.js is the pinned plotly.js-dist-min package's file, byte for byte", async () => {
    const window = await open();
    const script = await get(new URL("plotly.min.js", window.url).href);
    assert.equal(script.status, 200);
    assert.equal(script.headers["content-type"], "text/javascript; charset=utf-8");
    const pinned = (
      JSON.parse(fs.readFileSync(path.join(ROOT, "lib", "package.json"), "utf8")) as {
        optionalDependencies: Record<string, string>;
      }
    ).optionalDependencies["plotly.js-dist-min"];
    assert.match(pinned ?? "", /^\d+\.\d+\.\d+$/, "plotly.js-dist-min is pinned to one version");
    const file = require.resolve("plotly.js-dist-min");
    assert.ok(script.body.equals(fs.readFileSync(file)));
    assert.match(
      script.body.subarray(0, 100).toString("utf8"),
      new RegExp(`plotly\\.js v${pinned!.replace(/\./g, "\\.")}\\b`),
    );
  });

  test("nothing without the token: other paths are 404, other methods 405", async () => {
    const window = await open();
    const origin = `http://127.0.0.1:${window.port}`;
    const token = new URL(window.url).pathname.split("/")[1]!;
    for (const p of [
      "/",
      "/plotly.min.js",
      "/viewer",
      `/${token.slice(0, -1)}/`,
      `/${token}/index.html`,
      "/favicon.ico",
    ]) {
      assert.equal((await get(origin + p)).status, 404, p);
    }
    assert.equal((await request(window.url, "POST")).status, 405);
    const bare = await get(`${origin}/${token}`);
    assert.deepEqual([bare.status, bare.headers.location], [308, `/${token}/`]);
  });

  test("a name in the figure cannot end the data block or run a script", async () => {
    const name = "</script><script>alert(1)</script>";
    const tricky = linesFigure([{ series: [{ name, x: [0, 1], y: [1, 2] }] }], { title: "<b>&title</b>" });
    const window = await openFigure(tricky, { open: false, quiet: true });
    opened.push(window);
    const html = (await get(window.url)).body.toString("utf8");
    assert.equal(html.includes("alert(1)</script>"), false);
    assert.match(html, /<title>&#60;b&#62;&#38;title&#60;\/b&#62;<\/title>/);
    const data = /<script type="application\/json" id="figure-data">([^<]*)<\/script>/.exec(html);
    assert.equal((JSON.parse(data![1]!) as { data: { name: string }[] }).data[0]!.name, name);
  });
});

describe("openFigure: how the server stops", () => {
  test("close() stops it: the port refuses connections, closed resolves, a second close() is fine", async () => {
    const window = await open();
    assert.equal(await refused("127.0.0.1", window.port), false);
    await window.close();
    assert.equal(await within(window.closed, 100), "settled");
    assert.equal(await refused("127.0.0.1", window.port), true);
    await window.close();
  });

  test(`the last tab closing stops it after ${LAST_TAB_GRACE_MS} ms, unless keepServing`, async () => {
    const [plain, kept] = await Promise.all([open(), open({ keepServing: true })]);
    // A tab holds the viewer stream open while it shows the figure.
    const watch = (w: FigureWindow) =>
      new Promise<{ req: http.ClientRequest; type: string | undefined }>((resolve, reject) => {
        const req: http.ClientRequest = http.get(new URL("viewer", w.url), { agent: false }, (res) =>
          resolve({ req, type: res.headers["content-type"] }),
        );
        req.on("error", reject);
      });
    const tabs = await Promise.all([watch(plain), watch(kept)]);
    assert.deepEqual(
      tabs.map((t) => t.type),
      ["text/event-stream", "text/event-stream"],
    );
    // While a tab is open, neither stops, however long.
    assert.equal(await within(plain.closed, LAST_TAB_GRACE_MS + 500), "pending");
    for (const tab of tabs) tab.req.destroy();
    // Closed tab: the plain window stops after the grace period (not before), the kept one never.
    assert.equal(await within(plain.closed, LAST_TAB_GRACE_MS - 1000), "pending");
    assert.equal(await within(plain.closed, 6000), "settled");
    assert.equal(await refused("127.0.0.1", plain.port), true);
    assert.equal(await within(kept.closed, 500), "pending");
    assert.equal((await get(kept.url)).status, 200);
  });

  test(
    "the README's example prints the backend's line and openFigure's one line, opens the browser, and ends on Ctrl-C",
    { skip: !LINUX && "uses a stand-in xdg-open" },
    async () => {
      // A stand-in for xdg-open records what it was asked to open.
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "open-figure-"));
      const opener = path.join(dir, "xdg-open");
      const openedFile = path.join(dir, "opened.txt");
      fs.writeFileSync(opener, `#!/bin/sh\nprintf '%s\\n' "$@" > '${openedFile}'\n`, { mode: 0o755 });
      // The README's example, beside the built package so that "attention-pooling" resolves.
      const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
      const block = /```js\n(\/\/ open-figure-example\.mjs[\s\S]*?)```/.exec(readme);
      assert.ok(block, "README has the open-figure-example.mjs block");
      const script = path.join(ROOT, "lib", "dist", ".open-figure-example.mjs");
      fs.writeFileSync(script, block[1]!);
      const child = spawn(process.execPath, [script], {
        cwd: ROOT,
        env: {
          ...process.env,
          PATH: `${dir}${path.delimiter}${process.env.PATH ?? ""}`,
          ATTENTION_POOLING_BACKEND: "cpu",
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
      child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
      const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
        child.on("exit", (code, signal) => resolve(signal ?? code)),
      );
      try {
        // Two lines: initBackend's, then openFigure's.
        const deadline = Date.now() + 60_000;
        while (stdout.split("\n").length < 3 && Date.now() < deadline && child.exitCode === null) {
          await new Promise((r) => setTimeout(r, 100));
        }
        const [backendLine, line] = stdout.split("\n") as [string, string];
        assert.match(
          backendLine,
          /^attention-pooling: backend cpu\b/,
          `stdout ${JSON.stringify(stdout)}, stderr ${JSON.stringify(stderr)}`,
        );
        const pattern =
          /^openFigure: (http:\/\/127\.0\.0\.1:\d+\/[A-Za-z0-9_-]{24}\/) \(serving until its tab closes; Ctrl-C stops it\)$/;
        const match = pattern.exec(line);
        assert.ok(match, `openFigure's line, got ${JSON.stringify(line)}`);
        const url = match[1]!;
        assert.equal((await get(url)).status, 200);
        for (let i = 0; i < 50 && !fs.existsSync(openedFile); i++)
          await new Promise((r) => setTimeout(r, 100));
        assert.equal(fs.readFileSync(openedFile, "utf8"), `${url}\n`);
        child.kill("SIGINT");
        assert.equal(await within(exited, 5000), "settled");
        assert.equal(await exited, "SIGINT");
        assert.equal(stdout, `${backendLine}\n${line}\n`, "nothing more on stdout");
        assert.equal(stderr, "", "nothing on stderr");
        assert.equal(await refused("127.0.0.1", Number(new URL(url).port)), true);
      } finally {
        child.kill("SIGKILL");
        fs.rmSync(dir, { recursive: true, force: true });
        fs.rmSync(script, { force: true });
      }
    },
  );
});

describe("openFigure: bad arguments", () => {
  const cases: [string, () => unknown, string][] = [
    [
      "figure",
      () => openFigure(null as never),
      "openFigure: figure must be a figure from linesFigure or heatmapsFigure, got null.",
    ],
    [
      "options",
      () => openFigure(figure, [] as never),
      "openFigure: options must be an object, got [] (length 0).",
    ],
    [
      "options.host",
      () => openFigure(figure, { host: "" }),
      'openFigure: options.host must be an address such as "127.0.0.1", got "".',
    ],
    [
      "options.port",
      () => openFigure(figure, { port: 70000 }),
      "openFigure: options.port must be an integer from 0 to 65535 (0: a free port), got 70000.",
    ],
    [
      "options.open",
      () => openFigure(figure, { open: "no" as never }),
      'openFigure: options.open must be true or false, got "no".',
    ],
  ];
  for (const [arg, call, message] of cases) {
    test(`rejects a bad ${arg} at once, with its name and value`, () => {
      assert.throws(call, { name: "AttentionPoolingError", message });
    });
  }
});
