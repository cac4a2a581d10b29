/**
 * Prediction worker for `npm run bench`: Nadaraya-Watson with the Gaussian kernel through the
 * library's public `nadarayaWatson`, on the backend chosen by ATTENTION_POOLING_BACKEND.
 *
 * Requests: `info`; `load` {keys, queries, sigma, out} reads the CSV files, runs once as a warm-up
 * and writes the predictions to `out` (little-endian float32); `run` times one call, from input
 * tensors to predictions read back into JavaScript (as numpy returns a filled array).
 */
import * as fs from "node:fs";

import { currentBackend, initBackend, nadarayaWatson, readCsv, tf } from "../../lib/src/index";
import { serve, since, type Message } from "../protocol";

interface Loaded {
  keys: tf.Tensor1D;
  values: tf.Tensor1D;
  queries: tf.Tensor1D;
  sigma: number;
}

let loaded: Loaded | undefined;

function predictOnce(p: Loaded): Float32Array {
  const { predictions } = nadarayaWatson(p.keys, p.values, p.queries, "gaussian", { sigma: p.sigma });
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
    }),
    load: (r): Message => {
      if (loaded) tf.dispose([loaded.keys, loaded.values, loaded.queries]);
      loaded = {
        keys: tf.tensor1d(column(String(r.keys), "x")),
        values: tf.tensor1d(column(String(r.keys), "y")),
        queries: tf.tensor1d(column(String(r.queries), "q")),
        sigma: Number(r.sigma ?? 1),
      };
      const start = process.hrtime.bigint();
      const predictions = predictOnce(loaded);
      const warmup = since(start);
      fs.writeFileSync(
        String(r.out),
        Buffer.from(predictions.buffer, predictions.byteOffset, predictions.byteLength),
      );
      return { warmup, tensors: tf.memory().numTensors };
    },
    run: (): Message => {
      if (!loaded) throw new Error("run before load");
      const start = process.hrtime.bigint();
      predictOnce(loaded);
      return { seconds: since(start) };
    },
  });
}

void main();
