#!/usr/bin/env bash
# Build the node20, nginx and glibc base images into one OCI image layout.
#
# Usage: build-bases.sh OUTDIR
#
# OUTDIR becomes an OCI image layout with the tags node20, nginx and glibc
# (linux/amd64, one gzip layer each). Files come from Debian packages fetched
# with `apt-get download` and unpacked with `dpkg -x`, except /usr/bin/node,
# which is the machine's own Node.js 20 binary. The layers are reproducible
# for the same package versions and node binary: entries are sorted, mtimes
# are 0 and owners are numeric.
#
# Environment:
#   KILN_DEB_CACHE  folder for downloaded .deb files
#                   (default: ${XDG_CACHE_HOME:-$HOME/.cache}/kiln/debs)
set -euo pipefail

readonly APP_UID=10001
readonly APP_GID=10001
readonly EPOCH_TIME=1970-01-01T00:00:00Z
readonly MULTIARCH=x86_64-linux-gnu

usage() {
    echo "usage: $0 OUTDIR" >&2
    echo "Builds the OCI image layout OUTDIR with the tags node20, nginx and glibc." >&2
    exit 2
}

log() {
    echo "build-bases: $*" >&2
}

fail() {
    echo "build-bases: error: $*" >&2
    exit 1
}

[[ $# -eq 1 ]] || usage
OUTDIR=$1
DEB_CACHE=${KILN_DEB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kiln/debs}

umask 022

# ---------------------------------------------------------------------------
# Host tools

# Run apt-get update at most once per run. The marker is a file because the
# callers often run in command-substitution subshells.
apt_update_once() {
    if [[ ! -e $WORK/apt-updated ]]; then
        log "running apt-get update"
        apt-get update -qq >&2
        : >"$WORK/apt-updated"
    fi
}

is_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# Install the given Debian packages unless dpkg already lists them.
ensure_packages() {
    local missing=() package
    for package in "$@"; do
        is_installed "$package" || missing+=("$package")
    done
    if [[ ${#missing[@]} -gt 0 ]]; then
        apt_update_once
        log "installing ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
    fi
}

# ---------------------------------------------------------------------------
# Debian packages

# Print the candidate version of a package, running apt-get update if apt
# has no candidate yet.
candidate_version() {
    local package=$1 version
    version=$(apt-cache policy "$package" 2>/dev/null | awk '/Candidate:/ {print $2}')
    if [[ -z $version || $version == "(none)" ]]; then
        apt_update_once
        version=$(apt-cache policy "$package" | awk '/Candidate:/ {print $2}')
    fi
    if [[ -z $version || $version == "(none)" ]]; then
        fail "no installable version of Debian package '$package' (check /etc/apt/sources.list)"
    fi
    echo "$version"
}

# Download a package into DEB_CACHE unless that version is already there,
# then unpack it into WORK/packages/PACKAGE. Print the unpacked folder.
fetch_package() {
    local package=$1 version file_version deb target
    target=$WORK/packages/$package
    if [[ -d $target ]]; then
        echo "$target"
        return
    fi
    version=$(candidate_version "$package")
    # apt-get download writes the epoch separator ':' as '%3a'.
    file_version=${version//:/%3a}
    deb=$DEB_CACHE/${package}_${file_version}_amd64.deb
    if [[ ! -f $deb ]]; then
        deb=$DEB_CACHE/${package}_${file_version}_all.deb
    fi
    if [[ ! -f $deb ]]; then
        log "downloading $package=$version"
        (cd "$DEB_CACHE" && apt-get download -qq -o APT::Sandbox::User=root "$package=$version" >&2) ||
            fail "apt-get download $package=$version failed"
        deb=$(ls "$DEB_CACHE/${package}_${file_version}_"*.deb)
    fi
    mkdir -p "$target"
    dpkg-deb -x "$deb" "$target"
    echo "$package $version" >>"$WORK/package-versions"
    echo "$target"
}

# Print the Debian package that owns an absolute host path. Debian 12 has
# merged /usr, so dpkg may record the file under /lib or under /usr/lib.
owning_package() {
    local path=$1 alternate output
    case $path in
        /usr/*) alternate=${path#/usr} ;;
        *) alternate=/usr$path ;;
    esac
    output=$(dpkg-query -S "$path" 2>/dev/null || dpkg-query -S "$alternate" 2>/dev/null) ||
        fail "no Debian package owns $path"
    # Output lines look like "libc6:amd64: /lib/x86_64-linux-gnu/libc.so.6".
    echo "$output" | grep -v '^diversion' | head -n 1 | cut -d: -f1
}

# Print the shared objects a binary loads, as absolute host paths, including
# the dynamic loader.
shared_libraries() {
    local binary=$1 output
    output=$(ldd "$binary") || fail "ldd $binary failed"
    if grep -q 'not found' <<<"$output"; then
        fail "ldd $binary reports missing libraries: $(grep 'not found' <<<"$output" | tr -s ' \t' ' ')"
    fi
    awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' <<<"$output"
}

# ---------------------------------------------------------------------------
# Root file system

# Map a path from a Debian package to its place in a merged-/usr root, where
# /bin, /sbin, /lib and /lib64 are symlinks into /usr.
merged_path() {
    local path=${1#/}
    case $path in
        bin/* | sbin/* | lib/* | lib64/*) echo "usr/$path" ;;
        *) echo "$path" ;;
    esac
}

# Copy PATH (relative to the unpacked package PACKAGE_DIR) into ROOTFS. A
# symlink is copied as a symlink, and its target is copied too.
copy_package_file() {
    local package_dir=$1 path=${2#/} rootfs=$3 destination target
    if [[ ! -e $package_dir/$path && ! -L $package_dir/$path ]]; then
        fail "$path is missing from $(basename "$package_dir")"
    fi
    destination=$rootfs/$(merged_path "$path")
    mkdir -p "$(dirname "$destination")"
    cp -P --preserve=mode "$package_dir/$path" "$destination"
    if [[ -L $package_dir/$path ]]; then
        target=$(readlink "$package_dir/$path")
        if [[ $target != /* ]]; then
            target=$(dirname "/$path")/$target
        fi
        # -s normalizes ".." without following symlinks on the host.
        target=$(realpath -m -s "$target")
        copy_package_file "$package_dir" "$target" "$rootfs"
    fi
}

# Copy a host shared library from the Debian package that owns it.
copy_library() {
    local host_path=$1 rootfs=$2 package package_dir path
    package=$(owning_package "$host_path")
    package_dir=$(fetch_package "$package")
    path=${host_path#/}
    if [[ ! -e $package_dir/$path && ! -L $package_dir/$path ]]; then
        case $path in
            usr/*) path=${path#usr/} ;;
            *) path=usr/$path ;;
        esac
    fi
    copy_package_file "$package_dir" "$path" "$rootfs"
    copy_copyright "$package" "$rootfs"
}

# Copy the Debian copyright file of PACKAGE into ROOTFS. Every image keeps
# the copyright file of each package it takes files from.
copy_copyright() {
    local package=$1 rootfs=$2 source
    source=$WORK/packages/$package/usr/share/doc/$package/copyright
    if [[ -f $source ]]; then
        install -D -m 0644 "$source" "$rootfs/usr/share/doc/$package/copyright"
    fi
}

# Create the folders, symlinks and account files that every image shares.
create_skeleton() {
    local rootfs=$1 dir
    mkdir -p "$rootfs"/{etc,root,tmp,usr/bin,usr/sbin,usr/lib/$MULTIARCH,usr/lib64,var/tmp}
    mkdir -p "$rootfs/home/app"
    for dir in bin sbin lib lib64; do
        ln -s "usr/$dir" "$rootfs/$dir"
    done
    chmod 0700 "$rootfs/root"
    chmod 1777 "$rootfs/tmp" "$rootfs/var/tmp"

    cat >"$rootfs/etc/passwd" <<EOF
root:x:0:0:root:/root:/sbin/nologin
app:x:$APP_UID:$APP_GID:app:/home/app:/sbin/nologin
EOF
    cat >"$rootfs/etc/group" <<EOF
root:x:0:
app:x:$APP_GID:
EOF
    cat >"$rootfs/etc/nsswitch.conf" <<'EOF'
passwd: files
group: files
hosts: files dns
EOF
    chmod 0644 "$rootfs/etc/passwd" "$rootfs/etc/group" "$rootfs/etc/nsswitch.conf"
}

# Run a command inside ROOTFS to prove that its libraries are complete.
check_in_chroot() {
    local rootfs=$1
    shift
    if ! chroot / true 2>/dev/null; then
        log "NOTE: chroot is not permitted here, so '$*' was not run inside the image"
        return
    fi
    chroot "$rootfs" "$@" >/dev/null 2>&1 || fail "'$*' failed inside the $(basename "$rootfs") root file system"
}

# ---------------------------------------------------------------------------
# Images

build_node20_rootfs() {
    local rootfs=$1 version library
    [[ -x /usr/bin/node ]] || fail "/usr/bin/node is missing; install Node.js 20 first"
    version=$(/usr/bin/node --version) || fail "/usr/bin/node --version failed"
    if [[ $version != v20.* ]]; then
        fail "/usr/bin/node is $version, but the node20 image needs Node.js 20 (v20.x)"
    fi
    log "node20: using /usr/bin/node $version"

    create_skeleton "$rootfs"
    # Drop the debug info and static symbol table (12.6 MB of 98.9 MB for
    # v20.20.2). The dynamic symbol table, which native addons link against,
    # stays.
    strip --strip-unneeded -o "$rootfs/usr/bin/node" /usr/bin/node
    chmod 0755 "$rootfs/usr/bin/node"
    while read -r library; do
        copy_library "$library" "$rootfs"
    done < <(shared_libraries /usr/bin/node)
    chown -R "$APP_UID:$APP_GID" "$rootfs/home/app"
    check_in_chroot "$rootfs" /usr/bin/node -e 'require("os").userInfo()'
}

# Write an nginx configuration that runs as any user, with port 8080 and the
# pid file and temporary files under /tmp. It has no `daemon off;` because
# the image's Cmd passes that with -g, and nginx rejects a directive given
# twice.
write_nginx_conf() {
    cat >"$1" <<'EOF'
# This configuration runs as a non-root user because every file nginx writes
# is under /tmp or goes to stdout and stderr, and the port is above 1023.
worker_processes auto;
pid /tmp/nginx.pid;
error_log stderr notice;

events {
    worker_connections 1024;
}

http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log /dev/stdout;

    # nginx creates only the last path component at startup, so each
    # temporary folder sits directly in /tmp.
    client_body_temp_path /tmp/nginx_client_body;
    proxy_temp_path /tmp/nginx_proxy;
    fastcgi_temp_path /tmp/nginx_fastcgi;
    uwsgi_temp_path /tmp/nginx_uwsgi;
    scgi_temp_path /tmp/nginx_scgi;

    sendfile on;
    keepalive_timeout 65;

    server {
        listen 8080;
        root /usr/share/nginx/html;
    }
}
EOF
    chmod 0644 "$1"
}

build_nginx_rootfs() {
    local rootfs=$1 nginx_dir common_dir library dir
    create_skeleton "$rootfs"
    nginx_dir=$(fetch_package nginx)
    common_dir=$(fetch_package nginx-common)
    log "nginx: using Debian nginx $(grep '^nginx ' "$WORK/package-versions" | cut -d' ' -f2)"

    copy_package_file "$nginx_dir" usr/sbin/nginx "$rootfs"
    copy_package_file "$common_dir" etc/nginx/mime.types "$rootfs"
    copy_package_file "$common_dir" usr/share/nginx/html/index.html "$rootfs"
    copy_copyright nginx "$rootfs"
    copy_copyright nginx-common "$rootfs"
    while read -r library; do
        copy_library "$library" "$rootfs"
    done < <(shared_libraries "$nginx_dir/usr/sbin/nginx")
    write_nginx_conf "$rootfs/etc/nginx/nginx.conf"

    # Configurations that do not set these paths fall back to the defaults
    # compiled into Debian's nginx. Its temporary folders under
    # /var/lib/nginx are writable by app only. Its log files under
    # /var/log/nginx are symlinks to stdout and stderr.
    for dir in body proxy fastcgi uwsgi scgi; do
        mkdir -p "$rootfs/var/lib/nginx/$dir"
    done
    chmod 0700 "$rootfs"/var/lib/nginx/*
    chown -R "$APP_UID:$APP_GID" "$rootfs/var/lib/nginx" "$rootfs/home/app"
    mkdir -p "$rootfs/var/log/nginx"
    ln -s /dev/stdout "$rootfs/var/log/nginx/access.log"
    ln -s /dev/stderr "$rootfs/var/log/nginx/error.log"
    check_in_chroot "$rootfs" /usr/sbin/nginx -V
}

build_glibc_rootfs() {
    local rootfs=$1 libc_dir gcc_dir path
    create_skeleton "$rootfs"
    libc_dir=$(fetch_package libc6)
    gcc_dir=$(fetch_package libgcc-s1)
    log "glibc: using Debian libc6 $(grep '^libc6 ' "$WORK/package-versions" | cut -d' ' -f2)"

    # Every shared object of libc6, but not the iconv modules (gconv, about
    # 8 MB), which only iconv(3) with a non-built-in charset loads.
    while read -r path; do
        copy_package_file "$libc_dir" "${path#"$libc_dir"/}" "$rootfs"
    done < <(find "$libc_dir/lib" "$libc_dir/lib64" \( -type f -o -type l \) | sort)
    copy_package_file "$gcc_dir" "lib/$MULTIARCH/libgcc_s.so.1" "$rootfs"
    copy_copyright libc6 "$rootfs"
    copy_copyright libgcc-s1 "$rootfs"
    chown -R "$APP_UID:$APP_GID" "$rootfs/home/app"
    check_in_chroot "$rootfs" /lib64/ld-linux-x86-64.so.2 --list /usr/lib/$MULTIARCH/libgcc_s.so.1
}

# Pack ROOTFS into a reproducible tar file with sorted entries, mtime 0 and
# numeric owners. The owners come from the files, so app-owned folders stay
# owned by uid 10001.
pack_layer() {
    local rootfs=$1 tarball=$2
    tar --sort=name --format=gnu --numeric-owner --mtime=@0 \
        -C "$rootfs" -cf "$tarball" .
}

# Add TAG to LAYOUT with one layer and the given `umoci config` options.
add_image() {
    local layout=$1 tag=$2 tarball=$3
    shift 3
    umoci new --image "$layout:$tag"
    umoci raw add-layer --image "$layout:$tag" \
        --history.created "$EPOCH_TIME" \
        --history.created_by "kiln examples/bases/build-bases.sh ($tag)" \
        "$tarball"
    umoci config --image "$layout:$tag" --no-history \
        --created "$EPOCH_TIME" --architecture amd64 --os linux "$@"
}

print_summary() {
    local layout=$1 tag manifest_digest layer_size tar_size
    printf '%-8s %-73s %12s %12s\n' TAG "MANIFEST DIGEST" "LAYER GZIP" "LAYER TAR"
    for tag in node20 nginx glibc; do
        skopeo inspect "oci:$layout:$tag" >/dev/null || fail "skopeo inspect oci:$layout:$tag failed"
        manifest_digest=$(skopeo inspect --format '{{.Digest}}' "oci:$layout:$tag")
        layer_size=$(skopeo inspect --raw "oci:$layout:$tag" |
            /usr/bin/node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () =>
                console.log(JSON.parse(s).layers.reduce((n, l) => n + l.size, 0)))')
        tar_size=$(stat -c %s "$WORK/$tag.tar")
        printf '%-8s %-73s %12s %12s\n' "$tag" "$manifest_digest" "$layer_size" "$tar_size"
    done
}

# ---------------------------------------------------------------------------
# Main

[[ $(uname -m) == x86_64 ]] || fail "this script builds linux/amd64 images and needs an x86_64 host, not $(uname -m)"
[[ $(id -u) -eq 0 ]] || fail "run as root: the layers contain files owned by root and by uid $APP_UID"
if [[ -e $OUTDIR && ! -f $OUTDIR/oci-layout ]] && [[ -n $(ls -A "$OUTDIR" 2>/dev/null) ]]; then
    fail "$OUTDIR exists and is not an OCI image layout; choose an empty or new folder"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kiln-bases.XXXXXX")
new_layout=$OUTDIR.new.$$
trap 'rm -rf "$WORK" "$new_layout"' EXIT
ensure_packages umoci skopeo binutils
mkdir -p "$DEB_CACHE"
: >"$WORK/package-versions"

build_node20_rootfs "$WORK/node20"
build_nginx_rootfs "$WORK/nginx"
build_glibc_rootfs "$WORK/glibc"

mkdir -p "$(dirname "$OUTDIR")"
rm -rf "$new_layout"
umoci init --layout "$new_layout"
for tag in node20 nginx glibc; do
    pack_layer "$WORK/$tag" "$WORK/$tag.tar"
done
add_image "$new_layout" node20 "$WORK/node20.tar" \
    --config.env PATH=/usr/local/bin:/usr/bin:/bin \
    --config.cmd node
add_image "$new_layout" nginx "$WORK/nginx.tar" \
    --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --config.exposedports 8080/tcp \
    --config.stopsignal SIGQUIT \
    --config.cmd nginx --config.cmd -g --config.cmd 'daemon off;'
add_image "$new_layout" glibc "$WORK/glibc.tar" \
    --config.env PATH=/usr/local/bin:/usr/bin:/bin
umoci gc --layout "$new_layout"
# umoci writes blobs with mode 0600. Let non-root readers (skopeo, podman)
# use the layout too.
chmod -R a+rX "$new_layout"

rm -rf "$OUTDIR"
mv "$new_layout" "$OUTDIR"
log "wrote $OUTDIR with Debian packages:"
sort -u "$WORK/package-versions" | sed 's/^/  /' >&2
print_summary "$OUTDIR"
