/** The machine a benchmark ran on, in the words of its report: CPU and SIMD, cores, memory, OS, versions, load. */
import * as fs from "node:fs";
import * as os from "node:os";

import { type BenchEnv } from "../scripts/python-env";

export function describeMachine(env: BenchEnv): Record<string, unknown> {
  const cpus = os.cpus();
  let model = cpus[0]?.model?.trim() ?? "unknown";
  try {
    const info = fs.readFileSync("/proc/cpuinfo", "utf8");
    const flags = /^flags\s*:(.*)$/m.exec(info)?.[1] ?? "";
    const simd = ["avx512f", "avx2", "neon"].filter((f) => flags.split(" ").includes(f));
    if (simd.length) model += ` (${simd.join(", ")})`;
  } catch {
    // Not Linux: the model name alone.
  }
  return {
    CPU: model,
    cores: cpus.length,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`,
    OS: `${os.type()} ${os.release()} ${os.arch()}`,
    Node: process.version,
    Python: env.version ?? "absent",
    "load average at start (1, 5, 15 min)": os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(", "),
  };
}
