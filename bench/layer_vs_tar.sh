#!/usr/bin/env bash
# Times kiln's layer writer (bench/layer_bench.cpp) against GNU tar piped
# into gzip and into zstd, on the same folder and in one hyperfine run, and
# prints kiln's mean time as a ratio of the pipeline's. Target: at most 1.2.
#
# Usage: bench/layer_vs_tar.sh [LAYER_BENCH] [DIR]
#
# LAYER_BENCH defaults to build/core/oci/layer_bench. DIR defaults to the
# node_modules folder that `npm ci` installs into a temporary copy of
# examples/ngwenya/ngwenya-federation (this needs the npm registry).
# RUNS sets the timed runs per command (default 10).
#
# Both sides do the same work. Entries are sorted by name, with fixed owners
# and times. gzip runs at level 6 and zstd at level 3, each on one
# compression thread next to the thread or process that builds the tar
# stream (`zstd -T1`). The output file is flushed with fsync: layer_bench
# does it itself, and the pipelines end with `sync FILE`.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bench=$(realpath "${1:-$root/build/core/oci/layer_bench}")
dir=${2:-}
work=$(mktemp -d /tmp/kiln-bench-layer.XXXXXX)
trap 'rm -rf "$work"' EXIT

for tool in hyperfine tar gzip zstd node; do
  command -v "$tool" >/dev/null || {
    echo "bench: $tool not found; run scripts/install-deps.sh" >&2
    exit 1
  }
done
[[ -x $bench ]] || {
  echo "bench: $bench not found; build the layer_bench target first" >&2
  exit 1
}

if [[ -z $dir ]]; then
  cp -r "$root/examples/ngwenya/ngwenya-federation" "$work/federation"
  rm -rf "$work/federation/node_modules"
  (cd "$work/federation" &&
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
  dir=$work/federation/node_modules
fi
dir=$(realpath "$dir")
files=$(find "$dir" | wc -l)
bytes=$(du -sb "$dir" | cut -f1)
echo "bench: $dir: $files entries, $bytes bytes; $(nproc) cores, $(uname -m)"

tar_flags="--sort=name --format=posix --mtime=@0 --owner=0 --group=0 --numeric-owner"
tar_flags+=" --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime"
hyperfine --warmup 2 --runs "${RUNS:-10}" --export-json "$work/result.json" \
  -n kiln-gzip "$bench --compression gzip $dir $work/kiln.tgz" \
  -n tar-gzip "tar -C $dir -c $tar_flags . | gzip -6 -n > $work/tar.tgz && sync $work/tar.tgz" \
  -n kiln-zstd "$bench --compression zstd $dir $work/kiln.tar.zst" \
  -n tar-zstd "tar -C $dir -c $tar_flags . | zstd -3 -T1 -q > $work/tar.tar.zst && sync $work/tar.tar.zst"

ls -l "$work"/*.tgz "$work"/*.zst | awk '{print "bench: " $5 " bytes  " $NF}'
node -e '
const r = require(process.argv[1]).results;
const mean = (name) => r.find((x) => x.command === name).mean;
for (const kind of ["gzip", "zstd"]) {
  const ratio = mean("kiln-" + kind) / mean("tar-" + kind);
  console.log(`bench: ${kind}: kiln ${mean("kiln-" + kind).toFixed(3)} s, ` +
    `tar ${mean("tar-" + kind).toFixed(3)} s, ratio ${ratio.toFixed(2)} ` +
    `(target <= 1.2)`);
}' "$work/result.json"
