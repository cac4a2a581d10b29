/**
 * The benchmark's own Python environment, `.bench-venv`, with the baselines pinned in
 * bench/requirements.txt: created on first use, reused while a stamp (a hash of the installed
 * requirements and the Python version) matches, and set up again when the file changes. It is
 * separate from the Jupyter environment `.venv`, which it never touches.
 *
 * The requirements have two sections; the second (PyTorch, about 5 GB with the CUDA libraries
 * its Linux wheels depend on) is skipped with `--no-torch`, and when it cannot be installed the
 * first section is installed alone and PyTorch is reported absent.
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** The project root (the parent of bench/). */
export const ROOT = path.resolve(__dirname, "..");
/** Where the benchmark environment lives. */
export const BENCH_VENV = path.join(ROOT, ".bench-venv");
/** The pinned requirements. */
export const REQUIREMENTS = path.join(ROOT, "bench", "requirements.txt");
/** The line that starts the optional PyTorch section of the requirements. */
export const TORCH_MARKER = "# --- torch";

const STAMP = ".bench-stamp.json";

/** What {@link ensureBenchEnv} set up. */
export interface BenchEnv {
  /** The environment's interpreter, or undefined when no environment could be made. */
  readonly python?: string;
  /** The Python version inside it. */
  readonly version?: string;
  /** Whether the PyTorch section is installed. */
  readonly torch: boolean;
  /** Why the environment, or its PyTorch section, is missing. */
  readonly problems: string[];
}

/** The interpreter inside a virtual environment. */
export function venvPython(venv: string): string {
  return process.platform === "win32"
    ? path.join(venv, "Scripts", "python.exe")
    : path.join(venv, "bin", "python");
}

/** The requirements text with or without its PyTorch section. */
export function requirementsText(withTorch: boolean): string {
  const text = fs.readFileSync(REQUIREMENTS, "utf8");
  if (withTorch) return text;
  const cut = text.indexOf(TORCH_MARKER);
  return cut < 0 ? text : text.slice(0, cut);
}

function pythonVersion(python: string): string | undefined {
  const res = spawnSync(python, ["-c", "import platform; print(platform.python_version())"], {
    encoding: "utf8",
    timeout: 60_000,
  });
  const out = (res.stdout ?? "").trim();
  return res.status === 0 && /^\d+\.\d+/.test(out) ? out : undefined;
}

function findPython(): string | undefined {
  const candidates = [process.env.PYTHON, "python3", "python"].filter((c): c is string => !!c);
  return candidates.find((c) => pythonVersion(c) !== undefined);
}

function run(command: string, args: string[], log: string): Promise<number> {
  return new Promise((resolve) => {
    const out = fs.openSync(log, "a");
    const child = spawn(command, args, {
      stdio: ["ignore", out, out],
      env: { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: "1", PYTHONNOUSERSITE: "1" },
    });
    child.on("error", () => resolve(127));
    child.on("close", (code) => {
      fs.closeSync(out);
      resolve(code ?? 1);
    });
  });
}

function stampOf(text: string, version: string): string {
  return createHash("sha256").update(`python ${version}\n`).update(text).digest("hex");
}

function readStamp(venv: string): { stamp?: string; torch?: boolean } {
  try {
    return JSON.parse(fs.readFileSync(path.join(venv, STAMP), "utf8")) as { stamp?: string; torch?: boolean };
  } catch {
    return {};
  }
}

/**
 * Creates or reuses `.bench-venv`. Never throws for a missing Python or package index: the harness
 * then measures the library alone and reports the baselines as absent, with the reason.
 *
 * @param wantTorch install the PyTorch section too.
 * @param log where progress lines go.
 */
export async function ensureBenchEnv(wantTorch: boolean, log: (line: string) => void): Promise<BenchEnv> {
  const venv = BENCH_VENV;
  const python = venvPython(venv);
  let version = fs.existsSync(python) ? pythonVersion(python) : undefined;
  const stamp = readStamp(venv);
  if (version !== undefined) {
    // Up to date with what was asked for (an environment with PyTorch also serves --no-torch).
    if (stamp.stamp === stampOf(requirementsText(wantTorch), version))
      return { python, version, torch: wantTorch, problems: [] };
    if (!wantTorch && stamp.torch && stamp.stamp === stampOf(requirementsText(true), version)) {
      return { python, version, torch: true, problems: [] };
    }
  }
  const problems: string[] = [];
  const logFile = path.join(os.tmpdir(), "attention-pooling-bench-pip.log");
  fs.writeFileSync(logFile, "");
  if (version === undefined) {
    const base = findPython();
    if (base === undefined) {
      return {
        torch: false,
        problems: ["no python3 on PATH (set PYTHON), so the Python baselines were not run"],
      };
    }
    log(`bench: creating ${path.relative(ROOT, venv)} with ${base}…`);
    fs.rmSync(venv, { recursive: true, force: true });
    if (
      (await run(base, ["-m", "venv", venv], logFile)) !== 0 ||
      (version = pythonVersion(python)) === undefined
    ) {
      return {
        torch: false,
        problems: [`${base} could not create ${path.relative(ROOT, venv)} (see ${logFile})`],
      };
    }
  }
  const install = async (withTorch: boolean): Promise<boolean> => {
    const text = requirementsText(withTorch);
    const file = path.join(venv, withTorch ? "requirements-all.txt" : "requirements-core.txt");
    fs.writeFileSync(file, text);
    log(
      `bench: installing the pinned Python baselines${withTorch ? " (PyTorch included; about 5 GB the first time)" : ""} into ${path.relative(ROOT, venv)}…`,
    );
    fs.rmSync(path.join(venv, STAMP), { force: true });
    const code = await run(
      python,
      ["-m", "pip", "install", "--no-input", "--progress-bar", "off", "-r", file],
      logFile,
    );
    if (code !== 0) return false;
    fs.writeFileSync(
      path.join(venv, STAMP),
      JSON.stringify({ stamp: stampOf(text, version as string), torch: withTorch }) + "\n",
    );
    return true;
  };
  if (wantTorch) {
    if (await install(true)) return { python, version, torch: true, problems };
    problems.push(`PyTorch could not be installed (see ${logFile}); it is reported absent`);
  }
  if (await install(false)) return { python, version, torch: false, problems };
  problems.push(`pip could not install bench/requirements.txt (see ${logFile}); Python baselines absent`);
  return { torch: false, problems };
}
