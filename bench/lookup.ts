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
import { envInt, fmt, log, machine, median, mb, percentile, pgSettings, spawnServer, startHub, startPg, table } from './lib';
import { loadAssets, lookupMpan, relationSizes } from './load';

const SIZES = (process.env.BENCH_SIZES ?? '1000000,10000000').split(',').map(Number);
const REPS = envInt('BENCH_REPS', 5);
const DURATION = envInt('BENCH_DURATION', 10);
const CONNECTIONS = envInt('BENCH_CONNECTIONS', 10);
const PG_PORT = envInt('FMAR_PG_PORT', 55501);
const HUB_PORT = envInt('BENCH_HUB_PORT', 55511);
const BASE_PORT = envInt('BENCH_BASELINE_PORT', 55521);

interface Run { rps: number; p50: number; p99: number; requests: number; bad: number }

/** One autocannon run: random existing MPANs among the first `size` rows; latencies recorded per response (ms, float). */
async function drive(baseUrl: string, headers: Record<string, string>, size: number, seconds: number): Promise<Run> {
  const lat: number[] = [];
  let bad = 0;
  const inst = autocannon({
    url: baseUrl, connections: CONNECTIONS, duration: seconds, headers,
    requests: [{ method: 'GET', setupRequest: (req: any) => ({ ...req, path: `/api/v1/assets?identifier=mpan:${lookupMpan(Math.floor(Math.random() * size))}` }) }],
  } as any);
  inst.on('response', (_c: unknown, status: number, _b: number, ms: number) => { if (status === 200) lat.push(ms); else bad++; });
  const r: any = await inst;
  return { rps: (lat.length + bad) / (r.duration || seconds), p50: percentile(lat, 50), p99: percentile(lat, 99), requests: lat.length, bad: bad + r.errors + r.timeouts };
}

async function main() {
  log(`lookup benchmark: sizes ${SIZES.map((s) => fmt(s)).join(', ')}; ${REPS} rounds × ${DURATION} s per server; ${CONNECTIONS} connections`);
  const pg = startPg(PG_PORT);
  const sql = postgres(pg.url, { max: 2, onnotice: () => {} });
  const hub = await startHub(pg.url, HUB_PORT, { nodeArgs: (process.env.BENCH_HUB_NODE_ARGS ?? '').split(' ').filter(Boolean) });
  const base = await spawnServer('bench/baseline-server.ts', { DATABASE_URL: pg.url, PORT: String(BASE_PORT) }, { ready: /baseline lookup server/, port: BASE_PORT });
  log(`PostgreSQL on ${pg.port}; hub pid ${hub.pid} on ${hub.baseUrl}; baseline pid ${base.pid} on ${base.baseUrl}`);
  const settings = await pgSettings(sql);
  const hubHeaders = { authorization: `Bearer ${hub.tokens['fsp-a']}` };

  const results: { size: number; loadS: number; hub: Run[]; base: Run[]; sizes: Awaited<ReturnType<typeof relationSizes>>; plan: string }[] = [];
  let loaded = 0;
  for (const size of SIZES) {
    log(`loading assets ${fmt(loaded)} → ${fmt(size)} …`);
    const loadS = await loadAssets(sql, hub.orgs['fsp-a'], loaded, size, (d) => log(`  ${fmt(loaded + d)} rows`));
    loaded = size;
    const t = performance.now();
    await sql.unsafe(`VACUUM ANALYZE asset, asset_alias, asset_natural_key`);
    log(`loaded in ${fmt(loadS)} s, vacuum analyze ${fmt((performance.now() - t) / 1000)} s`);
    const sizes = await relationSizes(sql);

    // Both servers answer the same asset for the same MPAN.
    for (let i = 0; i < 20; i++) {
      const n = Math.floor(Math.random() * size);
      const m = lookupMpan(n);
      const [h, b] = await Promise.all([
        fetch(`${hub.baseUrl}/api/v1/assets?identifier=mpan:${m}`, { headers: hubHeaders }).then((r) => r.json() as any),
        fetch(`${base.baseUrl}/api/v1/assets?identifier=mpan:${m}`).then((r) => r.json() as any),
      ]);
      if (h.items?.length !== 1 || b.items?.length !== 1 || h.items[0].id !== b.items[0].id) throw new Error(`mpan ${m} (row ${n}): hub ${JSON.stringify(h).slice(0, 300)} baseline ${JSON.stringify(b).slice(0, 300)}`);
    }
    const [{ 'QUERY PLAN': plan }] = await sql.unsafe(`EXPLAIN (ANALYZE, BUFFERS, FORMAT TEXT) SELECT a.id FROM asset a WHERE (a.fsp_id = $1 OR a.organisation_id = $1)
      AND a.id IN (SELECT asset_id FROM asset_alias WHERE scheme = 'mpan' AND value = $2) ORDER BY a.id LIMIT 101`, [hub.orgs['fsp-a'], lookupMpan(Math.floor(size / 2))]).then((rows: any[]) => [{ 'QUERY PLAN': rows.map((r) => r['QUERY PLAN']).join('\n') }]);

    log('warm-up …');
    await drive(hub.baseUrl, hubHeaders, size, 5);
    await drive(base.baseUrl, {}, size, 5);
    const hubRuns: Run[] = [];
    const baseRuns: Run[] = [];
    for (let rep = 1; rep <= REPS; rep++) {
      const order = rep % 2 ? ['hub', 'base'] : ['base', 'hub'];
      for (const who of order) {
        const r = who === 'hub' ? await drive(hub.baseUrl, hubHeaders, size, DURATION) : await drive(base.baseUrl, {}, size, DURATION);
        (who === 'hub' ? hubRuns : baseRuns).push(r);
        log(`${fmt(size)} rep ${rep} ${who.padEnd(4)}: ${fmt(r.rps)} req/s, p50 ${fmt(r.p50, 2)} ms, p99 ${fmt(r.p99, 2)} ms${r.bad ? `, ${r.bad} non-200/errors` : ''}`);
      }
    }
    results.push({ size, loadS, hub: hubRuns, base: baseRuns, sizes, plan });
  }
  await hub.stop();
  await base.stop();
  await sql.end();
  pg.stop();

  console.log('\n## Lookup by MPAN: results\n');
  console.log('machine', JSON.stringify(machine()), '\nPostgreSQL', JSON.stringify(settings), `\n${CONNECTIONS} connections, ${REPS} × ${DURATION} s per server and size, medians of the runs\n`);
  table(['assets', 'hub req/s', 'hub p50 ms', 'hub p99 ms', 'baseline req/s', 'baseline p50 ms', 'baseline p99 ms', 'hub / baseline req/s (median of per-round ratios)', 'load s'],
    results.map((r) => [fmt(r.size), fmt(median(r.hub.map((x) => x.rps))), fmt(median(r.hub.map((x) => x.p50)), 2), fmt(median(r.hub.map((x) => x.p99)), 2),
      fmt(median(r.base.map((x) => x.rps))), fmt(median(r.base.map((x) => x.p50)), 2), fmt(median(r.base.map((x) => x.p99)), 2),
      `${fmt(100 * median(r.hub.map((h, i) => h.rps / r.base[i].rps)), 1)}%`, fmt(r.loadS)]));
  for (const r of results) {
    console.log(`\nrelation sizes at ${fmt(r.size)} assets (pg_relation_size):\n`);
    table(['relation', 'kind', 'size', 'bytes/asset'], r.sizes.rows.filter((x) => x.bytes > 8192).map((x) => [x.name, x.kind, mb(x.bytes), fmt(x.perAsset, 1)]));
    console.log(`\nhub lookup plan at ${fmt(r.size)} (EXPLAIN ANALYZE of the identifier filter):\n${r.plan}`);
  }
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
