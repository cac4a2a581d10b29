import assert from "node:assert/strict";
import { before, describe, test } from "node:test";

import { errorSummary, initBackend, tf } from "../../lib/src/index";

before(async () => {
  await initBackend({ quiet: true });
});

describe("errorSummary", () => {
  test("computes the mean squared error, the worst error and where it is", () => {
    const s = errorSummary([1, 2, 4, 2.5], [1, 2, 3, 3], [0, 0.5, 1, 1.5]);
    assert.equal(s.mse, (0 + 0 + 1 + 0.25) / 4);
    assert.equal(s.maxAbsError, 1);
    assert.equal(s.worstAt, 1);
  });
  test("reads tensors without disposing of them", () => {
    const e = tf.tensor1d([0, 3]);
    const s = errorSummary(e, [0, 0], [10, 20]);
    assert.deepEqual(s, { mse: 4.5, maxAbsError: 3, worstAt: 20 });
    assert.equal(e.isDisposed, false);
    e.dispose();
  });
  test("rejects unequal lengths and non-finite numbers", () => {
    assert.throws(() => errorSummary([1, 2], [1], [0, 1]), {
      message: "errorSummary: estimate, truth and x must have the same length, got 2, 1 and 2.",
    });
    assert.throws(() => errorSummary([1, NaN], [1, 2], [0, 1]), {
      message: "errorSummary: estimate must be finite, got NaN at index 1.",
    });
  });
});
