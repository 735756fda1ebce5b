import { OpenAPIHono, z } from '@hono/zod-openapi';
import { apiRoute } from '../access/api-route';
import type { AuthEnv } from '../access/auth';
import type { Ctx } from '../context';
import { Page, pageOf, decodeCursor, idempotency, json, encodeCursor, problemResponses, security, validationHook } from '../http/common';
import { Opportunity, QUALIFICATION_OUTCOMES, Qualification, QualificationInput } from '../products/schema';
import { listQualifications, recordQualification, unitOpportunities, unitQualifications } from './service';

const UnitParam = z.object({
  id: z
    .string()
    .max(64)
    .openapi({ param: { name: 'id', in: 'path' }, example: '01JD8X6N2Q7ZB4Y3W5V6T7S8R9' }),
});

/** Qualification (UC-04.02) and opportunities (UC-04.03) of market units: docs/products.md. */
export function qualificationRoutes(ctx: Ctx) {
  const app = new OpenAPIHono<AuthEnv>({ defaultHook: validationHook });
  const tags = ['Qualification'];

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/market-units/{id}/qualifications',
      action: 'qualifications.record',
      tags,
      security,
      summary: 'Record a qualification outcome for a unit and product (UC-04.02); the product’s System Operator',
      middleware: [idempotency(ctx.db, ctx.clock)] as const,
      request: {
        params: UnitParam,
        body: { required: true, content: json(QualificationInput) },
        headers: z.object({ 'idempotency-key': z.string().optional() }),
      },
      responses: {
        201: {
          description: 'Recorded; it supersedes the previous record for the unit and product',
          content: json(Qualification.extend({ reassessmentCleared: z.boolean() })),
        },
        ...problemResponses(404, 409),
      },
    }),
    async (c) => {
      const { qualification, reassessmentCleared } = await recordQualification(
        ctx,
        c.get('principal'),
        c.req.valid('param').id,
        c.req.valid('json'),
      );
      c.header('location', `/api/v1/market-units/${qualification.marketUnitId}/qualifications`);
      return c.json({ ...qualification, reassessmentCleared }, 201);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/market-units/{id}/qualifications',
      action: 'market-units.read',
      tags,
      security,
      summary: 'Every qualification record of a unit, newest first (current ones marked)',
      request: { params: UnitParam, query: z.object({ productId: z.string().max(64).optional() }) },
      responses: { 200: { description: 'Records', content: json(z.object({ items: z.array(Qualification) })) }, ...problemResponses(404) },
    }),
    async (c) =>
      c.json({ items: await unitQualifications(ctx, c.get('principal'), c.req.valid('param').id, c.req.valid('query').productId) }, 200),
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/market-units/{id}/opportunities',
      action: 'market-units.read',
      tags,
      security,
      summary: 'Products equivalent to those the unit is qualified for, that it is not yet qualified for (UC-04.03)',
      request: { params: UnitParam },
      responses: {
        200: { description: 'Opportunities', content: json(z.object({ items: z.array(Opportunity) })) },
        ...problemResponses(404),
      },
    }),
    async (c) => c.json({ items: await unitOpportunities(ctx, c.get('principal'), c.req.valid('param').id) }, 200),
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/qualifications',
      action: 'market-units.read',
      tags,
      security,
      summary: 'List qualifications of the units the caller may read',
      request: {
        query: Page.extend({
          marketUnitId: z.string().max(64).optional(),
          productId: z.string().max(64).optional(),
          outcome: z.enum(QUALIFICATION_OUTCOMES).optional(),
          systemOperatorId: z.string().max(64).optional(),
          current: z.enum(['true', 'false']).optional().openapi({ description: 'true: only records no later one supersedes' }),
        }),
      },
      responses: { 200: { description: 'A page of records, by ID', content: json(pageOf(Qualification)) }, ...problemResponses() },
    }),
    async (c) => {
      const { limit, cursor, current, ...q } = c.req.valid('query');
      const r = await listQualifications(
        ctx,
        c.get('principal'),
        { ...q, current: current === undefined ? undefined : current === 'true' },
        { limit, after: decodeCursor(cursor) },
      );
      return c.json({ items: r.items, nextCursor: encodeCursor(r.next) }, 200);
    },
  );

  return app;
}
