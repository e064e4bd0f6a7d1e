#!/usr/bin/env bash
# A throwaway PostgreSQL on 127.0.0.1 for the tracking-server test (CI, or a developer's machine):
#   eval "$(scripts/postgres.sh start)"      # exports INITREG_TEST_PG and INITREG_PG_DIR
#   make test-postgres
#   scripts/postgres.sh stop "$INITREG_PG_DIR"
# `start` installs Debian's postgresql package if it is absent (as root), creates a cluster in a
# temporary folder with a random superuser password, and listens on a free loopback port only.
set -euo pipefail

pg_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

as_owner() {  # PostgreSQL refuses to run as root: use the postgres account when we are root
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  if [ -z "$(pg_bin)" ]; then
    if [ "$(id -u)" != 0 ]; then
      echo "error: PostgreSQL is not installed; run: apt-get install -y postgresql" >&2
      exit 1
    fi
    echo "installing PostgreSQL from Debian's packages" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
  fi
  local bin dir port password
  bin="$(pg_bin)"
  dir="$(mktemp -d /tmp/initreg-pg.XXXXXX)"
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  password="$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
  printf '%s\n' "$password" > "$dir/pwfile"
  chmod 600 "$dir/pwfile"
  [ "$(id -u)" = 0 ] && chown -R postgres: "$dir"
  as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=scram-sha-256 \
    --pwfile="$dir/pwfile" >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-h 127.0.0.1 -p $port -k $dir" start >&2 \
    || { cat "$dir/server.log" >&2; exit 1; }
  echo "export INITREG_PG_DIR='$dir'"
  echo "export INITREG_TEST_PG='postgresql://postgres:$password@127.0.0.1:$port/postgres'"
}

stop() {
  local dir="${1:?usage: scripts/postgres.sh stop DIR}"
  case "$dir" in /tmp/initreg-pg.*) ;; *) echo "error: not a folder made by start: $dir" >&2; exit 1 ;; esac
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$(pg_bin)/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: scripts/postgres.sh start | stop DIR" >&2; exit 2 ;;
esac
