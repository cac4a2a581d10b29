/**
 * Bandwidth-selection worker for `npm run bench`: the library's `fitBandwidth` (leave-one-out,
 * Gaussian kernel) on the default backend, or the one ATTENTION_POOLING_BACKEND forces.
 *
 * Requests: `info` (says `absent` while the library has no `fitBandwidth`); `load` {data} reads a
 * CSV with columns x, y; `run` times one fit and returns σ; `loss` {sigma: [..]} returns the
 * library's leave-one-out loss at each σ, to compare the two minima on one objective.
 */
import * as lib from "../../lib/src/index";
import { serve, since, type Message } from "../protocol";

/** The part of the library's bandwidth API the benchmark uses. */
interface BandwidthApi {
  fitBandwidth(
    keys: Float32Array,
    values: Float32Array,
    options?: { kernel?: string },
  ): { sigma: number[]; loss: number; iterations: number; evaluations: number; converged: boolean };
  looLoss(keys: Float32Array, values: Float32Array, kernel?: string, options?: { sigma?: number }): number;
}

/** The bandwidth API when the library has it (it is being built alongside the benchmark). */
function bandwidthApi(): BandwidthApi | undefined {
  const api = lib as unknown as Partial<BandwidthApi>;
  return typeof api.fitBandwidth === "function" && typeof api.looLoss === "function"
    ? (api as BandwidthApi)
    : undefined;
}

async function main(): Promise<void> {
  const info = await lib.initBackend({ quiet: true });
  const api = bandwidthApi();
  let x: Float32Array | undefined;
  let y: Float32Array | undefined;
  const data = (): [Float32Array, Float32Array] => {
    if (!x || !y) throw new Error("run before load");
    return [x, y];
  };
  serve({
    info: (): Message =>
      api
        ? { impl: info.name, backend: lib.currentBackend(), tfjs: lib.tf.version_core }
        : { absent: "the library does not export fitBandwidth and looLoss yet" },
    load: (r): Message => {
      const table = lib.readCsv(String(r.data));
      if (!table.data.x || !table.data.y) throw new Error(`${String(r.data)} needs columns x and y`);
      x = Float32Array.from(table.data.x);
      y = Float32Array.from(table.data.y);
      return { n: x.length };
    },
    run: (): Message => {
      if (!api) throw new Error("fitBandwidth is not available");
      const [keys, values] = data();
      const before = lib.tf.memory().numTensors;
      const start = process.hrtime.bigint();
      const fit = api.fitBandwidth(keys, values, { kernel: "gaussian" });
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
      if (!api) throw new Error("looLoss is not available");
      const [keys, values] = data();
      const sigmas = (r.sigma as number[]) ?? [];
      return { loss: sigmas.map((s) => api.looLoss(keys, values, "gaussian", { sigma: s })) };
    },
  });
}

void main();
