#!/usr/bin/env bash
# Start or stop a private OCI registry (Debian's docker-registry, which is
# distribution v2) on 127.0.0.1 for tests.
#
# Usage:
#   registry.sh start DIR PORT [--htpasswd USER:PASS]
#   registry.sh stop DIR
#
# start writes DIR/config.yml, keeps blobs under DIR/data, appends the access
# and application logs to DIR/registry.log and the process id to
# DIR/registry.pid, then waits up to 5 s for GET /v2/ to return 200 (or 401
# with --htpasswd). A second start with the same arguments does nothing, and
# one with other arguments restarts the registry. stop kills the process
# named in DIR/registry.pid.
#
# With --htpasswd USER:PASS, clients must send basic auth. The password is
# stored bcrypt-hashed in DIR/htpasswd (apache2-utils' htpasswd -B, which the
# script installs if it is missing).
set -euo pipefail

readonly WAIT_STEPS=50 # times 0.1 s
readonly REGISTRY_BIN=/usr/bin/docker-registry

usage() {
    cat >&2 <<EOF
usage: $0 start DIR PORT [--htpasswd USER:PASS]
       $0 stop DIR
EOF
    exit 2
}

log() {
    echo "registry.sh: $*" >&2
}

fail() {
    echo "registry.sh: error: $*" >&2
    exit 1
}

is_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

ensure_packages() {
    local missing=() package
    for package in "$@"; do
        is_installed "$package" || missing+=("$package")
    done
    if [[ ${#missing[@]} -gt 0 ]]; then
        log "installing ${missing[*]}"
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
    fi
}

# Print the pid from DIR/registry.pid if that process is still this
# registry (its command line names DIR/config.yml), so a reused pid is never
# killed.
running_pid() {
    local dir=$1 pid
    [[ -f $dir/registry.pid ]] || return 1
    pid=$(<"$dir/registry.pid")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [[ -r /proc/$pid/cmdline ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$dir/config.yml" || return 1
    echo "$pid"
}

write_config() {
    local dir=$1 port=$2 with_auth=$3
    cat >"$dir/config.yml" <<EOF
# Written by tests/support/registry.sh, which rewrites it on every start.
version: 0.1
log:
  level: info
  formatter: text
  accesslog:
    disabled: false
  fields:
    service: registry
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
http:
  addr: 127.0.0.1:$port
  secret: kiln-test-registry
  headers:
    X-Content-Type-Options: [nosniff]
EOF
    if [[ $with_auth == true ]]; then
        cat >>"$dir/config.yml" <<EOF
auth:
  htpasswd:
    realm: kiln-test-registry
    path: $dir/htpasswd
EOF
    fi
}

start() {
    local dir=$1 port=$2 credentials=${3:-} fingerprint pid status step
    [[ $port =~ ^[0-9]+$ && $port -ge 1 && $port -le 65535 ]] || fail "invalid port '$port'; expected 1-65535"
    mkdir -p "$dir/data"
    dir=$(cd "$dir" && pwd)

    # A hash of the start arguments, so a second start with the same
    # arguments is a no-op and one with other arguments restarts the
    # registry. It is a hash so that the password is not stored in clear.
    fingerprint=$(printf '%s\n' "$port" "$credentials" | sha256sum | cut -c1-64)
    if pid=$(running_pid "$dir"); then
        if [[ -f $dir/registry.args && $(<"$dir/registry.args") == "$fingerprint" ]]; then
            log "already running from $dir (pid $pid)"
            return
        fi
        log "restarting pid $pid with the new arguments"
        stop "$dir"
    fi
    [[ -x $REGISTRY_BIN ]] || ensure_packages docker-registry
    if ss -Hltn "sport = :$port" 2>/dev/null | grep -q .; then
        fail "port $port is already in use on this host; pick another port"
    fi

    if [[ -n $credentials ]]; then
        [[ $credentials == *:* ]] || fail "invalid --htpasswd value; expected USER:PASS"
        command -v htpasswd >/dev/null || ensure_packages apache2-utils
        # The registry accepts only bcrypt entries (-B).
        htpasswd -Bbc "$dir/htpasswd" "${credentials%%:*}" "${credentials#*:}" 2>/dev/null
        write_config "$dir" "$port" true
    else
        rm -f "$dir/htpasswd"
        write_config "$dir" "$port" false
    fi

    # The registry writes its access log to stdout and its other messages to
    # stderr. setsid detaches it from the caller's process group and terminal.
    setsid "$REGISTRY_BIN" serve "$dir/config.yml" >>"$dir/registry.log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$dir/registry.pid"
    echo "$fingerprint" >"$dir/registry.args"

    for ((step = 0; step < WAIT_STEPS; step++)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            rm -f "$dir/registry.pid"
            tail -n 20 "$dir/registry.log" >&2
            fail "docker-registry exited during start; the log above is from $dir/registry.log"
        fi
        status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$port/v2/" || true)
        if [[ $status == 200 || ($status == 401 && -n $credentials) ]]; then
            log "listening on 127.0.0.1:$port (pid $pid, data $dir/data, log $dir/registry.log)"
            return
        fi
        sleep 0.1
    done
    kill "$pid" 2>/dev/null || true
    rm -f "$dir/registry.pid"
    fail "docker-registry did not answer GET http://127.0.0.1:$port/v2/ within 5 s; see $dir/registry.log"
}

stop() {
    local dir=$1 pid step
    [[ -d $dir ]] || fail "folder $dir not found"
    dir=$(cd "$dir" && pwd)
    if ! pid=$(running_pid "$dir"); then
        log "not running from $dir"
        rm -f "$dir/registry.pid"
        return
    fi
    kill "$pid"
    for ((step = 0; step < WAIT_STEPS; step++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "pid $pid ignored SIGTERM for 5 s; sending SIGKILL"
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$dir/registry.pid" "$dir/registry.args"
    log "stopped pid $pid"
}

[[ $# -ge 2 ]] || usage
case $1 in
    start)
        [[ $# -eq 3 || ($# -eq 5 && $4 == --htpasswd) ]] || usage
        start "$2" "$3" "${5:-}"
        ;;
    stop)
        [[ $# -eq 2 ]] || usage
        stop "$2"
        ;;
    *)
        usage
        ;;
esac
