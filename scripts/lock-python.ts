/**
 * Re-locking the pinned Python requirements (`npm run lock:python`): resolves each `*.in` file of
 * direct requirements with `uv pip compile` into the `*.txt` that gets installed, every package
 * pinned with the hashes of its files for every platform. Versions already pinned stay unless the
 * `.in` file asks otherwise; `npm run lock:python -- --upgrade` moves everything to the newest allowed.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { run, runMain, SetupError } from "./env/commands";
import { chooseInstaller, uvEnv } from "./env/uv";
import { PROJECT_ROOT } from "./python-env";

/** One lock file: where it comes from, the oldest Python it must install on, and what it is for. */
interface Lock {
  readonly output: string;
  /** The direct requirements, or a literal requirement (for uv itself). */
  readonly input: string | { readonly text: string };
  /** The oldest Python the lock must install on; `undefined`: any (no markers to resolve). */
  readonly python?: string;
  readonly constraints?: string;
  readonly purpose: string;
}

const LOCKS: readonly Lock[] = [
  {
    output: "requirements.txt",
    input: "requirements.in",
    python: "3.10",
    purpose: "JupyterLab and the headless notebook runner, in .venv (npm start, npm run notebooks, npm test)",
  },
  {
    output: "requirements-uv.txt",
    input: { text: "uv\n" },
    purpose: "uv, the installer that sets the environments up (put in .venv-tools/ when none is on PATH)",
  },
  {
    output: "bench/requirements.txt",
    input: "bench/requirements.in",
    python: "3.11",
    purpose: "the benchmark's Python baselines, in .bench-venv (npm run bench -- --no-torch)",
  },
  {
    output: "bench/requirements-torch.txt",
    input: "bench/requirements-torch.in",
    python: "3.11",
    constraints: "bench/requirements.txt",
    purpose: "the benchmark's Python baselines with PyTorch, in .bench-venv (npm run bench)",
  },
];

function header(lock: Lock): string {
  const from = typeof lock.input === "string" ? path.basename(lock.input) : "`uv` (newest when first locked)";
  return [
    `# Pinned Python packages for ${lock.purpose}.`,
    "# Every package has its exact version and the hashes of its files, so every machine installs the",
    `# same bytes. Made by \`npm run lock:python\` (uv pip compile) from ${from}; do not edit by hand.`,
    "",
  ].join("\n");
}

async function main(): Promise<void> {
  const upgrade = process.argv.includes("--upgrade");
  const log = (line: string): void => console.log(line);
  const installer = await chooseInstaller({ root: PROJECT_ROOT, env: process.env, log }, "uv");
  if (installer.kind !== "uv") throw new SetupError("uv is needed to re-lock the requirements.");
  const env = uvEnv(process.env);
  for (const lock of LOCKS) {
    const output = path.join(PROJECT_ROOT, lock.output);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "lock-python-"));
    try {
      const input =
        typeof lock.input === "string" ? path.join(PROJECT_ROOT, lock.input) : path.join(tmp, "in.txt");
      if (typeof lock.input !== "string") fs.writeFileSync(input, lock.input.text);
      // uv keeps the versions already in the output file: compile into a copy of it.
      const draft = path.join(tmp, "out.txt");
      if (fs.existsSync(output)) fs.copyFileSync(output, draft);
      const args = [
        "pip",
        "compile",
        input,
        "--output-file",
        draft,
        "--generate-hashes",
        "--no-header",
        "--quiet",
      ];
      if (lock.python !== undefined) args.push("--universal", "--python-version", lock.python);
      if (typeof lock.input !== "string") args.push("--no-annotate"); // "via" would name a temporary file
      if (lock.constraints !== undefined)
        args.push("--constraint", path.join(PROJECT_ROOT, lock.constraints));
      if (upgrade) args.push("--upgrade");
      const res = await run(installer.uv, args, env);
      if (res.code !== 0) throw new SetupError(`uv pip compile ${lock.input} failed:\n${res.output.trim()}`);
      // Paths in uv's "# via -r …" notes would differ between machines: keep them relative.
      const body = fs
        .readFileSync(draft, "utf8")
        .split(PROJECT_ROOT + path.sep)
        .join("")
        .split(tmp + path.sep)
        .join("");
      const text = header(lock) + body;
      const before = fs.existsSync(output) ? fs.readFileSync(output, "utf8") : "";
      fs.writeFileSync(output, text);
      log(`${lock.output}: ${text === before ? "unchanged" : "written"}`);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
}

if (require.main === module) runMain(main);
