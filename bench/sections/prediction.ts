/**
 * Benchmark section "prediction": dense Nadaraya-Watson on every backend against numpy, PyTorch and
 * scikit-learn baselines, per kernel and size.
 */
import * as path from "node:path";

import { tutorialData, writeCsv } from "../../lib/src/data";
import { type BenchEnv } from "../../scripts/python-env";
import { Worker } from "../protocol";
import { median, spread, type PredictionRow, type Results } from "../report";
import {
  type Options,
  PLAN,
  SIGMA,
  SETTLE_MS,
  HOT_BELOW_S,
  pause,
  availableBackends,
  nodeWorker,
  pythonWorker,
  log,
  describeBlas,
  num,
  readFloat32,
  maxAbsDiff,
} from "../common";

export interface Contender {
  impl: string;
  label: string;
  ours: boolean;
  worker: Worker;
  /** ns/pair at the last size, to decide whether the next size fits the budget. */
  lastNs?: number;
}

export async function prediction(
  o: Options,
  env: BenchEnv,
  tmp: string,
  machine: Record<string, unknown>,
): Promise<NonNullable<Results["prediction"]>> {
  const plan = o.quick ? PLAN.quick : PLAN.full;
  const runs = o.runs || plan.runs;
  const notes: string[] = [];
  const backends = o.backends ?? availableBackends();
  const contenders: Contender[] = [];
  const fusedNotes: string[] = [];
  for (const b of backends) {
    const worker = nodeWorker(`node ${b}`, "predict.ts", b);
    try {
      const info = await worker.request({ op: "info" });
      contenders.push({ impl: b, label: `ours, ${b}`, ours: true, worker });
      machine["TensorFlow.js"] = info.tfjs;
      const fused = info.fused as { available: boolean; detail: string } | undefined;
      if (fused)
        fusedNotes.push(`${b}: ${fused.available ? fused.detail : `dense tfjs ops (${fused.detail})`}`);
    } catch (err) {
      notes.push(`backend ${b} could not start: ${(err as Error).message.split("\n")[0]}`);
      await worker.close();
    }
  }
  if (env.python) {
    const baselines: Array<[string, string]> = [["numpy", "numpy float32, tutorial formula"]];
    if (env.torch && o.torch) baselines.push(["torch", "PyTorch CPU float32, tutorial formula"]);
    else if (!o.torch) notes.push("PyTorch: not run (--no-torch)");
    else notes.push("PyTorch: absent (not installed in .bench-venv; see the setup messages)");
    for (const [impl, label] of baselines) {
      const worker = pythonWorker(impl, env.python, "predict.py", [impl]);
      const info = await worker.request({ op: "info" });
      if (typeof info.absent === "string") {
        notes.push(`${label}: absent (${info.absent})`);
        await worker.close();
        continue;
      }
      contenders.push({ impl, label, ours: false, worker });
      const versions = info.versions as Record<string, string>;
      if (impl === "torch") machine.PyTorch = `${versions.torch} (CPU only, ${String(info.threads)} threads)`;
      if (impl === "numpy") {
        machine.numpy = versions.numpy;
        machine["numpy BLAS (threadpoolctl)"] = describeBlas(info.blas);
        machine["OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE"] =
          ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"].filter((k) => process.env[k] !== undefined).length > 0
            ? `set on this machine (${["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"].map((k) => `${k}=${process.env[k] ?? "unset"}`).join(", ")}); unset for the Python baselines`
            : "not set on this machine";
      }
    }
  } else notes.push("Python baselines not run (--no-python or no Python environment)");

  const defaultBackend = contenders.find((c) => c.ours)?.impl ?? "none";
  const rows: PredictionRow[] = [];
  for (const n of plan.prediction) {
    const m = n;
    const data = tutorialData(`bench-predict-${n}`, n);
    const keysFile = path.join(tmp, `keys-${n}.csv`);
    const queriesFile = path.join(tmp, `queries-${m}.csv`);
    writeCsv(keysFile, { x: data.xTrain, y: data.yTrain });
    writeCsv(queriesFile, { q: Array.from({ length: m }, (_, i) => +((5 * i) / m).toFixed(6)) });
    const active: Array<{ c: Contender; samples: number[]; warmup: number; out: string }> = [];
    const sizeRows = new Map<Contender, PredictionRow>();
    const skip = (c: Contender, why: string): void => {
      sizeRows.set(c, { impl: c.impl, label: c.label, ours: c.ours, n, m, samples: [], skipped: why });
      c.lastNs = Number.POSITIVE_INFINITY;
    };
    for (const c of contenders) {
      if (c.lastNs === Number.POSITIVE_INFINITY) {
        skip(c, "a smaller size was already over budget");
        continue;
      }
      if (c.lastNs !== undefined) {
        const estimate = Math.round(c.lastNs * 1e-9 * n * m * (runs + 1));
        if (estimate > plan.budget) {
          skip(
            c,
            `about ${estimate} s for ${runs + 1} calls at ${c.lastNs.toFixed(0)} ns/pair, over the ${plan.budget} s budget`,
          );
          continue;
        }
      }
      const out = path.join(tmp, `pred-${c.impl}-${n}.f32`);
      log(`bench: prediction n = m = ${n}: loading and warming up ${c.label}…`);
      const loaded = await c.worker.request({
        op: "load",
        keys: keysFile,
        queries: queriesFile,
        sigma: SIGMA,
        out,
      });
      const warmup = num(loaded, "warmup");
      // Short calls get a second untimed call, so JIT compilation and first-use set-up are done.
      if (warmup < 1) await c.worker.request({ op: "run" });
      active.push({ c, samples: [], warmup, out });
    }
    for (let r = 0; r < runs; r++) {
      for (const a of active) {
        await pause(SETTLE_MS);
        // A short call is preceded by an untimed one, so the timed call finds the library's
        // threads awake and its caches warm, as in a loop of calls (long calls amortise that).
        if (a.warmup < HOT_BELOW_S) await a.c.worker.request({ op: "run" });
        a.samples.push(num(await a.c.worker.request({ op: "run" }), "seconds"));
      }
    }
    const reference = active.find((a) => a.c.impl === "numpy") ?? active[0];
    const ref = reference ? readFloat32(reference.out) : undefined;
    for (const a of active) {
      const med = median(a.samples);
      const ns = (med / (n * m)) * 1e9;
      a.c.lastNs = ns;
      sizeRows.set(a.c, {
        impl: a.c.impl,
        label: a.c.label,
        ours: a.c.ours,
        n,
        m,
        samples: a.samples,
        warmup: a.warmup,
        median: med,
        nsPerPair: ns,
        spread: spread(a.samples),
        maxAbsDiff: ref && a !== reference ? maxAbsDiff(readFloat32(a.out), ref) : undefined,
      });
      const noise = (100 * spread(a.samples)).toFixed(0);
      log(`bench:   ${a.c.label.padEnd(40)} ${ns.toFixed(2).padStart(8)} ns/pair (spread ${noise}%)`);
    }
    for (const c of contenders) {
      const row = sizeRows.get(c);
      if (row) rows.push(row);
    }
  }
  await Promise.all(contenders.map((c) => c.worker.close()));
  const noisy = rows.filter((r) => (r.spread ?? 0) > 0.5).length;
  if (noisy > 0) {
    notes.push(
      `${noisy} of ${rows.filter((r) => !r.skipped).length} rows have a spread above 50%: other work was competing for the cores ` +
        "(see the load averages below). The contenders took turns call by call, so each round's disturbance fell on all of them; " +
        "compare the best runs as well as the medians.",
    );
  }
  const ref = contenders.some((c) => c.impl === "numpy") ? "numpy's" : `the ${defaultBackend} backend's`;
  notes.push(
    `max abs diff: largest difference from ${ref} predictions on the same data (values ≈ 0–7, float32), a check that all compute the same thing.`,
  );
  notes.push(
    "threads: the wasm backend and its fused module run on one thread under Node (TensorFlow.js enables wasm threads only " +
      "in browsers); the fused TensorFlow op uses one thread per core, handing out rows as threads become free; numpy's " +
      "BLAS and PyTorch use every core (see the machine description). Multi-threaded calls suffer most when other " +
      "processes compete for the cores, so their spreads are the widest.",
  );
  notes.push(
    "protocol: each contender's timed call follows a pause of " +
      `${SETTLE_MS} ms (so the previous contender's spinning BLAS or OpenMP threads have gone idle) and, ` +
      `for calls under ${HOT_BELOW_S} s, an untimed call (so its own threads and caches are warm).`,
  );
  notes.push(
    "ours: `nadarayaWatson(keys, values, queries, 'gaussian', { sigma })`, from input tensors to predictions read back: " +
      "one fused pass over the keys per query where the backend has a fused kernel (no n × m matrix in memory), else " +
      "tfjs ops in chunks of about 2²² pairs. Here: " +
      fusedNotes.join("; ") +
      ". The Python rows run `k = exp(-d**2 / 2); w = k / k.sum(0); y @ w` on the whole n × m matrix.",
  );
  return { date: new Date().toISOString(), sigma: SIGMA, runs, defaultBackend, rows, notes };
}
