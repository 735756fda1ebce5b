#!/usr/bin/env bash
# Start a throwaway PostgreSQL server (as the postgres user, in a temporary directory) and print
# its DATABASE_URL. Used by .ci/run and by the benchmarks; safe to run on a developer machine.
#   usage: PGENV="$(bash scripts/pg-start.sh)" || exit 1; eval "$PGENV"   -> exports DATABASE_URL, FMAR_PG_DIR
# Exits non-zero, with the server's own log on stderr, when the server cannot be started: the caller
# must never go on without a server. FMAR_PG_PORT picks the port (default 55432); when that port is
# taken, the next free one is used.
set -euo pipefail
BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then
  echo "pg-start: PostgreSQL server binaries not found under /usr/lib/postgresql; install postgresql (apt-get install -y postgresql postgresql-contrib)" >&2
  exit 1
fi
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT="${FMAR_PG_PORT:-55432}"
for _ in $(seq 1 50); do port_free "$PORT" && break; PORT=$((PORT + 1)); done
port_free "$PORT" || { echo "pg-start: no free port from ${FMAR_PG_PORT:-55432} to $PORT" >&2; exit 1; }
DIR="$(mktemp -d /tmp/fmar-pg.XXXXXX)"
chown postgres:postgres "$DIR" 2>/dev/null || true
run() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }
fail() { echo "pg-start: $1" >&2; for f in "$DIR/initdb.log" "$DIR/server.log"; do [ -f "$f" ] && { echo "--- $f" >&2; tail -n 40 "$f" >&2; }; done; exit 1; }
run "'$BIN/initdb' -D '$DIR/data' -U postgres --auth=trust -E UTF8 --no-sync >'$DIR/initdb.log' 2>&1" || fail "initdb failed"
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
run "'$BIN/pg_ctl' -D '$DIR/data' -l '$DIR/server.log' -w start >/dev/null" || fail "pg_ctl could not start the server on port $PORT"
run "'$BIN/createdb' -h 127.0.0.1 -p $PORT -U postgres fmar" || fail "createdb failed on port $PORT"
echo "export FMAR_PG_DIR='$DIR'"
echo "export FMAR_PG_BIN='$BIN'"
echo "export DATABASE_URL='postgres://postgres:postgres@127.0.0.1:$PORT/fmar'"
