/**
 * Taking turns: several processes (`npm start`, the tests, the benchmark) may set up the same
 * environment at once, so each holds a lock folder while it works on one.
 */
import * as fs from "node:fs";
import * as path from "node:path";

import { SetupError } from "./commands";

/** How long to wait for another process before giving up. */
const WAIT_LIMIT_MS = 15 * 60_000;

/**
 * Runs `fn` while holding the lock folder `lockDir`: waits while another live process holds it,
 * and takes over the lock of a process that died holding it.
 *
 * @param what what the holder is doing, for the waiting line ("setting up .venv").
 */
export async function withLock<T>(
  lockDir: string,
  what: string,
  log: (line: string) => void,
  fn: () => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  let told = false;
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      fs.writeFileSync(path.join(lockDir, "pid"), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const holder = Number(readOr(path.join(lockDir, "pid"), "0"));
      if (holder > 0 && !isAlive(holder)) {
        fs.rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline)
        throw new SetupError(`Timed out waiting for ${lockDir} (held by process ${holder}).`);
      if (!told) log(`Waiting for another process (${holder || "starting"}) that is ${what}…`);
      told = true;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
}

function readOr(file: string, fallback: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return fallback;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
