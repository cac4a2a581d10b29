/**
 * Building a result out of tensors that must be disposed of if the building fails part way, for
 * example when a later argument turns out to be invalid.
 */
import * as tf from "@tensorflow/tfjs-core";

/**
 * Runs `build` and returns its result. If `build` throws, disposes of `owned` (what the caller has
 * made so far, read at that moment) and the error goes on unchanged.
 *
 * There is no `catch` and rethrow: a rethrown error counts as thrown again at the `throw err`, and
 * that line is what Node prints above the message when a script or a notebook cell fails (as in
 * `…/lib/dist/nadaraya_watson.js:199  throw err;  ^`). Cleaning up in `finally` keeps the place
 * where the error was first raised.
 */
export function disposeOnFailure<T>(
  owned: tf.TensorContainer | (() => tf.TensorContainer),
  build: () => T,
): T {
  let built = false;
  try {
    const result = build();
    built = true;
    return result;
  } finally {
    if (!built) tf.dispose(typeof owned === "function" ? owned() : owned);
  }
}
