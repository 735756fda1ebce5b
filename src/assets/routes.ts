import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { AuthEnv } from '../access/auth';
import type { Principal } from '../access/principal';
import { logPrivateRead, othersRecords, type PrivateRead } from '../audit/reads';
import { ASSET_STATUSES } from '../catalogue/codes';
import { codeFilter } from '../catalogue/schema';
import type { Ctx } from '../context';
import { Page, decodeCursor, encodeCursor, etag, idempotency, parseIfMatch, problemResponses, requireIfMatch, security, textStream, validationHook } from '../http/common';
import { Problem } from '../http/problem';
import { assetToCsv, csvHeader, csvToInputs } from './csv';
import { Asset, AssetInput, AssetPatch, Warning } from './schema';
import {
  assetFspLinks, assetHistory, assetPages, deregisterAsset, getAsset, listAssets, parseIdentifier, registerAsset, registerAssets, updateAsset, type AssetFilter,
} from './service';

const tags = ['Assets'];
const json = <T extends z.ZodTypeAny>(schema: T) => ({ 'application/json': { schema } });
const IdParam = z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' }, example: '01JD8X6N2Q7ZB4Y3W5V6T7S8R9' }) });
const Filters = z.object({
  organisationId: z.string().max(64).optional(),
  fspId: z.string().max(64).optional(),
  dno: codeFilter('dno-codes', 'SPEN_SPM').optional(),
  category: codeFilter('asset-categories', 'BESS').optional(),
  status: z.enum(ASSET_STATUSES).optional(),
  gspGroup: codeFilter('gsp-groups', '_N').optional(),
});
const AssetWithWarnings = Asset.extend({ warnings: z.array(Warning) });

/** Largest bulk batch, in rows. */
export const MAX_BULK_ROWS = 50_000;

/** An asset's parties, whose private data a read serves: the owning organisation and the controlling FSP. */
const partiesOf = (a: Pick<Asset, 'id' | 'organisationId' | 'fspId'>) => ({ id: a.id, parties: [a.organisationId, a.fspId] });

/** Log a read that served these assets, if any belongs to another organisation than the reader's (docs/audit.md). */
function logAssetRead(ctx: Ctx, p: Principal, route: string, recordId: string, records: { id: string; parties: string[] }[], extra: Pick<PrivateRead, 'asked' | 'listIds'> = {}) {
  return logPrivateRead(ctx.db, p, ctx.clock.now(), { action: 'asset.read', recordType: 'asset', recordId, route, shares: othersRecords(p, records), ...extra });
}

function filtersOf(q: z.infer<typeof Filters> & { identifier?: string }): AssetFilter {
  return { ...q, identifier: q.identifier ? parseIdentifier(q.identifier) : undefined };
}

/** NDJSON or CSV body → rows; malformed lines are 400s naming the line. */
export function parseBulkBody(contentType: string, text: string): unknown[] {
  const type = contentType.split(';')[0].trim().toLowerCase();
  if (type === 'text/csv') return csvToInputs(text);
  if (type === 'application/x-ndjson' || type === 'application/ndjson' || type === 'application/jsonl') {
    const out: unknown[] = [];
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i].trim();
      if (!line) continue;
      try { out.push(JSON.parse(line)); } catch { throw new Problem('REQUEST-MALFORMED-JSON', `Line ${i + 1} is not valid JSON.`, { line: i + 1 }); }
    }
    return out;
  }
  throw new Problem('REQUEST-UNSUPPORTED-MEDIA-TYPE', 'Bulk registration takes application/x-ndjson or text/csv.');
}

export function assetRoutes(ctx: Ctx, opts: { maxBulkBytes: number }) {
  const app = new OpenAPIHono<AuthEnv>({ defaultHook: validationHook });

  app.openapi(createRoute({
    method: 'get', path: '/', tags, security, summary: 'List or look up assets (by any alias with identifier=scheme:value)',
    request: { query: Page.merge(Filters).extend({ identifier: z.string().max(100).optional().openapi({ example: 'mpan:1312345678907' }) }) },
    responses: { 200: { description: 'A page of visible assets', content: json(z.object({ items: z.array(Asset), nextCursor: z.string().nullable() })) }, ...problemResponses() },
  }), async (c) => {
    const { limit, cursor, ...q } = c.req.valid('query');
    const p = c.get('principal');
    const page = await listAssets(ctx, p, filtersOf(q), { limit, after: decodeCursor(cursor) });
    // An FSP reading its own assets (the hot lookup path) writes nothing: othersRecords is empty.
    await logAssetRead(ctx, p, 'GET /api/v1/assets', q.identifier ? 'lookup' : 'list', page.items.map(partiesOf), { asked: { ...q, limit, ...(cursor ? { cursor } : {}) } });
    return c.json({ items: page.items, nextCursor: encodeCursor(page.next) }, 200);
  });

  app.openapi(createRoute({
    method: 'post', path: '/', tags, security, summary: 'Register an asset (UC-02.01)',
    middleware: [idempotency(ctx.db, ctx.clock)] as const,
    request: { body: { required: true, content: json(AssetInput) }, headers: z.object({ 'idempotency-key': z.string().optional() }) },
    responses: { 201: { description: 'Registered (status PENDING_VALIDATION), with any warnings', content: json(AssetWithWarnings) }, ...problemResponses(409) },
  }), async (c) => {
    const { asset, warnings } = await registerAsset(ctx, c.get('principal'), c.req.valid('json'));
    c.header('location', `/api/v1/assets/${asset.id}`);
    c.header('etag', etag(asset.version));
    return c.json({ ...asset, warnings }, 201);
  });

  const BulkResult = z.object({
    dryRun: z.boolean(), total: z.number().int(), registered: z.number().int(), rejected: z.number().int(),
    results: z.array(z.object({ row: z.number().int(), id: z.string().optional(), status: z.enum(['registered', 'valid', 'rejected']), errors: z.array(z.any()).optional(), warnings: z.array(Warning).optional(), existingAssetId: z.string().optional() })),
  }).openapi('BulkResult');

  app.openapi(createRoute({
    method: 'post', path: '/bulk', tags, security, summary: 'Bulk registration, atomic per batch (NDJSON or CSV; dryRun=true validates only)',
    middleware: [idempotency(ctx.db, ctx.clock)] as const,
    request: {
      query: z.object({ dryRun: z.enum(['true', 'false']).optional() }),
      body: { required: true, content: { 'application/x-ndjson': { schema: z.string().openapi({ description: 'One AssetInput per line' }) }, 'text/csv': { schema: z.string().openapi({ description: 'Header row with the export’s column names' }) } } },
    },
    responses: { 200: { description: 'Dry run: every row valid', content: json(BulkResult) }, 201: { description: 'All rows registered', content: json(BulkResult) }, ...problemResponses(409, 413, 415) },
  }), async (c) => {
    const len = Number(c.req.header('content-length') ?? 0);
    if (len > opts.maxBulkBytes) throw new Problem('REQUEST-TOO-LARGE', `A bulk body is at most ${opts.maxBulkBytes} bytes.`);
    const text = await c.req.text();
    if (text.length > opts.maxBulkBytes) throw new Problem('REQUEST-TOO-LARGE', `A bulk body is at most ${opts.maxBulkBytes} bytes.`);
    const rows = parseBulkBody(c.req.header('content-type') ?? '', text);
    if (rows.length === 0) throw new Problem('BULK-EMPTY');
    if (rows.length > MAX_BULK_ROWS) throw new Problem('BULK-TOO-MANY-ROWS', `${rows.length} rows; at most ${MAX_BULK_ROWS} per batch.`);
    const dryRun = c.req.valid('query').dryRun === 'true';
    const out = await registerAssets(ctx, c.get('principal'), rows, { dryRun, source: 'bulk' });
    const rejected = out.results.filter((r) => r.status === 'rejected');
    const body = { dryRun, total: rows.length, registered: out.ok && !dryRun ? rows.length : 0, rejected: rejected.length };
    if (!out.ok) throw new Problem('BULK-ROWS-INVALID', `${rejected.length} of ${rows.length} rows are invalid; nothing was written.`, { ...body, results: rejected });
    return c.json({ ...body, results: out.results }, dryRun ? 200 : 201);
  });

  app.openapi(createRoute({
    method: 'get', path: '/export', tags, security, summary: 'Export visible assets, streamed (UC-02.04)',
    request: { query: Filters.extend({ format: z.enum(['ndjson', 'csv']).default('ndjson'), includeDeregistered: z.enum(['true', 'false']).optional() }) },
    responses: { 200: { description: 'NDJSON (one Asset per line) or CSV', content: { 'application/x-ndjson': { schema: z.string() }, 'text/csv': { schema: z.string() } } }, ...problemResponses() },
  }), async (c) => {
    const { format, includeDeregistered, ...q } = c.req.valid('query');
    const stream = exportStream(ctx, c.get('principal'), { ...filtersOf(q), includeDeregistered: includeDeregistered === 'true' }, format);
    return new Response(stream, { status: 200, headers: { 'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson', 'content-disposition': `attachment; filename="assets.${format}"` } });
  });

  app.openapi(createRoute({
    method: 'get', path: '/{id}', tags, security, summary: 'Read an asset, now or as of a time; de-registered assets still resolve',
    request: { params: IdParam, query: z.object({ asOf: z.string().datetime({ offset: true }).optional().openapi({ description: 'RFC 3339 time: the version in force then' }) }) },
    responses: { 200: { description: 'The asset', content: json(Asset) }, ...problemResponses(404) },
  }), async (c) => {
    const asOf = c.req.valid('query').asOf;
    const asset = await getAsset(ctx, c.get('principal'), c.req.valid('param').id, asOf ? new Date(asOf) : undefined);
    await logAssetRead(ctx, c.get('principal'), 'GET /api/v1/assets/{id}', asset.id, [partiesOf(asset)], asOf ? { asked: { asOf } } : {});
    c.header('etag', etag(asset.version));
    return c.json(asset, 200);
  });

  app.openapi(createRoute({
    method: 'patch', path: '/{id}', tags, security, summary: 'Update an asset (UC-02.03); JSON merge patch, If-Match required',
    request: { params: IdParam, body: { required: true, content: json(AssetPatch) }, headers: z.object({ 'if-match': z.string().optional() }) },
    responses: { 200: { description: 'Updated', content: json(AssetWithWarnings) }, ...problemResponses(404, 409, 412, 428) },
  }), async (c) => {
    const { asset, warnings } = await updateAsset(ctx, c.get('principal'), c.req.valid('param').id, c.req.valid('json'), requireIfMatch(c));
    c.header('etag', etag(asset.version));
    return c.json({ ...asset, warnings }, 200);
  });

  app.openapi(createRoute({
    method: 'delete', path: '/{id}', tags, security, summary: 'De-register an asset (UC-02.02): soft delete, the ID stays resolvable',
    request: { params: IdParam, query: z.object({ reason: z.string().max(500).optional() }), headers: z.object({ 'if-match': z.string().optional() }) },
    responses: { 200: { description: 'De-registered', content: json(Asset) }, ...problemResponses(404, 409, 412) },
  }), async (c) => {
    const h = c.req.header('if-match');
    const asset = await deregisterAsset(ctx, c.get('principal'), c.req.valid('param').id, { ifMatch: h ? parseIfMatch(h) : undefined, reason: c.req.valid('query').reason });
    c.header('etag', etag(asset.version));
    return c.json(asset, 200);
  });

  app.openapi(createRoute({
    method: 'get', path: '/{id}/history', tags, security, summary: 'Every version of an asset, newest first',
    request: { params: IdParam },
    responses: { 200: { description: 'Versions', content: json(z.object({ items: z.array(Asset) })) }, ...problemResponses(404) },
  }), async (c) => {
    const items = await assetHistory(ctx, c.get('principal'), c.req.valid('param').id);
    // Every version's parties: an earlier FSP's period is its data too.
    await logAssetRead(ctx, c.get('principal'), 'GET /api/v1/assets/{id}/history', items[0].id, [{ id: items[0].id, parties: items.flatMap((v) => [v.organisationId, v.fspId]) }]);
    return c.json({ items }, 200);
  });

  app.openapi(createRoute({
    method: 'get', path: '/{id}/fsp-links', tags, security, summary: 'Which FSP controlled the asset, over which period',
    request: { params: IdParam },
    responses: { 200: { description: 'Links', content: json(z.object({ items: z.array(z.object({ fspId: z.string(), validFrom: z.string(), validTo: z.string().nullable(), recordedAt: z.string(), recordedBy: z.string() })) })) }, ...problemResponses(404) },
  }), async (c) => {
    const { asset, links } = await assetFspLinks(ctx, c.get('principal'), c.req.valid('param').id);
    await logAssetRead(ctx, c.get('principal'), 'GET /api/v1/assets/{id}/fsp-links', asset.id, [{ id: asset.id, parties: [asset.organisationId, asset.fspId, ...links.map((l) => l.fspId)] }]);
    return c.json({ items: links }, 200);
  });

  return app;
}

/**
 * Stream every matching asset as NDJSON or CSV, a keyset page at a time. A page holding another
 * organisation's assets is logged (one record per page, counts and ID range) before it is sent.
 */
export function exportStream(ctx: Ctx, p: Principal, f: AssetFilter, format: 'ndjson' | 'csv', pageSize = 1000): ReadableStream<Uint8Array> {
  const asked = { ...f, identifier: f.identifier ? `${f.identifier.scheme}:${f.identifier.value}` : undefined, format };
  return textStream((async function* () {
    if (format === 'csv') yield csvHeader();
    for await (const page of assetPages(ctx, p, f, pageSize)) {
      await logAssetRead(ctx, p, 'GET /api/v1/assets/export', 'export', page.map(partiesOf), { asked, listIds: false });
      yield page.map((a) => (format === 'csv' ? assetToCsv(a) : JSON.stringify(a) + '\n')).join('');
    }
  })());
}
