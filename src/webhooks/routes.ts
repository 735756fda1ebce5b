import { OpenAPIHono, z } from '@hono/zod-openapi';
import { apiRoute } from '../access/api-route';
import type { AuthEnv } from '../access/auth';
import type { Ctx } from '../context';
import {
  etag,
  Page,
  parseIfMatch,
  decodeCursor,
  json,
  encodeCursor,
  requireIfMatch,
  problemResponses,
  security,
  validationHook,
} from '../http/common';
import {
  DELIVERY_STATUSES,
  WebhookDelivery,
  WebhookInput,
  WebhookPatch,
  WebhookSubscription,
  createSubscription,
  deleteSubscription,
  getSubscription,
  listDeliveries,
  listSubscriptions,
  replayDeadLetters,
  replayDelivery,
  rotateSecret,
  updateSubscription,
} from './subscriptions';
import { sendTestDelivery } from './test-delivery';

const param = (name: string) =>
  z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name, in: 'path' } });
const Id = z.object({ id: param('id') });
/** A bodyless POST, or one with an empty JSON object. */
const hasBody = (c: { req: { raw: Request; header: (h: string) => string | undefined } }) =>
  c.req.raw.body !== null && c.req.header('content-length') !== '0';

/** Webhook subscriptions and their deliveries, under /api/v1/webhooks (docs/events.md). */
export function webhookRoutes(ctx: Ctx, o: { production: boolean; source: string; fetch?: typeof fetch }) {
  const app = new OpenAPIHono<AuthEnv>({ defaultHook: validationHook });
  const tags = ['Webhooks'];

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/',
      action: 'webhooks.read',
      tags,
      security,
      summary: 'List the webhook subscriptions of the caller’s organisation (the operator: all, or ?organisationId=)',
      request: { query: z.object({ organisationId: z.string().max(64).optional() }) },
      responses: {
        200: { description: 'Subscriptions', content: json(z.object({ items: z.array(WebhookSubscription) })) },
        ...problemResponses(),
      },
    }),
    async (c) => c.json({ items: await listSubscriptions(ctx, c.get('principal'), c.req.valid('query').organisationId) }, 200),
  );

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/',
      action: 'webhooks.write',
      tags,
      security,
      summary: 'Subscribe a URL to the events the organisation receives; the signing secret is shown once',
      request: { body: { required: true, content: json(WebhookInput) } },
      responses: { 201: { description: 'Subscribed', content: json(WebhookSubscription) }, ...problemResponses(409, 422) },
    }),
    async (c) => {
      const s = await createSubscription(ctx, c.get('principal'), c.req.valid('json'), o);
      c.header('location', `/api/v1/webhooks/${s.id}`);
      c.header('etag', etag(s.version));
      c.header('cache-control', 'no-store');
      return c.json(s, 201);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/{id}',
      action: 'webhooks.read',
      tags,
      security,
      summary: 'Read a webhook subscription, with its pending and dead-letter counts',
      request: { params: Id },
      responses: { 200: { description: 'The subscription', content: json(WebhookSubscription) }, ...problemResponses(404) },
    }),
    async (c) => {
      const s = await getSubscription(ctx, c.get('principal'), c.req.valid('param').id);
      c.header('etag', etag(s.version));
      return c.json(s, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'patch',
      path: '/{id}',
      action: 'webhooks.write',
      tags,
      security,
      summary: 'Change a subscription’s URL, description or filters, or enable/disable it (If-Match)',
      request: {
        params: Id,
        headers: z.object({ 'if-match': z.string().optional() }),
        body: { required: true, content: json(WebhookPatch) },
      },
      responses: { 200: { description: 'Updated', content: json(WebhookSubscription) }, ...problemResponses(404, 412, 428) },
    }),
    async (c) => {
      const s = await updateSubscription(ctx, c.get('principal'), c.req.valid('param').id, c.req.valid('json'), requireIfMatch(c), o);
      c.header('etag', etag(s.version));
      return c.json(s, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'delete',
      path: '/{id}',
      action: 'webhooks.write',
      tags,
      security,
      summary: 'Delete a subscription and its deliveries (If-Match honoured when sent)',
      request: { params: Id, headers: z.object({ 'if-match': z.string().optional() }) },
      responses: { 204: { description: 'Deleted' }, ...problemResponses(404, 412) },
    }),
    async (c) => {
      const h = c.req.header('if-match');
      await deleteSubscription(ctx, c.get('principal'), c.req.valid('param').id, h ? parseIfMatch(h) : undefined);
      return c.body(null, 204);
    },
  );

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/{id}/rotate-secret',
      action: 'webhooks.write',
      tags,
      security,
      summary: 'A new signing secret (shown once); the previous one also signs for 24 h unless revokePrevious',
      request: {
        params: Id,
        body: {
          required: false,
          content: json(
            z
              .object({
                revokePrevious: z
                  .boolean()
                  .optional()
                  .openapi({ description: 'End the previous secret now (it leaked), and allow a rotation inside the 24 h of the last.' }),
              })
              .strict(),
          ),
        },
      },
      responses: { 200: { description: 'Rotated', content: json(WebhookSubscription) }, ...problemResponses(404, 409) },
    }),
    async (c) => {
      const body = hasBody(c) ? (c.req.valid('json') ?? {}) : {};
      c.header('cache-control', 'no-store');
      return c.json(await rotateSecret(ctx, c.get('principal'), c.req.valid('param').id, body), 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/{id}/test',
      action: 'webhooks.test',
      tags,
      security,
      summary:
        'Send a signed test event (fmar.webhook.test) to the subscription now, through the delivery path; answers the delivery with the receiver’s answer',
      request: { params: Id, body: { required: false, content: json(z.object({}).strict()) } },
      responses: {
        200: {
          description:
            'The test delivery after its first attempt: DELIVERED with the receiver’s status, or PENDING (retried like any delivery) or DEAD with the last status or error',
          content: json(WebhookDelivery),
        },
        ...problemResponses(404, 409),
      },
    }),
    async (c) => {
      if (hasBody(c)) c.req.valid('json');
      const d = await sendTestDelivery(ctx, c.get('principal'), c.req.valid('param').id, {
        source: o.source,
        production: o.production,
        fetch: o.fetch,
      });
      return c.json(d, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/{id}/deliveries',
      action: 'webhooks.read',
      tags,
      security,
      summary:
        'The subscription’s deliveries, oldest event first: status, attempts, last error, next attempt (?status=DEAD: the dead letters)',
      request: { params: Id, query: Page.extend({ status: z.enum(DELIVERY_STATUSES).optional() }) },
      responses: {
        200: { description: 'Deliveries', content: json(z.object({ items: z.array(WebhookDelivery), nextCursor: z.string().nullable() })) },
        ...problemResponses(404),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const items = await listDeliveries(ctx, c.get('principal'), c.req.valid('param').id, {
        status: q.status,
        after: decodeCursor(q.cursor),
        limit: q.limit,
      });
      return c.json({ items, nextCursor: items.length === q.limit ? encodeCursor(items[items.length - 1].eventId) : null }, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/{id}/deliveries/replay',
      action: 'webhooks.write',
      tags,
      security,
      summary: 'Replay every dead letter of the subscription',
      request: { params: Id, body: { required: false, content: json(z.object({}).strict()) } },
      responses: {
        200: { description: 'How many were scheduled', content: json(z.object({ replayed: z.number().int() })) },
        ...problemResponses(404),
      },
    }),
    async (c) => {
      if (hasBody(c)) c.req.valid('json');
      return c.json(await replayDeadLetters(ctx, c.get('principal'), c.req.valid('param').id), 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/{id}/deliveries/{eventId}/replay',
      action: 'webhooks.write',
      tags,
      security,
      summary: 'Deliver one event again (a dead letter, or one already delivered)',
      request: {
        params: z.object({ id: param('id'), eventId: param('eventId') }),
        body: { required: false, content: json(z.object({}).strict()) },
      },
      responses: { 200: { description: 'Scheduled now', content: json(WebhookDelivery) }, ...problemResponses(404, 409) },
    }),
    async (c) => {
      if (hasBody(c)) c.req.valid('json');
      const { id, eventId } = c.req.valid('param');
      return c.json(await replayDelivery(ctx, c.get('principal'), id, eventId), 200);
    },
  );

  return app;
}
