import { OpenAPIHono, z } from '@hono/zod-openapi';
import { apiRoute } from '../access/api-route';
import type { AuthEnv } from '../access/auth';
import type { Principal } from '../access/principal';
import { logPrivateRead, othersRecords, type PrivateRead } from '../audit/reads';
import { ASSET_STATUSES } from '../catalogue/codes';
import { validatingCodes } from '../catalogue/routes';
import { codeFilter } from '../catalogue/schema';
import type { Ctx } from '../context';
import {
  etag,
  Page,
  parseIfMatch,
  decodeCursor,
  FieldErrorSchema,
  idempotency,
  json,
  encodeCursor,
  requireIfMatch,
  problemResponses,
  security,
  validationHook,
  textStream,
} from '../http/common';
import { Problem } from '../http/problem';
import { ON_ERROR, bulkFormatOf, parseBulkText, registerRecords, tally, type OnError, type Tally } from './bulk-import';
import { MAX_LISTED_REJECTS, bulkReportPath, readBulkReport, saveBulkReport } from './bulk-report';
import { assetToCsv, csvHeader } from './csv';
import { Asset, AssetInput, AssetPatch, Warning } from './schema';
import {
  assetFspLinks,
  assetSummary,
  assetHistory,
  assetPages,
  deregisterAsset,
  getAsset,
  listAssets,
  parseIdentifier,
  registerAsset,
  updateAsset,
  type AssetFilter,
  type RowResult,
} from './service';

const tags = ['Assets'];
const IdParam = z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' }, example: '01JD8X6N2Q7ZB4Y3W5V6T7S8R9' }) });
const Filters = z.object({
  organisationId: z.string().max(64).optional(),
  fspId: z.string().max(64).optional(),
  dno: codeFilter('dno-codes', 'SPEN_SPM').optional(),
  category: codeFilter('asset-categories', 'BESS').optional(),
  status: z.enum(ASSET_STATUSES).optional(),
  gspGroup: codeFilter('gsp-groups', '_N').optional(),
});
const ListQuery = Page.merge(Filters).extend({ identifier: z.string().max(100).optional().openapi({ example: 'mpan:1312345678907' }) });
const ExportQuery = Filters.extend({
  format: z.enum(['ndjson', 'csv']).default('ndjson'),
  includeDeregistered: z.enum(['true', 'false']).optional(),
});
const AssetWithWarnings = Asset.extend({ warnings: z.array(Warning) });

/** Largest bulk batch, in rows. */
export const MAX_BULK_ROWS = 50_000;

/** An asset's parties, whose private data a read serves: the owning organisation and the controlling FSP. */
const partiesOf = (a: Pick<Asset, 'id' | 'organisationId' | 'fspId'>) => ({ id: a.id, parties: [a.organisationId, a.fspId] });

/** Log a read that served these assets, if any belongs to another organisation than the reader's (docs/audit.md). */
function logAssetRead(
  ctx: Ctx,
  p: Principal,
  route: string,
  recordId: string,
  records: { id: string; parties: string[] }[],
  extra: Pick<PrivateRead, 'asked' | 'listIds'> = {},
) {
  return logPrivateRead(ctx.db, p, ctx.clock.now(), {
    action: 'asset.read',
    recordType: 'asset',
    recordId,
    route,
    shares: othersRecords(p, records),
    ...extra,
  });
}

function filtersOf(q: z.infer<typeof Filters> & { identifier?: string }): AssetFilter {
  return { ...q, identifier: q.identifier ? parseIdentifier(q.identifier) : undefined };
}

/**
 * The rows a bulk response lists: every row that is not rejected (their IDs) and the first
 * MAX_LISTED_REJECTS rejected ones, in row order; `failed` (onError=stop refused): the rejected only.
 */
function listedResults(results: RowResult[], failed: boolean): RowResult[] {
  let rejects = 0;
  return results.filter((r) => (r.status === 'rejected' ? rejects++ < MAX_LISTED_REJECTS : !failed));
}

/** The counts of a bulk response, and a stored report when it cannot list every rejected row. */
async function bulkSummary(
  ctx: Ctx,
  p: Principal,
  o: { dryRun: boolean; onError: OnError; status: number; total: number; t: Tally; results: RowResult[] },
) {
  const body = {
    dryRun: o.dryRun,
    onError: o.onError,
    total: o.total,
    registered: o.t.registered,
    existing: o.t.existing,
    valid: o.t.valid,
    rejected: o.t.rejected,
    byRule: o.t.byRule,
  };
  if (o.t.rejected <= MAX_LISTED_REJECTS) return body;
  const id = await saveBulkReport(ctx, p, {
    dryRun: o.dryRun,
    onError: o.onError,
    status: o.status,
    total: o.total,
    tally: o.t,
    rejected: o.results.filter((r) => r.status === 'rejected'),
  });
  return { ...body, resultsTruncated: true, report: bulkReportPath(id) };
}

export function assetRoutes(ctx: Ctx, opts: { maxBulkBytes: number }) {
  const app = new OpenAPIHono<AuthEnv>({ defaultHook: validationHook });

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/',
      action: 'assets.read',
      tags,
      security,
      summary: 'List or look up assets (by any alias with identifier=scheme:value)',
      request: { query: ListQuery },
      responses: {
        200: {
          description: 'A page of visible assets',
          content: json(z.object({ items: z.array(Asset), nextCursor: z.string().nullable() })),
        },
        ...problemResponses(),
      },
    }),
    async (c) => {
      const { limit, cursor, ...q } = c.req.valid('query');
      const p = c.get('principal');
      const page = await listAssets(ctx, p, filtersOf(q), { limit, after: decodeCursor(cursor) });
      // An FSP reading its own assets (the hot lookup path) writes nothing: othersRecords is empty.
      await logAssetRead(ctx, p, 'GET /api/v1/assets', q.identifier ? 'lookup' : 'list', page.items.map(partiesOf), {
        asked: { ...q, limit, ...(cursor ? { cursor } : {}) },
      });
      return c.json({ items: page.items, nextCursor: encodeCursor(page.next) }, 200);
    },
    validatingCodes(ctx, 'query', ListQuery),
  );

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/',
      action: 'assets.write',
      tags,
      security,
      summary: 'Register an asset (UC-02.01)',
      middleware: [idempotency(ctx.db, ctx.clock)] as const,
      request: { body: { required: true, content: json(AssetInput) }, headers: z.object({ 'idempotency-key': z.string().optional() }) },
      responses: {
        201: { description: 'Registered (status PENDING_VALIDATION), with any warnings', content: json(AssetWithWarnings) },
        ...problemResponses(409),
      },
    }),
    async (c) => {
      const { asset, warnings } = await registerAsset(ctx, c.get('principal'), c.req.valid('json'));
      c.header('location', `/api/v1/assets/${asset.id}`);
      c.header('etag', etag(asset.version));
      return c.json({ ...asset, warnings }, 201);
    },
    validatingCodes(ctx, 'json', AssetInput),
  );

  const BulkRow = z.object({
    row: z.number().int().openapi({
      description: 'The line of the file the row starts on (1-based; in CSV the header is line 1, so the first data row is 2)',
    }),
    id: z.string().optional().openapi({ description: 'registered: the new asset; existing: the asset the row already is' }),
    status: z.enum(['registered', 'valid', 'existing', 'rejected']),
    errors: z.array(FieldErrorSchema).optional(),
    warnings: z.array(Warning).optional(),
    existingAssetId: z.string().optional(),
  });
  const BulkResult = z
    .object({
      dryRun: z.boolean(),
      onError: z.enum(ON_ERROR),
      total: z.number().int(),
      registered: z.number().int(),
      existing: z.number().int(),
      valid: z.number().int(),
      rejected: z.number().int(),
      byRule: z
        .record(z.string(), z.number().int())
        .openapi({ description: 'How many times each rule code was found among the rejected rows' }),
      results: z
        .array(BulkRow)
        .openapi({ description: `Every row that was not rejected, and the first ${MAX_LISTED_REJECTS} rejected rows` }),
      resultsTruncated: z.boolean().optional(),
      report: z
        .string()
        .optional()
        .openapi({ description: 'When more rows were rejected than are listed: the full report (GET, 7 days, your organisation only)' }),
    })
    .openapi('BulkResult');
  const BulkReport = z
    .object({
      id: z.string(),
      dryRun: z.boolean(),
      onError: z.enum(ON_ERROR),
      status: z.number().int().openapi({ description: 'The status the bulk request answered' }),
      total: z.number().int(),
      registered: z.number().int(),
      existing: z.number().int(),
      valid: z.number().int(),
      rejected: z.number().int(),
      byRule: z.record(z.string(), z.number().int()),
      createdAt: z.string(),
      expiresAt: z.string(),
      results: z.array(BulkRow).openapi({ description: 'Every rejected row' }),
    })
    .openapi('BulkReport');

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/bulk',
      action: 'assets.write',
      tags,
      security,
      summary: 'Bulk registration, atomic per batch unless onError=skip (NDJSON or CSV; dryRun=true validates only)',
      middleware: [idempotency(ctx.db, ctx.clock)] as const,
      request: {
        query: z.object({
          dryRun: z.enum(['true', 'false']).optional(),
          onError: z.enum(ON_ERROR).optional().openapi({
            description:
              'stop (default): one invalid row and nothing is written (422); skip: the valid rows are registered and the invalid ones listed',
          }),
        }),
        body: {
          required: true,
          content: {
            'application/x-ndjson': { schema: z.string().openapi({ description: 'One AssetInput per line' }) },
            'text/csv': { schema: z.string().openapi({ description: 'Header row with the export’s column names' }) },
          },
        },
      },
      responses: {
        200: {
          description: 'Nothing registered: a dry run, or every row already registered (or rejected, with onError=skip)',
          content: json(BulkResult),
        },
        201: { description: 'At least one asset registered', content: json(BulkResult) },
        ...problemResponses(409, 413, 415),
      },
    }),
    async (c) => {
      const len = Number(c.req.header('content-length') ?? 0);
      if (len > opts.maxBulkBytes) throw new Problem('REQUEST-TOO-LARGE', `A bulk body is at most ${opts.maxBulkBytes} bytes.`);
      const text = await c.req.text();
      if (text.length > opts.maxBulkBytes) throw new Problem('REQUEST-TOO-LARGE', `A bulk body is at most ${opts.maxBulkBytes} bytes.`);
      const q = c.req.valid('query');
      const dryRun = q.dryRun === 'true';
      const onError = q.onError ?? 'stop';
      const { records } = parseBulkText(bulkFormatOf(c.req.header('content-type') ?? ''), text, onError);
      if (records.length === 0) throw new Problem('BULK-EMPTY');
      if (records.length > MAX_BULK_ROWS)
        throw new Problem('BULK-TOO-MANY-ROWS', `${records.length} rows; at most ${MAX_BULK_ROWS} per batch.`);
      const results = await registerRecords(ctx, c.get('principal'), records, { dryRun, onError, source: 'bulk' });
      const t = tally(results);
      const failed = onError === 'stop' && t.rejected > 0;
      const status = failed ? 422 : t.registered > 0 ? 201 : 200;
      const body = await bulkSummary(ctx, c.get('principal'), { dryRun, onError, status, total: records.length, t, results });
      const listed = listedResults(results, failed);
      if (failed) {
        const where = 'report' in body ? ` The first ${MAX_LISTED_REJECTS} are listed; all of them are in ${body.report}.` : '';
        throw new Problem(
          'BULK-ROWS-INVALID',
          `${t.rejected} of ${records.length} rows are invalid; nothing was written. Fix them and send the batch again, or send it with onError=skip to register the valid rows.${where}`,
          { ...body, registered: 0, results: listed },
        );
      }
      return c.json({ ...body, results: listed }, status === 201 ? 201 : 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/bulk/reports/{id}',
      action: 'assets.bulk-report',
      tags,
      security,
      summary: 'The full report of a bulk request that rejected more rows than its response lists',
      request: { params: IdParam },
      responses: { 200: { description: 'The report: counts and every rejected row', content: json(BulkReport) }, ...problemResponses(404) },
    }),
    async (c) => c.json(await readBulkReport(ctx, c.get('principal'), c.req.valid('param').id), 200),
  );

  const SummaryRow = z
    .object({
      status: z.enum(ASSET_STATUSES),
      category: z.string(),
      assets: z.number().int(),
      ratedCapacityKw: z.number().openapi({ description: 'Sum of the rated capacity of these assets' }),
    })
    .openapi('AssetSummaryRow');
  app.openapi(
    apiRoute({
      method: 'get',
      path: '/summary',
      action: 'assets.read',
      tags,
      security,
      summary: 'Count the visible assets matching the filters, with their rated capacity, by status and category',
      request: { query: Filters },
      responses: {
        200: { description: 'One row per status and category that has assets', content: json(z.object({ items: z.array(SummaryRow) })) },
        ...problemResponses(),
      },
    }),
    async (c) => c.json({ items: await assetSummary(ctx, c.get('principal'), filtersOf(c.req.valid('query'))) }, 200),
    validatingCodes(ctx, 'query', Filters),
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/export',
      action: 'assets.read',
      tags,
      security,
      summary: 'Export visible assets, streamed (UC-02.04)',
      request: { query: ExportQuery },
      responses: {
        200: {
          description: 'NDJSON (one Asset per line) or CSV',
          content: { 'application/x-ndjson': { schema: z.string() }, 'text/csv': { schema: z.string() } },
        },
        ...problemResponses(),
      },
    }),
    async (c) => {
      const { format, includeDeregistered, ...q } = c.req.valid('query');
      const stream = exportStream(
        ctx,
        c.get('principal'),
        { ...filtersOf(q), includeDeregistered: includeDeregistered === 'true' },
        format,
      );
      return new Response(stream, {
        status: 200,
        headers: {
          'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson',
          'content-disposition': `attachment; filename="assets.${format}"`,
        },
      });
    },
    validatingCodes(ctx, 'query', ExportQuery),
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/{id}',
      action: 'assets.read',
      tags,
      security,
      summary: 'Read an asset, now or as of a time; de-registered assets still resolve',
      request: {
        params: IdParam,
        query: z.object({
          asOf: z.string().datetime({ offset: true }).optional().openapi({ description: 'RFC 3339 time: the version in force then' }),
        }),
      },
      responses: { 200: { description: 'The asset', content: json(Asset) }, ...problemResponses(404) },
    }),
    async (c) => {
      const asOf = c.req.valid('query').asOf;
      const asset = await getAsset(ctx, c.get('principal'), c.req.valid('param').id, asOf ? new Date(asOf) : undefined);
      await logAssetRead(ctx, c.get('principal'), 'GET /api/v1/assets/{id}', asset.id, [partiesOf(asset)], asOf ? { asked: { asOf } } : {});
      c.header('etag', etag(asset.version));
      return c.json(asset, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'patch',
      path: '/{id}',
      action: 'assets.write',
      tags,
      security,
      summary: 'Update an asset (UC-02.03); JSON merge patch, If-Match required',
      request: {
        params: IdParam,
        body: { required: true, content: json(AssetPatch) },
        headers: z.object({ 'if-match': z.string().optional() }),
      },
      responses: { 200: { description: 'Updated', content: json(AssetWithWarnings) }, ...problemResponses(404, 409, 412, 428) },
    }),
    async (c) => {
      const { asset, warnings } = await updateAsset(
        ctx,
        c.get('principal'),
        c.req.valid('param').id,
        c.req.valid('json'),
        requireIfMatch(c),
      );
      c.header('etag', etag(asset.version));
      return c.json({ ...asset, warnings }, 200);
    },
    validatingCodes(ctx, 'json', AssetPatch),
  );

  app.openapi(
    apiRoute({
      method: 'delete',
      path: '/{id}',
      action: 'assets.write',
      tags,
      security,
      summary: 'De-register an asset (UC-02.02): soft delete, the ID stays resolvable',
      request: {
        params: IdParam,
        query: z.object({ reason: z.string().max(500).optional() }),
        headers: z.object({ 'if-match': z.string().optional() }),
      },
      responses: { 200: { description: 'De-registered', content: json(Asset) }, ...problemResponses(404, 409, 412) },
    }),
    async (c) => {
      const h = c.req.header('if-match');
      const asset = await deregisterAsset(ctx, c.get('principal'), c.req.valid('param').id, {
        ifMatch: h ? parseIfMatch(h) : undefined,
        reason: c.req.valid('query').reason,
      });
      c.header('etag', etag(asset.version));
      return c.json(asset, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/{id}/history',
      action: 'assets.read',
      tags,
      security,
      summary: 'Every version of an asset, newest first',
      request: { params: IdParam },
      responses: { 200: { description: 'Versions', content: json(z.object({ items: z.array(Asset) })) }, ...problemResponses(404) },
    }),
    async (c) => {
      const items = await assetHistory(ctx, c.get('principal'), c.req.valid('param').id);
      // Every version's parties: an earlier FSP's period is its data too.
      await logAssetRead(ctx, c.get('principal'), 'GET /api/v1/assets/{id}/history', items[0].id, [
        { id: items[0].id, parties: items.flatMap((v) => [v.organisationId, v.fspId]) },
      ]);
      return c.json({ items }, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/{id}/fsp-links',
      action: 'assets.read',
      tags,
      security,
      summary: 'Which FSP controlled the asset, over which period',
      request: { params: IdParam },
      responses: {
        200: {
          description: 'Links',
          content: json(
            z.object({
              items: z.array(
                z.object({
                  fspId: z.string(),
                  validFrom: z.string(),
                  validTo: z.string().nullable(),
                  recordedAt: z.string(),
                  recordedBy: z.string(),
                }),
              ),
            }),
          ),
        },
        ...problemResponses(404),
      },
    }),
    async (c) => {
      const { asset, links } = await assetFspLinks(ctx, c.get('principal'), c.req.valid('param').id);
      await logAssetRead(ctx, c.get('principal'), 'GET /api/v1/assets/{id}/fsp-links', asset.id, [
        { id: asset.id, parties: [asset.organisationId, asset.fspId, ...links.map((l) => l.fspId)] },
      ]);
      return c.json({ items: links }, 200);
    },
  );

  return app;
}

/**
 * Stream every matching asset as NDJSON or CSV, a keyset page at a time. A page holding another
 * organisation's assets is logged (one record per page, counts and ID range) before it is sent.
 */
export function exportStream(
  ctx: Ctx,
  p: Principal,
  f: AssetFilter,
  format: 'ndjson' | 'csv',
  pageSize = 1000,
): ReadableStream<Uint8Array> {
  const asked = { ...f, identifier: f.identifier ? `${f.identifier.scheme}:${f.identifier.value}` : undefined, format };
  return textStream(
    (async function* () {
      if (format === 'csv') yield csvHeader();
      for await (const page of assetPages(ctx, p, f, pageSize)) {
        await logAssetRead(ctx, p, 'GET /api/v1/assets/export', 'export', page.map(partiesOf), { asked, listIds: false });
        yield page.map((a) => (format === 'csv' ? assetToCsv(a) : JSON.stringify(a) + '\n')).join('');
      }
    })(),
  );
}
