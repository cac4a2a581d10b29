#!/usr/bin/env bash
# Runs the unit tests on every TensorFlow.js backend, prints a line per run and one summary line.
# Usage: scripts/unit.sh [test files…]   (default: every test/unit/**/*.test.ts)
#
# Suites under test/unit/once/ make no tensor, so nothing in them depends on the backend: they run
# once, on the default backend, and test/unit/once/no-tensors.ts fails any of them that makes a
# tensor. Every other suite runs on each backend.
#
# Backends: tensorflow (when @tensorflow/tfjs-node is installed: `npm run tfjs-node` installs it
# where `npm install` could not), wasm and cpu. Without tfjs-node the tensorflow run is skipped with
# a note, except when CI is set: there a missing backend is a failure, so CI cannot go green
# without testing it. UNIT_BACKENDS="wasm cpu" runs only those (scripts/node-versions.ts uses it).
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

read -ra backends <<<"${UNIT_BACKENDS:-tensorflow wasm cpu}"
pass=0
fail=0
status=0
lines=()
ran=()

# run_suites LABEL BACKEND NODE_ARGS...: one node:test run (empty BACKEND: the default), added to
# the totals and to the per-run lines.
run_suites() {
  local label=$1 backend=$2 log rc p f c start=$SECONDS
  shift 2
  log=$(mktemp)
  if [ -n "$backend" ]; then
    ATTENTION_POOLING_BACKEND="$backend" node --import tsx "$@" 2>&1 | tee "$log"
  else
    env -u ATTENTION_POOLING_BACKEND node --import tsx "$@" 2>&1 | tee "$log"
  fi
  rc=${PIPESTATUS[0]}
  p=$(grep -E '^ℹ pass [0-9]+' "$log" | tail -1 | awk '{print $3}')
  f=$(grep -E '^ℹ fail [0-9]+' "$log" | tail -1 | awk '{print $3}')
  c=$(grep -E '^ℹ cancelled [0-9]+' "$log" | tail -1 | awk '{print $3}')
  rm -f "$log"
  f=$((${f:-0} + ${c:-0}))
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  pass=$((pass + ${p:-0}))
  fail=$((fail + f))
  if [ "$rc" -ne 0 ] || [ -z "$p" ]; then status=1; fi
  lines+=("unit ${label}: ${p:-0} passed, ${f} failed ($((SECONDS - start)) s)")
}

if [ ${#once[@]} -gt 0 ]; then
  echo "== backend-independent unit tests (test/unit/once/), once on the default backend =="
  run_suites "once (backend-independent)" "" --import ./test/unit/once/no-tensors.ts --test --test-reporter=spec "${once[@]}"
fi
for backend in "${backends[@]}"; do
  [ ${#every[@]} -gt 0 ] || break
  if [ "$backend" = tensorflow ] && ! node -e 'require.resolve("@tensorflow/tfjs-node")' 2>/dev/null; then
    if [ -n "${CI:-}" ]; then
      lines+=("unit on tensorflow: not run, tfjs-node is not installed (npm run tfjs-node): a failure in CI")
      fail=$((fail + 1))
      status=1
    else
      lines+=("unit on tensorflow: skipped, tfjs-node is not installed (npm run tfjs-node installs it)")
    fi
    continue
  fi
  echo "== unit tests on the ${backend} backend =="
  run_suites "on ${backend}" "$backend" --test --test-reporter=spec "${every[@]}"
  ran+=("$backend")
done
printf '%s\n' "${lines[@]}"
echo "unit: ${pass} passed, ${fail} failed (backends: ${ran[*]:-none})"
exit $status
