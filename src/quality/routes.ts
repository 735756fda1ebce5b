import { OpenAPIHono, z } from '@hono/zod-openapi';
import { apiRoute } from '../access/api-route';
import type { AuthEnv } from '../access/auth';
import type { Ctx } from '../context';
import {
  etag,
  Page,
  parseIfMatch,
  decodeCursor,
  idempotency,
  json,
  encodeCursor,
  requireIfMatch,
  problemResponses,
  security,
  validationHook,
} from '../http/common';
import type { ExternalRegistries } from './registries';
import {
  Advisory,
  DqRule,
  DqRuleInput,
  DqRulePatch,
  Finding,
  RULE_KINDS,
  Scorecard,
  ScorecardHistory,
  ValidateInput,
  ValidationResult,
} from './schema';
import {
  assetFindings,
  createRule,
  getRule,
  getScorecard,
  getScorecardHistory,
  listFindings,
  listRules,
  ruleHistory,
  updateRule,
  validateAsset,
} from './service';

const tags = ['Data quality'];
const CodeParam = z.object({
  code: z
    .string()
    .max(64)
    .openapi({ param: { name: 'code', in: 'path' }, example: 'DQ-MPAN-DNO-MATCH' }),
});
const IdParam = z.object({
  id: z
    .string()
    .max(64)
    .openapi({ param: { name: 'id', in: 'path' }, example: '01JD8X6N2Q7ZB4Y3W5V6T7S8R9' }),
});
const DnoParam = z.object({
  code: z
    .string()
    .max(32)
    .openapi({ param: { name: 'code', in: 'path' }, example: 'SPEN_SPM' }),
});
const Status = z.enum(['open', 'resolved', 'all']).optional().openapi({ description: 'open (default), resolved or all' });
const HistoryQuery = z.object({
  from: z.string().optional().openapi({ description: 'First UTC day (YYYY-MM-DD), included; default 29 days before `to`.' }),
  to: z.string().optional().openapi({ description: 'Last UTC day (YYYY-MM-DD), included; default today. At most 366 days from `from`.' }),
});
const FindingPage = z.object({ items: z.array(Finding), nextCursor: z.string().nullable() });

/** Data quality (docs/data-quality.md): rules under /data-quality, and the asset's own findings and validation. */
export function qualityRoutes(ctx: Ctx, registries: () => ExternalRegistries) {
  const app = new OpenAPIHono<AuthEnv>({ defaultHook: validationHook });

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/data-quality/rules',
      action: 'data-quality.rules.read',
      tags,
      security,
      summary: 'List the data quality rules',
      request: { query: z.object({ active: z.enum(['true', 'false']).optional(), kind: z.enum(RULE_KINDS).optional() }) },
      responses: {
        200: { description: 'Every rule matching the filter, in code order', content: json(z.object({ items: z.array(DqRule) })) },
        ...problemResponses(),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      return c.json(
        { items: await listRules(ctx, { active: q.active === undefined ? undefined : q.active === 'true', kind: q.kind }) },
        200,
      );
    },
  );

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/data-quality/rules',
      action: 'data-quality.rules.write',
      tags,
      security,
      summary: 'Create a data quality rule (the operator)',
      middleware: [idempotency(ctx.db, ctx.clock)] as const,
      request: { body: { required: true, content: json(DqRuleInput) }, headers: z.object({ 'idempotency-key': z.string().optional() }) },
      responses: { 201: { description: 'Created', content: json(DqRule) }, ...problemResponses(409) },
    }),
    async (c) => {
      const rule = await createRule(ctx, c.get('principal'), c.req.valid('json'));
      c.header('location', `/api/v1/data-quality/rules/${rule.code}`);
      c.header('etag', etag(rule.version));
      return c.json(rule, 201);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/data-quality/rules/{code}',
      action: 'data-quality.rules.read',
      tags,
      security,
      summary: 'Read a data quality rule',
      request: { params: CodeParam },
      responses: { 200: { description: 'The rule', content: json(DqRule) }, ...problemResponses(404) },
    }),
    async (c) => {
      const rule = await getRule(ctx, c.req.valid('param').code);
      c.header('etag', etag(rule.version));
      return c.json(rule, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'patch',
      path: '/data-quality/rules/{code}',
      action: 'data-quality.rules.write',
      tags,
      security,
      summary: 'Change a data quality rule, or (de)activate it with `active`; If-Match required',
      request: {
        params: CodeParam,
        body: { required: true, content: json(DqRulePatch) },
        headers: z.object({ 'if-match': z.string().optional() }),
      },
      responses: { 200: { description: 'Updated', content: json(DqRule) }, ...problemResponses(404, 409, 412, 428) },
    }),
    async (c) => {
      const rule = await updateRule(ctx, c.get('principal'), c.req.valid('param').code, c.req.valid('json'), requireIfMatch(c));
      c.header('etag', etag(rule.version));
      return c.json(rule, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'delete',
      path: '/data-quality/rules/{code}',
      action: 'data-quality.rules.write',
      tags,
      security,
      summary: 'Deactivate a data quality rule (its open findings close); If-Match optional',
      request: { params: CodeParam, headers: z.object({ 'if-match': z.string().optional() }) },
      responses: { 200: { description: 'Deactivated', content: json(DqRule) }, ...problemResponses(404, 409, 412) },
    }),
    async (c) => {
      const h = c.req.header('if-match');
      const rule = await updateRule(ctx, c.get('principal'), c.req.valid('param').code, { active: false }, h ? parseIfMatch(h) : undefined);
      c.header('etag', etag(rule.version));
      return c.json(rule, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/data-quality/rules/{code}/history',
      action: 'data-quality.rules.read',
      tags,
      security,
      summary: 'Every version of a data quality rule, newest first',
      request: { params: CodeParam },
      responses: { 200: { description: 'Versions', content: json(z.object({ items: z.array(DqRule) })) }, ...problemResponses(404) },
    }),
    async (c) => c.json({ items: await ruleHistory(ctx, c.req.valid('param').code) }, 200),
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/data-quality/findings',
      action: 'data-quality.read',
      tags,
      security,
      summary:
        'List visible findings: WARNING and ERROR results (INFO results are advisories on the asset); keyset paginated, open ones unless status says otherwise',
      request: {
        query: Page.extend({
          assetId: z.string().max(64).optional(),
          organisationId: z.string().max(64).optional(),
          ruleCode: z.string().max(64).optional(),
          status: Status,
        }),
      },
      responses: { 200: { description: 'A page of findings in ID order', content: json(FindingPage) }, ...problemResponses() },
    }),
    async (c) => {
      const { limit, cursor, ...q } = c.req.valid('query');
      const page = await listFindings(ctx, c.get('principal'), q, { limit, after: decodeCursor(cursor) });
      return c.json({ items: page.items, nextCursor: encodeCursor(page.next) }, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/data-quality/scorecards/organisations/{id}',
      action: 'data-quality.read',
      tags,
      security,
      summary: 'An organisation’s scorecard: the assets it controls or owns',
      request: { params: IdParam },
      responses: {
        200: { description: 'The scorecard (zeros when it has no assets)', content: json(Scorecard) },
        ...problemResponses(404),
      },
    }),
    async (c) => c.json(await getScorecard(ctx, c.get('principal'), 'organisation', c.req.valid('param').id), 200),
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/data-quality/scorecards/dnos/{code}',
      action: 'data-quality.read',
      tags,
      security,
      summary: 'A DNO licence area’s scorecard: the assets on its network',
      request: { params: DnoParam },
      responses: {
        200: { description: 'The scorecard (zeros when no asset names the DNO)', content: json(Scorecard) },
        ...problemResponses(404),
      },
    }),
    async (c) => c.json(await getScorecard(ctx, c.get('principal'), 'dno', c.req.valid('param').code), 200),
  );

  for (const [scope, path, Param, what] of [
    ['organisation', '/data-quality/scorecards/organisations/{id}/history', IdParam, 'An organisation’s scorecard'],
    ['dno', '/data-quality/scorecards/dnos/{code}/history', DnoParam, 'A DNO licence area’s scorecard'],
  ] as const)
    app.openapi(
      apiRoute({
        method: 'get',
        path,
        action: 'data-quality.read',
        tags,
        security,
        summary: `${what} over time: one point per day, oldest first`,
        request: { params: Param, query: HistoryQuery },
        responses: {
          200: { description: 'The daily points from `from` to `to` (no point for a day not recorded)', content: json(ScorecardHistory) },
          ...problemResponses(404, 422),
        },
      }),
      async (c) => {
        const prm = c.req.valid('param') as { id?: string; code?: string };
        const key = (scope === 'organisation' ? prm.id : prm.code)!;
        return c.json(await getScorecardHistory(ctx, c.get('principal'), scope, key, c.req.valid('query')), 200);
      },
    );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/assets/{id}/findings',
      action: 'data-quality.read',
      tags,
      security,
      summary: 'The asset’s score and findings (open unless status says otherwise)',
      request: { params: IdParam, query: Page.extend({ status: Status }) },
      responses: {
        200: {
          description: 'Score, advisories (INFO rules the asset fails) and a page of findings (WARNING and ERROR)',
          content: json(FindingPage.extend({ score: z.number().int().nullable(), advisories: z.array(Advisory) })),
        },
        ...problemResponses(404),
      },
    }),
    async (c) => {
      const { limit, cursor, status } = c.req.valid('query');
      const r = await assetFindings(ctx, c.get('principal'), c.req.valid('param').id, status, { limit, after: decodeCursor(cursor) });
      return c.json({ score: r.score, advisories: r.advisories, items: r.items, nextCursor: encodeCursor(r.next) }, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/assets/{id}/validate',
      action: 'data-quality.validate',
      tags,
      security,
      summary: 'Run the external checks on an asset and set it Verified or Query (the operator)',
      request: { params: IdParam, body: { required: false, content: json(ValidateInput) } },
      responses: { 200: { description: 'The outcome', content: json(ValidationResult) }, ...problemResponses(404, 409) },
    }),
    async (c) => {
      const { asset, result } = await validateAsset(
        ctx,
        c.get('principal'),
        registries(),
        c.req.valid('param').id,
        c.req.valid('json') ?? {},
      );
      c.header('etag', etag(asset.version));
      return c.json(result, 200);
    },
  );

  return app;
}
