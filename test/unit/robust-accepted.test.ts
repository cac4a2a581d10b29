/**
 * Bad and extreme input, class 5: input that used to be accepted or answered badly (validate.ts,
 * nadaraya_watson.ts, backend.ts). Each is now a clear error naming the function, the argument
 * and the value.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";

import { attentionWeights, initBackend, looLoss, nadarayaWatson, tf } from "../../lib/src/index";
import { assertThrowsClean } from "./helpers";

before(async () => {
  await initBackend({ quiet: true });
});

describe("accepted-but-wrong input is an error", () => {
  test("chunkSize with returnWeights, and chunkSize or returnWeights in attentionWeights", () => {
    assertThrowsClean(
      () => nadarayaWatson([0, 1], [1, 2], [0.5], "gaussian", { returnWeights: true, chunkSize: 1 }),
      "nadarayaWatson: options.chunkSize has no effect with returnWeights (the weights are one 1 × 2 matrix), got chunkSize 1; omit one of the two.",
    );
    assertThrowsClean(
      () => attentionWeights([0, 1], [0.5], "gaussian", { chunkSize: 1 } as object),
      "attentionWeights: options.chunkSize has no effect here (the weights are returned whole); for predictions in chunks, call nadarayaWatson without returnWeights.",
    );
  });
  test("values with zero columns", () => {
    assertThrowsClean(
      () => nadarayaWatson([0, 1], [[], []], [0.5]),
      "nadarayaWatson: values must have at least one column, got [[] (length 0), [] (length 0)] (length 2).",
    );
    const empty = tf.zeros([2, 0]);
    assertThrowsClean(
      () => nadarayaWatson([0, 1], empty, [0.5]),
      "nadarayaWatson: values must have at least one column, got float32 tensor of shape [2, 0].",
    );
    empty.dispose();
  });
  test("sigma as a disposed tensor", () => {
    const sigma = tf.scalar(0.5);
    sigma.dispose();
    assertThrowsClean(
      () => nadarayaWatson([0, 1], [1, 2], [0.5], "gaussian", { sigma }),
      "nadarayaWatson: options.sigma is a disposed tensor.",
    );
    assertThrowsClean(
      () => looLoss([0, 1], [1, 2], "gaussian", { sigma }),
      "looLoss: options.sigma is a disposed tensor.",
    );
  });
  test("a sigma of the wrong length says what fits", () => {
    assertThrowsClean(
      () => nadarayaWatson([0, 1], [1, 2], [0.5], "gaussian", { sigma: [1, 2, 3] }),
      "nadarayaWatson: options.sigma must have one number (the points are one-dimensional), got 3 entries.",
    );
  });
  test("options: null names null", () => {
    assertThrowsClean(
      () => nadarayaWatson([0, 1], [1, 2], [0.5], "gaussian", null as unknown as object),
      "nadarayaWatson: options must be an object, got null.",
    );
  });
  test("initBackend reports an unknown backend through its promise, never by throwing", async () => {
    let result: Promise<unknown> | undefined;
    assert.doesNotThrow(() => {
      result = initBackend({ backend: "gpu" as "wasm" });
    });
    await assert.rejects(result!, {
      message: 'initBackend: backend must be one of tensorflow, wasm, cpu, got "gpu".',
    });
  });
});
