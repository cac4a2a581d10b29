// backend.ts on every backend: this process runs on the backend scripts/unit.sh asked for, so a
// suite that passes here has really run on it. How the backend is chosen: once/backend.test.ts.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { test } from "node:test";

import { currentBackend, initBackend } from "../../lib/src/index";
import { BACKEND_ENV } from "../../lib/src/backend";

test("the active backend is the one the environment asked for", async () => {
  const info = await initBackend({ quiet: true });
  const wanted = process.env[BACKEND_ENV];
  if (wanted) assert.equal(info.name, wanted);
  assert.equal(currentBackend(), info.name);
});

test("starting the backend in a fresh process prints the backend line and nothing else", () => {
  // tfjs-node calls util.isArray, which Node.js 22 and later deprecate with a warning on stderr
  // the first time it runs; backend.ts replaces it, so on tensorflow too only the one line shows.
  const script =
    'require("tsx/cjs"); const { initBackend, tf } = require("./lib/src/index.ts");' +
    "initBackend().then(() => { tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4])).dataSync(); });";
  const res = spawnSync(process.execPath, ["-e", script], {
    cwd: path.resolve(__dirname, "../.."),
    encoding: "utf8",
    env: { ...process.env, NODE_OPTIONS: "" },
  });
  assert.equal(res.status, 0, res.stderr);
  const wanted = process.env[BACKEND_ENV];
  const lines = `${res.stdout}${res.stderr}`.trim().split("\n");
  assert.equal(lines.length, 1, `expected one line, got:\n${lines.join("\n")}`);
  assert.match(lines[0]!, new RegExp(`^attention-pooling: backend ${wanted ?? "\\w+"}\\b`));
});
