/**
 * Fast SQL loading of benchmark assets (INSERT … SELECT generate_series), consistent with the
 * schema of src/storage/migrations: asset rows of the demo FSP (so its token sees them), their
 * mpan and serial aliases (evse / mcs on some categories), and natural keys. Row n gets the same
 * MPANs as bench/lib.ts assetInput(n), so `lookupMpan(n)` names an MPAN that exists.
 *
 * Not loaded (nothing read by the lookup or the export needs them): asset_fsp_link, audit_log and
 * event_outbox rows. Foreign keys are not checked row by row while loading
 * (session_replication_role = replica): every reference is to a row inserted by the same load or
 * to the demo organisation, which exists.
 */
import type postgres from 'postgres';
import { DISTRIBUTORS, mpan } from './lib';

const W = [3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43];
const CATS = [
  'BESS',
  'SOLAR_PV',
  'EV_CHARGER',
  'HEAT_PUMP',
  'WIND_TURBINE',
  'ELECTRIC_BOILER',
  'HVAC',
  'REFRIGERATION',
  'INDUSTRIAL_LOAD',
  'CHP',
];
const HAS_IMPORT = [0, 2, 3, 5, 6, 7, 8];
const HAS_EXPORT = [0, 1, 4, 9];

/** SQL expression: the 13-digit MPAN core for distributor expression `d` and 10-digit number expression `m` (both bigint). */
function mpanSql(d: string, m: string): string {
  const terms = [`(${d} / 10) * ${W[0]}`, `(${d} % 10) * ${W[1]}`];
  for (let i = 0; i < 10; i++) terms.push(`(((${m}) / ${10n ** BigInt(9 - i)}) % 10) * ${W[2 + i]}`);
  return `(${d}::text || lpad((${m})::text, 10, '0') || (((${terms.join(' + ')}) % 11) % 10)::text)`;
}

/** The MPAN that a lookup of row n should find (import if the category has one, else export). */
export function lookupMpan(n: number): string {
  const [dist] = DISTRIBUTORS[n % DISTRIBUTORS.length];
  return HAS_IMPORT.includes(n % 10) ? mpan(dist, 2 * n) : mpan(dist, 2 * n + 1);
}

export const assetIdSql = (n: string) => `('01K' || lpad((${n})::text, 23, '0'))`;

/** Insert assets n ∈ [from, to) for organisation `org`, in chunks; returns seconds taken. */
export async function loadAssets(
  sql: postgres.Sql,
  org: string,
  from: number,
  to: number,
  onProgress?: (done: number) => void,
  chunk = 1_000_000,
): Promise<number> {
  const t0 = performance.now();
  const dnos = `ARRAY[${DISTRIBUTORS.map(([, d]) => `'${d}'`).join(',')}]`;
  const cats = `ARRAY[${CATS.map((c) => `'${c}'`).join(',')}]`;
  const d = `(10 + g.n % 14)`;
  const imp = `CASE WHEN g.n % 10 IN (${HAS_IMPORT.join(',')}) THEN ${mpanSql(d, '2 * g.n')} END`;
  const exp = `CASE WHEN g.n % 10 IN (${HAS_EXPORT.join(',')}) THEN ${mpanSql(d, '2 * g.n + 1')} END`;
  const serial = `('L-SN-' || lpad(g.n::text, 10, '0'))`;
  for (let lo = from; lo < to; lo += chunk) {
    const hi = Math.min(to, lo + chunk);
    await sql.begin(async (tx) => {
      await tx.unsafe(`SET LOCAL session_replication_role = replica`);
      await tx.unsafe(`SET LOCAL work_mem = '256MB'`);
      await tx.unsafe(`CREATE TEMP TABLE bench_gen ON COMMIT DROP AS
        SELECT g.n, ${assetIdSql('g.n')} AS id, (${cats})[g.n % 10 + 1] AS cat, ${imp} AS imp, ${exp} AS exp, ${serial} AS serial
          FROM generate_series(${lo}::bigint, ${hi - 1}::bigint) AS g(n)`);
      await tx.unsafe(
        `INSERT INTO asset (id, organisation_id, fsp_id, name, category, status, rated_capacity_kw, generation_capacity_kw, demand_capacity_kw,
          energy_source, demand_technology, serial_number, commissioning_date, connection_status, dno, import_mpan, export_mpan, location, version, recorded_at, recorded_by, fsp_since, fsp_since_recorded_at, fsp_since_recorded_by)
        SELECT g.id, $1, $1, 'Loaded asset ' || g.n, g.cat, 'PENDING_VALIDATION', 3 + g.n % 50,
          CASE WHEN g.exp IS NOT NULL THEN 3 + g.n % 50 END, CASE WHEN g.imp IS NOT NULL THEN 3 + g.n % 50 END,
          CASE g.cat WHEN 'BESS' THEN 'GRID' WHEN 'SOLAR_PV' THEN 'SOLAR' WHEN 'WIND_TURBINE' THEN 'WIND' WHEN 'CHP' THEN 'NATURAL_GAS' END,
          CASE g.cat WHEN 'EV_CHARGER' THEN 'EV' WHEN 'HEAT_PUMP' THEN 'HEAT_PUMP' WHEN 'ELECTRIC_BOILER' THEN 'ELECTRIC_BOILER' WHEN 'HVAC' THEN 'HVAC'
            WHEN 'REFRIGERATION' THEN 'REFRIGERATION' WHEN 'INDUSTRIAL_LOAD' THEN 'INDUSTRIAL_LOAD' END,
          g.serial, DATE '2015-01-01' + (g.n % 3650)::int, 'CONNECTED', (${dnos})[g.n % 14 + 1], g.imp, g.exp,
          CASE WHEN g.n % 3 = 0 THEN jsonb_build_object('postcode', 'G1 1AA', 'gspGroup', '_N') END, 1, now(), 'bench-load', now(), now(), 'bench-load'
        FROM bench_gen g ORDER BY g.n`,
        [org],
      );
      await tx.unsafe(
        `INSERT INTO asset_alias (scheme, value, asset_id, organisation_id)
        SELECT s.scheme, s.value, s.id, $1 FROM (
          SELECT 'mpan' AS scheme, g.imp AS value, g.id, g.n FROM bench_gen g WHERE g.imp IS NOT NULL
          UNION ALL SELECT 'mpan', g.exp, g.id, g.n FROM bench_gen g WHERE g.exp IS NOT NULL
          UNION ALL SELECT 'serial', g.serial, g.id, g.n FROM bench_gen g
          UNION ALL SELECT 'evse', 'GBBNCEL' || g.n || '1', g.id, g.n FROM bench_gen g WHERE g.n % 10 = 2
          UNION ALL SELECT 'mcs', 'MCS-L' || g.n, g.id, g.n FROM bench_gen g WHERE g.n % 10 = 3
        ) s ORDER BY s.scheme, s.value`,
        [org],
      );
      await tx.unsafe(`INSERT INTO asset_natural_key (natural_key, asset_id)
        SELECT k.key, k.id FROM (
          SELECT g.imp || '|' || g.cat || '|' || g.serial AS key, g.id FROM bench_gen g WHERE g.imp IS NOT NULL
          UNION ALL SELECT g.exp || '|' || g.cat || '|' || g.serial, g.id FROM bench_gen g WHERE g.exp IS NOT NULL
        ) k ORDER BY k.key`);
    });
    onProgress?.(hi - from);
  }
  return (performance.now() - t0) / 1000;
}

/** Sizes of the asset tables and their indexes (pg_relation_size), per asset row. */
export async function relationSizes(sql: postgres.Sql) {
  const [{ n }] = await sql.unsafe(`SELECT count(*)::bigint AS n FROM asset`);
  const rows =
    await sql.unsafe(`SELECT c.relname AS name, c.relkind AS kind, pg_relation_size(c.oid) AS bytes FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
    WHERE s.nspname = 'public' AND c.relkind IN ('r', 'i') AND (c.relname LIKE 'asset%') ORDER BY 1`);
  return {
    assets: Number(n),
    rows: rows.map((r: any) => ({
      name: r.name,
      kind: r.kind === 'i' ? 'index' : 'table',
      bytes: Number(r.bytes),
      perAsset: Number(r.bytes) / Number(n),
    })),
  };
}
