#!/usr/bin/env bash
# Runs the unit tests once per TensorFlow.js backend, prints a line per backend and one summary line.
# Usage: scripts/unit.sh [test files…]   (default: test/unit/*.test.ts)
#
# Backends: tensorflow (when @tensorflow/tfjs-node is installed: `npm run tfjs-node` installs it
# where `npm install` could not), wasm and cpu. Without tfjs-node the tensorflow run is skipped with
# a note, except when CI is set: there a missing backend is a failure, so CI cannot go green
# without testing it.
set -uo pipefail
cd "$(dirname "$0")/.."

files=("$@")
[ ${#files[@]} -gt 0 ] || files=(test/unit/*.test.ts)

backends=(tensorflow wasm cpu)
pass=0
fail=0
status=0
lines=()
ran=()
for backend in "${backends[@]}"; do
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
  log=$(mktemp)
  start=$SECONDS
  ATTENTION_POOLING_BACKEND="$backend" node --import tsx --test --test-reporter=spec "${files[@]}" 2>&1 | tee "$log"
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
  ran+=("$backend")
  lines+=("unit on ${backend}: ${p:-0} passed, ${f} failed ($((SECONDS - start)) s)")
done
printf '%s\n' "${lines[@]}"
echo "unit: ${pass} passed, ${fail} failed (backends: ${ran[*]:-none})"
exit $status
