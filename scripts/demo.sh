#!/usr/bin/env bash
# Prepares the Ngwenya example repositories and builds every staging
# artifact of them with kiln.
#
#   scripts/demo.sh KILN_BINARY [WORKDIR]
#
# WORKDIR defaults to ./work/ngwenya (ignored by git). The first run
# downloads the npm packages of four repositories from the npm registry.
# Set KILN_DEMO_PIPELINE to build another pipeline, such as
# pipelines/staging-lite.yaml.
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
  echo "usage: $0 KILN_BINARY [WORKDIR]" >&2
  exit 2
fi
kiln="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
if [[ ! -x "$kiln" ]]; then
  echo "demo: $1 is not an executable kiln binary; run 'make build' first" >&2
  exit 2
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
workdir="${2:-$root/work/ngwenya}"
pipeline="${KILN_DEMO_PIPELINE:-$root/pipelines/staging.yaml}"

export ASTRO_TELEMETRY_DISABLED=1
"$root/scripts/prepare-example.sh" "$workdir"

# No public registry is reachable here, so the images build on small base
# images made from Debian packages, once.
bases="$(dirname "$workdir")/bases"
if [[ ! -f "$bases/index.json" ]]; then
  echo "demo: building base images into $bases"
  "$root/examples/bases/build-bases.sh" "$bases"
fi
export KILN_NODE_BASE="oci:$bases:node20"
export KILN_NGINX_BASE="oci:$bases:nginx"
export KILN_GLIBC_BASE="oci:$bases:glibc"

echo
echo "demo: kiln build -p $pipeline --workspace $workdir"
start=$(date +%s)
status=0
"$kiln" build -p "$pipeline" --workspace "$workdir" --output plain || status=$?
end=$(date +%s)

echo
echo "demo: finished in $((end - start))s with exit status $status"
echo "demo: step logs are in $workdir/.kiln/logs"
echo "demo: images are in $workdir/.kiln/images (an OCI layout, a lock file"
echo "      and compose.override.yaml)"
if [[ $status -eq 0 ]]; then
  echo "demo: start a service from its build output, for example:"
  echo "  PORT=3100 HOST=127.0.0.1 node" \
    "$workdir/ngwenya-federation/apps/gateway/dist/main.js"
  echo "  PORT=3200 HOST=127.0.0.1" \
    "$workdir/ngwenya-federation/rust/target/kiln/auth"
  echo "  PORT=3300 HOST=127.0.0.1 node $workdir/ngwenya-front/build"
fi
exit "$status"
