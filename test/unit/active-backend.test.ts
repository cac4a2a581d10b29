// backend.ts on every backend: this process runs on the backend scripts/unit.sh asked for, so a
// suite that passes here has really run on it. How the backend is chosen: once/backend.test.ts.
import assert from "node:assert/strict";
import { test } from "node:test";

import { currentBackend, initBackend } from "../../lib/src/index";
import { BACKEND_ENV } from "../../lib/src/backend";

test("the active backend is the one the environment asked for", async () => {
  const info = await initBackend({ quiet: true });
  const wanted = process.env[BACKEND_ENV];
  if (wanted) assert.equal(info.name, wanted);
  assert.equal(currentBackend(), info.name);
});
