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
 * demandCapacityKw or else ratedCapacityKw); the pair with the least headroom. Three short indexed
 * reads (memberships, limits, the limited units' members), each skipped when the one before finds
 * nothing, and the sums in code: one statement joining them all was planned as nested loops over
 * its CTEs (about 2 s for 1,000 assets and 500 limits, docs/connection-limits.md).
 */
export async function connectionFactsOf(
  db: Sql,
  assetIds: string[],
  at: string,
  demandCategories: string[],
): Promise<Map<string, ConnectionFacts>> {
  const out = new Map<string, ConnectionFacts>();
  if (!assetIds.length) return out;
  const mine = await db.query<{ asset_id: string; market_unit_id: string; import_mpan: string | null; export_mpan: string | null }>(
    `SELECT m.asset_id, m.market_unit_id, a.import_mpan, a.export_mpan
       FROM market_unit_member m JOIN market_unit u ON u.id = m.market_unit_id AND u.status = 'ACTIVE' JOIN asset a ON a.id = m.asset_id
      WHERE m.asset_id = ANY($1::text[]) AND m.active AND (a.import_mpan IS NOT NULL OR a.export_mpan IS NOT NULL)`,
    [assetIds],
  );
  const mpansOf = (r: { import_mpan: string | null; export_mpan: string | null }) =>
    [...new Set([r.import_mpan, r.export_mpan])].filter((m): m is string => !!m);
  const mpans = [...new Set(mine.flatMap(mpansOf))];
  if (!mpans.length) return out;
  const limits = new Map(
    (
      await db.query<{ mpan: string; import_kw: number | null; export_kw: number | null }>(
        `SELECT mpan, min(import_limit_kw)::float8 AS import_kw, min(export_limit_kw)::float8 AS export_kw FROM connection_limit
          WHERE mpan = ANY($1::text[]) AND status = 'ACTIVE' AND valid_from <= $2::timestamptz AND (valid_to IS NULL OR valid_to > $2::timestamptz)
          GROUP BY mpan`,
        [mpans, at],
      )
    ).map((r) => [r.mpan, r]),
  );
  const limited = mine.filter((r) => mpansOf(r).some((m) => limits.has(m)));
  if (!limited.length) return out;
  const members = await db.query<{
    market_unit_id: string;
    category: string;
    import_mpan: string | null;
    export_mpan: string | null;
    export_kw: number;
    import_kw: number;
  }>(
    `SELECT bm.market_unit_id, b.category, b.import_mpan, b.export_mpan,
            COALESCE(b.generation_capacity_kw, b.rated_capacity_kw)::float8 AS export_kw, COALESCE(b.demand_capacity_kw, b.rated_capacity_kw)::float8 AS import_kw
       FROM market_unit_member bm JOIN asset b ON b.id = bm.asset_id
      WHERE bm.market_unit_id = ANY($1::text[]) AND bm.active`,
    [[...new Set(limited.map((r) => r.market_unit_id))]],
  );
  // Summed capacity per unit and limited MPAN, each member once per MPAN it is behind.
  const sums = new Map<string, { EXPORT: number; IMPORT: number }>();
  for (const b of members)
    for (const m of mpansOf(b)) {
      if (!limits.has(m)) continue;
      const k = `${b.market_unit_id}\u0000${m}`;
      const sum = sums.get(k) ?? { EXPORT: 0, IMPORT: 0 };
      if (demandCategories.includes(b.category)) sum.IMPORT += Number(b.import_kw);
      else sum.EXPORT += Number(b.export_kw);
      sums.set(k, sum);
    }
  const candidates: (ConnectionFacts & { assetId: string })[] = [];
  for (const r of limited)
    for (const m of mpansOf(r)) {
      const limit = limits.get(m);
      const sum = sums.get(`${r.market_unit_id}\u0000${m}`);
      if (!limit || !sum) continue;
      for (const [direction, limitKw] of [
        ['EXPORT', limit.export_kw],
        ['IMPORT', limit.import_kw],
      ] as const) {
        const unitCapacityKw = Math.round(sum[direction] * 100) / 100;
        if (limitKw === null || unitCapacityKw <= 0) continue;
        candidates.push({
          assetId: r.asset_id,
          marketUnitId: r.market_unit_id,
          mpan: m,
          direction,
          unitCapacityKw,
          limitKw: Number(limitKw),
        });
      }
    }
  // The least headroom first; ties in a fixed order (unit, MPAN, direction).
  candidates.sort(
    (x, y) =>
      x.assetId.localeCompare(y.assetId) ||
      y.unitCapacityKw - y.limitKw - (x.unitCapacityKw - x.limitKw) ||
      x.marketUnitId.localeCompare(y.marketUnitId) ||
      x.mpan.localeCompare(y.mpan) ||
      x.direction.localeCompare(y.direction),
  );
  for (const { assetId, ...facts } of candidates) if (!out.has(assetId)) out.set(assetId, facts);
  return out;
}

/** The organisation's ACTIVE limit at the MPAN from this instant: the one a CIM import of the same limit updates. */
export async function ownLimitFrom(db: Sql, organisationId: string, mpan: string, validFrom: string): Promise<ConnectionLimit | undefined> {
  const [r] = await db.query<LimitRow>(
    `SELECT ${LIMIT_COLS} FROM connection_limit l
      WHERE l.dno_organisation_id = $1 AND l.mpan = $2 AND l.valid_from = $3::timestamptz AND l.status = 'ACTIVE' ORDER BY l.id LIMIT 1`,
    [organisationId, mpan, validFrom],
  );
  return r ? toLimit(r) : undefined;
}
