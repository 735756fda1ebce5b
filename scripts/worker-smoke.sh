#!/usr/bin/env bash
# Prove the Cloudflare Workers build: run src/worker.ts under `wrangler dev` (workerd, locally)
# against a real PostgreSQL server through the emulated Hyperdrive binding, and call it with curl.
#   usage: DATABASE_URL=postgres://user:password@127.0.0.1:PORT/db bash scripts/worker-smoke.sh
# .ci/run calls it after starting PostgreSQL with scripts/pg-start.sh. The script works in its own
# database (created beside DATABASE_URL's, dropped at the end), migrates and seeds it with the
# CLI, takes the CLI's development signing key as the Worker's JWKS, and checks three requests.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${DATABASE_URL:?DATABASE_URL must point at a PostgreSQL server (see scripts/pg-start.sh)}"
LIMIT="${FMAR_WORKER_SMOKE_TIMEOUT:-120}" # seconds for the whole run
START=$SECONDS
export CI=true WRANGLER_SEND_METRICS=false NO_COLOR=1 FORCE_COLOR=0

failures=0
pass() { echo "PASS worker: $*"; }
fail() { echo "FAIL worker: $*"; failures=$((failures + 1)); }
left() { echo $((LIMIT - (SECONDS - START))); }
step() { # run a command within what is left of the time limit
  local t rc=0; t=$(left)
  [ "$t" -gt 0 ] || { echo "FAIL worker: timed out after ${LIMIT}s"; exit 1; }
  timeout "$t" "$@" || rc=$?
  [ "$rc" != 124 ] || echo "timed out: the whole smoke run is limited to ${LIMIT}s (FMAR_WORKER_SMOKE_TIMEOUT)" >&2
  return "$rc"
}

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# One small helper for the database chores, through postgres.js (psql may not be on PATH).
pg() { # pg URL SQL -> prints the first column of the first row (if any)
  node --input-type=module -e '
    import postgres from "postgres";
    const sql = postgres(process.argv[1], { max: 1, onnotice: () => {} });
    try { const rows = await sql.unsafe(process.argv[2]); if (rows[0]) console.log(typeof Object.values(rows[0])[0] === "string" ? Object.values(rows[0])[0] : JSON.stringify(Object.values(rows[0])[0])); }
    finally { await sql.end({ timeout: 5 }); }' "$1" "$2"
}
export -f pg

WORK="$(mktemp -d /tmp/fmar-worker-smoke.XXXXXX)"
SMOKE_DB="fmar_worker_smoke_$$"
SMOKE_URL="$(node -e 'const u=new URL(process.argv[1]);u.pathname="/"+process.argv[2];console.log(u.href)' "$DATABASE_URL" "$SMOKE_DB")"
WRANGLER_PID=""
cleanup() {
  if [ -n "$WRANGLER_PID" ]; then
    kill -TERM -- "-$WRANGLER_PID" 2>/dev/null || true # wrangler and the workerd it started (own process group)
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 -- "-$WRANGLER_PID" 2>/dev/null || break; sleep 0.5; done
    kill -KILL -- "-$WRANGLER_PID" 2>/dev/null || true
  fi
  timeout 20 bash -c 'pg "$@"' _ "$DATABASE_URL" "DROP DATABASE IF EXISTS $SMOKE_DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! step bash -c 'pg "$@"' _ "$DATABASE_URL" "CREATE DATABASE $SMOKE_DB" >"$WORK/createdb.log" 2>&1; then
  cat "$WORK/createdb.log"; fail "cannot create database $SMOKE_DB beside DATABASE_URL"; exit 1
fi

# The CLI and the Worker must agree on the issuer: the CLI signs with FMAR_ISSUER, else FMAR_BASE_URL.
PORT="$(free_port)"
BASE="http://127.0.0.1:$PORT"
export FMAR_MODE=development FMAR_BASE_URL="$BASE" FMAR_ISSUER="$BASE" FMAR_AUDIENCE="$BASE/api"
unset FMAR_JWKS FMAR_JWKS_URL FMAR_DEMO # the CLI uses its development signing key only when no JWKS is configured

if step env DATABASE_URL="$SMOKE_URL" npx fmar migrate >"$WORK/cli.log" 2>&1 \
  && step env DATABASE_URL="$SMOKE_URL" npx fmar seed >>"$WORK/cli.log" 2>&1; then
  pass "migrated and seeded database $SMOKE_DB with the CLI"
else
  cat "$WORK/cli.log"; fail "fmar migrate/seed"; exit 1
fi
TOKEN="$(step env DATABASE_URL="$SMOKE_URL" npx fmar token fsp-a 2>"$WORK/token.log" | tail -n 1)" || true
if [[ "$TOKEN" =~ ^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$ ]]; then pass "minted a development access token for fsp-a"; else cat "$WORK/token.log"; fail "fmar token fsp-a"; exit 1; fi
JWKS="$(step bash -c 'pg "$@"' _ "$SMOKE_URL" "SELECT jsonb_build_object('keys', jsonb_agg(public_jwk)) FROM signing_key WHERE purpose = 'oidc' AND (expires_at IS NULL OR expires_at > now())")" || true
if [[ "$JWKS" == '{"keys": [{'* || "$JWKS" == '{"keys":[{'* ]]; then pass "read the development public JWK from signing_key"; else fail "no development public key in signing_key ($JWKS)"; exit 1; fi
JWKS="$(node -e 'console.log(JSON.stringify(JSON.parse(process.argv[1])))' "$JWKS")" # compact: one argv word

# Hyperdrive is emulated by wrangler dev: point the binding at the smoke database (password required).
export CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE="$SMOKE_URL"
INSPECTOR_PORT="$(free_port)"
setsid npx wrangler dev --ip 127.0.0.1 --port "$PORT" --inspector-port "$INSPECTOR_PORT" \
  --persist-to "$WORK/state" --log-level info --show-interactive-dev-session=false \
  --var "FMAR_MODE:production" --var "FMAR_BASE_URL:$BASE" --var "FMAR_ISSUER:$BASE" \
  --var "FMAR_AUDIENCE:$BASE/api" --var "FMAR_JWKS:$JWKS" \
  </dev/null >"$WORK/wrangler.log" 2>&1 &
WRANGLER_PID=$!

ready=""
while [ "$(left)" -gt 0 ]; do
  if ! kill -0 "$WRANGLER_PID" 2>/dev/null; then break; fi
  if curl -fsS -m 5 -o /dev/null "$BASE/healthz" 2>/dev/null; then ready=1; break; fi
  sleep 1
done
if [ -z "$ready" ]; then
  echo "---- wrangler dev output"; cat "$WORK/wrangler.log"; echo "----"
  fail "wrangler dev did not answer on $BASE/healthz within ${LIMIT}s"; exit 1
fi
pass "wrangler dev (workerd) answers on $BASE after $((SECONDS - START))s"

# request METHOD PATH [curl args...] -> sets CODE, TYPE, BODY
request() {
  local path="$1"; shift
  local out
  out="$(curl -sS -m 20 -o "$WORK/body" -w '%{http_code} %{content_type}' "$@" "$BASE$path")" || out="000 -"
  CODE="${out%% *}"; TYPE="${out#* }"; BODY="$(cat "$WORK/body" 2>/dev/null || true)"
}

request /healthz
if [ "$CODE" = 200 ] && [[ "$BODY" == *'"database":"postgres"'* ]]; then pass "GET /healthz -> 200, database postgres"
else fail "GET /healthz -> $CODE $BODY"; fi

ASSETS='/api/v1/assets?identifier=mpan:1312345678907'
request "$ASSETS" -H "Authorization: Bearer $TOKEN"
if [ "$CODE" = 200 ] && node -e '
  const b = JSON.parse(process.argv[1]);
  if (!Array.isArray(b.items) || b.items.length !== 1 || b.items[0].friendlyCode !== "ALPHA-BESS-1") process.exit(1);' "$BODY"; then
  pass "GET $ASSETS with the FSP token -> 200, one item ALPHA-BESS-1"
else fail "GET $ASSETS with the FSP token -> $CODE $BODY"; fi

request "$ASSETS"
if [ "$CODE" = 401 ] && [[ "$TYPE" == application/problem+json* ]]; then pass "GET $ASSETS without a token -> 401 application/problem+json"
else fail "GET $ASSETS without a token -> $CODE $TYPE $BODY"; fi

# /docs loads its script from the Worker's own bundle, at a hashed URL cached for ever (src/http/pages.ts).
request /docs
SCRIPT="$(node -e 'const m = /<script src="(\/assets\/api-reference\.[0-9a-f]{20}\.js)"/.exec(process.argv[1]); console.log(m ? m[1] : "")' "$BODY")"
if [ "$CODE" = 200 ] && [ -n "$SCRIPT" ] && [[ "$BODY" != *'cdn.jsdelivr'* ]]; then pass "GET /docs -> 200, script $SCRIPT from the Worker"
else fail "GET /docs -> $CODE, no hashed script URL of the hub in the page"; fi
if [ -n "$SCRIPT" ]; then
  CACHE="$(curl -sS -m 20 -o "$WORK/script.js" -D - "$BASE$SCRIPT" | tr -d '\r' | sed -n 's/^cache-control: //Ip')"
  if [ "$CACHE" = 'public, max-age=31536000, immutable' ] && cmp -s "$WORK/script.js" node_modules/@scalar/api-reference/dist/browser/standalone.js; then
    pass "GET $SCRIPT -> the installed standalone bundle, cache-control $CACHE"
  else fail "GET $SCRIPT -> cache-control '$CACHE', or not the installed bundle"; fi
fi

if [ "$failures" -ne 0 ]; then
  echo "---- wrangler dev output"; cat "$WORK/wrangler.log"; echo "----"
  echo "FAIL worker smoke: $failures check(s) failed"; exit 1
fi
echo "PASS worker smoke: all checks passed in $((SECONDS - START))s"
