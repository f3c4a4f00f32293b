#!/usr/bin/env bash
# Runs protoc against reapi_subset.proto beside this script, installing
# Debian's protobuf-compiler first when it is missing.
#
# Usage:
#   protoc.sh decode BINARY_FILE        prints the ActionResult as text
#   protoc.sh encode TEXT_FILE OUT_FILE writes the text ActionResult as bytes
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
readonly message=build.bazel.remote.execution.v2.ActionResult

# Tests run in parallel, so installs are serialized with a lock file and
# the check is repeated once the lock is held.
install_protoc() {
    exec 9>/tmp/kiln-protoc-install.lock
    flock -w 300 9 || { echo "protoc.sh: timed out waiting for the install lock" >&2; exit 1; }
    if ! command -v protoc >/dev/null; then
        echo "protoc.sh: installing protobuf-compiler" >&2
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends protobuf-compiler >&2
    fi
    exec 9>&-
}

command -v protoc >/dev/null || install_protoc

case ${1:-} in
    decode)
        [[ $# -eq 2 ]] || { echo "usage: $0 decode FILE" >&2; exit 2; }
        protoc -I "$here" --decode="$message" reapi_subset.proto <"$2"
        ;;
    encode)
        [[ $# -eq 3 ]] || { echo "usage: $0 encode TEXT OUT" >&2; exit 2; }
        protoc -I "$here" --encode="$message" reapi_subset.proto <"$2" >"$3"
        ;;
    *)
        echo "usage: $0 decode FILE | encode TEXT OUT" >&2
        exit 2
        ;;
esac
