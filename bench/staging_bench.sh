#!/usr/bin/env bash
# Benchmarks kiln on the bundled example with pipelines/staging.yaml:
#   cold   a clean workspace and an empty cache: wall time from outside and
#          kiln's own scheduling efficiency (--stats), target at most 1.1
#   noop   a second build with nothing changed, against the floor: git
#          status in the five repositories plus find stat'ing every entry of
#          the declared outputs (the stat calls kiln cannot avoid), target at
#          most 1.5
#   images the bytes each image adds to the layout beyond what other images
#          already share
# Usage: bench/staging_bench.sh [KILN_BINARY] [cold|noop|images|all]
set -euo pipefail

kiln=$(realpath "${1:-build/kiln}")
what=${2:-all}
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${KILN_BENCH_DIR:-$(mktemp -d /tmp/kiln-bench-staging.XXXXXX)}
runs=${RUNS:-3}
mkdir -p "$work"
echo "bench: $(nproc) cores, $(uname -m), work dir $work"

if [[ ! -f "$work/bases/index.json" ]]; then
  "$repo/examples/bases/build-bases.sh" "$work/bases" >/dev/null
fi
export KILN_NODE_BASE="oci:$work/bases:node20"
export KILN_NGINX_BASE="oci:$work/bases:nginx"
export KILN_GLIBC_BASE="oci:$work/bases:glibc"
export ASTRO_TELEMETRY_DISABLED=1
pipeline="$repo/pipelines/staging.yaml"
ws="$work/ws"

build() {  # build CACHE_DIR [ARGS...]
  local cache=$1
  shift
  KILN_CACHE_DIR="$cache" "$kiln" build -p "$pipeline" --workspace "$ws" \
    --output plain "$@"
}

bench_cold() {
  echo "bench: cold builds (each prepares the example anew)"
  local walls=() efficiencies=()
  for ((i = 1; i <= runs; i++)); do
    "$repo/scripts/prepare-example.sh" --force "$ws" >/dev/null
    rm -rf "$work/cold-cache"
    local start end
    start=$(date +%s.%N)
    build "$work/cold-cache" --stats >"$work/cold-$i.log" 2>&1
    end=$(date +%s.%N)
    walls+=("$(node -e "console.log(($end - $start).toFixed(1))")")
    efficiencies+=("$(grep -o 'efficiency [0-9.]*' "$work/cold-$i.log" |
      cut -d' ' -f2)")
    grep '^stats:' "$work/cold-$i.log"
  done
  echo "cold wall time (outside kiln), s: ${walls[*]}"
  echo "cold scheduling efficiency: ${efficiencies[*]} (target <= 1.1)"
}

bench_noop() {
  if [[ ! -d "$ws/ngwenya-federation/node_modules" ]]; then
    "$repo/scripts/prepare-example.sh" --force "$ws" >/dev/null
  fi
  build "$work/cache" >/dev/null
  build "$work/cache" >/dev/null
  # The floor: git status in each repository and find over the outputs,
  # stat'ing each entry (-printf of the stat fields), since GNU find without
  # a predicate only reads directories. The plain find is timed as well.
  KILN_CACHE_DIR="$work/cache" "$kiln" graph -p "$pipeline" \
    --workspace "$ws" --format json >"$work/graph.json"
  node -e '
    const steps = require(process.argv[1]).steps;
    const roots = new Set(), outputs = new Set();
    for (const s of steps) {
      roots.add(s.repo_root);
      for (const o of s.outputs) {
        if (!o.startsWith("!")) outputs.add(s.repo_root + "/" + o);
      }
    }
    const quote = (p) => "\x27" + p + "\x27";
    const git = [...roots].map((r) => `git -C ${quote(r)} status --porcelain >/dev/null`);
    console.log(git.join(" && ") + " && find " +
      [...outputs].map(quote).join(" ") + " " + process.argv[2] +
      " >/dev/null 2>&1; true");
  ' "$work/graph.json" "-printf '%s %T@ %C@ %i\\n'" >"$work/floor.sh"
  sed "s/ -printf '[^']*'//" "$work/floor.sh" >"$work/floor-without-stat.sh"
  hyperfine --warmup 3 --runs "${NOOP_RUNS:-20}" \
    --export-json "$work/noop.json" \
    -n kiln "KILN_CACHE_DIR=$work/cache $kiln build -p $pipeline --workspace $ws --output plain >/dev/null" \
    -n floor "bash $work/floor.sh" \
    -n floor-without-stat "bash $work/floor-without-stat.sh"
  node -e '
    const r = require(process.argv[1]).results;
    const mean = (n) => r.find((x) => x.command === n).mean;
    const ms = (n) => (mean(n) * 1000).toFixed(0) + " ms";
    console.log("no-op kiln/floor: " + (mean("kiln") / mean("floor")).toFixed(2) +
      " (target <= 1.5); kiln " + ms("kiln") + ", floor " + ms("floor"));
    console.log("no-op kiln/floor-without-stat: " +
      (mean("kiln") / mean("floor-without-stat")).toFixed(2) + "; " +
      ms("floor-without-stat"));
  ' "$work/noop.json"
}

bench_images() {
  if [[ ! -f "$ws/.kiln/images/layout/index.json" ]]; then
    "$repo/scripts/prepare-example.sh" --force "$ws" >/dev/null
    build "$work/cache" >/dev/null
  fi
  node -e '
    const fs = require("fs");
    const dir = process.argv[1];
    const blob = (d) => dir + "/blobs/sha256/" + d.slice(7);
    const index = JSON.parse(fs.readFileSync(dir + "/index.json"));
    const images = index.manifests.map((m) => {
      const manifest = JSON.parse(fs.readFileSync(blob(m.digest)));
      return {
        name: m.annotations["org.opencontainers.image.ref.name"],
        blobs: [m, manifest.config, ...manifest.layers],
      };
    });
    const seen = new Set();
    let first = null;
    const extra = [];
    for (const image of images.filter((i) => fs.existsSync(
        process.argv[2] + "/ngwenya-federation/apps/" + i.name))) {
      let added = 0;
      for (const b of image.blobs) {
        if (!seen.has(b.digest)) { seen.add(b.digest); added += b.size; }
      }
      if (first === null) first = {name: image.name, added};
      else extra.push(added);
    }
    const mean = extra.reduce((a, b) => a + b, 0) / extra.length;
    console.log(`first NestJS image (${first.name}): ${first.added} bytes`);
    console.log(`each further NestJS image of the lockfile: ${Math.round(mean)} ` +
      `bytes on average (${extra.length} images; min ${Math.min(...extra)}, ` +
      `max ${Math.max(...extra)})`);
  ' "$ws/.kiln/images/layout" "$ws"
}

case "$what" in
  cold) bench_cold ;;
  noop) bench_noop ;;
  images) bench_images ;;
  all) bench_cold; bench_noop; bench_images ;;
  *) echo "usage: $0 [KILN_BINARY] [cold|noop|images|all]" >&2; exit 2 ;;
esac
