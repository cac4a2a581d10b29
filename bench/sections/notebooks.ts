/**
 * Benchmark section "notebooks": the wall time of each notebook through the headless runner.
 */
import * as fs from "node:fs";
import * as path from "node:path";

import { PROJECT_ROOT as ROOT } from "../../scripts/python-env";
import { type NotebookRow, type Results } from "../report";
import { log, runOnce, TSX } from "../common";

export function findNotebooks(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== ".ipynb_checkpoints") out.push(...findNotebooks(full));
    else if (entry.isFile() && entry.name.endsWith(".ipynb")) out.push(full);
  }
  return out.sort();
}

export async function notebooks(): Promise<NonNullable<Results["notebooks"]>> {
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
