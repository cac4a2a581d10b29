/**
 * Every notebook on the tensorflow backend (tfjs-node): the smoke fixture and each notebook in
 * notebooks/ runs top to bottom there with no error and no stderr output, so every claim it checks
 * holds on tensorflow too, and it reports that it ran on tensorflow. Outputs are not compared with
 * the committed ones, which are made on wasm (`npm run notebooks -- --backend tensorflow`).
 *
 * Without tfjs-node (`npm run tfjs-node` installs it) the runs are skipped with that reason, except
 * in CI, where a missing tensorflow backend is a failure, as in scripts/unit.sh.
 */
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";

import {
  NOTEBOOK_TIMEOUT,
  notebooksUnderTest,
  pythonEnv,
  runNotebookScript,
  type RunResult,
} from "./helpers";

const notebooks = notebooksUnderTest();
const tfjsNode = (() => {
  try {
    require.resolve("@tensorflow/tfjs-node");
    return true;
  } catch {
    return false;
  }
})();
const inCI = Boolean(process.env.CI);
const absent = "tfjs-node is not installed (npm run tfjs-node installs it)";

describe("notebooks on the tensorflow backend", () => {
  let run: RunResult | undefined;

  before(
    async () => {
      if (!tfjsNode) return;
      await pythonEnv();
      // One runner call for all of them, two at a time; each gets its own line (and its own test below).
      run = await runNotebookScript([
        "--backend",
        "tensorflow",
        "--jobs",
        "2",
        "--timeout",
        String(NOTEBOOK_TIMEOUT),
        ...notebooks,
      ]);
    },
    { timeout: (NOTEBOOK_TIMEOUT * notebooks.length + 180) * 1000 },
  );

  test(
    "tfjs-node is installed, as CI requires",
    { skip: !tfjsNode && !inCI ? `${absent}; outside CI the tensorflow runs are skipped` : false },
    () => {
      assert.ok(tfjsNode, `${absent}: CI must run the notebooks on tensorflow`);
    },
  );

  for (const notebook of notebooks) {
    test(`${notebook} runs cleanly on tensorflow`, { skip: tfjsNode ? false : absent }, () => {
      const output = (run as RunResult).output;
      const name = notebook.replace(/[.]/g, "\\.");
      assert.match(output, new RegExp(`^ok +${name} \\(ran cleanly on tensorflow; `, "m"), output);
    });
  }

  test("the tensorflow run passed as a whole", { skip: tfjsNode ? false : absent }, () => {
    const { code, output } = run as RunResult;
    assert.equal(code, 0, output);
    assert.match(output, new RegExp(`^notebooks: ${notebooks.length} passed, 0 failed`, "m"));
  });
});
