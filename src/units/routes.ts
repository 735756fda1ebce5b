import { OpenAPIHono, z } from '@hono/zod-openapi';
import { apiRoute } from '../access/api-route';
import type { AuthEnv } from '../access/auth';
import type { Ctx } from '../context';
import {
  etag,
  Page,
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
import { MarketUnit, MarketUnitInput, MarketUnitPatch, MarketUnitWithWarnings, ReassignInput, UNIT_STATUSES } from './schema';
import {
  createMarketUnit,
  deregisterMarketUnit,
  getMarketUnit,
  listMarketUnits,
  marketUnitHistory,
  reassignMarketUnit,
  updateMarketUnit,
} from './service';

const tags = ['Market units'];
const IdParam = z.object({
  id: z
    .string()
    .max(64)
    .openapi({ param: { name: 'id', in: 'path' }, example: '01JD8X6N2Q7ZB4Y3W5V6T7S8R9' }),
});

/** Market units (UC-03.01 to UC-03.04): docs/units.md. */
export function marketUnitRoutes(ctx: Ctx) {
  const app = new OpenAPIHono<AuthEnv>({ defaultHook: validationHook });

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/',
      action: 'market-units.read',
      tags,
      security,
      summary: 'List visible market units (FSPs their own; DNOs those with assets on their networks)',
      request: {
        query: Page.extend({
          fspId: z.string().max(64).optional(),
          product: z.string().max(32).optional(),
          assetId: z.string().max(64).optional(),
          status: z.enum(UNIT_STATUSES).optional(),
        }),
      },
      responses: {
        200: {
          description: 'A page of visible units (ACTIVE unless a status is asked for)',
          content: json(z.object({ items: z.array(MarketUnit), nextCursor: z.string().nullable() })),
        },
        ...problemResponses(),
      },
    }),
    async (c) => {
      const { limit, cursor, ...q } = c.req.valid('query');
      const page = await listMarketUnits(ctx, c.get('principal'), q, { limit, after: decodeCursor(cursor) });
      return c.json({ items: page.items, nextCursor: encodeCursor(page.next) }, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/',
      action: 'market-units.write',
      tags,
      security,
      summary: 'Create a market unit (UC-03.01)',
      middleware: [idempotency(ctx.db, ctx.clock)] as const,
      request: {
        body: { required: true, content: json(MarketUnitInput) },
        headers: z.object({ 'idempotency-key': z.string().optional() }),
      },
      responses: { 201: { description: 'Created, with any warnings', content: json(MarketUnitWithWarnings) }, ...problemResponses(409) },
    }),
    async (c) => {
      const { unit, warnings } = await createMarketUnit(ctx, c.get('principal'), c.req.valid('json'));
      c.header('location', `/api/v1/market-units/${unit.id}`);
      c.header('etag', etag(unit.version));
      return c.json({ ...unit, warnings }, 201);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/{id}',
      action: 'market-units.read',
      tags,
      security,
      summary: 'Read a market unit; de-registered units still resolve',
      request: { params: IdParam },
      responses: { 200: { description: 'The unit', content: json(MarketUnit) }, ...problemResponses(404) },
    }),
    async (c) => {
      const unit = await getMarketUnit(ctx, c.get('principal'), c.req.valid('param').id);
      c.header('etag', etag(unit.version));
      return c.json(unit, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'patch',
      path: '/{id}',
      action: 'market-units.write',
      tags,
      security,
      summary: 'Change a market unit’s name, type or composition (UC-03.03); If-Match required',
      request: {
        params: IdParam,
        body: { required: true, content: json(MarketUnitPatch) },
        headers: z.object({ 'if-match': z.string().optional() }),
      },
      responses: {
        200: { description: 'Updated, with any warnings', content: json(MarketUnitWithWarnings) },
        ...problemResponses(404, 409, 412, 428),
      },
    }),
    async (c) => {
      const { unit, warnings } = await updateMarketUnit(
        ctx,
        c.get('principal'),
        c.req.valid('param').id,
        c.req.valid('json'),
        requireIfMatch(c),
      );
      c.header('etag', etag(unit.version));
      return c.json({ ...unit, warnings }, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'delete',
      path: '/{id}',
      action: 'market-units.write',
      tags,
      security,
      summary:
        'De-register a market unit (UC-03.04): soft delete, refused while a confirmed contract or an active qualification holds it; its assets stay registered',
      request: {
        params: IdParam,
        query: z.object({ reason: z.string().max(500).optional() }),
        headers: z.object({ 'if-match': z.string().optional() }),
      },
      responses: { 200: { description: 'De-registered', content: json(MarketUnit) }, ...problemResponses(404, 409, 412) },
    }),
    async (c) => {
      const h = c.req.header('if-match');
      const unit = await deregisterMarketUnit(ctx, c.get('principal'), c.req.valid('param').id, {
        ifMatch: h ? parseIfMatch(h) : undefined,
        reason: c.req.valid('query').reason,
      });
      c.header('etag', etag(unit.version));
      return c.json(unit, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/{id}/history',
      action: 'market-units.read',
      tags,
      security,
      summary: 'Every version of a market unit, newest first',
      request: { params: IdParam },
      responses: { 200: { description: 'Versions', content: json(z.object({ items: z.array(MarketUnit) })) }, ...problemResponses(404) },
    }),
    async (c) => c.json({ items: await marketUnitHistory(ctx, c.get('principal'), c.req.valid('param').id) }, 200),
  );

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/{id}/reassign',
      action: 'market-units.reassign',
      tags,
      security,
      summary: 'Re-assign a market unit to a new FSP (UC-03.02); the operator',
      request: { params: IdParam, body: { required: true, content: json(ReassignInput) } },
      responses: { 200: { description: 'Re-assigned', content: json(MarketUnit) }, ...problemResponses(404, 409) },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const unit = await reassignMarketUnit(ctx, c.get('principal'), c.req.valid('param').id, body.fspId, body.reason);
      c.header('etag', etag(unit.version));
      return c.json(unit, 200);
    },
  );

  return app;
}
