import postgres from 'postgres';
import { startPg, assetInput } from './lib';
const pg = startPg(55508);
const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
const rows = Array.from({ length: 10000 }, (_, n) => ({ id: 'X' + n, ...assetInput(n) }));
const text = JSON.stringify(rows);
console.log('bytes', text.length);
for (const t of ['jsonb', 'json', 'jsonb', 'json']) {
  const t0 = performance.now();
  const r = await sql.unsafe(`SELECT count(*) FROM ${t}_to_recordset($1::${t}) AS x(id text, name text, category text, "ratedCapacityKw" numeric, location jsonb)`, [rows as any], { prepare: true });
  console.log(t, (performance.now() - t0).toFixed(0), 'ms', r[0].count);
}
await sql.end(); pg.stop(); process.exit(0);
