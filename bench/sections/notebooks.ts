/**
 * Benchmark section "notebooks": the wall time of every notebook in notebooks/ through the headless
 * runner (`npm run notebooks -- --check`), and of the whole suite. The runner writes each notebook's
 * result to a JSON report (`--report`); every notebook found here gets a row, including one the
 * runner failed or never reported.
 */
import * as fs from "node:fs";
import * as os from "node:os";
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

/** What the runner's `--report` file holds. */
interface RunnerReport {
  readonly jobs: number;
  readonly backend: string;
  /** The suite's wall time: from the first notebook's start to the last one's result. */
  readonly seconds: number;
  readonly notebooks: {
    notebook: string;
    ok: boolean;
    seconds: number | null;
    cpu: number | null;
    message: string;
  }[];
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
  // The runner prepares its environment first; do that outside the timing.
  await runOnce(process.execPath, [...TSX, path.join(ROOT, "scripts", "python-env.ts")], process.env);
  // Two passes: each notebook alone (what a learner waits for with Run All), then the suite as
  // `npm run notebooks -- --check` runs it by default, several notebooks at once.
  log(`bench: notebooks: running ${found.length} through the notebook runner (--check), one at a time…`);
  const alone = await runSuite(runner, ["--jobs", "1"], notes, "one at a time");
  log(`bench: notebooks: the suite again, with the runner's default number at a time…`);
  const suite = await runSuite(runner, [], notes, "the suite");
  const byName = new Map((alone.report?.notebooks ?? []).map((r) => [r.notebook, r]));
  const inSuite = new Map((suite.report?.notebooks ?? []).map((r) => [r.notebook, r]));
  const rows: NotebookRow[] = found.map((file) => {
    const notebook = path.relative(ROOT, file).split(path.sep).join("/");
    const r = byName.get(notebook);
    const s = inSuite.get(notebook);
    if (s !== undefined && !s.ok) notes.push(`${notebook} failed in the suite: ${s.message.split("\n")[0]}`);
    if (r === undefined) {
      notes.push(`${notebook}: no result from the runner (one at a time)`);
      return { notebook, ok: false, suiteSeconds: s?.seconds ?? undefined };
    }
    if (!r.ok) notes.push(`${notebook} failed: ${r.message.split("\n")[0]}`);
    return {
      notebook,
      seconds: r.seconds ?? undefined,
      cpu: r.cpu ?? undefined,
      suiteSeconds: s?.seconds ?? undefined,
      ok: r.ok && (s?.ok ?? false),
    };
  });
  for (const r of [...(alone.report?.notebooks ?? []), ...(suite.report?.notebooks ?? [])]) {
    if (!rows.some((row) => row.notebook === r.notebook))
      notes.push(`the runner also reported ${r.notebook}`);
  }
  const timed = rows.filter((r) => r.seconds !== undefined);
  const total = timed.length ? timed.reduce((s, r) => s + (r.seconds as number), 0) : undefined;
  if (alone.report && suite.report) {
    notes.push(
      `alone: each notebook by itself (--jobs 1), from its kernel's start to its last cell; in the suite: the same ` +
        `with ${suite.report.jobs} notebooks at a time, sharing the cores; the suite took ${suite.report.seconds.toFixed(1)} s ` +
        `of wall time, the whole command ${suite.seconds.toFixed(1)} s with its set-up checks`,
    );
  }
  log(
    `bench:   ${rows.length} notebooks, ${total?.toFixed(1) ?? "–"} s one at a time, ` +
      `${suite.report ? `${suite.report.seconds.toFixed(1)} s wall with ${suite.report.jobs} at a time` : "no suite report"}`,
  );
  return { date, rows, total, wall: suite.report?.seconds, jobs: suite.report?.jobs, notes };
}

/** One run of the notebook runner with --check and a report; its failures go into `notes`. */
async function runSuite(
  runner: string,
  extra: string[],
  notes: string[],
  label: string,
): Promise<{ report?: RunnerReport; seconds: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-notebooks-"));
  const reportFile = path.join(dir, "report.json");
  let report: RunnerReport | undefined;
  let res: Awaited<ReturnType<typeof runOnce>>;
  try {
    res = await runOnce(
      process.execPath,
      [...TSX, runner, "--check", ...extra, "--report", reportFile],
      process.env,
    );
    if (fs.existsSync(reportFile)) report = JSON.parse(fs.readFileSync(reportFile, "utf8")) as RunnerReport;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  if (res.code !== 0) {
    const failed = (report?.notebooks ?? []).filter((r) => !r.ok).length;
    notes.push(
      `${label}: the runner exited with code ${res.code}${failed ? ` (${failed} notebook(s) failed their check)` : ""}` +
        (report === undefined
          ? `; it wrote no report: ${res.stderr.trim().split("\n").slice(-1)[0] ?? ""}`
          : ""),
    );
  }
  return { report, seconds: res.seconds };
}
