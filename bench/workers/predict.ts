/**
 * Prediction worker for `npm run bench`: Nadaraya-Watson through the library's public
 * `nadarayaWatson`, on the backend chosen by ATTENTION_POOLING_BACKEND.
 *
 * Requests: `info`; `load` {keys, queries, sigma, out, kernel?, dense?, id?} reads the CSV files,
 * runs once as a warm-up and writes the predictions to `out` (little-endian float32); `run` {id?}
 * times one call, from input tensors to predictions read back into JavaScript (as numpy returns a
 * filled array). `kernel` defaults to "gaussian"; `dense` passes a chunkSize (about 2²² pairs per
 * chunk), which makes the call pool densely with tfjs ops instead of taking the fused kernel.
 * Several loads with different `id`s stay loaded side by side (the kernels section).
 */
import * as fs from "node:fs";

import {
  currentBackend,
  fusedKernelInfo,
  initBackend,
  nadarayaWatson,
  readCsv,
  tf,
  type KernelName,
} from "../../lib/src/index";
import { serve, since, type Message } from "../protocol";

interface Loaded {
  keys: tf.Tensor1D;
  values: tf.Tensor1D;
  queries: tf.Tensor1D;
  sigma: number;
  kernel: KernelName;
  chunkSize?: number;
}

const loaded = new Map<string, Loaded>();

function predictOnce(p: Loaded): Float32Array {
  const { predictions } = nadarayaWatson(p.keys, p.values, p.queries, p.kernel, {
    sigma: p.sigma,
    ...(p.chunkSize === undefined ? {} : { chunkSize: p.chunkSize }),
  });
  try {
    return predictions.dataSync() as Float32Array;
  } finally {
    predictions.dispose();
  }
}

function column(file: string, name: string): Float32Array {
  const values = readCsv(file).data[name];
  if (values === undefined) throw new Error(`${file} has no column ${name}`);
  return Float32Array.from(values);
}

async function main(): Promise<void> {
  const info = await initBackend({ quiet: true });
  serve({
    info: (): Message => ({
      impl: info.name,
      backend: currentBackend(),
      reason: info.reason,
      tfjs: tf.version_core,
      wasmThreads: info.name === "wasm" ? 1 : undefined,
      fused: fusedKernelInfo(),
    }),
    load: (r): Message => {
      const id = String(r.id ?? "default");
      const old = loaded.get(id);
      if (old) tf.dispose([old.keys, old.values, old.queries]);
      const queries = column(String(r.queries), "q");
      const keys = column(String(r.keys), "x");
      const config: Loaded = {
        keys: tf.tensor1d(keys),
        values: tf.tensor1d(column(String(r.keys), "y")),
        queries: tf.tensor1d(queries),
        sigma: Number(r.sigma ?? 1),
        kernel: String(r.kernel ?? "gaussian") as KernelName,
        chunkSize: r.dense ? Math.max(1, Math.floor(2 ** 22 / keys.length)) : undefined,
      };
      loaded.set(id, config);
      const start = process.hrtime.bigint();
      const predictions = predictOnce(config);
      const warmup = since(start);
      fs.writeFileSync(
        String(r.out),
        Buffer.from(predictions.buffer, predictions.byteOffset, predictions.byteLength),
      );
      return { warmup, tensors: tf.memory().numTensors };
    },
    run: (r): Message => {
      const config = loaded.get(String(r.id ?? "default"));
      if (!config) throw new Error("run before load");
      const start = process.hrtime.bigint();
      predictOnce(config);
      return { seconds: since(start) };
    },
  });
}

void main();
