#!/usr/bin/env bash
# Isolated podman configuration for tests: runc, cgroupfs, vfs storage and
# host networking, with all state under one folder.
#
# Usage:
#   source tests/support/podman.sh [DIR]
#       Writes the configuration, exports CONTAINERS_CONF,
#       CONTAINERS_STORAGE_CONF and CONTAINERS_REGISTRIES_CONF, and defines
#       the shell function kiln_podman, which runs podman like the wrapper
#       below.
#   tests/support/podman.sh env
#       Prints the export lines, for eval "$(tests/support/podman.sh env)".
#   tests/support/podman.sh load-oci LAYOUT TAG NAME
#       Copies image TAG of an OCI image layout into the podman storage as
#       NAME, with skopeo.
#   tests/support/podman.sh PODMAN_ARGS...
#       Runs podman with this configuration. For run, create and build it
#       adds --network=host right after the subcommand.
#
# DIR defaults to $KILN_PODMAN_DIR, or /tmp/kiln-podman if that is unset.
# Files under DIR: containers.conf, storage.conf, registries.conf,
# storage/ (images and containers), run/ (runtime state), events.log.
#
# Why these settings: on Debian 12 test machines crun fails to start
# containers, so the runtime is runc. cgroupfs is used because there is no
# systemd. vfs storage needs no overlay or fuse support in the kernel. The
# bridge network would take addresses from a private range, so containers
# share the host's network and reach only servers on 127.0.0.1. The
# registries file has no search registries, so a short image name fails
# instead of being looked up on a public registry.

# Write the configuration files under DIR (only where their content changed)
# and export the variables that point podman at them.
kiln_podman_setup() {
    local dir=${1:-${KILN_PODMAN_DIR:-/tmp/kiln-podman}} missing=() package
    for package in podman runc skopeo; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' ||
            missing+=("$package")
    done
    if [[ ${#missing[@]} -gt 0 ]]; then
        echo "podman.sh: installing ${missing[*]}" >&2
        apt-get update -qq >&2 || return 1
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 || return 1
    fi

    mkdir -p "$dir/storage" "$dir/run" || return 1
    dir=$(cd "$dir" && pwd) || return 1

    kiln_podman_write_if_changed "$dir/containers.conf" <<EOF
# Written by tests/support/podman.sh.
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
netns = "host"
log_driver = "k8s-file"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$dir/events.log"
tmp_dir = "$dir/run/libpod"
static_dir = "$dir/storage/libpod"
volume_path = "$dir/storage/volumes"

[network]
network_config_dir = "$dir/networks"
EOF
    kiln_podman_write_if_changed "$dir/storage.conf" <<EOF
# Written by tests/support/podman.sh.
[storage]
driver = "vfs"
graphroot = "$dir/storage"
runroot = "$dir/run"
EOF
    kiln_podman_write_if_changed "$dir/registries.conf" <<EOF
# Written by tests/support/podman.sh. Without search registries, short image
# names fail instead of being looked up on a public registry.
unqualified-search-registries = []
EOF

    export KILN_PODMAN_DIR=$dir
    export CONTAINERS_CONF=$dir/containers.conf
    export CONTAINERS_STORAGE_CONF=$dir/storage.conf
    export CONTAINERS_REGISTRIES_CONF=$dir/registries.conf
}

# Replace FILE with standard input unless it already has that content, so a
# second setup leaves the files (and their mtimes) alone.
kiln_podman_write_if_changed() {
    local file=$1 content
    content=$(cat) || return 1
    if [[ ! -f $file || $(<"$file") != "$content" ]]; then
        printf '%s\n' "$content" >"$file.tmp.$$" && mv "$file.tmp.$$" "$file"
    fi
}

# Copy image TAG from the OCI layout LAYOUT into this podman storage as NAME
# (for example localhost/bases/node20:1). `podman pull oci:LAYOUT:TAG` would
# name the image after the layout path with the tag "latest" instead.
kiln_podman_load_oci() {
    if [[ $# -ne 3 ]]; then
        echo "usage: kiln_podman_load_oci LAYOUT TAG NAME" >&2
        return 2
    fi
    skopeo copy --quiet "oci:$1:$2" "containers-storage:$3"
}

# Run podman with --network=host added to run, create and build.
kiln_podman() {
    if [[ $# -gt 0 ]]; then
        case $1 in
            load-oci)
                shift
                kiln_podman_load_oci "$@"
                return
                ;;
            run | create | build)
                local subcommand=$1
                shift
                podman "$subcommand" --network=host "$@"
                return
                ;;
        esac
    fi
    podman "$@"
}

if [[ ${BASH_SOURCE[0]} != "$0" ]]; then
    # Sourced: leave the caller's shell options alone.
    kiln_podman_setup "$@"
    return
fi

set -euo pipefail
kiln_podman_setup
if [[ ${1:-} == env ]]; then
    printf 'export %s=%q\n' \
        KILN_PODMAN_DIR "$KILN_PODMAN_DIR" \
        CONTAINERS_CONF "$CONTAINERS_CONF" \
        CONTAINERS_STORAGE_CONF "$CONTAINERS_STORAGE_CONF" \
        CONTAINERS_REGISTRIES_CONF "$CONTAINERS_REGISTRIES_CONF"
    exit 0
fi
kiln_podman "$@"
