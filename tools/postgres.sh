#!/usr/bin/env bash
# A local PostgreSQL server for Pulumi's state (its postgres:// backend): for the tests, and for
# trying the shared-state set-up on one machine. A team points PULUMI_BACKEND_URL (or
# `mesh --backend`) at its own database server instead.
#
#   tools/postgres.sh start DIR [PORT]   initialise DIR once, start the server on 127.0.0.1:PORT
#                                        (default 5433) and print the backend URL
#   tools/postgres.sh url DIR [PORT]     print the backend URL again
#   tools/postgres.sh stop DIR           stop it
#
# The URL carries the database password, generated at the first start into DIR/password (mode
# 600): keep DIR outside any repository, and treat the URL as a credential.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
port=${3:-5433}
[ -n "$cmd" ] && [ -n "$dir" ] || { sed -n '2,12p' "$0"; exit 2; }

bin=$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -1)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    echo "[postgres] installing postgresql from Debian" >&2
    apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
    bin=$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d | sort -V | tail -1)
fi

# PostgreSQL refuses to run as root: as root, its files and processes belong to the postgres user.
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

url() {
    echo "postgres://pulumi:$(cat "$dir/password")@127.0.0.1:$port/pulumi?sslmode=disable"
}

case $cmd in
    start)
        mkdir -p "$dir"
        [ "$(id -u)" = 0 ] && chown postgres "$dir"
        if [ ! -f "$dir/data/PG_VERSION" ]; then
            umask 077
            head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$dir/password"
            [ "$(id -u)" = 0 ] && chown postgres "$dir/password"
            as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 >"$dir/initdb.log"
        fi
        as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
            -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir" start >/dev/null
        # The role and database Pulumi's state lives in (once).
        if ! as_owner "$bin/psql" -h "$dir" -p "$port" -U postgres -tAc "select 1 from pg_roles where rolname = 'pulumi'" | grep -q 1; then
            as_owner "$bin/psql" -q -h "$dir" -p "$port" -U postgres \
                -c "create role pulumi login password '$(cat "$dir/password")'" -c "create database pulumi owner pulumi"
        fi
        url
        ;;
    url) url ;;
    stop)
        [ -f "$dir/data/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
        ;;
    *) sed -n '2,12p' "$0"; exit 2 ;;
esac
