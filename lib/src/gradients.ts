/**
 * Gradients for autodiff. tfjs-core's CommonJS build registers almost no gradients, and its
 * `register_all_gradients` module is ESM-only (Node 20 cannot `require` it, and tslab compiles to
 * CommonJS). The `@tensorflow/tfjs` bundle registers them all into the shared registry, so it is
 * loaded here for that side effect.
 *
 * Zero gradients for TensorFlow.js's comparison ops. Kernels mask their support with
 * comparisons (`r² < 1`); the mask is piecewise constant in σ, so its gradient is zero, but
 * tfjs-core registers no gradient for these ops and autodiff through `tf.where` would throw.
 * Registered once, only where tfjs has none, so an existing registration is never replaced.
 */
import * as tf from "@tensorflow/tfjs-core";

require("@tensorflow/tfjs");

const PIECEWISE_CONSTANT = [
  "Less",
  "LessEqual",
  "Greater",
  "GreaterEqual",
  "Equal",
  "NotEqual",
  "IsFinite",
  "IsInf",
  "IsNan",
];

for (const kernelName of PIECEWISE_CONSTANT) {
  if (tf.getGradient(kernelName) !== undefined) continue;
  const inputs = kernelName.startsWith("Is") ? ["x"] : ["a", "b"];
  tf.registerGradient({
    kernelName,
    inputsToSave: inputs,
    gradFunc: (_dy, saved) =>
      Object.fromEntries(inputs.map((name, i) => [name, () => tf.zerosLike(saved[i] as tf.Tensor)])),
  });
}
