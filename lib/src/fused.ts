/**
 * Fused Nadaraya-Watson pooling: each query's weighted average in one pass over the keys, with no
 * `[nQueries, nKeys]` matrix in memory (lib/native/nadaraya_watson.h, a single C source).
 *
 * - tensorflow backend: a TensorFlow op (lib/native/tensorflow_op.c), vectorised and run on one
 *   thread per processor, which `npm run tfjs-node` compiles next to tfjs-node's TensorFlow
 *   library. Loading it registers the op with the TensorFlow runtime tfjs-node already runs, and
 *   tfjs-node executes it by name, on tfjs tensors like any other op.
 * - wasm backend: the same source compiled to WebAssembly with 128-bit SIMD
 *   (lib/native/nadaraya_watson.wasm, committed, built by `npm run native -- wasm`), run on one
 *   thread like the backend itself. Inputs are copied into its memory (O((n + m)·d)), the
 *   `[m, c + 1]` result out.
 * - cpu backend: the same sums as a plain JavaScript loop, in float64, like the backend itself
 *   free of native code.
 *
 * `nadarayaWatson` uses it for predictions (no `returnWeights`, no `chunkSize`) with a kernel that
 * has a `fusedProfile` in the kernel table and widths of ordinary size; see `poolFused` in
 * nadaraya_watson.ts.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

import * as tf from "@tensorflow/tfjs-core";

/** The ops' names in TensorFlow's registry (tensorflow_op.c). */
const TENSORFLOW_OP = "AttentionPoolingNadarayaWatson";
const TENSORFLOW_LOSS_OP = "AttentionPoolingBandwidthLoss";

/** The C sources each fused kernel is built from, relative to this package's root (lib/). */
export const NATIVE_SOURCES = {
  tensorflow: ["native/nadaraya_watson.h", "native/tensorflow_op.c"],
  wasm: ["native/nadaraya_watson.h", "native/wasm.c"],
} as const;

/** The built op library's file name, in tfjs-node's `deps/lib` next to TensorFlow's libraries. */
export const TENSORFLOW_OP_FILE = "attention-pooling-ops.node";

/** The WebAssembly module, committed in lib/native with a stamp of its sources' hash (`<file>.json`). */
export const WASM_MODULE_FILE = "native/nadaraya_watson.wasm";

/** Whether the current backend has a fused kernel, and why or why not. */
export interface FusedKernelInfo {
  /** The backend asked about (the current one). */
  readonly backend: string;
  /** Whether `nadarayaWatson` pools on it in one fused pass. */
  readonly available: boolean;
  /** One line: what runs, or what is missing and how to get it. */
  readonly detail: string;
}

/** This package's root (lib/), from lib/src or lib/dist alike. */
export function packageRoot(): string {
  return path.resolve(__dirname, "..");
}

/** SHA-256 of one target's sources, which its build records in a stamp beside the built file. */
export function nativeSourceHash(target: keyof typeof NATIVE_SOURCES, root: string = packageRoot()): string {
  const hash = createHash("sha256");
  for (const file of NATIVE_SOURCES[target]) hash.update(fs.readFileSync(path.join(root, file)));
  return hash.digest("hex");
}

/** Whether `file` was built from the current sources of `target` (its stamp `<file>.json` says so). */
function isCurrent(file: string, target: keyof typeof NATIVE_SOURCES): boolean {
  try {
    const stamp = JSON.parse(fs.readFileSync(`${file}.json`, "utf8")) as { sources?: string };
    return stamp.sources === nativeSourceHash(target);
  } catch {
    return false;
  }
}

/** Where `npm run tfjs-node` puts the op library for the installed tfjs-node, or undefined without it. */
export function tensorflowOpPath(): string | undefined {
  try {
    const pkg = require.resolve("@tensorflow/tfjs-node/package.json");
    return path.join(path.dirname(pkg), "deps", "lib", TENSORFLOW_OP_FILE);
  } catch {
    return undefined;
  }
}

let tensorflowState: { ok: boolean; detail: string } | undefined;

/** Loads the op library once per process; says why not when it cannot. */
function loadTensorflowOp(): { ok: boolean; detail: string } {
  if (tensorflowState) return tensorflowState;
  const file = tensorflowOpPath();
  if (file === undefined || !fs.existsSync(file)) {
    tensorflowState = {
      ok: false,
      detail: "the fused TensorFlow op is not built (npm run tfjs-node builds it)",
    };
    return tensorflowState;
  }
  if (!isCurrent(file, "tensorflow")) {
    tensorflowState = {
      ok: false,
      detail: "the fused TensorFlow op was built from other sources (npm run tfjs-node rebuilds it)",
    };
    return tensorflowState;
  }
  try {
    require(file);
    tensorflowState = { ok: true, detail: `the fused TensorFlow op (${TENSORFLOW_OP})` };
  } catch (err) {
    tensorflowState = {
      ok: false,
      detail: `the fused TensorFlow op did not load (${(err as Error).message.split("\n")[0]})`,
    };
  }
  return tensorflowState;
}

/** The parts of the WebAssembly JavaScript API used here (this package compiles without DOM types). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface WasmExports {
  readonly memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  readonly __heap_base: { readonly value: number };
  pool(
    profile: number,
    n: number,
    dims: number,
    cols: number,
    m: number,
    queries: number,
    keysT: number,
    valuesT: number,
    inverse: number,
    out: number,
    scratch: number,
    acc: number,
  ): void;
  loss(
    n: number,
    dims: number,
    cols: number,
    m: number,
    coef: number,
    queries: number,
    keysT: number,
    valuesT: number,
    targets: number,
    self: number,
    inverse: number,
    out: number,
    scratch: number,
    acc: number,
  ): void;
}

let wasmState: { ok: boolean; detail: string; exports?: WasmExports } | undefined;

/** Instantiates the committed WebAssembly module once per process; says why not when it cannot. */
function loadWasm(): { ok: boolean; detail: string; exports?: WasmExports } {
  if (wasmState) return wasmState;
  const file = path.join(packageRoot(), WASM_MODULE_FILE);
  if (!fs.existsSync(file)) {
    wasmState = { ok: false, detail: `the fused WebAssembly module is missing (${WASM_MODULE_FILE})` };
  } else if (!isCurrent(file, "wasm")) {
    wasmState = {
      ok: false,
      detail:
        "the fused WebAssembly module was built from other sources (npm run native -- wasm rebuilds it)",
    };
  } else {
    try {
      const instance = new wasmApi.Instance(new wasmApi.Module(fs.readFileSync(file)), {});
      wasmState = {
        ok: true,
        detail: "the fused WebAssembly module (SIMD, one thread)",
        exports: instance.exports as unknown as WasmExports,
      };
    } catch (err) {
      wasmState = {
        ok: false,
        detail: `the fused WebAssembly module did not load (${(err as Error).message.split("\n")[0]})`,
      };
    }
  }
  return wasmState;
}

/** Rows × cols, row-major, transposed into a new array. */
function transposed(data: Float32Array, rows: number, cols: number): Float32Array {
  if (cols === 1) return data;
  const out = new Float32Array(data.length);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) out[j * rows + i] = data[i * cols + j] as number;
  return out;
}

/**
 * Lays `parts` out in the module's memory from `__heap_base` on (16-byte aligned, growing it as
 * needed), copies in those with data, and returns each one's byte offset and the memory as floats.
 */
function layOut(
  wasm: WasmExports,
  parts: Array<[Float32Array | Int32Array | undefined, number]>,
): { at: number[]; heap: Float32Array } {
  let top = wasm.__heap_base.value;
  const at = parts.map(([, count]) => {
    const start = (top + 15) & ~15;
    top = start + 4 * count;
    return start;
  });
  const pages = Math.ceil(top / 65536) - wasm.memory.buffer.byteLength / 65536;
  if (pages > 0) wasm.memory.grow(pages);
  const heap = new Float32Array(wasm.memory.buffer);
  const ints = new Int32Array(wasm.memory.buffer);
  parts.forEach(([data], i) => {
    if (data instanceof Int32Array) ints.set(data, (at[i] as number) / 4);
    else if (data) heap.set(data, (at[i] as number) / 4);
  });
  return { at, heap };
}

/** The fused pooling in the WebAssembly module: inputs copied into its memory, the result copied out. */
function poolWasm(wasm: WasmExports, inputs: FusedInputs): tf.Tensor2D {
  const [m, dims] = inputs.queries.shape;
  const [n, cols] = inputs.values.shape;
  const { at, heap } = layOut(wasm, [
    [inputs.queries.dataSync() as Float32Array, m * dims],
    [transposed(inputs.keys.dataSync() as Float32Array, n, dims), n * dims],
    [transposed(inputs.values.dataSync() as Float32Array, n, cols), n * cols],
    [Float32Array.from(inputs.inverseWidths), dims],
    [undefined, m * (cols + 1)], // out
    [undefined, 256], // scratch: AP_BLOCK floats
    [undefined, 2 * (cols + 1)], // acc: cols doubles
  ]);
  const [q, k, v, inv, out, scratch, acc] = at as [number, number, number, number, number, number, number];
  wasm.pool(inputs.profile, n, dims, cols, m, q, k, v, inv, out, scratch, acc);
  return tf.tensor2d(heap.slice(out / 4, out / 4 + m * (cols + 1)), [m, cols + 1]);
}

/**
 * The fused pooling in plain JavaScript for the cpu backend: the same sums as the C source, per
 * query over all keys, in float64 throughout (so it is also the most exact of the three).
 */
function poolJs(inputs: FusedInputs): tf.Tensor2D {
  const [m, dims] = inputs.queries.shape;
  const [n, cols] = inputs.values.shape;
  const q = inputs.queries.dataSync();
  const kt = transposed(inputs.keys.dataSync() as Float32Array, n, dims);
  const vt = transposed(inputs.values.dataSync() as Float32Array, n, cols);
  const inverse = Float64Array.from(inputs.inverseWidths);
  const profile = inputs.profile;
  const out = new Float32Array(m * (cols + 1));
  const t = new Float64Array(n);
  const acc = new Float64Array(cols);
  const halfPi = Math.PI / 2;
  for (let i = 0; i < m; i++) {
    // Squared scaled distances to every key.
    const q0 = q[i * dims] as number;
    const s0 = inverse[0] as number;
    for (let j = 0; j < n; j++) {
      const u = (q0 - (kt[j] as number)) * s0;
      t[j] = u * u;
    }
    for (let e = 1; e < dims; e++) {
      const qe = q[i * dims + e] as number;
      const se = inverse[e] as number;
      const row = e * n;
      for (let j = 0; j < n; j++) {
        const u = (qe - (kt[row + j] as number)) * se;
        t[j] = (t[j] as number) + u * u;
      }
    }
    // Weights in place, by profile (numbered as in nadaraya_watson.h).
    switch (profile) {
      case 0: {
        let shift = Infinity;
        for (let j = 0; j < n; j++) if ((t[j] as number) < shift) shift = t[j] as number;
        for (let j = 0; j < n; j++) t[j] = Math.exp(0.5 * (shift - (t[j] as number)));
        break;
      }
      case 1:
        t.fill(1);
        break;
      case 2:
        for (let j = 0; j < n; j++) t[j] = (t[j] as number) < 1 ? 1 : 0;
        break;
      case 3:
        for (let j = 0; j < n; j++) {
          const d = t[j] as number;
          t[j] = d < 1 ? 1 - Math.sqrt(d) : 0;
        }
        break;
      case 4:
        for (let j = 0; j < n; j++) {
          const d = t[j] as number;
          t[j] = d < 1 ? 1 - d : 0;
        }
        break;
      case 5:
        for (let j = 0; j < n; j++) {
          const d = t[j] as number;
          t[j] = d < 1 ? (1 - d) * (1 - d) : 0;
        }
        break;
      case 6:
        for (let j = 0; j < n; j++) {
          const d = t[j] as number;
          const u = 1 - d * Math.sqrt(d);
          t[j] = d < 1 ? u * u * u : 0;
        }
        break;
      case 7:
        for (let j = 0; j < n; j++) {
          const d = t[j] as number;
          t[j] = d < 1 ? Math.cos(halfPi * Math.sqrt(d)) : 0;
        }
        break;
      default:
        throw new Error(`fused pooling: unknown kernel profile ${profile}`);
    }
    let total = 0;
    for (let j = 0; j < n; j++) total += t[j] as number;
    acc.fill(0);
    for (let c = 0; c < cols; c++) {
      const row = c * n;
      let sum = 0;
      for (let j = 0; j < n; j++) sum += (t[j] as number) * (vt[row + j] as number);
      acc[c] = sum;
    }
    const o = i * (cols + 1);
    for (let c = 0; c < cols; c++) out[o + c] = (acc[c] as number) / total;
    out[o + cols] = total;
  }
  return tf.tensor2d(out, [m, cols + 1]);
}

/**
 * Whether `nadarayaWatson` evaluates predictions in one fused pass on the current backend (call
 * after `initBackend`). Where it does not, it pools densely with tfjs ops, in chunks; the results
 * agree to float32 rounding.
 *
 * @example
 * ```ts
 * await initBackend();
 * fusedKernelInfo(); // { backend: "tensorflow", available: true, detail: "the fused TensorFlow op (…)" }
 * ```
 */
export function fusedKernelInfo(): FusedKernelInfo {
  const backend = tf.getBackend();
  if (backend === "tensorflow") {
    const { ok, detail } = loadTensorflowOp();
    return { backend, available: ok, detail };
  }
  if (backend === "wasm") {
    const { ok, detail } = loadWasm();
    return { backend, available: ok, detail };
  }
  if (backend === "cpu") {
    return { backend, available: true, detail: "the fused JavaScript loop (float64, one thread)" };
  }
  return { backend, available: false, detail: `no fused kernel for the ${backend} backend` };
}

/** What {@link fusedPool} needs: centred float32 points, values, 1/σ per dimension, the kernel's profile. */
export interface FusedInputs {
  /** `[m, d]`. */
  readonly queries: tf.Tensor2D;
  /** `[n, d]`. */
  readonly keys: tf.Tensor2D;
  /** `[n, c]`. */
  readonly values: tf.Tensor2D;
  /** 1/σ_e per dimension, finite and positive in float32. */
  readonly inverseWidths: readonly number[];
  /** The kernel table's `fusedProfile`. */
  readonly profile: number;
}

/**
 * `[m, c + 1]`: each query's weighted averages of the c value columns, then its sum of weights
 * (0 for a query with no key in a compact support, whose averages are NaN; for the Gaussian the
 * nearest key weighs 1, so the sum is at least 1). `undefined` when the current backend has no
 * fused kernel. The caller disposes of the result.
 */
export function fusedPool(inputs: FusedInputs): tf.Tensor2D | undefined {
  const name = tf.getBackend();
  if (name === "cpu") return poolJs(inputs);
  if (name === "wasm") {
    const wasm = loadWasm();
    return wasm.exports ? poolWasm(wasm.exports, inputs) : undefined;
  }
  if (name !== "tensorflow" || !loadTensorflowOp().ok) return undefined;
  const backend = tf.backend() as unknown as {
    binding: { TF_ATTR_INT: number };
    executeSingleOutput(
      name: string,
      attrs: Array<{ name: string; type: number; value: number }>,
      inputs: tf.Tensor[],
    ): tf.Tensor;
  };
  return tf.tidy(() => {
    const dims = inputs.keys.shape[1];
    // Keys and values transposed, so the op reads each dimension and each column contiguously.
    const keysT = dims === 1 ? tf.reshape(inputs.keys, [1, -1]) : tf.transpose(inputs.keys);
    const valuesT =
      inputs.values.shape[1] === 1 ? tf.reshape(inputs.values, [1, -1]) : tf.transpose(inputs.values);
    const inverse = tf.tensor1d(inputs.inverseWidths as number[], "float32");
    return backend.executeSingleOutput(
      TENSORFLOW_OP,
      [{ name: "profile", type: backend.binding.TF_ATTR_INT, value: inputs.profile }],
      [inputs.queries, keysT, valuesT, inverse],
    ) as tf.Tensor2D;
  });
}

/** What {@link fusedLoss} needs (see ap_loss_rows in lib/native/nadaraya_watson.h). */
export interface FusedLossInputs {
  /** `[m, d]`: where the loss is evaluated. */
  readonly queries: tf.Tensor2D;
  /** `[m, c]`: the targets there. */
  readonly targets: tf.Tensor2D;
  /** `[n, d]`. */
  readonly keys: tf.Tensor2D;
  /** `[n, c]`. */
  readonly values: tf.Tensor2D;
  /** For leave-one-out, each query's own key index (left out); `undefined`: none left out. */
  readonly self?: Int32Array;
  /** 1/σ_e per dimension, finite and positive in float32. */
  readonly inverseWidths: readonly number[];
  /** log k = coef · r² (the kernel table's `logQuadratic`, < 0). */
  readonly coef: number;
}

/**
 * Per query, the squared residual ‖f(q) − y‖² of the kernel estimate (leaving out the query's own
 * key for leave-one-out) and its derivative in each log σ_e: `[m, 1 + d]` row-major, or
 * `undefined` where the current backend has no fused kernel.
 */
export function fusedLoss(inputs: FusedLossInputs): Float32Array | Float64Array | undefined {
  const name = tf.getBackend();
  const [m, dims] = inputs.queries.shape;
  const self = inputs.self ?? new Int32Array(m).fill(-1);
  if (name === "cpu") return lossJs(inputs, self);
  if (name === "wasm") {
    const wasm = loadWasm().exports;
    if (wasm === undefined) return undefined;
    const [n, cols] = inputs.values.shape;
    const { at, heap } = layOut(wasm, [
      [inputs.queries.dataSync() as Float32Array, m * dims],
      [transposed(inputs.keys.dataSync() as Float32Array, n, dims), n * dims],
      [transposed(inputs.values.dataSync() as Float32Array, n, cols), n * cols],
      [inputs.targets.dataSync() as Float32Array, m * cols],
      [self, m],
      [Float32Array.from(inputs.inverseWidths), dims],
      [undefined, m * (dims + 1)], // out
      [undefined, 256 * (dims + 1)], // scratch
      [undefined, 2 * (cols + dims + cols * dims + 1)], // acc: doubles
    ]);
    const [q, k, v, y, own, inv, out, scratch, acc] = at as number[] as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    wasm.loss(n, dims, cols, m, inputs.coef, q, k, v, y, own, inv, out, scratch, acc);
    return heap.slice(out / 4, out / 4 + m * (dims + 1));
  }
  if (name !== "tensorflow" || !loadTensorflowOp().ok) return undefined;
  const backend = tf.backend() as unknown as {
    binding: { TF_ATTR_FLOAT: number };
    executeSingleOutput(
      name: string,
      attrs: Array<{ name: string; type: number; value: number }>,
      inputs: tf.Tensor[],
    ): tf.Tensor;
  };
  const result = tf.tidy(() => {
    const keysT = dims === 1 ? tf.reshape(inputs.keys, [1, -1]) : tf.transpose(inputs.keys);
    const valuesT =
      inputs.values.shape[1] === 1 ? tf.reshape(inputs.values, [1, -1]) : tf.transpose(inputs.values);
    return backend.executeSingleOutput(
      TENSORFLOW_LOSS_OP,
      [{ name: "coef", type: backend.binding.TF_ATTR_FLOAT, value: inputs.coef }],
      [
        inputs.queries,
        keysT,
        valuesT,
        inputs.targets,
        tf.tensor1d(self, "int32"),
        tf.tensor1d(inputs.inverseWidths as number[], "float32"),
      ],
    );
  });
  try {
    return result.dataSync() as Float32Array;
  } finally {
    result.dispose();
  }
}

/** {@link fusedLoss} in plain JavaScript, float64 throughout, for the cpu backend. */
function lossJs(inputs: FusedLossInputs, self: Int32Array): Float64Array {
  const [m, dims] = inputs.queries.shape;
  const [n, cols] = inputs.values.shape;
  const q = inputs.queries.dataSync();
  const y = inputs.targets.dataSync();
  const kt = transposed(inputs.keys.dataSync() as Float32Array, n, dims);
  const vt = transposed(inputs.values.dataSync() as Float32Array, n, cols);
  const inverse = Float64Array.from(inputs.inverseWidths);
  const coef = inputs.coef;
  const out = new Float64Array(m * (dims + 1));
  const parts = new Float64Array(dims * n);
  const w = new Float64Array(n);
  const pooled = new Float64Array(cols);
  const spread = new Float64Array(dims);
  const moment = new Float64Array(cols * dims);
  for (let i = 0; i < m; i++) {
    w.fill(0);
    for (let e = 0; e < dims; e++) {
      const qe = q[i * dims + e] as number;
      const se = inverse[e] as number;
      for (let j = 0; j < n; j++) {
        const u = (qe - (kt[e * n + j] as number)) * se;
        parts[e * n + j] = u * u;
        w[j] = (w[j] as number) + u * u;
      }
    }
    const own = self[i] as number;
    let shift = Infinity;
    for (let j = 0; j < n; j++) if (j !== own && (w[j] as number) < shift) shift = w[j] as number;
    let total = 0;
    pooled.fill(0);
    spread.fill(0);
    moment.fill(0);
    for (let j = 0; j < n; j++) {
      if (j === own) continue;
      const wj = Math.exp(coef * ((w[j] as number) - shift));
      total += wj;
      for (let c = 0; c < cols; c++) pooled[c] = (pooled[c] as number) + wj * (vt[c * n + j] as number);
      for (let e = 0; e < dims; e++) {
        const wu = wj * (parts[e * n + j] as number);
        spread[e] = (spread[e] as number) + wu;
        for (let c = 0; c < cols; c++)
          moment[c * dims + e] = (moment[c * dims + e] as number) + wu * (vt[c * n + j] as number);
      }
    }
    let loss = 0;
    const o = i * (dims + 1);
    for (let c = 0; c < cols; c++) {
      const f = (pooled[c] as number) / total;
      const r = f - (y[i * cols + c] as number);
      loss += r * r;
      for (let e = 0; e < dims; e++) {
        out[o + 1 + e] =
          (out[o + 1 + e] as number) +
          ((2 * r * ((moment[c * dims + e] as number) - f * (spread[e] as number))) / total) * (-2 * coef);
      }
    }
    out[o] = loss;
  }
  return out;
}
