#!/usr/bin/env bash
# Runs one 1,000-step graph of trivial commands through kiln (cache off) and
# through ninja, timed from outside by hyperfine in the same run, and prints
# kiln's wall time as a ratio of ninja's. Target: at most 1.3.
#
# Usage: bench/scheduler_vs_ninja.sh [KILN_BINARY] [STEPS] [JOBS]
set -euo pipefail

kiln=$(realpath "${1:-build/kiln}")
steps=${2:-1000}
jobs=${3:-$(nproc)}
work=$(mktemp -d /tmp/kiln-bench-sched.XXXXXX)
trap 'rm -rf "$work"' EXIT

for tool in ninja hyperfine; do
  command -v "$tool" >/dev/null || {
    echo "bench: $tool not found; run scripts/install-deps.sh" >&2
    exit 1
  }
done

# Step i depends on step i/2 and step i-7, when those exist: a graph with
# long chains and wide fan-out. Every step runs "touch out/i" through
# /bin/sh, as ninja runs its commands.
mkdir -p "$work/kiln/out" "$work/ninja/out"
{
  echo "version: 1"
  echo "repos:"
  echo "  bench: { path: . }"
  echo "targets:"
  for ((i = 0; i < steps; i++)); do
    deps=()
    ((i > 0)) && deps+=("s$((i / 2))")
    ((i >= 7)) && deps+=("s$((i - 7))")
    dep_list=$(IFS=,; echo "${deps[*]:-}")
    echo "  - { name: s$i, plugin: command, cache: false, inputs: [],"\
      "deps: [${dep_list}], run: \"touch out/$i\" }"
  done
} >"$work/kiln/kiln.yaml"

{
  echo "rule touch"
  echo "  command = touch \$out"
  for ((i = 0; i < steps; i++)); do
    deps=""
    ((i > 0)) && deps+=" out/$((i / 2))"
    ((i >= 7)) && deps+=" out/$((i - 7))"
    echo "build out/$i: touch |${deps}"
  done
} >"$work/ninja/build.ninja"

echo "bench: $steps steps, -j$jobs, $(nproc) cores, $(uname -m)"
hyperfine --warmup 1 --runs "${RUNS:-10}" --export-json "$work/result.json" \
  --prepare "rm -rf $work/kiln/out/* $work/kiln/.kiln $work/ninja/out/* $work/ninja/.ninja_log $work/ninja/.ninja_deps" \
  -n kiln "cd $work/kiln && $kiln build -j$jobs --output plain >/dev/null" \
  -n ninja "cd $work/ninja && ninja -j$jobs >/dev/null"

node -e '
const r = require(process.argv[1]).results;
const mean = (name) => r.find((x) => x.command === name).mean;
const ratio = mean("kiln") / mean("ninja");
console.log(`kiln/ninja wall-time ratio: ${ratio.toFixed(2)} (target <= 1.3)`);
' "$work/result.json"
