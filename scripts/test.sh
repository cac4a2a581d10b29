#!/usr/bin/env bash
# The one test command (`npm test`): lint and format, type-check, build, then the unit tests
# on every backend, the package test, the install command's tests, the notebook tests and the
# browser tests, all on the `node` running this; then the stages that depend on the Node.js version
# again on each pinned other version that is fetched (scripts/node-versions.ts; in CI a version
# not fetched is a failure).
#
# Every stage runs even when an earlier one failed, so one run shows every problem. Lint, format,
# type-check and build count as one check each; the test stages count their tests. A line per
# Node.js version gives its counts, and the last line sums up all stages for CI:
# "total: N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."

pass=0
fail=0
skip=0
stages_failed=()

# check NAME COMMAND...: one check that passes or fails.
check() {
  local name=$1
  shift
  echo "== ${name} =="
  if "$@"; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    stages_failed+=("$name")
  fi
}

# count LOG RC NAME: add the node:test counts in LOG; a run that failed without a failed test counts as one failure.
count() {
  local log=$1 rc=$2 name=$3 p f c s
  p=$(grep -E '^ℹ pass [0-9]+' "$log" | tail -1 | awk '{print $3}')
  f=$(grep -E '^ℹ fail [0-9]+' "$log" | tail -1 | awk '{print $3}')
  c=$(grep -E '^ℹ cancelled [0-9]+' "$log" | tail -1 | awk '{print $3}')
  s=$(grep -E '^ℹ skipped [0-9]+' "$log" | tail -1 | awk '{print $3}')
  f=$((${f:-0} + ${c:-0}))
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  pass=$((pass + ${p:-0}))
  fail=$((fail + f))
  skip=$((skip + ${s:-0}))
  if [ "$f" -ne 0 ]; then stages_failed+=("$name"); fi
}

# node_tests NAME FILES...: a node:test stage, one file at a time (the machine has 2 cores).
node_tests() {
  local name=$1 log rc
  shift
  echo "== ${name} =="
  log=$(mktemp)
  node --import tsx --test --test-concurrency=1 --test-reporter=spec "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  count "$log" "$rc" "$name"
  rm -f "$log"
}

check "lint" npx eslint .
check "format" npx prettier --check .
check "type-check" npx tsc -p tsconfig.json
check "build" npm run --silent build

echo "== unit tests =="
log=$(mktemp)
bash scripts/unit.sh 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
summary=$(grep -E '^unit: [0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
rm -f "$log"
p=$(sed -E 's/^unit: ([0-9]+) passed.*/\1/' <<<"$summary")
f=$(sed -E 's/^unit: [0-9]+ passed, ([0-9]+) failed.*/\1/' <<<"$summary")
if [ -z "$summary" ]; then p=0 f=1; fi
if [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then f=1; fi
pass=$((pass + p))
fail=$((fail + f))
if [ "$f" -ne 0 ]; then stages_failed+=("unit tests"); fi

node_tests "package test (npm pack of lib, installed into an empty folder)" test/package/*.test.ts
node_tests "install command (npm run tfjs-node)" test/tfjs-node/*.test.ts

# The notebook tests create the project's Python environment (.venv) when it is missing.
node_tests "notebook tests (Python environment, runner, every notebook)" test/notebooks/*.test.ts
node_tests "browser tests (JupyterLab, and openFigure offline, in headless Chromium)" test/browser/*.test.ts

this_node="node $(node -p process.versions.node): ${pass} passed, ${fail} failed, ${skip} skipped (this machine's node: every stage above)"

echo "== other Node.js versions (npm run node-versions -- --if-fetched) =="
log=$(mktemp)
node --import tsx scripts/node-versions.ts --if-fetched 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
summary=$(grep -E '^node versions: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped' "$log" | tail -1)
# Each version's line comes twice (after its stages and in the closing list): keep one.
version_lines=$(grep -E '^node [0-9]+\.[0-9]+\.[0-9]+: ([0-9]+ passed|skipped|not run|tensorflow not run)|^other Node\.js versions: ' "$log" | awk '!seen[$0]++')
rm -f "$log"
read -r p f s < <(sed -E 's/^node versions: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped.*/\1 \2 \3/' <<<"$summary")
if [ -z "$summary" ]; then p=0 f=1 s=0; fi
if [ "$rc" -ne 0 ] && [ "${f:-0}" -eq 0 ]; then f=1; fi
pass=$((pass + p))
fail=$((fail + f))
skip=$((skip + s))
if [ "$f" -ne 0 ]; then stages_failed+=("other Node.js versions"); fi

echo "$this_node"
[ -z "$version_lines" ] || echo "$version_lines"
if [ ${#stages_failed[@]} -gt 0 ]; then
  echo "== failed: $(IFS=,; echo "${stages_failed[*]}" | sed 's/,/, /g') =="
fi
echo "total: ${pass} passed, ${fail} failed, ${skip} skipped"
[ "$fail" -eq 0 ]
