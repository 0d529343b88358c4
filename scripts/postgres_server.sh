#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests and local runs: initdb into a temporary
# folder, listen on loopback only, stop and delete it afterwards.
#
#   scripts/postgres_server.sh start   # prints the env vars that reach it
#   scripts/postgres_server.sh stop
#
# Settings (env): CRM_PRIORITY_PG_DATA (default /tmp/crm_priority_pg),
# CRM_PRIORITY_PG_PORT (55432), CRM_PRIORITY_PG_DATABASE (crm_priority).
set -euo pipefail

data_dir="${CRM_PRIORITY_PG_DATA:-/tmp/crm_priority_pg}"
port="${CRM_PRIORITY_PG_PORT:-55432}"
database="${CRM_PRIORITY_PG_DATABASE:-crm_priority}"

find_bin() {
    local found
    found="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    if [[ -z "$found" ]]; then
        echo "PostgreSQL server not found; installing the Debian package postgresql" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2
        apt-get install -y -qq postgresql >&2
        found="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
    fi
    echo "$found"
}

# initdb and the server refuse to run as root: run them as an unprivileged user.
as_server_user() {
    if [[ "$(id -u)" == 0 ]]; then
        id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

start() {
    local bin
    bin="$(find_bin)"
    if [[ -f "$data_dir/postmaster.pid" ]] && as_server_user "$bin/pg_ctl" -D "$data_dir" status >/dev/null 2>&1; then
        echo "PostgreSQL already running in $data_dir" >&2
    else
        rm -rf "$data_dir"
        mkdir -p "$data_dir"
        [[ "$(id -u)" == 0 ]] && chown postgres "$data_dir"
        # trust on loopback only: a throwaway server with no data worth a password
        as_server_user "$bin/initdb" -D "$data_dir" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
        as_server_user "$bin/pg_ctl" -D "$data_dir" -l "$data_dir/server.log" -w -t 60 \
            -o "-p $port -k $data_dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
    fi
    as_server_user "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtAc \
        "select 1 from pg_database where datname = '$database'" | grep -q 1 ||
        as_server_user "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres "$database"
    echo "CRM_PRIORITY_PG_HOST=127.0.0.1 CRM_PRIORITY_PG_PORT=$port CRM_PRIORITY_PG_USER=postgres CRM_PRIORITY_PG_DATABASE=$database"
}

stop() {
    local bin
    bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    if [[ -n "$bin" && -f "$data_dir/postmaster.pid" ]]; then
        as_server_user "$bin/pg_ctl" -D "$data_dir" -m fast -w stop >/dev/null || true
    fi
    rm -rf "$data_dir"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
