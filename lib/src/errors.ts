/**
 * One error format for the whole library: `"<function>: <what is wrong>, got <value seen>."`
 *
 * Every public function validates at the door and throws an {@link AttentionPoolingError}
 * whose message names the function, the argument and the value it saw, so a caller never
 * has to read a stack trace from inside TensorFlow.js.
 *
 * In a notebook the error prints as that one line, with no stack: tslab prints a cell's error
 * with `console.error`, which would otherwise show the library's compiled source line and
 * frames of tslab's own. (The project's kernel, scripts/tslab-kernel.cjs, adds the line of the
 * cell that made the call.) Set `ATTENTION_POOLING_DEBUG=1` to see the full stack there too.
 * Outside a notebook the error prints as any other, stack included.
 */
import { inspect } from "node:util";

export class AttentionPoolingError extends Error {
  /** The public function that rejected its input, e.g. `"nadarayaWatson"`. */
  readonly fn: string;

  constructor(fn: string, message: string) {
    super(`${fn}: ${/[.!?]$/.test(message) ? message : `${message}.`}`);
    this.name = "AttentionPoolingError";
    this.fn = fn;
  }

  /** How `console.log`/`console.error` and `util.inspect` show the error; see the class doc. */
  [inspect.custom](depth: number, options: Parameters<typeof inspect>[1]): string {
    if (inNotebook() && !process.env.ATTENTION_POOLING_DEBUG) return `${this.name}: ${this.message}`;
    return inspect(this, { ...options, depth, customInspect: false });
  }
}

/** Whether this process is a tslab kernel running a cell (tslab defines `__tslab__` for its cells). */
function inNotebook(): boolean {
  return typeof (globalThis as { __tslab__?: unknown }).__tslab__ === "object";
}

/** Throws an {@link AttentionPoolingError} for `fn` with `message`. */
export function fail(fn: string, message: string): never {
  throw new AttentionPoolingError(fn, message);
}

/** Formats a value seen in an argument for an error message, briefly. */
export function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") return Number.isNaN(value) ? "NaN" : String(value);
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) {
    const head = value.slice(0, 4).map(describe).join(", ");
    return `[${head}${value.length > 4 ? ", …" : ""}] (length ${value.length})`;
  }
  if (typeof value === "object" && "shape" in value && "dtype" in value) {
    const t = value as { shape: number[]; dtype: string };
    return `${t.dtype} tensor of shape [${t.shape.join(", ")}]`;
  }
  if (ArrayBuffer.isView(value)) {
    return `${value.constructor.name} of length ${(value as unknown as ArrayLike<number>).length}`;
  }
  return typeof value;
}
