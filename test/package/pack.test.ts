/**
 * The library as a user installs it: `npm pack` of `lib`, installed into an empty folder outside
 * the project, loads the tutorial data and the Iris data from the package itself and runs
 * Nadaraya-Watson. (Inside a checkout the data come from the project's `data/`, so only an
 * install elsewhere shows whether the package carries them.)
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";

const root = path.resolve(__dirname, "..", "..");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
let tmp = "";

before(() => {
  assert.ok(fs.existsSync(path.join(root, "lib", "dist", "index.js")), "lib is built (npm run build)");
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "attention-pooling-pack-"));
  const out = execFileSync(npm, ["pack", "-w", "lib", "--pack-destination", tmp, "--json"], {
    cwd: root,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  const [{ filename }] = JSON.parse(out) as [{ filename: string }];
  const app = path.join(tmp, "app");
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, "package.json"), JSON.stringify({ name: "app", private: true }));
  // Optional dependencies (tfjs-node, plotly.js-dist-min) are left out: the wasm backend is enough here.
  execFileSync(
    npm,
    ["install", path.join(tmp, filename), "--omit=optional", "--no-audit", "--no-fund", "--prefer-offline"],
    { cwd: app, stdio: ["ignore", "ignore", "pipe"] },
  );
});

after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test("the packed library carries its data and runs outside the project", () => {
  const app = path.join(tmp, "app");
  const installed = path.join(app, "node_modules", "attention-pooling");
  for (const file of [
    "tutorial/train.csv",
    "tutorial/validation.csv",
    "tutorial/README.md",
    "iris/iris.csv",
    "iris/README.md",
  ]) {
    assert.ok(fs.existsSync(path.join(installed, "data", file)), `the package has data/${file}`);
  }
  const script = `
    const ap = require("attention-pooling");
    (async () => {
      await ap.initBackend({ backend: "wasm" });
      const { xTrain, yTrain, xVal } = ap.loadTutorialData();
      const iris = ap.loadIris();
      const { predictions } = ap.nadarayaWatson(xTrain, yTrain, xVal, "gaussian", { sigma: 0.5 });
      const p = Array.from(predictions.dataSync());
      console.log(JSON.stringify({ train: xTrain.length, val: xVal.length, iris: iris.points.length, n: p.length, finite: p.every(Number.isFinite), dataDir: require.resolve("attention-pooling"), fused: ap.fusedKernelInfo() }));
    })();
  `;
  const out = execFileSync(process.execPath, ["-e", script], { cwd: app, encoding: "utf8" });
  const result = JSON.parse(out.trim().split("\n").pop()!) as Record<string, unknown>;
  assert.deepEqual(
    { train: result.train, val: result.val, iris: result.iris, n: result.n, finite: result.finite },
    { train: 40, val: 50, iris: 150, n: 50, finite: true },
  );
  assert.ok(
    !String(result.dataDir).startsWith(root),
    "the package resolved from the app, not from the checkout",
  );
  // The package carries the WebAssembly module and the sources its stamp names.
  assert.deepEqual(result.fused, {
    backend: "wasm",
    available: true,
    detail: "the fused WebAssembly module (SIMD, one thread)",
  });
});

test("without the optional Plotly package, openFigure names the package and version to install", () => {
  const app = path.join(tmp, "app");
  const pinned = (
    JSON.parse(fs.readFileSync(path.join(root, "lib", "package.json"), "utf8")) as {
      optionalDependencies: Record<string, string>;
    }
  ).optionalDependencies["plotly.js-dist-min"];
  const script = `
    const ap = require("attention-pooling");
    const figure = ap.linesFigure([{ series: [{ name: "y", x: [0, 1], y: [1, 2] }] }]);
    try { ap.openFigure(figure, { open: false }); console.log("no error"); } catch (err) { console.log(err.message); }
  `;
  const out = execFileSync(process.execPath, ["-e", script], { cwd: app, encoding: "utf8" }).trim();
  assert.match(
    out,
    /^openFigure: cannot find the optional package plotly\.js-dist-min \(Cannot find module 'plotly\.js-dist-min'/,
  );
  assert.ok(
    out.endsWith(`install it with npm install plotly.js-dist-min@${pinned}, or use saveFigure().`),
    `the message names the pinned version ${pinned}, got ${out}`,
  );
});
