/**
 * The notebooks themselves: each one (the smoke fixture and every notebook in notebooks/) runs
 * top to bottom in a fresh tslab kernel within the time limit, with no error output, and its
 * re-run outputs match the committed ones (`npm run notebooks -- --check`), and every figure it
 * saves by name is byte-identical to the file in figures/.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, test } from "node:test";

import { PROJECT_ROOT } from "../../scripts/python-env";

import { NOTEBOOK_TIMEOUT, notebooksUnderTest, pythonEnv, runNotebookScript } from "./helpers";

const notebooks = notebooksUnderTest();

describe("committed notebooks", () => {
  before(async () => {
    await pythonEnv();
  });

  test("the smoke fixture is among the notebooks under test", () => {
    assert.ok(notebooks.includes("test/fixtures/smoke.ipynb"), `found: ${notebooks.join(", ")}`);
  });

  for (const notebook of notebooks) {
    test(
      `${notebook} runs cleanly and reproduces its committed outputs`,
      { timeout: (NOTEBOOK_TIMEOUT + 120) * 1000 },
      async () => {
        const { code, output, figures } = await runNotebookScript([
          "--check",
          "--timeout",
          String(NOTEBOOK_TIMEOUT),
          notebook,
        ]);
        assert.equal(code, 0, output);
        assert.match(output, new RegExp(`^ok +${notebook.replace(/[.]/g, "\\.")} \\(outputs match`, "m"));
        // Every figure the notebook saves under its name is the committed file in figures/, byte for byte.
        for (const [file, bytes] of figures) {
          const committed = path.join(PROJECT_ROOT, "figures", file);
          assert.ok(
            fs.existsSync(committed),
            `${notebook} saves ${file}, which is not in figures/ (run npm run figures)`,
          );
          assert.ok(
            bytes.equals(fs.readFileSync(committed)),
            `${notebook}: figures/${file} differs from a fresh run (run npm run figures)`,
          );
        }
      },
    );
  }
});
