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
import { changeVersioned, priorVersions } from '../kernel/versioned';
import { periodErrors, productIdErrors, relatedProducts } from './rules';
import { EquivalenceInput, ProductInput, ProductPatch, type Equivalence, type Product } from './schema';
import { EQUIVALENCE_COLS, PRODUCT_COLS, selectProduct, toEquivalence, toProduct, type EquivalenceRow, type ProductRow } from './store';

/** Products (UC-04.01), qualification (UC-04.02) and the table of equivalences (UC-04.03): docs/products.md. */

export function refuse(errors: FieldError[]): Problem {
  return new Problem(errors[0].code, errors.map((e) => e.detail).join(' '), {}, errors);
}
export function parse<T>(
  schema: { safeParse(raw: unknown): { success: true; data: T } | { success: false; error: z.ZodError } },
  raw: unknown,
  what: string,
): T {
  const r = schema.safeParse(raw);
  if (!r.success) throw new Problem('REQUEST-VALIDATION', `The ${what} is invalid.`, {}, fieldErrorsFromZod(r.error, raw));
  return r.data;
}
export const owners = (...ids: (string | null | undefined)[]) => [...new Set(ids.filter((x): x is string => !!x))].sort();

/** The owner must be an active System Operator organisation (a DNO acting as DSO holds that role too). */
async function checkOwner(tx: Sql, id: string | null | undefined) {
  if (!id) return;
  const [o] = await tx.query(`SELECT 1 FROM organisation WHERE id = $1 AND status = 'ACTIVE' AND 'SYSTEM_OPERATOR' = ANY(roles)`, [id]);
  if (!o)
    throw refuse([
      fieldError('ownerOrganisationId', 'PRODUCT-OWNER-INVALID', `${id} is not an active organisation with the SYSTEM_OPERATOR role.`),
    ]);
}

// ---- Product catalogue (UC-04.01) ----

export interface ProductFilter {
  market?: string;
  status?: string;
  ownerOrganisationId?: string;
  serviceType?: string;
}

export async function listProducts(ctx: Ctx, f: ProductFilter, page: { limit: number; after?: string }) {
  const params: unknown[] = [];
  const conds = ['TRUE'];
  const eq = (col: string, v: string | undefined) => {
    if (v !== undefined) {
      params.push(v);
      conds.push(`${col} = $${params.length}`);
    }
  };
  eq('p.market', f.market);
  eq('p.status', f.status);
  eq('p.owner_organisation_id', f.ownerOrganisationId);
  eq('p.service_type', f.serviceType);
  if (page.after) {
    params.push(page.after);
    conds.push(`p.id > $${params.length}`);
  }
  params.push(page.limit + 1);
  const rows = await ctx.db.query<ProductRow>(
    `SELECT ${PRODUCT_COLS} FROM product p WHERE ${conds.join(' AND ')} ORDER BY p.id LIMIT $${params.length}`,
    params,
  );
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
  return [current, ...(await priorVersions<Product>(ctx.db, 'product', id))];
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
      await tx.query(
        `INSERT INTO product (id, name, description, market, service_type, owner_organisation_id, status, valid_from, valid_to, recorded_at, recorded_by)
        VALUES ($1, $2, $3, $4, $5, $6, 'ACTIVE', $7::timestamptz, $8::timestamptz, $9::timestamptz, $10)`,
        [
          input.id,
          input.name,
          input.description ?? null,
          input.market,
          input.serviceType,
          input.ownerOrganisationId ?? null,
          validFrom,
          input.validTo ?? null,
          at,
          recordedBy(actor),
        ],
      );
      const product = (await selectProduct(tx, input.id))!;
      await writeAudit(tx, actor, now, [
        {
          action: 'product.created',
          recordType: 'product',
          recordId: product.id,
          organisationId: product.ownerOrganisationId,
          detail: { ...product },
        },
      ]);
      await writeEvents(tx, ctx.ids, now, [
        {
          type: 'fmar.product.created',
          subject: product.id,
          organisationId: product.ownerOrganisationId,
          data: {
            productId: product.id,
            market: product.market,
            status: product.status,
            version: 1,
            productOwnerIds: owners(product.ownerOrganisationId),
          },
        },
      ]);
      return product;
    });
  } catch (e) {
    if (pgErrorCode(e) === '23505' && constraintName(e) === 'product_pkey')
      throw new Problem('PRODUCT-ID-TAKEN', `Product ${input.id} is already in the catalogue.`);
    throw e;
  }
}

/** Update with If-Match; `status: INACTIVE` retires the product (validTo defaults to now). The prior version is kept. */
export async function updateProduct(ctx: Ctx, actor: Principal, id: string, raw: unknown, ifMatch: number): Promise<Product> {
  const patch = parse(ProductPatch, raw, 'update');
  const now = ctx.clock.now();
  const at = now.toISOString();
  return ctx.db.transaction(async (tx) => {
    const keys = ['name', 'description', 'serviceType', 'ownerOrganisationId', 'validFrom', 'validTo', 'status'] as const;
    let changes: Record<string, unknown> = {};
    const { after } = await changeVersioned(tx, ctx, actor, now, {
      table: 'product',
      alias: 'p',
      key: { id },
      label: `Product ${id}`,
      returning: PRODUCT_COLS,
      toRecord: toProduct,
      ifMatch,
      lock: async (t) => (id.length <= 64 ? selectProduct(t, id, { forUpdate: true }) : undefined),
      notFound: () => new Problem('PRODUCT-NOT-FOUND', `No product ${id}.`),
      history: 'product',
      set: async (before) => {
        const next: Product = { ...before };
        for (const k of keys) {
          if (patch[k] !== undefined)
            (next as Record<string, unknown>)[k] =
              patch[k] === null ? null : k === 'validFrom' || k === 'validTo' ? new Date(patch[k] as string).toISOString() : patch[k];
        }
        // Retiring without an end date ends the product now (when it has started).
        if (
          next.status === 'INACTIVE' &&
          before.status === 'ACTIVE' &&
          patch.validTo === undefined &&
          !next.validTo &&
          now.getTime() > new Date(next.validFrom).getTime()
        )
          next.validTo = at;
        const errors = periodErrors(next.validFrom, next.validTo, 'PRODUCT-PERIOD');
        if (errors.length) throw refuse(errors);
        if (next.ownerOrganisationId !== before.ownerOrganisationId) await checkOwner(tx, next.ownerOrganisationId);
        changes = Object.fromEntries(keys.filter((k) => before[k] !== next[k]).map((k) => [k, [before[k], next[k]]]));
        return {
          sql: `name = $1, description = $2, service_type = $3, owner_organisation_id = $4, valid_from = $5::timestamptz, valid_to = $6::timestamptz, status = $7`,
          params: [next.name, next.description, next.serviceType, next.ownerOrganisationId, next.validFrom, next.validTo, next.status],
        };
      },
      audit: (before, after) => [
        {
          action: retired(before, after) ? 'product.retired' : 'product.updated',
          recordType: 'product',
          recordId: id,
          organisationId: after.ownerOrganisationId,
          detail: { version: after.version, changes },
        },
      ],
      events: (before, after) => [
        {
          type: retired(before, after) ? 'fmar.product.retired' : 'fmar.product.updated',
          subject: id,
          organisationId: after.ownerOrganisationId,
          data: {
            productId: id,
            market: after.market,
            status: after.status,
            changed: Object.keys(changes),
            version: after.version,
            productOwnerIds: owners(after.ownerOrganisationId, before.ownerOrganisationId),
          },
        },
      ],
    });
    return after;
  });
}

const retired = (before: Product, after: Product) => before.status === 'ACTIVE' && after.status === 'INACTIVE';

// ---- Equivalences (UC-04.03) ----

async function selectEquivalence(db: Sql, id: string, forUpdate = false): Promise<Equivalence | undefined> {
  if (!ULID_RE.test(id)) return undefined;
  const [r] = await db.query<EquivalenceRow>(
    `SELECT ${EQUIVALENCE_COLS} FROM product_equivalence e WHERE e.id = $1${forUpdate ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return r ? toEquivalence(r) : undefined;
}

export async function listEquivalences(
  ctx: Ctx,
  f: { productId?: string; kind?: string; status?: string },
  page: { limit: number; after?: string },
) {
  const params: unknown[] = [f.status ?? 'ACTIVE'];
  const conds = ['e.status = $1'];
  if (f.productId) {
    params.push(f.productId);
    conds.push(`(e.product_a = $${params.length} OR e.product_b = $${params.length})`);
  }
  if (f.kind) {
    params.push(f.kind);
    conds.push(`e.kind = $${params.length}`);
  }
  if (page.after) {
    params.push(page.after);
    conds.push(`e.id > $${params.length}`);
  }
  params.push(page.limit + 1);
  const rows = await ctx.db.query<EquivalenceRow>(
    `SELECT ${EQUIVALENCE_COLS} FROM product_equivalence e WHERE ${conds.join(' AND ')} ORDER BY e.id LIMIT $${params.length}`,
    params,
  );
  const items = rows.slice(0, page.limit).map(toEquivalence);
  return { items, next: rows.length > page.limit ? items[items.length - 1].id : undefined };
}

/** Active equivalences touching any of these products. */
export async function equivalencesOf(db: Sql, productIds: string[]): Promise<Equivalence[]> {
  if (!productIds.length) return [];
  const rows = await db.query<EquivalenceRow>(
    `SELECT ${EQUIVALENCE_COLS} FROM product_equivalence e WHERE e.status = 'ACTIVE' AND (e.product_a = ANY($1::text[]) OR e.product_b = ANY($1::text[])) ORDER BY e.id`,
    [productIds],
  );
  return rows.map(toEquivalence);
}

export async function productsById(db: Sql, ids: string[]): Promise<Map<string, Product>> {
  const rows = ids.length ? await db.query<ProductRow>(`SELECT ${PRODUCT_COLS} FROM product p WHERE p.id = ANY($1::text[])`, [ids]) : [];
  return new Map(rows.map((r) => [r.id, toProduct(r)]));
}

/** GET /products/{id}/equivalents: the products an active equivalence relates to this one. */
export async function productEquivalents(ctx: Ctx, id: string) {
  await getProduct(ctx, id);
  const related = relatedProducts(id, await equivalencesOf(ctx.db, [id]));
  const products = await productsById(
    ctx.db,
    related.map((r) => r.productId),
  );
  return related.map((r) => ({
    product: products.get(r.productId)!,
    equivalenceId: r.equivalenceId,
    kind: r.kind,
    direction: r.direction,
  }));
}

export async function recordEquivalence(ctx: Ctx, actor: Principal, raw: unknown): Promise<Equivalence> {
  const input = parse(EquivalenceInput, raw, 'equivalence');
  if (input.productA === input.productB)
    throw refuse([fieldError('productB', 'EQUIVALENCE-SELF', `${input.productA} cannot be equivalent to itself.`)]);
  const now = ctx.clock.now();
  const at = now.toISOString();
  const id = ctx.ids.next();
  try {
    return await ctx.db.transaction(async (tx) => {
      const found = await productsById(tx, [input.productA, input.productB]);
      const missing = (['productA', 'productB'] as const).filter((k) => !found.has(input[k]));
      if (missing.length)
        throw refuse(missing.map((k) => fieldError(k, 'EQUIVALENCE-PRODUCT-UNKNOWN', `No product ${input[k]} in the catalogue.`)));
      const [dup] = await tx.query<{ id: string }>(
        `SELECT id FROM product_equivalence WHERE status = 'ACTIVE' AND LEAST(product_a, product_b) = LEAST($1, $2) AND GREATEST(product_a, product_b) = GREATEST($1, $2)`,
        [input.productA, input.productB],
      );
      if (dup)
        throw new Problem('EQUIVALENCE-EXISTS', `Equivalence ${dup.id} already relates ${input.productA} and ${input.productB}.`, {
          equivalenceId: dup.id,
        });
      await tx.query(
        `INSERT INTO product_equivalence (id, product_a, product_b, kind, notes, status, recorded_at, recorded_by) VALUES ($1, $2, $3, $4, $5, 'ACTIVE', $6::timestamptz, $7)`,
        [id, input.productA, input.productB, input.kind, input.notes ?? null, at, recordedBy(actor)],
      );
      const eq = (await selectEquivalence(tx, id))!;
      await writeAudit(tx, actor, now, [
        {
          action: 'product-equivalence.recorded',
          recordType: 'product_equivalence',
          recordId: id,
          detail: { productA: eq.productA, productB: eq.productB, kind: eq.kind, notes: eq.notes },
        },
      ]);
      await writeEvents(tx, ctx.ids, now, [
        {
          type: 'fmar.product-equivalence.recorded',
          subject: id,
          data: {
            equivalenceId: id,
            productA: eq.productA,
            productB: eq.productB,
            kind: eq.kind,
            version: 1,
            productOwnerIds: owners(found.get(eq.productA)!.ownerOrganisationId, found.get(eq.productB)!.ownerOrganisationId),
          },
        },
      ]);
      return eq;
    });
  } catch (e) {
    if (pgErrorCode(e) === '23505' && constraintName(e) === 'product_equivalence_one_per_pair')
      throw new Problem('EQUIVALENCE-EXISTS', 'An equivalence between these products was recorded concurrently; read the table and retry.');
    throw e;
  }
}

/** Withdraw (never delete): the entry stays readable with status WITHDRAWN. */
export async function withdrawEquivalence(
  ctx: Ctx,
  actor: Principal,
  id: string,
  opts: { ifMatch?: number; reason?: string } = {},
): Promise<Equivalence> {
  const now = ctx.clock.now();
  const at = now.toISOString();
  return ctx.db.transaction(async (tx) => {
    let found = new Map<string, Product>();
    const { after } = await changeVersioned(tx, ctx, actor, now, {
      table: 'product_equivalence',
      alias: 'e',
      key: { id },
      label: `Equivalence ${id}`,
      returning: EQUIVALENCE_COLS,
      toRecord: toEquivalence,
      ifMatch: opts.ifMatch,
      lock: (t) => selectEquivalence(t, id, true),
      notFound: () => new Problem('EQUIVALENCE-NOT-FOUND', `No equivalence ${id}.`),
      set: async (before) => {
        if (before.status === 'WITHDRAWN') throw new Problem('EQUIVALENCE-WITHDRAWN');
        found = await productsById(tx, [before.productA, before.productB]);
        return { sql: `status = 'WITHDRAWN', withdrawn_at = $1::timestamptz`, params: [at] };
      },
      audit: (_, after) => [
        {
          action: 'product-equivalence.withdrawn',
          recordType: 'product_equivalence',
          recordId: id,
          detail: { version: after.version, reason: opts.reason ?? null },
        },
      ],
      events: (_, after) => [
        {
          type: 'fmar.product-equivalence.withdrawn',
          subject: id,
          data: {
            equivalenceId: id,
            productA: after.productA,
            productB: after.productB,
            kind: after.kind,
            version: after.version,
            productOwnerIds: owners(found.get(after.productA)?.ownerOrganisationId, found.get(after.productB)?.ownerOrganisationId),
          },
        },
      ],
    });
    return after;
  });
}

// ---- Qualification (UC-04.02) ----
