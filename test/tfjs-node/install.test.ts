/**
 * `npm run tfjs-node` (scripts/tfjs-node.ts): the checks that stop it before any work, with a
 * message naming the missing piece, and the check of an installed tfjs-node.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, test } from "node:test";

import { checkPlatform, localNodeDir, verify, wantedVersion, WHEEL } from "../../scripts/tfjs-node";

const root = path.resolve(__dirname, "..", "..");
const script = path.join(root, "scripts", "tfjs-node.ts");

function installed(): boolean {
  try {
    require.resolve("@tensorflow/tfjs-node", { paths: [root] });
    return true;
  } catch {
    return false;
  }
}

/** Runs the install command in a child process with `env`; returns its exit code and output. */
function runScript(args: string[], env: NodeJS.ProcessEnv): { code: number; out: string } {
  const res = spawnSync(process.execPath, ["--import", "tsx", script, ...args], {
    cwd: root,
    env,
    encoding: "utf8",
    timeout: 120_000,
  });
  return { code: res.status ?? -1, out: `${res.stdout ?? ""}${res.stderr ?? ""}` };
}

describe("npm run tfjs-node: what it refuses, and why", () => {
  test("another platform is named, with what to do there", () => {
    assert.throws(
      () => checkPlatform({ platform: "darwin", arch: "arm64", glibc: undefined }),
      (err: Error) =>
        err.message.startsWith(
          "npm run tfjs-node builds tfjs-node from PyPI's Linux x86-64 TensorFlow wheel; this is darwin-arm64.",
        ) && /Without tfjs-node, lib runs on wasm\./.test(err.message),
    );
  });

  test("a Linux without glibc (musl) is refused, and an old glibc is named", () => {
    assert.throws(
      () => checkPlatform({ platform: "linux", arch: "x64", glibc: undefined }),
      /needs a glibc Linux .* this Node\.js reports no glibc/s,
    );
    assert.throws(
      () => checkPlatform({ platform: "linux", arch: "x64", glibc: "2.12" }),
      /needs glibc 2\.17 or newer; this system has glibc 2\.12\./,
    );
    assert.doesNotThrow(() => checkPlatform({ platform: "linux", arch: "x64", glibc: "2.17" }));
  });

  test("a machine without a compiler, make, strip or Python gets every missing piece and the apt line", () => {
    // PATH holds only a link to node: no g++, make, strip or python3.
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "ap-bare-path-"));
    fs.symlinkSync(process.execPath, path.join(bin, "node"));
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: bin };
    delete env.CXX;
    delete env.PYTHON;
    const { code, out } = runScript(["--force"], env);
    fs.rmSync(bin, { recursive: true, force: true });
    assert.equal(code, 1, out);
    const message = out.slice(out.indexOf("npm run tfjs-node cannot build"));
    assert.match(message, /^npm run tfjs-node cannot build tfjs-node: this machine lacks\n/);
    for (const piece of [
      "a C++ compiler (g++)",
      "make, which node-gyp",
      "strip (binutils)",
      "Python 3, which node-gyp and pip run on",
    ]) {
      assert.ok(message.includes(`  - ${piece}`), `names ${piece}:\n${message}`);
    }
    assert.match(message, /Debian\/Ubuntu: {2}sudo apt-get install g\+\+ make python3 python3-venv binutils/);
    assert.doesNotMatch(out, /\n\s+at /, "no stack trace");
  });

  test("an unknown option is named", () => {
    const { code, out } = runScript(["--forse"], process.env);
    assert.equal(code, 1);
    assert.match(out, /npm run tfjs-node: unknown option "--forse"; it takes --force\./);
  });
});

describe("npm run tfjs-node: where it takes things from", () => {
  test("the tfjs-node version is lib's, and matches the tfjs-core lib runs on", () => {
    const lib = JSON.parse(fs.readFileSync(path.join(root, "lib", "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    assert.equal(wantedVersion(root), lib.dependencies["@tensorflow/tfjs-core"]);
  });

  test("the pinned wheel is the Linux x86-64 tensorflow-cpu 2.12.1 file, by hash", () => {
    assert.equal(
      WHEEL.file,
      `tensorflow_cpu-${WHEEL.version}-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl`,
    );
    assert.match(WHEEL.sha256, /^[0-9a-f]{64}$/);
  });

  test("Node.js headers come from npm_config_nodedir, else from beside the running node, else nowhere", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ap-nodedir-"));
    try {
      const withHeaders = path.join(dir, "with");
      fs.mkdirSync(path.join(withHeaders, "include", "node"), { recursive: true });
      for (const f of ["node_api.h", "common.gypi", "node_version.h"]) {
        fs.writeFileSync(path.join(withHeaders, "include", "node", f), "");
      }
      const bare = path.join(dir, "bare");
      fs.mkdirSync(path.join(bare, "bin"), { recursive: true });
      assert.equal(localNodeDir({}, path.join(withHeaders, "bin", "node")), withHeaders);
      assert.equal(localNodeDir({}, path.join(bare, "bin", "node")), undefined);
      assert.equal(
        localNodeDir({ npm_config_nodedir: withHeaders }, path.join(bare, "bin", "node")),
        withHeaders,
      );
      assert.equal(
        localNodeDir({ npm_config_nodedir: bare }, path.join(withHeaders, "bin", "node")),
        withHeaders,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("npm run tfjs-node: the installed result", () => {
  test("with tfjs-node installed, the built lib chooses tensorflow and multiplies right; without, it says what it chose", () => {
    const check = verify(root);
    if (installed()) {
      assert.ok(check.ok, check.summary);
      assert.match(
        check.summary,
        /^initBackend\(\) → tensorflow \(TensorFlow 2\.12\.1\); .* = \[\[58,64\],\[139,154\]\]$/,
      );
    } else {
      assert.equal(check.ok, false);
      assert.match(check.summary, /^initBackend\(\) chose wasm \(tfjs-node is not installed/);
    }
  });

  test(
    "an unreachable package index is named, with what to check, and the staged library is left alone",
    { skip: installed() ? false : "tfjs-node is not installed here (npm run tfjs-node installs it)" },
    () => {
      const stamp = path.join(
        root,
        "node_modules",
        "@tensorflow",
        "tfjs-node",
        "deps",
        "attention-pooling-stamp.json",
      );
      const before = fs.readFileSync(stamp, "utf8");
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        // A closed local port: pip is refused at once.
        PIP_INDEX_URL: "http://127.0.0.1:9/simple",
        PIP_FIND_LINKS: "",
        PIP_RETRIES: "0",
        PIP_DEFAULT_TIMEOUT: "5",
      };
      const { code, out } = runScript(["--force"], env);
      assert.equal(code, 1, out);
      assert.match(out, /pip could not reach its package index to install tensorflow-cpu==2\.12\.1\./);
      assert.match(out, /point pip at a reachable\n\s+index or mirror with PIP_INDEX_URL/);
      assert.equal(fs.readFileSync(stamp, "utf8"), before);
      assert.ok(verify(root).ok, "tfjs-node still works");
    },
  );
});
