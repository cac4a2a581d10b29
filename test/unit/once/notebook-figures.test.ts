// The figures inline in the committed notebooks must be the very files `npm run figures` writes.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";

const root = path.resolve(__dirname, "..", "..", "..");

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

test("the tutorial notebook shows exactly the seven tutorial figures, byte for byte, in order", () => {
  const expected = [
    "kernel-shapes",
    "custom-kernel",
    "kernel-predictions",
    "kernel-attention",
    "width-predictions",
    "width-attention",
    "explorer",
  ];
  const pngs = inlinePngs("01-attention-pooling.ipynb");
  assert.equal(pngs.length, expected.length);
  expected.forEach((name, i) => {
    const file = fs.readFileSync(path.join(root, "figures", `tutorial-${name}.png`));
    assert.ok(pngs[i]!.equals(file), `figure ${i + 1} differs from figures/tutorial-${name}.png`);
  });
});

test("every figure inline in a notebook is a file in figures/, and every figure file is shown by a notebook", () => {
  const files = new Map<string, string>();
  for (const name of fs.readdirSync(path.join(root, "figures")).filter((f) => f.endsWith(".png"))) {
    files.set(fs.readFileSync(path.join(root, "figures", name)).toString("base64"), name);
  }
  const shown = new Set<string>();
  const notebooks = fs.readdirSync(path.join(root, "notebooks")).filter((f) => f.endsWith(".ipynb"));
  assert.ok(notebooks.length >= 5, `expected the tutorial and four exercises, got ${notebooks.join(", ")}`);
  for (const notebook of notebooks) {
    inlinePngs(notebook).forEach((png, i) => {
      const name = files.get(png.toString("base64"));
      assert.ok(
        name,
        `${notebook}: figure ${i + 1} is not byte-identical to any file in figures/ (run npm run figures)`,
      );
      shown.add(name);
    });
  }
  const unshown = [...files.values()].filter((name) => !shown.has(name));
  assert.deepEqual(unshown, [], "figure files no notebook shows");
});
