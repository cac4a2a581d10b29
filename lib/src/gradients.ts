/**
 * Zero gradients for TensorFlow.js's comparison ops. Kernels mask their support with
 * comparisons (`r² < 1`); the mask is piecewise constant in σ, so its gradient is zero, but
 * tfjs-core registers no gradient for these ops and autodiff through `tf.where` would throw.
 * Registered once, only where tfjs has none, so an existing registration is never replaced.
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-core/dist/register_all_gradients";

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
