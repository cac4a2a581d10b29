// backend.ts: how initBackend chooses a backend and reports it, each case in a fresh Node process
// that pins its own backend, so the outcome does not depend on the backend this suite runs on.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, test } from "node:test";

import { BACKEND_ENV, BACKEND_REASON_ENV } from "../../../lib/src/backend";

const root = path.resolve(__dirname, "..", "..", "..");

/** Runs a snippet in a fresh Node process with the given backend variable; returns stdout and stderr. */
function run(
  snippet: string,
  backend: string | undefined,
  extraEnv: Record<string, string> = {},
): { stdout: string; stderr: string; code: number } {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env[BACKEND_REASON_ENV];
  Object.assign(env, extraEnv);
  if (backend === undefined) delete env[BACKEND_ENV];
  else env[BACKEND_ENV] = backend;
  try {
    const stdout = execFileSync(process.execPath, ["--import", "tsx", "-e", snippet], {
      cwd: root,
      env,
      encoding: "utf8",
      stdio: "pipe",
    });
    return { stdout, stderr: "", code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; status: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.status };
  }
}

function hasTfjsNode(): boolean {
  try {
    require.resolve("@tensorflow/tfjs-node");
    return true;
  } catch {
    return false;
  }
}

const twice = `
const { initBackend, nadarayaWatson } = require("./lib/src/index");
(async () => {
  const a = await initBackend();
  const b = await initBackend();
  nadarayaWatson([0, 1], [1, 2], [0.5]).predictions.dispose();
  console.log("chose", a.name, b.name);
})().catch((e) => { console.error(e.message); process.exit(3); });
`;

describe("backend selection", () => {
  for (const backend of ["wasm", "cpu"]) {
    test(`forcing ${backend} reports it once, in one line, with no tfjs banner`, () => {
      const { stdout, stderr, code } = run(twice, backend);
      assert.equal(code, 0, stderr);
      assert.equal(
        stdout,
        `attention-pooling: backend ${backend} (set by ${BACKEND_ENV})\nchose ${backend} ${backend}\n`,
      );
      assert.equal(stderr, "");
    });
  }

  test("a tool that pins the backend says why in the report, instead of naming the variable", () => {
    const { stdout, stderr, code } = run(twice, "cpu", {
      [BACKEND_REASON_ENV]: "pinned so that the committed outputs reproduce",
    });
    assert.equal(code, 0, stderr);
    assert.equal(
      stdout.split("\n")[0],
      "attention-pooling: backend cpu (pinned so that the committed outputs reproduce)",
    );
  });

  test("a backend passed in the options is reported as chosen there", () => {
    const snippet = `
const { initBackend } = require("./lib/src/index");
initBackend({ backend: "cpu" }).catch((e) => { console.error(e.message); process.exit(3); });
`;
    const { stdout, stderr, code } = run(snippet, undefined);
    assert.equal(code, 0, stderr);
    assert.equal(stdout, "attention-pooling: backend cpu (chosen in initBackend's options)\n");
  });

  test("without tfjs-node the default is wasm, and the report says why", () => {
    const { stdout, code, stderr } = run(twice, undefined);
    assert.equal(code, 0, stderr);
    const first = stdout.split("\n")[0];
    if (hasTfjsNode()) assert.match(first!, /^attention-pooling: backend (tensorflow|wasm) \(/);
    else assert.equal(first, "attention-pooling: backend wasm (tfjs-node is not installed)");
  });

  test("an unknown backend name is a clear error", () => {
    const { stderr, code } = run(twice, "gpu");
    assert.equal(code, 3);
    assert.equal(
      stderr.trim(),
      `initBackend: ${BACKEND_ENV} must be one of tensorflow, wasm, cpu, got "gpu".`,
    );
  });

  test("forcing tensorflow where tfjs-node is absent says what is missing", () => {
    const { stdout, stderr, code } = run(twice, "tensorflow");
    if (hasTfjsNode()) {
      assert.equal(code, 0, stderr);
      assert.match(stdout, /^attention-pooling: backend tensorflow /);
    } else {
      assert.equal(code, 3);
      assert.equal(
        stderr.trim(),
        'initBackend: backend "tensorflow" is unavailable: tfjs-node is not installed.',
      );
    }
  });

  test("tfjs-node loads on a Node without util.isNullOrUndefined / util.isArray (Node >= 23)", () => {
    // A stand-in tfjs-node that, like 4.22, calls the removed util helpers while loading, then
    // registers a backend named "tensorflow" (the cpu kernels under that name).
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ap-fake-tfjs-node-"));
    const pkg = path.join(dir, "node_modules", "@tensorflow", "tfjs-node");
    fs.mkdirSync(pkg, { recursive: true });
    fs.writeFileSync(
      path.join(pkg, "package.json"),
      JSON.stringify({ name: "@tensorflow/tfjs-node", main: "index.js" }),
    );
    fs.writeFileSync(
      path.join(pkg, "index.js"),
      `const util = require("util");
if (util.isNullOrUndefined(undefined) !== true || util.isArray([]) !== true) throw new Error("shim broken");
const tf = require("@tensorflow/tfjs-core");
const { MathBackendCPU } = require("@tensorflow/tfjs-backend-cpu");
tf.registerBackend("tensorflow", () => new MathBackendCPU(), 3);
for (const k of tf.getKernelsForBackend("cpu")) tf.registerKernel({ ...k, backendName: "tensorflow" });
`,
    );
    const snippet = `
const util = require("util");
delete util.isNullOrUndefined;
delete util.isArray;
${twice}`;
    const env = {
      NODE_PATH: [path.join(dir, "node_modules"), path.join(root, "node_modules")].join(path.delimiter),
    };
    const { stdout, stderr, code } = run(snippet, undefined, env);
    assert.equal(code, 0, stderr);
    assert.equal(
      stdout,
      "attention-pooling: backend tensorflow (best available)\nchose tensorflow tensorflow\n",
    );
  });
});
