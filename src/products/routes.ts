import { OpenAPIHono, z } from '@hono/zod-openapi';
import { apiRoute } from '../access/api-route';
import type { AuthEnv } from '../access/auth';
import type { Ctx } from '../context';
import { Page, decodeCursor, encodeCursor, etag, idempotency, parseIfMatch, problemResponses, requireIfMatch, security, validationHook } from '../http/common';
import { Equivalence, EquivalenceInput, EQUIVALENCE_KINDS, EQUIVALENCE_STATUSES, Equivalent, Opportunity, PRODUCT_MARKETS, PRODUCT_STATUSES, Product, ProductInput, ProductPatch, QUALIFICATION_OUTCOMES, Qualification, QualificationInput, SERVICE_TYPES } from './schema';
import {
  createProduct, getProduct, listEquivalences, listProducts, listQualifications, productEquivalents, productHistory, recordEquivalence, recordQualification,
  unitOpportunities, unitQualifications, updateProduct, withdrawEquivalence,
} from './service';

const json = <T extends z.ZodTypeAny>(schema: T) => ({ 'application/json': { schema } });
const IdParam = z.object({ id: z.string().max(64).openapi({ param: { name: 'id', in: 'path' }, example: 'NESO-DFS' }) });
const UnitParam = z.object({ id: z.string().max(64).openapi({ param: { name: 'id', in: 'path' }, example: '01JD8X6N2Q7ZB4Y3W5V6T7S8R9' }) });
const page = <T extends z.ZodTypeAny>(item: T) => z.object({ items: z.array(item), nextCursor: z.string().nullable() });

/** The product catalogue and the table of equivalences (UC-04.01, UC-04.03): docs/products.md. */
export function productRoutes(ctx: Ctx) {
  const app = new OpenAPIHono<AuthEnv>({ defaultHook: validationHook });
  const tags = ['Products'];

  app.openapi(apiRoute({
    method: 'get', path: '/products', action: 'products.read', tags, security, summary: 'List the product catalogue',
    request: { query: Page.extend({ market: z.enum(PRODUCT_MARKETS).optional(), status: z.enum(PRODUCT_STATUSES).optional(), ownerOrganisationId: z.string().max(64).optional(), serviceType: z.enum(SERVICE_TYPES).optional() }) },
    responses: { 200: { description: 'A page of products, by ID', content: json(page(Product)) }, ...problemResponses() },
  }), async (c) => {
    const { limit, cursor, ...q } = c.req.valid('query');
    const r = await listProducts(ctx, q, { limit, after: decodeCursor(cursor) });
    return c.json({ items: r.items, nextCursor: encodeCursor(r.next) }, 200);
  });

  app.openapi(apiRoute({
    method: 'post', path: '/products', action: 'products.write', tags, security, summary: 'Add a product to the catalogue (UC-04.01); the operator',
    middleware: [idempotency(ctx.db, ctx.clock)] as const,
    request: { body: { required: true, content: json(ProductInput) }, headers: z.object({ 'idempotency-key': z.string().optional() }) },
    responses: { 201: { description: 'Created', content: json(Product) }, ...problemResponses(409) },
  }), async (c) => {
    const p = await createProduct(ctx, c.get('principal'), c.req.valid('json'));
    c.header('location', `/api/v1/products/${p.id}`);
    c.header('etag', etag(p.version));
    return c.json(p, 201);
  });

  app.openapi(apiRoute({
    method: 'get', path: '/products/{id}', action: 'products.read', tags, security, summary: 'Read a product (retired ones too)',
    request: { params: IdParam },
    responses: { 200: { description: 'The product', content: json(Product) }, ...problemResponses(404) },
  }), async (c) => {
    const p = await getProduct(ctx, c.req.valid('param').id);
    c.header('etag', etag(p.version));
    return c.json(p, 200);
  });

  app.openapi(apiRoute({
    method: 'patch', path: '/products/{id}', action: 'products.write', tags, security, summary: 'Update or retire (status INACTIVE) a product; If-Match required; the operator',
    request: { params: IdParam, body: { required: true, content: json(ProductPatch) }, headers: z.object({ 'if-match': z.string().optional() }) },
    responses: { 200: { description: 'Updated', content: json(Product) }, ...problemResponses(404, 412, 428) },
  }), async (c) => {
    const p = await updateProduct(ctx, c.get('principal'), c.req.valid('param').id, c.req.valid('json'), requireIfMatch(c));
    c.header('etag', etag(p.version));
    return c.json(p, 200);
  });

  app.openapi(apiRoute({
    method: 'get', path: '/products/{id}/history', action: 'products.read', tags, security, summary: 'Every version of a product, newest first',
    request: { params: IdParam },
    responses: { 200: { description: 'Versions', content: json(z.object({ items: z.array(Product) })) }, ...problemResponses(404) },
  }), async (c) => c.json({ items: await productHistory(ctx, c.req.valid('param').id) }, 200));

  app.openapi(apiRoute({
    method: 'get', path: '/products/{id}/equivalents', action: 'products.read', tags, security, summary: 'The products an active equivalence relates to this one (UC-04.03)',
    request: { params: IdParam },
    responses: { 200: { description: 'Related products', content: json(z.object({ items: z.array(Equivalent) })) }, ...problemResponses(404) },
  }), async (c) => c.json({ items: await productEquivalents(ctx, c.req.valid('param').id) }, 200));

  app.openapi(apiRoute({
    method: 'get', path: '/product-equivalences', action: 'products.read', tags, security, summary: 'The table of equivalences (ACTIVE unless a status is asked for)',
    request: { query: Page.extend({ productId: z.string().max(64).optional(), kind: z.enum(EQUIVALENCE_KINDS).optional(), status: z.enum(EQUIVALENCE_STATUSES).optional() }) },
    responses: { 200: { description: 'A page of equivalences', content: json(page(Equivalence)) }, ...problemResponses() },
  }), async (c) => {
    const { limit, cursor, ...q } = c.req.valid('query');
    const r = await listEquivalences(ctx, q, { limit, after: decodeCursor(cursor) });
    return c.json({ items: r.items, nextCursor: encodeCursor(r.next) }, 200);
  });

  app.openapi(apiRoute({
    method: 'post', path: '/product-equivalences', action: 'products.write', tags, security, summary: 'Record an equivalence between two products (UC-04.03); the operator',
    middleware: [idempotency(ctx.db, ctx.clock)] as const,
    request: { body: { required: true, content: json(EquivalenceInput) }, headers: z.object({ 'idempotency-key': z.string().optional() }) },
    responses: { 201: { description: 'Recorded', content: json(Equivalence) }, ...problemResponses(409) },
  }), async (c) => {
    const e = await recordEquivalence(ctx, c.get('principal'), c.req.valid('json'));
    c.header('location', `/api/v1/product-equivalences/${e.id}`);
    c.header('etag', etag(e.version));
    return c.json(e, 201);
  });

  app.openapi(apiRoute({
    method: 'delete', path: '/product-equivalences/{id}', action: 'products.write', tags, security, summary: 'Withdraw an equivalence (kept, status WITHDRAWN); the operator',
    request: { params: UnitParam, query: z.object({ reason: z.string().max(500).optional() }), headers: z.object({ 'if-match': z.string().optional() }) },
    responses: { 200: { description: 'Withdrawn', content: json(Equivalence) }, ...problemResponses(404, 409, 412) },
  }), async (c) => {
    const h = c.req.header('if-match');
    const e = await withdrawEquivalence(ctx, c.get('principal'), c.req.valid('param').id, { ifMatch: h ? parseIfMatch(h) : undefined, reason: c.req.valid('query').reason });
    c.header('etag', etag(e.version));
    return c.json(e, 200);
  });

  return app;
}

/** Qualification (UC-04.02) and opportunities (UC-04.03) of market units: docs/products.md. */
export function qualificationRoutes(ctx: Ctx) {
  const app = new OpenAPIHono<AuthEnv>({ defaultHook: validationHook });
  const tags = ['Qualification'];

  app.openapi(apiRoute({
    method: 'post', path: '/market-units/{id}/qualifications', action: 'qualifications.record', tags, security, summary: 'Record a qualification outcome for a unit and product (UC-04.02); the product’s System Operator',
    middleware: [idempotency(ctx.db, ctx.clock)] as const,
    request: { params: UnitParam, body: { required: true, content: json(QualificationInput) }, headers: z.object({ 'idempotency-key': z.string().optional() }) },
    responses: { 201: { description: 'Recorded; it supersedes the previous record for the unit and product', content: json(Qualification.extend({ reassessmentCleared: z.boolean() })) }, ...problemResponses(404, 409) },
  }), async (c) => {
    const { qualification, reassessmentCleared } = await recordQualification(ctx, c.get('principal'), c.req.valid('param').id, c.req.valid('json'));
    c.header('location', `/api/v1/market-units/${qualification.marketUnitId}/qualifications`);
    return c.json({ ...qualification, reassessmentCleared }, 201);
  });

  app.openapi(apiRoute({
    method: 'get', path: '/market-units/{id}/qualifications', action: 'market-units.read', tags, security, summary: 'Every qualification record of a unit, newest first (current ones marked)',
    request: { params: UnitParam, query: z.object({ productId: z.string().max(64).optional() }) },
    responses: { 200: { description: 'Records', content: json(z.object({ items: z.array(Qualification) })) }, ...problemResponses(404) },
  }), async (c) => c.json({ items: await unitQualifications(ctx, c.get('principal'), c.req.valid('param').id, c.req.valid('query').productId) }, 200));

  app.openapi(apiRoute({
    method: 'get', path: '/market-units/{id}/opportunities', action: 'market-units.read', tags, security, summary: 'Products equivalent to those the unit is qualified for, that it is not yet qualified for (UC-04.03)',
    request: { params: UnitParam },
    responses: { 200: { description: 'Opportunities', content: json(z.object({ items: z.array(Opportunity) })) }, ...problemResponses(404) },
  }), async (c) => c.json({ items: await unitOpportunities(ctx, c.get('principal'), c.req.valid('param').id) }, 200));

  app.openapi(apiRoute({
    method: 'get', path: '/qualifications', action: 'market-units.read', tags, security, summary: 'List qualifications of the units the caller may read',
    request: { query: Page.extend({
      marketUnitId: z.string().max(64).optional(), productId: z.string().max(64).optional(), outcome: z.enum(QUALIFICATION_OUTCOMES).optional(), systemOperatorId: z.string().max(64).optional(),
      current: z.enum(['true', 'false']).optional().openapi({ description: 'true: only records no later one supersedes' }),
    }) },
    responses: { 200: { description: 'A page of records, by ID', content: json(page(Qualification)) }, ...problemResponses() },
  }), async (c) => {
    const { limit, cursor, current, ...q } = c.req.valid('query');
    const r = await listQualifications(ctx, c.get('principal'), { ...q, current: current === undefined ? undefined : current === 'true' }, { limit, after: decodeCursor(cursor) });
    return c.json({ items: r.items, nextCursor: encodeCursor(r.next) }, 200);
  });

  return app;
}
