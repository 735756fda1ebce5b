import { OpenAPIHono, z } from '@hono/zod-openapi';
import { apiRoute } from '../access/api-route';
import type { AuthEnv } from '../access/auth';
import type { Ctx } from '../context';
import {
  etag,
  Page,
  pageOf,
  parseIfMatch,
  decodeCursor,
  idempotency,
  json,
  encodeCursor,
  requireIfMatch,
  problemResponses,
  security,
  validationHook,
} from '../http/common';
import {
  Equivalence,
  EquivalenceInput,
  EQUIVALENCE_KINDS,
  EQUIVALENCE_STATUSES,
  Equivalent,
  PRODUCT_MARKETS,
  PRODUCT_STATUSES,
  Product,
  ProductInput,
  ProductPatch,
  SERVICE_TYPES,
} from './schema';
import {
  createProduct,
  getProduct,
  listEquivalences,
  listProducts,
  productEquivalents,
  productHistory,
  recordEquivalence,
  updateProduct,
  withdrawEquivalence,
} from './service';

const IdParam = z.object({
  id: z
    .string()
    .max(64)
    .openapi({ param: { name: 'id', in: 'path' }, example: 'NESO-DFS' }),
});
const UnitParam = z.object({
  id: z
    .string()
    .max(64)
    .openapi({ param: { name: 'id', in: 'path' }, example: '01JD8X6N2Q7ZB4Y3W5V6T7S8R9' }),
});

/** The product catalogue and the table of equivalences (UC-04.01, UC-04.03): docs/products.md. */
export function productRoutes(ctx: Ctx) {
  const app = new OpenAPIHono<AuthEnv>({ defaultHook: validationHook });
  const tags = ['Products'];

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/products',
      action: 'products.read',
      tags,
      security,
      summary: 'List the product catalogue',
      request: {
        query: Page.extend({
          market: z.enum(PRODUCT_MARKETS).optional(),
          status: z.enum(PRODUCT_STATUSES).optional(),
          ownerOrganisationId: z.string().max(64).optional(),
          serviceType: z.enum(SERVICE_TYPES).optional(),
        }),
      },
      responses: { 200: { description: 'A page of products, by ID', content: json(pageOf(Product)) }, ...problemResponses() },
    }),
    async (c) => {
      const { limit, cursor, ...q } = c.req.valid('query');
      const r = await listProducts(ctx, q, { limit, after: decodeCursor(cursor) });
      return c.json({ items: r.items, nextCursor: encodeCursor(r.next) }, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/products',
      action: 'products.write',
      tags,
      security,
      summary: 'Add a product to the catalogue (UC-04.01); the operator',
      middleware: [idempotency(ctx.db, ctx.clock)] as const,
      request: { body: { required: true, content: json(ProductInput) }, headers: z.object({ 'idempotency-key': z.string().optional() }) },
      responses: { 201: { description: 'Created', content: json(Product) }, ...problemResponses(409) },
    }),
    async (c) => {
      const p = await createProduct(ctx, c.get('principal'), c.req.valid('json'));
      c.header('location', `/api/v1/products/${p.id}`);
      c.header('etag', etag(p.version));
      return c.json(p, 201);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/products/{id}',
      action: 'products.read',
      tags,
      security,
      summary: 'Read a product (retired ones too)',
      request: { params: IdParam },
      responses: { 200: { description: 'The product', content: json(Product) }, ...problemResponses(404) },
    }),
    async (c) => {
      const p = await getProduct(ctx, c.req.valid('param').id);
      c.header('etag', etag(p.version));
      return c.json(p, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'patch',
      path: '/products/{id}',
      action: 'products.write',
      tags,
      security,
      summary: 'Update or retire (status INACTIVE) a product; If-Match required; the operator',
      request: {
        params: IdParam,
        body: { required: true, content: json(ProductPatch) },
        headers: z.object({ 'if-match': z.string().optional() }),
      },
      responses: { 200: { description: 'Updated', content: json(Product) }, ...problemResponses(404, 412, 428) },
    }),
    async (c) => {
      const p = await updateProduct(ctx, c.get('principal'), c.req.valid('param').id, c.req.valid('json'), requireIfMatch(c));
      c.header('etag', etag(p.version));
      return c.json(p, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/products/{id}/history',
      action: 'products.read',
      tags,
      security,
      summary: 'Every version of a product, newest first',
      request: { params: IdParam },
      responses: { 200: { description: 'Versions', content: json(z.object({ items: z.array(Product) })) }, ...problemResponses(404) },
    }),
    async (c) => c.json({ items: await productHistory(ctx, c.req.valid('param').id) }, 200),
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/products/{id}/equivalents',
      action: 'products.read',
      tags,
      security,
      summary: 'The products an active equivalence relates to this one (UC-04.03)',
      request: { params: IdParam },
      responses: {
        200: { description: 'Related products', content: json(z.object({ items: z.array(Equivalent) })) },
        ...problemResponses(404),
      },
    }),
    async (c) => c.json({ items: await productEquivalents(ctx, c.req.valid('param').id) }, 200),
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/product-equivalences',
      action: 'products.read',
      tags,
      security,
      summary: 'The table of equivalences (ACTIVE unless a status is asked for)',
      request: {
        query: Page.extend({
          productId: z.string().max(64).optional(),
          kind: z.enum(EQUIVALENCE_KINDS).optional(),
          status: z.enum(EQUIVALENCE_STATUSES).optional(),
        }),
      },
      responses: { 200: { description: 'A page of equivalences', content: json(pageOf(Equivalence)) }, ...problemResponses() },
    }),
    async (c) => {
      const { limit, cursor, ...q } = c.req.valid('query');
      const r = await listEquivalences(ctx, q, { limit, after: decodeCursor(cursor) });
      return c.json({ items: r.items, nextCursor: encodeCursor(r.next) }, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/product-equivalences',
      action: 'products.write',
      tags,
      security,
      summary: 'Record an equivalence between two products (UC-04.03); the operator',
      middleware: [idempotency(ctx.db, ctx.clock)] as const,
      request: {
        body: { required: true, content: json(EquivalenceInput) },
        headers: z.object({ 'idempotency-key': z.string().optional() }),
      },
      responses: { 201: { description: 'Recorded', content: json(Equivalence) }, ...problemResponses(409) },
    }),
    async (c) => {
      const e = await recordEquivalence(ctx, c.get('principal'), c.req.valid('json'));
      c.header('location', `/api/v1/product-equivalences/${e.id}`);
      c.header('etag', etag(e.version));
      return c.json(e, 201);
    },
  );

  app.openapi(
    apiRoute({
      method: 'delete',
      path: '/product-equivalences/{id}',
      action: 'products.write',
      tags,
      security,
      summary: 'Withdraw an equivalence (kept, status WITHDRAWN); the operator',
      request: {
        params: UnitParam,
        query: z.object({ reason: z.string().max(500).optional() }),
        headers: z.object({ 'if-match': z.string().optional() }),
      },
      responses: { 200: { description: 'Withdrawn', content: json(Equivalence) }, ...problemResponses(404, 409, 412) },
    }),
    async (c) => {
      const h = c.req.header('if-match');
      const e = await withdrawEquivalence(ctx, c.get('principal'), c.req.valid('param').id, {
        ifMatch: h ? parseIfMatch(h) : undefined,
        reason: c.req.valid('query').reason,
      });
      c.header('etag', etag(e.version));
      return c.json(e, 200);
    },
  );

  return app;
}
