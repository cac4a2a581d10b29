#!/usr/bin/env bash
# Runs the unit tests once per available TensorFlow.js backend and prints one summary line.
# Usage: scripts/unit.sh [test files…]   (default: every test/unit/**/*.test.ts)
set -uo pipefail
shopt -s globstar
cd "$(dirname "$0")/.."

files=("$@")
[ ${#files[@]} -gt 0 ] || files=(test/unit/**/*.test.ts)

backends=(wasm cpu)
if node -e 'require.resolve("@tensorflow/tfjs-node")' 2>/dev/null; then backends=(tensorflow "${backends[@]}"); fi

pass=0
fail=0
status=0
for backend in "${backends[@]}"; do
  echo "== unit tests on the ${backend} backend =="
  log=$(mktemp)
  ATTENTION_POOLING_BACKEND="$backend" node --import tsx --test --test-reporter=spec "${files[@]}" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  p=$(grep -E '^ℹ pass [0-9]+' "$log" | tail -1 | awk '{print $3}')
  f=$(grep -E '^ℹ fail [0-9]+' "$log" | tail -1 | awk '{print $3}')
  rm -f "$log"
  pass=$((pass + ${p:-0}))
  fail=$((fail + ${f:-0}))
  if [ "$rc" -ne 0 ] || [ -z "$p" ]; then status=1; fi
done
echo "unit: ${pass} passed, ${fail} failed (backends: ${backends[*]})"
exit $status
