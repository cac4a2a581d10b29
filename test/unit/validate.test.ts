// validate.ts: the input checks every public call shares (conversion at the door, emptiness,
// finiteness, rank, σ, kernel names, options), through nadarayaWatson, attentionWeights and
// evaluateKernel. Each error names the function, the argument and the value, and leaks no tensor.
import { before, describe, test } from "node:test";

import { initBackend, nadarayaWatson, attentionWeights, evaluateKernel, tf } from "../../lib/src/index";
import { assertThrowsClean } from "./helpers";

before(async () => {
  await initBackend({ quiet: true });
});

const K = [0, 1, 2];
const V = [1, 2, 3];

describe("bad input gets an error naming the function, the argument and the value", () => {
  test("rejects keys/values length mismatch", () => {
    assertThrowsClean(
      () => nadarayaWatson(K, [1, 2], [0.5]),
      "nadarayaWatson: keys and values must have the same length, got 3 and 2.",
    );
  });
  test("rejects keys/queries dimension mismatch", () => {
    assertThrowsClean(
      () =>
        nadarayaWatson(
          [
            [0, 1],
            [1, 0],
          ],
          [1, 2],
          [[0, 1, 2]],
        ),
      "nadarayaWatson: keys and queries must have the same dimension, got 2 and 3.",
    );
  });
  test("rejects empty keys", () => {
    assertThrowsClean(
      () => nadarayaWatson([], [], [0.5]),
      "nadarayaWatson: keys must not be empty, got [] (length 0).",
    );
  });
  test("rejects empty queries", () => {
    assertThrowsClean(
      () => nadarayaWatson(K, V, []),
      "nadarayaWatson: queries must not be empty, got [] (length 0).",
    );
  });
  test("rejects NaN in keys, values and queries, naming the index", () => {
    assertThrowsClean(
      () => nadarayaWatson([0, NaN, 2], V, [0.5]),
      "nadarayaWatson: keys must be finite, got NaN at index 1.",
    );
    assertThrowsClean(
      () => nadarayaWatson(K, [1, 2, Infinity], [0.5]),
      "nadarayaWatson: values must be finite, got Infinity at index 2.",
    );
    assertThrowsClean(
      () =>
        nadarayaWatson(
          [
            [0, 0],
            [1, 1],
          ],
          [1, 2],
          [[0, -Infinity]],
        ),
      "nadarayaWatson: queries must be finite, got -Infinity at flat index 1 of shape [1, 2].",
    );
  });
  test("rejects NaN passed in a tensor", () => {
    const q = tf.tensor1d([0.5, NaN]);
    assertThrowsClean(
      () => nadarayaWatson(K, V, q),
      "nadarayaWatson: queries must be finite, got NaN at index 1.",
    );
    q.dispose();
  });
  test("rejects σ ≤ 0 or not finite", () => {
    assertThrowsClean(
      () => nadarayaWatson(K, V, [0.5], "gaussian", { sigma: 0 }),
      "nadarayaWatson: options.sigma must be finite and > 0, got 0.",
    );
    assertThrowsClean(
      () => nadarayaWatson(K, V, [0.5], "gaussian", { sigma: -2 }),
      "nadarayaWatson: options.sigma must be finite and > 0, got -2.",
    );
    assertThrowsClean(
      () => nadarayaWatson(K, V, [0.5], "gaussian", { sigma: NaN }),
      "nadarayaWatson: options.sigma must be finite and > 0, got NaN.",
    );
    assertThrowsClean(
      () => nadarayaWatson(K, V, [0.5], "gaussian", { sigma: Infinity }),
      "nadarayaWatson: options.sigma must be finite and > 0, got Infinity.",
    );
    assertThrowsClean(
      () => nadarayaWatson([[0, 0]], [1], [[1, 1]], "gaussian", { sigma: [1, 0] }),
      "nadarayaWatson: options.sigma must be finite and > 0, got 0 at index 1.",
    );
  });
  test("rejects a σ vector of the wrong length", () => {
    assertThrowsClean(
      () => nadarayaWatson([[0, 0]], [1], [[1, 1]], "gaussian", { sigma: [1, 2, 3] }),
      "nadarayaWatson: options.sigma must have 1 or 2 entries (one per dimension), got 3 entries.",
    );
  });
  test("rejects σ of the wrong type", () => {
    assertThrowsClean(
      () => nadarayaWatson(K, V, [0.5], "gaussian", { sigma: "wide" as unknown as number }),
      'nadarayaWatson: options.sigma must be a positive number or one per dimension, got "wide".',
    );
  });
  test("rejects an unknown kernel name, listing the valid ones", () => {
    assertThrowsClean(
      () => nadarayaWatson(K, V, [0.5], "gausian" as "gaussian"),
      'nadarayaWatson: unknown kernel "gausian"; expected one of gaussian, boxcar, constant, epanechikov, triangular, epanechnikov, biweight, tricube, cosine.',
    );
  });
  test("rejects the wrong rank", () => {
    assertThrowsClean(
      () => nadarayaWatson([[[0]]], [1], [0]),
      "nadarayaWatson: keys must have rank 1 ([n]) or 2 ([n, d]), got an array nested three deep.",
    );
    assertThrowsClean(
      () => nadarayaWatson(K, V, 0.5),
      "nadarayaWatson: queries must have rank 1 ([n]) or 2 ([n, d]), got the number 0.5; wrap one point as [0.5].",
    );
    assertThrowsClean(
      () => nadarayaWatson(K, [[[1]], [[2]], [[3]]], [0.5]),
      "nadarayaWatson: values must have rank 1 ([n]) or 2 ([n, k]), got an array nested three deep.",
    );
  });
  test("rejects ragged arrays and non-numeric input", () => {
    assertThrowsClean(
      () => nadarayaWatson([[0, 1], [2]], [1, 2], [[0, 0]]),
      "nadarayaWatson: keys is not a rectangular numeric array: [1] has length 1, but [0] has length 2.",
    );
    assertThrowsClean(
      () => nadarayaWatson(K, [1, "2", 3] as unknown as number[], [0.5]),
      'nadarayaWatson: values is not a rectangular numeric array: [1] is "2", not a number.',
    );
    assertThrowsClean(
      () => nadarayaWatson("0,1,2" as unknown as number[], V, [0.5]),
      'nadarayaWatson: keys must be a tensor, an array or a typed array, got "0,1,2".',
    );
    assertThrowsClean(
      () => nadarayaWatson(K, V, undefined as unknown as number[]),
      "nadarayaWatson: queries must be a tensor, an array or a typed array, got undefined.",
    );
  });
  test("rejects a disposed tensor", () => {
    const k = tf.tensor1d([0, 1, 2]);
    k.dispose();
    assertThrowsClean(() => nadarayaWatson(k, V, [0.5]), "nadarayaWatson: keys is a disposed tensor.");
  });
  test("rejects bad options", () => {
    assertThrowsClean(
      () => nadarayaWatson(K, V, [0.5], "boxcar", { onEmpty: "zero" as "nan" }),
      "nadarayaWatson: options.onEmpty must be one of 'throw', 'nan', 'nearest', got \"zero\".",
    );
    assertThrowsClean(
      () => nadarayaWatson(K, V, [0.5], "gaussian", { chunkSize: 0 }),
      "nadarayaWatson: options.chunkSize must be a positive integer, got 0.",
    );
    assertThrowsClean(
      () => nadarayaWatson(K, V, [0.5], "gaussian", { chunkSize: 2.5 }),
      "nadarayaWatson: options.chunkSize must be a positive integer, got 2.5.",
    );
  });
  test("refuses to materialise an enormous weight matrix", () => {
    // 10¹⁰ pairs: about 82 GiB at the peak, beyond every backend's budget on any machine here.
    const many = new Float32Array(100000);
    assertThrowsClean(
      () => nadarayaWatson(many, many, many, "gaussian", { returnWeights: true }),
      /^nadarayaWatson: a 100000 × 100000 weight matrix needs about 8\d\.\d GiB at its peak on the (wasm|cpu|tensorflow) backend, more than the \d+\.\d GiB available; omit returnWeights to evaluate in chunks, or pass fewer queries\.$/,
    );
  });
  test("other public functions name themselves", () => {
    assertThrowsClean(
      () => attentionWeights([0, 1], [[0, 1]]),
      "attentionWeights: keys and queries must have the same dimension, got 1 and 2.",
    );
    assertThrowsClean(
      () => evaluateKernel("gaussian", [0, 1], -1),
      "evaluateKernel: sigma must be finite and > 0, got -1.",
    );
  });
});
