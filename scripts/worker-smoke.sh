#!/usr/bin/env bash
# Prove the Cloudflare Workers build stands on its own (docs/workers.md, "How CI proves it"): run
# src/worker.ts under `wrangler dev --test-scheduled` (workerd, locally) against a real PostgreSQL
# server through the emulated Hyperdrive binding, with no Node hub; check its tokens, its Cron
# Trigger jobs, its answers against the Node hub's on the same database, and the bundle's size.
#   usage: DATABASE_URL=postgres://user:password@127.0.0.1:PORT/db bash scripts/worker-smoke.sh
# .ci/run calls it after starting PostgreSQL with scripts/pg-start.sh. The checks are in
# scripts/worker-smoke.ts; it works in its own database (created beside DATABASE_URL's, dropped at
# the end) and is limited to FMAR_WORKER_SMOKE_TIMEOUT seconds (default 300).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DATABASE_URL:?DATABASE_URL must point at a PostgreSQL server (see scripts/pg-start.sh)}"
export CI=true WRANGLER_SEND_METRICS=false NO_COLOR=1 FORCE_COLOR=0
exec node --import tsx scripts/worker-smoke.ts
