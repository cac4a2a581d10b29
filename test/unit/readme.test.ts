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

test("the README's API table names exactly the library's public exports", async () => {
  const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
  const start = readme.indexOf("| group ");
  assert.ok(start >= 0, "README has the API table");
  const end = readme.indexOf("\n\n", start);
  const firstColumns = readme
    .slice(start, end)
    .split("\n")
    .slice(2)
    .map((row) => row.split("|")[2] ?? "");
  // The name at the start of each code span in the "calls" column: `fitBandwidth(…)` → fitBandwidth.
  const named = new Set(
    firstColumns.flatMap((cell) => [...cell.matchAll(/`([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!)),
  );
  const lib = (await import("../../lib/src/index")) as Record<string, unknown>;
  const exported = new Set(Object.keys(lib).filter((k) => k !== "default"));
  const missing = [...exported].filter((k) => !named.has(k)).sort();
  const extra = [...named].filter((k) => !exported.has(k)).sort();
  assert.deepEqual(missing, [], "exported but not in the README's table");
  assert.deepEqual(extra, [], "in the README's table but not exported");
  // Internals that the API must not expose.
  for (const internal of [
    "toFloatTensor",
    "toPoints",
    "checkSigma",
    "checkChoice",
    "fail",
    "describe",
    "kernelLogits",
  ]) {
    assert.ok(!exported.has(internal), `${internal} is internal`);
  }
  for (const internal of [
    "scaledSquaredDistances",
    "DEFAULT_CHUNK_PAIRS",
    "BANDWIDTH_CHUNK_PAIRS",
    "figureFontFiles",
  ]) {
    assert.ok(!exported.has(internal), `${internal} is internal`);
  }
});
