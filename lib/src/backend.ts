/**
 * Backend selection: native TensorFlow (`@tensorflow/tfjs-node`) when it is installed,
 * otherwise WebAssembly (`@tensorflow/tfjs-backend-wasm`), otherwise the pure-JavaScript
 * `cpu` backend. The environment variable `ATTENTION_POOLING_BACKEND` forces one.
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
// tfjs-core alone has no gradients; autodiff (bandwidth learning) needs them registered.
import "./gradients";

import { fail } from "./errors";

/** The backends `lib` knows, best first. */
export const BACKENDS = ["tensorflow", "wasm", "cpu"] as const;
/** A backend name: `"tensorflow"` (tfjs-node), `"wasm"` or `"cpu"`. */
export type BackendName = (typeof BACKENDS)[number];

/** The environment variable that forces a backend. */
export const BACKEND_ENV = "ATTENTION_POOLING_BACKEND";

/**
 * Why the backend was set through {@link BACKEND_ENV}, in a few words, for the one-line report.
 * A tool that pins the backend for its own reasons says so here, e.g. the notebook runner:
 * "pinned so that the committed outputs reproduce". Unset, the report names the variable.
 */
export const BACKEND_REASON_ENV = "ATTENTION_POOLING_BACKEND_REASON";

/** What {@link initBackend} chose and why. */
export interface BackendInfo {
  /** The backend now active in TensorFlow.js. */
  readonly name: BackendName;
  /** One line saying why, e.g. `"tfjs-node is not installed"`. */
  readonly reason: string;
}

/** Options for {@link initBackend}. */
export interface InitBackendOptions {
  /** Force a backend; defaults to `process.env.ATTENTION_POOLING_BACKEND`, then the best available. */
  readonly backend?: BackendName;
  /** Don't print the one-line report. Default `false`. */
  readonly quiet?: boolean;
}

let chosen: Promise<BackendInfo> | undefined;
let reported = false;

/**
 * Chooses and initialises the TensorFlow.js backend, once per process, and reports the
 * choice in one line on stdout. Call it (and await it) before any other `lib` function.
 * Later calls return the first call's answer.
 *
 * @example
 * ```ts
 * const { name } = await initBackend(); // "attention-pooling: backend wasm (tfjs-node is not installed)"
 * ```
 */
export function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  // Every failure, bad options included, arrives through the returned promise.
  try {
    return start(options);
  } catch (err) {
    return Promise.reject(err);
  }
}

function start(options: InitBackendOptions): Promise<BackendInfo> {
  if (options.backend !== undefined && !(BACKENDS as readonly string[]).includes(options.backend)) {
    fail(
      "initBackend",
      `backend must be one of ${BACKENDS.join(", ")}, got ${JSON.stringify(options.backend)}`,
    );
  }
  if (chosen === undefined) {
    const fromEnv = options.backend === undefined ? readEnv() : undefined;
    const why =
      options.backend !== undefined
        ? "chosen in initBackend's options"
        : process.env[BACKEND_REASON_ENV]?.trim() || `set by ${BACKEND_ENV}`;
    chosen = choose(options.backend ?? fromEnv, why);
    chosen.catch(() => {
      chosen = undefined;
    });
  }
  return chosen.then((info) => {
    if (!reported && !options.quiet) {
      reported = true;
      console.log(`attention-pooling: backend ${info.name} (${info.reason})`);
    }
    return info;
  });
}

/** The name of the backend TensorFlow.js is using now. */
export function currentBackend(): string {
  return tf.getBackend();
}

function readEnv(): BackendName | undefined {
  const raw = process.env[BACKEND_ENV];
  if (raw === undefined || raw.trim() === "") return undefined;
  const name = raw.trim().toLowerCase();
  if (!(BACKENDS as readonly string[]).includes(name)) {
    fail("initBackend", `${BACKEND_ENV} must be one of ${BACKENDS.join(", ")}, got ${JSON.stringify(raw)}`);
  }
  return name as BackendName;
}

async function choose(forced: BackendName | undefined, why: string): Promise<BackendInfo> {
  if (forced !== undefined && !(BACKENDS as readonly string[]).includes(forced)) {
    fail("initBackend", `backend must be one of ${BACKENDS.join(", ")}, got ${JSON.stringify(forced)}`);
  }
  const order: BackendName[] = forced ? [forced] : [...BACKENDS];
  const skipped: string[] = [];
  for (const name of order) {
    const problem = await tryBackend(name);
    if (problem === undefined) {
      const reason = forced ? why : skipped.length === 0 ? "best available" : skipped.join("; ");
      return { name, reason };
    }
    if (forced) fail("initBackend", `backend ${JSON.stringify(name)} is unavailable: ${problem}`);
    skipped.push(problem);
  }
  // `cpu` is registered by the import above, so the loop always returns.
  return fail("initBackend", `no TensorFlow.js backend could start: ${skipped.join("; ")}`);
}

/** Returns `undefined` when `name` is now the active backend, or why it is not. */
async function tryBackend(name: BackendName): Promise<string | undefined> {
  try {
    if (name === "tensorflow") {
      const problem = loadTfjsNode();
      if (problem !== undefined) return problem;
    } else if (name === "wasm") {
      require("@tensorflow/tfjs-backend-wasm");
    }
    const ok = await tf.setBackend(name);
    if (!ok) return `${name} backend failed to initialise`;
    await tf.ready();
    if (name === "cpu") quietCpuBanner();
    return undefined;
  } catch (err) {
    return `${name} backend failed: ${(err as Error).message.split("\n")[0]}`;
  }
}

/**
 * Loads tfjs-node. tfjs-node 4.22 still calls `util.isNullOrUndefined`, which Node.js 23 removed
 * (restored here when missing), and `util.isArray`, which Node.js 22 and later deprecate with a
 * warning on stderr (DEP0044) the first time it is called: it is set to `Array.isArray`, which is
 * what it always was, so the backend line stays the only line.
 */
function loadTfjsNode(): string | undefined {
  try {
    require.resolve("@tensorflow/tfjs-node");
  } catch {
    return "tfjs-node is not installed";
  }
  // The real module object (an `import * as` namespace would be a copy).
  const legacy = require("node:util") as Record<string, unknown>;
  if (typeof legacy.isNullOrUndefined !== "function") {
    legacy.isNullOrUndefined = (v: unknown) => v === null || v === undefined;
  }
  legacy.isArray = Array.isArray;
  // Read by TensorFlow when it loads, unless the user set them: no info lines on stderr, and
  // the pooling (BFC) allocator, which reuses the 16 MB buffers every chunk allocates instead of
  // taking each from the OS again (measured 2.6× faster on Nadaraya-Watson at 4096²).
  process.env.TF_CPP_MIN_LOG_LEVEL ??= "1";
  process.env.TF_CPU_ALLOCATOR_USE_BFC ??= "true";
  try {
    require("@tensorflow/tfjs-node");
  } catch (err) {
    return `tfjs-node is installed but did not load (${(err as Error).message.split("\n")[0]})`;
  }
  if (tf.findBackendFactory("tensorflow") === null) {
    return "tfjs-node loaded a different copy of tfjs-core; align @tensorflow versions";
  }
  return undefined;
}

/** The cpu backend prints an "install tfjs-node" banner on first use; the choice is already reported. */
function quietCpuBanner(): void {
  const backend = tf.findBackend("cpu") as unknown as { firstUse?: boolean } | null;
  if (backend && "firstUse" in backend) backend.firstUse = false;
}
