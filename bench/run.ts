/**
 * `npm run bench`: the library against the Python tools its readers use, measured in one run.
 *
 *   npm run bench                      full run; writes bench/results/latest.json and BENCHMARKS.md's tables
 *   npm run bench -- --quick           smoke run on small sizes; writes bench/results/quick.json only
 *   npm run bench -- --only selection  one or more sections (prediction,kernels,selection,windowed,memory,notebooks);
 *                                      the others keep their last results in latest.json
 *   options: --runs N, --backends wasm,cpu, --no-torch, --no-python, --no-readme
 *
 * Every measurement runs in a process of its own: one Node process per TensorFlow.js backend
 * (ATTENTION_POOLING_BACKEND), one Python process per baseline, from the pinned `.bench-venv`.
 * Within a section the processes take turns, one timed call each per round, so a burst of load
 * from elsewhere on the machine hits every contender alike; each reports the median of its rounds.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { KERNEL_NAMES } from "../lib/src/kernels";
import { ensureBenchEnv, type BenchEnv } from "../scripts/python-env";
import {
  LATEST,
  renderMarkdown,
  updateBenchmarksDoc,
  type KernelRow,
  type PredictionRow,
  type Results,
  type Target,
} from "./report";
import { log, type Options, SECTIONS, type Section } from "./common";
import { describeMachine } from "./machine";
import { kernels } from "./sections/kernels";
import { memory } from "./sections/memory";
import { notebooks } from "./sections/notebooks";
import { prediction } from "./sections/prediction";
import { selection } from "./sections/selection";
import { windowed } from "./sections/windowed";

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

function targets(r: Results): Target[] {
  const out: Target[] = [];
  const p = r.prediction;
  const at = (impl: string | undefined, n: number): PredictionRow | undefined =>
    p?.rows.find((row) => row.impl === impl && row.n === n && !row.skipped);
  const fastest = (row: PredictionRow): number => Math.min(...row.samples);

  // Issue 15: every kernel within 1.5× of the Gaussian on each backend (the default path).
  const k = r.kernels;
  const defaults = k?.rows.filter((row) => row.path === "default") ?? [];
  const backends = [...new Set(defaults.map((row) => row.backend))];
  const worst = backends.map((backend) => {
    const rows = defaults.filter(
      (row) => row.backend === backend && row.kernel !== "gaussian" && row.vsGaussian !== undefined,
    );
    const top = rows.reduce<KernelRow | undefined>(
      (a, b) => (a === undefined || (b.vsGaussian as number) > (a.vsGaussian as number) ? b : a),
      undefined,
    );
    return { backend, top, count: rows.length };
  });
  out.push({
    name: `every kernel vs the Gaussian, n = m = ${k?.n ?? 4096}, per backend`,
    goal: "each within 1.5× of the Gaussian's time on the same backend",
    measured:
      worst.length === 0
        ? "not measured"
        : worst
            .map(
              (w) => `${w.backend}: slowest ${w.top?.kernel ?? "?"} ${w.top?.vsGaussian?.toFixed(2) ?? "?"}×`,
            )
            .join("; "),
    met:
      worst.length === 0
        ? undefined
        : worst.every((w) => w.count === KERNEL_NAMES.length - 1 && (w.top?.vsGaussian ?? Infinity) <= 1.5),
  });

  const ours = at(p?.defaultBackend, 4096);
  const numpy = at("numpy", 4096);
  const share = ours?.nsPerPair && numpy?.nsPerPair ? ours.nsPerPair / numpy.nsPerPair : undefined;
  out.push({
    name: `Gaussian prediction, default backend (${p?.defaultBackend ?? "?"}), n = m = 4096`,
    goal: "≤ 0.25× numpy's dense float32 time",
    measured:
      share === undefined
        ? "not measured"
        : `${share.toFixed(3)}× on medians (${ours!.nsPerPair!.toFixed(2)} vs ${numpy!.nsPerPair!.toFixed(2)} ns/pair); ` +
          `${(fastest(ours!) / fastest(numpy!)).toFixed(3)}× on the fastest runs`,
    met: share === undefined ? undefined : share <= 0.25,
  });

  // Issue 14: tensorflow at least twice as fast as wasm, all three backends listed.
  const tfRow = at("tensorflow", 4096);
  const wasmRow = at("wasm", 4096);
  const listed = ["tensorflow", "wasm", "cpu"].filter((b) =>
    p?.rows.some((row) => row.impl === b && row.n === 4096),
  );
  const speedup = tfRow?.nsPerPair && wasmRow?.nsPerPair ? wasmRow.nsPerPair / tfRow.nsPerPair : undefined;
  out.push({
    name: "Gaussian prediction, tensorflow vs wasm, n = m = 4096",
    goal: "tensorflow ≥ 2× faster than wasm, with tensorflow, wasm and cpu listed",
    measured:
      speedup === undefined
        ? `not measured (backends at 4096: ${listed.join(", ") || "none"})`
        : `${speedup.toFixed(2)}× on medians (${tfRow!.nsPerPair!.toFixed(2)} vs ${wasmRow!.nsPerPair!.toFixed(2)} ns/pair), ` +
          `${(fastest(wasmRow!) / fastest(tfRow!)).toFixed(2)}× on the fastest runs; listed: ${listed.join(", ")}`,
    met: speedup === undefined ? undefined : speedup >= 2 && listed.length === 3,
  });

  const s = r.selection?.rows.find((row) => row.n === 2000);
  out.push({
    name: "bandwidth selection, n = 2000",
    goal: "≥ 20× faster than statsmodels' cv_ls, σ within 1%",
    measured:
      s?.speedup === undefined || s.sigmaRelDiff === undefined
        ? "not measured"
        : `${s.speedup.toFixed(1)}×, σ differs by ${(100 * s.sigmaRelDiff).toFixed(2)}%`,
    met:
      s?.speedup === undefined || s.sigmaRelDiff === undefined
        ? undefined
        : s.speedup >= 20 && s.sigmaRelDiff <= 0.01,
  });
  const mem = r.memory?.rows.find((row) => row.n >= 100_000);
  out.push({
    name: "memory, n = m = 100 000",
    goal: "peak RSS < 1 GB",
    measured: mem ? `${(mem.peakRss / 1e9).toFixed(2)} GB (${mem.median.toFixed(1)} s)` : "not measured",
    met: mem ? mem.peakRss < 1e9 : undefined,
  });
  const nb = r.notebooks;
  const slowest = nb?.rows.reduce<(typeof nb.rows)[number] | undefined>(
    (a, row) => ((row.seconds ?? -1) > (a?.seconds ?? -1) ? row : a),
    undefined,
  );
  const timedAll =
    nb !== undefined && nb.rows.length > 0 && nb.rows.every((row) => row.seconds !== undefined);
  out.push({
    name: "notebook suite (wasm)",
    goal: "≤ 30 s with --check, no notebook over 15 s",
    measured:
      nb?.wall === undefined || slowest?.seconds === undefined
        ? "not measured"
        : `${nb.wall.toFixed(1)} s for ${nb.rows.length} notebooks (${nb.jobs ?? 1} at a time); slowest alone ` +
          `${path.basename(slowest.notebook, ".ipynb")} ${slowest.seconds.toFixed(1)} s`,
    met:
      nb?.wall === undefined || slowest?.seconds === undefined
        ? undefined
        : timedAll && nb.rows.every((row) => row.ok) && nb.wall <= 30 && slowest.seconds <= 15,
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
    kernels: previous.kernels,
    selection: previous.selection,
    windowed: previous.windowed,
    memory: previous.memory,
    notebooks: previous.notebooks,
  };
  try {
    if (o.sections.has("prediction")) results.prediction = await prediction(o, env, tmp, machine);
    if (o.sections.has("kernels")) results.kernels = await kernels(o, tmp);
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
