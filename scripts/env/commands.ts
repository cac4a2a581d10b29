/**
 * Running the environment setup's commands: child processes whose output is kept for the error
 * message, and {@link SetupError}, the one kind of error a user sees from the setup.
 */
import { spawn } from "node:child_process";

/** A problem the user can fix by installing or configuring something; printed without a stack trace. */
export class SetupError extends Error {
  override name = "SetupError";
}

/** What a finished command printed (stdout and stderr interleaved) and its exit code. */
export interface RunResult {
  readonly code: number;
  readonly output: string;
}

/** Runs `command args` without a shell or stdin and collects everything it prints. Never rejects. */
export function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.on("error", (err) => resolve({ code: 127, output: output + err.message }));
    child.on("close", (code) => resolve({ code: code ?? 1, output }));
  });
}

/** The last `n` non-blank lines of `text`. */
export function lastLines(text: string, n: number): string {
  return text
    .split(/\r?\n/)
    .filter((l) => l.trim() !== "")
    .slice(-n)
    .join("\n")
    .trim();
}

/** `text` with every line indented by four spaces. */
export function indent(text: string): string {
  return text
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n");
}

/**
 * Runs a command-line entry point: a {@link SetupError} is printed as its message alone and exits
 * with status 1; anything else is a bug and keeps its stack.
 */
export function runMain(main: () => Promise<number | void>): void {
  main().then(
    (code) => {
      if (typeof code === "number") process.exitCode = code;
    },
    (err: unknown) => {
      if (err instanceof SetupError) {
        console.error(`\n${err.message}\n`);
      } else {
        console.error(err);
      }
      process.exitCode = 1;
    },
  );
}
