import { unitWithinAssetLimit } from '../access/asset-limit';
import { reach } from '../access/permissions';
import type { Principal } from '../access/principal';
import { CURRENT_QUALIFICATIONS_SQL, toCurrentQualifications } from '../products/store';
import type { CurrentQualification } from '../products/schema';
import type { Sql } from '../storage/db';
import type { MarketUnit } from './schema';

/** SQL that belongs to the market unit tables: column list, row mapping, object-level visibility. */

export const UNIT_COLS = `u.id, u.fsp_id, u.name, u.unit_type, u.product, u.status, u.version, u.recorded_at, u.recorded_by, u.deregistered_at, u.reassessment_required, u.reassessment_reason,
  COALESCE((SELECT jsonb_agg(m.asset_id ORDER BY m.asset_id) FROM market_unit_member m WHERE m.market_unit_id = u.id AND m.active = (u.status = 'ACTIVE')), '[]'::jsonb) AS asset_ids,
  ${CURRENT_QUALIFICATIONS_SQL} AS qualifications`;

/** Storage row → wire shape (the one mapping, used by the API and the history). */
/** A row as UNIT_COLS selects it. */
export interface UnitRow {
  id: string;
  fsp_id: string;
  name: string;
  unit_type: MarketUnit['type'];
  product: string;
  status: MarketUnit['status'];
  version: number;
  recorded_at: Date;
  recorded_by: string;
  deregistered_at: Date | null;
  reassessment_required: boolean;
  reassessment_reason: string | null;
  asset_ids: string[] | null;
  qualifications: CurrentQualification[] | null;
}

export function toUnit(r: UnitRow): MarketUnit {
  return {
    id: r.id,
    name: r.name,
    type: r.unit_type,
    product: r.product,
    fspId: r.fsp_id,
    status: r.status,
    assetIds: r.asset_ids ?? [],
    version: Number(r.version),
    recordedAt: new Date(r.recorded_at).toISOString(),
    recordedBy: r.recorded_by,
    deregisteredAt: r.deregistered_at ? new Date(r.deregistered_at).toISOString() : null,
    reassessmentRequired: !!r.reassessment_required,
    reassessmentReason: r.reassessment_reason ?? null,
    qualifications: toCurrentQualifications(r.qualifications),
  };
}

/**
 * Object-level rule, in SQL (as assetVisibility): the reach PERMISSIONS gives market-units.read or
 * market-units.write. FSPs reach the units they control; DNOs/IDNOs (read) the units with a member
 * on their networks; a delegation limited to named assets only units made of those assets.
 */
export function unitVisibility(p: Principal, params: unknown[], mode: 'read' | 'write' = 'read'): string {
  const limit = unitWithinAssetLimit(p, params, 'u.id');
  const r = reach(mode === 'write' ? 'market-units.write' : 'market-units.read', p.roles);
  if (r.all) return limit;
  const parts: string[] = [];
  if (r.own) {
    params.push(p.organisationId);
    parts.push(`u.fsp_id = $${params.length}`);
  }
  if (r.network && p.dnoCodes.length) {
    params.push(p.dnoCodes);
    parts.push(
      `EXISTS (SELECT 1 FROM market_unit_member nm JOIN asset na ON na.id = nm.asset_id WHERE nm.market_unit_id = u.id AND na.dno IN (SELECT jsonb_array_elements_text($${params.length}::jsonb)))`,
    );
  }
  return parts.length ? `(${limit} AND (${parts.join(' OR ')}))` : 'FALSE';
}

export async function selectUnit(
  db: Sql,
  p: Principal,
  id: string,
  opts: { forUpdate?: boolean; mode?: 'read' | 'write' } = {},
): Promise<UnitRow | undefined> {
  const params: unknown[] = [id];
  const vis = unitVisibility(p, params, opts.mode ?? 'read');
  const [row] = await db.query<UnitRow>(
    `SELECT ${UNIT_COLS} FROM market_unit u WHERE u.id = $1 AND ${vis}${opts.forUpdate ? ' FOR UPDATE OF u' : ''}`,
    params,
  );
  return row;
}

/** The active units an asset is a member of (asset de-registration is refused while there is one). */
export async function activeUnitsOfAsset(tx: Sql, assetId: string): Promise<string[]> {
  const rows = await tx.query<{ market_unit_id: string }>(
    `SELECT market_unit_id FROM market_unit_member WHERE asset_id = $1 AND active ORDER BY market_unit_id`,
    [assetId],
  );
  return rows.map((r) => r.market_unit_id);
}

/** The other active members of the active units an asset is in (a change of its capacity moves their sums at a shared connection). */
export async function fellowMembersOf(tx: Sql, assetId: string): Promise<string[]> {
  const rows = await tx.query<{ asset_id: string }>(
    `SELECT DISTINCT o.asset_id FROM market_unit_member m JOIN market_unit_member o ON o.market_unit_id = m.market_unit_id AND o.active
      WHERE m.asset_id = $1 AND m.active AND o.asset_id <> $1 ORDER BY 1`,
    [assetId],
  );
  return rows.map((r) => r.asset_id);
}

/**
 * CONFIRMED contracts, not yet ended at `at`, for the unit or for one of its assets and its product.
 * The contract table is the switching module's; this is the one read of it here, until
 * qualification and contracts for units get their own module.
 */
export async function awardedContracts(tx: Sql, unit: { id: string; product: string; assetIds: string[] }, at: string): Promise<string[]> {
  const rows = await tx.query<{ id: string }>(
    `SELECT id FROM contract WHERE status = 'CONFIRMED' AND upper(period) > $4::timestamptz
        AND (market_unit_id = $1 OR (product = $2 AND asset_id = ANY($3::text[]))) ORDER BY id`,
    [unit.id, unit.product, unit.assetIds, at],
  );
  return rows.map((r) => r.id);
}

/** The live units an FSP controls (src/notices/ asks the qualification records of them). */
export async function liveUnitIdsOf(db: Sql, fspId: string): Promise<string[]> {
  const rows = await db.query<{ id: string }>(`SELECT id FROM market_unit WHERE fsp_id = $1 AND status = 'ACTIVE' ORDER BY id`, [fspId]);
  return rows.map((r) => r.id);
}

/** A live unit flagged Re-assessment Required (src/notices/). */
export interface ReassessmentFacts {
  id: string;
  fsp_id: string;
  product: string;
  reassessment_reason: string | null;
  recorded_at: Date;
}

/** Live units flagged Re-assessment Required that this FSP controls or whose product is one of `products`, oldest first. */
export async function unitsAwaitingReassessment(
  db: Sql,
  q: { fspId: string; products: string[] },
  limit: number,
): Promise<ReassessmentFacts[]> {
  return db.query<ReassessmentFacts>(
    `SELECT id, fsp_id, product, reassessment_reason, recorded_at FROM market_unit
      WHERE status = 'ACTIVE' AND reassessment_required AND (fsp_id = $1 OR product = ANY($2::text[]))
      ORDER BY recorded_at, id LIMIT $3`,
    [q.fspId, q.products, limit],
  );
}
