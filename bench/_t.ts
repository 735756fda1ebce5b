import postgres from 'postgres';
import { startPg, startHub, log } from './lib';
import { loadAssets, lookupMpan } from './load';
import { checkMpanCore } from '../src/catalogue/identifiers';
const pg = startPg(55509);
const hub = await startHub(pg.url, 55519);
const sql = postgres(pg.url, { max: 2, onnotice: () => {} });
const s = await loadAssets(sql, hub.orgs['fsp-a'], 0, 200_000, (d) => log('loaded', d), 100_000);
log('load s', s);
for (const n of [0, 1, 2, 3, 4, 9, 12345, 199999]) {
  const m = lookupMpan(n);
  const [r] = await sql.unsafe(`SELECT a.id, a.category, a.import_mpan, a.export_mpan FROM asset_alias al JOIN asset a ON a.id = al.asset_id WHERE al.scheme='mpan' AND al.value=$1`, [m]);
  console.log(n, m, checkMpanCore(m), r);
}
const bad = await sql.unsafe(`SELECT count(*) FROM asset WHERE import_mpan IS NULL AND export_mpan IS NULL`);
console.log(bad);
const res = await fetch(`${hub.baseUrl}/api/v1/assets?identifier=mpan:${lookupMpan(12345)}`, { headers: { authorization: `Bearer ${hub.tokens['fsp-a']}` } });
console.log(res.status, (await res.text()).slice(0, 800));
await sql.end(); await hub.stop(); pg.stop(); process.exit(0);
