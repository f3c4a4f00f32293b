#!/usr/bin/env bash
# Measures the remote cache on the federation example (npm install, a shared
# library and 19 NestJS services) against an nginx WebDAV cache on
# 127.0.0.1, with hyperfine, all in one run:
#   cold         a clean clone, empty local cache, no remote
#   cold-upload  the same, uploading every result to an empty remote
#   remote-hit   a clean clone, empty local cache, every step a remote hit
# Targets: remote-hit/cold at most 0.1, cold-upload/cold at most 1.1.
# Usage: bench/remote_bench.sh [KILN_BINARY]
set -euo pipefail
source "$(dirname "$0")/lib.sh"

kiln=$(realpath "${1:-build/kiln}")
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${KILN_BENCH_DIR:-$(mktemp -d /tmp/kiln-bench-remote.XXXXXX)}
turbo_version=2.11.13
runs=${RUNS:-3}
port=${KILN_BENCH_PORT:-18431}
export KILN_CACHE_DIR="$work/cache" TURBO_TELEMETRY_DISABLED=1 \
  TURBO_NO_UPDATE_NOTIFIER=1
mkdir -p "$work"
echo "bench: $(nproc) cores, $(uname -m), work dir $work"

prepare_federation
nginx_dir="$work/nginx"
"$repo/tests/support/nginx-cache.sh" start "$nginx_dir" "$port" >/dev/null
trap '"$repo/tests/support/nginx-cache.sh" stop "$nginx_dir" >/dev/null' EXIT
# One instance name per cache (bazel-remote allows one path segment).
url="http://127.0.0.1:$port"

# A clean clone and an empty local cache before every timed build.
fresh="rm -rf $work/clone $work/local && git clone -q $work/fed $work/clone"
build="cd $work/clone && KILN_CACHE_DIR=$work/local $kiln build --output plain >/dev/null"

echo "bench: filling the remote cache once"
eval "$fresh"
(cd "$work/clone" && KILN_CACHE_DIR=$work/local "$kiln" build --output plain \
  --remote-cache "$url/hits" >/dev/null)

hyperfine --runs "$runs" --export-json "$work/remote.json" \
  --prepare "$fresh && rm -rf $nginx_dir/data/empty" \
  -n cold "$build" \
  -n cold-upload "$build --remote-cache $url/empty" \
  -n remote-hit "$build --remote-cache $url/hits"

echo "remote-hit/cold: $(ratio "$work/remote.json" remote-hit cold) (target <= 0.1)"
echo "cold-upload/cold: $(ratio "$work/remote.json" cold-upload cold) (target <= 1.1)"
