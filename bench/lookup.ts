/**
 * Benchmark: lookup by MPAN over HTTP (GET /api/v1/assets?identifier=mpan:<core>, demo FSP token)
 * at 1M and 10M assets, against a bare Hono + postgres.js server doing the same indexed select
 * with no auth (bench/baseline-server.ts), measured in the same run on the same database.
 *
 *   npm run bench:lookup     (BENCH_SIZES=1000000,10000000 BENCH_REPS=5 BENCH_DURATION=10 BENCH_CONNECTIONS=10 FMAR_PG_PORT=55501)
 *   BENCH_SIZES=1000000 BENCH_HUB_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npm run bench:lookup   (profile the hub)
 *
 * Rows are loaded with SQL (bench/load.ts). Load comes from autocannon in this process, each
 * request a random existing MPAN; hub and baseline alternate, BENCH_REPS rounds each; medians.
 */
import autocannon from 'autocannon';
import postgres from 'postgres';
import {
  HIGH_RATE_LIMITS,
  cpuMsOf,
  envInt,
  fmt,
  log,
  machine,
  median,
  mb,
  percentile,
  pgCpuMs,
  pgSettings,
  spawnServer,
  startHub,
  startPg,
  table,
} from './lib';
import { loadAssets, lookupMpan, relationSizes } from './load';

const SIZES = (process.env.BENCH_SIZES ?? '1000000,10000000').split(',').map(Number);
const REPS = envInt('BENCH_REPS', 5);
const DURATION = envInt('BENCH_DURATION', 10);
const CONNECTIONS = envInt('BENCH_CONNECTIONS', 10);
/** Fixed request rate (req/s, all connections) of the latency runs. */
const RATE = envInt('BENCH_RATE', 500);
const PG_PORT = envInt('FMAR_PG_PORT', 55501);
const HUB_PORT = envInt('BENCH_HUB_PORT', 55511);
const BASE_PORT = envInt('BENCH_BASELINE_PORT', 55521);

interface Run {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  bad: number;
  serverCpuUs: number;
  pgCpuUs: number;
}

/**
 * One autocannon run: random existing MPANs among the first `size` rows; latencies recorded per
 * response (ms, float); CPU used meanwhile by the server process and by PostgreSQL, per request.
 * `rate` fixes the overall request rate (latency runs); without it, as fast as it answers.
 */
async function drive(
  baseUrl: string,
  headers: Record<string, string>,
  size: number,
  seconds: number,
  cpu: { pid: number; pgDir: string },
  rate?: number,
): Promise<Run> {
  const lat: number[] = [];
  let bad = 0;
  const cpu0 = cpuMsOf(cpu.pid);
  const pg0 = pgCpuMs(cpu.pgDir);
  const inst = autocannon({
    url: baseUrl,
    connections: CONNECTIONS,
    duration: seconds,
    headers,
    ...(rate ? { overallRate: rate } : {}),
    requests: [
      {
        method: 'GET',
        setupRequest: (req: any) => ({ ...req, path: `/api/v1/assets?identifier=mpan:${lookupMpan(Math.floor(Math.random() * size))}` }),
      },
    ],
  } as any);
  inst.on('response', (_c: unknown, status: number, _b: number, ms: number) => {
    if (status === 200) lat.push(ms);
    else bad++;
  });
  const r: any = await inst;
  // A run that measured refusals (e.g. 429 from the rate limiter) or failures measures nothing: stop.
  if (bad + r.errors + r.timeouts > 0.001 * (lat.length + bad))
    throw new Error(`${baseUrl}: ${bad} non-200 responses, ${r.errors} errors, ${r.timeouts} timeouts of ${lat.length + bad}`);
  const n = lat.length + bad;
  return {
    rps: n / (r.duration || seconds),
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
    requests: lat.length,
    bad: bad + r.errors + r.timeouts,
    serverCpuUs: (1000 * (cpuMsOf(cpu.pid) - cpu0)) / Math.max(1, n),
    pgCpuUs: (1000 * (pgCpuMs(cpu.pgDir) - pg0)) / Math.max(1, n),
  };
}

async function main() {
  log(
    `lookup benchmark: sizes ${SIZES.map((s) => fmt(s)).join(', ')}; ${REPS} rounds × ${DURATION} s per server; ${CONNECTIONS} connections`,
  );
  const pg = startPg(PG_PORT);
  const sql = postgres(pg.url, { max: 2, onnotice: () => {} });
  // One client sends every request: the rate limiter stays in the path (its local counting and
  // periodic sync) with limits above what the machine can send, as in bench/openadr.ts.
  const hub = await startHub(pg.url, HUB_PORT, {
    nodeArgs: (process.env.BENCH_HUB_NODE_ARGS ?? '').split(' ').filter(Boolean),
    env: HIGH_RATE_LIMITS,
  });
  const base = await spawnServer(
    'bench/baseline-server.ts',
    { DATABASE_URL: pg.url, PORT: String(BASE_PORT) },
    { ready: /baseline lookup server/, port: BASE_PORT },
  );
  log(`PostgreSQL on ${pg.port}; hub pid ${hub.pid} on ${hub.baseUrl}; baseline pid ${base.pid} on ${base.baseUrl}`);
  const settings = await pgSettings(sql);
  const hubHeaders = { authorization: `Bearer ${hub.tokens['fsp-a']}` };

  const results: {
    size: number;
    loadS: number;
    hub: Run[];
    base: Run[];
    hubRate: Run[];
    baseRate: Run[];
    sizes: Awaited<ReturnType<typeof relationSizes>>;
    plan: string;
    heights: Record<string, number>;
  }[] = [];
  let loaded = 0;
  for (const size of SIZES) {
    log(`loading assets ${fmt(loaded)} → ${fmt(size)} …`);
    const loadS = await loadAssets(sql, hub.orgs['fsp-a'], loaded, size, (d) => log(`  ${fmt(loaded + d)} rows`));
    loaded = size;
    const t = performance.now();
    await sql.unsafe(`VACUUM ANALYZE asset, asset_alias, asset_natural_key`);
    log(`loaded in ${fmt(loadS)} s, vacuum analyze ${fmt((performance.now() - t) / 1000)} s`);
    const sizes = await relationSizes(sql);
    // B-tree heights (root level + 1) of the indexes a lookup descends: the O(log n) in docs/scaling.md.
    await sql.unsafe(`CREATE EXTENSION IF NOT EXISTS pageinspect`);
    const heights = Object.fromEntries(
      await Promise.all(
        ['asset_alias_pkey', 'asset_pkey', 'asset_alias_asset_idx'].map(async (ix) => [
          ix,
          Number((await sql.unsafe(`SELECT level FROM bt_metap('${ix}')`))[0].level) + 1,
        ]),
      ),
    );
    log(`b-tree heights: ${JSON.stringify(heights)}`);

    // Both servers answer the same asset for the same MPAN.
    for (let i = 0; i < 20; i++) {
      const n = Math.floor(Math.random() * size);
      const m = lookupMpan(n);
      const [h, b] = await Promise.all([
        fetch(`${hub.baseUrl}/api/v1/assets?identifier=mpan:${m}`, { headers: hubHeaders }).then((r) => r.json() as any),
        fetch(`${base.baseUrl}/api/v1/assets?identifier=mpan:${m}`).then((r) => r.json() as any),
      ]);
      if (h.items?.length !== 1 || b.items?.length !== 1 || h.items[0].id !== b.items[0].id)
        throw new Error(`mpan ${m} (row ${n}): hub ${JSON.stringify(h).slice(0, 300)} baseline ${JSON.stringify(b).slice(0, 300)}`);
    }
    const [{ 'QUERY PLAN': plan }] = await sql
      .unsafe(
        `EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT) SELECT a.id FROM asset a WHERE (a.fsp_id = $1 OR a.organisation_id = $1)
      AND a.id IN (SELECT asset_id FROM asset_alias WHERE scheme = 'mpan' AND value = $2) ORDER BY a.id LIMIT 101`,
        [hub.orgs['fsp-a'], lookupMpan(Math.floor(size / 2))],
      )
      .then((rows: any[]) => [{ 'QUERY PLAN': rows.map((r) => r['QUERY PLAN']).join('\n') }]);

    log('warm-up …');
    const hubCpu = { pid: hub.pid, pgDir: pg.dir };
    const baseCpu = { pid: base.pid, pgDir: pg.dir };
    await drive(hub.baseUrl, hubHeaders, size, 5, hubCpu);
    await drive(base.baseUrl, {}, size, 5, baseCpu);
    const runs: Record<'hub' | 'base' | 'hubRate' | 'baseRate', Run[]> = { hub: [], base: [], hubRate: [], baseRate: [] };
    for (let rep = 1; rep <= REPS; rep++) {
      const order = rep % 2 ? (['hub', 'base', 'hubRate', 'baseRate'] as const) : (['base', 'hub', 'baseRate', 'hubRate'] as const);
      for (const who of order) {
        const isHub = who.startsWith('hub');
        const rate = who.endsWith('Rate') ? RATE : undefined;
        const r = await drive(isHub ? hub.baseUrl : base.baseUrl, isHub ? hubHeaders : {}, size, DURATION, isHub ? hubCpu : baseCpu, rate);
        runs[who].push(r);
        log(
          `${fmt(size)} rep ${rep} ${who.padEnd(8)}: ${fmt(r.rps)} req/s, p50 ${fmt(r.p50, 2)} ms, p99 ${fmt(r.p99, 2)} ms; CPU/request: server ${fmt(r.serverCpuUs)} µs, PostgreSQL ${fmt(r.pgCpuUs)} µs${r.bad ? `; ${r.bad} non-200/errors` : ''}`,
        );
      }
    }
    results.push({ size, loadS, ...runs, sizes, plan, heights });
  }
  await hub.stop();
  await base.stop();
  await sql.end();
  pg.stop();

  console.log('\n## Lookup by MPAN: results\n');
  console.log(
    'machine',
    JSON.stringify(machine()),
    '\nPostgreSQL',
    JSON.stringify(settings),
    `\n${CONNECTIONS} connections, ${REPS} × ${DURATION} s per server and size, medians of the runs\n`,
  );
  const med = (xs: Run[], k: keyof Run, d = 0) => fmt(median(xs.map((x) => x[k] as number)), d);
  console.log(`Throughput: as fast as each server answers (${CONNECTIONS} connections).\n`);
  table(
    [
      'assets',
      'hub req/s',
      'hub p50 ms',
      'hub p99 ms',
      'baseline req/s',
      'baseline p50 ms',
      'baseline p99 ms',
      'hub / baseline req/s',
      'CPU/request hub: node + PostgreSQL µs',
      'baseline: node + PostgreSQL µs',
    ],
    results.map((r) => [
      fmt(r.size),
      med(r.hub, 'rps'),
      med(r.hub, 'p50', 2),
      med(r.hub, 'p99', 2),
      med(r.base, 'rps'),
      med(r.base, 'p50', 2),
      med(r.base, 'p99', 2),
      `${fmt(100 * median(r.hub.map((h, i) => h.rps / r.base[i].rps)), 1)}%`,
      `${med(r.hub, 'serverCpuUs')} + ${med(r.hub, 'pgCpuUs')}`,
      `${med(r.base, 'serverCpuUs')} + ${med(r.base, 'pgCpuUs')}`,
    ]),
  );
  console.log(`\nLatency at a fixed ${RATE} req/s (${CONNECTIONS} connections).\n`);
  table(
    ['assets', 'hub req/s', 'hub p50 ms', 'hub p99 ms', 'baseline req/s', 'baseline p50 ms', 'baseline p99 ms'],
    results.map((r) => [
      fmt(r.size),
      med(r.hubRate, 'rps'),
      med(r.hubRate, 'p50', 2),
      med(r.hubRate, 'p99', 2),
      med(r.baseRate, 'rps'),
      med(r.baseRate, 'p50', 2),
      med(r.baseRate, 'p99', 2),
    ]),
  );
  console.log('\nload: ' + results.map((r) => `${fmt(r.size)} assets loaded in ${fmt(r.loadS)} s`).join('; '));
  for (const r of results) {
    console.log(`\nrelation sizes at ${fmt(r.size)} assets (pg_relation_size):\n`);
    table(
      ['relation', 'kind', 'size', 'bytes/asset'],
      r.sizes.rows.filter((x) => x.bytes > 8192).map((x) => [x.name, x.kind, mb(x.bytes), fmt(x.perAsset, 1)]),
    );
    console.log(`\nb-tree heights at ${fmt(r.size)}: ${JSON.stringify(r.heights)}`);
    console.log(`\nhub lookup plan at ${fmt(r.size)} (EXPLAIN ANALYZE of the identifier filter):\n${r.plan}`);
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
