/**
 * Benchmark: VEN ID resolution over HTTP (GET /api/v1/ven-registrations/resolve?vtn=…&venId=…,
 * the operator's token, first page of 50 assets with their OpenADR resource view) at BENCH_ASSETS
 * assets, against a bare Hono + postgres.js server answering the same URL with one indexed select
 * and no auth (bench/baseline-server.ts), measured in the same run on the same database.
 *
 *   npm run bench:openadr     (BENCH_ASSETS=1000000 BENCH_VENS=1000 BENCH_REPS=3 BENCH_DURATION=10 BENCH_CONNECTIONS=10 FMAR_PG_PORT=55505)
 *
 * Assets are loaded with SQL (bench/load.ts), all controlled by the demo FSP; BENCH_VENS VEN
 * registrations of that FSP on one 3.1 VTN are inserted with SQL. Each request names a random one.
 * The hub runs with its rate limits raised out of reach (the limiter still runs on every request).
 */
import autocannon from 'autocannon';
import postgres from 'postgres';
import { HIGH_RATE_LIMITS, envInt, fmt, log, machine, median, percentile, pgSettings, spawnServer, startHub, startPg, table } from './lib';
import { loadAssets } from './load';

const ASSETS = envInt('BENCH_ASSETS', 1_000_000);
const VENS = envInt('BENCH_VENS', 1000);
const REPS = envInt('BENCH_REPS', 3);
const DURATION = envInt('BENCH_DURATION', 10);
const CONNECTIONS = envInt('BENCH_CONNECTIONS', 10);
const LIMIT = envInt('BENCH_LIMIT', 50);
const PG_PORT = envInt('FMAR_PG_PORT', 55505);
const HUB_PORT = envInt('BENCH_HUB_PORT', 55515);
const BASE_PORT = envInt('BENCH_BASELINE_PORT', 55525);

interface Run {
  rps: number;
  p50: number;
  p99: number;
  bad: number;
}

const path = () => `/api/v1/ven-registrations/resolve?vtn=BNCH&venId=BNCH-ven-${Math.floor(Math.random() * VENS)}&limit=${LIMIT}`;

async function drive(baseUrl: string, headers: Record<string, string>, seconds: number): Promise<Run> {
  const lat: number[] = [];
  let bad = 0;
  const inst = autocannon({
    url: baseUrl,
    connections: CONNECTIONS,
    duration: seconds,
    headers,
    requests: [{ method: 'GET', setupRequest: (req: any) => ({ ...req, path: path() }) }],
  } as any);
  inst.on('response', (_c: unknown, status: number, _b: number, ms: number) => {
    if (status === 200) lat.push(ms);
    else bad++;
  });
  const r: any = await inst;
  return {
    rps: (lat.length + bad) / (r.duration || seconds),
    p50: percentile(lat, 50),
    p99: percentile(lat, 99),
    bad: bad + r.errors + r.timeouts,
  };
}

async function main() {
  log(
    `OpenADR resolution benchmark: ${fmt(ASSETS)} assets, ${fmt(VENS)} VEN registrations, ${REPS} rounds × ${DURATION} s per server, ${CONNECTIONS} connections, pages of ${LIMIT}`,
  );
  const pg = startPg(PG_PORT);
  const sql = postgres(pg.url, { max: 2, onnotice: () => {} });
  const hub = await startHub(pg.url, HUB_PORT, { env: HIGH_RATE_LIMITS });
  const base = await spawnServer(
    'bench/baseline-server.ts',
    { DATABASE_URL: pg.url, PORT: String(BASE_PORT) },
    { ready: /baseline lookup server/, port: BASE_PORT },
  );
  const settings = await pgSettings(sql);
  log(`loading ${fmt(ASSETS)} assets …`);
  const loadS = await loadAssets(sql, hub.orgs['fsp-a'], 0, ASSETS, (d) => log(`  ${fmt(d)} rows`));
  await sql.unsafe(
    `INSERT INTO openadr_vtn (id, code, name, operator_id, protocol, base_url, status, created_at, recorded_at, recorded_by)
    VALUES ('01KBENCHVTN000000000000000', 'BNCH', 'Bench VTN', $1, '3.1', 'https://bench.vtn.example/openadr3', 'ACTIVE', now(), now(), 'bench')`,
    [hub.orgs.operator],
  );
  await sql.unsafe(
    `INSERT INTO ven_registration (id, organisation_id, vtn, protocol, ven_id, ven_name, client_id, status, valid_from, created_at, recorded_at, recorded_by)
    SELECT '01KBENCHVEN' || lpad(g::text, 15, '0'), $1, '01KBENCHVTN000000000000000', '3.1', 'BNCH-ven-' || g, 'bench-ven-' || g, 'bench-client-' || g, 'ACTIVE', now(), now(), now(), 'bench'
      FROM generate_series(0, ${VENS - 1}) g`,
    [hub.orgs['fsp-a']],
  );
  await sql.unsafe(`VACUUM ANALYZE asset, openadr_vtn, ven_registration`);
  log(`loaded in ${fmt(loadS)} s`);

  const headers = { authorization: `Bearer ${hub.tokens.operator}` };
  // Both servers resolve the same VEN to the same first page.
  for (let i = 0; i < 10; i++) {
    const p = path();
    const [h, b] = await Promise.all([
      fetch(`${hub.baseUrl}${p}`, { headers }).then((r) => r.json() as any),
      fetch(`${base.baseUrl}${p}`).then((r) => r.json() as any),
    ]);
    const hi = h.assets?.items?.map((a: any) => a.id) ?? [];
    const bi = b.assets?.items?.map((a: any) => a.id) ?? [];
    if (hi.length !== LIMIT || JSON.stringify(hi) !== JSON.stringify(bi))
      throw new Error(`${p}: hub ${JSON.stringify(h).slice(0, 300)} baseline ${JSON.stringify(b).slice(0, 300)}`);
  }
  const plan = (
    await sql.unsafe(
      `EXPLAIN (ANALYZE, BUFFERS) SELECT r.id FROM ven_registration r JOIN openadr_vtn v ON v.id = r.vtn WHERE r.vtn = '01KBENCHVTN000000000000000' AND r.ven_id = 'BNCH-ven-7' AND r.status <> 'CANCELLED'`,
    )
  )
    .map((r: any) => r['QUERY PLAN'])
    .join('\n');

  log('warm-up …');
  await drive(hub.baseUrl, headers, 5);
  await drive(base.baseUrl, {}, 5);
  const runs: Record<'hub' | 'base', Run[]> = { hub: [], base: [] };
  for (let rep = 1; rep <= REPS; rep++) {
    for (const who of rep % 2 ? (['hub', 'base'] as const) : (['base', 'hub'] as const)) {
      const r = await drive(who === 'hub' ? hub.baseUrl : base.baseUrl, who === 'hub' ? headers : {}, DURATION);
      runs[who].push(r);
      log(
        `rep ${rep} ${who.padEnd(4)}: ${fmt(r.rps)} resolutions/s, p50 ${fmt(r.p50, 2)} ms, p99 ${fmt(r.p99, 2)} ms${r.bad ? `; ${r.bad} non-200/errors` : ''}`,
      );
    }
  }
  await hub.stop();
  await base.stop();
  await sql.end();
  pg.stop();

  console.log('\n## VEN ID resolution: results\n');
  console.log(
    'machine',
    JSON.stringify(machine()),
    '\nPostgreSQL',
    JSON.stringify(settings),
    `\n${fmt(ASSETS)} assets (loaded in ${fmt(loadS)} s), ${fmt(VENS)} VEN registrations; ${CONNECTIONS} connections, ${REPS} × ${DURATION} s per server, medians\n`,
  );
  const med = (xs: Run[], k: keyof Run, d = 0) => fmt(median(xs.map((x) => x[k])), d);
  table(
    ['assets', 'hub resolutions/s', 'hub p50 / p99 ms', 'baseline selects/s', 'baseline p50 / p99 ms', 'hub / baseline'],
    [
      [
        fmt(ASSETS),
        med(runs.hub, 'rps'),
        `${med(runs.hub, 'p50', 2)} / ${med(runs.hub, 'p99', 2)}`,
        med(runs.base, 'rps'),
        `${med(runs.base, 'p50', 2)} / ${med(runs.base, 'p99', 2)}`,
        `${fmt(100 * median(runs.hub.map((h, i) => h.rps / runs.base[i].rps)), 1)}%`,
      ],
    ],
  );
  console.log(
    `\nper round (hub / baseline resolutions/s): ${runs.hub.map((h, i) => `${fmt(h.rps)} / ${fmt(runs.base[i].rps)}`).join('; ')}`,
  );
  console.log(`\nregistration lookup plan:\n${plan}`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
