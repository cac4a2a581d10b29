/**
 * Benchmark section "memory": peak memory of a chunked call at large n.
 */
import * as path from "node:path";

import { PROJECT_ROOT as ROOT } from "../../scripts/python-env";
import { PREFIX, type Message } from "../protocol";
import { median, type MemoryRow, type Results } from "../report";
import { type Options, PLAN, SIGMA, log, num, runOnce, TSX } from "../common";

export async function memory(o: Options): Promise<NonNullable<Results["memory"]>> {
  const plan = o.quick ? PLAN.quick : PLAN.full;
  const n = plan.memory;
  const notes: string[] = [];
  const samples: number[] = [];
  let peak = 0;
  let before = 0;
  let backend = "";
  let finite = true;
  for (let r = 0; r < plan.memoryRuns; r++) {
    log(`bench: memory n = m = ${n}: run ${r + 1} of ${plan.memoryRuns} in a fresh process…`);
    const res = await runOnce(
      process.execPath,
      [...TSX, path.join(ROOT, "bench", "workers", "memory.ts"), String(n), String(n), String(SIGMA)],
      process.env,
    );
    const line = res.stdout.split("\n").find((l) => l.startsWith(PREFIX));
    if (res.code !== 0 || line === undefined)
      throw new Error(`bench: memory worker failed (code ${res.code}):\n${res.stderr.slice(-2000)}`);
    const a = JSON.parse(line.slice(PREFIX.length)) as Message;
    samples.push(num(a, "seconds"));
    peak = Math.max(peak, num(a, "peakRss"));
    before = Math.max(before, num(a, "rssBefore"));
    backend = String(a.backend);
    finite &&= a.finite === true;
  }
  const med = median(samples);
  notes.push(
    `${plan.memoryRuns === 1 ? "one run" : `median of ${plan.memoryRuns} runs`} (each ${n.toLocaleString("en-US")}² = ${(n * n).toExponential(0)} pairs); ` +
      `dense, the weight matrix alone would take ${((n * n * 4) / 2 ** 30).toFixed(0)} GiB. Predictions all finite: ${finite ? "yes" : "no"}.`,
  );
  const row: MemoryRow = {
    backend,
    n,
    m: n,
    samples,
    median: med,
    nsPerPair: (med / (n * n)) * 1e9,
    peakRss: peak,
    rssBefore: before,
    finite,
  };
  log(`bench:   ${med.toFixed(1)} s, peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB`);
  return { date: new Date().toISOString(), rows: [row], notes };
}
