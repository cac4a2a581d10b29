/**
 * Memory worker for `npm run bench`: one large prediction, n keys × m queries, evaluated by
 * `nadarayaWatson` in its default chunks, in a fresh process so that its peak resident set size
 * (`process.resourceUsage().maxRSS`) belongs to this prediction alone.
 *
 *   node --import tsx bench/workers/memory.ts <n> <m> [sigma]
 *
 * Prints one answer line: seconds, peak RSS before and after the prediction (bytes), and a
 * checksum of the predictions.
 */
import { initBackend, nadarayaWatson, seededRandom, tf, trueFunction } from "../../lib/src/index";
import { PREFIX, since } from "../protocol";

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 100_000);
  const m = Number(process.argv[3] ?? n);
  const sigma = Number(process.argv[4] ?? 1);
  const info = await initBackend({ quiet: true });
  // The tutorial's recipe at n keys: x ~ U(0, 5), y = 2 sin x + x + N(0, 1); queries on a grid.
  const rng = seededRandom(`bench-memory-${n}`);
  const x = Float32Array.from({ length: n }, () => rng.uniform() * 5);
  const y = x.map((v) => trueFunction(v) + rng.normal());
  const q = Float32Array.from({ length: m }, (_, i) => (5 * i) / m);
  const keys = tf.tensor1d(x);
  const values = tf.tensor1d(y);
  const queries = tf.tensor1d(q);
  const rssBefore = process.resourceUsage().maxRSS * 1024;
  const start = process.hrtime.bigint();
  const { predictions } = nadarayaWatson(keys, values, queries, "gaussian", { sigma });
  const out = predictions.dataSync();
  const seconds = since(start);
  const peakRss = process.resourceUsage().maxRSS * 1024;
  let sum = 0;
  let finite = true;
  for (const v of out) {
    sum += v;
    if (!Number.isFinite(v)) finite = false;
  }
  tf.dispose([predictions, keys, values, queries]);
  process.stdout.write(
    PREFIX +
      JSON.stringify({
        backend: info.name,
        n,
        m,
        sigma,
        seconds,
        rssBefore,
        peakRss,
        mean: sum / m,
        finite,
      }) +
      "\n",
  );
}

void main();
