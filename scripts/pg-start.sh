#!/usr/bin/env bash
# Start a throwaway PostgreSQL 15 server (as the postgres user, in a temporary directory) and print
# its DATABASE_URL. Used by .ci/run and by the benchmarks; safe to run on a developer machine.
#   usage: eval "$(bash scripts/pg-start.sh)"    -> exports DATABASE_URL and FMAR_PG_DIR
set -euo pipefail
PORT="${FMAR_PG_PORT:-55432}"
BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then
  echo "PostgreSQL server binaries not found under /usr/lib/postgresql; install postgresql (apt-get install -y postgresql postgresql-contrib)" >&2
  exit 1
fi
DIR="$(mktemp -d /tmp/fmar-pg.XXXXXX)"
chown postgres:postgres "$DIR" 2>/dev/null || true
run() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }
run "'$BIN/initdb' -D '$DIR/data' -U postgres --auth=trust -E UTF8 --no-sync >'$DIR/initdb.log' 2>&1"
cat >>"$DIR/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
shared_buffers = 512MB
CONF
run "'$BIN/pg_ctl' -D '$DIR/data' -l '$DIR/server.log' -w start >/dev/null"
run "'$BIN/createdb' -h 127.0.0.1 -p $PORT -U postgres fmar"
echo "export FMAR_PG_DIR='$DIR'"
echo "export FMAR_PG_BIN='$BIN'"
echo "export DATABASE_URL='postgres://postgres:postgres@127.0.0.1:$PORT/fmar'"
