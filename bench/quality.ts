/**
 * Benchmark: what data quality costs at ingestion, and what a scorecard read costs.
 *
 *   npm run bench:quality                      (PGlite in memory)
 *   DATABASE_URL=postgres://… npm run bench:quality   (also a fresh database on that server)
 *   BENCH_ROWS (default 20,000), BENCH_BATCH (1,000), BENCH_REPS (3), BENCH_SCALE (assets for the read test, default 100,000),
 *   BENCH_ENGINES (pglite,postgres: the engines to run), BENCH_KEEP_DB=1 (keep the PostgreSQL database, e.g. for EXPLAIN)
 *
 * 1. Bulk registration, in process (registerAssets: validation, conflict checks, aliases, audit,
 *    outbox), of the same rows with data quality evaluation on and off (`dataQuality: false`),
 *    batch by batch alternating (so both see the same table sizes and machine load), the tables
 *    emptied before each repetition. Reported: rows/s of each per repetition, medians, and the
 *    overhead of evaluation (median of off/on − 1).
 * 2. Scorecard read latency for one organisation (GET's service call: a read of its counter
 *    rows) at two sizes of its asset base, against a recomputation from the asset and score
 *    tables measured in the same run (the baseline a counter avoids). Reported: median and p99.
 * 3. A rule pattern with two unanchored repetitions (accepted: polynomial, not exponential) on the
 *    longest text a field holds (255 characters). Target: well under 50 ms; test/attack-redos.test.ts
 *    checks, untimed, that such patterns are the only ones accepted.
 */
import { systemPrincipal } from '../src/access/principal';
import { registerAssets } from '../src/assets/service';
import { loadConfig } from '../src/config';
import type { Ctx } from '../src/context';
import { DEMO_ORGANISATIONS, seedDemo } from '../src/demo/seed';
import { assemble, openDb } from '../src/node/setup';
import { parseDefinition } from '../src/quality/language';
import { getScorecard } from '../src/quality/service';
import type { Db } from '../src/storage/db';
import { postgresDb } from '../src/storage/postgres';
import { assetInput, envInt, fmt, log, median, percentile, table } from './lib';
import { standardHooks } from '../src/hooks';

const ROWS = envInt('BENCH_ROWS', 20_000);
const BATCH = envInt('BENCH_BATCH', 1_000);
const REPS = envInt('BENCH_REPS', 3);
const SCALE = envInt('BENCH_SCALE', 100_000);
const READS = envInt('BENCH_READS', 500);

const FSP_A = DEMO_ORGANISATIONS.find((o) => o.key === 'fsp-a')!.id;
const operator = systemPrincipal('bench-quality');
const fsp = { ...operator, organisationId: FSP_A, roles: ['FSP' as const], scopes: ['*'], dnoCodes: [] };

async function hubOn(engine: 'pglite' | 'postgres'): Promise<{ ctx: Ctx; db: Db; drop: () => Promise<void> }> {
  let db: Db;
  let drop = async () => {};
  if (engine === 'pglite') db = await openDb({ dataDir: '' }, { memory: true });
  else {
    const server = process.env.DATABASE_URL!;
    const name = `fmar_bench_quality_${Date.now()}`;
    const admin = postgresDb(server, { max: 1 });
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.close();
    const url = new URL(server);
    url.pathname = `/${name}`;
    db = postgresDb(url.toString(), { max: 4 });
    drop = async () => {
      const a = postgresDb(server, { max: 1 });
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.close();
    };
  }
  const hub = await assemble(loadConfig({ FMAR_MODE: 'development' }), db);
  const ctx: Ctx = { db, clock: hub.ports.clock, ids: hub.ports.ids, hooks: standardHooks() };
  await seedDemo(ctx, systemPrincipal('seed'));
  return { ctx, db, drop };
}

async function empty(db: Db) {
  await db.query(
    `TRUNCATE dq_finding, dq_asset_score, dq_scorecard, dq_scorecard_rule, asset_natural_key, asset_alias, asset_fsp_link, record_history, audit_log, event_outbox, asset CASCADE`,
  );
}

/**
 * One row in ten has no serial number, so that a WARNING finding (DQ-SERIAL-REQUIRED) opens as a
 * row: the shared bench data otherwise fail only INFO rules (advisories, kept on the score row).
 */
function withoutSerialSometimes(row: Record<string, unknown>, n: number) {
  if (n % 10 === 5) delete row.serialNumber;
  return row;
}

/** Register rows [from, to) in batches; rows/s. */
async function load(ctx: Ctx, from: number, to: number, tag: string, dataQuality: boolean): Promise<number> {
  const t0 = performance.now();
  for (let i = from; i < to; i += BATCH) {
    const rows = Array.from({ length: Math.min(BATCH, to - i) }, (_, k) => withoutSerialSometimes(assetInput(i + k, tag), i + k));
    const out = await registerAssets(ctx, fsp, rows, { source: 'bench', dataQuality });
    if (!out.ok) throw new Error(`batch at ${i}: ${JSON.stringify(out.results.find((r) => r.status === 'rejected'))}`);
  }
  return (to - from) / ((performance.now() - t0) / 1000);
}

async function readLatency(ctx: Ctx): Promise<{ counter: number[]; recompute: number[] }> {
  const counter: number[] = [];
  const recompute: number[] = [];
  for (let i = 0; i < READS; i++) {
    const t0 = performance.now();
    await getScorecard(ctx, operator, 'organisation', FSP_A);
    counter.push(performance.now() - t0);
  }
  for (let i = 0; i < Math.min(READS, 30); i++) {
    const t0 = performance.now();
    await ctx.db.query(
      `SELECT count(*), sum(s.score) FROM asset a JOIN dq_asset_score s ON s.asset_id = a.id WHERE a.deregistered_at IS NULL AND (a.fsp_id = $1 OR a.organisation_id = $1)`,
      [FSP_A],
    );
    await ctx.db.query(
      `SELECT f.severity, f.rule_code, count(*) FROM dq_finding f WHERE f.resolved_at IS NULL AND (f.fsp_id = $1 OR f.organisation_id = $1) GROUP BY 1, 2`,
      [FSP_A],
    );
    recompute.push(performance.now() - t0);
  }
  return { counter, recompute };
}

async function run(engine: 'pglite' | 'postgres') {
  log(`${engine}: ${fmt(ROWS)} rows in batches of ${fmt(BATCH)}, ${REPS} repetitions each way`);
  const { ctx, db, drop } = await hubOn(engine);
  try {
    // Warm-up (discarded): the first batches pay for compiling queries and filling caches.
    await load(ctx, 0, 2 * BATCH, 'W', false);
    await load(ctx, 0, 2 * BATCH, 'X', true);
    const on: number[] = [];
    const off: number[] = [];
    for (let rep = 1; rep <= REPS; rep++) {
      await empty(db);
      // Batch by batch, the same rows (tagged apart: serials and aliases must differ) with evaluation
      // off and on, alternating which goes first: both see the same table sizes and the same load.
      let tOn = 0;
      let tOff = 0;
      for (let i = 0, k = 0; i < ROWS; i += BATCH, k++) {
        const to = Math.min(ROWS, i + BATCH);
        for (const dq of (k + rep) % 2 ? [false, true] : [true, false]) {
          const t0 = performance.now();
          await load(ctx, i, to, dq ? 'N' : 'F', dq);
          if (dq) tOn += performance.now() - t0;
          else tOff += performance.now() - t0;
        }
      }
      on.push(ROWS / (tOn / 1000));
      off.push(ROWS / (tOff / 1000));
      log(`${engine} rep ${rep}: data quality off ${fmt(off[off.length - 1])} rows/s, on ${fmt(on[on.length - 1])} rows/s`);
    }
    const [{ n: findings }] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM dq_finding`);
    const [{ n: advisories }] = await db.query<{ n: number }>(`SELECT sum(cardinality(advisories))::int AS n FROM dq_asset_score`);
    const small = await readLatency(ctx);
    const smallAssets = (await getScorecard(ctx, operator, 'organisation', FSP_A)).assets;
    log(`${engine}: growing FSP A to ${fmt(SCALE)} assets …`);
    await load(ctx, ROWS, SCALE, 'N', true);
    const big = await readLatency(ctx);
    const card = await getScorecard(ctx, operator, 'organisation', FSP_A);
    const overhead = median(off.map((x, i) => x / on[i])) - 1;
    console.log(`\n## ${engine}\n`);
    table(
      ['', 'rows/s (runs)', 'median rows/s'],
      [
        ['data quality off', off.map((x) => fmt(x)).join(', '), fmt(median(off))],
        ['data quality on', on.map((x) => fmt(x)).join(', '), fmt(median(on))],
      ],
    );
    console.log(
      `\noverhead of evaluation (median over repetitions of off/on − 1): ${fmt(overhead * 100, 1)} % (target ≤ 20 %); open findings after a run: ${fmt(findings)} (${fmt(findings / ROWS, 2)} per evaluated asset), advisories ${fmt(advisories)} (${fmt(advisories / ROWS, 2)} per asset)\n`,
    );
    table(
      ['assets of the FSP', 'scorecard read median ms', 'p99 ms', 'recomputation median ms', 'p99 ms'],
      [
        [
          fmt(smallAssets),
          fmt(median(small.counter), 3),
          fmt(percentile(small.counter, 99), 3),
          fmt(median(small.recompute), 2),
          fmt(percentile(small.recompute, 99), 2),
        ],
        [
          fmt(card.assets),
          fmt(median(big.counter), 3),
          fmt(percentile(big.counter, 99), 3),
          fmt(median(big.recompute), 2),
          fmt(percentile(big.recompute, 99), 2),
        ],
      ],
    );
    console.log(
      `\nscorecard at ${fmt(card.assets)} assets: average score ${card.averageScore}, open ${JSON.stringify(card.openFindings)}\n`,
    );
  } finally {
    await db.close();
    if (!process.env.BENCH_KEEP_DB) await drop(); // BENCH_KEEP_DB=1 keeps the database for EXPLAIN
  }
}

/** The time of the worst pattern the rule language accepts (two repetitions) on a field's longest text. */
function patternRuns() {
  const two = parseDefinition('name matches "^.*.*x"') as { t: 'matches'; re: RegExp };
  const text = 'a'.repeat(255);
  const ms: number[] = [];
  for (let i = 0; i < 101; i++) {
    const t = performance.now();
    two.re.test(text);
    ms.push(performance.now() - t);
  }
  console.log('');
  table(
    ['rule pattern', 'ms (median)', 'ms (max)', 'target'],
    [['^.*.*x on 255 characters (no match)', fmt(median(ms), 3), fmt(Math.max(...ms), 3), '< 50 ms']],
  );
}

async function main() {
  patternRuns();
  // BENCH_ENGINES=postgres (or pglite) runs one engine only.
  const engines = (process.env.BENCH_ENGINES ?? 'pglite,postgres').split(',');
  if (engines.includes('pglite')) await run('pglite');
  if (process.env.DATABASE_URL && engines.includes('postgres')) await run('postgres');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
