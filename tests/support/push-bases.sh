#!/usr/bin/env bash
# Push the node20, nginx and glibc base images from an OCI image layout to a
# registry on this host, as REGISTRY/bases/NAME:1, and print each manifest
# digest.
#
# Usage: push-bases.sh LAYOUT_DIR REGISTRY [--creds USER:PASS]
#
# LAYOUT_DIR is the output of examples/bases/build-bases.sh. REGISTRY is
# host:port and must be on loopback (127.0.0.1, localhost or [::1]), because
# the push uses plain HTTP (--dest-tls-verify=false).
#
# Output: one line per image, "REGISTRY/bases/NAME:1 sha256:...".
set -euo pipefail

readonly IMAGES=(node20 nginx glibc)

usage() {
    echo "usage: $0 LAYOUT_DIR REGISTRY(host:port) [--creds USER:PASS]" >&2
    exit 2
}

fail() {
    echo "push-bases.sh: error: $*" >&2
    exit 1
}

[[ $# -eq 2 || ($# -eq 4 && $3 == --creds) ]] || usage
layout=$1
registry=$2
creds=()
if [[ $# -eq 4 ]]; then
    creds=(--dest-creds "$4")
fi

[[ -f $layout/oci-layout && -f $layout/index.json ]] ||
    fail "$layout is not an OCI image layout; build one with examples/bases/build-bases.sh"
case $registry in
    127.*:* | localhost:* | \[::1\]:*) ;;
    *) fail "registry '$registry' is not a loopback host:port such as 127.0.0.1:5000" ;;
esac
command -v skopeo >/dev/null || fail "skopeo not found; install it with apt-get install skopeo"

digest_file=$(mktemp)
trap 'rm -f "$digest_file"' EXIT

for name in "${IMAGES[@]}"; do
    destination=$registry/bases/$name:1
    skopeo copy --quiet --dest-tls-verify=false "${creds[@]}" \
        --digestfile "$digest_file" \
        "oci:$layout:$name" "docker://$destination" ||
        fail "skopeo copy of oci:$layout:$name to $destination failed"
    echo "$destination $(<"$digest_file")"
done
