/**
 * Setting up the project's Python environment (scripts/python-env.ts): what the user is told when
 * Python, its venv module or the package index is missing, and that an environment that is up to
 * date is reused. Missing pieces are faked with an empty PATH, a stand-in `python3` script, a
 * shadowed `ensurepip` module and an index URL on a closed local port.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";

import {
  checkVenvModule,
  ensurePythonEnv,
  findPython,
  jupyterEnv,
  PROJECT_ROOT,
  registerKernel,
  SetupError,
  venvPython,
  which,
} from "../../scripts/python-env";

import { pythonEnv } from "./helpers";

const quiet = (): void => undefined;

test("the project's environment offers the TypeScript kernel only: Jupyter lists no other", async () => {
  const { python } = await pythonEnv();
  const listed = execFileSync(python, ["-m", "jupyter", "kernelspec", "list", "--json"], {
    env: jupyterEnv(),
    encoding: "utf8",
  });
  const specs = (JSON.parse(listed) as { kernelspecs: Record<string, { spec: { display_name: string } }> })
    .kernelspecs;
  assert.deepEqual(Object.keys(specs), ["tslab"]);
  assert.equal(specs.tslab?.spec.display_name, "TypeScript");
});

/** The real interpreter behind `python3` on this machine (through any pyenv shim). */
function realPython(): string {
  const found = findPython(process.env);
  const res = spawnSync(found.command, ["-c", "import sys; print(sys.executable)"], { encoding: "utf8" });
  return res.stdout.trim();
}

/** A folder holding one executable script called `name`. */
function shimDir(parent: string, name: string, script: string): string {
  const dir = fs.mkdtempSync(path.join(parent, "bin-"));
  fs.writeFileSync(path.join(dir, name), script, { mode: 0o755 });
  return dir;
}

/** A local port that nothing listens on, so connections to it are refused at once. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function assertSetupError(fn: () => unknown, pattern: RegExp): SetupError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof SetupError, `expected a SetupError, got ${String(caught)}`);
  assert.match(caught.message, pattern);
  return caught;
}

describe("python environment setup", () => {
  let tmp: string;
  let python: string;

  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "python-env-test-"));
    python = realPython();
  });

  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test("no Python on PATH: names what to install", () => {
    const empty = fs.mkdtempSync(path.join(tmp, "empty-"));
    const err = assertSetupError(
      () => findPython({ PATH: empty }),
      /Python 3\.10 or newer, and no python3 or python was found on PATH/,
    );
    assert.match(err.message, /apt-get install python3 python3-venv/);
    assert.match(err.message, /PYTHON=\/path\/to\/python3/);
  });

  test("no Python on PATH: the command prints the message, not a stack trace", () => {
    const empty = fs.mkdtempSync(path.join(tmp, "empty-"));
    const res = spawnSync(
      process.execPath,
      ["--import", "tsx", path.join(PROJECT_ROOT, "scripts", "python-env.ts")],
      {
        cwd: PROJECT_ROOT,
        encoding: "utf8",
        env: { PATH: empty, HOME: tmp, ATTENTION_POOLING_VENV: path.join(tmp, "never-made") },
      },
    );
    assert.equal(res.status, 1, res.stderr);
    assert.match(res.stderr, /no python3 or python was found on PATH/);
    assert.doesNotMatch(res.stderr, /^\s+at /m);
    assert.doesNotMatch(res.stderr, /SetupError/);
    assert.equal(fs.existsSync(path.join(tmp, "never-made")), false);
  });

  test("Python too old: says which was found and what is needed", () => {
    const dir = shimDir(tmp, "python3", "#!/bin/sh\necho 3.8.18\n");
    const err = assertSetupError(
      () => findPython({ PATH: dir }),
      /needs Python 3\.10 or newer, but .*python3 is Python 3\.8\.18/,
    );
    assert.match(err.message, /Install Python 3\.10 or newer/);
  });

  test("PYTHON pointing nowhere: says so", () => {
    assertSetupError(
      () => findPython({ PATH: "", PYTHON: path.join(tmp, "no-such-python") }),
      /PYTHON is set to .*no-such-python.*, which was not found/,
    );
  });

  test("a recent Python is found through PYTHON", () => {
    const found = findPython({ PATH: "", PYTHON: python });
    assert.equal(found.command, python);
    assert.match(found.version, /^3\.\d+\.\d+$/);
  });

  test("venv module missing (as on Debian without python3-venv): names the package", () => {
    const blocker = fs.mkdtempSync(path.join(tmp, "no-ensurepip-"));
    fs.writeFileSync(
      path.join(blocker, "ensurepip.py"),
      "raise ModuleNotFoundError(\"No module named 'ensurepip'\")\n",
    );
    const dir = shimDir(tmp, "python3", `#!/bin/sh\nPYTHONPATH=${blocker} exec ${python} "$@"\n`);
    const env = { PATH: dir };
    const found = findPython(env);
    const err = assertSetupError(
      () => checkVenvModule(found, env),
      /cannot create virtual environments \(ModuleNotFoundError: No module named 'ensurepip'\)/,
    );
    const [major, minor] = found.version.split(".");
    assert.match(
      err.message,
      new RegExp(`apt-get install python${major}\\.${minor}-venv +\\(or python3-venv\\)`),
    );
  });

  test("venv module missing: ensurePythonEnv stops before making anything", async () => {
    const blocker = fs.mkdtempSync(path.join(tmp, "no-ensurepip-"));
    fs.writeFileSync(
      path.join(blocker, "ensurepip.py"),
      "raise ModuleNotFoundError(\"No module named 'ensurepip'\")\n",
    );
    const dir = shimDir(tmp, "python3", `#!/bin/sh\nPYTHONPATH=${blocker} exec ${python} "$@"\n`);
    const venvDir = path.join(tmp, "venv-never-made");
    const found = findPython({ PATH: dir });
    const [major, minor] = found.version.split(".");
    await assert.rejects(
      ensurePythonEnv({ venvDir, env: { PATH: dir, HOME: tmp }, log: quiet }),
      (err: unknown) => {
        assert.ok(err instanceof SetupError, String(err));
        assert.equal(
          err.message,
          [
            `Python ${found.version} at ${found.command} cannot create virtual environments ` +
              "(ModuleNotFoundError: No module named 'ensurepip').",
            "  Install its venv module, then run this command again:",
            `    Debian/Ubuntu:  sudo apt-get install python${major}.${minor}-venv   (or python3-venv)`,
            "  Or point PYTHON at another Python 3 that has it: PYTHON=/path/to/python3 npm start",
          ].join("\n"),
        );
        return true;
      },
    );
    assert.equal(fs.existsSync(venvDir), false);
  });

  describe("a real environment in a temporary folder", () => {
    let venvDir: string;
    let requirements: string;
    const env = (): NodeJS.ProcessEnv => ({ ...process.env, PIP_CONFIG_FILE: os.devNull });

    before(() => {
      venvDir = path.join(tmp, "venv");
      requirements = path.join(tmp, "requirements.txt");
      fs.writeFileSync(requirements, "# nothing to install\n");
    });

    test(
      "is created once, then reused while the requirements are unchanged",
      { timeout: 180_000 },
      async () => {
        const lines: string[] = [];
        const first = await ensurePythonEnv({ venvDir, requirements, env: env(), log: (l) => lines.push(l) });
        assert.equal(first.changed, true);
        assert.equal(first.python, venvPython(venvDir));
        assert.ok(
          lines.some((l) => /^Creating the Python environment/.test(l)),
          lines.join("\n"),
        );

        const second = await ensurePythonEnv({ venvDir, requirements, env: env(), log: quiet });
        assert.equal(second.changed, false);
        assert.equal(second.version, first.version);

        fs.appendFileSync(requirements, "# a changed comment changes the hash\n");
        const third = await ensurePythonEnv({ venvDir, requirements, env: env(), log: quiet });
        assert.equal(third.changed, true);
        assert.equal(fs.existsSync(venvPython(venvDir)), true);
      },
    );

    test("registers the project's tslab kernel inside the environment only", () => {
      const spec = JSON.parse(
        fs.readFileSync(path.join(venvDir, "share", "jupyter", "kernels", "tslab", "kernel.json"), "utf8"),
      );
      assert.deepEqual(spec.argv, [
        process.execPath,
        path.join(PROJECT_ROOT, "node_modules", "tslab", "bin", "tslab"),
        "kernel",
        "--config-path",
        "{connection_file}",
      ]);
      assert.equal(spec.display_name, "TypeScript");
    });

    test("rewrites the kernelspec when the project folder moved", () => {
      const moved = fs.mkdtempSync(path.join(tmp, "moved-project-"));
      fs.mkdirSync(path.join(moved, "node_modules", "tslab", "bin"), { recursive: true });
      fs.writeFileSync(path.join(moved, "node_modules", "tslab", "bin", "tslab"), "");
      const file = registerKernel(venvDir, moved);
      assert.equal(
        JSON.parse(fs.readFileSync(file, "utf8")).argv[1],
        path.join(moved, "node_modules", "tslab", "bin", "tslab"),
      );
      registerKernel(venvDir, PROJECT_ROOT);
    });

    test(
      "pip unable to reach its index: says so and how to point it elsewhere",
      { timeout: 180_000 },
      async () => {
        fs.writeFileSync(requirements, "nbformat==5.11.1\n");
        const port = await closedPort();
        const offline = {
          ...env(),
          PIP_INDEX_URL: `http://127.0.0.1:${port}/simple/`,
          PIP_RETRIES: "0",
          PIP_TIMEOUT: "5",
          PIP_NO_CACHE_DIR: "1",
        };
        await assert.rejects(
          ensurePythonEnv({ venvDir, requirements, env: offline, log: quiet }),
          (err: unknown) => {
            assert.ok(err instanceof SetupError, String(err));
            // The whole message; only pip's own line and the log file's name vary.
            assert.match(
              err.message,
              new RegExp(
                [
                  "^pip could not reach its package index to install requirements\\.txt\\.",
                  "  pip said: .*(Connection refused|NewConnectionError|from versions: none).*",
                  "  Check the network connection and proxy \\(pip honours HTTPS_PROXY\\), or point pip at a reachable",
                  "  index or mirror with PIP_INDEX_URL, then run this command again\\.",
                  "  Full pip output: .+$",
                ].join("\n"),
              ),
            );
            return true;
          },
        );
        // Not stamped: the next run tries the install again instead of trusting a half-made environment.
        assert.equal(fs.existsSync(path.join(venvDir, ".attention-pooling-stamp.json")), false);
      },
    );

    test("a moved environment is made again", { timeout: 180_000 }, async () => {
      fs.writeFileSync(requirements, "# nothing to install\n");
      await ensurePythonEnv({ venvDir, requirements, env: env(), log: quiet });
      const movedDir = path.join(tmp, "venv-moved");
      fs.renameSync(venvDir, movedDir);
      const lines: string[] = [];
      const again = await ensurePythonEnv({
        venvDir: movedDir,
        requirements,
        env: env(),
        log: (l) => lines.push(l),
      });
      assert.equal(again.changed, true);
      assert.ok(
        lines.some((l) => l.includes(`was made in ${venvDir}`)),
        lines.join("\n"),
      );
    });
  });

  test("which() finds executables on PATH and nothing else", () => {
    const dir = shimDir(tmp, "tool", "#!/bin/sh\n");
    fs.writeFileSync(path.join(dir, "not-executable"), "", { mode: 0o644 });
    assert.equal(which("tool", { PATH: dir }), path.join(dir, "tool"));
    assert.equal(which("not-executable", { PATH: dir }), undefined);
    assert.equal(which("tool", { PATH: "" }), undefined);
  });
});
