/**
 * The request/answer protocol between the harness and its measurement processes.
 *
 * Each measurement runs in a process of its own (one per backend, one per Python baseline), so
 * backends never share a heap and the numpy baseline can get its own environment. A process reads
 * one JSON request per line on stdin and answers each with one line on stdout that starts with
 * {@link PREFIX}; anything else it prints is passed through to the harness's stderr.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import * as readline from "node:readline";

/** Marks an answer line, so stray output is never taken for one. */
export const PREFIX = "@@bench ";

/** A JSON request or answer. */
export type Message = Record<string, unknown>;

/** A running measurement process that answers requests one at a time. */
export class Worker {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting: Array<{ resolve: (m: Message) => void; reject: (e: Error) => void }> = [];
  private exited: string | undefined;
  private stderrTail = "";

  /**
   * @param label a name for messages, e.g. `"node wasm"`.
   * @param command the program, e.g. `process.execPath`.
   * @param args its arguments.
   * @param env its whole environment.
   * @param cwd its working folder. Default: this process's.
   */
  constructor(
    readonly label: string,
    command: string,
    args: readonly string[],
    env: NodeJS.ProcessEnv,
    cwd?: string,
  ) {
    this.child = spawn(command, args, { env, cwd, stdio: ["pipe", "pipe", "pipe"] });
    const lines = readline.createInterface({ input: this.child.stdout });
    lines.on("line", (line) => {
      if (!line.startsWith(PREFIX)) {
        if (line.trim() !== "") process.stderr.write(`  [${label}] ${line}\n`);
        return;
      }
      const next = this.waiting.shift();
      if (next === undefined) return;
      try {
        next.resolve(JSON.parse(line.slice(PREFIX.length)) as Message);
      } catch (err) {
        next.reject(
          new Error(`${label}: unreadable answer ${line.slice(0, 200)} (${(err as Error).message})`),
        );
      }
    });
    this.child.stderr.on("data", (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-4000);
    });
    const fail = (why: string): void => {
      this.exited = why;
      for (const w of this.waiting.splice(0))
        w.reject(new Error(`${label}: ${why}\n${this.stderrTail.trim()}`));
    };
    this.child.on("error", (err) => fail(`could not start (${err.message})`));
    this.child.on("exit", (code, signal) => fail(`exited (code ${code}, signal ${signal})`));
  }

  /** Sends one request and resolves with its answer; rejects when the answer carries `error`. */
  request(message: Message): Promise<Message> {
    if (this.exited !== undefined) {
      return Promise.reject(new Error(`${this.label}: ${this.exited}\n${this.stderrTail.trim()}`));
    }
    return new Promise<Message>((resolve, reject) => {
      this.waiting.push({
        resolve: (answer) =>
          typeof answer.error === "string"
            ? reject(
                new Error(`${this.label}: ${answer.error}${answer.trace ? `\n${String(answer.trace)}` : ""}`),
              )
            : resolve(answer),
        reject,
      });
      this.child.stdin.write(JSON.stringify(message) + "\n");
    });
  }

  /** Closes stdin and waits for the process to end. */
  async close(): Promise<void> {
    if (this.exited !== undefined) return;
    const done = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.stdin.end();
    await done;
  }
}

/**
 * The server side, for measurement processes written in TypeScript: answers requests from stdin
 * with `handlers[request.op]` until stdin closes. A handler that throws answers `{ error }`.
 */
export function serve(handlers: Record<string, (request: Message) => Message | Promise<Message>>): void {
  const lines = readline.createInterface({ input: process.stdin });
  let queue = Promise.resolve();
  lines.on("line", (line) => {
    if (line.trim() === "") return;
    queue = queue.then(async () => {
      let answer: Message;
      try {
        const request = JSON.parse(line) as Message;
        const handler = handlers[String(request.op)];
        if (handler === undefined) throw new Error(`unknown op ${JSON.stringify(request.op)}`);
        answer = await handler(request);
      } catch (err) {
        answer = {
          error: (err as Error).message,
          trace: (err as Error).stack?.split("\n").slice(1, 4).join("\n"),
        };
      }
      process.stdout.write(PREFIX + JSON.stringify(answer) + "\n");
    });
  });
}

/** Seconds elapsed since `start` (from `process.hrtime.bigint()`). */
export function since(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}
