import { OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { apiRoute } from '../access/api-route';
import type { AuthEnv } from '../access/auth';
import type { Ctx } from '../context';
import { etag, idempotency, json, requireIfMatch, problemResponses, security, validationHook } from '../http/common';
import {
  CatalogueCode,
  CatalogueCodeInput,
  CatalogueCodePatch,
  CatalogueQuery,
  CatalogueSummary,
  CatalogueWithCodes,
  parseWithCodes,
} from './schema';
import { catalogueSnapshot } from './snapshot';
import { addCode, codeHistory, getCatalogue, getCode, listCatalogues, updateCode } from './service';

const tags = ['Catalogues'];
const NameParam = z.object({
  name: z
    .string()
    .max(64)
    .openapi({ param: { name: 'name', in: 'path' }, example: 'asset-categories' }),
});
const CodeParams = NameParam.extend({
  code: z
    .string()
    .max(64)
    .openapi({ param: { name: 'code', in: 'path' }, example: 'BESS' }),
});

/** Query parameters that filter lists and exports by a catalogue code (src/assets/routes.ts, src/cim/routes.ts). */
const CODE_FILTERS = ['dno', 'category', 'gspGroup'];

/** The query as hono/validator gives it to the schema. */
const queryInput = (c: Context): Record<string, string | string[]> =>
  Object.fromEntries(Object.entries(c.req.queries()).map(([k, v]) => (v.length === 1 ? [k, v[0]] : [k, v])));

/** The body as hono/validator gives it to the schema: the JSON (Hono keeps it parsed), none unless the media type is JSON. */
async function jsonInput(c: Context): Promise<unknown> {
  const type = (c.req.header('content-type') ?? '').split(';')[0].trim().toLowerCase();
  return /^application\/([\w.-]+\+)?json$/i.test(type) ? c.req.json() : {};
}

/**
 * The validator hook of a route whose body (`json`) or query holds codes (codeField, codeFilter):
 * that part of the request is parsed again with this database's catalogue snapshot
 * (parseWithCodes), so an unknown code is refused with the other field errors of the same parse,
 * as one problem. Other parts are validated as by validationHook.
 */
export function validatingCodes(ctx: Ctx, target: 'json' | 'query', schema: z.ZodType) {
  const check = async (result: { success: boolean; error?: z.ZodError; data?: unknown; target: string }, c: Context): Promise<void> => {
    if (result.target !== target) return validationHook(result);
    let raw: unknown;
    if (target === 'query') {
      const query = queryInput(c);
      // A list without a code filter (the lookup by MPAN among them) reads no snapshot.
      if (!CODE_FILTERS.some((k) => query[k] !== undefined)) return validationHook(result);
      raw = query;
    } else {
      raw = await jsonInput(c);
    }
    const codes = await catalogueSnapshot(ctx.db, ctx.clock);
    const parsed = parseWithCodes(codes, () => schema.safeParse(raw));
    validationHook({ success: parsed.success, error: parsed.error, data: parsed.success ? parsed.data : raw, target });
  };
  // The validator awaits its hook and goes on when it answers nothing; a route's hook type admits no
  // promise of nothing, so the promise is typed as one that never answers (it resolves to undefined).
  return (result: Parameters<typeof check>[0], c: Context) => check(result, c) as Promise<never>;
}

/** Catalogues (UC-05.07): docs/catalogues.md. */
export function catalogueRoutes(ctx: Ctx) {
  const app = new OpenAPIHono<AuthEnv>({ defaultHook: validationHook });

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/',
      action: 'catalogues.read',
      tags,
      security,
      summary: 'List the catalogues (code lists), with their policy and code counts',
      responses: {
        200: { description: 'Every catalogue', content: json(z.object({ items: z.array(CatalogueSummary) })) },
        ...problemResponses(),
      },
    }),
    async (c) => c.json({ items: await listCatalogues(ctx) }, 200),
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/{name}',
      action: 'catalogues.read',
      tags,
      security,
      summary: 'A catalogue’s codes in effect on a date (default today), or every code with includeInactive=true',
      request: { params: NameParam, query: CatalogueQuery },
      responses: {
        200: { description: 'The catalogue and its codes, by code', content: json(CatalogueWithCodes) },
        ...problemResponses(404),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      return c.json(await getCatalogue(ctx, c.req.valid('param').name, { at: q.at, includeInactive: q.includeInactive === 'true' }), 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/{name}/codes',
      action: 'catalogues.write',
      tags,
      security,
      summary: 'Add a code to an extensible catalogue (the operator); usable at once',
      middleware: [idempotency(ctx.db, ctx.clock)] as const,
      request: {
        params: NameParam,
        body: { required: true, content: json(CatalogueCodeInput) },
        headers: z.object({ 'idempotency-key': z.string().optional() }),
      },
      responses: { 201: { description: 'Added', content: json(CatalogueCode) }, ...problemResponses(404, 409) },
    }),
    async (c) => {
      const name = c.req.valid('param').name;
      const k = await addCode(ctx, c.get('principal'), name, c.req.valid('json'));
      c.header('location', `/api/v1/catalogues/${name}/codes/${encodeURIComponent(k.code)}`);
      c.header('etag', etag(k.version));
      return c.json(k, 201);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/{name}/codes/{code}',
      action: 'catalogues.read',
      tags,
      security,
      summary: 'Read one code (with its ETag)',
      request: { params: CodeParams },
      responses: { 200: { description: 'The code', content: json(CatalogueCode) }, ...problemResponses(404) },
    }),
    async (c) => {
      const p = c.req.valid('param');
      const k = await getCode(ctx, p.name, p.code);
      c.header('etag', etag(k.version));
      return c.json(k, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'patch',
      path: '/{name}/codes/{code}',
      action: 'catalogues.write',
      tags,
      security,
      summary: 'Change a code’s label, description, active flag or effective dates (the operator); If-Match required',
      request: {
        params: CodeParams,
        body: { required: true, content: json(CatalogueCodePatch) },
        headers: z.object({ 'if-match': z.string().optional() }),
      },
      responses: { 200: { description: 'Updated', content: json(CatalogueCode) }, ...problemResponses(404, 409, 412, 428) },
    }),
    async (c) => {
      const p = c.req.valid('param');
      const k = await updateCode(ctx, c.get('principal'), p.name, p.code, c.req.valid('json'), requireIfMatch(c));
      c.header('etag', etag(k.version));
      return c.json(k, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/{name}/codes/{code}/history',
      action: 'catalogues.read',
      tags,
      security,
      summary: 'Every version of a code, newest first',
      request: { params: CodeParams },
      responses: { 200: { description: 'Versions', content: json(z.object({ items: z.array(CatalogueCode) })) }, ...problemResponses(404) },
    }),
    async (c) => {
      const p = c.req.valid('param');
      return c.json({ items: await codeHistory(ctx, p.name, p.code) }, 200);
    },
  );

  return app;
}
