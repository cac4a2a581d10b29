/**
 * Bandwidth-selection worker for `npm run bench`: the library's `fitBandwidth` (leave-one-out,
 * Gaussian kernel) on the default backend, or the one ATTENTION_POOLING_BACKEND forces.
 *
 * Requests: `info`; `load` {data} reads a CSV with columns x, y; `run` times one fit and returns
 * σ; `loss` {sigma: [..]} returns the library's leave-one-out loss at each σ, to compare the two
 * minima on one objective.
 */
import * as lib from "../../lib/src/index";
import { serve, since, type Message } from "../protocol";

async function main(): Promise<void> {
  const info = await lib.initBackend({ quiet: true });
  let x: Float32Array | undefined;
  let y: Float32Array | undefined;
  const data = (): [Float32Array, Float32Array] => {
    if (!x || !y) throw new Error("run before load");
    return [x, y];
  };
  serve({
    info: (): Message => ({ impl: info.name, backend: lib.currentBackend(), tfjs: lib.tf.version_core }),
    load: (r): Message => {
      const table = lib.readCsv(String(r.data));
      if (!table.data.x || !table.data.y) throw new Error(`${String(r.data)} needs columns x and y`);
      x = Float32Array.from(table.data.x);
      y = Float32Array.from(table.data.y);
      return { n: x.length };
    },
    run: (): Message => {
      const [keys, values] = data();
      const before = lib.tf.memory().numTensors;
      const start = process.hrtime.bigint();
      const fit = lib.fitBandwidth(keys, values, "gaussian");
      const seconds = since(start);
      return {
        seconds,
        sigma: fit.sigma,
        loss: fit.loss,
        iterations: fit.iterations,
        evaluations: fit.evaluations,
        converged: fit.converged,
        leakedTensors: lib.tf.memory().numTensors - before,
      };
    },
    loss: (r): Message => {
      const [keys, values] = data();
      const sigmas = (r.sigma as number[]) ?? [];
      return { loss: sigmas.map((s) => lib.looLoss(keys, values, "gaussian", { sigma: s })) };
    },
  });
}

void main();
