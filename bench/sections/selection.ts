/**
 * Benchmark section "selection": leave-one-out bandwidth selection (`fitBandwidth`) against
 * statsmodels' `KernelReg(bw='cv_ls')`.
 */
import * as path from "node:path";

import { tutorialData, writeCsv } from "../../lib/src/data";
import { type BenchEnv } from "../../scripts/python-env";
import { Worker, type Message } from "../protocol";
import { median, spread, type Results, type SelectionRow } from "../report";
import { type Options, PLAN, nodeWorker, pythonWorker, log, num } from "../common";

export async function selection(
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
      `ours: \`fitBandwidth(x, y)\` with its defaults (a 15-point grid, then quasi-Newton steps on log σ with exact gradients, the Gaussian's loss and gradient from one fused pass per row; ` +
        `${fit.evaluations} loss evaluations at n = ${rows.find((r) => r.ours)!.n}). statsmodels: Nelder-Mead on its Python-loop LOO, from the normal-reference width.`,
    );
  }
  return { date: new Date().toISOString(), runs, statsmodelsRuns: smRuns, rows, notes };
}
