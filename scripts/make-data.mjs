// Writes the seeded tutorial data to data/tutorial/. Run with `npm run data`.
import { createRequire } from "node:module";
import * as path from "node:path";

const require = createRequire(import.meta.url);
const { tutorialData, writeCsv, TUTORIAL_SEED, dataDir } = require("attention-pooling");

const d = tutorialData();
const dir = path.join(dataDir(), "tutorial");
writeCsv(path.join(dir, "train.csv"), { x: d.xTrain, y: d.yTrain });
writeCsv(path.join(dir, "validation.csv"), { x: d.xVal, f: d.yVal });
console.log(
  `wrote ${d.xTrain.length} training and ${d.xVal.length} validation rows (seed ${JSON.stringify(TUTORIAL_SEED)})`,
);
