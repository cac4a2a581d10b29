/**
 * Windowed-prediction worker for `npm run bench`: `windowedNadarayaWatson` against the dense
 * `nadarayaWatson` on the same data, on the default backend (or ATTENTION_POOLING_BACKEND).
 *
 *   node --import tsx bench/workers/windowed.ts '<json: {runs, budget, cases: [{kernel, sigma, n}]}>'
 *
 * Keys follow the tutorial's recipe (x ~ U(0, 5), y = 2 sin x + x + N(0, 1)); m = n queries on a
 * grid. Each case warms both paths up, then alternates them for `runs` rounds. The dense path is
 * skipped when its warm-up says the rounds would exceed `budget` seconds. Prints one answer line.
 */
import {
  initBackend,
  nadarayaWatson,
  seededRandom,
  tf,
  trueFunction,
  windowedNadarayaWatson,
  type KernelName,
} from "../../lib/src/index";
import { PREFIX, since } from "../protocol";

interface Case {
  kernel: KernelName;
  sigma: number;
  n: number;
}

function time(f: () => tf.Tensor): { seconds: number; out: Float32Array } {
  const start = process.hrtime.bigint();
  const t = f();
  const out = t.dataSync() as Float32Array;
  const seconds = since(start);
  t.dispose();
  return { seconds, out };
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? "{}") as { runs: number; budget: number; cases: Case[] };
  const info = await initBackend({ quiet: true });
  const rows: unknown[] = [];
  for (const c of spec.cases) {
    const rng = seededRandom(`bench-windowed-${c.n}`);
    const x = Float32Array.from({ length: c.n }, () => rng.uniform() * 5);
    const y = x.map((v) => trueFunction(v) + rng.normal());
    const q = Float32Array.from({ length: c.n }, (_, i) => (5 * i) / c.n);
    const windowed = (): tf.Tensor =>
      windowedNadarayaWatson(x, y, q, c.kernel, { sigma: c.sigma }).predictions;
    const dense = (): tf.Tensor =>
      nadarayaWatson(x, y, q, c.kernel, { sigma: c.sigma, onEmpty: "nearest" }).predictions;
    const w0 = time(windowed);
    const windowedSamples: number[] = [];
    const denseSamples: number[] = [];
    let maxAbsDiff: number | undefined;
    let denseSkipped: string | undefined;
    // A rough estimate first (45 ns/pair, about the slowest dense kernel here), then the warm-up call.
    const estimate = spec.runs * c.n * c.n * 45e-9;
    let runDense = estimate <= spec.budget;
    if (runDense) {
      const d0 = time(dense);
      runDense = d0.seconds * spec.runs <= spec.budget;
      maxAbsDiff = 0;
      for (let i = 0; i < c.n; i++)
        maxAbsDiff = Math.max(maxAbsDiff, Math.abs((w0.out[i] as number) - (d0.out[i] as number)));
      if (!runDense) denseSkipped = `one dense call took ${d0.seconds.toFixed(1)} s`;
    } else denseSkipped = `estimated over the ${spec.budget} s budget`;
    for (let r = 0; r < spec.runs; r++) {
      windowedSamples.push(time(windowed).seconds);
      if (runDense) denseSamples.push(time(dense).seconds);
    }
    rows.push({ ...c, windowedSamples, denseSamples, maxAbsDiff, denseSkipped });
  }
  process.stdout.write(PREFIX + JSON.stringify({ backend: info.name, rows }) + "\n");
}

void main();
