/**
 * Benchmark section "windowed": the windowed 1-D path against the dense path.
 */
import * as path from "node:path";

import { PROJECT_ROOT as ROOT } from "../../scripts/python-env";
import { PREFIX } from "../protocol";
import { median, spread, type Results, type WindowedRow } from "../report";
import { type Options, PLAN, log, runOnce, TSX } from "../common";

export async function windowed(o: Options): Promise<NonNullable<Results["windowed"]>> {
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
