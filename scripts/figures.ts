/**
 * `npm run figures`: writes figures/ from the notebooks, which are the figures' one source.
 *
 *   npm run figures                         run every notebook, write the figures they show
 *   npm run figures -- notebooks/01-*.ipynb only these notebooks' figures
 *   npm run figures -- --check              write nothing; exit 1 if a file differs from a fresh run
 *
 * Each notebook shows its figures with `show(figure, { name })`. The notebooks run here in fresh
 * tslab kernels (as `npm run notebooks` runs them, but without touching the notebook files), and
 * `show` saves every named figure as `<name>.svg` and `<name>.png`; those files are then copied
 * to figures/. On a full run, a file in figures/ that no notebook shows is removed (or, with
 * --check, reported). `npm run notebooks` writes the figures too, together with the outputs.
 */
import * as path from "node:path";

import { runNotebooks } from "./notebooks";
import { runMain } from "./python-env";

if (require.main === module) {
  const userDir = process.env.INIT_CWD ?? process.cwd();
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a.startsWith("--") && a !== "--check" && a !== "--timeout");
  if (unknown.length > 0) {
    console.error(
      `figures: unknown option ${unknown.join(", ")}; expected --check, --timeout SECONDS or notebook paths`,
    );
    process.exit(2);
  }
  const check = args.includes("--check");
  const passed = args
    .filter((a) => a !== "--check")
    .map((arg, i, all) =>
      arg.endsWith(".ipynb") && all[i - 1] !== "--timeout" ? path.resolve(userDir, arg) : arg,
    );
  runMain(() => runNotebooks(["--no-write", ...passed], { figures: check ? "check" : "write" }));
}
