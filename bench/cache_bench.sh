#!/usr/bin/env bash
# Measures the cache against baselines timed in the same run (hyperfine):
#   noop     no-op build of the federation example (19 NestJS services, a
#            shared library, an npm install) vs the floor (git status plus
#            find over the declared outputs, stat'ing each entry) and vs
#            turbo's FULL TURBO
#   restore  restoring all outputs after deleting them vs cp -a
#   hash     hashing new files vs openssl dgst -sha256, on one core and on
#            all cores (one openssl process per core)
# Usage: bench/cache_bench.sh [KILN_BINARY] [noop|restore|hash|all]
set -euo pipefail
source "$(dirname "$0")/lib.sh"

kiln=$(realpath "${1:-build/kiln}")
what=${2:-all}
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${KILN_BENCH_DIR:-$(mktemp -d /tmp/kiln-bench-cache.XXXXXX)}
turbo_version=2.11.13
runs=${RUNS:-10}
export KILN_CACHE_DIR="$work/cache" TURBO_TELEMETRY_DISABLED=1 \
  TURBO_NO_UPDATE_NOTIFIER=1 \
  DO_NOT_TRACK=1 NEXT_TELEMETRY_DISABLED=1
mkdir -p "$work"
echo "bench: $(nproc) cores, $(uname -m), work dir $work"

bench_noop() {
  prepare_federation
  local fed="$work/fed" turbo="$work/turbo/node_modules/.bin/turbo"
  echo "bench: warming turbo's cache"
  (cd "$fed" && "$turbo" run build >/dev/null && "$turbo" run build >/dev/null)
  (cd "$fed" && "$kiln" build --output plain >/dev/null)
  local outputs="node_modules libs/shared/dist apps/*/dist"
  # The floor is git status plus the stat calls a no-op check cannot avoid,
  # one per output entry. GNU find without a predicate only reads the
  # directories (their listings give the entry types), so -printf of the
  # stat fields makes it stat each entry. The plain find is shown as well.
  hyperfine --warmup 3 --runs "$runs" --export-json "$work/noop.json" \
    -n kiln "cd $fed && $kiln build --output plain >/dev/null" \
    -n floor "cd $fed && git status --porcelain >/dev/null &&
      find $outputs -printf '%s %T@ %C@ %i\\n' >/dev/null" \
    -n floor-without-stat "cd $fed && git status --porcelain >/dev/null &&
      find $outputs >/dev/null" \
    -n turbo "cd $fed && $turbo run build --output-logs=none >/dev/null"
  echo "no-op kiln/floor: $(ratio "$work/noop.json" kiln floor) (target <= 1.5)"
  echo "no-op kiln/floor-without-stat:" \
    "$(ratio "$work/noop.json" kiln floor-without-stat)"
  echo "no-op turbo/kiln: $(ratio "$work/noop.json" turbo kiln) (target >= 5)"
}

bench_restore() {
  prepare_federation
  local dir="$work/restore"
  rm -rf "$dir"
  mkdir -p "$dir"
  cat >"$dir/kiln.yaml" <<YAML
version: 1
repos:
  r: { path: . }
targets:
  - { name: copy, plugin: command, inputs: [], outputs: [out],
      run: "cp -a $work/fed/node_modules out" }
YAML
  (cd "$dir" && "$kiln" build --output plain >/dev/null)
  local files bytes
  files=$(find "$dir/out" | wc -l)
  bytes=$(du -sb "$dir/out" | cut -f1)
  echo "bench: restoring $files entries, $bytes bytes"
  hyperfine --warmup 2 --runs "$runs" --export-json "$work/restore.json" \
    --prepare "rm -rf $dir/out $dir/copy" \
    -n kiln "cd $dir && $kiln build --output plain >/dev/null" \
    -n cp "cp -a $work/fed/node_modules $dir/copy"
  echo "restore kiln/cp: $(ratio "$work/restore.json" kiln cp) (target <= 2)"
}

bench_hash() {
  # On tmpfs, so the figure is hashing speed, not disk speed: on these
  # virtual machines reading from disk is slower than SHA-256.
  local dir="${HASH_DIR:-/dev/shm/kiln-bench-hash}"
  local count=${HASH_FILES:-128} size_mb=${HASH_FILE_MB:-8}
  if [[ ! -d "$dir/src" ]]; then
    mkdir -p "$dir/src"
    for ((i = 0; i < count; i++)); do
      head -c "$((size_mb * 1024 * 1024))" /dev/urandom >"$dir/src/f$i"
    done
  fi
  cat >"$dir/kiln.yaml" <<'YAML'
version: 1
repos:
  r: { path: . }
targets:
  - { name: hash, plugin: command, inputs: ["src/**"], run: "true" }
YAML
  cat "$dir"/src/* >/dev/null  # into the page cache
  local cores
  cores=$(nproc)
  hyperfine --warmup 1 --runs "$runs" --export-json "$work/hash.json" \
    --prepare "rm -rf $dir/.kiln" \
    -n kiln "cd $dir && $kiln build --dry-run --json >/dev/null" \
    -n openssl-1 "openssl dgst -sha256 $dir/src/* >/dev/null" \
    -n openssl-all "ls $dir/src/* | xargs -P $cores -n $((count / cores)) openssl dgst -sha256 >/dev/null"
  local single all
  single=$(ratio "$work/hash.json" openssl-1 kiln)
  all=$(ratio "$work/hash.json" openssl-all kiln)
  echo "hash: kiln on $cores cores / openssl on one core: $single" \
    "(target >= $(node -e "console.log((0.8 * $cores).toFixed(1))"))"
  echo "hash: kiln on $cores cores / openssl on $cores cores: $all" \
    "(target >= 0.8)"
  [[ -n "${HASH_KEEP:-}" ]] || rm -rf "$dir"
}

case "$what" in
  noop) bench_noop ;;
  restore) bench_restore ;;
  hash) bench_hash ;;
  all) bench_hash; bench_restore; bench_noop ;;
  *) echo "usage: $0 [KILN_BINARY] [noop|restore|hash|all]" >&2; exit 2 ;;
esac
