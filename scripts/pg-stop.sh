#!/usr/bin/env bash
# Stop the server started by scripts/pg-start.sh and remove its directory.
set -u
[ -n "${FMAR_PG_DIR:-}" ] && [ -d "$FMAR_PG_DIR" ] || exit 0
cmd="'$FMAR_PG_BIN/pg_ctl' -D '$FMAR_PG_DIR/data' -m fast stop"
if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$cmd" >/dev/null 2>&1; else bash -c "$cmd" >/dev/null 2>&1; fi
rm -rf "$FMAR_PG_DIR"
