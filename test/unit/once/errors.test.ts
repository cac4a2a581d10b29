// How a library error looks: one line in a notebook (no compiled source line, no frames of lib or
// tslab), the usual full stack elsewhere or with ATTENTION_POOLING_DEBUG set.
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { inspect } from "node:util";

import { AttentionPoolingError, fail } from "../../../lib/src/errors";

const caught = (): AttentionPoolingError => {
  try {
    fail("nadarayaWatson", "keys and values must have the same length, got 40 and 39");
  } catch (err) {
    return err as AttentionPoolingError;
  }
};

describe("AttentionPoolingError", () => {
  const globals = globalThis as { __tslab__?: unknown };
  const debug = process.env.ATTENTION_POOLING_DEBUG;
  after(() => {
    delete globals.__tslab__;
    if (debug === undefined) delete process.env.ATTENTION_POOLING_DEBUG;
    else process.env.ATTENTION_POOLING_DEBUG = debug;
  });

  test("names the function and ends its message with a full stop", () => {
    const err = caught();
    assert.equal(err.message, "nadarayaWatson: keys and values must have the same length, got 40 and 39.");
    assert.equal(err.fn, "nadarayaWatson");
    assert.equal(err.name, "AttentionPoolingError");
  });

  test("outside a notebook, prints with its stack like any error", () => {
    delete globals.__tslab__;
    delete process.env.ATTENTION_POOLING_DEBUG;
    const shown = inspect(caught());
    assert.match(shown, /^AttentionPoolingError: nadarayaWatson: keys and values/);
    assert.match(shown, /\n {4}at /, "stack frames");
  });

  test("in a tslab cell, prints as one line: no source line, no path, no frames", () => {
    globals.__tslab__ = {};
    delete process.env.ATTENTION_POOLING_DEBUG;
    const err = caught();
    // What tslab does with a cell's error: console.error(err), i.e. util.inspect.
    assert.equal(
      inspect(err),
      "AttentionPoolingError: nadarayaWatson: keys and values must have the same length, got 40 and 39.",
    );
    // Node prepends the throw site's source line to err.stack when a vm script fails; that never shows.
    (err as { stack?: string }).stack = `/somewhere/lib/dist/x.js:9\n    throw err;\n    ^\n\n${err.stack}`;
    assert.doesNotMatch(inspect(err), /lib\/dist|throw err|\n/);
  });

  test("in a tslab cell with ATTENTION_POOLING_DEBUG set, prints the full stack", () => {
    globals.__tslab__ = {};
    process.env.ATTENTION_POOLING_DEBUG = "1";
    assert.match(inspect(caught()), /\n {4}at fail /);
  });
});
