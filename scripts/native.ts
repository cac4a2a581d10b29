/**
 * Builds the fused Nadaraya-Watson kernels (lib/native, one C source for both):
 *
 *   npm run native -- tensorflow   the TensorFlow op, next to tfjs-node's TensorFlow libraries, where
 *                                  lib/src/fused.ts looks for it (`npm run tfjs-node` runs this too)
 *   npm run native -- wasm         the WebAssembly module lib/native/nadaraya_watson.wasm (committed)
 *   add --force to rebuild when the stamp says the build is current
 *
 * Each build writes a stamp `<file>.json` with the SHA-256 of its sources; the library uses a
 * build only when its stamp matches the sources beside it.
 *
 * - tensorflow: the system C compiler (`cc`, or $CC), about 15 s. Only TensorFlow's C API is
 *   used, so no TensorFlow headers are needed, and the op links against whichever libtensorflow
 *   tfjs-node has (its own download, or the one staged from PyPI's wheel).
 * - wasm: clang with the wasm32 target and wasm-ld ($CLANG, else clang, else clang-14; on Debian
 *   `apt-get install clang lld`). Only needed after changing the C sources: the module is committed.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

import { nativeSourceHash, NATIVE_SOURCES, TENSORFLOW_OP_FILE, WASM_MODULE_FILE } from "../lib/src/fused";

const LIB_ROOT = path.resolve(__dirname, "..", "lib");

/** What {@link buildTensorflowOp} did. */
export interface NativeBuild {
  /** Whether the op library is there and current. */
  readonly ok: boolean;
  /** One line for the log. */
  readonly summary: string;
}

/** The compiler's command line (exported for the tests). */
export function compileArgs(source: string, output: string, libDir: string): string[] {
  return [
    "-std=gnu11",
    "-O3",
    // The kernels call no libm function that sets errno or traps, so loops with sqrt and the
    // selects around them can be vectorised.
    "-fno-math-errno",
    "-fno-trapping-math",
    "-fPIC",
    "-shared",
    "-pthread",
    "-o",
    output,
    source,
    `-L${libDir}`,
    "-ltensorflow",
    "-ltensorflow_framework",
    `-Wl,-rpath,${libDir}`,
  ];
}

/**
 * Compiles the op into `<tfjs-node>/deps/lib/attention-pooling-ops.node` with a stamp of the
 * sources' hash beside it, unless that stamp is current.
 *
 * @param pkgDir tfjs-node's package folder.
 */
export function buildTensorflowOp(
  pkgDir: string,
  env: NodeJS.ProcessEnv = process.env,
  force = false,
): NativeBuild {
  const libDir = path.join(pkgDir, "deps", "lib");
  const output = path.join(libDir, TENSORFLOW_OP_FILE);
  const stampFile = `${output}.json`;
  const sources = nativeSourceHash("tensorflow", LIB_ROOT);
  if (!force && fs.existsSync(output) && fs.existsSync(stampFile)) {
    try {
      const stamp = JSON.parse(fs.readFileSync(stampFile, "utf8")) as { sources?: string };
      if (stamp.sources === sources) return { ok: true, summary: "the fused TensorFlow op is up to date" };
    } catch {
      // rebuild below
    }
  }
  if (!fs.existsSync(path.join(libDir, "libtensorflow_framework.so.2"))) {
    return { ok: false, summary: `no TensorFlow library in ${libDir} to build the fused op against` };
  }
  const cc = env.CC?.trim() || "cc";
  const source = path.join(LIB_ROOT, NATIVE_SOURCES.tensorflow[1]);
  const started = Date.now();
  const res = spawnSync(cc, compileArgs(source, `${output}.tmp`, libDir), { encoding: "utf8", env });
  if (res.error || res.status !== 0) {
    fs.rmSync(`${output}.tmp`, { force: true });
    const why = res.error
      ? res.error.message
      : (res.stderr || res.stdout).trim().split("\n").slice(-6).join("\n");
    return { ok: false, summary: `compiling the fused TensorFlow op with ${cc} failed:\n${why}` };
  }
  fs.renameSync(`${output}.tmp`, output);
  fs.writeFileSync(stampFile, JSON.stringify({ sources, compiler: cc }, null, 2) + "\n");
  return {
    ok: true,
    summary: `built the fused TensorFlow op with ${cc} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  };
}

/** The wasm module's compiler command line (exported for the tests). */
export function wasmCompileArgs(source: string, output: string): string[] {
  return [
    "--target=wasm32",
    "-std=gnu11",
    "-O3",
    "-msimd128",
    "-nostdlib",
    "-fno-math-errno",
    "-fno-trapping-math",
    "-Wl,--no-entry",
    "-Wl,--export=__heap_base",
    "-Wl,-z,stack-size=65536",
    "-o",
    output,
    source,
  ];
}

/** Compiles lib/native/wasm.c into lib/native/nadaraya_watson.wasm and its stamp. */
export function buildWasm(env: NodeJS.ProcessEnv = process.env, force = false): NativeBuild {
  const output = path.join(LIB_ROOT, WASM_MODULE_FILE);
  const stampFile = `${output}.json`;
  const sources = nativeSourceHash("wasm", LIB_ROOT);
  if (!force && fs.existsSync(output)) {
    try {
      const stamp = JSON.parse(fs.readFileSync(stampFile, "utf8")) as { sources?: string };
      if (stamp.sources === sources) return { ok: true, summary: `${WASM_MODULE_FILE} is up to date` };
    } catch {
      // rebuild below
    }
  }
  const candidates = env.CLANG?.trim() ? [env.CLANG.trim()] : ["clang", "clang-14"];
  const source = path.join(LIB_ROOT, NATIVE_SOURCES.wasm[1]);
  const problems: string[] = [];
  for (const clang of candidates) {
    const version = spawnSync(clang, ["--version"], { encoding: "utf8", env });
    if (version.error || version.status !== 0) {
      problems.push(`${clang}: not found`);
      continue;
    }
    const res = spawnSync(clang, wasmCompileArgs(source, `${output}.tmp`), { encoding: "utf8", env });
    if (res.status !== 0) {
      fs.rmSync(`${output}.tmp`, { force: true });
      problems.push(`${clang}: ${(res.stderr || res.stdout).trim().split("\n").slice(-6).join("\n")}`);
      continue;
    }
    fs.renameSync(`${output}.tmp`, output);
    const compiler = version.stdout.split("\n")[0]?.trim() ?? clang;
    fs.writeFileSync(stampFile, JSON.stringify({ sources, compiler }, null, 2) + "\n");
    return { ok: true, summary: `built ${WASM_MODULE_FILE} with ${compiler}` };
  }
  return {
    ok: false,
    summary:
      `no clang with the wasm32 target could build ${WASM_MODULE_FILE} (${problems.join("; ")}); ` +
      "on Debian: apt-get install clang lld, or set CLANG",
  };
}

function main(argv: string[]): void {
  const force = argv.includes("--force");
  const targets = argv.filter((a) => !a.startsWith("--"));
  if (targets.length === 0 || targets.some((t) => t !== "wasm" && t !== "tensorflow")) {
    console.error("usage: npm run native -- wasm|tensorflow [--force]");
    process.exit(2);
  }
  let failed = false;
  for (const target of targets) {
    let build: NativeBuild;
    if (target === "wasm") build = buildWasm(process.env, force);
    else {
      let pkgDir: string;
      try {
        pkgDir = path.dirname(require.resolve("@tensorflow/tfjs-node/package.json"));
      } catch {
        console.error("native: tfjs-node is not installed (npm run tfjs-node installs it and builds the op)");
        process.exit(1);
      }
      build = buildTensorflowOp(pkgDir, process.env, force);
    }
    console.log(`native: ${build.summary}`);
    failed ||= !build.ok;
  }
  process.exit(failed ? 1 : 0);
}

if (require.main === module) main(process.argv.slice(2));
