/**
 * The memory pre-flight of the dense paths: before a call builds an `[m, n]` matrix of weights
 * (or scores), estimate the peak bytes it needs on the current backend and refuse, with an error
 * that names the size and the alternative, when it would not fit.
 *
 * Why: on the wasm backend an allocation past its 4 GiB address space aborts the WebAssembly
 * runtime, and every later call in the process fails ("table index is out of bounds"). In a
 * notebook that loses the kernel's whole session. A refusal before anything is allocated leaves
 * the backend as it was.
 *
 * The estimate counts the `[m, n]` float32 temporaries alive at the peak of one pooling step: the
 * kernel table's `peakTemporaries` for steps through log-weights (measured with `tf.profile`: 2
 * for the Gaussian, 6.5 for the boxcar, up to 11.75 for the masked compact kernels) or
 * `weightTemporaries` for Nadaraya-Watson's weights normalised directly (3 to 7), one more for 2
 * to 4 dimensions and three more for the matrix-product distances above, and a 10% margin. A test
 * measures every kernel's Nadaraya-Watson peak against its estimate. The fused kernels (fused.ts)
 * need no such matrix, so predictions that take them skip the check.
 */
import * as os from "node:os";

import * as tf from "@tensorflow/tfjs-core";

import { DIRECT_MAX_DIMS } from "./distance";
import { fail } from "./errors";
import type { Kernel } from "./kernels";

/** Bytes the wasm backend may use in all: its 4 GiB address space, less room for the runtime itself. */
export const WASM_BUDGET_BYTES = 3 * 2 ** 30;

/**
 * `[m, n]` float32 temporaries alive at the peak of one dense step (`kernel` undefined: a
 * dot-product softmax); `direct` for Nadaraya-Watson's weights normalised directly (a kernel with
 * a `weight`), else through log-weights.
 */
export function denseTemporaries(kernel: Kernel | undefined, dims: number, direct = false): number {
  const base =
    kernel === undefined
      ? 3
      : ((direct ? kernel.weightTemporaries : undefined) ?? kernel.peakTemporaries ?? 12);
  const distances = dims <= 1 ? 0 : dims <= DIRECT_MAX_DIMS ? 1 : 3;
  return 1.1 * (base + distances);
}

/** The bytes a dense step over `pairs` (query, key) pairs may still use on the current backend. */
export function availableBytes(): number {
  const used = tf.memory().numBytes;
  if (tf.getBackend() === "wasm") return WASM_BUDGET_BYTES - used;
  // cpu and tensorflow allocate from the process heap: stay within half of the machine's memory.
  return os.totalmem() / 2 - used;
}

const gib = (bytes: number): string => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

/**
 * Refuses a dense step over an `[m, n]` matrix that would not fit, before anything is allocated.
 *
 * @param alternative what to do instead, for the message (e.g. "omit returnWeights to evaluate in chunks").
 */
export function checkDenseMemory(
  fn: string,
  m: number,
  n: number,
  dims: number,
  kernel: Kernel | undefined,
  alternative: string,
  direct = false,
): void {
  const need = m * n * 4 * denseTemporaries(kernel, dims, direct);
  const room = availableBytes();
  if (need > room) {
    fail(
      fn,
      `a ${m} × ${n} weight matrix needs about ${gib(need)} at its peak on the ${tf.getBackend()} backend, ` +
        `more than the ${gib(Math.max(0, room))} available; ${alternative}`,
    );
  }
}
