/**
 * What every benchmark section shares: the command-line options and the sizes of a run, the
 * worker processes (one Node process per backend, one Python process per baseline), the pause
 * that lets BLAS threads settle, and small helpers for timing and comparing results.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

import { BACKENDS } from "../lib/src/backend";
import { PROJECT_ROOT as ROOT } from "../scripts/python-env";
import { Worker, type Message } from "./protocol";

export const SECTIONS = ["prediction", "kernels", "selection", "windowed", "memory", "notebooks"] as const;
export type Section = (typeof SECTIONS)[number];

export interface Options {
  quick: boolean;
  runs: number;
  sections: Set<Section>;
  backends: string[] | undefined;
  torch: boolean;
  python: boolean;
  readme: boolean;
}

/** Sizes and budgets of a full run and of the quick smoke run. */
export const PLAN = {
  full: {
    prediction: [1024, 4096, 16384],
    kernels: 4096,
    selection: [500, 2000],
    memory: 100_000,
    runs: 5,
    statsmodelsRuns: 3,
    memoryRuns: 2,
    windowed: [
      { kernel: "epanechnikov", sigma: 0.3, n: 4096 },
      { kernel: "epanechnikov", sigma: 0.3, n: 16384 },
      { kernel: "epanechnikov", sigma: 0.3, n: 100_000 },
      { kernel: "gaussian", sigma: 0.02, n: 4096 },
      { kernel: "gaussian", sigma: 0.02, n: 16384 },
      { kernel: "gaussian", sigma: 0.14, n: 16384 },
    ],
    windowedRuns: 3,
    /** Longest a backend may spend on one size (warm-up + runs), estimated from the size before. */
    budget: 150,
  },
  quick: {
    prediction: [256, 1024],
    kernels: 512,
    selection: [200],
    memory: 20_000,
    runs: 2,
    statsmodelsRuns: 1,
    memoryRuns: 1,
    windowed: [
      { kernel: "epanechnikov", sigma: 0.3, n: 1024 },
      { kernel: "gaussian", sigma: 0.02, n: 1024 },
    ],
    windowedRuns: 2,
    budget: 20,
  },
} as const;

/** The Gaussian width used for prediction: the tutorial's kernel exp(−x²/2), σ = 1. */
export const SIGMA = 1;
export const TSX = ["--import", "tsx"];

/**
 * Idle time before each timed call. BLAS and OpenMP worker threads keep spinning for a while
 * after a call returns (OpenBLAS for about 2²⁸ cycles); without a pause they would compete with
 * the next contender's call on a 2-core machine.
 */
export const SETTLE_MS = 250;
/** Calls shorter than this (judged by the warm-up call) are timed right after an untimed call. */
export const HOT_BELOW_S = 0.5;
export const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The TensorFlow.js backends that can start here, best first (tfjs-node only when installed). */
export function availableBackends(): string[] {
  return BACKENDS.filter((b) => {
    if (b !== "tensorflow") return true;
    try {
      require.resolve("@tensorflow/tfjs-node");
      return true;
    } catch {
      return false;
    }
  });
}

/** The environment for a Python baseline: OpenBLAS's processor overrides removed, in that process only. */
export function pythonEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONNOUSERSITE: "1", PYTHONDONTWRITEBYTECODE: "1" };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  return env;
}

export function nodeWorker(label: string, script: string, backend?: string): Worker {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (backend) env.ATTENTION_POOLING_BACKEND = backend;
  return new Worker(
    label,
    process.execPath,
    [...TSX, path.join(ROOT, "bench", "workers", script)],
    env,
    ROOT,
  );
}

export function pythonWorker(label: string, python: string, script: string, args: string[] = []): Worker {
  return new Worker(label, python, [path.join(ROOT, "bench", "python", script), ...args], pythonEnv(), ROOT);
}

export const log = (line: string): void => console.log(line);

/** threadpoolctl's record of the BLAS libraries, in words: "openblas 0.3.31, SkylakeX kernel, 2 threads". */
export function describeBlas(blas: unknown): string {
  if (!Array.isArray(blas)) return "unknown";
  const libs = (blas as Array<Record<string, unknown>>).filter((b) => b.user_api === "blas");
  if (libs.length === 0) return "none reported";
  return libs
    .map((b) => {
      const parts = [`${String(b.internal_api)} ${String(b.version ?? "")}`.trim()];
      if (b.architecture) parts.push(`${String(b.architecture)} kernel`);
      parts.push(`${String(b.num_threads)} threads`);
      return parts.join(", ");
    })
    .join("; ");
}
export const num = (m: Message, key: string): number => {
  const v = m[key];
  if (typeof v !== "number") throw new Error(`bench: expected a number for ${key}, got ${JSON.stringify(v)}`);
  return v;
};

export function readFloat32(file: string): Float32Array {
  const buf = fs.readFileSync(file);
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
  return worst;
}

export function runOnce(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string; seconds: number }> {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", (err) => resolve({ code: 127, stdout, stderr: stderr + err.message, seconds: 0 }));
    child.on("close", (code) =>
      resolve({ code: code ?? 1, stdout, stderr, seconds: Number(process.hrtime.bigint() - start) / 1e9 }),
    );
  });
}
