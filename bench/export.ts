/**
 * Benchmark: export of N assets (default 1,000,000) through GET /api/v1/assets/export
 * (format=ndjson and format=csv, demo FSP token) while sampling the hub process's resident set
 * (/proc/<pid>/status VmRSS), against the raw database read: COPY (SELECT … FROM asset ORDER BY id)
 * TO STDOUT of the same rows through psql, in the same run.
 *
 *   npm run bench:export     (BENCH_ROWS=1000000 BENCH_REPS=3 FMAR_PG_PORT=55502)
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import postgres from 'postgres';
import {
  SAMPLE_MS,
  envInt,
  fmt,
  log,
  machine,
  median,
  mb,
  pgSettings,
  readStreamed,
  rssOf,
  startHub,
  startPg,
  table,
  type Pg,
} from './lib';
import { loadAssets } from './load';

const ROWS = envInt('BENCH_ROWS', 1_000_000);
const REPS = envInt('BENCH_REPS', 3);
const PG_PORT = envInt('FMAR_PG_PORT', 55502);
const HUB_PORT = envInt('BENCH_HUB_PORT', 55512);

interface Run {
  rows: number;
  bytes: number;
  seconds: number;
  peakRss: number;
}

/** Read a streamed response to the end, counting lines, sampling `pid`'s RSS meanwhile. */
async function exportOnce(url: string, token: string, pid: number): Promise<Run> {
  let rows = 0;
  const r = await readStreamed(url, token, pid, (chunk) => {
    for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) rows++;
  });
  return { rows, ...r };
}

/** Baseline: psql reads `COPY (SELECT * FROM asset ORDER BY id) TO STDOUT` (text format) and this process counts its lines. */
async function copyOnce(pg: Pg): Promise<Run> {
  const t0 = performance.now();
  const child = spawn(join(pg.bin, 'psql'), ['-X', '-q', '-d', pg.url, '-c', 'COPY (SELECT * FROM asset ORDER BY id) TO STDOUT'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let lines = 0;
  let bytes = 0;
  for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) lines++;
  }
  const code = await new Promise((r) => (child.exitCode !== null ? r(child.exitCode) : child.once('exit', r)));
  if (code !== 0) throw new Error(`psql COPY exited with ${code}`);
  return { rows: lines, bytes, seconds: (performance.now() - t0) / 1000, peakRss: 0 };
}

async function main() {
  log(`export benchmark: ${fmt(ROWS)} assets, ${REPS} repetitions per format`);
  const pg = startPg(PG_PORT);
  const sql = postgres(pg.url, { max: 2, onnotice: () => {} });
  const hub = await startHub(pg.url, HUB_PORT);
  log(`PostgreSQL on ${pg.port}; hub pid ${hub.pid} on ${hub.baseUrl}`);
  const settings = await pgSettings(sql);
  const org = hub.orgs['fsp-a'];
  const [{ n: demo }] = await sql.unsafe(`SELECT count(*)::int AS n FROM asset WHERE organisation_id = $1`, [org]);
  const loadS = await loadAssets(sql, org, 0, ROWS, (d) => log(`  ${fmt(d)} rows`));
  await sql.unsafe(`VACUUM ANALYZE asset, asset_alias, asset_natural_key`);
  log(`loaded ${fmt(ROWS)} assets in ${fmt(loadS)} s`);
  const expected = ROWS + demo;
  const token = hub.tokens['fsp-a'];
  const idleRss = rssOf(hub.pid);

  const runs: Record<'ndjson' | 'csv' | 'copy', Run[]> = { ndjson: [], csv: [], copy: [] };
  for (let rep = 1; rep <= REPS; rep++) {
    for (const f of ['copy', 'ndjson', 'csv'] as const) {
      const r = f === 'copy' ? await copyOnce(pg) : await exportOnce(`${hub.baseUrl}/api/v1/assets/export?format=${f}`, token, hub.pid);
      const rows = f === 'csv' ? r.rows - 1 : r.rows; // CSV has a header line
      if (rows !== expected) throw new Error(`${f}: ${rows} rows, expected ${expected}`);
      runs[f].push({ ...r, rows });
      log(
        `rep ${rep} ${f.padEnd(6)}: ${fmt(rows / r.seconds)} rows/s (${fmt(r.seconds, 1)} s, ${mb(r.bytes)})${f === 'copy' ? '' : `, hub peak RSS ${mb(r.peakRss)}`}`,
      );
    }
  }
  await hub.stop();
  await sql.end();
  pg.stop();

  console.log('\n## Export: results\n');
  console.log(
    'machine',
    JSON.stringify(machine()),
    '\nPostgreSQL',
    JSON.stringify(settings),
    `\nhub RSS idle after load: ${mb(idleRss)}; RSS sampled every ${SAMPLE_MS} ms\n`,
  );
  const copyRps = median(runs.copy.map((r) => r.rows / r.seconds));
  table(
    [
      'export',
      'rows/s (median)',
      'seconds (median)',
      'body',
      'peak hub RSS (max over reps)',
      'rows/s vs COPY (median of per-rep ratios)',
      'target',
    ],
    (['ndjson', 'csv', 'copy'] as const).map((f) => [
      f === 'copy' ? 'baseline: psql COPY (SELECT * FROM asset ORDER BY id) TO STDOUT' : `GET /api/v1/assets/export?format=${f}`,
      fmt(median(runs[f].map((r) => r.rows / r.seconds))),
      fmt(median(runs[f].map((r) => r.seconds)), 1),
      mb(median(runs[f].map((r) => r.bytes))),
      f === 'copy' ? '–' : mb(Math.max(...runs[f].map((r) => r.peakRss))),
      f === 'copy'
        ? '100%'
        : `${fmt(100 * median(runs[f].map((r, i) => r.rows / r.seconds / (runs.copy[i].rows / runs.copy[i].seconds))), 1)}%`,
      f === 'copy' ? '' : 'peak RSS < 300 MB',
    ]),
  );
  void copyRps;
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
