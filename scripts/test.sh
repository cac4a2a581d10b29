#!/usr/bin/env bash
# The one test command (`npm test`): lint and format, type-check, build, then the unit tests
# on every available backend, the notebook tests and the browser test.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== lint and format =="
npx eslint .
npx prettier --check .

echo "== type-check and build =="
npx tsc -p tsconfig.json
npm run --silent build

bash scripts/unit.sh
