// ownership.ts: tensors made while building a result are disposed of when the building fails, and
// the error goes on as it was raised, so Node's header above a failed cell or script names the
// check that raised it, not a `throw err` in the library.
import assert from "node:assert/strict";
import * as vm from "node:vm";
import { before, describe, test } from "node:test";

import { initBackend, nadarayaWatson, tf } from "../../lib/src/index";
import { disposeOnFailure } from "../../lib/src/ownership";

before(async () => {
  await initBackend({ quiet: true });
});

/**
 * The first line of the stack Node gives an error that leaves a `vm` script (as a notebook cell or
 * a script does): `file:line` of the throw it reports, followed by that line of source.
 */
function thrownAt(code: string, globals: Record<string, unknown>): string {
  const scope = globalThis as Record<string, unknown>;
  Object.assign(scope, globals);
  try {
    vm.runInThisContext(code, { filename: "cell.js" });
  } catch (err) {
    return ((err as Error).stack ?? "").split("\n").slice(0, 2).join("\n");
  } finally {
    for (const name of Object.keys(globals)) delete scope[name];
  }
  return assert.fail("the script did not throw");
}

describe("disposeOnFailure", () => {
  test("returns what the building returns and disposes of nothing", () => {
    const before = tf.memory().numTensors;
    const a = tf.ones([2]);
    const built = disposeOnFailure([a], () => tf.add(a, 1));
    assert.deepEqual(Array.from(built.dataSync()), [2, 2]);
    assert.equal(a.isDisposed, false);
    tf.dispose([a, built]);
    assert.equal(tf.memory().numTensors, before);
  });

  test("when the building throws, disposes of what it owned and passes the same error on", () => {
    const before = tf.memory().numTensors;
    const owned: tf.Tensor[] = [tf.ones([2])];
    const raised = new RangeError("raised inside");
    assert.throws(
      () =>
        disposeOnFailure(owned, () => {
          owned.push(tf.zeros([3]));
          throw raised;
        }),
      (err) => err === raised,
    );
    assert.equal(tf.memory().numTensors, before, "both tensors, the one pushed late too, are disposed");
  });

  test("an error keeps the line that raised it (no rethrow in between)", () => {
    const header = thrownAt('helper([], () => {\n  throw new RangeError("here");\n});', {
      helper: disposeOnFailure,
    });
    assert.equal(header, 'cell.js:2\n  throw new RangeError("here");');
  });

  test("a bad nadarayaWatson call reports the library's check, not a rethrow, as where it was thrown", () => {
    const before = tf.memory().numTensors;
    const header = thrownAt('nw([0, 1, 2], [1, 2], [0.5], "gaussian");', { nw: nadarayaWatson });
    assert.equal(tf.memory().numTensors, before, "tensors leaked on the error path");
    assert.match(header, /errors\.ts:\d+\n\s*throw new AttentionPoolingError\(fn, message\);$/);
  });
});
