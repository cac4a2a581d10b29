/**
 * `npm run figures`: renders every registered figure to figures/<name>.svg and figures/<name>.png.
 *
 *   npm run figures                      write all figures
 *   npm run figures -- tutorial-width    only figures whose name contains one of the words given
 *   npm run figures -- --check           write nothing; exit 1 if a file on disk differs
 *   npm run figures -- --list            print the registered names
 *
 * The figures are built by the same lib functions the notebooks call, so a notebook's inline
 * PNG and the file here are the same bytes. To add a notebook's figures, add its entries
 * ({ name, description, build }) to FIGURES below.
 */
import * as fs from "node:fs";
import * as path from "node:path";

import {
  initBackend,
  parzenExerciseFigures,
  renderSvg,
  sphereExerciseFigures,
  sigmaExerciseFigures,
  ratesExerciseFigures,
  svgToPng,
  tutorialFigures,
  type FigureEntry,
  type RenderableFigure,
} from "../lib/src/index";

/** Every figure `npm run figures` writes, in order. */
const FIGURES: readonly FigureEntry<RenderableFigure>[] = [
  ...tutorialFigures(),
  ...parzenExerciseFigures(),
  ...sphereExerciseFigures(),
  ...sigmaExerciseFigures(),
  ...ratesExerciseFigures(),
  // Exercise notebooks register their figures here, e.g. ...parzenFigures(),
];

const OUT_DIR = path.resolve(__dirname, "..", "figures");

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const check = args.includes("--check");
  if (args.includes("--list")) {
    for (const f of FIGURES) console.log(`${f.name}  ${f.description}`);
    return 0;
  }
  const words = args.filter((a) => !a.startsWith("--"));
  const unknown = args.filter((a) => a.startsWith("--") && a !== "--check");
  if (unknown.length > 0) {
    console.error(`figures: unknown option ${unknown.join(", ")}; expected --check or --list`);
    return 2;
  }
  const chosen = words.length === 0 ? FIGURES : FIGURES.filter((f) => words.some((w) => f.name.includes(w)));
  if (chosen.length === 0) {
    console.error(`figures: no figure name contains ${words.join(" or ")}; see npm run figures -- --list`);
    return 2;
  }
  const names = new Set<string>();
  for (const f of FIGURES) {
    if (names.has(f.name)) throw new Error(`figures: two entries are named ${f.name}`);
    names.add(f.name);
  }

  await initBackend();
  fs.mkdirSync(OUT_DIR, { recursive: true });
  let stale = 0;
  for (const entry of chosen) {
    const figure = entry.build();
    const svg = await renderSvg(figure);
    const files: [string, Uint8Array][] = [
      [`${entry.name}.svg`, new TextEncoder().encode(svg)],
      [`${entry.name}.png`, svgToPng(svg, figure.pixelRatio)],
    ];
    for (const [name, bytes] of files) {
      const file = path.join(OUT_DIR, name);
      const rel = path.relative(process.cwd(), file);
      if (check) {
        const same = fs.existsSync(file) && Buffer.from(bytes).equals(fs.readFileSync(file));
        if (!same) stale++;
        console.log(`${same ? "up to date" : "DIFFERS   "}  ${rel}`);
      } else {
        fs.writeFileSync(file, bytes);
        console.log(`wrote ${rel} (${bytes.length} bytes)`);
      }
    }
  }
  if (check && stale > 0) {
    console.error(`figures: ${stale} file(s) differ from a fresh render; run npm run figures`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
