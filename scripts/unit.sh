#!/usr/bin/env bash
# Runs the unit tests on every available TensorFlow.js backend and prints one summary line.
# Usage: scripts/unit.sh [test files…]   (default: every test/unit/**/*.test.ts)
#
# Suites under test/unit/once/ make no tensor, so nothing in them depends on the backend: they run
# once, on the default backend, and test/unit/once/no-tensors.ts fails any of them that makes a
# tensor. Every other suite runs on each backend.
set -uo pipefail
shopt -s globstar
cd "$(dirname "$0")/.."

files=("$@")
[ ${#files[@]} -gt 0 ] || files=(test/unit/**/*.test.ts)
once=()
every=()
for file in "${files[@]}"; do
  case "$file" in
    test/unit/once/* | */test/unit/once/*) once+=("$file") ;;
    *) every+=("$file") ;;
  esac
done

backends=(wasm cpu)
if node -e 'require.resolve("@tensorflow/tfjs-node")' 2>/dev/null; then backends=(tensorflow "${backends[@]}"); fi

pass=0
fail=0
status=0
# run_suites BACKEND NODE_ARGS...: one node:test run (no BACKEND: the default), added to the totals.
run_suites() {
  local backend=$1 log rc p f
  shift
  log=$(mktemp)
  if [ -n "$backend" ]; then
    ATTENTION_POOLING_BACKEND="$backend" node --import tsx "$@" 2>&1 | tee "$log"
  else
    env -u ATTENTION_POOLING_BACKEND node --import tsx "$@" 2>&1 | tee "$log"
  fi
  rc=${PIPESTATUS[0]}
  p=$(grep -E '^ℹ pass [0-9]+' "$log" | tail -1 | awk '{print $3}')
  f=$(grep -E '^ℹ fail [0-9]+' "$log" | tail -1 | awk '{print $3}')
  rm -f "$log"
  pass=$((pass + ${p:-0}))
  fail=$((fail + ${f:-0}))
  if [ "$rc" -ne 0 ] || [ -z "$p" ]; then status=1; fi
}

if [ ${#once[@]} -gt 0 ]; then
  echo "== backend-independent unit tests (test/unit/once/), once on the default backend =="
  run_suites "" --import ./test/unit/once/no-tensors.ts --test --test-reporter=spec "${once[@]}"
fi
for backend in "${backends[@]}"; do
  [ ${#every[@]} -gt 0 ] || break
  echo "== unit tests on the ${backend} backend =="
  run_suites "$backend" --test --test-reporter=spec "${every[@]}"
done
echo "unit: ${pass} passed, ${fail} failed (backends: ${backends[*]})"
exit $status
