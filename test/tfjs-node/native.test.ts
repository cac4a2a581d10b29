/**
 * The fused kernels' builds (scripts/native.ts): a missing compiler or TensorFlow library is named
 * and nothing is written; a current stamp skips the build; the committed WebAssembly module is the
 * one its sources build.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";

import { nativeSourceHash, WASM_MODULE_FILE } from "../../lib/src/fused";
import { buildTensorflowOp, buildWasm, compileArgs, wasmCompileArgs } from "../../scripts/native";

const LIB = path.resolve(__dirname, "..", "..", "lib");

test("without TensorFlow's libraries the op is not built, and the message says where it looked", () => {
  const pkg = fs.mkdtempSync(path.join(os.tmpdir(), "ap-native-"));
  try {
    const build = buildTensorflowOp(pkg, process.env, true);
    assert.equal(build.ok, false);
    assert.equal(
      build.summary,
      `no TensorFlow library in ${path.join(pkg, "deps", "lib")} to build the fused op against`,
    );
    assert.deepEqual(fs.readdirSync(pkg), [], "nothing written");
  } finally {
    fs.rmSync(pkg, { recursive: true, force: true });
  }
});

test("a compiler that is not there is named, and the op is not built", () => {
  const pkg = fs.mkdtempSync(path.join(os.tmpdir(), "ap-native-"));
  const libDir = path.join(pkg, "deps", "lib");
  fs.mkdirSync(libDir, { recursive: true });
  fs.writeFileSync(path.join(libDir, "libtensorflow_framework.so.2"), "");
  try {
    const build = buildTensorflowOp(pkg, { ...process.env, CC: "/nonexistent/cc" }, true);
    assert.equal(build.ok, false);
    assert.match(
      build.summary,
      /^compiling the fused TensorFlow op with \/nonexistent\/cc failed:\n.*ENOENT/,
    );
    assert.deepEqual(fs.readdirSync(libDir), ["libtensorflow_framework.so.2"], "nothing written");
  } finally {
    fs.rmSync(pkg, { recursive: true, force: true });
  }
});

test("a clang that is not there is named with what to install, and the committed module is left alone", () => {
  const module = path.join(LIB, WASM_MODULE_FILE);
  const before = fs.readFileSync(module);
  const build = buildWasm({ ...process.env, CLANG: "/nonexistent/clang" }, true);
  assert.equal(build.ok, false);
  assert.equal(
    build.summary,
    `no clang with the wasm32 target could build ${WASM_MODULE_FILE} (/nonexistent/clang: not found); ` +
      "on Debian: apt-get install clang lld, or set CLANG",
  );
  assert.deepEqual(fs.readFileSync(module), before);
});

test("the committed WebAssembly module's stamp matches its sources, so the library uses it", () => {
  const stamp = JSON.parse(fs.readFileSync(path.join(LIB, `${WASM_MODULE_FILE}.json`), "utf8")) as {
    sources: string;
  };
  assert.equal(stamp.sources, nativeSourceHash("wasm", LIB), "rebuild it: npm run native -- wasm");
  // A current stamp needs no compiler at all.
  assert.deepEqual(buildWasm({ ...process.env, CLANG: "/nonexistent/clang" }), {
    ok: true,
    summary: `${WASM_MODULE_FILE} is up to date`,
  });
});

test("both builds vectorise: no errno or traps from math, SIMD for wasm, position-independent for the op", () => {
  const op = compileArgs("op.c", "op.node", "/deps/lib");
  for (const flag of ["-O3", "-fno-math-errno", "-fno-trapping-math", "-fPIC", "-shared", "-pthread"])
    assert.ok(op.includes(flag), flag);
  assert.ok(op.includes("-Wl,-rpath,/deps/lib") && op.includes("-ltensorflow_framework"));
  const wasm = wasmCompileArgs("wasm.c", "out.wasm");
  for (const flag of ["--target=wasm32", "-O3", "-msimd128", "-nostdlib", "-fno-math-errno"])
    assert.ok(wasm.includes(flag), flag);
});
