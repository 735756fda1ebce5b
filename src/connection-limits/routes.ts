import { OpenAPIHono, z } from '@hono/zod-openapi';
import { apiRoute } from '../access/api-route';
import type { AuthEnv } from '../access/auth';
import type { Ctx } from '../context';
import {
  etag,
  Page,
  pageOf,
  decodeCursor,
  idempotency,
  json,
  encodeCursor,
  requireIfMatch,
  problemResponses,
  security,
  validationHook,
} from '../http/common';
import { ConnectionLimit, ConnectionLimitInput, ConnectionLimitPatch, FIRMNESS, LIMIT_STATUSES } from './schema';
import { getLimit, limitHistory, listLimits, recordLimit, updateLimit, withdrawLimit } from './service';

const IdParam = z.object({
  id: z
    .string()
    .max(64)
    .openapi({ param: { name: 'id', in: 'path' }, example: '01JD8X6N2Q7ZB4Y3W5V6T7S8R9' }),
});

/** Connection limits (UC-02.05): docs/connection-limits.md. */
export function connectionLimitRoutes(ctx: Ctx) {
  const app = new OpenAPIHono<AuthEnv>({ defaultHook: validationHook });
  const tags = ['Connection limits'];

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/connection-limits',
      action: 'connection-limits.read',
      tags,
      security,
      summary: 'List the connection limits the caller may read, by ID',
      request: {
        query: Page.extend({
          mpan: z.string().max(13).optional(),
          dnoOrganisationId: z.string().max(64).optional(),
          firmness: z.enum(FIRMNESS).optional(),
          status: z.enum(LIMIT_STATUSES).optional(),
          activeAt: z.iso.datetime({ offset: true }).optional().openapi({ description: 'Only the limits in force at this instant' }),
        }),
      },
      responses: { 200: { description: 'A page of connection limits', content: json(pageOf(ConnectionLimit)) }, ...problemResponses() },
    }),
    async (c) => {
      const { limit, cursor, ...q } = c.req.valid('query');
      const r = await listLimits(ctx, c.get('principal'), q, { limit, after: decodeCursor(cursor) });
      return c.json({ items: r.items, nextCursor: encodeCursor(r.next) }, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/connection-limits',
      action: 'connection-limits.write',
      tags,
      security,
      summary: 'Record the connection limits of a connection point on the caller’s network (UC-02.05); DNOs and IDNOs',
      middleware: [idempotency(ctx.db, ctx.clock)] as const,
      request: {
        body: { required: true, content: json(ConnectionLimitInput) },
        headers: z.object({ 'idempotency-key': z.string().optional() }),
      },
      responses: { 201: { description: 'Recorded', content: json(ConnectionLimit) }, ...problemResponses(403, 409) },
    }),
    async (c) => {
      const l = await recordLimit(ctx, c.get('principal'), c.req.valid('json'));
      c.header('location', `/api/v1/connection-limits/${l.id}`);
      c.header('etag', etag(l.version));
      return c.json(l, 201);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/connection-limits/{id}',
      action: 'connection-limits.read',
      tags,
      security,
      summary: 'Read a connection limit (withdrawn ones too)',
      request: { params: IdParam },
      responses: { 200: { description: 'The connection limit', content: json(ConnectionLimit) }, ...problemResponses(404) },
    }),
    async (c) => {
      const l = await getLimit(ctx, c.get('principal'), c.req.valid('param').id);
      c.header('etag', etag(l.version));
      return c.json(l, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'patch',
      path: '/connection-limits/{id}',
      action: 'connection-limits.write',
      tags,
      security,
      summary: 'Change a connection limit; If-Match required; the DNO/IDNO that recorded it',
      request: {
        params: IdParam,
        body: { required: true, content: json(ConnectionLimitPatch) },
        headers: z.object({ 'if-match': z.string().optional() }),
      },
      responses: { 200: { description: 'Changed', content: json(ConnectionLimit) }, ...problemResponses(404, 409, 412, 428) },
    }),
    async (c) => {
      const l = await updateLimit(ctx, c.get('principal'), c.req.valid('param').id, c.req.valid('json'), requireIfMatch(c));
      c.header('etag', etag(l.version));
      return c.json(l, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'delete',
      path: '/connection-limits/{id}',
      action: 'connection-limits.write',
      tags,
      security,
      summary: 'Withdraw a connection limit (kept, status WITHDRAWN); If-Match required; the DNO/IDNO that recorded it',
      request: {
        params: IdParam,
        query: z.object({ reason: z.string().max(500).optional() }),
        headers: z.object({ 'if-match': z.string().optional() }),
      },
      responses: { 200: { description: 'Withdrawn', content: json(ConnectionLimit) }, ...problemResponses(404, 409, 412, 428) },
    }),
    async (c) => {
      const l = await withdrawLimit(ctx, c.get('principal'), c.req.valid('param').id, requireIfMatch(c), c.req.valid('query').reason);
      c.header('etag', etag(l.version));
      return c.json(l, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/connection-limits/{id}/history',
      action: 'connection-limits.read',
      tags,
      security,
      summary: 'Every version of a connection limit, newest first',
      request: { params: IdParam },
      responses: {
        200: { description: 'Versions', content: json(z.object({ items: z.array(ConnectionLimit) })) },
        ...problemResponses(404),
      },
    }),
    async (c) => c.json({ items: await limitHistory(ctx, c.get('principal'), c.req.valid('param').id) }, 200),
  );

  return app;
}
