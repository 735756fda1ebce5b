import { OpenAPIHono, z } from '@hono/zod-openapi';
import { apiRoute } from '../access/api-route';
import type { AuthEnv } from '../access/auth';
import { Asset } from '../assets/schema';
import { DataRead } from '../audit/routes';
import type { Ctx } from '../context';
import {
  Page,
  decodeCursor,
  encodeCursor,
  etag,
  idempotency,
  json,
  pageOf,
  problemResponses,
  requireIfMatch,
  security,
  validationHook,
} from '../http/common';
import { Problem } from '../http/problem';
import { Organisation } from '../organisations/schema';
import { DataShare, DataShareInput, DataSharePatch, SHARE_STATUSES } from './schema';
import {
  getShare,
  grantShare,
  listShares,
  pullAsset,
  pullAssets,
  pullPassport,
  revokeShare,
  shareHistory,
  sharePulls,
  updateShare,
} from './service';

const id = z
  .string()
  .max(64)
  .openapi({ param: { name: 'id', in: 'path' }, example: '01JD8X6N2Q7ZB4Y3W5V6T7S8R9' });
const IdParam = z.object({ id });

/** Data shares (UC-05.01): docs/sharing.md. */
export function sharingRoutes(ctx: Ctx) {
  const app = new OpenAPIHono<AuthEnv>({ defaultHook: validationHook });
  const tags = ['Data shares'];

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/data-shares',
      action: 'data-shares.read',
      tags,
      security,
      summary: 'List the data shares the caller granted or that name it as the platform, by ID',
      request: {
        query: Page.extend({
          role: z
            .enum(['owner', 'recipient'])
            .optional()
            .openapi({ description: 'owner: the shares the caller granted; recipient: those made to it' }),
          ownerId: z.string().max(64).optional(),
          recipientId: z.string().max(64).optional(),
          status: z.enum(SHARE_STATUSES).optional(),
          liveAt: z.iso.datetime({ offset: true }).optional().openapi({ description: 'Only the shares live at this instant' }),
        }),
      },
      responses: { 200: { description: 'A page of data shares', content: json(pageOf(DataShare)) }, ...problemResponses() },
    }),
    async (c) => {
      const { limit, cursor, ...q } = c.req.valid('query');
      const r = await listShares(ctx, c.get('principal'), q, { limit, after: decodeCursor(cursor) });
      return c.json({ items: r.items, nextCursor: encodeCursor(r.next) }, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/data-shares',
      action: 'data-shares.write',
      tags,
      security,
      summary: 'Share the caller’s passport (and its assets, all or listed) with a platform organisation for a period (UC-05.01)',
      middleware: [idempotency(ctx.db, ctx.clock)] as const,
      request: {
        body: { required: true, content: json(DataShareInput) },
        headers: z.object({ 'idempotency-key': z.string().optional() }),
      },
      responses: { 201: { description: 'Granted', content: json(DataShare) }, ...problemResponses(409) },
    }),
    async (c) => {
      const s = await grantShare(ctx, c.get('principal'), c.req.valid('json'));
      c.header('location', `/api/v1/data-shares/${s.id}`);
      c.header('etag', etag(s.version));
      return c.json(s, 201);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/data-shares/{id}',
      action: 'data-shares.read',
      tags,
      security,
      summary: 'Read a data share (revoked and ended ones too)',
      request: { params: IdParam },
      responses: { 200: { description: 'The data share', content: json(DataShare) }, ...problemResponses(404) },
    }),
    async (c) => {
      const s = await getShare(ctx, c.get('principal'), c.req.valid('param').id);
      c.header('etag', etag(s.version));
      return c.json(s, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'patch',
      path: '/data-shares/{id}',
      action: 'data-shares.write',
      tags,
      security,
      summary:
        'Change what a data share covers (narrow it: fewer assets, an earlier end) or its period; If-Match required; the granting organisation',
      request: {
        params: IdParam,
        body: { required: true, content: json(DataSharePatch) },
        headers: z.object({ 'if-match': z.string().optional() }),
      },
      responses: { 200: { description: 'Changed', content: json(DataShare) }, ...problemResponses(404, 409, 412, 428) },
    }),
    async (c) => {
      const s = await updateShare(ctx, c.get('principal'), c.req.valid('param').id, c.req.valid('json'), requireIfMatch(c));
      c.header('etag', etag(s.version));
      return c.json(s, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'delete',
      path: '/data-shares/{id}',
      action: 'data-shares.write',
      tags,
      security,
      summary:
        'Revoke a data share (kept, status REVOKED): no pull is served through it from now; If-Match required; the granting organisation',
      request: {
        params: IdParam,
        query: z.object({ reason: z.string().max(500).optional() }),
        headers: z.object({ 'if-match': z.string().optional() }),
      },
      responses: { 200: { description: 'Revoked', content: json(DataShare) }, ...problemResponses(404, 409, 412, 428) },
    }),
    async (c) => {
      const s = await revokeShare(ctx, c.get('principal'), c.req.valid('param').id, requireIfMatch(c), c.req.valid('query').reason);
      c.header('etag', etag(s.version));
      return c.json(s, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/data-shares/{id}/history',
      action: 'data-shares.read',
      tags,
      security,
      summary: 'Every version of a data share, newest first',
      request: { params: IdParam },
      responses: { 200: { description: 'Versions', content: json(z.object({ items: z.array(DataShare) })) }, ...problemResponses(404) },
    }),
    async (c) => c.json({ items: await shareHistory(ctx, c.get('principal'), c.req.valid('param').id) }, 200),
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/data-shares/{id}/pulls',
      action: 'data-shares.read',
      tags,
      security,
      summary: 'Every pull made through a data share, oldest first: who, when, through which route, which records',
      request: { params: IdParam, query: Page },
      responses: { 200: { description: 'The pulls', content: json(pageOf(DataRead)) }, ...problemResponses(404) },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid('query');
      const after = decodeCursor(cursor);
      if (after !== undefined && !/^\d{1,19}$/.test(after)) throw new Problem('REQUEST-CURSOR-INVALID');
      const r = await sharePulls(ctx, c.get('principal'), c.req.valid('param').id, { limit, after });
      return c.json({ items: r.items, nextCursor: encodeCursor(r.next) }, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/data-shares/{id}/passport',
      action: 'data-shares.pull',
      tags,
      security,
      summary: 'Pull the granting organisation’s record with its passport, while the share is live; the platform named only',
      request: { params: IdParam },
      responses: { 200: { description: 'The organisation with its passport', content: json(Organisation) }, ...problemResponses(403, 404) },
    }),
    async (c) => c.json(await pullPassport(ctx, c.get('principal'), c.req.valid('param').id), 200),
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/data-shares/{id}/assets',
      action: 'data-shares.pull',
      tags,
      security,
      summary: 'Pull the assets the share covers now, by ID, while it is live; the platform named only',
      request: { params: IdParam, query: Page },
      responses: { 200: { description: 'A page of shared assets', content: json(pageOf(Asset)) }, ...problemResponses(403, 404) },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid('query');
      const r = await pullAssets(ctx, c.get('principal'), c.req.valid('param').id, { limit, after: decodeCursor(cursor) });
      return c.json({ items: r.items, nextCursor: encodeCursor(r.next) }, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/data-shares/{id}/assets/{assetId}',
      action: 'data-shares.pull',
      tags,
      security,
      summary: 'Pull one asset the share covers now, while it is live; the platform named only',
      request: {
        params: z.object({
          id,
          assetId: z
            .string()
            .max(64)
            .openapi({ param: { name: 'assetId', in: 'path' } }),
        }),
      },
      responses: { 200: { description: 'The asset', content: json(Asset) }, ...problemResponses(403, 404) },
    }),
    async (c) => {
      const { id: shareId, assetId } = c.req.valid('param');
      return c.json(await pullAsset(ctx, c.get('principal'), shareId, assetId), 200);
    },
  );

  return app;
}
