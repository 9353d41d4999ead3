#!/usr/bin/env bash
# Instructions a harness spends per round, counted by valgrind's callgrind under
# `node --predictable` (V8 on one thread with fixed seeds: the same count run after run, whatever
# else the machine does, where CPU seconds here move by a third between runs of the same code).
# Runs ROUNDS and 2×ROUNDS rounds (both at once) and prints the difference: the cost of ROUNDS
# warmed-up rounds, start-up and compilation left out. See docs/benchmarks.md.
#   tests/bench/instructions/count.sh tests/bench/instructions/syslog-in-process.ts 4
set -euo pipefail
entry=${1:?usage: count.sh HARNESS.ts [ROUNDS]}
rounds=${2:-4}
command -v valgrind > /dev/null || { echo "valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
cd "$(dirname "$0")/../../.."
out=.data/instructions
mkdir -p "$out"
name=$(basename "$entry" .ts)
# Bundled like the shipped gateway (one file, no TypeScript loader to count); native addons stay out.
npx esbuild "$entry" --bundle --platform=node --format=esm --log-level=warning \
  --outfile="$out/$name.mjs" --external:classic-level \
  --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);"
count() {
  valgrind --tool=callgrind --callgrind-out-file="$out/$name.$1.callgrind" \
    node --predictable "$out/$name.mjs" "$1" 2>&1 | awk '/I +refs:/ { gsub(",", "", $NF); print $NF }'
}
count "$rounds" > "$out/$name.a" &
b=$(count $((rounds * 2)))
wait
a=$(cat "$out/$name.a")
echo "$name: $rounds rounds $a, $((rounds * 2)) rounds $b instructions; $rounds warmed-up rounds: $(((b - a) / 1000000)) million"
