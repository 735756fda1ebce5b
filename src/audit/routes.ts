import { OpenAPIHono, z } from '@hono/zod-openapi';
import { apiRoute } from '../access/api-route';
import type { AuthEnv } from '../access/auth';
import type { Ctx } from '../context';
import { Page, decodeCursor, encodeCursor, problemResponses, security, textStream, validationHook } from '../http/common';
import { Problem } from '../http/problem';
import { reach } from '../access/permissions';
import { AUDIT_RECORD_TYPES, auditPages, logRead, queryAudit, sealAudit, verifyAudit, type AuditFilter, type AuditRecord } from './audit';
import { PRIVATE_READ_ACTIONS, readsOfOrganisation } from './reads';

const tags = ['Audit'];

/** The filters of GET /audit and GET /audit/export (UC-05.06); they combine with AND. */
const Filter = z.object({
  recordType: z
    .enum(AUDIT_RECORD_TYPES)
    .optional()
    .openapi({ description: 'The kind of record (asset, organisation, …; audit for the log of audit reads)' }),
  recordId: z.string().min(1).max(64).optional(),
  organisationId: z.string().min(1).max(64).optional().openapi({ description: 'The organisation the record concerns' }),
  actorSub: z.string().min(1).max(255).optional().openapi({ description: 'The actor’s subject (`sub` of the token)' }),
  actorClient: z
    .string()
    .min(1)
    .max(255)
    .optional()
    .openapi({ description: 'The API client the actor’s token was issued to (`client_id`)' }),
  actorAct: z.string().min(1).max(255).optional().openapi({ description: 'The delegate acting for the organisation (`act.sub`)' }),
  action: z
    .string()
    .max(100)
    .regex(/^[a-z0-9_-]+(\.[a-z0-9_-]+)*(\.\*)?$/)
    .optional()
    .openapi({ description: 'Exact (`asset.updated`) or a prefix ending in `.*` (`asset.*`)' }),
  from: z.string().datetime({ offset: true }).optional().openapi({ description: 'RFC 3339; records at or after' }),
  to: z.string().datetime({ offset: true }).optional().openapi({ description: 'RFC 3339; records before' }),
});

const CSV_COLUMNS = [
  'id',
  'seq',
  'occurredAt',
  'actorSub',
  'actorOrg',
  'actorClient',
  'actorAct',
  'organisationId',
  'action',
  'recordType',
  'recordId',
  'detail',
] as const;

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  let s = typeof v === 'string' ? v : JSON.stringify(v);
  // A leading = + - @ would be a formula to a spreadsheet (CSV injection): quote it as text.
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function auditToCsv(r: AuditRecord): string {
  const a = (r.actor ?? {}) as { sub?: string; org?: string; client_id?: string; act?: { sub?: string } };
  const row: Record<(typeof CSV_COLUMNS)[number], unknown> = {
    id: r.id,
    seq: r.seq,
    occurredAt: r.occurredAt,
    actorSub: a.sub,
    actorOrg: a.org,
    actorClient: a.client_id,
    actorAct: a.act?.sub,
    organisationId: r.organisationId,
    action: r.action,
    recordType: r.recordType,
    recordId: r.recordId,
    detail: r.detail,
  };
  return CSV_COLUMNS.map((c) => csvCell(row[c])).join(',') + '\r\n';
}

/** The filter as given, without absent fields: what an `audit.read` record says was asked. */
const given = (f: AuditFilter) => Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined));

export function auditRoutes(ctx: Ctx) {
  const app = new OpenAPIHono<AuthEnv>({ defaultHook: validationHook });
  const Record = z
    .object({
      id: z.string(),
      seq: z.string().nullable(),
      occurredAt: z.string(),
      actor: z
        .object({
          sub: z.string(),
          org: z.string().nullable().optional(),
          client_id: z.string().optional(),
          act: z.object({ sub: z.string(), org: z.string().optional() }).optional(),
          request_id: z.string().optional(),
        })
        .openapi({
          description:
            'Who: the token subject, its organisation, its client, the delegate acting for it (act), and the request that wrote the record (request_id, the X-Request-Id the hub answered with).',
        }),
      organisationId: z.string().nullable(),
      action: z.string(),
      recordType: z.string(),
      recordId: z.string(),
      detail: z.record(z.string(), z.unknown()).nullable(),
    })
    .openapi('AuditRecord');

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/',
      action: 'audit.read',
      tags,
      security,
      summary: 'Query the audit trail (keyset-paginated, oldest first); the read is itself audited',
      request: { query: Filter.merge(Page) },
      responses: {
        200: {
          description: 'Audit records, oldest first',
          content: { 'application/json': { schema: z.object({ items: z.array(Record), nextCursor: z.string().nullable() }) } },
        },
        ...problemResponses(),
      },
    }),
    async (c) => {
      const { limit, cursor, ...f } = c.req.valid('query');
      const after = decodeCursor(cursor);
      if (after !== undefined && !/^\d{1,19}$/.test(after)) throw new Problem('REQUEST-CURSOR-INVALID');
      // The log entry and the query run side by side: auditing the read adds no round trip.
      const [, page] = await Promise.all([
        logRead(ctx.db, c.get('principal'), ctx.clock.now(), {
          action: 'audit.read',
          recordType: 'audit',
          recordId: 'query',
          detail: { filter: given(f), limit, ...(after ? { after } : {}) },
        }),
        queryAudit(ctx.db, f, { limit, after }),
      ]);
      return c.json({ items: page.items, nextCursor: encodeCursor(page.next) }, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/export',
      action: 'audit.read',
      tags,
      security,
      summary: 'Export the audit trail for a filter, streamed as NDJSON or CSV; the read is itself audited',
      request: { query: Filter.extend({ format: z.enum(['ndjson', 'csv']).default('ndjson') }) },
      responses: {
        200: {
          description: 'NDJSON (one AuditRecord per line) or CSV (header row first)',
          content: { 'application/x-ndjson': { schema: z.string() }, 'text/csv': { schema: z.string() } },
        },
        ...problemResponses(),
      },
    }),
    async (c) => {
      const { format, ...f } = c.req.valid('query');
      // Logged before the first byte: an export is recorded even if the reader stops half-way.
      await logRead(ctx.db, c.get('principal'), ctx.clock.now(), {
        action: 'audit.read',
        recordType: 'audit',
        recordId: 'export',
        detail: { filter: given(f), format },
      });
      const stream = textStream(
        (async function* () {
          if (format === 'csv') yield CSV_COLUMNS.join(',') + '\r\n';
          for await (const page of auditPages(ctx.db, f))
            yield page.map((r) => (format === 'csv' ? auditToCsv(r) : JSON.stringify(r) + '\n')).join('');
        })(),
      );
      return new Response(stream, {
        status: 200,
        headers: {
          'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson',
          'content-disposition': `attachment; filename="audit.${format}"`,
        },
      });
    },
  );

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/verify',
      action: 'audit.read',
      tags,
      security,
      summary: 'Seal pending records and verify the hash chain',
      responses: {
        200: {
          description: 'Chain report; firstBroken names the first record that does not fit',
          content: {
            'application/json': {
              schema: z.object({
                ok: z.boolean(),
                sealed: z.number(),
                unsealed: z.number(),
                firstBroken: z.object({ seq: z.string(), id: z.string(), reason: z.string() }).optional(),
                head: z.object({ seq: z.string(), hash: z.string() }).nullable().optional().openapi({
                  description:
                    'When the chain verified: its last sealed record (null before the first is sealed). Keep it outside the database: a restore or a rewrite of the whole chain shows as a different head.',
                }),
              }),
            },
          },
        },
        ...problemResponses(),
      },
    }),
    async (c) => {
      await sealAudit(ctx.db);
      return c.json(await verifyAudit(ctx.db), 200);
    },
  );
  return app;
}

/** One read of an organisation’s data, as that organisation sees it (ReadOfData, ./reads.ts). */
export const DataRead = z
  .object({
    id: z.string().openapi({ description: 'The audit record (GET /api/v1/audit shows it to the operator)' }),
    occurredAt: z.string(),
    action: z.enum(PRIVATE_READ_ACTIONS),
    recordType: z.string(),
    recordId: z.string().openapi({ description: 'The record read, or list / lookup / export for a page of several' }),
    route: z.string().nullable(),
    reader: z.object({
      organisationId: z.string().nullable(),
      subject: z.string().nullable(),
      clientId: z.string().nullable(),
      actingFor: z.string().nullable().openapi({ description: 'The delegate acting for the reader (act.sub)' }),
    }),
    records: z.number().int().openapi({ description: 'How many of this organisation’s records the request served' }),
    dataShareId: z
      .string()
      .optional()
      .openapi({ description: 'The data share the reader pulled through (docs/sharing.md), when it pulled under one' }),
    recordIds: z.array(z.string()).optional().openapi({ description: 'Their IDs (single reads, lists and lookups)' }),
    firstRecordId: z
      .string()
      .optional()
      .openapi({ description: 'An export page: the first and last of its records served (IDs in between, in ID order, as filtered)' }),
    lastRecordId: z.string().optional(),
  })
  .openapi('DataRead');

/**
 * GET /organisations/{id}/reads (UC-05.06): the owner of private data sees who read it. The
 * organisation itself, the operator and the regulator; anyone else gets the organisation's 404.
 */
export function dataReadRoutes(ctx: Ctx) {
  const app = new OpenAPIHono<AuthEnv>({ defaultHook: validationHook });
  app.openapi(
    apiRoute({
      method: 'get',
      path: '/organisations/{id}/reads',
      action: 'organisations.reads',
      tags: ['Audit'],
      security,
      summary:
        'Who read this organisation’s private data: its assets, passport and switch consent evidence, read by another organisation (oldest first)',
      request: {
        params: z.object({
          id: z
            .string()
            .min(1)
            .max(64)
            .openapi({ param: { name: 'id', in: 'path' } }),
        }),
        query: Page.extend({ from: Filter.shape.from, to: Filter.shape.to }),
      },
      responses: {
        200: {
          description: 'Reads of the organisation’s data',
          content: { 'application/json': { schema: z.object({ items: z.array(DataRead), nextCursor: z.string().nullable() }) } },
        },
        ...problemResponses(404),
      },
    }),
    async (c) => {
      const p = c.get('principal');
      const { id } = c.req.valid('param');
      if (id !== p.organisationId && !reach('organisations.reads', p.roles).all)
        throw new Problem('ORG-NOT-FOUND', `No organisation ${id}.`);
      const { limit, cursor, from, to } = c.req.valid('query');
      const after = decodeCursor(cursor);
      if (after !== undefined && !/^\d{1,19}$/.test(after)) throw new Problem('REQUEST-CURSOR-INVALID');
      const page = await readsOfOrganisation(ctx.db, id, { from, to }, { limit, after });
      return c.json({ items: page.items, nextCursor: encodeCursor(page.next) }, 200);
    },
  );
  return app;
}
