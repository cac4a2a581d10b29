// The figures inline in the committed notebooks must be the very files `npm run figures` writes.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";

const root = path.resolve(__dirname, "..", "..");

interface Cell {
  cell_type: string;
  outputs?: { data?: Record<string, string | string[]> }[];
}

function inlinePngs(notebook: string): Buffer[] {
  const nb = JSON.parse(fs.readFileSync(path.join(root, "notebooks", notebook), "utf8")) as { cells: Cell[] };
  const pngs: Buffer[] = [];
  for (const cell of nb.cells) {
    for (const out of cell.outputs ?? []) {
      const png = out.data?.["image/png"];
      if (png !== undefined) pngs.push(Buffer.from(Array.isArray(png) ? png.join("") : png, "base64"));
    }
  }
  return pngs;
}

test("the tutorial notebook shows exactly the five tutorial figures, byte for byte, in order", () => {
  const expected = [
    "kernel-shapes",
    "kernel-predictions",
    "kernel-attention",
    "width-predictions",
    "width-attention",
  ];
  const pngs = inlinePngs("01-attention-pooling.ipynb");
  assert.equal(pngs.length, expected.length);
  expected.forEach((name, i) => {
    const file = fs.readFileSync(path.join(root, "figures", `tutorial-${name}.png`));
    assert.ok(pngs[i]!.equals(file), `figure ${i + 1} differs from figures/tutorial-${name}.png`);
  });
});
