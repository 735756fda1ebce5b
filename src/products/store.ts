import type { Sql } from '../storage/db';
import type { CurrentQualification, Equivalence, Product, Qualification } from './schema';

/**
 * SQL that belongs to the product, qualification and equivalence tables: column lists, row
 * mappings, and the reads the market units module makes of them (it never queries them itself).
 */

const iso = (v: unknown) => (v ? new Date(v as string).toISOString() : null);

export const PRODUCT_COLS = `p.id, p.name, p.description, p.market, p.service_type, p.owner_organisation_id, p.status, p.valid_from, p.valid_to, p.version, p.recorded_at, p.recorded_by`;

export interface ProductRow {
  id: string;
  name: string;
  description: string | null;
  market: Product['market'];
  service_type: string;
  owner_organisation_id: string | null;
  status: Product['status'];
  valid_from: Date;
  valid_to: Date | null;
  version: number;
  recorded_at: Date;
  recorded_by: string;
}

export function toProduct(r: ProductRow): Product {
  return {
    id: r.id,
    name: r.name,
    description: r.description ?? null,
    market: r.market,
    serviceType: r.service_type,
    ownerOrganisationId: r.owner_organisation_id ?? null,
    status: r.status,
    validFrom: iso(r.valid_from)!,
    validTo: iso(r.valid_to),
    version: Number(r.version),
    recordedAt: iso(r.recorded_at)!,
    recordedBy: r.recorded_by,
  };
}

/** Current = no later record supersedes it. */
export const QUALIFICATION_COLS = `q.id, q.market_unit_id, q.product_id, q.outcome, q.valid_from, q.valid_to, q.reference, q.notes, q.system_operator_id, q.supersedes, q.recorded_at, q.recorded_by,
  NOT EXISTS (SELECT 1 FROM qualification s WHERE s.supersedes = q.id) AS current`;

export interface QualificationRow {
  id: string;
  market_unit_id: string;
  product_id: string;
  outcome: Qualification['outcome'];
  valid_from: Date;
  valid_to: Date | null;
  reference: string | null;
  notes: string | null;
  system_operator_id: string;
  supersedes: string | null;
  recorded_at: Date;
  recorded_by: string;
  current: boolean;
}

export function toQualification(r: QualificationRow): Qualification {
  return {
    id: r.id,
    marketUnitId: r.market_unit_id,
    productId: r.product_id,
    outcome: r.outcome,
    validFrom: iso(r.valid_from)!,
    validTo: iso(r.valid_to),
    reference: r.reference ?? null,
    notes: r.notes ?? null,
    systemOperatorId: r.system_operator_id,
    supersedes: r.supersedes ?? null,
    current: !!r.current,
    recordedAt: iso(r.recorded_at)!,
    recordedBy: r.recorded_by,
  };
}

export const EQUIVALENCE_COLS = `e.id, e.product_a, e.product_b, e.kind, e.notes, e.status, e.version, e.recorded_at, e.recorded_by, e.withdrawn_at`;

export interface EquivalenceRow {
  id: string;
  product_a: string;
  product_b: string;
  kind: Equivalence['kind'];
  notes: string | null;
  status: Equivalence['status'];
  version: number;
  recorded_at: Date;
  recorded_by: string;
  withdrawn_at: Date | null;
}

export function toEquivalence(r: EquivalenceRow): Equivalence {
  return {
    id: r.id,
    productA: r.product_a,
    productB: r.product_b,
    kind: r.kind,
    notes: r.notes ?? null,
    status: r.status,
    version: Number(r.version),
    recordedAt: iso(r.recorded_at)!,
    recordedBy: r.recorded_by,
    withdrawnAt: iso(r.withdrawn_at),
  };
}

/** SQL for "this product is offered at $at": ACTIVE and not past its validTo (a future validFrom still counts: units are built ahead). */
export const productOffered = (alias: string, at: string) =>
  `(${alias}.status = 'ACTIVE' AND (${alias}.valid_to IS NULL OR ${alias}.valid_to > ${at}::timestamptz))`;

export async function selectProduct(db: Sql, id: string, opts: { forUpdate?: boolean } = {}): Promise<Product | undefined> {
  const [r] = await db.query<ProductRow>(`SELECT ${PRODUCT_COLS} FROM product p WHERE p.id = $1${opts.forUpdate ? ' FOR UPDATE' : ''}`, [
    id,
  ]);
  return r ? toProduct(r) : undefined;
}

/** The product, if it is offered at `at` (market units name only those at creation). */
export async function offeredProduct(db: Sql, id: string, at: string): Promise<Product | undefined> {
  const [r] = await db.query<ProductRow>(`SELECT ${PRODUCT_COLS} FROM product p WHERE p.id = $1 AND ${productOffered('p', '$2')}`, [
    id,
    at,
  ]);
  return r ? toProduct(r) : undefined;
}

/**
 * A SQL expression over the market unit alias `u`: its current qualification per product, as a
 * JSON array (what the unit read shows). Used in the units' column list.
 */
export const CURRENT_QUALIFICATIONS_SQL = `COALESCE((SELECT jsonb_agg(jsonb_build_object('qualificationId', q.id, 'productId', q.product_id, 'outcome', q.outcome,
    'validFrom', q.valid_from, 'validTo', q.valid_to, 'recordedAt', q.recorded_at) ORDER BY q.product_id)
    FROM qualification q WHERE q.market_unit_id = u.id AND NOT EXISTS (SELECT 1 FROM qualification s WHERE s.supersedes = q.id)), '[]'::jsonb)`;

/** The JSON of CURRENT_QUALIFICATIONS_SQL (the wire fields, timestamps as PostgreSQL writes them) as the wire shape (RFC 3339 UTC). */
export function toCurrentQualifications(v: CurrentQualification[] | null | undefined): CurrentQualification[] {
  return (v ?? []).map((q) => ({
    qualificationId: q.qualificationId,
    productId: q.productId,
    outcome: q.outcome,
    validFrom: iso(q.validFrom)!,
    validTo: iso(q.validTo),
    recordedAt: iso(q.recordedAt)!,
  }));
}

/** Current QUALIFIED records of a unit whose validity has not ended at `at` (open validTo or later): de-registration waits for them. */
export async function activeQualifications(tx: Sql, unitId: string, at: string): Promise<{ id: string; productId: string }[]> {
  const rows = await tx.query<{ id: string; product_id: string }>(
    `SELECT q.id, q.product_id FROM qualification q
      WHERE q.market_unit_id = $1 AND q.outcome = 'QUALIFIED' AND (q.valid_to IS NULL OR q.valid_to > $2::timestamptz)
        AND NOT EXISTS (SELECT 1 FROM qualification s WHERE s.supersedes = q.id) ORDER BY q.id`,
    [unitId, at],
  );
  return rows.map((r) => ({ id: r.id, productId: r.product_id }));
}

/** The owners of the products a unit holds an active qualification for (and of its own product): who a re-assessment concerns. */
export async function productOwners(tx: Sql, productIds: string[]): Promise<string[]> {
  const rows = await tx.query<{ id: string }>(
    `SELECT DISTINCT owner_organisation_id AS id FROM product WHERE id = ANY($1::text[]) AND owner_organisation_id IS NOT NULL ORDER BY 1`,
    [productIds],
  );
  return rows.map((r) => r.id);
}

/**
 * A qualification record (UC-04.02), superseding the current one for the unit and product; the caller
 * holds the unit's lock (src/qualifications/service.ts), so "current" is unambiguous.
 */
export async function insertQualification(
  tx: Sql,
  q: {
    id: string;
    unitId: string;
    productId: string;
    outcome: string;
    validFrom: string;
    validTo: string | null;
    reference: string | null;
    notes: string | null;
    systemOperatorId: string;
    at: string;
    by: string;
  },
): Promise<void> {
  const [prev] = await tx.query<{ id: string }>(
    `SELECT q.id FROM qualification q WHERE q.market_unit_id = $1 AND q.product_id = $2 AND NOT EXISTS (SELECT 1 FROM qualification s WHERE s.supersedes = q.id)`,
    [q.unitId, q.productId],
  );
  await tx.query(
    `INSERT INTO qualification (id, market_unit_id, product_id, outcome, valid_from, valid_to, reference, notes, system_operator_id, supersedes, recorded_at, recorded_by)
    VALUES ($1, $2, $3, $4, $5::timestamptz, $6::timestamptz, $7, $8, $9, $10, $11::timestamptz, $12)`,
    [
      q.id,
      q.unitId,
      q.productId,
      q.outcome,
      q.validFrom,
      q.validTo,
      q.reference,
      q.notes,
      q.systemOperatorId,
      prev?.id ?? null,
      q.at,
      q.by,
    ],
  );
}

/** A current QUALIFIED record whose validity ends soon (src/notices/). */
export interface ExpiringQualificationFacts {
  id: string;
  market_unit_id: string;
  product_id: string;
  valid_to: Date;
  recorded_at: Date;
}

/** Current QUALIFIED records of these units whose validity ends after `from` and by `until`, soonest first. */
export async function qualificationsEndingBetween(
  db: Sql,
  unitIds: string[],
  from: string,
  until: string,
  limit: number,
): Promise<ExpiringQualificationFacts[]> {
  if (!unitIds.length) return [];
  return db.query<ExpiringQualificationFacts>(
    `SELECT q.id, q.market_unit_id, q.product_id, q.valid_to, q.recorded_at FROM qualification q
      WHERE q.market_unit_id = ANY($1::text[]) AND q.outcome = 'QUALIFIED' AND q.valid_to > $2::timestamptz AND q.valid_to <= $3::timestamptz
        AND NOT EXISTS (SELECT 1 FROM qualification s WHERE s.supersedes = q.id)
      ORDER BY q.valid_to, q.id LIMIT $4`,
    [unitIds, from, until, limit],
  );
}

/** The products an organisation owns (a System Operator's): whose units' re-assessment concerns it. */
export async function productsOwnedBy(db: Sql, organisationId: string): Promise<string[]> {
  const rows = await db.query<{ id: string }>(`SELECT id FROM product WHERE owner_organisation_id = $1 ORDER BY id`, [organisationId]);
  return rows.map((r) => r.id);
}
