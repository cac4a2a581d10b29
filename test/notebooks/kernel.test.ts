/**
 * The project's TypeScript kernel (scripts/tslab-kernel.cjs): a cell's error prints as its message
 * and the learner's lines (`Cell In[n], line k: …`), with no frames of the library, tslab, Node or
 * node_modules; ATTENTION_POOLING_DEBUG=1 gives tslab's full print instead. Each case runs real
 * cells in a fresh kernel; the mapping from compiled JavaScript back to the cell is tested on its own
 * too. And the kernel answers JupyterLab's history request instead of printing that it is unknown.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, test } from "node:test";

import { notebookEnv } from "../../scripts/jupyter";
import { PROJECT_ROOT } from "../../scripts/python-env";
import { pythonEnv, runCells } from "./helpers";

const kernel = require("../../scripts/tslab-kernel.cjs") as {
  sourceLine(
    ts: unknown,
    cell: { ts: string; js: string; prefix: string },
    line: number,
    column: number,
  ): { line: number; text: string } | undefined;
  formatCellError(err: unknown, context: object): string | undefined;
};
const ts = require(
  require.resolve("@tslab/typescript-for-tslab", {
    paths: [path.join(PROJECT_ROOT, "node_modules", "tslab")],
  }),
) as unknown;

const LIMIT = { timeout: 180_000 };
const IMPORT = 'import { initBackend, nadarayaWatson, tf } from "attention-pooling";\nawait initBackend();';
const LENGTHS =
  "AttentionPoolingError: nadarayaWatson: keys and values must have the same length, got 3 and 2.";

/** Asserts that an error print names none of the machinery between the learner and the error. */
function assertNoMachinery(text: string): void {
  for (const part of [
    "lib/dist",
    "lib/src",
    "tslab",
    "node_modules/",
    "node:",
    "evalmachine",
    "cell-",
    "    at ",
  ])
    assert.ok(!text.includes(part), `the error shows ${JSON.stringify(part)}:\n${text}`);
}

describe("a cell's error in the project's kernel", () => {
  test(
    "a bad library call: the message and the learner's line, counted in the TypeScript",
    LIMIT,
    async () => {
      const outputs = await runCells([
        IMPORT,
        "const a: number = 1;\n\n// one value short\ninterface Point { x: number }\n" +
          'nadarayaWatson([0, 1, 2], [1, 2], [0.5], "gaussian", { sigma: 0.5 });',
      ]);
      assertNoMachinery(outputs[1]?.stderr ?? "");
      assert.equal(
        outputs[1]?.stderr,
        `${LENGTHS}\n  Cell In[2], line 5: nadarayaWatson([0, 1, 2], [1, 2], [0.5], "gaussian", { sigma: 0.5 });\n`,
      );
    },
  );

  test(
    "through a function of an earlier cell, from a cell that awaits: both cells' lines",
    LIMIT,
    async () => {
      const outputs = await runCells([
        IMPORT,
        'function predict(values: number[]) {\n  return nadarayaWatson([0, 1, 2], values, [0.5], "gaussian");\n}',
        "await Promise.resolve();\nconst short = [1, 2];\npredict(short);",
      ]);
      assert.equal(
        outputs[2]?.stderr,
        `${LENGTHS}\n` +
          '  Cell In[2], line 2: return nadarayaWatson([0, 1, 2], values, [0.5], "gaussian");\n' +
          "  Cell In[3], line 3: predict(short);\n",
      );
    },
  );

  test(
    "an error from inside tfjs: its message, the learner's line, and how many frames were left out",
    LIMIT,
    async () => {
      const outputs = await runCells([
        IMPORT,
        "const product = tf.tidy(() => tf.matMul(tf.ones([2, 3]), tf.ones([2, 3])));",
      ]);
      const text = outputs[1]?.stderr ?? "";
      assert.match(
        text,
        /^Error: Error in matMul: inner shapes \(3\) and \(2\) of Tensors with shapes 2,3 and 2,3 .*\n {2}Cell In\[2\], line 1: const product = tf\.tidy\(\(\) => tf\.matMul\(tf\.ones\(\[2, 3\]\), tf\.ones\(\[2, 3\]\)\)\);\n {2}\(\d+ frames inside node_modules left out; ATTENTION_POOLING_DEBUG=1 shows them\)\n$/,
      );
      assertNoMachinery(text.replace(/inside node_modules left out/, ""));
    },
  );

  test("the learner's own runtime error points at their line", LIMIT, async () => {
    const outputs = await runCells(["const points: any = undefined;\nconst first = points.x;"]);
    assert.equal(
      outputs[0]?.stderr,
      "TypeError: Cannot read properties of undefined (reading 'x')\n  Cell In[1], line 2: const first = points.x;\n",
    );
  });

  test(
    "with ATTENTION_POOLING_DEBUG=1, tslab's full print: Node's header and every frame",
    LIMIT,
    async () => {
      const outputs = await runCells([IMPORT, 'nadarayaWatson([0, 1, 2], [1, 2], [0.5], "gaussian");'], {
        ATTENTION_POOLING_DEBUG: "1",
      });
      const text = outputs[1]?.stderr ?? "";
      // The header names the check that raised the error (no rethrow on the way), then the frames.
      assert.match(
        text,
        /^\/.*\/lib\/dist\/errors\.js:\d+\n\s+throw new AttentionPoolingError\(fn, message\);\n/,
      );
      assert.match(text, /\n {4}at fail \(.*\/lib\/dist\/errors\.js:\d+:\d+\)\n/);
      assert.match(text, /\n {4}at cell-2:\d+:\d+\n/);
      assert.match(text, /\n {4}at .*tslab\/dist\/executor\.js:\d+:\d+/);
    },
  );
});

/** Asks a fresh kernel for its history, as JupyterLab does when a notebook connects; prints the reply and what the kernel printed. */
const ASK_HISTORY = `
import json, sys, tempfile
from jupyter_client.manager import start_new_kernel
with tempfile.TemporaryFile() as log:
    km, kc = start_new_kernel(kernel_name="tslab", stdout=log, stderr=log, cwd=sys.argv[1])
    try:
        reply = kc.history(hist_access_type="tail", n=10, reply=True, timeout=60)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
    log.seek(0)
    print(json.dumps({"type": reply["header"]["msg_type"], "content": reply["content"], "printed": log.read().decode()}))
`;

test("a history request gets an empty history, and the kernel prints nothing about it", LIMIT, async () => {
  const { python } = await pythonEnv();
  const runtime = fs.mkdtempSync(path.join(os.tmpdir(), "jupyter-runtime-"));
  try {
    const out = execFileSync(python, ["-c", ASK_HISTORY, path.join(PROJECT_ROOT, "notebooks")], {
      env: notebookEnv({ JUPYTER_RUNTIME_DIR: runtime }),
      encoding: "utf8",
    });
    const answer = JSON.parse(out) as { type: string; content: unknown; printed: string };
    assert.equal(answer.type, "history_reply");
    assert.deepEqual(answer.content, { status: "ok", history: [] });
    assert.ok(!answer.printed.includes("unknown msg_type"), answer.printed);
  } finally {
    fs.rmSync(runtime, { recursive: true, force: true });
  }
});

describe("mapping compiled JavaScript back to the cell", () => {
  const prefix = "(function(exports, require) { ";
  const cell = {
    ts: "const n: number = 2;\nf(n);\n\nf(n + 1);",
    js: "exports.n = 2;\nexports.f(exports.n);\nexports.tsLastExpr = exports.f(exports.n + 1);",
    prefix,
  };

  test("the k-th call of a name in the JavaScript is the k-th in the TypeScript", () => {
    assert.deepEqual(kernel.sourceLine(ts, cell, 2, 9), { line: 2, text: "f(n);" });
    assert.deepEqual(kernel.sourceLine(ts, cell, 3, 30), { line: 4, text: "f(n + 1);" });
  });

  test("the first line counts its columns after tslab's wrapper", () => {
    const first = { ts: "g();", js: "exports.tsLastExpr = exports.g();", prefix };
    assert.deepEqual(kernel.sourceLine(ts, first, 1, prefix.length + 30), { line: 1, text: "g();" });
  });

  test("when the counts differ, no line is guessed", () => {
    const unsure = { ts: "f(1);", js: "f(0);\nf(1);", prefix };
    assert.equal(kernel.sourceLine(ts, unsure, 2, 1), undefined);
  });

  test("a position on no call, throw or property read gives no line", () => {
    assert.equal(kernel.sourceLine(ts, cell, 1, 1), undefined);
  });

  test("what is not an error is left to tslab", () => {
    assert.equal(
      kernel.formatCellError("a string", { ts, cells: new Map(), hidden: [], cwd: "/" }),
      undefined,
    );
  });
});
