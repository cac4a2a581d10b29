/**
 * attention-pooling: Nadaraya-Watson kernel regression as the ancestor of attention, on
 * TensorFlow.js tensors. Call `await initBackend()` once, then use the functions below.
 *
 * Convention: attention-weight matrices are `[nQueries, nKeys]`, each row summing to 1.
 */
export * as tf from "@tensorflow/tfjs-core";
export * from "./errors";
export * from "./backend";
export * from "./validate";
export * from "./kernels";
export * from "./distance";
export * from "./nadaraya_watson";
export * from "./data";
export * from "./metrics";
export * from "./parzen";
export * from "./classification_data";
export * from "./attention";
export * from "./bandwidth";
export * from "./figures";
export * from "./windowed";
