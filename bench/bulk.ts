/**
 * Benchmark: bulk registration of N assets (default 1,000,000) through the API, against COPY of
 * the same rows into a bare table with only a primary key, measured in the same run.
 *
 *   npm run bench:bulk                         (BENCH_ROWS, BENCH_BATCH, BENCH_CONCURRENCY, BENCH_REPS, FMAR_PG_PORT)
 *   BENCH_HUB_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npm run bench:bulk   (profile the hub)
 *
 * Each repetition: empty the asset tables, COPY the rows into the bare table (baseline), then POST
 * them to /api/v1/assets/bulk as NDJSON batches from a few concurrent clients (full path:
 * validation, conflict checks, aliases, natural keys, FSP links, audit, outbox). Reported:
 * rows/s of each, their ratio, per-batch latency; medians over the repetitions. Then, once, the
 * write floor: the rows the last repetition wrote (asset, aliases, natural keys, audit, outbox,
 * recipients, data quality), reloaded by COPY into the hub's own tables.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import postgres from 'postgres';
import { monotonicFactory } from 'ulid';
import { DEFAULT_DEMAND_TECHNOLOGY, DEFAULT_ENERGY_SOURCE } from '../src/catalogue/codes';
import { assetInput, envInt, fmt, log, machine, median, mb, percentile, pgSettings, startHub, startPg, table } from './lib';

const ROWS = envInt('BENCH_ROWS', 1_000_000);
const BATCH = envInt('BENCH_BATCH', 10_000);
const CONCURRENCY = envInt('BENCH_CONCURRENCY', 3);
const REPS = envInt('BENCH_REPS', 3);
const PG_PORT = envInt('FMAR_PG_PORT', 55500);
const HUB_PORT = envInt('BENCH_HUB_PORT', 55510);

/** The asset table's columns, in order, for the baseline table and its COPY. */
const COLS = [
  'id',
  'organisation_id',
  'fsp_id',
  'friendly_code',
  'name',
  'category',
  'status',
  'rated_capacity_kw',
  'generation_capacity_kw',
  'demand_capacity_kw',
  'energy_source',
  'demand_technology',
  'manufacturer',
  'model',
  'serial_number',
  'commissioning_date',
  'effective_date',
  'connection_status',
  'connection_type',
  'dno',
  'import_mpan',
  'export_mpan',
  'location',
  'consent_reference',
  'version',
  'recorded_at',
  'recorded_by',
  'deregistered_at',
  // The open FSP link, on the asset row since migration 018.
  'fsp_since',
  'fsp_since_recorded_at',
  'fsp_since_recorded_by',
];

/** The tables a bulk registration writes, parents first (the order a load must follow). */
const WRITTEN = [
  'asset',
  'asset_alias',
  'asset_natural_key',
  'audit_log',
  'event_outbox',
  'event_recipient',
  'dq_asset_score',
  'dq_finding',
];

const tsv = (v: unknown) =>
  v === undefined || v === null ? '\\N' : String(v).replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n');

/** The row the hub would store for an input (ids minted here), as a COPY text line. */
function copyLine(a: any, id: string, org: string, at: string): string {
  const energy = a.energySource ?? (DEFAULT_ENERGY_SOURCE as Record<string, string | undefined>)[a.category];
  const demand = a.demandTechnology ?? (DEFAULT_DEMAND_TECHNOLOGY as Record<string, string | undefined>)[a.category];
  return (
    [
      id,
      org,
      org,
      a.friendlyCode,
      a.name,
      a.category,
      'PENDING_VALIDATION',
      a.ratedCapacityKw,
      a.generationCapacityKw,
      a.demandCapacityKw,
      energy,
      demand,
      a.manufacturer,
      a.model,
      a.serialNumber,
      a.commissioningDate,
      a.effectiveDate,
      a.connectionStatus,
      a.connectionType,
      a.dno,
      a.importMpan,
      a.exportMpan,
      a.location ? JSON.stringify(a.location) : undefined,
      a.consentReference,
      1,
      at,
      'bench-copy',
      undefined,
      at,
      at,
      'bench-copy',
    ]
      .map(tsv)
      .join('\t') + '\n'
  );
}

async function main() {
  log(`bulk benchmark: ${fmt(ROWS)} rows, batches of ${fmt(BATCH)}, ${CONCURRENCY} concurrent requests, ${REPS} repetitions`);
  const pg = startPg(PG_PORT);
  const sql = postgres(pg.url, { max: 2, onnotice: () => {} });
  // Profiling aid: log statements slower than BENCH_PG_LOG_MS, with their plans and trigger times (auto_explain).
  const slowMs = process.env.BENCH_PG_LOG_MS;
  if (slowMs) {
    await sql.unsafe(`LOAD 'auto_explain'`);
    for (const s of [
      `log_min_duration_statement = ${Number(slowMs)}`,
      `session_preload_libraries = 'auto_explain'`,
      `auto_explain.log_min_duration = ${Number(slowMs)}`,
      `log_parameter_max_length = 0`,
      `auto_explain.log_analyze = on`,
      `auto_explain.log_triggers = on`,
      `auto_explain.log_nested_statements = on`,
    ])
      await sql.unsafe(`ALTER SYSTEM SET ${s}`);
    await sql.unsafe(`SELECT pg_reload_conf()`);
  }
  const hub = await startHub(pg.url, HUB_PORT, { nodeArgs: (process.env.BENCH_HUB_NODE_ARGS ?? '').split(' ').filter(Boolean) });
  log(`PostgreSQL on ${pg.port}, hub pid ${hub.pid} on ${hub.baseUrl}`);
  const settings = await pgSettings(sql);
  const fspA = hub.orgs['fsp-a'];
  const token = hub.tokens['fsp-a'];

  log('generating rows …');
  const inputs = Array.from({ length: ROWS }, (_, n) => assetInput(n));
  const batches: string[] = [];
  for (let i = 0; i < ROWS; i += BATCH)
    batches.push(
      inputs
        .slice(i, i + BATCH)
        .map((r) => JSON.stringify(r))
        .join('\n') + '\n',
    );
  const ids = monotonicFactory();
  const at = new Date().toISOString();
  const copyChunks: string[] = [];
  for (let i = 0; i < ROWS; i += BATCH)
    copyChunks.push(
      inputs
        .slice(i, i + BATCH)
        .map((a) => copyLine(a, ids(), fspA, at))
        .join(''),
    );
  inputs.length = 0;
  const ndjsonBytes = batches.reduce((s, b) => s + Buffer.byteLength(b), 0);
  const copyBytes = copyChunks.reduce((s, b) => s + Buffer.byteLength(b), 0);
  log(`NDJSON ${mb(ndjsonBytes)} in ${batches.length} batches; COPY text ${mb(copyBytes)}`);

  await sql.unsafe(`CREATE TABLE bench_copy (LIKE asset INCLUDING DEFAULTS)`);
  await sql.unsafe(`ALTER TABLE bench_copy ADD PRIMARY KEY (id)`);

  const reps: { copyRps: number; apiRps: number; ratio: number; copyS: number; apiS: number; p50: number; p99: number; sealS: number }[] =
    [];
  for (let rep = 1; rep <= REPS; rep++) {
    // A clean slate: the hub's asset tables, audit and outbox emptied (the demo organisations stay).
    await sql.unsafe(`TRUNCATE bench_copy, ${WRITTEN.join(', ')}, asset_fsp_link, record_history, dq_scorecard, dq_scorecard_rule CASCADE`);
    // No ANALYZE here: statistics taken on empty tables make the planner choose sequential scans for
    // the conflict checks, which turns each batch quadratic until autovacuum analyzes again.
    // TRUNCATE leaves the statistics unknown, as on a new database.
    await sql.unsafe(`CHECKPOINT`);

    // Baseline: COPY the same rows into a table with the asset columns and only a primary key.
    const t0 = performance.now();
    // Through psql, as bench/export.ts does: postgres.js's COPY writable sometimes never reported the end of the stream.
    const psql = spawn(
      join(pg.bin, 'psql'),
      ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', pg.url, '-c', `COPY bench_copy (${COLS.join(', ')}) FROM STDIN`],
      { stdio: ['pipe', 'ignore', 'inherit'] },
    );
    const exited = new Promise<number | null>((resolve) => psql.on('close', resolve));
    await pipeline(Readable.from(copyChunks), psql.stdin);
    const code = await exited;
    if (code !== 0) throw new Error(`psql COPY exited with ${code}`);
    const copyS = (performance.now() - t0) / 1000;
    const [{ n: copied }] = await sql.unsafe(`SELECT count(*)::int AS n FROM bench_copy`);
    if (copied !== ROWS) throw new Error(`COPY loaded ${copied} rows, not ${ROWS}`);
    await sql.unsafe(`CHECKPOINT`);

    // The API: NDJSON batches to POST /api/v1/assets/bulk, CONCURRENCY requests in flight.
    const lat: number[] = [];
    let next = 0;
    const t1 = performance.now();
    const worker = async () => {
      while (next < batches.length) {
        const i = next++;
        const s = performance.now();
        const res = await fetch(`${hub.baseUrl}/api/v1/assets/bulk`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
          body: batches[i],
        });
        const body: any = await res.json();
        lat.push(performance.now() - s);
        if (res.status !== 201 || body.registered !== Math.min(BATCH, ROWS - i * BATCH))
          throw new Error(`batch ${i}: ${res.status} ${JSON.stringify(body).slice(0, 2000)}`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const apiS = (performance.now() - t1) / 1000;
    const [{ n: stored }] = await sql.unsafe(`SELECT count(*)::int AS n FROM asset`);
    if (stored !== ROWS) throw new Error(`the hub stored ${stored} assets, not ${ROWS}`);
    log(`rep ${rep}: API ${fmt(ROWS / apiS)} rows/s (${fmt(apiS, 1)} s); waiting for the audit sealer …`);

    // How long the hub's background sealer needs to finish chaining the audit rows (not in apiS).
    const t2 = performance.now();
    for (;;) {
      const [{ n }] = await sql.unsafe(`SELECT count(*)::int AS n FROM audit_log WHERE seq IS NULL`);
      if (n === 0 || performance.now() - t2 > 600_000) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const sealS = (performance.now() - t2) / 1000;

    const r = {
      copyRps: ROWS / copyS,
      apiRps: ROWS / apiS,
      ratio: copyS / apiS,
      copyS,
      apiS,
      p50: percentile(lat, 50),
      p99: percentile(lat, 99),
      sealS,
    };
    reps.push(r);
    log(
      `rep ${rep}: COPY ${fmt(r.copyRps)} rows/s (${fmt(copyS, 1)} s); API ${fmt(r.apiRps)} rows/s (${fmt(apiS, 1)} s), batch p50 ${fmt(r.p50)} ms p99 ${fmt(r.p99)} ms; ratio ${fmt(100 * r.ratio, 1)}%; audit sealed ${fmt(sealS, 1)} s after`,
    );
  }

  const sizes =
    await sql.unsafe(`SELECT c.relname AS name, pg_relation_size(c.oid) AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i') AND c.relname NOT LIKE 'pg_%' ORDER BY 1`);
  await hub.stop();
  // The write floor, after the sizes (a reload packs the tables tighter) and with the hub stopped:
  // the rows the last repetition's registrations wrote, loaded again by COPY (PostgreSQL's fastest
  // load path) into the hub's own tables, every index, constraint and trigger in place, parents
  // first. Floor rows/s ÷ bare COPY rows/s bounds the API / COPY ratio this schema allows.
  const floor = await writeFloor(pg, sql);
  log(
    `write floor: ${fmt(ROWS / floor.seconds)} assets/s (${fmt(floor.seconds, 1)} s for ${fmt(floor.rows)} rows in ${WRITTEN.length} tables)`,
  );

  await sql.end();
  if (slowMs) {
    copyFileSync(`${pg.dir}/server.log`, '/tmp/fmar-bench-bulk-pg.log');
    console.log(`\nPostgreSQL log with statements slower than ${slowMs} ms and their plans: /tmp/fmar-bench-bulk-pg.log`);
  }
  pg.stop();

  console.log('\n## Bulk registration: results\n');
  console.log('machine', JSON.stringify(machine()), '\nPostgreSQL', JSON.stringify(settings), '\n');
  table(
    ['rep', 'COPY rows/s', 'API rows/s', 'API / COPY', 'API batch p50 ms', 'API batch p99 ms', 'audit sealing after, s'],
    reps.map((r, i) => [i + 1, fmt(r.copyRps), fmt(r.apiRps), `${fmt(100 * r.ratio, 1)}%`, fmt(r.p50), fmt(r.p99), fmt(r.sealS, 1)]),
  );
  console.log();
  table(
    ['median over reps', 'COPY rows/s', 'API rows/s', 'API / COPY (median of per-rep ratios)', 'target'],
    [
      [
        `${REPS} × ${fmt(ROWS)} rows`,
        fmt(median(reps.map((r) => r.copyRps))),
        fmt(median(reps.map((r) => r.apiRps))),
        `${fmt(100 * median(reps.map((r) => r.ratio)), 1)}%`,
        '≥ 20%',
      ],
    ],
  );
  const copyMedian = median(reps.map((r) => r.copyRps));
  console.log(
    `\nwrite floor (the last repetition's rows, COPY into the hub's tables with their indexes and constraints): ${fmt(ROWS / floor.seconds)} assets/s, ${fmt((100 * (ROWS / floor.seconds)) / copyMedian, 1)}% of the bare COPY's median; per table:\n`,
  );
  table(
    ['table', 'rows', 'COPY s'],
    floor.tables.map((t) => [t.table, fmt(t.rows), fmt(t.seconds, 2)]),
  );
  console.log('\nrelation sizes after the last repetition (pg_relation_size; asset rows = %s):\n', fmt(ROWS));
  table(
    ['relation', 'bytes', 'bytes/asset'],
    sizes.filter((s: any) => Number(s.bytes) > 0).map((s: any) => [s.name, fmt(Number(s.bytes)), fmt(Number(s.bytes) / ROWS, 1)]),
  );
}

/** Dump the written tables to files, empty them, and time loading them back with COPY (parents first). */
async function writeFloor(pg: { bin: string; url: string; dir: string }, sql: postgres.Sql) {
  const psql = (command: string) =>
    new Promise<void>((resolve, reject) => {
      const p = spawn(join(pg.bin, 'psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', pg.url, '-c', command], {
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`psql ${command}: exit ${code}`))));
    });
  const file = (t: string) => join(pg.dir, `floor-${t}.copy`);
  for (const t of WRITTEN) await psql(`\\copy ${t} TO '${file(t)}'`);
  const [counts] = await sql.unsafe(`SELECT ${WRITTEN.map((t) => `(SELECT count(*) FROM ${t})::int AS ${t}`).join(', ')}`);
  await sql.unsafe(`TRUNCATE ${WRITTEN.join(', ')} CASCADE`);
  await sql.unsafe(`CHECKPOINT`);
  const tables: { table: string; rows: number; seconds: number }[] = [];
  for (const t of WRITTEN) {
    const t0 = performance.now();
    await psql(`\\copy ${t} FROM '${file(t)}'`);
    tables.push({ table: t, rows: Number(counts[t]), seconds: (performance.now() - t0) / 1000 });
  }
  for (const t of WRITTEN) rmSync(file(t), { force: true });
  return { tables, rows: tables.reduce((a, t) => a + t.rows, 0), seconds: tables.reduce((a, t) => a + t.seconds, 0) };
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
