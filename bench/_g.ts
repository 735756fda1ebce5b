import postgres from 'postgres';
import { monotonicFactory } from 'ulid';
import { startPg, log } from './lib';
const pg = startPg(55507);
const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
console.log(await sql.unsafe(`select datcollate, datctype from pg_database where datname='fmar'`));
await sql.unsafe(`CREATE EXTENSION btree_gist`);
const N = Number(process.env.N ?? 500000), B = 10000;
const variants: Record<string, string> = {
  gist: `CREATE TABLE l (asset_id text NOT NULL, fsp_id text NOT NULL, valid tstzrange NOT NULL, recorded_at timestamptz NOT NULL, recorded_by text NOT NULL, CONSTRAINT x EXCLUDE USING gist (asset_id WITH =, valid WITH &&))`,
  gistC: `CREATE TABLE l (asset_id text NOT NULL, fsp_id text NOT NULL, valid tstzrange NOT NULL, recorded_at timestamptz NOT NULL, recorded_by text NOT NULL, CONSTRAINT x EXCLUDE USING gist (asset_id COLLATE "C" WITH =, valid WITH &&))`,
  gistIdx: `CREATE TABLE l (asset_id text NOT NULL, fsp_id text NOT NULL, valid tstzrange NOT NULL, recorded_at timestamptz NOT NULL, recorded_by text NOT NULL); CREATE INDEX ON l USING gist (asset_id, valid)`,
  gistRev: `CREATE TABLE l (asset_id text NOT NULL, fsp_id text NOT NULL, valid tstzrange NOT NULL, recorded_at timestamptz NOT NULL, recorded_by text NOT NULL, CONSTRAINT x EXCLUDE USING gist (valid WITH &&, asset_id WITH =))`,
  btree: `CREATE TABLE l (asset_id text NOT NULL, fsp_id text NOT NULL, valid tstzrange NOT NULL, recorded_at timestamptz NOT NULL, recorded_by text NOT NULL); CREATE INDEX ON l (asset_id)`,
};
for (const v of (process.env.V ?? 'gist,gistC,btree').split(',')) {
  await sql.unsafe(`DROP TABLE IF EXISTS l`);
  for (const s of variants[v].split('; ')) await sql.unsafe(s);
  const ids = monotonicFactory();
  const times: number[] = [];
  for (let i = 0; i < N; i += B) {
    const rows = Array.from({ length: B }, () => ({ asset_id: ids(), fsp_id: '01JDEM0000000000000000FSPA' }));
    const at = new Date().toISOString();
    const t = performance.now();
    await sql.unsafe(`INSERT INTO l SELECT x.asset_id, x.fsp_id, tstzrange($1::timestamptz, NULL), $1::timestamptz, 'x' FROM jsonb_to_recordset($2::jsonb) AS x(asset_id text, fsp_id text)`, [at, rows as any]);
    times.push(performance.now() - t);
  }
  const f = times.slice(0, 5).reduce((a, b) => a + b) / 5, l = times.slice(-5).reduce((a, b) => a + b) / 5;
  log(v, 'total s', (times.reduce((a, b) => a + b) / 1000).toFixed(1), 'first5 avg ms', f.toFixed(0), 'last5 avg ms', l.toFixed(0));
}
await sql.end(); pg.stop(); process.exit(0);
