import { OpenAPIHono, z } from '@hono/zod-openapi';
import { apiRoute } from '../access/api-route';
import type { Context } from 'hono';
import type { AuthEnv } from '../access/auth';
import { validatingCodes } from '../catalogue/routes';
import { codeFilter } from '../catalogue/schema';
import type { Ctx } from '../context';
import { Page, decodeCursor, encodeCursor, problemResponses, security, validationHook } from '../http/common';
import { Problem, type FieldError } from '../http/problem';
import type { CimParser } from '../ports';
import type { RuleCode } from '../rules';
import { enqueueCimImport, getCimJob, getCimJobReport, JOBS_PATH, listCimJobs } from './jobs';
import { cimExportStream, importCim } from './service';

const tags = ['CIM'];
const XML_TYPES = ['application/rdf+xml', 'application/xml', 'text/xml'];

/**
 * The body in one buffer of its declared length, each chunk copied in as it arrives: no list of
 * chunks and no second copy of a 60 MB document (their garbage made the event loop pause for whole
 * collections), and the limit holds for a body without Content-Length too.
 */
async function readBody(c: Context, maxBytes: number): Promise<Uint8Array> {
  const reader = c.req.raw.body?.getReader();
  if (!reader) return new Uint8Array(0);
  const declared = Number(c.req.header('content-length'));
  let buf = new Uint8Array(Number.isSafeInteger(declared) && declared > 0 ? declared : 65_536);
  let n = 0;
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    const chunk = r.value;
    if (n + chunk.byteLength > maxBytes) {
      await reader.cancel();
      throw new Problem('CIM-XML-TOO-LARGE', `An import is at most ${maxBytes} bytes.`);
    }
    if (n + chunk.byteLength > buf.byteLength) {
      const grown = new Uint8Array(Math.min(maxBytes, Math.max(2 * buf.byteLength, n + chunk.byteLength)));
      grown.set(buf.subarray(0, n));
      buf = grown;
    }
    buf.set(chunk, n);
    n += chunk.byteLength;
  }
  return n === buf.byteLength ? buf : buf.slice(0, n);
}

/** The body of an import: one XML document, or multipart with one part per file of the model. */
async function readFiles(c: Context, maxBytes: number): Promise<{ name: string; content: Uint8Array }[]> {
  const type = (c.req.header('content-type') ?? '').split(';')[0].trim().toLowerCase();
  const len = Number(c.req.header('content-length') ?? 0);
  if (len > maxBytes) throw new Problem('CIM-XML-TOO-LARGE', `An import is at most ${maxBytes} bytes.`);
  let files: { name: string; content: Uint8Array }[];
  if (XML_TYPES.includes(type)) {
    files = [{ name: c.req.header('x-file-name')?.slice(0, 200) || 'body.xml', content: await readBody(c, maxBytes) }];
  } else if (type === 'multipart/form-data') {
    // A body that is not multipart as its boundary says (the platform's parser throws a TypeError): the client's fault, not a 500.
    const body = await c.req.parseBody({ all: true }).catch(() => {
      throw new Problem(
        'REQUEST-MALFORMED-MULTIPART',
        'The body cannot be parsed as multipart/form-data with the boundary its Content-Type names.',
      );
    });
    const parts = Object.values(body)
      .flat()
      .filter((v): v is File => typeof v === 'object' && v !== null && 'arrayBuffer' in v);
    files = await Promise.all(
      parts.map(async (f, i) => ({ name: f.name || `part-${i + 1}.xml`, content: new Uint8Array(await f.arrayBuffer()) })),
    );
    if (!files.length) throw new Problem('REQUEST-UNSUPPORTED-MEDIA-TYPE', 'The multipart body holds no file part.');
  } else {
    throw new Problem(
      'REQUEST-UNSUPPORTED-MEDIA-TYPE',
      'Send application/rdf+xml, application/xml, or multipart/form-data with one part per file.',
    );
  }
  return files;
}

/**
 * A job's body that is one RDF/XML document larger than an import (or of unknown length), as a
 * stream (written to the database as it arrives); undefined for multipart and for a document that
 * says it is within `bufferedMax`, which is read whole as before. Both store the same 64 KiB parts,
 * one statement each; on the embedded database each statement holds this thread while it runs (up to
 * 75 ms at the 99th percentile and 152 ms at most per part on a loaded machine, docs/performance.md), so
 * neither keeps test/attack-stall.test.ts's 100 ms bound there under load; on a quiet machine both do,
 * on either database (the test runs both). The stream is kept for what only it can take.
 */
function streamedBody(
  c: Context,
  bufferedMax: number,
  maxBytes: number,
): { name: string; content: ReadableStream<Uint8Array> } | undefined {
  const type = (c.req.header('content-type') ?? '').split(';')[0].trim().toLowerCase();
  if (!XML_TYPES.includes(type)) return undefined;
  const declared = c.req.header('content-length');
  if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) <= bufferedMax) return undefined;
  const len = Number(declared ?? 0);
  if (len > maxBytes) throw new Problem('CIM-XML-TOO-LARGE', `An import job is at most ${maxBytes} bytes.`);
  return {
    name: c.req.header('x-file-name')?.slice(0, 200) || 'body.xml',
    content: c.req.raw.body ?? new ReadableStream<Uint8Array>({ start: (k) => k.close() }),
  };
}

const ExportQuery = z.object({
  dno: codeFilter('dno-codes', 'SPEN_SPM').optional(),
  gspGroup: codeFilter('gsp-groups', '_N').optional(),
  category: codeFilter('asset-categories', 'BESS').optional(),
  organisationId: z.string().max(64).optional(),
});

/** CIM RDF/XML exchange with DSOs: export (streamed) and import (enrich or bulk-load). */
/**
 * `maxBytes` bounds an import request and a multipart job; `maxJobBytes` a job whose body is one
 * RDF/XML document, which is streamed to the database as it arrives (FMAR_MAX_CIM_JOB_BYTES).
 */
export function cimRoutes(ctx: Ctx, opts: { baseUrl: string; maxBytes: number; maxJobBytes?: number; parser?: CimParser }) {
  const app = new OpenAPIHono<AuthEnv>({ defaultHook: validationHook });

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/export',
      action: 'cim.export',
      tags,
      security,
      summary: 'Visible assets as CIM RDF/XML (CIM100, md:FullModel header), streamed in asset-ID order',
      request: {
        query: ExportQuery,
      },
      responses: {
        200: { description: 'RDF/XML per docs/cim-profile.md', content: { 'application/rdf+xml': { schema: z.string() } } },
        ...problemResponses(),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const stream = cimExportStream(ctx, c.get('principal'), q, opts.baseUrl);
      return new Response(stream, {
        status: 200,
        headers: { 'content-type': 'application/rdf+xml; charset=utf-8', 'content-disposition': 'attachment; filename="fmar-assets.xml"' },
      });
    },
    validatingCodes(ctx, 'query', ExportQuery),
  );

  const Report = z
    .object({
      mode: z.enum(['enrich', 'bulk-load']),
      dryRun: z.boolean(),
      unit: z.string(),
      files: z.array(
        z.object({
          name: z.string(),
          created: z.string().optional(),
          profiles: z.array(z.string()),
          modelingAuthoritySet: z.string().optional(),
        }),
      ),
      objects: z.number().int(),
      classes: z.record(z.string(), z.number()),
      used: z.record(z.string(), z.number()).openapi({
        description:
          'Objects per class from which something was taken; a class of `classes` missing here has a CIM-CLASS-UNKNOWN or CIM-CLASS-NOT-USED issue',
      }),
      equipment: z.number().int(),
      matched: z.number().int().optional(),
      enriched: z.number().int().optional(),
      wouldEnrich: z.number().int().optional().openapi({ description: 'Enrich dry run: matched assets the import would change' }),
      unchanged: z.number().int().optional(),
      assets: z
        .array(
          z.object({
            assetId: z.string(),
            equipmentMrid: z.string(),
            outcome: z.enum(['enriched', 'would-enrich', 'unchanged']),
            changes: z.record(z.string(), z.object({ from: z.unknown(), to: z.unknown() })),
          }),
        )
        .optional()
        .openapi({ description: 'Enrich: each matched asset, its outcome and each changed field from → to' }),
      organisations: z
        .object({
          matched: z.number().int(),
          unmatched: z.number().int(),
          enriched: z.number().int(),
          wouldEnrich: z.number().int(),
          offered: z.number().int(),
          unchanged: z.number().int(),
          items: z.array(
            z.object({
              mrid: z.string(),
              name: z.string().optional(),
              roles: z.array(z.string()),
              identifiers: z.array(z.object({ scheme: z.string(), value: z.string() })),
              status: z.enum(['matched', 'unmatched', 'ambiguous']),
              organisationId: z.string().optional(),
              matchedBy: z.array(z.string()).optional(),
              outcome: z.enum(['enriched', 'would-enrich', 'offered', 'unchanged']).optional(),
              add: z.array(z.object({ scheme: z.string(), value: z.string() })).optional(),
              invalid: z.array(z.object({ scheme: z.string(), value: z.string() })).optional(),
            }),
          ),
        })
        .optional()
        .openapi({
          description: 'Enrich: the file’s Organisations matched by EIC or Companies House number, and the identifiers offered to them',
        }),
      limits: z
        .object({
          read: z.number().int(),
          recorded: z.number().int(),
          updated: z.number().int(),
          unchanged: z.number().int(),
          rejected: z.number().int(),
          wouldRecord: z.number().int(),
          wouldUpdate: z.number().int(),
          items: z.array(
            z.object({
              mrid: z.string(),
              at: z.object({ file: z.string(), line: z.number(), col: z.number() }).partial(),
              mpan: z.string().optional(),
              validFrom: z.string().optional(),
              outcome: z.enum(['recorded', 'would-record', 'updated', 'would-update', 'unchanged', 'rejected']),
              connectionLimitId: z.string().optional(),
              changes: z.record(z.string(), z.object({ from: z.unknown(), to: z.unknown() })).optional(),
              code: z.string().optional(),
              detail: z.string().optional(),
            }),
          ),
        })
        .optional()
        .openapi({
          description:
            'Enrich: the connection limits of the file (OperationalLimitSets with ActivePowerLimits), each recorded, updated, unchanged or rejected with its rule code (docs/connection-limits.md)',
        }),
      registered: z.number().int().optional(),
      results: z.array(z.any()).optional(),
      issueCounts: z.record(z.string(), z.number()),
      issues: z.array(
        z
          .object({
            code: z.string(),
            message: z.string(),
            file: z.string().optional(),
            line: z.number().optional(),
            col: z.number().optional(),
          })
          .passthrough(),
      ),
    })
    .openapi('CimImportReport');

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/import',
      action: 'cim.import',
      tags,
      security,
      summary:
        'Import CIM RDF/XML (CIM16, CIM100, CIM18): enrich assets matched by MPAN, or bulk-load new assets (atomic; dryRun=true validates only)',
      request: {
        query: z.object({
          mode: z.enum(['enrich', 'bulk-load']).default('enrich'),
          dryRun: z.enum(['true', 'false']).optional(),
          unit: z
            .enum(['W', 'kW', 'MW'])
            .default('W')
            .openapi({ description: 'Unit of the file’s power values (per source: CIMHub writes W, CGMES MW)' }),
          organisationId: z
            .string()
            .max(64)
            .optional()
            .openapi({ description: 'bulk-load: owning organisation of equipment whose file names none (the operator must name one)' }),
        }),
        body: {
          required: true,
          content: {
            'application/rdf+xml': {
              schema: z
                .string()
                .openapi({ description: 'One file; or multipart/form-data with one part per file of the model (EQ, SSH, ...)' }),
            },
            'application/xml': { schema: z.string() },
          },
        },
      },
      responses: {
        200: { description: 'Enriched, or dry run', content: { 'application/json': { schema: Report } } },
        201: { description: 'Bulk-loaded', content: { 'application/json': { schema: Report } } },
        ...problemResponses(413, 415),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const files = await readFiles(c, opts.maxBytes);
      const { status, report } = await importCim(ctx, c.get('principal'), files, {
        mode: q.mode,
        dryRun: q.dryRun === 'true',
        unit: q.unit,
        maxBytes: opts.maxBytes,
        organisationId: q.organisationId,
        parser: opts.parser,
      });
      return c.json(report, status as 200 | 201);
    },
  );

  const ImportQuery = z.object({
    mode: z.enum(['enrich', 'bulk-load']).default('enrich'),
    dryRun: z.enum(['true', 'false']).optional(),
    unit: z
      .enum(['W', 'kW', 'MW'])
      .default('W')
      .openapi({ description: 'Unit of the file’s power values (per source: CIMHub writes W, CGMES MW)' }),
    organisationId: z
      .string()
      .max(64)
      .optional()
      .openapi({ description: 'bulk-load: owning organisation of equipment whose file names none (the operator must name one)' }),
  });
  const Job = z
    .object({
      id: z.string(),
      status: z.enum(['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED']),
      mode: z.enum(['enrich', 'bulk-load']),
      dryRun: z.boolean(),
      unit: z.string(),
      organisationId: z.string(),
      files: z.array(z.object({ name: z.string(), bytes: z.number().int() })),
      progress: z.object({
        phase: z
          .enum(['parsing', 'writing'])
          .nullable()
          .openapi({ description: 'While RUNNING: parsing the files, or writing (matching and the one transaction)' }),
        bytesTotal: z.number().int(),
        bytesParsed: z.number().int(),
        objectsProcessed: z.number().int(),
        equipment: z.number().int(),
        assetsMatched: z.number().int().openapi({
          description: 'Enrich: equipment matched to assets by MPAN; bulk-load: assets registered. Set when the job succeeds.',
        }),
      }),
      attempt: z
        .number()
        .int()
        .openapi({ description: 'Claims so far (a job whose worker stopped is claimed again when its lease runs out)' }),
      createdAt: z.string(),
      startedAt: z.string().nullable(),
      finishedAt: z.string().nullable(),
      report: z.string().nullable().openapi({ description: 'Path of the report once the job has finished' }),
      error: z.object({ code: z.string(), detail: z.string() }).nullable(),
    })
    .openapi('CimImportJob');
  const JobId = z.object({ id: z.string().max(64) });

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/import-jobs',
      action: 'cim.import',
      tags,
      security,
      summary: 'Queue a large CIM import (same options and body as /cim/import); a worker runs it in the background, all or nothing',
      request: {
        query: ImportQuery,
        body: { required: true, content: { 'application/rdf+xml': { schema: z.string() }, 'application/xml': { schema: z.string() } } },
      },
      responses: {
        202: { description: 'Queued; Location is the job', content: { 'application/json': { schema: Job } } },
        ...problemResponses(413, 415),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const streamed = streamedBody(c, opts.maxBytes, opts.maxJobBytes ?? opts.maxBytes);
      const files = streamed ? [streamed] : await readFiles(c, opts.maxBytes);
      const job = await enqueueCimImport(ctx, c.get('principal'), files, {
        mode: q.mode,
        dryRun: q.dryRun === 'true',
        unit: q.unit,
        maxBytes: streamed ? (opts.maxJobBytes ?? opts.maxBytes) : opts.maxBytes,
        organisationId: q.organisationId,
      });
      return c.json(job, 202, { location: `${JOBS_PATH}/${job.id}` });
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/import-jobs',
      action: 'cim.import',
      tags,
      security,
      summary: 'The import jobs of the caller’s organisation (the operator: all), newest first, keyset-paginated',
      request: { query: Page },
      responses: {
        200: {
          description: 'A page of jobs',
          content: { 'application/json': { schema: z.object({ items: z.array(Job), nextCursor: z.string().nullable() }) } },
        },
        ...problemResponses(),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const page = await listCimJobs(ctx, c.get('principal'), { limit: q.limit, before: decodeCursor(q.cursor) });
      return c.json({ items: page.items, nextCursor: encodeCursor(page.next) }, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/import-jobs/{id}',
      action: 'cim.import',
      tags,
      security,
      summary: 'An import job: status, progress, timestamps (its organisation and the operator only)',
      request: { params: JobId },
      responses: { 200: { description: 'The job', content: { 'application/json': { schema: Job } } }, ...problemResponses(404) },
    }),
    async (c) => c.json(await getCimJob(ctx, c.get('principal'), c.req.valid('param').id), 200),
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/import-jobs/{id}/report',
      action: 'cim.import',
      tags,
      security,
      summary:
        'The finished job’s outcome as /cim/import answers it: the report (200, 201 for a bulk-load that registered), or the problem that refused the import',
      request: { params: JobId },
      responses: {
        200: { description: 'Report', content: { 'application/json': { schema: Report } } },
        201: { description: 'Bulk-loaded', content: { 'application/json': { schema: Report } } },
        ...problemResponses(404, 409),
      },
    }),
    async (c) => {
      const r = await getCimJobReport(ctx, c.get('principal'), c.req.valid('param').id);
      if (r.status >= 400) {
        // The stored problem, answered as the synchronous import answered it.
        const {
          type: _t,
          title: _ti,
          status: _s,
          code,
          detail,
          errors,
          ...extra
        } = r.body as { code: RuleCode; detail?: string; errors?: FieldError[]; [k: string]: unknown };
        throw new Problem(code, detail, extra, errors ?? [], r.status);
      }
      return c.json(r.body as z.infer<typeof Report>, r.status as 200 | 201);
    },
  );

  return app;
}
