import type { Principal } from '../access/principal';
import { recordedBy } from '../access/principal';
import { writeAudit } from '../audit/audit';
import type { Ctx } from '../context';
import { writeEvents } from '../events/outbox';
import { Problem, fieldError } from '../http/problem';
import { ULID_RE } from '../ids';
import { qualificationRecorded } from '../products/hooks';
import { opportunities, periodErrors, qualificationRecorder } from '../products/rules';
import { QualificationInput, type Product, type Qualification } from '../products/schema';
import { equivalencesOf, owners, parse, productsById, refuse } from '../products/service';
import {
  PRODUCT_COLS,
  QUALIFICATION_COLS,
  activeQualifications,
  insertQualification,
  productOffered,
  toProduct,
  toQualification,
  type ProductRow,
  type QualificationRow,
} from '../products/store';
import { selectUnit, unitVisibility } from '../units/store';

/**
 * Qualification (UC-04.02) and opportunities (UC-04.03): the process that joins a market unit
 * (src/units) to a product (src/products). The qualification table is the products module's; this
 * module reads and locks the unit, so neither resource imports the other the wrong way.
 */

/**
 * Record a unit's qualification outcome for a product: only the product's owning System Operator
 * (FMAR records, it does not assess). The new record supersedes the current one for the unit and
 * product; nothing is overwritten. QUALIFIED clears the unit's Re-assessment Required flag.
 */
export async function recordQualification(
  ctx: Ctx,
  actor: Principal,
  unitId: string,
  raw: unknown,
): Promise<{ qualification: Qualification; reassessmentCleared: boolean }> {
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
    const [p] = await tx.query<ProductRow>(`SELECT ${PRODUCT_COLS} FROM product p WHERE p.id = $1 AND ${productOffered('p', '$2')}`, [
      productId,
      at,
    ]);
    if (!p)
      throw refuse([fieldError('productId', 'QUALIFICATION-PRODUCT-UNKNOWN', `${productId} is not an active product of the catalogue.`)]);
    const product = toProduct(p);
    const broken = qualificationRecorder(product, actor.organisationId);
    if (broken === 'QUALIFICATION-PRODUCT-UNOWNED')
      throw new Problem(broken, `Product ${productId} has no owning System Operator recorded yet.`);
    if (broken)
      throw new Problem(broken, `Product ${productId} is owned by ${product.ownerOrganisationId}; only it records qualifications for it.`, {
        ownerOrganisationId: product.ownerOrganisationId,
      });
    await insertQualification(tx, {
      id,
      unitId,
      productId,
      outcome: input.outcome,
      validFrom: input.validFrom,
      validTo: input.validTo ?? null,
      reference: input.reference ?? null,
      notes: input.notes ?? null,
      systemOperatorId: actor.organisationId,
      at,
      by: recordedBy(actor),
    });
    const result = { reassessmentCleared: false };
    await ctx.hooks.run(qualificationRecorded, tx, { ctx, actor, unitId, qualificationId: id, outcome: input.outcome, now, result });
    const { reassessmentCleared } = result;
    const [q] = await tx.query<QualificationRow>(`SELECT ${QUALIFICATION_COLS} FROM qualification q WHERE q.id = $1`, [id]);
    const qualification = toQualification(q);
    await writeAudit(tx, actor, now, [
      {
        action: 'qualification.recorded',
        recordType: 'qualification',
        recordId: id,
        organisationId: row.fsp_id,
        detail: {
          marketUnitId: unitId,
          productId,
          outcome: qualification.outcome,
          validFrom: qualification.validFrom,
          validTo: qualification.validTo,
          reference: qualification.reference,
          supersedes: qualification.supersedes,
          reassessmentCleared,
        },
      },
    ]);
    await writeEvents(tx, ctx.ids, now, [
      {
        type: 'fmar.qualification.recorded',
        subject: id,
        organisationId: actor.organisationId,
        data: {
          qualificationId: id,
          marketUnitId: unitId,
          fspId: row.fsp_id,
          productId,
          outcome: qualification.outcome,
          validFrom: qualification.validFrom,
          validTo: qualification.validTo,
          supersedes: qualification.supersedes,
          reassessmentCleared,
          productOwnerIds: owners(product.ownerOrganisationId),
        },
      },
    ]);
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
  const rows = await ctx.db.query<QualificationRow>(
    `SELECT ${QUALIFICATION_COLS} FROM qualification q WHERE q.market_unit_id = $1${productId ? ' AND q.product_id = $2' : ''} ORDER BY q.id DESC`,
    params,
  );
  return rows.map(toQualification);
}

export interface QualificationFilter {
  marketUnitId?: string;
  productId?: string;
  outcome?: string;
  systemOperatorId?: string;
  current?: boolean;
}

/** Keyset page of the qualifications of the units the caller may read (market-units.read's rule). */
export async function listQualifications(ctx: Ctx, p: Principal, f: QualificationFilter, page: { limit: number; after?: string }) {
  const params: unknown[] = [];
  const conds = [unitVisibility(p, params)];
  const eq = (col: string, v: string | undefined) => {
    if (v !== undefined) {
      params.push(v);
      conds.push(`${col} = $${params.length}`);
    }
  };
  eq('q.market_unit_id', f.marketUnitId);
  eq('q.product_id', f.productId);
  eq('q.outcome', f.outcome);
  eq('q.system_operator_id', f.systemOperatorId);
  if (f.current !== undefined) conds.push(`${f.current ? '' : 'NOT '}NOT EXISTS (SELECT 1 FROM qualification s WHERE s.supersedes = q.id)`);
  if (page.after) {
    params.push(page.after);
    conds.push(`q.id > $${params.length}`);
  }
  params.push(page.limit + 1);
  const rows = await ctx.db.query<QualificationRow>(
    `SELECT ${QUALIFICATION_COLS} FROM qualification q JOIN market_unit u ON u.id = q.market_unit_id WHERE ${conds.join(' AND ')} ORDER BY q.id LIMIT $${params.length}`,
    params,
  );
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
  const products = await productsById(
    ctx.db,
    found.map((o) => o.productId),
  );
  const now = new Date(at).getTime();
  const offered = (x: Product | undefined): x is Product =>
    !!x && x.status === 'ACTIVE' && (!x.validTo || new Date(x.validTo).getTime() > now);
  return found
    .filter((o) => offered(products.get(o.productId)))
    .map((o) => ({ product: products.get(o.productId)!, viaProductId: o.viaProductId, equivalenceId: o.equivalenceId, kind: o.kind }));
}
