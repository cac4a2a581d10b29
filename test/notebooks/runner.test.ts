/**
 * The headless notebook runner (scripts/notebooks.py): what it writes back, and how it fails.
 * Each test writes a small tslab notebook into a temporary folder and runs it in a fresh kernel.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";

import { pythonEnv, runNotebookScript, stdout, writeNotebook } from "./helpers";

const LIMIT = { timeout: 180_000 };

describe("notebook runner", () => {
  let dir: string;

  before(async () => {
    await pythonEnv();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "runner-test-"));
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("writes outputs back with execution counts and no timings or kernel version", LIMIT, async () => {
    const file = writeNotebook(dir, "write.ipynb", [
      { source: "console.log(6 * 7);" },
      { source: 'console.log("two");' },
    ]);
    const first = await runNotebookScript([file]);
    assert.equal(first.code, 0, first.output);
    assert.match(first.output, /^wrote +.*write\.ipynb/m);
    const nb = JSON.parse(fs.readFileSync(file, "utf8"));
    const code = nb.cells.filter((c: { cell_type: string }) => c.cell_type === "code");
    assert.deepEqual(
      code.map((c: { execution_count: number }) => c.execution_count),
      [1, 2],
    );
    assert.deepEqual(code[0].outputs, [{ name: "stdout", output_type: "stream", text: ["42\n"] }]);
    assert.deepEqual(code[1].outputs, [{ name: "stdout", output_type: "stream", text: ["two\n"] }]);
    assert.equal(nb.metadata.language_info.name, "typescript");
    assert.equal("version" in nb.metadata.language_info, false);
    for (const cell of code) assert.equal("execution" in cell.metadata, false);

    const bytes = fs.readFileSync(file, "utf8");
    const again = await runNotebookScript([file]);
    assert.equal(again.code, 0, again.output);
    assert.match(again.output, /^ok +.*write\.ipynb \(unchanged/m);
    assert.equal(fs.readFileSync(file, "utf8"), bytes);

    const check = await runNotebookScript(["--check", file]);
    assert.equal(check.code, 0, check.output);
    assert.match(check.output, /outputs match/);
  });

  test("a failing cell fails the run, naming the notebook, the cell and the error", LIMIT, async () => {
    const file = writeNotebook(dir, "throws.ipynb", [
      { source: "const ok = 1;" },
      { source: 'throw new RangeError("deliberate failure for the runner test");' },
      { source: "console.log('never reached');" },
    ]);
    const before = fs.readFileSync(file, "utf8");
    const { code, output } = await runNotebookScript([file]);
    assert.equal(code, 1, output);
    assert.match(output, /^FAILED +.*throws\.ipynb, cell 3 \(2nd code cell\) failed:/m);
    assert.match(output, /RangeError: deliberate failure for the runner test/);
    assert.match(output, /notebooks: 0 passed, 1 failed/);
    assert.equal(fs.readFileSync(file, "utf8"), before, "a failed run must not rewrite the notebook");
  });

  test("a TypeScript type error fails the run", LIMIT, async () => {
    const file = writeNotebook(dir, "types.ipynb", [{ source: 'const n: number = "text";' }]);
    const { code, output } = await runNotebookScript([file]);
    assert.equal(code, 1, output);
    assert.match(output, /types\.ipynb, cell 2 \(1st code cell\) failed:/);
    assert.match(output, /Type 'string' is not assignable to type 'number'/);
  });

  test("stderr output fails unless the cell is tagged allow-stderr", LIMIT, async () => {
    const noisy = writeNotebook(dir, "stderr.ipynb", [{ source: 'console.error("careful");' }]);
    const failed = await runNotebookScript([noisy]);
    assert.equal(failed.code, 1, failed.output);
    assert.match(failed.output, /stderr\.ipynb, cell 2 \(1st code cell\) wrote error output:\n {4}careful/);

    const allowed = writeNotebook(dir, "stderr-allowed.ipynb", [
      { source: 'console.error("careful");', tags: ["allow-stderr"] },
    ]);
    const passed = await runNotebookScript([allowed]);
    assert.equal(passed.code, 0, passed.output);
  });

  test(
    "--check fails when outputs differ from the committed ones, and leaves the file alone",
    LIMIT,
    async () => {
      const file = writeNotebook(dir, "drift.ipynb", [
        { source: "console.log(6 * 7);", outputs: [stdout("41\n")], executionCount: 1 },
      ]);
      const before = fs.readFileSync(file, "utf8");
      const { code, output } = await runNotebookScript(["--check", file]);
      assert.equal(code, 1, output);
      assert.match(
        output,
        /drift\.ipynb, cell 2 \(1st code cell\) \(console\.log\(6 \* 7\);\): outputs differ/,
      );
      assert.match(output, /re-running .*drift\.ipynb does not reproduce the file on disk \(not in git\)/);
      assert.match(output, /output 1 committed: stdout: '41\\n'/);
      assert.match(output, /output 1 re-run: +stdout: '42\\n'/);
      assert.equal(fs.readFileSync(file, "utf8"), before);
    },
  );

  test(
    "--check skips the outputs of a cell tagged nbval-ignore-output, but not its execution count",
    LIMIT,
    async () => {
      const ignored = writeNotebook(dir, "ignored.ipynb", [
        {
          source: "console.log(Math.random());",
          outputs: [stdout("0.5\n")],
          executionCount: 1,
          tags: ["nbval-ignore-output"],
        },
      ]);
      const passed = await runNotebookScript(["--check", ignored]);
      assert.equal(passed.code, 0, passed.output);

      const unexecuted = writeNotebook(dir, "unexecuted.ipynb", [
        { source: "console.log(1);", outputs: [], executionCount: null, tags: ["nbval-ignore-output"] },
      ]);
      const failed = await runNotebookScript(["--check", unexecuted]);
      assert.equal(failed.code, 1, failed.output);
      assert.match(failed.output, /execution count is None in the committed version, 1 when re-run/);
    },
  );

  test(
    "--check runs git's committed version, notes a notebook saved over since, and --restore puts it back",
    LIMIT,
    async () => {
      const repo = fs.mkdtempSync(path.join(os.tmpdir(), "runner-git-"));
      try {
        const git = (...args: string[]) =>
          execFileSync("git", ["-c", "user.name=test", "-c", "user.email=test@example.invalid", ...args], {
            cwd: repo,
            stdio: "pipe",
          });
        git("init", "-q");
        const file = writeNotebook(repo, "saved.ipynb", [
          { source: "console.log(6 * 7);", outputs: [stdout("42\n")], executionCount: 1 },
        ]);
        git("add", "saved.ipynb");
        git("commit", "-q", "-m", "notebook");
        const committed = fs.readFileSync(file, "utf8");
        // A learner changes the code and saves from JupyterLab.
        const saved = committed.replace("6 * 7", "6 * 9").replace("42\\n", "54\\n");
        fs.writeFileSync(file, saved);

        const checked = await runNotebookScript(["--check", file]);
        assert.equal(checked.code, 0, checked.output);
        assert.match(checked.output, /^ok +.*saved\.ipynb \(outputs match git's committed version;/m);
        assert.match(
          checked.output,
          /saved\.ipynb differs from its committed version \(saved from JupyterLab\?\); --check ran the committed version/,
        );
        assert.match(
          checked.output,
          /To get it back: git checkout -- .*saved\.ipynb +\(or: npm run notebooks -- --restore .*saved\.ipynb\)/,
        );
        assert.equal(fs.readFileSync(file, "utf8"), saved, "--check leaves the learner's file alone");

        const restored = await runNotebookScript(["--restore", file]);
        assert.equal(restored.code, 0, restored.output);
        assert.match(restored.output, /^restored .*saved\.ipynb \(as committed in git\)/m);
        assert.equal(fs.readFileSync(file, "utf8"), committed);
        const again = await runNotebookScript(["--restore", file]);
        assert.match(again.output, /^ok +.*saved\.ipynb \(already as committed\)/m);
      } finally {
        fs.rmSync(repo, { recursive: true, force: true });
      }
    },
  );

  test("--restore without notebooks says what it needs", LIMIT, async () => {
    const { code, output } = await runNotebookScript(["--restore"]);
    assert.equal(code, 2, output);
    assert.match(output, /--restore needs the notebooks to restore/);
  });

  test("an absolute path in an output fails the run", LIMIT, async () => {
    const file = writeNotebook(dir, "paths.ipynb", [{ source: "console.log(`here: ${process.cwd()}`);" }]);
    const { code, output } = await runNotebookScript([file]);
    assert.equal(code, 1, output);
    assert.match(output, /paths\.ipynb, cell 2 \(1st code cell\): output contains an absolute path/);
  });

  test("--jobs 2 runs two notebooks at once and prints their results in the order given", LIMIT, async () => {
    // Each notebook leaves a mark, then waits for the other's: run one after the other, the first
    // would wait in vain and fail at its 20 s deadline.
    const meet = fs.mkdtempSync(path.join(os.tmpdir(), "runner-jobs-"));
    const rendezvous = (mine: string, theirs: string): string =>
      `const fs = require("fs"), path = require("path");\n` +
      `const dir = ${JSON.stringify(meet)};\n` +
      `fs.writeFileSync(path.join(dir, ${JSON.stringify(mine)}), "");\n` +
      `const deadline = Date.now() + 20_000;\n` +
      `while (!fs.existsSync(path.join(dir, ${JSON.stringify(theirs)}))) {\n` +
      `  if (Date.now() > deadline) throw new Error("the other notebook never started");\n` +
      `  await new Promise((resolve) => setTimeout(resolve, 50));\n` +
      `}\n` +
      `console.log("met");`;
    try {
      const first = writeNotebook(dir, "jobs-b.ipynb", [{ source: rendezvous("b", "a") }]);
      const second = writeNotebook(dir, "jobs-a.ipynb", [{ source: rendezvous("a", "b") }]);
      const report = path.join(meet, "report.json");
      const { code, output } = await runNotebookScript([
        "--jobs",
        "2",
        "--no-write",
        "--report",
        report,
        first,
        second,
      ]);
      assert.equal(code, 0, output);
      assert.match(output, /^ok +.*jobs-b\.ipynb \(ran cleanly;.*\n^ok +.*jobs-a\.ipynb \(ran cleanly;/m);
      assert.match(output, /^notebooks: 2 passed, 0 failed \([\d.]+ s, 2 at a time\)/m);
      const written = JSON.parse(fs.readFileSync(report, "utf8"));
      assert.equal(written.jobs, 2);
      assert.equal(written.backend, "wasm");
      assert.deepEqual(
        written.notebooks.map((r: { notebook: string; ok: boolean }) => [path.basename(r.notebook), r.ok]),
        [
          ["jobs-b.ipynb", true],
          ["jobs-a.ipynb", true],
        ],
      );
      for (const r of written.notebooks) {
        assert.ok(r.seconds > 0 && r.seconds < written.seconds + 1, JSON.stringify(r));
        // The kernel's CPU time, where the OS reports children's usage (not on Windows).
        if (process.platform !== "win32") assert.ok(r.cpu > 0, JSON.stringify(r));
      }
    } finally {
      fs.rmSync(meet, { recursive: true, force: true });
    }
  });

  test(
    "--backend runs the kernels on that backend, checks the backend each notebook reports, and writes nothing",
    LIMIT,
    async () => {
      // lib's initBackend() prints this line; here the notebooks print it themselves.
      const honest = writeNotebook(dir, "backend-honest.ipynb", [
        {
          source:
            "console.log(`attention-pooling: backend ${process.env.ATTENTION_POOLING_BACKEND} (test)`);",
        },
      ]);
      const stuck = writeNotebook(dir, "backend-stuck.ipynb", [
        { source: 'console.log("attention-pooling: backend wasm (test)");' },
      ]);
      const silent = writeNotebook(dir, "backend-silent.ipynb", [{ source: "console.log(1);" }]);
      const before = [honest, stuck, silent].map((f) => fs.readFileSync(f, "utf8"));
      const { code, output } = await runNotebookScript([
        "--backend",
        "cpu",
        "--jobs",
        "1",
        honest,
        stuck,
        silent,
      ]);
      assert.equal(code, 1, output);
      assert.match(output, /^ok +.*backend-honest\.ipynb \(ran cleanly on cpu; [\d.]+ s\)/m);
      assert.match(output, /^FAILED +.*backend-stuck\.ipynb ran on the wasm backend, not on cpu/m);
      assert.match(
        output,
        /^FAILED +.*backend-silent\.ipynb never reported its backend.*call initBackend\(\)/m,
      );
      assert.deepEqual(
        [honest, stuck, silent].map((f) => fs.readFileSync(f, "utf8")),
        before,
        "a run on another backend writes no outputs",
      );

      const refused = await runNotebookScript(["--backend", "tensorflow", "--check", honest]);
      assert.equal(refused.code, 2, refused.output);
      assert.match(refused.output, /--check compares with the committed outputs, which are made on wasm/);
    },
  );

  test("a notebook that runs past its time limit fails, naming the cell it stopped in", LIMIT, async () => {
    const file = writeNotebook(dir, "slow.ipynb", [
      { source: "const a = 1;" },
      { source: "await new Promise((resolve) => setTimeout(resolve, 600_000));" },
    ]);
    const { code, output } = await runNotebookScript(["--timeout", "12", file]);
    assert.equal(code, 1, output);
    assert.match(output, /slow\.ipynb did not finish within 12 s \(stopped in cell 3 \(2nd code cell\)\)/);
  });
});
