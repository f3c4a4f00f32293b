#!/usr/bin/env bash
# Fixture of the e2e tests: prepares the example repositories in WORK/ws
# and builds every target of pipelines/staging.yaml once. The tests read
# the build's output from WORK/first-build.log and its outputs from WORK/ws.
#
#   tests/e2e/prepare_and_build.sh KILN_BINARY WORK BASES
#
# BASES is the OCI layout of examples/bases/build-bases.sh, which the images
# build on.
set -euo pipefail

kiln="$1"
work="$2"
bases="$3"
export KILN_NODE_BASE="oci:$bases:node20"
export KILN_NGINX_BASE="oci:$bases:nginx"
export KILN_GLIBC_BASE="oci:$bases:glibc"
root="$(cd "$(dirname "$0")/../.." && pwd)"

mkdir -p "$work"
"$root/scripts/prepare-example.sh" --force "$work/ws"
rm -f "$work/first-build.log"
# The cache directory belongs to this test tree; a previous run's entries
# are reused.
export KILN_CACHE_DIR="$work/cache"
export ASTRO_TELEMETRY_DISABLED=1
# The mobile targets must end as skipped whatever the machine has.
unset ANDROID_HOME ANDROID_SDK_ROOT

status=0
"$kiln" -p "$root/pipelines/staging.yaml" --workspace "$work/ws" \
  --output plain build >"$work/first-build.log" 2>&1 || status=$?
cat "$work/first-build.log"
echo "e2e fixture: kiln build exited with status $status"
exit "$status"
