/**
 * Loaded before each suite under test/unit/once/ (scripts/unit.sh passes it with --import). Those
 * suites run once instead of on every backend because none of them makes a tensor, so nothing in
 * them depends on the backend. This turns that claim into a check: after the suite, TensorFlow.js
 * must not have made a single tensor in this process. A suite that starts child processes pins
 * their backend itself (as once/backend.test.ts does).
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { after } from "node:test";

after(() => {
  // tfjs-core keeps its engine on the global object, and counts every tensor it ever made.
  const engine = (globalThis as { _tfengine?: { constructor: { nextTensorId?: number } } })._tfengine;
  const made = engine?.constructor.nextTensorId ?? 0;
  const suite = path.relative(process.cwd(), process.argv[1] ?? "this suite");
  assert.equal(
    made,
    0,
    `${suite} made ${made} tensor${made === 1 ? "" : "s"}: a suite that computes with tensors depends on the backend, ` +
      "so it belongs in test/unit/, which runs on every backend, not in test/unit/once/.",
  );
});
