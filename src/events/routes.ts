import { OpenAPIHono, z } from '@hono/zod-openapi';
import { apiRoute } from '../access/api-route';
import type { AuthEnv } from '../access/auth';
import { withinAssetLimit } from '../access/asset-limit';
import { reach } from '../access/permissions';
import type { Ctx } from '../context';
import { problemResponses, security, validationHook } from '../http/common';
import { readEvents } from './outbox';

export function eventRoutes(ctx: Ctx, source: string) {
  const app = new OpenAPIHono<AuthEnv>({ defaultHook: validationHook });
  const CloudEvent = z
    .object({
      specversion: z.literal('1.0'),
      id: z.string(),
      source: z.string(),
      type: z.string(),
      subject: z.string(),
      time: z.string(),
      datacontenttype: z.string(),
      data: z.record(z.string(), z.unknown()),
    })
    .openapi('CloudEvent');
  app.openapi(
    apiRoute({
      method: 'get',
      path: '/',
      action: 'events.read',
      tags: ['Events'],
      security,
      summary:
        'Change events after a cursor (pull feed, CloudEvents JSON): all of them for the roles that see every event, else those the caller’s organisation is a recipient of (docs/events.md)',
      request: {
        query: z.object({
          after: z.string().max(26).optional().openapi({ description: 'ID of the last event seen' }),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        }),
      },
      responses: {
        200: {
          description: 'Events, oldest first',
          content: { 'application/json': { schema: z.object({ items: z.array(CloudEvent), nextCursor: z.string().nullable() }) } },
        },
        ...problemResponses(),
      },
    }),
    async (c) => {
      const p = c.get('principal');
      const q = c.req.valid('query');
      const wide = reach('events.read', p.roles).all;
      // A delegate limited to named assets reads only the events about them (data.assetId).
      const within = (params: unknown[]) => withinAssetLimit(p, params, `e.data->>'assetId'`);
      const items = await readEvents(ctx.db, {
        after: q.after,
        limit: q.limit,
        organisationId: wide ? undefined : p.organisationId,
        source,
        within,
      });
      return c.json({ items, nextCursor: items.length ? items[items.length - 1].id : (q.after ?? null) }, 200);
    },
  );
  return app;
}
