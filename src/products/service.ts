import type { z } from '@hono/zod-openapi';
import type { Principal } from '../access/principal';
import { recordedBy } from '../access/principal';
import { writeAudit } from '../audit/audit';
import type { Ctx } from '../context';
import { writeEvents } from '../events/outbox';
import { Problem, fieldError, type FieldError } from '../http/problem';
import { fieldErrorsFromZod } from '../http/validation';
import { ULID_RE } from '../ids';
import { constraintName, pgErrorCode, type Sql } from '../storage/db';
import { clearReassessmentIn } from '../units/service';
import { selectUnit, unitVisibility } from '../units/store';
import { opportunities, periodErrors, productIdErrors, qualificationRecorder, relatedProducts } from './rules';
import { EquivalenceInput, ProductInput, ProductPatch, QualificationInput, type Equivalence, type Product, type Qualification } from './schema';
import { EQUIVALENCE_COLS, PRODUCT_COLS, QUALIFICATION_COLS, activeQualifications, productOffered, selectProduct, toEquivalence, toProduct, toQualification, type EquivalenceRow, type ProductRow, type QualificationRow } from './store';

/** Products (UC-04.01), qualification (UC-04.02) and the table of equivalences (UC-04.03): docs/products.md. */

function refuse(errors: FieldError[]): Problem {
  return new Problem(errors[0].code, errors.map((e) => e.detail).join(' '), {}, errors);
}
function parse<T>(schema: { safeParse(raw: unknown): { success: true; data: T } | { success: false; error: z.ZodError } }, raw: unknown, what: string): T {
  const r = schema.safeParse(raw);
  if (!r.success) throw new Problem('REQUEST-VALIDATION', `The ${what} is invalid.`, {}, fieldErrorsFromZod(r.error, raw));
  return r.data;
}
const owners = (...ids: (string | null | undefined)[]) => [...new Set(ids.filter((x): x is string => !!x))].sort();

/** The owner must be an active System Operator organisation (a DNO acting as DSO holds that role too). */
async function checkOwner(tx: Sql, id: string | null | undefined) {
  if (!id) return;
  const [o] = await tx.query(`SELECT 1 FROM organisation WHERE id = $1 AND status = 'ACTIVE' AND 'SYSTEM_OPERATOR' = ANY(roles)`, [id]);
  if (!o) throw refuse([fieldError('ownerOrganisationId', 'PRODUCT-OWNER-INVALID', `${id} is not an active organisation with the SYSTEM_OPERATOR role.`)]);
}

// ---- Product catalogue (UC-04.01) ----

export interface ProductFilter { market?: string; status?: string; ownerOrganisationId?: string; serviceType?: string }

export async function listProducts(ctx: Ctx, f: ProductFilter, page: { limit: number; after?: string }) {
  const params: unknown[] = [];
  const conds = ['TRUE'];
  const eq = (col: string, v: string | undefined) => { if (v !== undefined) { params.push(v); conds.push(`${col} = $${params.length}`); } };
  eq('p.market', f.market);
  eq('p.status', f.status);
  eq('p.owner_organisation_id', f.ownerOrganisationId);
  eq('p.service_type', f.serviceType);
  if (page.after) { params.push(page.after); conds.push(`p.id > $${params.length}`); }
  params.push(page.limit + 1);
  const rows = await ctx.db.query<ProductRow>(`SELECT ${PRODUCT_COLS} FROM product p WHERE ${conds.join(' AND ')} ORDER BY p.id LIMIT $${params.length}`, params);
  const items = rows.slice(0, page.limit).map(toProduct);
  return { items, next: rows.length > page.limit ? items[items.length - 1].id : undefined };
}

export async function getProduct(ctx: Ctx, id: string): Promise<Product> {
  const p = id.length <= 64 ? await selectProduct(ctx.db, id) : undefined;
  if (!p) throw new Problem('PRODUCT-NOT-FOUND', `No product ${id}.`);
  return p;
}

export async function productHistory(ctx: Ctx, id: string): Promise<Product[]> {
  const current = await getProduct(ctx, id);
  const rows = await ctx.db.query<{ data: Product }>(`SELECT data FROM product_history WHERE product_id = $1 ORDER BY version DESC`, [id]);
  return [current, ...rows.map((r) => r.data)];
}

export async function createProduct(ctx: Ctx, actor: Principal, raw: unknown): Promise<Product> {
  const input = parse(ProductInput, raw, 'product');
  const now = ctx.clock.now();
  const at = now.toISOString();
  const validFrom = input.validFrom ?? at;
  const errors = [...productIdErrors(input.id, input.market), ...periodErrors(validFrom, input.validTo, 'PRODUCT-PERIOD')];
  if (errors.length) throw refuse(errors);
  try {
    return await ctx.db.transaction(async (tx) => {
      if (await selectProduct(tx, input.id)) throw new Problem('PRODUCT-ID-TAKEN', `Product ${input.id} is already in the catalogue.`);
      await checkOwner(tx, input.ownerOrganisationId);
      await tx.query(`INSERT INTO product (id, name, description, market, service_type, owner_organisation_id, status, valid_from, valid_to, recorded_at, recorded_by)
        VALUES ($1, $2, $3, $4, $5, $6, 'ACTIVE', $7::timestamptz, $8::timestamptz, $9::timestamptz, $10)`,
        [input.id, input.name, input.description ?? null, input.market, input.serviceType, input.ownerOrganisationId ?? null, validFrom, input.validTo ?? null, at, recordedBy(actor)]);
      const product = (await selectProduct(tx, input.id))!;
      await writeAudit(tx, actor, now, [{ action: 'product.created', recordType: 'product', recordId: product.id, organisationId: product.ownerOrganisationId, detail: { ...product } }]);
      await writeEvents(tx, ctx.ids, now, [{ type: 'fmar.product.created', subject: product.id, organisationId: product.ownerOrganisationId,
        data: { productId: product.id, market: product.market, status: product.status, version: 1, productOwnerIds: owners(product.ownerOrganisationId) } }]);
      return product;
    });
  } catch (e) {
    if (pgErrorCode(e) === '23505' && constraintName(e) === 'product_pkey') throw new Problem('PRODUCT-ID-TAKEN', `Product ${input.id} is already in the catalogue.`);
    throw e;
  }
}

/** Update with If-Match; `status: INACTIVE` retires the product (validTo defaults to now). The prior version is kept. */
export async function updateProduct(ctx: Ctx, actor: Principal, id: string, raw: unknown, ifMatch: number): Promise<Product> {
  const patch = parse(ProductPatch, raw, 'update');
  const now = ctx.clock.now();
  const at = now.toISOString();
  return ctx.db.transaction(async (tx) => {
    const before = id.length <= 64 ? await selectProduct(tx, id, { forUpdate: true }) : undefined;
    if (!before) throw new Problem('PRODUCT-NOT-FOUND', `No product ${id}.`);
    if (before.version !== ifMatch) throw new Problem('REQUEST-PRECONDITION-FAILED', `Product ${id} is at version ${before.version}, not ${ifMatch}.`, { currentVersion: before.version });
    const next: Product = { ...before };
    for (const k of ['name', 'description', 'serviceType', 'ownerOrganisationId', 'validFrom', 'validTo', 'status'] as const) {
      if (patch[k] !== undefined) (next as Record<string, unknown>)[k] = patch[k] === null ? null : k === 'validFrom' || k === 'validTo' ? new Date(patch[k] as string).toISOString() : patch[k];
    }
    // Retiring without an end date ends the product now (when it has started).
    if (next.status === 'INACTIVE' && before.status === 'ACTIVE' && patch.validTo === undefined && !next.validTo && now.getTime() > new Date(next.validFrom).getTime()) next.validTo = at;
    const errors = periodErrors(next.validFrom, next.validTo, 'PRODUCT-PERIOD');
    if (errors.length) throw refuse(errors);
    if (next.ownerOrganisationId !== before.ownerOrganisationId) await checkOwner(tx, next.ownerOrganisationId);
    const keys = ['name', 'description', 'serviceType', 'ownerOrganisationId', 'validFrom', 'validTo', 'status'] as const;
    const changes = Object.fromEntries(keys.filter((k) => before[k] !== next[k]).map((k) => [k, [before[k], next[k]]]));
    await tx.query(`INSERT INTO product_history (product_id, version, data, recorded_at, recorded_by, superseded_at) VALUES ($1, $2, $3::jsonb, $4::timestamptz, $5, $6::timestamptz)`,
      [id, before.version, before, before.recordedAt, before.recordedBy, at]);
    await tx.query(`UPDATE product SET name = $2, description = $3, service_type = $4, owner_organisation_id = $5, valid_from = $6::timestamptz, valid_to = $7::timestamptz, status = $8,
        version = version + 1, recorded_at = $9::timestamptz, recorded_by = $10 WHERE id = $1`,
      [id, next.name, next.description, next.serviceType, next.ownerOrganisationId, next.validFrom, next.validTo, next.status, at, recordedBy(actor)]);
    const after = (await selectProduct(tx, id))!;
    const retired = before.status === 'ACTIVE' && after.status === 'INACTIVE';
    await writeAudit(tx, actor, now, [{ action: retired ? 'product.retired' : 'product.updated', recordType: 'product', recordId: id, organisationId: after.ownerOrganisationId, detail: { version: after.version, changes } }]);
    await writeEvents(tx, ctx.ids, now, [{ type: retired ? 'fmar.product.retired' : 'fmar.product.updated', subject: id, organisationId: after.ownerOrganisationId,
      data: { productId: id, market: after.market, status: after.status, changed: Object.keys(changes), version: after.version, productOwnerIds: owners(after.ownerOrganisationId, before.ownerOrganisationId) } }]);
    return after;
  });
}

// ---- Equivalences (UC-04.03) ----

async function selectEquivalence(db: Sql, id: string, forUpdate = false): Promise<Equivalence | undefined> {
  if (!ULID_RE.test(id)) return undefined;
  const [r] = await db.query<EquivalenceRow>(`SELECT ${EQUIVALENCE_COLS} FROM product_equivalence e WHERE e.id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [id]);
  return r ? toEquivalence(r) : undefined;
}

export async function listEquivalences(ctx: Ctx, f: { productId?: string; kind?: string; status?: string }, page: { limit: number; after?: string }) {
  const params: unknown[] = [f.status ?? 'ACTIVE'];
  const conds = ['e.status = $1'];
  if (f.productId) { params.push(f.productId); conds.push(`(e.product_a = $${params.length} OR e.product_b = $${params.length})`); }
  if (f.kind) { params.push(f.kind); conds.push(`e.kind = $${params.length}`); }
  if (page.after) { params.push(page.after); conds.push(`e.id > $${params.length}`); }
  params.push(page.limit + 1);
  const rows = await ctx.db.query<EquivalenceRow>(`SELECT ${EQUIVALENCE_COLS} FROM product_equivalence e WHERE ${conds.join(' AND ')} ORDER BY e.id LIMIT $${params.length}`, params);
  const items = rows.slice(0, page.limit).map(toEquivalence);
  return { items, next: rows.length > page.limit ? items[items.length - 1].id : undefined };
}

/** Active equivalences touching any of these products. */
async function equivalencesOf(db: Sql, productIds: string[]): Promise<Equivalence[]> {
  if (!productIds.length) return [];
  const rows = await db.query<EquivalenceRow>(`SELECT ${EQUIVALENCE_COLS} FROM product_equivalence e WHERE e.status = 'ACTIVE' AND (e.product_a = ANY($1::text[]) OR e.product_b = ANY($1::text[])) ORDER BY e.id`, [productIds]);
  return rows.map(toEquivalence);
}

async function productsById(db: Sql, ids: string[]): Promise<Map<string, Product>> {
  const rows = ids.length ? await db.query<ProductRow>(`SELECT ${PRODUCT_COLS} FROM product p WHERE p.id = ANY($1::text[])`, [ids]) : [];
  return new Map(rows.map((r) => [r.id, toProduct(r)]));
}

/** GET /products/{id}/equivalents: the products an active equivalence relates to this one. */
export async function productEquivalents(ctx: Ctx, id: string) {
  await getProduct(ctx, id);
  const related = relatedProducts(id, await equivalencesOf(ctx.db, [id]));
  const products = await productsById(ctx.db, related.map((r) => r.productId));
  return related.map((r) => ({ product: products.get(r.productId)!, equivalenceId: r.equivalenceId, kind: r.kind, direction: r.direction }));
}

export async function recordEquivalence(ctx: Ctx, actor: Principal, raw: unknown): Promise<Equivalence> {
  const input = parse(EquivalenceInput, raw, 'equivalence');
  if (input.productA === input.productB) throw refuse([fieldError('productB', 'EQUIVALENCE-SELF', `${input.productA} cannot be equivalent to itself.`)]);
  const now = ctx.clock.now();
  const at = now.toISOString();
  const id = ctx.ids.next();
  try {
    return await ctx.db.transaction(async (tx) => {
      const found = await productsById(tx, [input.productA, input.productB]);
      const missing = (['productA', 'productB'] as const).filter((k) => !found.has(input[k]));
      if (missing.length) throw refuse(missing.map((k) => fieldError(k, 'EQUIVALENCE-PRODUCT-UNKNOWN', `No product ${input[k]} in the catalogue.`)));
      const [dup] = await tx.query<{ id: string }>(`SELECT id FROM product_equivalence WHERE status = 'ACTIVE' AND LEAST(product_a, product_b) = LEAST($1, $2) AND GREATEST(product_a, product_b) = GREATEST($1, $2)`, [input.productA, input.productB]);
      if (dup) throw new Problem('EQUIVALENCE-EXISTS', `Equivalence ${dup.id} already relates ${input.productA} and ${input.productB}.`, { equivalenceId: dup.id });
      await tx.query(`INSERT INTO product_equivalence (id, product_a, product_b, kind, notes, status, recorded_at, recorded_by) VALUES ($1, $2, $3, $4, $5, 'ACTIVE', $6::timestamptz, $7)`,
        [id, input.productA, input.productB, input.kind, input.notes ?? null, at, recordedBy(actor)]);
      const eq = (await selectEquivalence(tx, id))!;
      await writeAudit(tx, actor, now, [{ action: 'product-equivalence.recorded', recordType: 'product_equivalence', recordId: id, detail: { productA: eq.productA, productB: eq.productB, kind: eq.kind, notes: eq.notes } }]);
      await writeEvents(tx, ctx.ids, now, [{ type: 'fmar.product-equivalence.recorded', subject: id,
        data: { equivalenceId: id, productA: eq.productA, productB: eq.productB, kind: eq.kind, version: 1, productOwnerIds: owners(found.get(eq.productA)!.ownerOrganisationId, found.get(eq.productB)!.ownerOrganisationId) } }]);
      return eq;
    });
  } catch (e) {
    if (pgErrorCode(e) === '23505' && constraintName(e) === 'product_equivalence_one_per_pair') throw new Problem('EQUIVALENCE-EXISTS', 'An equivalence between these products was recorded concurrently; read the table and retry.');
    throw e;
  }
}

/** Withdraw (never delete): the entry stays readable with status WITHDRAWN. */
export async function withdrawEquivalence(ctx: Ctx, actor: Principal, id: string, opts: { ifMatch?: number; reason?: string } = {}): Promise<Equivalence> {
  const now = ctx.clock.now();
  const at = now.toISOString();
  return ctx.db.transaction(async (tx) => {
    const before = await selectEquivalence(tx, id, true);
    if (!before) throw new Problem('EQUIVALENCE-NOT-FOUND', `No equivalence ${id}.`);
    if (opts.ifMatch !== undefined && before.version !== opts.ifMatch) throw new Problem('REQUEST-PRECONDITION-FAILED', `Equivalence ${id} is at version ${before.version}, not ${opts.ifMatch}.`, { currentVersion: before.version });
    if (before.status === 'WITHDRAWN') throw new Problem('EQUIVALENCE-WITHDRAWN');
    await tx.query(`UPDATE product_equivalence SET status = 'WITHDRAWN', withdrawn_at = $2::timestamptz, version = version + 1 WHERE id = $1`, [id, at]);
    const after = (await selectEquivalence(tx, id))!;
    const found = await productsById(tx, [after.productA, after.productB]);
    await writeAudit(tx, actor, now, [{ action: 'product-equivalence.withdrawn', recordType: 'product_equivalence', recordId: id, detail: { version: after.version, reason: opts.reason ?? null } }]);
    await writeEvents(tx, ctx.ids, now, [{ type: 'fmar.product-equivalence.withdrawn', subject: id,
      data: { equivalenceId: id, productA: after.productA, productB: after.productB, kind: after.kind, version: after.version, productOwnerIds: owners(found.get(after.productA)?.ownerOrganisationId, found.get(after.productB)?.ownerOrganisationId) } }]);
    return after;
  });
}

// ---- Qualification (UC-04.02) ----

/**
 * Record a unit's qualification outcome for a product: only the product's owning System Operator
 * (FMAR records, it does not assess). The new record supersedes the current one for the unit and
 * product; nothing is overwritten. QUALIFIED clears the unit's Re-assessment Required flag.
 */
export async function recordQualification(ctx: Ctx, actor: Principal, unitId: string, raw: unknown): Promise<{ qualification: Qualification; reassessmentCleared: boolean }> {
  const input = parse(QualificationInput, raw, 'qualification');
  const errors = periodErrors(input.validFrom, input.validTo, 'QUALIFICATION-PERIOD');
  if (errors.length) throw refuse(errors);
  const now = ctx.clock.now();
  const at = now.toISOString();
  const id = ctx.ids.next();
  return ctx.db.transaction(async (tx) => {
    // The unit row is locked: records for one unit are written one at a time, so "current" is unambiguous.
    const row = ULID_RE.test(unitId) ? await selectUnit(tx, actor, unitId, { forUpdate: true }) : undefined;
    if (!row) throw new Problem('UNIT-NOT-FOUND', `No market unit ${unitId}.`);
    if (row.status !== 'ACTIVE') throw new Problem('UNIT-DEREGISTERED');
    const productId = input.productId ?? row.product;
    const [p] = await tx.query<ProductRow>(`SELECT ${PRODUCT_COLS} FROM product p WHERE p.id = $1 AND ${productOffered('p', '$2')}`, [productId, at]);
    if (!p) throw refuse([fieldError('productId', 'QUALIFICATION-PRODUCT-UNKNOWN', `${productId} is not an active product of the catalogue.`)]);
    const product = toProduct(p);
    const broken = qualificationRecorder(product, actor.organisationId);
    if (broken === 'QUALIFICATION-PRODUCT-UNOWNED') throw new Problem(broken, `Product ${productId} has no owning System Operator recorded yet.`);
    if (broken) throw new Problem(broken, `Product ${productId} is owned by ${product.ownerOrganisationId}; only it records qualifications for it.`, { ownerOrganisationId: product.ownerOrganisationId });
    const [prev] = await tx.query<{ id: string }>(`SELECT q.id FROM qualification q WHERE q.market_unit_id = $1 AND q.product_id = $2 AND NOT EXISTS (SELECT 1 FROM qualification s WHERE s.supersedes = q.id)`, [unitId, productId]);
    await tx.query(`INSERT INTO qualification (id, market_unit_id, product_id, outcome, valid_from, valid_to, reference, notes, system_operator_id, supersedes, recorded_at, recorded_by)
      VALUES ($1, $2, $3, $4, $5::timestamptz, $6::timestamptz, $7, $8, $9, $10, $11::timestamptz, $12)`,
      [id, unitId, productId, input.outcome, input.validFrom, input.validTo ?? null, input.reference ?? null, input.notes ?? null, actor.organisationId, prev?.id ?? null, at, recordedBy(actor)]);
    const reassessmentCleared = input.outcome === 'QUALIFIED' ? await clearReassessmentIn(tx, actor, unitId, id, now) : false;
    const [q] = await tx.query<QualificationRow>(`SELECT ${QUALIFICATION_COLS} FROM qualification q WHERE q.id = $1`, [id]);
    const qualification = toQualification(q);
    await writeAudit(tx, actor, now, [{ action: 'qualification.recorded', recordType: 'qualification', recordId: id, organisationId: row.fsp_id,
      detail: { marketUnitId: unitId, productId, outcome: qualification.outcome, validFrom: qualification.validFrom, validTo: qualification.validTo, reference: qualification.reference, supersedes: qualification.supersedes, reassessmentCleared } }]);
    await writeEvents(tx, ctx.ids, now, [{ type: 'fmar.qualification.recorded', subject: id, organisationId: actor.organisationId,
      data: { qualificationId: id, marketUnitId: unitId, fspId: row.fsp_id, productId, outcome: qualification.outcome, validFrom: qualification.validFrom, validTo: qualification.validTo,
        supersedes: qualification.supersedes, reassessmentCleared, productOwnerIds: owners(product.ownerOrganisationId) } }]);
    return { qualification, reassessmentCleared };
  });
}

async function visibleUnit(ctx: Ctx, p: Principal, unitId: string) {
  const row = ULID_RE.test(unitId) ? await selectUnit(ctx.db, p, unitId) : undefined;
  if (!row) throw new Problem('UNIT-NOT-FOUND', `No market unit ${unitId}.`);
  return row;
}

/** Every record of a unit (all products, or one), newest first: the history, with `current` marking the live ones. */
export async function unitQualifications(ctx: Ctx, p: Principal, unitId: string, productId?: string): Promise<Qualification[]> {
  await visibleUnit(ctx, p, unitId);
  const params: unknown[] = [unitId];
  if (productId) params.push(productId);
  const rows = await ctx.db.query<QualificationRow>(`SELECT ${QUALIFICATION_COLS} FROM qualification q WHERE q.market_unit_id = $1${productId ? ' AND q.product_id = $2' : ''} ORDER BY q.id DESC`, params);
  return rows.map(toQualification);
}

export interface QualificationFilter { marketUnitId?: string; productId?: string; outcome?: string; systemOperatorId?: string; current?: boolean }

/** Keyset page of the qualifications of the units the caller may read (market-units.read's rule). */
export async function listQualifications(ctx: Ctx, p: Principal, f: QualificationFilter, page: { limit: number; after?: string }) {
  const params: unknown[] = [];
  const conds = [unitVisibility(p, params)];
  const eq = (col: string, v: string | undefined) => { if (v !== undefined) { params.push(v); conds.push(`${col} = $${params.length}`); } };
  eq('q.market_unit_id', f.marketUnitId);
  eq('q.product_id', f.productId);
  eq('q.outcome', f.outcome);
  eq('q.system_operator_id', f.systemOperatorId);
  if (f.current !== undefined) conds.push(`${f.current ? '' : 'NOT '}NOT EXISTS (SELECT 1 FROM qualification s WHERE s.supersedes = q.id)`);
  if (page.after) { params.push(page.after); conds.push(`q.id > $${params.length}`); }
  params.push(page.limit + 1);
  const rows = await ctx.db.query<QualificationRow>(`SELECT ${QUALIFICATION_COLS} FROM qualification q JOIN market_unit u ON u.id = q.market_unit_id WHERE ${conds.join(' AND ')} ORDER BY q.id LIMIT $${params.length}`, params);
  const items = rows.slice(0, page.limit).map(toQualification);
  return { items, next: rows.length > page.limit ? items[items.length - 1].id : undefined };
}

/**
 * Opportunities (UC-04.03): offered products related by an active equivalence to a product the unit
 * holds an active qualification for, that the unit is not actively qualified for.
 */
export async function unitOpportunities(ctx: Ctx, p: Principal, unitId: string) {
  await visibleUnit(ctx, p, unitId);
  const at = ctx.clock.now().toISOString();
  const qualified = [...new Set((await activeQualifications(ctx.db, unitId, at)).map((q) => q.productId))];
  const found = opportunities(qualified, await equivalencesOf(ctx.db, qualified));
  const products = await productsById(ctx.db, found.map((o) => o.productId));
  const now = new Date(at).getTime();
  const offered = (x: Product | undefined): x is Product => !!x && x.status === 'ACTIVE' && (!x.validTo || new Date(x.validTo).getTime() > now);
  return found.filter((o) => offered(products.get(o.productId))).map((o) => ({ product: products.get(o.productId)!, viaProductId: o.viaProductId, equivalenceId: o.equivalenceId, kind: o.kind }));
}
