/**
 * `npm run bench`: the library against the Python tools its readers use, measured in one run.
 *
 *   npm run bench                      full run; writes bench/results/latest.json and BENCHMARKS.md's tables
 *   npm run bench -- --quick           smoke run on small sizes; writes bench/results/quick.json only
 *   npm run bench -- --only selection  one or more sections (prediction,selection,windowed,memory,notebooks);
 *                                      the others keep their last results in latest.json
 *   options: --runs N, --backends wasm,cpu, --no-torch, --no-python, --no-readme
 *
 * Every measurement runs in a process of its own: one Node process per TensorFlow.js backend
 * (ATTENTION_POOLING_BACKEND), one Python process per baseline, from the pinned `.bench-venv`.
 * Within a section the processes take turns, one timed call each per round, so a burst of load
 * from elsewhere on the machine hits every contender alike; each reports the median of its rounds.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { BACKENDS } from "../lib/src/backend";
import { tutorialData, writeCsv } from "../lib/src/data";
import { ensureBenchEnv, PROJECT_ROOT as ROOT, type BenchEnv } from "../scripts/python-env";
import { PREFIX, Worker, type Message } from "./protocol";
import {
  LATEST,
  median,
  renderMarkdown,
  spread,
  updateBenchmarksDoc,
  type MemoryRow,
  type NotebookRow,
  type PredictionRow,
  type Results,
  type SelectionRow,
  type Target,
  type WindowedRow,
} from "./report";

const SECTIONS = ["prediction", "selection", "windowed", "memory", "notebooks"] as const;
type Section = (typeof SECTIONS)[number];

interface Options {
  quick: boolean;
  runs: number;
  sections: Set<Section>;
  backends: string[] | undefined;
  torch: boolean;
  python: boolean;
  readme: boolean;
}

/** Sizes and budgets of a full run and of the quick smoke run. */
const PLAN = {
  full: {
    prediction: [1024, 4096, 16384],
    selection: [500, 2000],
    memory: 100_000,
    runs: 5,
    statsmodelsRuns: 3,
    memoryRuns: 2,
    windowed: [
      { kernel: "epanechnikov", sigma: 0.3, n: 4096 },
      { kernel: "epanechnikov", sigma: 0.3, n: 16384 },
      { kernel: "epanechnikov", sigma: 0.3, n: 100_000 },
      { kernel: "gaussian", sigma: 0.02, n: 4096 },
      { kernel: "gaussian", sigma: 0.02, n: 16384 },
      { kernel: "gaussian", sigma: 0.14, n: 16384 },
    ],
    windowedRuns: 3,
    /** Longest a backend may spend on one size (warm-up + runs), estimated from the size before. */
    budget: 150,
  },
  quick: {
    prediction: [256, 1024],
    selection: [200],
    memory: 20_000,
    runs: 2,
    statsmodelsRuns: 1,
    memoryRuns: 1,
    windowed: [
      { kernel: "epanechnikov", sigma: 0.3, n: 1024 },
      { kernel: "gaussian", sigma: 0.02, n: 1024 },
    ],
    windowedRuns: 2,
    budget: 20,
  },
} as const;

/** The Gaussian width used for prediction: the tutorial's kernel exp(−x²/2), σ = 1. */
const SIGMA = 1;
const TSX = ["--import", "tsx"];

/**
 * Idle time before each timed call. BLAS and OpenMP worker threads keep spinning for a while
 * after a call returns (OpenBLAS for about 2²⁸ cycles); without a pause they would compete with
 * the next contender's call on a 2-core machine.
 */
const SETTLE_MS = 250;
/** Calls shorter than this (judged by the warm-up call) are timed right after an untimed call. */
const HOT_BELOW_S = 0.5;
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function parseArgs(argv: string[]): Options {
  const o: Options = {
    quick: false,
    runs: 0,
    sections: new Set(SECTIONS),
    backends: undefined,
    torch: true,
    python: true,
    readme: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`bench: ${a} needs a value`);
      return v;
    };
    if (a === "--quick") o.quick = true;
    else if (a === "--runs") o.runs = Number(value());
    else if (a === "--only") {
      const picked = value().split(",");
      for (const s of picked) {
        if (!(SECTIONS as readonly string[]).includes(s))
          throw new Error(`bench: --only takes ${SECTIONS.join(",")}, got ${s}`);
      }
      o.sections = new Set(picked as Section[]);
    } else if (a === "--backends") o.backends = value().split(",");
    else if (a === "--no-torch") o.torch = false;
    else if (a === "--no-python") o.python = false;
    else if (a === "--no-readme") o.readme = false;
    else if (a === "--help" || a === "-h") {
      console.log(fs.readFileSync(__filename, "utf8").split("*/")[0]);
      process.exit(0);
    } else throw new Error(`bench: unknown option ${a} (see --help)`);
  }
  if (!Number.isInteger(o.runs) || o.runs < 0) throw new Error(`bench: --runs must be a positive integer`);
  return o;
}

/** The TensorFlow.js backends that can start here, best first (tfjs-node only when installed). */
function availableBackends(): string[] {
  return BACKENDS.filter((b) => {
    if (b !== "tensorflow") return true;
    try {
      require.resolve("@tensorflow/tfjs-node");
      return true;
    } catch {
      return false;
    }
  });
}

/** The environment for a Python baseline: OpenBLAS's processor overrides removed, in that process only. */
function pythonEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONNOUSERSITE: "1", PYTHONDONTWRITEBYTECODE: "1" };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  return env;
}

function nodeWorker(label: string, script: string, backend?: string): Worker {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (backend) env.ATTENTION_POOLING_BACKEND = backend;
  return new Worker(
    label,
    process.execPath,
    [...TSX, path.join(ROOT, "bench", "workers", script)],
    env,
    ROOT,
  );
}

function pythonWorker(label: string, python: string, script: string, args: string[] = []): Worker {
  return new Worker(label, python, [path.join(ROOT, "bench", "python", script), ...args], pythonEnv(), ROOT);
}

const log = (line: string): void => console.log(line);

/** threadpoolctl's record of the BLAS libraries, in words: "openblas 0.3.31, SkylakeX kernel, 2 threads". */
function describeBlas(blas: unknown): string {
  if (!Array.isArray(blas)) return "unknown";
  const libs = (blas as Array<Record<string, unknown>>).filter((b) => b.user_api === "blas");
  if (libs.length === 0) return "none reported";
  return libs
    .map((b) => {
      const parts = [`${String(b.internal_api)} ${String(b.version ?? "")}`.trim()];
      if (b.architecture) parts.push(`${String(b.architecture)} kernel`);
      parts.push(`${String(b.num_threads)} threads`);
      return parts.join(", ");
    })
    .join("; ");
}
const num = (m: Message, key: string): number => {
  const v = m[key];
  if (typeof v !== "number") throw new Error(`bench: expected a number for ${key}, got ${JSON.stringify(v)}`);
  return v;
};

function readFloat32(file: string): Float32Array {
  const buf = fs.readFileSync(file);
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
  return worst;
}

// ---------------------------------------------------------------------------------------------

interface Contender {
  impl: string;
  label: string;
  ours: boolean;
  worker: Worker;
  /** ns/pair at the last size, to decide whether the next size fits the budget. */
  lastNs?: number;
}

async function prediction(
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
  for (const b of backends) {
    const worker = nodeWorker(`node ${b}`, "predict.ts", b);
    try {
      const info = await worker.request({ op: "info" });
      contenders.push({ impl: b, label: `ours, ${b}`, ours: true, worker });
      machine["TensorFlow.js"] = info.tfjs;
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
    "threads: TensorFlow.js's wasm backend runs on one thread under Node (it enables threads only in browsers); " +
      "numpy's BLAS and PyTorch use every core (see the machine description). Multi-threaded calls suffer most when other " +
      "processes compete for the cores: a parallel step waits for its slowest thread, so their spreads are the widest.",
  );
  notes.push(
    "protocol: each contender's timed call follows a pause of " +
      `${SETTLE_MS} ms (so the previous contender's spinning BLAS or OpenMP threads have gone idle) and, ` +
      `for calls under ${HOT_BELOW_S} s, an untimed call (so its own threads and caches are warm).`,
  );
  notes.push(
    "ours: `nadarayaWatson(keys, values, queries, 'gaussian', { sigma })`, from input tensors to predictions read back; " +
      "it evaluates softmax(log k) in chunks of about 2²² pairs. The Python rows run `k = exp(-d**2 / 2); w = k / k.sum(0); y @ w` on the whole n × m matrix.",
  );
  return { date: new Date().toISOString(), sigma: SIGMA, runs, defaultBackend, rows, notes };
}

// ---------------------------------------------------------------------------------------------

async function selection(
  o: Options,
  env: BenchEnv,
  tmp: string,
  machine: Record<string, unknown>,
): Promise<NonNullable<Results["selection"]>> {
  const plan = o.quick ? PLAN.quick : PLAN.full;
  const runs = o.runs || plan.runs;
  const smRuns = Math.min(runs, plan.statsmodelsRuns);
  const notes: string[] = [];
  const ours = nodeWorker("node select", "select.ts");
  const oursInfo = await ours.request({ op: "info" });
  const oursOk = typeof oursInfo.absent !== "string";
  if (!oursOk) notes.push(`ours: ${String(oursInfo.absent)}`);
  let sm: Worker | undefined;
  if (env.python) {
    sm = pythonWorker("statsmodels", env.python, "select_bw.py");
    const info = await sm.request({ op: "info" });
    if (typeof info.absent !== "string")
      machine.statsmodels = (info.versions as Record<string, string>).statsmodels;
    if (typeof info.absent === "string") {
      notes.push(`statsmodels: absent (${info.absent})`);
      await sm.close();
      sm = undefined;
    } else {
      // Warm up statsmodels' imports and code paths on a small problem before timing.
      const warm = path.join(tmp, "select-warmup.csv");
      const d = tutorialData("bench-select-warmup", 50);
      writeCsv(warm, { x: d.xTrain, y: d.yTrain });
      await sm.request({ op: "load", data: warm });
      await sm.request({ op: "run" });
    }
  } else notes.push("statsmodels not run (--no-python or no Python environment)");

  const rows: SelectionRow[] = [];
  for (const n of plan.selection) {
    const file = path.join(tmp, `select-${n}.csv`);
    const d = tutorialData(`bench-select-${n}`, n);
    writeCsv(file, { x: d.xTrain, y: d.yTrain });
    const oursSamples: number[] = [];
    const smSamples: number[] = [];
    let oursFit: Message | undefined;
    let smFit: Message | undefined;
    if (oursOk) {
      await ours.request({ op: "load", data: file });
      log(`bench: selection n = ${n}: warming up fitBandwidth…`);
      await ours.request({ op: "run" });
    }
    if (sm) await sm.request({ op: "load", data: file });
    for (let r = 0; r < Math.max(runs, smRuns); r++) {
      if (oursOk && r < runs) {
        oursFit = await ours.request({ op: "run" });
        oursSamples.push(num(oursFit, "seconds"));
      }
      if (sm && r < smRuns) {
        log(`bench: selection n = ${n}: statsmodels run ${r + 1} of ${smRuns}…`);
        smFit = await sm.request({ op: "run" });
        smSamples.push(num(smFit, "seconds"));
      }
    }
    const sigmaOurs = oursFit ? ((oursFit.sigma as number[])[0] as number) : undefined;
    const sigmaSm = smFit ? ((smFit.bw as number[])[0] as number) : undefined;
    let crossLoss: SelectionRow["crossLoss"];
    if (sigmaOurs !== undefined && sigmaSm !== undefined && sm) {
      const a = (await ours.request({ op: "loss", sigma: [sigmaOurs, sigmaSm] })).loss as [number, number];
      const b = (await sm.request({ op: "cv", bw: [sigmaOurs, sigmaSm] })).loss as [number, number];
      crossLoss = { oursAt: a, statsmodelsAt: b };
    }
    const row: SelectionRow = {
      n,
      ours:
        oursFit && sigmaOurs !== undefined
          ? {
              samples: oursSamples,
              median: median(oursSamples),
              spread: spread(oursSamples),
              sigma: sigmaOurs,
              loss: num(oursFit, "loss"),
              iterations: num(oursFit, "iterations"),
              evaluations: num(oursFit, "evaluations"),
            }
          : undefined,
      statsmodels:
        smFit && sigmaSm !== undefined
          ? { samples: smSamples, median: median(smSamples), spread: spread(smSamples), sigma: sigmaSm }
          : undefined,
      sigmaRelDiff:
        sigmaOurs !== undefined && sigmaSm !== undefined
          ? Math.abs(sigmaOurs - sigmaSm) / sigmaSm
          : undefined,
      speedup: oursSamples.length && smSamples.length ? median(smSamples) / median(oursSamples) : undefined,
      crossLoss,
    };
    rows.push(row);
    log(
      `bench:   n = ${n}: ours ${row.ours ? `${row.ours.median.toFixed(3)} s, σ = ${row.ours.sigma.toFixed(5)}` : "–"}; ` +
        `statsmodels ${row.statsmodels ? `${row.statsmodels.median.toFixed(2)} s, σ = ${row.statsmodels.sigma.toFixed(5)}` : "–"}`,
    );
  }
  await ours.close();
  await sm?.close();
  const withLoss = rows.filter((r) => r.crossLoss);
  if (withLoss.length) {
    notes.push(
      "LOO loss at (σ ours, σ statsmodels), each side's own implementation: " +
        withLoss
          .map(
            (r) =>
              `n = ${r.n}: ours ${r.crossLoss!.oursAt.map((v) => v.toFixed(6)).join(", ")}; ` +
              `statsmodels ${r.crossLoss!.statsmodelsAt.map((v) => v.toFixed(6)).join(", ")}`,
          )
          .join("; ") +
        ".",
    );
  }
  const fit = rows.find((r) => r.ours)?.ours;
  if (fit) {
    notes.push(
      `ours: \`fitBandwidth(x, y)\` with its defaults (a 15-point grid, then quasi-Newton steps on log σ with autodiff gradients; ` +
        `${fit.evaluations} loss evaluations at n = ${rows.find((r) => r.ours)!.n}). statsmodels: Nelder-Mead on its Python-loop LOO, from the normal-reference width.`,
    );
  }
  return { date: new Date().toISOString(), runs, statsmodelsRuns: smRuns, rows, notes };
}

// ---------------------------------------------------------------------------------------------

function runOnce(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string; seconds: number }> {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", (err) => resolve({ code: 127, stdout, stderr: stderr + err.message, seconds: 0 }));
    child.on("close", (code) =>
      resolve({ code: code ?? 1, stdout, stderr, seconds: Number(process.hrtime.bigint() - start) / 1e9 }),
    );
  });
}

async function windowed(o: Options): Promise<NonNullable<Results["windowed"]>> {
  const plan = o.quick ? PLAN.quick : PLAN.full;
  const runs = o.runs || plan.windowedRuns;
  log(`bench: windowed prediction: ${plan.windowed.length} cases, ${runs} runs each…`);
  const spec = JSON.stringify({ runs, budget: plan.budget / 2, cases: plan.windowed });
  const res = await runOnce(
    process.execPath,
    [...TSX, path.join(ROOT, "bench", "workers", "windowed.ts"), spec],
    process.env,
  );
  const line = res.stdout.split("\n").find((l) => l.startsWith(PREFIX));
  if (res.code !== 0 || line === undefined) {
    throw new Error(`bench: windowed worker failed (code ${res.code}):\n${res.stderr.slice(-2000)}`);
  }
  const answer = JSON.parse(line.slice(PREFIX.length)) as {
    backend: string;
    rows: Array<Record<string, unknown>>;
  };
  const rows: WindowedRow[] = answer.rows.map((r) => {
    const ws = r.windowedSamples as number[];
    const ds = r.denseSamples as number[];
    const wMed = median(ws);
    const dMed = ds.length ? median(ds) : undefined;
    return {
      kernel: String(r.kernel),
      sigma: Number(r.sigma),
      n: Number(r.n),
      windowed: wMed,
      windowedSpread: spread(ws),
      dense: dMed,
      speedup: dMed === undefined ? undefined : dMed / wMed,
      maxAbsDiff: typeof r.maxAbsDiff === "number" ? r.maxAbsDiff : undefined,
      denseSkipped: typeof r.denseSkipped === "string" ? r.denseSkipped : undefined,
    };
  });
  for (const row of rows) {
    log(
      `bench:   ${row.kernel} σ = ${row.sigma}, n = ${row.n}: windowed ${row.windowed.toFixed(3)} s, dense ${row.dense?.toFixed(3) ?? "–"} s`,
    );
  }
  const notes = [
    "keys x ~ U(0, 5) from the tutorial's recipe, queries on a grid over [0, 5]; the Gaussian is truncated at its default tolerance (each prediction within 1e-6 × the value range of the full sum).",
    "compact kernels go through a moment tree, O((n + m) log n); the Gaussian sums its window, about 2σ√(2 ln(n/ε)) wide, key by key in JavaScript, so it gains only when that window is a small part of the keys' range.",
  ];
  return { date: new Date().toISOString(), runs, backend: answer.backend, rows, notes };
}

async function memory(o: Options): Promise<NonNullable<Results["memory"]>> {
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

// ---------------------------------------------------------------------------------------------

function findNotebooks(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== ".ipynb_checkpoints") out.push(...findNotebooks(full));
    else if (entry.isFile() && entry.name.endsWith(".ipynb")) out.push(full);
  }
  return out.sort();
}

async function notebooks(): Promise<NonNullable<Results["notebooks"]>> {
  const notes: string[] = [];
  const date = new Date().toISOString();
  const found = findNotebooks(path.join(ROOT, "notebooks"));
  const runner = path.join(ROOT, "scripts", "notebooks.ts");
  if (found.length === 0) {
    notes.push(
      "no notebooks in notebooks/ yet; this section measures whatever notebooks/**/*.ipynb holds when it runs",
    );
    return { date, rows: [], notes };
  }
  if (!fs.existsSync(runner)) {
    notes.push(`${found.length} notebooks found but no runner (scripts/notebooks.ts) yet; not measured`);
    return { date, rows: [], notes };
  }
  log(`bench: notebooks: running ${found.length} through the notebook runner (--check)…`);
  // The runner prepares its environment first; do that outside the timing.
  await runOnce(process.execPath, [...TSX, path.join(ROOT, "scripts", "python-env.ts")], process.env);
  const rows: NotebookRow[] = [];
  const res = await runOnce(process.execPath, [...TSX, runner, "--check"], process.env);
  for (const line of res.stdout.split("\n")) {
    const hit = /^(ok|wrote|FAILED)\s+(\S+\.ipynb)(?:.*?([\d.]+) s\))?/.exec(line);
    if (hit)
      rows.push({
        notebook: hit[2] as string,
        seconds: hit[3] ? Number(hit[3]) : undefined,
        ok: hit[1] !== "FAILED",
      });
  }
  const failed = rows.filter((r) => !r.ok).length;
  if (res.code !== 0)
    notes.push(
      `the runner exited with code ${res.code}${failed ? ` (${failed} notebook(s) failed their check)` : ""}`,
    );
  const total = rows.reduce((s, r) => s + (r.seconds ?? 0), 0);
  notes.push(
    `per-notebook times are the runner's own (kernel start to last cell, one run each); the whole command took ${res.seconds.toFixed(1)} s, ` +
      `including its set-up checks`,
  );
  log(
    `bench:   ${rows.length} notebooks, ${total.toFixed(1)} s in notebooks, ${res.seconds.toFixed(1)} s wall`,
  );
  return { date, rows, total: rows.length ? total : undefined, wall: res.seconds, notes };
}

// ---------------------------------------------------------------------------------------------

function describeMachine(env: BenchEnv): Record<string, unknown> {
  const cpus = os.cpus();
  let model = cpus[0]?.model?.trim() ?? "unknown";
  try {
    const info = fs.readFileSync("/proc/cpuinfo", "utf8");
    const flags = /^flags\s*:(.*)$/m.exec(info)?.[1] ?? "";
    const simd = ["avx512f", "avx2", "neon"].filter((f) => flags.split(" ").includes(f));
    if (simd.length) model += ` (${simd.join(", ")})`;
  } catch {
    // Not Linux: the model name alone.
  }
  return {
    CPU: model,
    cores: cpus.length,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`,
    OS: `${os.type()} ${os.release()} ${os.arch()}`,
    Node: process.version,
    Python: env.version ?? "absent",
    "load average at start (1, 5, 15 min)": os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(", "),
  };
}

function targets(r: Results): Target[] {
  const out: Target[] = [];
  const p = r.prediction;
  const at = (impl: string | undefined, n: number): PredictionRow | undefined =>
    p?.rows.find((row) => row.impl === impl && row.n === n && !row.skipped);
  const ours = at(p?.defaultBackend, 4096);
  const numpy = at("numpy", 4096);
  const speed = ours?.nsPerPair && numpy?.nsPerPair ? numpy.nsPerPair / ours.nsPerPair : undefined;
  out.push({
    name: `prediction, default backend (${p?.defaultBackend ?? "?"}), n = m = 4096`,
    goal: "≥ 2× faster than numpy's dense formula",
    measured:
      speed === undefined
        ? "not measured"
        : `${speed.toFixed(2)}× on medians (${ours!.nsPerPair!.toFixed(2)} vs ${numpy!.nsPerPair!.toFixed(2)} ns/pair); ` +
          `${(Math.min(...numpy!.samples) / Math.min(...ours!.samples)).toFixed(2)}× on the fastest runs`,
    met: speed === undefined ? undefined : speed >= 2,
  });
  const s = r.selection?.rows.find((row) => row.n === 2000);
  out.push({
    name: "bandwidth selection, n = 2000",
    goal: "≥ 10× faster than statsmodels, σ within 2%",
    measured:
      s?.speedup === undefined || s.sigmaRelDiff === undefined
        ? "not measured"
        : `${s.speedup.toFixed(1)}×, σ differs by ${(100 * s.sigmaRelDiff).toFixed(2)}%`,
    met:
      s?.speedup === undefined || s.sigmaRelDiff === undefined
        ? undefined
        : s.speedup >= 10 && s.sigmaRelDiff <= 0.02,
  });
  const mem = r.memory?.rows.find((row) => row.n >= 100_000);
  out.push({
    name: "memory, n = m = 100 000",
    goal: "peak RSS < 1 GB",
    measured: mem ? `${(mem.peakRss / 1e9).toFixed(2)} GB (${mem.median.toFixed(1)} s)` : "not measured",
    met: mem ? mem.peakRss < 1e9 : undefined,
  });
  const nb = r.notebooks;
  out.push({
    name: "notebook suite",
    goal: "< 3 minutes in total",
    measured:
      nb?.total === undefined ? "not measured" : `${nb.total.toFixed(1)} s over ${nb.rows.length} notebooks`,
    met: nb?.total === undefined ? undefined : nb.total < 180,
  });
  return out;
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const wantPython = o.python && (o.sections.has("prediction") || o.sections.has("selection"));
  const env: BenchEnv = wantPython
    ? await ensureBenchEnv(o.torch && o.sections.has("prediction"), log)
    : { torch: false, problems: [] };
  for (const p of env.problems) console.warn(`bench: ${p}`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "attention-pooling-bench-"));
  const outFile = o.quick ? path.join(path.dirname(LATEST), "quick.json") : LATEST;
  let previous: Partial<Results> = {};
  if (!o.quick && o.sections.size < SECTIONS.length && fs.existsSync(LATEST)) {
    previous = JSON.parse(fs.readFileSync(LATEST, "utf8")) as Results;
  }
  const machine: Record<string, unknown> = { ...(previous.machine ?? {}), ...describeMachine(env) };
  const results: Results = {
    schema: 1,
    date: new Date().toISOString(),
    mode: o.quick ? "quick" : "full",
    machine,
    notes: [...env.problems],
    prediction: previous.prediction,
    selection: previous.selection,
    windowed: previous.windowed,
    memory: previous.memory,
    notebooks: previous.notebooks,
  };
  try {
    if (o.sections.has("prediction")) results.prediction = await prediction(o, env, tmp, machine);
    if (o.sections.has("selection")) results.selection = await selection(o, env, tmp, machine);
    if (o.sections.has("windowed")) results.windowed = await windowed(o);
    if (o.sections.has("memory")) results.memory = await memory(o);
    if (o.sections.has("notebooks")) {
      results.notebooks = o.quick
        ? {
            date: new Date().toISOString(),
            rows: [],
            notes: ["not run in --quick mode (run --only notebooks)"],
          }
        : await notebooks();
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  if (o.sections.size < SECTIONS.length && !o.quick) {
    results.notes.push(
      `this run measured ${[...o.sections].join(", ")}; other sections are from earlier runs (see their dates in latest.json)`,
    );
  }
  machine["load average at end (1, 5, 15 min)"] = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(", ");
  results.targets = targets(results);
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  fs.writeFileSync(outFile, JSON.stringify(results, null, 2) + "\n");
  console.log("\n" + renderMarkdown(results).join("\n") + "\n");
  console.log(`bench: results written to ${path.relative(process.cwd(), outFile)}`);
  if (!o.quick && o.readme) {
    if (await updateBenchmarksDoc(results)) console.log("bench: BENCHMARKS.md updated");
    else console.warn("bench: BENCHMARKS.md has no benchmark markers; not updated");
  }
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
