/**
 * `npm start` as a learner runs it, with a home folder of its own: JupyterLab comes up on
 * 127.0.0.1 with the token, runs a TypeScript kernel, keeps a changed setting and a saved workspace
 * in the project's .jupyter/, and writes nothing under the home folder's Jupyter directories
 * (~/.jupyter, ~/.local/share/jupyter).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";

import { freePortFrom, launchJupyterLab } from "../../scripts/jupyter";
import { PROJECT_ROOT, SetupError } from "../../scripts/python-env";
import { projectJupyterDirs } from "../../scripts/start";
import { pythonEnv } from "./helpers";

let home: string;

before(async () => {
  await pythonEnv();
  home = fs.mkdtempSync(path.join(os.tmpdir(), "start-home-"));
});

after(() => fs.rmSync(home, { recursive: true, force: true }));

test("the folders JupyterLab writes to are the project's, unless the user set them", () => {
  const ours = projectJupyterDirs({}, "/p");
  assert.equal(ours.JUPYTER_CONFIG_DIR, path.join("/p", ".jupyter", "config"));
  assert.equal(ours.JUPYTER_RUNTIME_DIR, path.join("/p", ".jupyter", "runtime"));
  assert.equal(ours.JUPYTERLAB_WORKSPACES_DIR, path.join("/p", ".jupyter", "workspaces"));
  assert.equal(ours.JUPYTER_DATA_DIR, path.join("/p", ".jupyter", "data"));
  assert.equal(ours.IPYTHONDIR, path.join("/p", ".jupyter", "ipython"));
  assert.equal(ours.JUPYTERLAB_SETTINGS_DIR, path.join("/p", ".jupyter", "settings"));
  const theirs = projectJupyterDirs({ JUPYTER_RUNTIME_DIR: "/r", JUPYTERLAB_WORKSPACES_DIR: "/w" }, "/p");
  assert.equal(theirs.JUPYTER_RUNTIME_DIR, "/r");
  assert.equal(theirs.JUPYTERLAB_WORKSPACES_DIR, "/w");
});

/** A setting and a workspace written through JupyterLab's API, as the browser writes them. */
const SETTING = "@jupyterlab/apputils-extension:notification";
const WORKSPACE = `start-test-${process.pid}`;

test(
  "npm start runs a TypeScript kernel, keeps settings and workspaces in the project, and writes nothing under ~/.jupyter, ~/.local/share/jupyter or ~/.ipython",
  { timeout: 180_000 },
  async () => {
    const port = await freePortFrom(18_900);
    const token = "start-test-token";
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, CI: "true", JUPYTER_TOKEN: token };
    for (const name of [
      "IPYTHONDIR",
      "JUPYTER_CONFIG_DIR",
      "JUPYTER_DATA_DIR",
      "JUPYTER_RUNTIME_DIR",
      "JUPYTERLAB_WORKSPACES_DIR",
      "JUPYTERLAB_SETTINGS_DIR",
      "XDG_DATA_HOME",
      "XDG_CONFIG_HOME",
    ])
      delete env[name];
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "scripts/start.ts", "--no-browser", "--port", String(port)],
      {
        cwd: PROJECT_ROOT,
        env,
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      },
    );
    const jupyterDir = path.join(PROJECT_ROOT, ".jupyter");
    const settingFile = path.join(
      jupyterDir,
      "settings",
      "@jupyterlab",
      "apputils-extension",
      "notification.jupyterlab-settings",
    );
    const settingBefore = fs.existsSync(settingFile) ? fs.readFileSync(settingFile, "utf8") : undefined;
    const workspaces = path.join(jupyterDir, "workspaces");
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    try {
      const deadline = Date.now() + 120_000;
      while (!output.includes("JupyterLab is ready")) {
        if (child.exitCode !== null || Date.now() > deadline)
          assert.fail(`npm start did not come up:\n${output}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      const base = `http://127.0.0.1:${port}`;
      const auth = { Authorization: `token ${token}` };
      const kernel = (await (
        await fetch(`${base}/api/kernels`, {
          method: "POST",
          headers: auth,
          body: JSON.stringify({ name: "tslab" }),
        })
      ).json()) as { id: string; name: string };
      assert.equal(kernel.name, "tslab");
      assert.equal((await fetch(`${base}/lab?token=${token}`)).status, 200);
      await fetch(`${base}/api/kernels/${kernel.id}`, { method: "DELETE", headers: auth });
      // What the browser writes as a learner works: a changed setting and the layout of the tabs.
      const setting = await fetch(`${base}/lab/api/settings/${SETTING}`, {
        method: "PUT",
        headers: auth,
        body: JSON.stringify({ raw: '{ "fetchNews": "false" }' }),
      });
      assert.equal(setting.status, 204, await setting.text());
      assert.equal(fs.readFileSync(settingFile, "utf8"), '{ "fetchNews": "false" }');
      const workspace = await fetch(`${base}/lab/api/workspaces/${WORKSPACE}`, {
        method: "PUT",
        headers: auth,
        body: JSON.stringify({ data: {}, metadata: { id: WORKSPACE } }),
      });
      assert.equal(workspace.status, 204, await workspace.text());
      const saved = fs.readdirSync(workspaces).filter((f) => f.startsWith(WORKSPACE));
      assert.equal(saved.length, 1, `the workspace is not in the project's .jupyter/workspaces: ${saved}`);
      await fetch(`${base}/lab/api/workspaces/${WORKSPACE}`, { method: "DELETE", headers: auth });
    } finally {
      if (settingBefore === undefined) fs.rmSync(settingFile, { force: true });
      else fs.writeFileSync(settingFile, settingBefore);
      if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, "SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
      if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, "SIGKILL");
    }
    // A quiet start: no warning or error from JupyterLab (such as the 403 of an anonymous request) or
    // tslab while it runs. (What the test's own stop cuts short, such as jupyter_lsp's search for
    // language servers on a slow machine, is not the start.)
    const running = output.split(/^\[C [^\n]*received signal 15/m)[0] ?? output;
    const noisy = running.split("\n").filter((l) => /^\[[WEC] |unknown msg_type|Forbidden/.test(l));
    assert.deepEqual(noisy, [], `npm start printed warnings:\n${output}`);
    const written = [".jupyter", path.join(".local", "share", "jupyter"), ".ipython"].filter((d) =>
      fs.existsSync(path.join(home, d)),
    );
    const files = written.flatMap((d) =>
      fs.readdirSync(path.join(home, d), { recursive: true }).map((f) => path.join(d, String(f))),
    );
    assert.deepEqual([...written, ...files], [], `npm start wrote under the home folder:\n${output}`);
  },
);

for (const where of ["its server file", "an anonymous request"]) {
  test(
    `a Jupyter config that turns authentication off is refused (found from ${where})`,
    { timeout: 180_000 },
    async () => {
      const { python } = await pythonEnv();
      const config = fs.mkdtempSync(path.join(home, "config-"));
      fs.writeFileSync(
        path.join(config, "jupyter_server_config.json"),
        JSON.stringify({ IdentityProvider: { token: "" } }),
      );
      const env: NodeJS.ProcessEnv = { JUPYTER_CONFIG_DIR: config };
      if (where === "its server file") env.JUPYTER_RUNTIME_DIR = fs.mkdtempSync(path.join(home, "runtime-"));
      else env.JUPYTER_RUNTIME_DIR = "";
      await assert.rejects(
        launchJupyterLab({
          python,
          rootDir: path.join(PROJECT_ROOT, "notebooks"),
          port: await freePortFrom(18_950),
          env,
        }),
        (err: unknown) => {
          assert.ok(err instanceof SetupError, String(err));
          assert.equal(
            err.message,
            "JupyterLab runs without a token or password, so authentication is off,\n" +
              "  probably by a token or password setting in your Jupyter config; npm start will not serve without it.",
          );
          return true;
        },
      );
    },
  );
}
