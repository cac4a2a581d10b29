#!/usr/bin/env node
/**
 * The project's TypeScript kernel: tslab, as its own `tslab kernel` command starts it, with one
 * change to what a learner sees when a cell fails. tslab prints such an error with
 * `console.error(err)`: Node's header for the line that threw (often inside a library's compiled
 * code), then up to ten stack frames, most of them tslab's and Node's own, and line numbers of the
 * JavaScript that tslab compiled the cell to. Here the error prints instead as its message and the
 * line of the learner's TypeScript that led to it, IPython-style:
 *
 *     AttentionPoolingError: nadarayaWatson: keys and values must have the same length, got 40 and 39.
 *       Cell In[5], line 2: nadarayaWatson(xTrain, yTrain.slice(1), xVal, "gaussian", { sigma: 0.5 });
 *
 * with every cell on the way (a function defined in an earlier cell shows its line there too), and
 * frames of the learner's own files, but none from node_modules, from the `attention-pooling`
 * package, from tslab or from Node. Errors from other packages (tfjs) say how many frames were left
 * out. `ATTENTION_POOLING_DEBUG=1` in the kernel's environment (set it before `npm start`) prints
 * errors as tslab does, full stack included.
 *
 * How a failing line is found: each cell's compiled JavaScript is given a name (`//# sourceURL=
 * cell-<n>`, n its execution count), so its frames say which cell they are in. The frame's position
 * is the call (or `new`, `throw`, property read) that failed; the k-th such call of that name in the
 * compiled cell is the k-th one in the cell's TypeScript, since compiling keeps calls and their order.
 * When the counts differ, the line is left out rather than guessed.
 *
 * It also answers JupyterLab's `history_request` (an empty history) rather than printing "unknown
 * msg_type" into the terminal that runs `npm start`.
 *
 * The kernelspec that `npm start` registers runs this file (scripts/env/kernel.ts). It uses
 * tslab 1.0.22's compiled modules (converter, executor, jupyter); if they change shape it starts
 * tslab unchanged.
 */
"use strict";

const path = require("node:path");

/** The prefixes tslab's executor puts before a cell's compiled code, on the same first line. */
const WRAPPERS = ["(function(exports, require) { ", "(async function(exports, require) { "];
/** The name a cell's compiled code gets in stack frames: `cell-<execution count>`. */
const CELL_NAME = /^cell-(\d+)$/;
/** How many cells' sources to keep for mapping frames (older ones lose their line, not their message). */
const KEEP_CELLS = 1000;
/** The longest line of code shown. */
const MAX_LINE = 160;

/** What is known about one executed cell: its TypeScript, its compiled JavaScript, and its wrapper prefix. */
/** @typedef {{ ts: string, js: string, prefix: string }} CellSource */

/**
 * One parsed stack frame: `function` (may be empty), `file`, `line` and `column` (1-based), and the
 * frame's text as V8 printed it.
 * @typedef {{ fn: string, file: string, line: number, column: number, text: string }} Frame
 */

/**
 * The frames in an error's stack, innermost first (Node's header for the throw site, which comes
 * before the message, is skipped).
 * @param {string} stack
 * @returns {Frame[]}
 */
function parseFrames(stack) {
  const frames = [];
  for (const raw of stack.split("\n")) {
    const m = /^\s+at (?:async )?(?:(.*?) \((.+):(\d+):(\d+)\)|(.+):(\d+):(\d+))$/.exec(raw);
    if (m === null) continue;
    frames.push({
      fn: m[1] ?? "",
      file: m[2] ?? m[5] ?? "",
      line: Number(m[3] ?? m[6]),
      column: Number(m[4] ?? m[7]),
      text: raw.trim(),
    });
  }
  return frames;
}

/**
 * The name of what an expression calls: `f` for `f`, `o.f`, `(0, m_1.f)` (how TypeScript calls an
 * imported function) and `o!.f`.
 */
function calleeName(ts, expr) {
  for (;;) {
    if (ts.isParenthesizedExpression(expr) || ts.isNonNullExpression(expr) || ts.isAsExpression(expr)) {
      expr = expr.expression;
    } else if (ts.isBinaryExpression(expr) && expr.operatorToken.kind === ts.SyntaxKind.CommaToken) {
      expr = expr.right;
    } else if (ts.isTypeAssertionExpression && ts.isTypeAssertionExpression(expr)) {
      expr = expr.expression;
    } else break;
  }
  if (ts.isIdentifier(expr)) return expr.text;
  if (ts.isPropertyAccessExpression(expr)) return expr.name.text;
  return undefined;
}

/**
 * The places in a cell where an error can be raised and that compiling keeps one for one: calls and
 * `new` (by the name called), `throw` statements, and property reads (by property; not the callee of
 * a call, and not tslab's `exports.x`, which stands for a variable of an earlier cell).
 * @returns {{ key: string, start: number, end: number }[]} in source order.
 */
function errorSites(ts, text, typescript) {
  const sf = ts.createSourceFile(
    typescript ? "cell.ts" : "cell.js",
    text,
    ts.ScriptTarget.Latest,
    true,
    typescript ? ts.ScriptKind.TS : ts.ScriptKind.JS,
  );
  const sites = [];
  const isCallee = (node) =>
    (ts.isCallExpression(node.parent) || ts.isNewExpression(node.parent)) && node.parent.expression === node;
  const visit = (node) => {
    let key;
    if (ts.isCallExpression(node) || ts.isNewExpression(node)) {
      const name = calleeName(ts, node.expression);
      if (name !== undefined) key = `${ts.isNewExpression(node) ? "new" : "call"} ${name}`;
    } else if (ts.isThrowStatement(node)) {
      key = "throw";
    } else if (
      ts.isPropertyAccessExpression(node) &&
      !isCallee(node) &&
      !(ts.isIdentifier(node.expression) && node.expression.text === "exports")
    ) {
      key = `read ${node.name.text}`;
    }
    if (key !== undefined) sites.push({ key, start: node.getStart(sf), end: node.end, sf });
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return sites;
}

/**
 * The line of a cell's TypeScript that a position in its compiled JavaScript comes from, or
 * undefined when that cannot be told for sure.
 * @param {object} ts the TypeScript compiler API
 * @param {CellSource} cell
 * @param {number} line 1-based line in the wrapped code that ran (the prefix shares line 1)
 * @param {number} column 1-based column there
 * @returns {{ line: number, text: string } | undefined}
 */
function sourceLine(ts, cell, line, column) {
  const jsLines = cell.js.split("\n");
  if (line < 1 || line > jsLines.length) return undefined;
  let offset = 0;
  for (let i = 0; i < line - 1; i++) offset += jsLines[i].length + 1;
  offset += column - 1 - (line === 1 ? cell.prefix.length : 0);
  const jsSites = errorSites(ts, cell.js, false);
  // The innermost site around the position: V8 reports a call at its callee's name, `new` at `new`.
  let site;
  for (const s of jsSites) {
    if (
      s.start <= offset &&
      offset < s.end &&
      (site === undefined || s.end - s.start < site.end - site.start)
    ) {
      site = s;
    }
  }
  if (site === undefined) return undefined;
  const sameInJs = jsSites.filter((s) => s.key === site.key);
  const sameInTs = errorSites(ts, cell.ts, true).filter((s) => s.key === site.key);
  if (sameInJs.length !== sameInTs.length) return undefined;
  const ours = sameInTs[sameInJs.indexOf(site)];
  const at = ours.sf.getLineAndCharacterOfPosition(ours.start).line;
  let text = cell.ts.split("\n")[at].trim();
  if (text.length > MAX_LINE) text = `${text.slice(0, MAX_LINE - 1)}…`;
  return { line: at + 1, text };
}

/**
 * How a cell's error is shown: its name and message, then the learner's lines on the way to it
 * (innermost first) and frames of the learner's own files; no frames of node_modules, of `hidden`
 * (the attention-pooling package), of tslab or of Node.
 * @param {unknown} err what the cell threw
 * @param {{ ts: object, cells: Map<string, CellSource>, hidden: string[], cwd: string }} context
 * @returns {string | undefined} undefined for something that is not an error with a stack.
 */
function formatCellError(err, context) {
  if (!(err instanceof Error) && !(typeof err === "object" && err !== null && "stack" in err))
    return undefined;
  const e = /** @type {Error} */ (err);
  const stack = typeof e.stack === "string" ? e.stack : "";
  const name = typeof e.name === "string" && e.name ? e.name : "Error";
  const message = typeof e.message === "string" ? e.message : String(e.message);
  const out = [message ? `${name}: ${message}` : name];
  let omitted = 0;
  let previous = "";
  for (const frame of parseFrames(stack)) {
    let line;
    const cell = CELL_NAME.exec(frame.file);
    if (cell !== null) {
      const source = context.cells.get(frame.file);
      // The last line of the wrapped code is tslab's own call of the cell: not the learner's.
      if (source === undefined || frame.line > source.js.split("\n").length) continue;
      const found = sourceLine(context.ts, source, frame.line, frame.column);
      line =
        found === undefined
          ? `  Cell In[${cell[1]}]`
          : `  Cell In[${cell[1]}], line ${found.line}: ${found.text}`;
    } else if (
      frame.file.startsWith("node:") ||
      !path.isAbsolute(frame.file) ||
      frame.file.split(path.sep).includes("node_modules") ||
      context.hidden.some((hidden) => frame.file === hidden || frame.file.startsWith(hidden + path.sep))
    ) {
      if (frame.file.split(path.sep).includes("node_modules") && !/[\\/]tslab[\\/]/.test(frame.file))
        omitted++;
      continue;
    } else {
      const rel = path.relative(context.cwd, frame.file);
      line = `  at ${frame.fn ? `${frame.fn} (` : ""}${rel}:${frame.line}:${frame.column}${frame.fn ? ")" : ""}`;
    }
    if (line !== previous) out.push(line);
    previous = line;
  }
  if (omitted > 0 && name !== "AttentionPoolingError") {
    out.push(
      `  (${omitted} frame${omitted === 1 ? "" : "s"} inside node_modules left out; ATTENTION_POOLING_DEBUG=1 shows them)`,
    );
  }
  return out.join("\n");
}

/**
 * Changes tslab's converter, executor and request handler (loaded from `tslabDir`) so that cells
 * get names and their errors print with {@link formatCellError}. Returns false, changing nothing,
 * when tslab's modules are not shaped as expected.
 * @param {string} tslabDir
 * @param {{ hidden: string[] }} options
 */
function install(tslabDir, options) {
  const converter = require(path.join(tslabDir, "dist", "converter.js"));
  const executor = require(path.join(tslabDir, "dist", "executor.js"));
  const jupyter = require(path.join(tslabDir, "dist", "jupyter.js"));
  const ts = require(require.resolve("@tslab/typescript-for-tslab", { paths: [tslabDir] }));
  const handler = jupyter.JupyterHandlerImpl && jupyter.JupyterHandlerImpl.prototype;
  if (
    typeof converter.createConverter !== "function" ||
    typeof executor.createExecutor !== "function" ||
    !handler ||
    typeof handler.handleExecuteImpl !== "function"
  ) {
    return false;
  }
  /** @type {Map<string, CellSource>} */
  const cells = new Map();
  let running = 0;

  const executeImpl = handler.handleExecuteImpl;
  handler.handleExecuteImpl = function (...args) {
    // tslab counts the request before running it; this is the number JupyterLab shows as [n].
    running = (typeof this.execCount === "number" ? this.execCount : running) + 1;
    return executeImpl.apply(this, args);
  };

  const createConverter = converter.createConverter;
  converter.createConverter = (...args) => {
    const made = createConverter(...args);
    const convert = made.convert;
    made.convert = (prevDecl, src) => {
      const result = convert(prevDecl, src);
      if (typeof result.output === "string" && result.output !== "") {
        const name = `cell-${running}`;
        const prefix = WRAPPERS[result.hasToplevelAwait ? 1 : 0];
        cells.set(name, { ts: src, js: result.output, prefix });
        if (cells.size > KEEP_CELLS) cells.delete(cells.keys().next().value);
        result.output = `${result.output}\n//# sourceURL=${name}`;
      }
      return result;
    };
    return made;
  };

  answerHistoryRequests(jupyter.ZmqServer && jupyter.ZmqServer.prototype);

  const createExecutor = executor.createExecutor;
  executor.createExecutor = (rootDir, convs, console) => {
    const error = (...args) => {
      const shown =
        args.length === 1 && !process.env.ATTENTION_POOLING_DEBUG
          ? formatCellError(args[0], { ts, cells, hidden: options.hidden, cwd: process.cwd() })
          : undefined;
      if (shown === undefined) console.error(...args);
      else console.error(shown);
    };
    return createExecutor(rootDir, convs, { ...console, error });
  };
  return true;
}

/**
 * Makes tslab answer a `history_request` (which JupyterLab sends when a notebook connects) with an
 * empty history, as the messaging protocol expects, instead of printing "unknown msg_type:
 * history_request" into the terminal running `npm start`. tslab does not export its message class;
 * the first message it handles (always a kernel_info_request) hands it over.
 */
function answerHistoryRequests(server) {
  if (
    !server ||
    typeof server.handleShellMessage !== "function" ||
    typeof server.publishStatus !== "function"
  ) {
    return;
  }
  let Message;
  const publishStatus = server.publishStatus;
  server.publishStatus = function (status, parent) {
    Message ??= parent && parent.constructor;
    return publishStatus.call(this, status, parent);
  };
  const handleShellMessage = server.handleShellMessage;
  server.handleShellMessage = async function (sock, ...frames) {
    const delimiter = frames.findIndex((f) => String(f) === "<IDS|MSG>");
    let type;
    try {
      type = JSON.parse(String(frames[delimiter + 2])).msg_type;
    } catch {
      type = undefined;
    }
    if (type !== "history_request" || !Message || typeof Message.fromRaw !== "function") {
      return handleShellMessage.call(this, sock, ...frames);
    }
    const msg = Message.fromRaw(this.connInfo.key, frames);
    this.publishStatus("busy", msg);
    const reply = msg.createReply();
    reply.header.msg_type = "history_reply";
    reply.content = { status: "ok", history: [] };
    reply.signAndSend(this.connInfo.key, sock);
    this.publishStatus("idle", msg);
  };
}

if (require.main === module) {
  const root = path.resolve(__dirname, "..");
  const tslabDir = path.dirname(require.resolve("tslab/package.json", { paths: [root] }));
  // Deep calls (the library inside tfjs inside a cell) would otherwise lose the cell's frames.
  Error.stackTraceLimit = Math.max(Error.stackTraceLimit, 50);
  try {
    install(tslabDir, { hidden: [path.join(root, "lib", "dist"), __filename] });
  } catch {
    // tslab changed shape: run it as it is.
  }
  require(path.join(tslabDir, "dist", "main.js")).main();
}

module.exports = { formatCellError, install, parseFrames, sourceLine };
