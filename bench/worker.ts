/**
 * Benchmark: lookup by MPAN (GET /api/v1/assets?identifier=mpan:<core>, demo FSP token) on the
 * Worker (`wrangler dev`, workerd) against the Node hub, on the same database in the same run, with
 * pgbouncer in front of PostgreSQL standing in for Hyperdrive's pool; and the Worker straight to
 * PostgreSQL (what local Hyperdrive emulation does: a new server connection per request).
 * docs/performance.md, "Workers: MPAN lookup through a pooler".
 *
^ *   npx tsx bench/worker.ts     (BENCH_ASSETS=100000 BENCH_REPS=3 BENCH_DURATION=10 BENCH_CONNECTIONS=10 FMAR_PG_PORT=56400 BENCH_PORT=43200)
 *
 * Needs pgbouncer (Debian: apt-get install -y pgbouncer). Not part of CI. Load comes from
 * autocannon in this process, each request a random existing MPAN; the servers take turns, BENCH_REPS
 * rounds each; medians. PostgreSQL's own count of sessions (pg_stat_database.sessions) says how
 * many server connections each run opened.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import postgres from 'postgres';
import { HIGH_RATE_LIMITS, ROOT, envInt, fmt, log, machine, median, percentile, sleep, startHub, startPg, table } from './lib';
import { loadAssets, lookupMpan } from './load';

const ASSETS = envInt('BENCH_ASSETS', 100_000);
const REPS = envInt('BENCH_REPS', 3);
const DURATION = envInt('BENCH_DURATION', 10);
const CONNECTIONS = envInt('BENCH_CONNECTIONS', 10);
const PG_PORT = envInt('FMAR_PG_PORT', 56400);
const PORT = envInt('BENCH_PORT', 43200); // hub, pooler, Worker (pooled), Worker (direct), inspectors: PORT … PORT+5

interface Run {
  rps: number;
  p50: number;
  p99: number;
  sessions: number;
  requests: number;
}

const procs: ChildProcess[] = [];
function stopAll() {
  for (const p of procs)
    for (const target of [-p.pid!, p.pid!])
      try {
        if (p.pid && p.exitCode === null) process.kill(target, 'SIGTERM');
      } catch {
        /* gone */
      }
}
process.on('exit', stopAll);

/** pgbouncer in session mode (postgres.js names its prepared statements; pgbouncer 1.18 keeps them only per session). */
function startPgbouncer(pgPort: number, port: number): { url: string } {
  const dir = mkdtempSync(join(tmpdir(), 'fmar-bench-pgb-'));
  writeFileSync(join(dir, 'users.txt'), '"postgres" ""\n');
  writeFileSync(
    join(dir, 'pgbouncer.ini'),
    `[databases]
fmar = host=127.0.0.1 port=${pgPort} dbname=fmar user=postgres
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${port}
unix_socket_dir =
auth_type = trust
auth_file = ${dir}/users.txt
pool_mode = session
default_pool_size = 40
max_client_conn = 2000
server_reset_query = DISCARD ALL
logfile = ${dir}/pgbouncer.log
pidfile = ${dir}/pgbouncer.pid
`,
  );
  try {
    chownSync(dir, 0, 0);
    execFileSync('chown', ['-R', 'postgres:postgres', dir]);
  } catch {
    /* not root: run as this user */
  }
  const p = spawn('pgbouncer', [...(process.getuid?.() === 0 ? ['-u', 'postgres'] : []), join(dir, 'pgbouncer.ini')], {
    detached: true,
    stdio: 'ignore',
  });
  procs.push(p);
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return { url: `postgres://postgres:postgres@127.0.0.1:${port}/fmar` };
}

async function startWorker(dbUrl: string, port: number, inspector: number, vars: Record<string, string>): Promise<string> {
  const args = ['wrangler', 'dev', '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(inspector)];
  args.push('--show-interactive-dev-session=false', '--persist-to', mkdtempSync(join(tmpdir(), 'fmar-bench-wrangler-')));
  for (const [k, v] of Object.entries(vars)) args.push('--var', `${k}:${v}`);
  const p = spawn('npx', args, {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore'],
    env: { ...process.env, CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE: dbUrl, WRANGLER_SEND_METRICS: 'false', CI: 'true' },
  });
  procs.push(p);
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 120; i++) {
    try {
      if ((await fetch(`${base}/healthz`)).status === 200) return base;
    } catch {
      /* not yet */
    }
    await sleep(500);
  }
  throw new Error(`wrangler dev on ${port} did not start`);
}

async function sessions(sql: postgres.Sql): Promise<number> {
  const [r] = await sql`SELECT sessions::int AS n FROM pg_stat_database WHERE datname = 'fmar'`;
  return r.n as number;
}

async function drive(sql: postgres.Sql, baseUrl: string, token: string, seconds: number, path?: string): Promise<Run> {
  const lat: number[] = [];
  let bad = 0;
  const s0 = await sessions(sql);
  const inst = autocannon({
    url: baseUrl,
    connections: CONNECTIONS,
    duration: seconds,
    headers: { authorization: `Bearer ${token}` },
    requests: [
      {
        method: 'GET',
        setupRequest: (req: any) => ({
          ...req,
          path: path ?? `/api/v1/assets?identifier=mpan:${lookupMpan(Math.floor(Math.random() * ASSETS))}`,
        }),
      },
    ],
  } as any);
  inst.on('response', (_c: unknown, status: number, _b: number, ms: number) => {
    if (status === 200) lat.push(ms);
    else bad++;
  });
  const r: any = await inst;
  if (bad + r.errors + r.timeouts > 0.001 * (lat.length + bad))
    throw new Error(`${baseUrl}: ${bad} non-200 responses, ${r.errors} errors, ${r.timeouts} timeouts of ${lat.length + bad}`);
  const n = lat.length + bad;
  return {
    rps: n / (r.duration || seconds),
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
    sessions: (await sessions(sql)) - s0,
    requests: n,
  };
}

async function main() {
  log(`Worker vs Node lookup benchmark: ${fmt(ASSETS)} assets; ${REPS} rounds × ${DURATION} s per server; ${CONNECTIONS} connections`);
  const pg = startPg(PG_PORT);
  const sql = postgres(pg.url, { max: 2, onnotice: () => {} });
  const pooler = startPgbouncer(Number(new URL(pg.url).port), PORT + 1);
  // The Node hub (development mode: demo organisations and tokens) through the pooler; it migrates.
  const hub = await startHub(pooler.url, PORT, { env: HIGH_RATE_LIMITS });
  log(`PostgreSQL ${new URL(pg.url).port}, pgbouncer ${PORT + 1}, Node hub ${hub.baseUrl}`);
  await loadAssets(sql, hub.orgs['fsp-a'], 0, ASSETS);
  await sql.unsafe(`VACUUM ANALYZE asset, asset_alias, asset_natural_key`);
  // The Worker accepts the Node hub's tokens: same issuer, same key ring in the database.
  const vars = { FMAR_MODE: 'development', FMAR_BASE_URL: hub.baseUrl, FMAR_ISSUER: hub.baseUrl, ...HIGH_RATE_LIMITS };
  const pooled = await startWorker(pooler.url, PORT + 2, PORT + 4, vars);
  const direct = await startWorker(pg.url, PORT + 3, PORT + 5, vars);
  log(`Worker through pgbouncer ${pooled}, Worker straight to PostgreSQL ${direct}`);
  const token = hub.tokens['fsp-a'];
  for (let i = 0; i < 20; i++) {
    const m = lookupMpan(Math.floor(Math.random() * ASSETS));
    const bodies = await Promise.all(
      [hub.baseUrl, pooled, direct].map((b) =>
        fetch(`${b}/api/v1/assets?identifier=mpan:${m}`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.text()),
      ),
    );
    if (bodies[0] !== bodies[1] || bodies[0] !== bodies[2] || !bodies[0].includes('"items":[{'))
      throw new Error(`mpan ${m}: the answers differ:\n${bodies.map((b) => b.slice(0, 200)).join('\n')}`);
  }
  const servers = { node: hub.baseUrl, 'worker-pooled': pooled, 'worker-direct': direct } as const;
  type Who = keyof typeof servers;
  log('warm-up …');
  for (const b of Object.values(servers)) await drive(sql, b, token, 3);
  const runs: Record<Who, Run[]> = { node: [], 'worker-pooled': [], 'worker-direct': [] };
  for (let rep = 1; rep <= REPS; rep++) {
    const order: Who[] = rep % 2 ? ['node', 'worker-pooled', 'worker-direct'] : ['worker-direct', 'worker-pooled', 'node'];
    for (const who of order) {
      const r = await drive(sql, servers[who], token, DURATION);
      runs[who].push(r);
      log(
        `rep ${rep} ${who.padEnd(13)}: ${fmt(r.rps)} req/s, p50 ${fmt(r.p50, 2)} ms, p99 ${fmt(r.p99, 2)} ms, ${fmt(r.sessions)} PostgreSQL sessions for ${fmt(r.requests)} requests`,
      );
    }
  }
  // The floor: GET /healthz (no token, one SELECT 1) on each, once.
  const floor: Partial<Record<Who, Run>> = {};
  for (const who of Object.keys(servers) as Who[]) {
    floor[who] = await drive(sql, servers[who], token, DURATION, '/healthz');
    log(`healthz ${who.padEnd(13)}: ${fmt(floor[who]!.rps)} req/s, p50 ${fmt(floor[who]!.p50, 2)} ms`);
  }
  await hub.stop();
  stopAll();
  await sql.end();
  pg.stop();

  const med = (who: Who, k: keyof Run) => median(runs[who].map((r) => r[k]));
  console.log(`\n## Workers: MPAN lookup through a pooler (${new Date().toISOString().slice(0, 10)})\n`);
  console.log(machine());
  console.log(
    table(
      [
        'server',
        'req/s (median)',
        'p50 ms',
        'p99 ms',
        'PostgreSQL sessions per 1,000 requests',
        'vs Node',
        '/healthz req/s',
        '/healthz p50 ms',
      ],
      (Object.keys(servers) as Who[]).map((w) => [
        w,
        fmt(med(w, 'rps')),
        fmt(med(w, 'p50'), 2),
        fmt(med(w, 'p99'), 2),
        fmt((1000 * median(runs[w].map((r) => r.sessions / r.requests))) as number, 1),
        `${fmt((100 * med(w, 'rps')) / med('node', 'rps'), 0)} %`,
        fmt(floor[w]!.rps),
        fmt(floor[w]!.p50, 2),
      ]),
    ),
  );
}

main().catch((e) => {
  console.error(e);
  stopAll();
  process.exit(1);
});
