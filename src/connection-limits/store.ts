import { reach } from '../access/permissions';
import type { Principal } from '../access/principal';
import type { Sql } from '../storage/db';
import type { ConnectionLimit, ProfileBand } from './schema';

/**
 * SQL that belongs to the connection_limit table: columns, row mapping, who reaches a limit, and the
 * reads other domains make of it (data quality's connection facts).
 */

const iso = (v: unknown) => (v ? new Date(v as string).toISOString() : null);
const kw = (v: unknown) => (v === null || v === undefined ? null : Number(v));

export const LIMIT_COLS = `l.id, l.mpan, l.site_reference, l.dno_organisation_id, l.dno, l.import_limit_kw::float8 AS import_limit_kw,
  l.export_limit_kw::float8 AS export_limit_kw, l.firmness, l.valid_from, l.valid_to, l.profile, l.scheme_reference, l.status,
  l.withdrawn_at, l.version, l.recorded_at, l.recorded_by`;

export interface LimitRow {
  id: string;
  mpan: string;
  site_reference: string | null;
  dno_organisation_id: string;
  dno: string;
  import_limit_kw: number | null;
  export_limit_kw: number | null;
  firmness: ConnectionLimit['firmness'];
  valid_from: Date;
  valid_to: Date | null;
  profile: ProfileBand[] | null;
  scheme_reference: string | null;
  status: ConnectionLimit['status'];
  withdrawn_at: Date | null;
  version: number;
  recorded_at: Date;
  recorded_by: string;
}

export function toLimit(r: LimitRow): ConnectionLimit {
  return {
    id: r.id,
    mpan: r.mpan,
    siteReference: r.site_reference ?? null,
    dnoOrganisationId: r.dno_organisation_id,
    dno: r.dno,
    importLimitKw: kw(r.import_limit_kw),
    exportLimitKw: kw(r.export_limit_kw),
    firmness: r.firmness,
    validFrom: iso(r.valid_from)!,
    validTo: iso(r.valid_to),
    profile: r.profile ?? null,
    schemeReference: r.scheme_reference ?? null,
    status: r.status,
    withdrawnAt: iso(r.withdrawn_at),
    version: Number(r.version),
    recordedAt: iso(r.recorded_at)!,
    recordedBy: r.recorded_by,
  };
}

/** SQL over the asset alias `x`/asset `xa`: a live asset at the connection point `mpanSql`. */
const assetAt = (mpanSql: string, cond: string) =>
  `EXISTS (SELECT 1 FROM asset_alias xl JOIN asset xa ON xa.id = xl.asset_id
    WHERE xl.scheme = 'mpan' AND xl.active AND xl.value = ${mpanSql} AND xa.deregistered_at IS NULL AND ${cond})`;

/**
 * Object-level rule (PERMISSIONS `connection-limits.read` / `.write`), in SQL over the alias `l`:
 * the operator and regulator read every limit; the DNO/IDNO that recorded a limit reads and changes
 * it; an FSP or aggregator reads the limits of the connection points where it controls an asset now
 * (the FSP link in force: one that lost the asset by a switch no longer reads them).
 */
export function limitVisibility(p: Principal, params: unknown[], mode: 'read' | 'write' = 'read'): string {
  const r = reach(mode === 'write' ? 'connection-limits.write' : 'connection-limits.read', p.roles);
  if (r.all) return 'TRUE';
  const parts: string[] = [];
  params.push(p.organisationId);
  const org = `$${params.length}`;
  if (p.roles.some((x) => x === 'DNO' || x === 'IDNO')) parts.push(`l.dno_organisation_id = ${org}`);
  if (mode === 'read' && p.roles.some((x) => x === 'FSP' || x === 'AGGREGATOR')) parts.push(assetAt('l.mpan', `xa.fsp_id = ${org}`));
  return parts.length ? `(${parts.join(' OR ')})` : 'FALSE';
}

export async function selectLimit(
  db: Sql,
  p: Principal,
  id: string,
  opts: { forUpdate?: boolean; mode?: 'read' | 'write' } = {},
): Promise<ConnectionLimit | undefined> {
  const params: unknown[] = [id];
  const vis = limitVisibility(p, params, opts.mode ?? 'read');
  const [r] = await db.query<LimitRow>(
    `SELECT ${LIMIT_COLS} FROM connection_limit l WHERE l.id = $1 AND ${vis}${opts.forUpdate ? ' FOR UPDATE' : ''}`,
    params,
  );
  return r ? toLimit(r) : undefined;
}

/** The ACTIVE limits at these MPANs not ended at `at` (in force or to come) that the caller reaches, by MPAN then period. */
export async function limitsAtMpans(db: Sql, p: Principal, mpans: string[], at: string): Promise<ConnectionLimit[]> {
  if (!mpans.length) return [];
  const params: unknown[] = [mpans, at];
  const vis = limitVisibility(p, params);
  const rows = await db.query<LimitRow>(
    `SELECT ${LIMIT_COLS} FROM connection_limit l
      WHERE l.mpan = ANY($1::text[]) AND l.status = 'ACTIVE' AND (l.valid_to IS NULL OR l.valid_to > $2::timestamptz) AND ${vis}
      ORDER BY l.mpan, l.valid_from, l.id`,
    params,
  );
  return rows.map(toLimit);
}

/** The DNO codes of the live assets registered at an MPAN (a connection point on an IDNO network may carry an asset's dno only). */
export async function assetDnosAt(db: Sql, mpan: string): Promise<string[]> {
  const rows = await db.query<{ dno: string }>(
    `SELECT DISTINCT a.dno FROM asset_alias al JOIN asset a ON a.id = al.asset_id
      WHERE al.scheme = 'mpan' AND al.active AND al.value = $1 AND a.deregistered_at IS NULL AND a.dno IS NOT NULL ORDER BY 1`,
    [mpan],
  );
  return rows.map((r) => r.dno);
}

/** Another ACTIVE limit at the MPAN whose period overlaps [from, to). */
export async function overlapping(db: Sql, mpan: string, from: string, to: string | null, except?: string): Promise<string | undefined> {
  const [r] = await db.query<{ id: string }>(
    `SELECT id FROM connection_limit WHERE mpan = $1 AND status = 'ACTIVE' AND id <> $4
      AND tstzrange(valid_from, valid_to) && tstzrange($2::timestamptz, $3::timestamptz) ORDER BY id LIMIT 1`,
    [mpan, from, to, except ?? ''],
  );
  return r?.id;
}

/** The live assets at these MPANs (their IDs): whose facts a limit's change moves. */
export async function assetsAtMpans(db: Sql, mpans: string[]): Promise<string[]> {
  if (!mpans.length) return [];
  const rows = await db.query<{ id: string }>(
    `SELECT DISTINCT a.id FROM asset_alias al JOIN asset a ON a.id = al.asset_id
      WHERE al.scheme = 'mpan' AND al.active AND al.value = ANY($1::text[]) AND a.deregistered_at IS NULL ORDER BY 1`,
    [mpans],
  );
  return rows.map((r) => r.id);
}

/** Of these assets, those with an ACTIVE limit recorded at one of their MPANs (in force now or not). */
export async function assetsWithLimits(db: Sql, assetIds: string[]): Promise<string[]> {
  const rows = await db.query<{ id: string }>(
    `SELECT a.id FROM asset a WHERE a.id = ANY($1::text[])
        AND EXISTS (SELECT 1 FROM connection_limit l WHERE l.status = 'ACTIVE' AND l.mpan IN (a.import_mpan, a.export_mpan)) ORDER BY 1`,
    [assetIds],
  );
  return rows.map((r) => r.id);
}

/** What data quality knows of an asset's connection: the market unit whose members there come closest to (or over) the limit in force. */
export interface ConnectionFacts {
  marketUnitId: string;
  mpan: string;
  direction: 'EXPORT' | 'IMPORT';
  unitCapacityKw: number;
  limitKw: number;
}

/**
 * For each asset: over the active market units it is in and its MPANs with a limit in force at `at`,
 * the members' summed capacity at that MPAN against the limit (export for generation and storage,
 * as generationCapacityKw or else ratedCapacityKw; import for demand categories, as
 * demandCapacityKw or else ratedCapacityKw); the pair with the least headroom. One statement.
 */
export async function connectionFactsOf(
  db: Sql,
  assetIds: string[],
  at: string,
  demandCategories: string[],
): Promise<Map<string, ConnectionFacts>> {
  const out = new Map<string, ConnectionFacts>();
  if (!assetIds.length) return out;
  const rows = await db.query<{
    asset_id: string;
    market_unit_id: string;
    mpan: string;
    direction: 'EXPORT' | 'IMPORT';
    unit_kw: number;
    limit_kw: number;
  }>(
    `WITH mine AS (
       SELECT m.asset_id, m.market_unit_id, x.mpan
         FROM market_unit_member m JOIN market_unit u ON u.id = m.market_unit_id AND u.status = 'ACTIVE'
         JOIN asset a ON a.id = m.asset_id
         CROSS JOIN LATERAL (VALUES (a.import_mpan), (a.export_mpan)) AS x(mpan)
        WHERE m.asset_id = ANY($1::text[]) AND m.active AND x.mpan IS NOT NULL
     ), lim AS (
       SELECT l.mpan, min(l.import_limit_kw)::float8 AS import_kw, min(l.export_limit_kw)::float8 AS export_kw
         FROM connection_limit l
        WHERE l.mpan IN (SELECT mpan FROM mine) AND l.status = 'ACTIVE' AND l.valid_from <= $2::timestamptz
          AND (l.valid_to IS NULL OR l.valid_to > $2::timestamptz)
        GROUP BY l.mpan
     ), sums AS (
       SELECT mine.market_unit_id, mine.mpan,
              sum(CASE WHEN b.category = ANY($3::text[]) THEN 0 ELSE COALESCE(b.generation_capacity_kw, b.rated_capacity_kw) END)::float8 AS export_sum,
              sum(CASE WHEN b.category = ANY($3::text[]) THEN COALESCE(b.demand_capacity_kw, b.rated_capacity_kw) ELSE 0 END)::float8 AS import_sum
         FROM (SELECT DISTINCT market_unit_id, mpan FROM mine) mine
         JOIN market_unit_member bm ON bm.market_unit_id = mine.market_unit_id AND bm.active
         JOIN asset b ON b.id = bm.asset_id AND (b.import_mpan = mine.mpan OR b.export_mpan = mine.mpan)
        GROUP BY mine.market_unit_id, mine.mpan
     )
     SELECT mine.asset_id, mine.market_unit_id, mine.mpan, d.direction, d.unit_kw, d.limit_kw
       FROM mine JOIN lim ON lim.mpan = mine.mpan
       JOIN sums s ON s.market_unit_id = mine.market_unit_id AND s.mpan = mine.mpan
      CROSS JOIN LATERAL (VALUES ('EXPORT', s.export_sum, lim.export_kw), ('IMPORT', s.import_sum, lim.import_kw)) AS d(direction, unit_kw, limit_kw)
      WHERE d.limit_kw IS NOT NULL AND d.unit_kw > 0
      ORDER BY mine.asset_id, d.unit_kw - d.limit_kw DESC, mine.market_unit_id, mine.mpan, d.direction`,
    [assetIds, at, demandCategories],
  );
  for (const r of rows)
    if (!out.has(r.asset_id))
      out.set(r.asset_id, {
        marketUnitId: r.market_unit_id,
        mpan: r.mpan,
        direction: r.direction,
        unitCapacityKw: Number(r.unit_kw),
        limitKw: Number(r.limit_kw),
      });
  return out;
}
