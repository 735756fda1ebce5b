import { OpenAPIHono, z } from '@hono/zod-openapi';
import { apiRoute } from '../access/api-route';
import type { AuthEnv } from '../access/auth';
import type { ConsentService } from '../consent/index';
import type { ConsentRevoker } from '../consent/revoker';
import type { Ctx } from '../context';
import { CommentInput, DisputeComment, Dispute, DisputeWithComments } from '../disputes/schema';
import { commentOnDispute, getDispute, listDisputes, raiseDispute } from '../disputes/service';
import { idempotency, json, problemResponses, security, validationHook } from '../http/common';
import { HouseholdAsset, HouseholdConsent, HouseholdDisputeInput, HouseholdRead, RevokeInput } from './schema';
import { exportCsv, householdAsset, householdAssets, householdConsents, householdExport, revokeHouseholdConsent } from './service';

const tags = ['Households'];
const IdParam = z.object({
  id: z
    .string()
    .max(256)
    .openapi({ param: { name: 'id', in: 'path' } }),
});
const MpanQuery = z.object({
  mpan: z
    .string()
    .regex(/^\d{13}$/)
    .optional()
    .openapi({ description: 'One of the household’s meter points (another is refused: CONSUMER-MPAN-NOT-BOUND)' }),
});

/** Everything a household's disputes list shows: the disputes it raised (disputeVisibility's consumer rule), oldest first. */
async function householdDisputes(ctx: Ctx, p: Parameters<typeof listDisputes>[1]) {
  const items: Dispute[] = [];
  let after: string | undefined;
  do {
    const page = await listDisputes(ctx, p, {}, { limit: 200, after });
    items.push(...page.items);
    after = page.next;
  } while (after);
  return items;
}

/**
 * The household's API (docs/consumers.md): only a consumer token (src/consumers/sign-in-routes.ts)
 * reaches these routes, and they reach only what is at its meter points.
 */
export function consumerRoutes(ctx: Ctx, o: () => { service?: ConsentService; revoker?: ConsentRevoker }) {
  const app = new OpenAPIHono<AuthEnv>({ defaultHook: validationHook });

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/me',
      action: 'consumer.read',
      tags,
      security,
      summary: 'The household signed in: its pseudonym and the meter points its sign-in vouched for',
      responses: {
        200: { description: 'The household', content: json(z.object({ subject: z.string(), mpans: z.array(z.string()) })) },
        ...problemResponses(),
      },
    }),
    (c) => {
      const p = c.get('principal');
      return c.json({ subject: p.subject, mpans: p.consumer?.mpans ?? [] }, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/assets',
      action: 'consumer.read',
      tags,
      security,
      summary:
        'Every live asset at the household’s meter points: category, capacity, status, controlling FSP and since when, market units and products by name, FSP links',
      request: { query: MpanQuery },
      responses: { 200: { description: 'The assets', content: json(z.object({ items: z.array(HouseholdAsset) })) }, ...problemResponses() },
    }),
    async (c) =>
      c.json(
        {
          items: await householdAssets(ctx, c.get('principal'), {
            mpan: c.req.valid('query').mpan,
            read: { route: 'GET /api/v1/consumer/assets', recordId: 'list' },
          }),
        },
        200,
      ),
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/assets/{id}',
      action: 'consumer.read',
      tags,
      security,
      summary: 'One asset at the household’s meter points (any other: 404 ASSET-NOT-FOUND)',
      request: { params: IdParam },
      responses: { 200: { description: 'The asset', content: json(HouseholdAsset) }, ...problemResponses(404) },
    }),
    async (c) => {
      const id = c.req.valid('param').id;
      return c.json(await householdAsset(ctx, c.get('principal'), id, { route: 'GET /api/v1/consumer/assets/{id}', recordId: id }), 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/consents',
      action: 'consumer.read',
      tags,
      security,
      summary: 'The consents recorded for the household’s meter points (who, purpose, validity, state) and the switches made under them',
      request: { query: MpanQuery },
      responses: {
        200: { description: 'The consents', content: json(z.object({ items: z.array(HouseholdConsent) })) },
        ...problemResponses(),
      },
    }),
    async (c) =>
      c.json(
        {
          items: await householdConsents(ctx, c.get('principal'), {
            mpan: c.req.valid('query').mpan,
            read: { route: 'GET /api/v1/consumer/consents', recordId: 'list' },
          }),
        },
        200,
      ),
  );

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/consents/{id}/revoke',
      action: 'consumer.write',
      tags,
      security,
      summary:
        'Revoke a consent for the household’s meter point: the consent service is told, and the hub acts on its notice (switches cancelled, assets suspended)',
      request: { params: IdParam, body: { required: false, content: json(RevokeInput) } },
      responses: {
        200: {
          description: 'Revoked',
          content: json(
            z.object({ consent: HouseholdConsent, cancelledSwitches: z.array(z.string()), suspendedAssets: z.array(z.string()) }),
          ),
        },
        ...problemResponses(404, 409, 503),
      },
    }),
    async (c) => {
      const reason = (c.req.valid('json') as { reason?: string } | undefined)?.reason;
      return c.json(await revokeHouseholdConsent(ctx, c.get('principal'), c.req.valid('param').id, { ...o(), reason }), 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/disputes',
      action: 'consumer.read',
      tags,
      security,
      summary: 'The disputes the household raised, oldest first',
      responses: { 200: { description: 'The disputes', content: json(z.object({ items: z.array(Dispute) })) }, ...problemResponses() },
    }),
    async (c) => c.json({ items: await householdDisputes(ctx, c.get('principal')) }, 200),
  );

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/disputes',
      action: 'consumer.write',
      tags,
      security,
      summary: 'Raise a dispute, with evidence, about the data of an asset at the household’s meter point (UC-05.03)',
      middleware: [idempotency(ctx.db, ctx.clock)] as const,
      request: {
        body: { required: true, content: json(HouseholdDisputeInput) },
        headers: z.object({ 'idempotency-key': z.string().optional() }),
      },
      responses: { 201: { description: 'Raised (OPEN)', content: json(Dispute) }, ...problemResponses(404, 409) },
    }),
    async (c) => {
      const { assetId, ...rest } = c.req.valid('json');
      const d = await raiseDispute(ctx, c.get('principal'), { recordType: 'asset', recordId: assetId, ...rest });
      c.header('location', `/api/v1/consumer/disputes/${d.id}`);
      return c.json(d, 201);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/disputes/{id}',
      action: 'consumer.read',
      tags,
      security,
      summary: 'Follow a dispute the household raised: its state, outcome and comments',
      request: { params: IdParam },
      responses: { 200: { description: 'The dispute', content: json(DisputeWithComments) }, ...problemResponses(404) },
    }),
    async (c) => c.json(await getDispute(ctx, c.get('principal'), c.req.valid('param').id), 200),
  );

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/disputes/{id}/comments',
      action: 'consumer.write',
      tags,
      security,
      summary: 'Comment and add evidence on an open dispute the household raised',
      request: { params: IdParam, body: { required: true, content: json(CommentInput) } },
      responses: { 201: { description: 'Added', content: json(DisputeComment) }, ...problemResponses(404, 409) },
    }),
    async (c) => c.json(await commentOnDispute(ctx, c.get('principal'), c.req.valid('param').id, c.req.valid('json')), 201),
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/export',
      action: 'consumer.read',
      tags,
      security,
      summary: 'Everything the register holds about the household’s meter points, and who read it (data portability), as JSON or CSV',
      request: { query: z.object({ format: z.enum(['json', 'csv']).default('json') }) },
      responses: {
        200: {
          description: 'The export',
          content: {
            'application/json': {
              schema: z.object({
                generatedAt: z.string(),
                meterPoints: z.array(z.string()),
                assets: z.array(HouseholdAsset),
                consents: z.array(HouseholdConsent),
                disputes: z.array(Dispute),
                reads: z.array(HouseholdRead),
              }),
            },
            'text/csv': { schema: z.string() },
          },
        },
        ...problemResponses(),
      },
    }),
    async (c) => {
      const p = c.get('principal');
      const doc = await householdExport(ctx, p, await householdDisputes(ctx, p));
      const day = doc.generatedAt.slice(0, 10);
      if (c.req.valid('query').format === 'csv')
        return c.body(exportCsv(doc), 200, {
          'content-type': 'text/csv; charset=utf-8',
          'content-disposition': `attachment; filename="fmar-household-${day}.csv"`,
          'cache-control': 'no-store',
        }) as never;
      c.header('content-disposition', `attachment; filename="fmar-household-${day}.json"`);
      c.header('cache-control', 'no-store');
      return c.json(doc, 200);
    },
  );
  return app;
}
