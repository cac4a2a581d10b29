/**
 * Benchmark section "kernels": every built-in kernel's Nadaraya-Watson next to the Gaussian's, on
 * every backend, at one size, in one interleaved run.
 *
 * Each backend runs `nadarayaWatson` as a user calls it (fused where the backend has a fused
 * kernel, see `fusedKernelInfo`) and, where that differs, with a `chunkSize`, which pools densely
 * with tfjs ops. Every (backend, kernel, path) takes one timed call per round, all of them in turn,
 * so load from elsewhere falls on all alike; the ratio to the Gaussian compares medians on the same
 * backend and path.
 */
import * as path from "node:path";

import { tutorialData, writeCsv } from "../../lib/src/data";
import { KERNEL_NAMES } from "../../lib/src/kernels";
import { Worker } from "../protocol";
import { median, spread, type KernelRow, type Results } from "../report";
import {
  type Options,
  PLAN,
  SIGMA,
  HOT_BELOW_S,
  pause,
  availableBackends,
  nodeWorker,
  log,
  num,
} from "../common";

/** Idle time before each timed call: short, as our workers leave no BLAS threads spinning. */
const SETTLE_KERNELS_MS = 60;

export async function kernels(o: Options, tmp: string): Promise<NonNullable<Results["kernels"]>> {
  const plan = o.quick ? PLAN.quick : PLAN.full;
  const runs = o.runs || plan.runs;
  const n = plan.kernels;
  const notes: string[] = [];
  const data = tutorialData(`bench-predict-${n}`, n);
  const keysFile = path.join(tmp, `kernels-keys-${n}.csv`);
  const queriesFile = path.join(tmp, `kernels-queries-${n}.csv`);
  writeCsv(keysFile, { x: data.xTrain, y: data.yTrain });
  writeCsv(queriesFile, { q: Array.from({ length: n }, (_, i) => +((5 * i) / n).toFixed(6)) });

  interface Contender {
    backend: string;
    kernel: string;
    path: "default" | "tfjs ops";
    worker: Worker;
    id: string;
    warmup: number;
    samples: number[];
  }
  const workers: Worker[] = [];
  const contenders: Contender[] = [];
  const fused: Record<string, { available: boolean; detail: string }> = {};
  for (const backend of o.backends ?? availableBackends()) {
    const worker = nodeWorker(`node ${backend} kernels`, "predict.ts", backend);
    try {
      const info = await worker.request({ op: "info" });
      fused[backend] = info.fused as { available: boolean; detail: string };
    } catch (err) {
      notes.push(`backend ${backend} could not start: ${(err as Error).message.split("\n")[0]}`);
      await worker.close();
      continue;
    }
    workers.push(worker);
    // The cpu backend's tfjs ops take about 300 ns per pair: at 4096² that is 5 s a call, nine kernels
    // times six calls, so that path is left out there (it is the path of returnWeights and chunkSize).
    const paths: Array<Contender["path"]> =
      fused[backend]?.available && backend !== "cpu" ? ["default", "tfjs ops"] : ["default"];
    if (backend === "cpu" && fused[backend]?.available)
      notes.push("cpu, tfjs ops: not timed here (about 300 ns per pair at 4096², 5 s a call).");
    for (const kernel of KERNEL_NAMES) {
      for (const which of paths) {
        const id = `${kernel}/${which}`;
        log(`bench: kernels n = m = ${n}: loading ${backend} ${kernel} (${which})…`);
        const loaded = await worker.request({
          op: "load",
          id,
          keys: keysFile,
          queries: queriesFile,
          sigma: SIGMA,
          kernel,
          dense: which === "tfjs ops",
          out: path.join(tmp, `kernels-${backend}-${kernel}-${which === "default" ? "default" : "ops"}.f32`),
        });
        contenders.push({
          backend,
          kernel,
          path: which,
          worker,
          id,
          warmup: num(loaded, "warmup"),
          samples: [],
        });
      }
    }
  }
  for (let r = 0; r < runs; r++) {
    log(`bench: kernels round ${r + 1} of ${runs}…`);
    for (const c of contenders) {
      await pause(SETTLE_KERNELS_MS);
      if (c.warmup < HOT_BELOW_S) await c.worker.request({ op: "run", id: c.id });
      c.samples.push(num(await c.worker.request({ op: "run", id: c.id }), "seconds"));
    }
  }
  await Promise.all(workers.map((w) => w.close()));

  const rows: KernelRow[] = contenders.map((c) => {
    const gaussian = contenders.find(
      (g) => g.backend === c.backend && g.path === c.path && g.kernel === "gaussian",
    );
    const med = median(c.samples);
    return {
      backend: c.backend,
      kernel: c.kernel,
      path: c.path,
      n,
      m: n,
      samples: c.samples,
      median: med,
      nsPerPair: (med / (n * n)) * 1e9,
      spread: spread(c.samples),
      vsGaussian: gaussian ? med / median(gaussian.samples) : undefined,
    };
  });
  for (const row of rows) {
    if (row.path === "default") {
      log(
        `bench:   ${row.backend.padEnd(10)} ${row.kernel.padEnd(12)} ${row.nsPerPair.toFixed(2).padStart(8)} ns/pair` +
          ` (${row.vsGaussian?.toFixed(2)}× the Gaussian)`,
      );
    }
  }
  for (const [backend, info] of Object.entries(fused)) {
    notes.push(`${backend}: ${info.available ? info.detail : `dense tfjs ops; ${info.detail}`}.`);
  }
  notes.push(
    `data: the prediction section's (tutorial recipe, keys on [0, 5], m = n queries on a grid), σ = ${SIGMA} for every kernel, ` +
      'so no query is empty. "default" is `nadarayaWatson(keys, values, queries, kernel, { sigma })`; "tfjs ops" adds ' +
      "`chunkSize` (about 2²² pairs per chunk), which pools densely with tfjs ops: the path of `returnWeights`, " +
      "`attentionWeights` and kernels of one's own.",
  );
  notes.push(
    `protocol: every (backend, kernel, path) takes one timed call per round in turn, after a pause of ${SETTLE_KERNELS_MS} ms ` +
      `and, for calls under ${HOT_BELOW_S} s, an untimed call; × Gaussian is the ratio of medians on the same backend and path.`,
  );
  return { date: new Date().toISOString(), sigma: SIGMA, runs, n, rows, notes };
}
