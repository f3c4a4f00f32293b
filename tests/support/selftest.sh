#!/usr/bin/env bash
# Check the scripts in tests/support and examples/bases end to end: build the
# base images, push them to a loopback registry, exercise the nginx cache and
# run each base image under podman as uid 10001.
#
# Usage: tests/support/selftest.sh [WORKDIR]
#
# WORKDIR (default /tmp/kiln-support-selftest) contains the layout, the
# servers' folders and the podman storage, and is reused between runs. The servers
# listen on 127.0.0.1 ports KILN_SELFTEST_PORT .. KILN_SELFTEST_PORT+6
# (default 15400). Prints one line per check and ends with "N passed,
# N failed"; the exit status is 1 if any check failed.
set -euo pipefail

SUPPORT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$SUPPORT_DIR/../.." && pwd)
readonly SUPPORT_DIR REPO_DIR
readonly WORK=${1:-/tmp/kiln-support-selftest}
readonly PORT=${KILN_SELFTEST_PORT:-15400}
readonly REGISTRY_PORT=$PORT
readonly AUTH_REGISTRY_PORT=$((PORT + 1))
readonly CACHE_PORT=$((PORT + 2))
readonly NODE_PORT=$((PORT + 3))
readonly NGINX_PORT=$((PORT + 4))
readonly RUST_PORT=$((PORT + 5))
readonly AUTH_CACHE_PORT=$((PORT + 6))

passed=0
failed=0
containers=()

check() {
    local name=$1
    shift
    if "$@"; then
        echo "ok   $name"
        passed=$((passed + 1))
    else
        echo "FAIL $name"
        failed=$((failed + 1))
    fi
}

equals() {
    [[ $1 == "$2" ]] || {
        echo "  expected '$2', got '$1'" >&2
        return 1
    }
}

http_status() {
    curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" || true
}

# Poll URL until it returns EXPECTED as the body, at most 50 times 0.1 s.
wait_for_body() {
    local url=$1 expected=$2 step body=""
    for ((step = 0; step < 50; step++)); do
        body=$(curl -s --max-time 1 "$url" || true)
        [[ $body == "$expected" ]] && return 0
        sleep 0.1
    done
    echo "  $url returned '$body' after 5 s, expected '$expected'" >&2
    return 1
}

cleanup() {
    local id
    for id in "${containers[@]}"; do
        "$SUPPORT_DIR/podman.sh" rm -f -t 0 "$id" >/dev/null 2>&1 || true
    done
    "$SUPPORT_DIR/registry.sh" stop "$WORK/registry" 2>/dev/null || true
    "$SUPPORT_DIR/registry.sh" stop "$WORK/registry-auth" 2>/dev/null || true
    "$SUPPORT_DIR/nginx-cache.sh" stop "$WORK/cache" 2>/dev/null || true
    "$SUPPORT_DIR/nginx-cache.sh" stop "$WORK/cache-auth" 2>/dev/null || true
}
trap cleanup EXIT

mkdir -p "$WORK"
layout=$WORK/layout

# --- build-bases.sh
"$REPO_DIR/examples/bases/build-bases.sh" "$layout" >"$WORK/build.out" 2>"$WORK/build.err"
for tag in node20 nginx glibc; do
    check "skopeo inspect oci:$tag" skopeo inspect "oci:$layout:$tag" >/dev/null
    check "$tag is linux/amd64" equals \
        "$(skopeo inspect --format '{{.Os}}/{{.Architecture}}' "oci:$layout:$tag")" linux/amd64
done
first_index=$(<"$layout/index.json")
"$REPO_DIR/examples/bases/build-bases.sh" "$layout" >/dev/null 2>&1
check "build-bases is reproducible" equals "$(<"$layout/index.json")" "$first_index"

# --- registry.sh and push-bases.sh
rm -rf "$WORK/registry" "$WORK/registry-auth"
"$SUPPORT_DIR/registry.sh" start "$WORK/registry" "$REGISTRY_PORT"
check "registry /v2/ returns 200" equals "$(http_status "http://127.0.0.1:$REGISTRY_PORT/v2/")" 200
"$SUPPORT_DIR/push-bases.sh" "$layout" "127.0.0.1:$REGISTRY_PORT" >"$WORK/push.out"
check "push prints three digests" equals "$(grep -c ' sha256:[0-9a-f]\{64\}$' "$WORK/push.out")" 3
registry_log=$WORK/registry/registry.log
# Each image has one layer and one config blob, so a fresh registry receives
# 6 uploads.
check "registry log counts 6 uploads" equals \
    "$(grep -c '"POST /v2/bases/[^ ]*/blobs/uploads/ HTTP/1.1" 202' "$registry_log")" 6
check "registry log counts 3 manifest PUTs" equals \
    "$(grep -c '"PUT /v2/bases/[^ ]*/manifests/1 HTTP/1.1" 201' "$registry_log")" 3
"$SUPPORT_DIR/push-bases.sh" "$layout" "127.0.0.1:$REGISTRY_PORT" >/dev/null
check "second push uploads nothing" equals \
    "$(grep -c '"POST /v2/bases/[^ ]*/blobs/uploads/ HTTP/1.1" 202' "$registry_log")" 6
check "second push HEADs existing blobs" test \
    "$(grep -c '"HEAD /v2/bases/[^ ]*/blobs/sha256:[0-9a-f]* HTTP/1.1" 200' "$registry_log")" -ge 6

"$SUPPORT_DIR/registry.sh" start "$WORK/registry-auth" "$AUTH_REGISTRY_PORT" --htpasswd kiln:test-password
check "auth registry rejects anonymous" equals "$(http_status "http://127.0.0.1:$AUTH_REGISTRY_PORT/v2/")" 401
check "auth registry accepts password" equals \
    "$(http_status -u kiln:test-password "http://127.0.0.1:$AUTH_REGISTRY_PORT/v2/")" 200
check "push with credentials" "$SUPPORT_DIR/push-bases.sh" "$layout" "127.0.0.1:$AUTH_REGISTRY_PORT" \
    --creds kiln:test-password >/dev/null

# --- nginx-cache.sh
rm -rf "$WORK/cache" "$WORK/cache-auth"
"$SUPPORT_DIR/nginx-cache.sh" start "$WORK/cache" "$CACHE_PORT"
cache=http://127.0.0.1:$CACHE_PORT
head -c 3000000 /dev/urandom >"$WORK/blob"
check "cache PUT new key returns 201" equals "$(http_status -T "$WORK/blob" "$cache/cas/key1")" 201
check "cache PUT same key returns 204" equals "$(http_status -T "$WORK/blob" "$cache/cas/key1")" 204
curl -s -o "$WORK/blob.out" "$cache/cas/key1"
check "cache GET returns the PUT bytes" cmp -s "$WORK/blob" "$WORK/blob.out"
check "cache HEAD existing returns 200" equals "$(http_status -I "$cache/cas/key1")" 200
check "cache HEAD missing returns 404" equals "$(http_status -I "$cache/cas/missing")" 404
check "cache GET missing returns 404" equals "$(http_status "$cache/ac/missing")" 404
check "cache instance PUT returns 201" equals "$(http_status -T "$WORK/blob" "$cache/team1/ac/key2")" 201
check "cache instance maps to subfolder" cmp -s "$WORK/blob" "$WORK/cache/data/team1/ac/key2"
check "cache DELETE returns 403" equals "$(http_status -X DELETE "$cache/cas/key1")" 403
check "cache other path returns 404" equals "$(http_status -T "$WORK/blob" "$cache/other/key")" 404
check "cache access log has PUT line" grep -q '"PUT /cas/key1 HTTP/1.1" 201 ' "$WORK/cache/access.log"

"$SUPPORT_DIR/nginx-cache.sh" start "$WORK/cache-auth" "$AUTH_CACHE_PORT" --basic-auth kiln:test-password
auth_cache=http://127.0.0.1:$AUTH_CACHE_PORT
check "auth cache rejects anonymous" equals "$(http_status "$auth_cache/cas/key1")" 401
check "auth cache PUT with password" equals \
    "$(http_status -u kiln:test-password -T "$WORK/blob" "$auth_cache/cas/key1")" 201
check "auth cache GET with password" equals "$(http_status -u kiln:test-password "$auth_cache/cas/key1")" 200

# --- podman.sh with each base image, as uid 10001 on host networking
export KILN_PODMAN_DIR=$WORK/podman
podman=$SUPPORT_DIR/podman.sh
for tag in node20 nginx glibc; do
    "$podman" load-oci "$layout" "$tag" "localhost/bases/$tag:1"
done

id=$("$podman" run -d --user 10001:10001 localhost/bases/node20:1 \
    node -e "require('http').createServer((q, r) => r.end('ok')).listen($NODE_PORT, '127.0.0.1')")
containers+=("$id")
check "node20 serves HTTP as uid 10001" wait_for_body "http://127.0.0.1:$NODE_PORT/" ok
check "node20 runs as uid 10001" equals "$(ps -o uid= -p "$("$podman" inspect -f '{{.State.Pid}}' "$id")" | tr -d ' ')" 10001
check "node20 nofile limit is 1024" equals \
    "$("$podman" exec "$id" node -p 'require("fs").readFileSync("/proc/self/limits", "utf8").match(/Max open files +(\d+)/)[1]')" 1024

cat >"$WORK/nginx.conf" <<EOF
pid /tmp/nginx.pid;
error_log stderr;
events {}
http {
    access_log /dev/stdout;
    client_body_temp_path /tmp/client_body;
    proxy_temp_path /tmp/proxy;
    fastcgi_temp_path /tmp/fastcgi;
    uwsgi_temp_path /tmp/uwsgi;
    scgi_temp_path /tmp/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        location / {
            return 200 "ok";
        }
    }
}
EOF
id=$("$podman" run -d --user 10001:10001 -v "$WORK/nginx.conf:/etc/nginx/nginx.conf:ro" localhost/bases/nginx:1)
containers+=("$id")
check "nginx serves HTTP as uid 10001" wait_for_body "http://127.0.0.1:$NGINX_PORT/" ok
check "nginx logs to stdout" bash -c "'$podman' logs '$id' 2>/dev/null | grep -q '\"GET / HTTP/1.1\" 200'"

if command -v cargo >/dev/null; then
    mkdir -p "$WORK/rust/src"
    cat >"$WORK/rust/Cargo.toml" <<'EOF'
[package]
name = "hello-http"
version = "0.1.0"
edition = "2021"
EOF
    cat >"$WORK/rust/src/main.rs" <<'EOF'
use std::io::{Read, Write};
use std::net::TcpListener;

fn main() {
    let port = std::env::args().nth(1).expect("usage: hello-http PORT");
    let listener = TcpListener::bind(format!("127.0.0.1:{port}")).expect("bind failed");
    for mut stream in listener.incoming().flatten() {
        let mut request = [0u8; 1024];
        let _ = stream.read(&mut request);
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
    }
}
EOF
    cargo build --quiet --release --offline --manifest-path "$WORK/rust/Cargo.toml"
    id=$("$podman" run -d --user 10001:10001 \
        -v "$WORK/rust/target/release/hello-http:/usr/local/bin/hello-http:ro" \
        localhost/bases/glibc:1 hello-http "$RUST_PORT")
    containers+=("$id")
    check "glibc runs a Rust binary as uid 10001" wait_for_body "http://127.0.0.1:$RUST_PORT/" ok
else
    echo "skip glibc Rust binary check: cargo not found"
fi

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
