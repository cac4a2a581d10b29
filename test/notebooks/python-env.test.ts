/**
 * Setting up the project's Python environments (scripts/python-env.ts and scripts/env/): what the
 * user is told when Python, its venv module or the package index is missing; that an environment
 * that is up to date is reused; and that both installers, uv (on PATH, or the pinned one installed
 * into a tools folder) and pip (forced, or when uv cannot be had), make an environment that runs the
 * pinned JupyterLab. Missing pieces are faked with an empty PATH, a stand-in `python3` script, a
 * shadowed `ensurepip` module, a tools folder that cannot be created, and an index URL on a closed
 * local port.
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
  STAMP_FILE,
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

  test("venv module missing, pip path: ensurePythonEnv stops before making anything", async () => {
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
      ensurePythonEnv({ venvDir, env: { PATH: dir, HOME: tmp }, installer: "pip", log: quiet }),
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
        path.join(PROJECT_ROOT, "scripts", "tslab-kernel.cjs"),
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
        path.join(moved, "scripts", "tslab-kernel.cjs"),
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
          ensurePythonEnv({ venvDir, requirements, env: offline, installer: "pip", log: quiet }),
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
        assert.equal(fs.existsSync(path.join(venvDir, STAMP_FILE)), false);
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

  describe("uv, and pip when uv cannot be had", () => {
    /** The pinned uv version, from the committed requirements-uv.txt. */
    const pinnedUv = /^uv==(\S+)/m.exec(
      fs.readFileSync(path.join(PROJECT_ROOT, "requirements-uv.txt"), "utf8"),
    )?.[1];
    /** `PATH` without any folder that holds a `uv`, so that only the tools folder can supply one. */
    const pathWithoutUv = (process.env.PATH ?? "")
      .split(path.delimiter)
      .filter((dir) => which("uv", { PATH: dir }) === undefined)
      .join(path.delimiter);
    const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
      ...process.env,
      PATH: pathWithoutUv,
      PIP_CONFIG_FILE: os.devNull,
      ATTENTION_POOLING_INSTALLER: "",
      ...extra,
    });
    const realRequirements = path.join(PROJECT_ROOT, "requirements.txt");
    /** A tools folder that cannot be made: its parent is a file. */
    let noTools: string;
    let toolsDir: string;
    let nothing: string;

    before(() => {
      fs.writeFileSync(path.join(tmp, "a-file"), "");
      noTools = path.join(tmp, "a-file", "tools");
      toolsDir = path.join(tmp, "tools");
      nothing = path.join(tmp, "nothing.txt");
      fs.writeFileSync(nothing, "# nothing to install\n");
    });

    /** What the environment's Python says about the three direct requirements. */
    function directVersions(venvDir: string): string {
      return execFileSync(
        venvPython(venvDir),
        [
          "-c",
          "import jupyterlab, nbclient, nbformat; print(jupyterlab.__version__, nbclient.__version__, nbformat.__version__)",
        ],
        { encoding: "utf8", env: jupyterEnv() },
      ).trim();
    }

    /** The `uv = X` line uv writes into the pyvenv.cfg of an environment it made, if any. */
    function madeByUv(venvDir: string): string | undefined {
      return /^uv = (\S+)$/m.exec(fs.readFileSync(path.join(venvDir, "pyvenv.cfg"), "utf8"))?.[1];
    }

    function hasPip(venvDir: string): boolean {
      return spawnSync(venvPython(venvDir), ["-m", "pip", "--version"], { env: jupyterEnv() }).status === 0;
    }

    test(
      "uv path: installs the pinned uv into the tools folder, and its environment runs the pinned JupyterLab",
      { timeout: 300_000 },
      async () => {
        assert.match(pinnedUv ?? "", /^\d+\.\d+\.\d+$/);
        const venvDir = path.join(tmp, "venv-uv");
        const lines: string[] = [];
        const made = await ensurePythonEnv({
          venvDir,
          requirements: realRequirements,
          toolsDir,
          env: env(),
          log: (l) => lines.push(l),
        });
        assert.equal(made.installer, "uv");
        assert.ok(
          lines.includes(
            `Installing uv ${pinnedUv} into ${path.relative(process.cwd(), toolsDir)} (once; it sets up the environment faster than pip)…`,
          ),
          lines.join("\n"),
        );
        const uv = path.join(toolsDir, "bin", "uv");
        assert.equal(execFileSync(uv, ["--version"], { encoding: "utf8" }).split(" ")[1], pinnedUv);
        assert.equal(madeByUv(venvDir), pinnedUv);
        assert.equal(hasPip(venvDir), false, "uv makes environments without pip");
        assert.equal(directVersions(venvDir), "4.6.6 0.11.0 5.11.1");
        const kernels = execFileSync(made.python, ["-m", "jupyter", "kernelspec", "list", "--json"], {
          env: jupyterEnv(),
          encoding: "utf8",
        });
        assert.deepEqual(Object.keys((JSON.parse(kernels) as { kernelspecs: object }).kernelspecs), [
          "tslab",
        ]);
        assert.equal(lines.filter((l) => /with pip/.test(l)).length, 0, lines.join("\n"));

        const again = await ensurePythonEnv({
          venvDir,
          requirements: realRequirements,
          toolsDir,
          env: env(),
          log: quiet,
        });
        assert.deepEqual([again.changed, again.installer], [false, "uv"]);
      },
    );

    test("a uv on PATH is used as it is, and no other is installed", { timeout: 120_000 }, async () => {
      const onPath = fs.mkdtempSync(path.join(tmp, "uv-on-path-"));
      fs.symlinkSync(path.join(toolsDir, "bin", "uv"), path.join(onPath, "uv"));
      const venvDir = path.join(tmp, "venv-uv-on-path");
      const lines: string[] = [];
      const made = await ensurePythonEnv({
        venvDir,
        requirements: nothing,
        toolsDir: noTools,
        env: env({ PATH: `${onPath}${path.delimiter}${pathWithoutUv}` }),
        log: (l) => lines.push(l),
      });
      assert.equal(made.installer, "uv");
      assert.equal(madeByUv(venvDir), pinnedUv);
      assert.equal(lines.filter((l) => /^Installing uv/.test(l)).length, 0, lines.join("\n"));
    });

    test(
      "uv unavailable: says so in one line, and pip makes an environment that runs the pinned JupyterLab",
      { timeout: 600_000 },
      async () => {
        const venvDir = path.join(tmp, "venv-pip");
        const lines: string[] = [];
        const made = await ensurePythonEnv({
          venvDir,
          requirements: realRequirements,
          toolsDir: noTools,
          env: env(),
          log: (l) => lines.push(l),
        });
        assert.equal(made.installer, "pip");
        const told = lines.filter((l) => /\buv\b/.test(l));
        assert.equal(told.length, 1, lines.join("\n"));
        assert.match(
          told[0] ?? "",
          /^uv is not available \(none on PATH, and .*\); installing with pip, which takes a minute or two\.$/,
        );
        assert.equal(madeByUv(venvDir), undefined);
        assert.equal(hasPip(venvDir), true);
        assert.equal(directVersions(venvDir), "4.6.6 0.11.0 5.11.1");
        assert.equal(JSON.parse(fs.readFileSync(path.join(venvDir, STAMP_FILE), "utf8")).installer, "pip");
      },
    );

    test(
      "ATTENTION_POOLING_INSTALLER=pip forces pip where uv is available, and remakes an environment uv made",
      { timeout: 300_000 },
      async () => {
        const venvDir = path.join(tmp, "venv-forced");
        const requirements = path.join(tmp, "forced.txt");
        fs.writeFileSync(requirements, "# nothing to install\n");
        const byUv = await ensurePythonEnv({ venvDir, requirements, toolsDir, env: env(), log: quiet });
        assert.equal(byUv.installer, "uv");

        fs.appendFileSync(requirements, "# changed, so the environment is installed again\n");
        const lines: string[] = [];
        const byPip = await ensurePythonEnv({
          venvDir,
          requirements,
          toolsDir,
          env: env({ ATTENTION_POOLING_INSTALLER: "pip" }),
          log: (l) => lines.push(l),
        });
        assert.deepEqual([byPip.changed, byPip.installer], [true, "pip"]);
        assert.ok(
          lines.some((l) => /has no pip \(uv made it\); creating it again/.test(l)),
          lines.join("\n"),
        );
        assert.ok(
          lines.some((l) => /with pip \(pinned in forced\.txt/.test(l)),
          lines.join("\n"),
        );
        assert.equal(lines.filter((l) => /uv is not available/.test(l)).length, 0, lines.join("\n"));
        assert.equal(madeByUv(venvDir), undefined);
        assert.equal(hasPip(venvDir), true);
      },
    );

    test("ATTENTION_POOLING_INSTALLER=uv with no uv to be had: says why", async () => {
      const venvDir = path.join(tmp, "venv-never-made-uv");
      await assert.rejects(
        ensurePythonEnv({
          venvDir,
          requirements: nothing,
          toolsDir: noTools,
          env: env({ ATTENTION_POOLING_INSTALLER: "uv" }),
          log: quiet,
        }),
        (err: unknown) => {
          assert.ok(err instanceof SetupError, String(err));
          assert.match(
            err.message,
            /^ATTENTION_POOLING_INSTALLER=uv, but uv is not available: none on PATH, and /,
          );
          return true;
        },
      );
      assert.equal(fs.existsSync(venvDir), false);
    });

    test("a mistyped ATTENTION_POOLING_INSTALLER names the variable and the value", async () => {
      await assert.rejects(
        ensurePythonEnv({
          venvDir: path.join(tmp, "venv-typo"),
          env: env({ ATTENTION_POOLING_INSTALLER: "pipp" }),
          log: quiet,
        }),
        (err: unknown) =>
          err instanceof SetupError &&
          err.message === 'ATTENTION_POOLING_INSTALLER must be one of auto, uv, pip, got "pipp".',
      );
    });

    test("venv module missing: uv makes the environment all the same", { timeout: 120_000 }, async () => {
      const blocker = fs.mkdtempSync(path.join(tmp, "no-ensurepip-"));
      fs.writeFileSync(
        path.join(blocker, "ensurepip.py"),
        "raise ModuleNotFoundError(\"No module named 'ensurepip'\")\n",
      );
      const dir = shimDir(tmp, "python3", `#!/bin/sh\nPYTHONPATH=${blocker} exec ${python} "$@"\n`);
      const venvDir = path.join(tmp, "venv-without-ensurepip");
      const made = await ensurePythonEnv({
        venvDir,
        requirements: nothing,
        toolsDir,
        env: env({ PATH: `${dir}${path.delimiter}${pathWithoutUv}` }),
        log: quiet,
      });
      assert.equal(made.installer, "uv");
      assert.match(
        execFileSync(made.python, ["-c", "import sys; print(sys.prefix)"], { encoding: "utf8" }),
        new RegExp(venvDir),
      );
    });

    test(
      "a Python without pip (Debian's python3 without python3-pip) installs uv through a venv of its own",
      { timeout: 300_000 },
      async () => {
        const blocker = fs.mkdtempSync(path.join(tmp, "no-pip-"));
        fs.mkdirSync(path.join(blocker, "pip"));
        fs.writeFileSync(
          path.join(blocker, "pip", "__init__.py"),
          "raise ModuleNotFoundError(\"No module named 'pip'\")\n",
        );
        const dir = shimDir(tmp, "python3", `#!/bin/sh\nPYTHONPATH=${blocker} exec ${python} "$@"\n`);
        const shimEnv = env({ PATH: `${dir}${path.delimiter}${pathWithoutUv}` });
        assert.notEqual(spawnSync("python3", ["-m", "pip", "--version"], { env: shimEnv }).status, 0);
        const ownTools = path.join(tmp, "tools-from-venv");
        const venvDir = path.join(tmp, "venv-no-pip");
        const made = await ensurePythonEnv({
          venvDir,
          requirements: nothing,
          toolsDir: ownTools,
          env: shimEnv,
          log: quiet,
        });
        assert.equal(made.installer, "uv");
        assert.ok(
          fs.existsSync(path.join(ownTools, "pyvenv.cfg")),
          "the tools folder is a virtual environment",
        );
        assert.equal(madeByUv(venvDir), pinnedUv);
      },
    );

    test(
      "uv unable to reach the index: says what uv said, then pip tries and names the index setting",
      { timeout: 180_000 },
      async () => {
        const venvDir = path.join(tmp, "venv-offline");
        const requirements = path.join(tmp, "offline.txt");
        fs.writeFileSync(requirements, "nbformat==5.11.1\n");
        const port = await closedPort();
        const lines: string[] = [];
        await assert.rejects(
          ensurePythonEnv({
            venvDir,
            requirements,
            toolsDir,
            env: env({
              PIP_INDEX_URL: `http://127.0.0.1:${port}/simple/`,
              PIP_RETRIES: "0",
              PIP_TIMEOUT: "5",
              PIP_NO_CACHE_DIR: "1",
              UV_HTTP_RETRIES: "0",
              UV_CACHE_DIR: path.join(tmp, "uv-cache-offline"),
            }),
            log: (l) => lines.push(l),
          }),
          (err: unknown) =>
            err instanceof SetupError && /^pip could not reach its package index/.test(err.message),
        );
        const told = lines.filter((l) => /^uv could not set up/.test(l));
        assert.equal(told.length, 1, lines.join("\n"));
        assert.match(told[0] ?? "", /\(uv said: .*Connection refused.*\); installing with pip instead\.$/);
      },
    );
  });

  test("which() finds executables on PATH and nothing else", () => {
    const dir = shimDir(tmp, "tool", "#!/bin/sh\n");
    fs.writeFileSync(path.join(dir, "not-executable"), "", { mode: 0o644 });
    assert.equal(which("tool", { PATH: dir }), path.join(dir, "tool"));
    assert.equal(which("not-executable", { PATH: dir }), undefined);
    assert.equal(which("tool", { PATH: "" }), undefined);
  });
});
