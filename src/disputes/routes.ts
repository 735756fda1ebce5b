import { OpenAPIHono, z } from '@hono/zod-openapi';
import { apiRoute } from '../access/api-route';
import type { Context } from 'hono';
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
  problemResponses,
  security,
  validationHook,
} from '../http/common';
import {
  CommentInput,
  DISPUTE_STATUSES,
  Dispute,
  DisputeComment,
  DisputeInput,
  DisputeWithComments,
  RECORD_TYPES,
  ResolveInput,
  WithdrawInput,
} from './schema';
import {
  commentOnDispute,
  disputeHistory,
  getDispute,
  listDisputes,
  raiseDispute,
  resolveDispute,
  reviewDispute,
  withdrawDispute,
} from './service';

const tags = ['Disputes'];
const IdParam = z.object({
  id: z
    .string()
    .max(64)
    .openapi({ param: { name: 'id', in: 'path' }, example: '01JD8X6N2Q7ZB4Y3W5V6T7S8R9' }),
});
const IfMatch = z.object({
  'if-match': z.string().optional().openapi({ description: 'Optional: the dispute ETag last read; a stale one is refused with 412.' }),
});
const ifMatchOf = (c: Context) => {
  const h = c.req.header('if-match');
  return h ? parseIfMatch(h) : undefined;
};

/** Disputes and corrections (UC-05.03): docs/disputes.md. */
export function disputeRoutes(ctx: Ctx) {
  const app = new OpenAPIHono<AuthEnv>({ defaultHook: validationHook });

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/',
      action: 'disputes.read',
      tags,
      security,
      summary: 'List visible disputes (the operator and regulator all; others those they raised or on records they are a party to)',
      request: {
        query: Page.extend({
          status: z.enum(DISPUTE_STATUSES).optional(),
          recordType: z.enum(RECORD_TYPES).optional(),
          recordId: z.string().max(64).optional(),
          raisedBy: z.string().max(64).optional(),
        }),
      },
      responses: {
        200: {
          description: 'A page of visible disputes, in ID order',
          content: json(z.object({ items: z.array(Dispute), nextCursor: z.string().nullable() })),
        },
        ...problemResponses(),
      },
    }),
    async (c) => {
      const { limit, cursor, ...q } = c.req.valid('query');
      const page = await listDisputes(ctx, c.get('principal'), q, { limit, after: decodeCursor(cursor) });
      return c.json({ items: page.items, nextCursor: encodeCursor(page.next) }, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/',
      action: 'disputes.raise',
      tags,
      security,
      summary: 'Raise a dispute, with evidence, on a record you can see (UC-05.03)',
      middleware: [idempotency(ctx.db, ctx.clock)] as const,
      request: { body: { required: true, content: json(DisputeInput) }, headers: z.object({ 'idempotency-key': z.string().optional() }) },
      responses: { 201: { description: 'Raised (OPEN)', content: json(Dispute) }, ...problemResponses(404, 409) },
    }),
    async (c) => {
      const d = await raiseDispute(ctx, c.get('principal'), c.req.valid('json'));
      c.header('location', `/api/v1/disputes/${d.id}`);
      c.header('etag', etag(d.version));
      return c.json(d, 201);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/{id}',
      action: 'disputes.read',
      tags,
      security,
      summary: 'Read a dispute with its comments',
      request: { params: IdParam },
      responses: { 200: { description: 'The dispute', content: json(DisputeWithComments) }, ...problemResponses(404) },
    }),
    async (c) => {
      const d = await getDispute(ctx, c.get('principal'), c.req.valid('param').id);
      c.header('etag', etag(d.version));
      return c.json(d, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/{id}/history',
      action: 'disputes.read',
      tags,
      security,
      summary: 'Every version of a dispute, newest first',
      request: { params: IdParam },
      responses: { 200: { description: 'Versions', content: json(z.object({ items: z.array(Dispute) })) }, ...problemResponses(404) },
    }),
    async (c) => c.json({ items: await disputeHistory(ctx, c.get('principal'), c.req.valid('param').id) }, 200),
  );

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/{id}/comments',
      action: 'disputes.comment',
      tags,
      security,
      summary: 'Comment and add evidence while the dispute is OPEN or UNDER_REVIEW (its parties and the operator)',
      request: { params: IdParam, body: { required: true, content: json(CommentInput) } },
      responses: { 201: { description: 'The comment', content: json(DisputeComment) }, ...problemResponses(404, 409) },
    }),
    async (c) => c.json(await commentOnDispute(ctx, c.get('principal'), c.req.valid('param').id, c.req.valid('json')), 201),
  );

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/{id}/withdraw',
      action: 'disputes.withdraw',
      tags,
      security,
      summary: 'Withdraw a dispute before it is resolved (the raiser)',
      request: { params: IdParam, body: { required: false, content: json(WithdrawInput) }, headers: IfMatch },
      responses: { 200: { description: 'Withdrawn', content: json(Dispute) }, ...problemResponses(404, 409, 412) },
    }),
    async (c) => {
      const d = await withdrawDispute(ctx, c.get('principal'), c.req.valid('param').id, c.req.valid('json') ?? {}, {
        ifMatch: ifMatchOf(c),
      });
      c.header('etag', etag(d.version));
      return c.json(d, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/{id}/review',
      action: 'disputes.resolve',
      tags,
      security,
      summary: 'Take an OPEN dispute under review (the operator)',
      request: { params: IdParam, headers: IfMatch },
      responses: { 200: { description: 'Under review', content: json(Dispute) }, ...problemResponses(404, 409, 412) },
    }),
    async (c) => {
      const d = await reviewDispute(ctx, c.get('principal'), c.req.valid('param').id, { ifMatch: ifMatchOf(c) });
      c.header('etag', etag(d.version));
      return c.json(d, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/{id}/resolve',
      action: 'disputes.resolve',
      tags,
      security,
      summary:
        'Resolve a dispute under review (the operator): CORRECTED applies the correction through the record’s own update, in the same transaction; NO_ACTION_REQUIRED needs a note',
      request: { params: IdParam, body: { required: true, content: json(ResolveInput) }, headers: IfMatch },
      responses: { 200: { description: 'Resolved', content: json(Dispute) }, ...problemResponses(404, 409, 412) },
    }),
    async (c) => {
      const d = await resolveDispute(ctx, c.get('principal'), c.req.valid('param').id, c.req.valid('json'), { ifMatch: ifMatchOf(c) });
      c.header('etag', etag(d.version));
      return c.json(d, 200);
    },
  );

  return app;
}
