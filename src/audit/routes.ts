import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { AuthEnv } from '../access/auth';
import type { Ctx } from '../context';
import { problemResponses, security, validationHook } from '../http/common';
import { auditForRecord, sealAudit, verifyAudit } from './audit';

const tags = ['Audit'];

export function auditRoutes(ctx: Ctx) {
  const app = new OpenAPIHono<AuthEnv>({ defaultHook: validationHook });
  const Record = z.object({ id: z.string(), seq: z.string().nullable(), occurredAt: z.string(), actor: z.any(), organisationId: z.string().nullable(), action: z.string(), recordType: z.string(), recordId: z.string(), detail: z.any() }).openapi('AuditRecord');

  app.openapi(createRoute({
    method: 'get', path: '/', tags, security, summary: 'The audit trail of one record',
    request: { query: z.object({ recordType: z.enum(['asset', 'organisation']), recordId: z.string().min(1).max(64) }) },
    responses: { 200: { description: 'Audit records, oldest first', content: { 'application/json': { schema: z.object({ items: z.array(Record) }) } } }, ...problemResponses() },
  }), async (c) => {
    const q = c.req.valid('query');
    return c.json({ items: await auditForRecord(ctx.db, q.recordType, q.recordId) }, 200);
  });

  app.openapi(createRoute({
    method: 'post', path: '/verify', tags, security, summary: 'Seal pending records and verify the hash chain',
    responses: { 200: { description: 'Chain report; firstBroken names the first record that does not fit', content: { 'application/json': { schema: z.object({ ok: z.boolean(), sealed: z.number(), unsealed: z.number(), firstBroken: z.object({ seq: z.string(), id: z.string(), reason: z.string() }).optional() }) } } }, ...problemResponses() },
  }), async (c) => {
    await sealAudit(ctx.db);
    return c.json(await verifyAudit(ctx.db), 200);
  });
  return app;
}
