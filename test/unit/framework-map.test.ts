// The tutorial notebook's map from the book's tensor calls to TensorFlow.js: every entry of its
// last column is executed here, on inputs where the book's call has a known answer, so a wrong
// row (a call that throws, or computes something else) fails this test.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, test } from "node:test";

import { initBackend, tf } from "../../lib/src/index";

before(async () => {
  await initBackend({ quiet: true });
});

const NOTEBOOK = path.resolve(__dirname, "..", "..", "notebooks", "01-attention-pooling.ipynb");

/** The table's rows: the book's call (first column) → the TensorFlow.js code spans (last column). */
function frameworkMap(): Map<string, string[]> {
  const nb = JSON.parse(fs.readFileSync(NOTEBOOK, "utf8")) as {
    cells: { cell_type: string; source: string[] }[];
  };
  const cell = nb.cells.find((c) => c.cell_type === "markdown" && c.source.join("").includes("| the book |"));
  assert.ok(cell, "notebook 01 has the framework map (a table whose first header is 'the book')");
  const rows = cell.source
    .join("")
    .split("\n")
    .filter((line) => line.startsWith("| ") && !line.startsWith("| the book") && !line.startsWith("| ---"));
  const map = new Map<string, string[]>();
  for (const row of rows) {
    const cols = row.split(/ \| /).map((c) => c.replace(/^\| ?| ?\|$/g, "").trim());
    const spans = (col: string) => [...col.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
    const book = spans(cols[0]!).join(", ");
    // Runnable entries are calls; a bare name in the prose of a cell (`tf.topk`) is not one.
    const tfjs = spans(cols[cols.length - 1]!).filter((code) => code.includes("("));
    map.set(book, tfjs);
  }
  return map;
}

/** Reads a tensor (or nested array) as nested numbers. */
const read = (t: unknown): unknown => (t instanceof tf.Tensor ? t.arraySync() : t);

function near(actual: unknown, expected: number[] | number[][], tol = 1e-6): void {
  const a = (Array.isArray(actual) ? actual : [actual]).flat(2) as number[];
  const e = expected.flat(2) as number[];
  assert.equal(a.length, e.length, `length ${a.length}, expected ${e.length}`);
  a.forEach((v, i) => assert.ok(Math.abs(v - e[i]!) <= tol, `[${i}] ${v} vs ${e[i]}`));
}

// The inputs every entry may use, and what the book's call gives on them.
const n = 7;
const inputs = () => ({
  x: tf.tensor1d([0.3, -1.2, 2.5, 0.7]),
  k: tf.tensor2d([
    [1, 2, 3],
    [4, 5, 6],
  ]),
  y: tf.tensor1d([1, 2]),
  w: tf.tensor2d([
    [0.25, 0.5, 1],
    [0.75, 0.5, 0],
  ]),
  a: tf.tensor1d([-2, 0.5, 3]),
  t: tf.tensor1d([1.5, 2.5]),
  n,
});

const EXPECTED: Record<string, (result: unknown, code: string) => void> = {
  "d2l.reshape(x, (-1, 1))": (r) => {
    assert.deepEqual((r as tf.Tensor).shape, [4, 1]);
    near(read(r), [[0.3], [-1.2], [2.5], [0.7]]);
  },
  "sort(x)": (r) => near(read(r), [-1.2, 0.3, 0.7, 2.5]),
  "d2l.rand(n)": (r) => {
    assert.deepEqual((r as tf.Tensor).shape, [n]);
    for (const v of (r as tf.Tensor).dataSync()) assert.ok(v >= 0 && v < 1, `uniform draw ${v} in [0, 1)`);
  },
  "d2l.randn(n)": (r) => {
    assert.deepEqual((r as tf.Tensor).shape, [n]);
    assert.equal((r as tf.Tensor).dtype, "float32");
  },
  "d2l.arange(0, 5, 0.1)": (r) => {
    const v = Array.from((r as tf.Tensor).dataSync());
    assert.equal(v.length, 50);
    v.forEach((x, i) => assert.ok(Math.abs(x - i / 10) < 1e-5, `${x} vs ${i / 10}`));
  },
  // y [2] and w [2, 3]: the tutorial's y_train @ attention_w, a [3] vector.
  "y @ w": (r) => {
    assert.deepEqual((r as tf.Tensor).shape, [3]);
    near(read(r), [1 * 0.25 + 2 * 0.75, 1 * 0.5 + 2 * 0.5, 1 * 1 + 2 * 0]);
  },
  "d2l.reduce_sum(k, 0)": (r) => near(read(r), [5, 7, 9]),
  "d2l.exp(x), d2l.abs(x), d2l.sin(x)": (r, code) => {
    const x = [0.3, -1.2, 2.5, 0.7];
    const f = code.startsWith("tf.exp") ? Math.exp : code.startsWith("tf.abs") ? Math.abs : Math.sin;
    near(read(r), x.map(f), 1e-5);
  },
  "maximum(a, 0)": (r) => near(read(r), [0, 0.5, 3]),
  "d2l.astype(k, d2l.float32)": (r) => {
    assert.equal((r as tf.Tensor).dtype, "float32");
    near(read(r), [
      [1, 2, 3],
      [4, 5, 6],
    ]);
  },
  "d2l.numpy(t)": (r) => near(Array.from(r as ArrayLike<number>), [1.5, 2.5]),
  "softmax(x)": (r) => {
    const x = [0.3, -1.2, 2.5, 0.7];
    const z = x.reduce((s, v) => s + Math.exp(v), 0);
    near(
      read(r),
      x.map((v) => Math.exp(v) / z),
      1e-6,
    );
  },
};

describe("the notebook's map from the book's calls to TensorFlow.js", () => {
  const map = frameworkMap();

  test("has a row for each of the book's calls we check, and nothing unchecked", () => {
    assert.deepEqual([...map.keys()].sort(), Object.keys(EXPECTED).sort());
  });

  for (const [book, entries] of map) {
    test(`${book} → ${entries.join(" or ")} runs and gives the book's answer`, async () => {
      assert.ok(entries.length > 0, `no TensorFlow.js code in the row of ${book}`);
      for (const code of entries) {
        const fixtures = inputs();
        const names = ["tf", ...Object.keys(fixtures)];
        // The table's code, run as written, with the inputs above in scope.
        const run = new (Object.getPrototypeOf(async () => {}).constructor as FunctionConstructor)(
          ...names,
          `return (${code});`,
        ) as (...args: unknown[]) => Promise<unknown>;
        const before = tf.memory().numTensors;
        const result = await run(tf, ...Object.values(fixtures));
        const returned = result instanceof tf.Tensor ? result : undefined;
        try {
          EXPECTED[book]!(returned ?? result, code);
        } finally {
          if (returned && !Object.values(fixtures).includes(returned)) returned.dispose();
          tf.dispose(Object.values(fixtures).filter((v) => v instanceof tf.Tensor) as tf.Tensor[]);
        }
        assert.ok(tf.memory().numTensors <= before, `${code} left tensors behind`);
      }
    });
  }

  test("the row the tutorial's 1-D y needs rejects tf.matMul, which wants two matrices", () => {
    // The map used to say tf.matMul(w, y); this is why it no longer does.
    const { y, w } = inputs();
    // The message is the backend's own, from its reshape of the 1-D operand to a batch of matrices.
    const messages: Record<string, string> = {
      wasm: "new shape: 1,,2, old shape: 2. New shape and old shape must have the same number of elements.",
      cpu:
        "The new shape (1,,2) has NaN elements and the old shape (2) has 2 elements. " +
        "The new shape and old shape must have the same number of elements.",
    };
    // tfjs-node's message comes from libtensorflow, which was not at hand to pin; it names ranks or shapes.
    const message = messages[tf.getBackend()] ?? /rank|shape|ndims/i;
    assert.throws(() => tf.matMul(y as unknown as tf.Tensor2D, w), { message });
    tf.dispose([y, w]);
  });
});
