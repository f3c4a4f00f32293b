#!/usr/bin/env bash
# Start or stop an HTTP build cache (nginx with WebDAV PUT) on 127.0.0.1 for
# tests. It speaks the protocol of Bazel's HTTP remote cache: GET, HEAD and
# PUT on /ac/KEY and /cas/KEY.
#
# Usage:
#   nginx-cache.sh start DIR PORT [--basic-auth USER:PASS]
#   nginx-cache.sh stop DIR
#
# Requests map to files under DIR/data:
#   /ac/KEY            -> DIR/data/ac/KEY
#   /INSTANCE/cas/KEY  -> DIR/data/INSTANCE/cas/KEY
# Other paths return 404, and methods other than GET, HEAD and PUT return 403.
# GET /_kiln/ready returns 204 without auth and is not logged.
#
# Files in DIR: nginx.conf (rewritten on every start), nginx.pid,
# access.log, error.log, htpasswd (with --basic-auth), data/ and tmp/.
# nginx runs as the calling user; as root its workers run as root too, so
# that they can write DIR/data.
#
# A second start with the same arguments does nothing, and one with other
# arguments restarts nginx.
set -euo pipefail

readonly WAIT_STEPS=50 # times 0.1 s
readonly NGINX_BIN=/usr/sbin/nginx
readonly MAX_BODY_SIZE=1g

usage() {
    cat >&2 <<EOF
usage: $0 start DIR PORT [--basic-auth USER:PASS]
       $0 stop DIR
EOF
    exit 2
}

log() {
    echo "nginx-cache.sh: $*" >&2
}

fail() {
    echo "nginx-cache.sh: error: $*" >&2
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

# Print the master pid from DIR/nginx.pid if that process is an nginx
# started with DIR/nginx.conf, so a reused pid is never signalled.
running_pid() {
    local dir=$1 pid
    [[ -f $dir/nginx.pid ]] || return 1
    pid=$(<"$dir/nginx.pid")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [[ -r /proc/$pid/cmdline ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$dir/nginx.conf" || return 1
    echo "$pid"
}

write_config() {
    local dir=$1 port=$2 with_auth=$3 user_line="" auth_lines=""
    if [[ $(id -u) -eq 0 ]]; then
        # Without this, a root master runs its workers as nobody, which cannot
        # write DIR/data.
        user_line="user root $(id -gn);"
    fi
    if [[ $with_auth == true ]]; then
        auth_lines="auth_basic \"kiln test cache\";
        auth_basic_user_file $dir/htpasswd;"
    fi
    cat >"$dir/nginx.conf" <<EOF
# Written by tests/support/nginx-cache.sh, which rewrites it on every start.
$user_line
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log notice;

events {
    worker_connections 256;
}

http {
    log_format cache '\$remote_addr - \$remote_user [\$time_local] "\$request" '
                     '\$status \$body_bytes_sent \$request_length \$request_time';
    access_log $dir/access.log cache;

    # The DAV module receives each PUT body into a temporary file here, then
    # renames it onto the target. DIR/tmp is on the same file system as
    # DIR/data, so the rename is atomic and readers never see partial files.
    client_body_temp_path $dir/tmp/client_body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    client_max_body_size $MAX_BODY_SIZE;

    types {}
    default_type application/octet-stream;
    sendfile on;

    server {
        listen 127.0.0.1:$port;
        root $dir/data;
        $auth_lines

        # An optional first path segment names an instance and maps to a
        # subfolder of DIR/data.
        location ~ ^/([^/]+/)?(ac|cas)/. {
            dav_methods PUT;
            create_full_put_path on;
            dav_access user:rw group:r all:r;
            limit_except GET PUT {
                deny all;
            }
        }

        # Readiness probe for this script, kept out of access.log so that
        # tests can count their own requests.
        location = /_kiln/ready {
            auth_basic off;
            access_log off;
            return 204;
        }

        location / {
            return 404;
        }
    }
}
EOF
}

start() {
    local dir=$1 port=$2 credentials=${3:-} fingerprint pid step status temp_path
    [[ $port =~ ^[0-9]+$ && $port -ge 1 && $port -le 65535 ]] || fail "invalid port '$port'; expected 1-65535"
    mkdir -p "$dir/data"
    dir=$(cd "$dir" && pwd)
    for temp_path in client_body proxy fastcgi uwsgi scgi; do
        mkdir -p "$dir/tmp/$temp_path"
    done

    # A hash of the start arguments, so a second start with the same
    # arguments is a no-op and one with other arguments restarts nginx. It is
    # a hash so that the password is not stored in clear.
    fingerprint=$(printf '%s\n' "$port" "$credentials" | sha256sum | cut -c1-64)
    if pid=$(running_pid "$dir"); then
        if [[ -f $dir/nginx.args && $(<"$dir/nginx.args") == "$fingerprint" ]]; then
            log "already running from $dir (pid $pid)"
            return
        fi
        log "restarting pid $pid with the new arguments"
        stop "$dir"
    fi
    [[ -x $NGINX_BIN ]] || ensure_packages nginx
    if ss -Hltn "sport = :$port" 2>/dev/null | grep -q .; then
        fail "port $port is already in use on this host; pick another port"
    fi

    if [[ -n $credentials ]]; then
        [[ $credentials == *:* ]] || fail "invalid --basic-auth value; expected USER:PASS"
        command -v openssl >/dev/null || ensure_packages openssl
        # nginx verifies apr1 (Apache MD5) hashes with its own code, so unlike
        # bcrypt they work whatever the system's crypt(3) supports.
        printf '%s:%s\n' "${credentials%%:*}" "$(openssl passwd -apr1 "${credentials#*:}")" >"$dir/htpasswd"
        write_config "$dir" "$port" true
    else
        rm -f "$dir/htpasswd"
        write_config "$dir" "$port" false
    fi

    # The master daemonizes after binding the port and writing DIR/nginx.pid.
    # -e sends errors from before the config is read to DIR/error.log too.
    "$NGINX_BIN" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" ||
        fail "nginx failed to start; see $dir/error.log"
    echo "$fingerprint" >"$dir/nginx.args"

    for ((step = 0; step < WAIT_STEPS; step++)); do
        if pid=$(running_pid "$dir"); then
            status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$port/_kiln/ready" || true)
            if [[ $status == 204 ]]; then
                log "listening on 127.0.0.1:$port (pid $pid, data $dir/data, log $dir/access.log)"
                return
            fi
        fi
        sleep 0.1
    done
    fail "nginx did not answer on http://127.0.0.1:$port/ within 5 s; see $dir/error.log"
}

stop() {
    local dir=$1 pid step workers=()
    [[ -d $dir ]] || fail "folder $dir not found"
    dir=$(cd "$dir" && pwd)
    if ! pid=$(running_pid "$dir"); then
        log "not running from $dir"
        rm -f "$dir/nginx.pid" "$dir/nginx.args"
        return
    fi
    # SIGTERM makes nginx shut down fast, and the master stops its workers
    # before it exits.
    kill "$pid"
    for ((step = 0; step < WAIT_STEPS; step++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        # Workers outlive a killed master, so kill them by pid as well.
        mapfile -t workers < <(pgrep -P "$pid" || true)
        log "pid $pid ignored SIGTERM for 5 s; sending SIGKILL to it and its workers ${workers[*]}"
        kill -9 "$pid" "${workers[@]}" 2>/dev/null || true
    fi
    rm -f "$dir/nginx.pid" "$dir/nginx.args"
    log "stopped pid $pid"
}

[[ $# -ge 2 ]] || usage
case $1 in
    start)
        [[ $# -eq 3 || ($# -eq 5 && $4 == --basic-auth) ]] || usage
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
