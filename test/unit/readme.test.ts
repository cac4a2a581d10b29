// README.md's library example, run with the built package in a child process that inherits the
// backend variable, so on every backend. The figures example: figures/tutorial.test.ts.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";

const root = path.resolve(__dirname, "..", "..");

test("the README's library example runs and prints what its comments say", () => {
  const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
  const match = /```js\n(\/\/ example\.mjs[\s\S]*?)```/.exec(readme);
  assert.ok(match, "README has the example.mjs block");
  const file = path.join(root, "lib", "dist", ".readme-example.mjs");
  fs.writeFileSync(file, match[1]!);
  try {
    const out = execFileSync(process.execPath, [file], { cwd: root, encoding: "utf8" });
    const lines = out.trim().split("\n");
    assert.match(lines[0]!, /^attention-pooling: backend (wasm|cpu|tensorflow) \(/);
    assert.equal(lines[1], "[ 50 ] [ 50, 40 ]");
    assert.equal(lines[2], "true");
  } finally {
    fs.rmSync(file, { force: true });
  }
});
