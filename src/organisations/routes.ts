import { OpenAPIHono, z } from '@hono/zod-openapi';
import { apiRoute } from '../access/api-route';
import type { AuthEnv } from '../access/auth';
import { validatingCodes } from '../catalogue/routes';
import type { Ctx } from '../context';
import {
  etag,
  Page,
  decodeCursor,
  idempotency,
  json,
  encodeCursor,
  requireIfMatch,
  problemResponses,
  security,
  validationHook,
} from '../http/common';
import { ORGANISATION_STATUSES } from '../catalogue/codes';
import { ORGANISATION_ROLES } from '../access/roles';
import { Organisation, OrganisationInput, OrganisationPatch } from './schema';
import { deregisterOrganisation, getOrganisation, listOrganisations, registerOrganisation, updateOrganisation } from './service';
import { logPrivateRead, othersRecords } from '../audit/reads';

const tags = ['Organisations'];
const IdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: 'id', in: 'path' } }),
});

export function organisationRoutes(ctx: Ctx) {
  const app = new OpenAPIHono<AuthEnv>({ defaultHook: validationHook });

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/',
      action: 'organisations.read',
      tags,
      security,
      summary: 'List organisations (keyset-paginated)',
      request: { query: Page.extend({ role: z.enum(ORGANISATION_ROLES).optional(), status: z.enum(ORGANISATION_STATUSES).optional() }) },
      responses: {
        200: { description: 'A page', content: json(z.object({ items: z.array(Organisation), nextCursor: z.string().nullable() })) },
        ...problemResponses(),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const p = c.get('principal');
      const page = await listOrganisations(ctx, p, { limit: q.limit, after: decodeCursor(q.cursor), role: q.role, status: q.status });
      // The passports of other organisations on the page (served to the operator and regulator only): one record for the page.
      const shares = othersRecords(
        p,
        page.items.filter((o) => o.passport).map((o) => ({ id: o.id, parties: [o.id] })),
      );
      await logPrivateRead(ctx.db, p, ctx.clock.now(), {
        action: 'organisation.passport-read',
        recordType: 'organisation',
        recordId: 'list',
        route: 'GET /api/v1/organisations',
        shares,
        asked: q,
      });
      return c.json({ items: page.items, nextCursor: encodeCursor(page.next) }, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/',
      action: 'organisations.register',
      tags,
      security,
      summary: 'Register an organisation (UC-01.02)',
      middleware: [idempotency(ctx.db, ctx.clock)] as const,
      request: {
        body: { required: true, content: json(OrganisationInput) },
        headers: z.object({ 'idempotency-key': z.string().optional() }),
      },
      responses: { 201: { description: 'Registered', content: json(Organisation) }, ...problemResponses(409) },
    }),
    async (c) => {
      const org = await registerOrganisation(ctx, c.get('principal'), c.req.valid('json'));
      c.header('location', `/api/v1/organisations/${org.id}`);
      c.header('etag', etag(org.version));
      return c.json(org, 201);
    },
    validatingCodes(ctx, 'json', OrganisationInput),
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/{id}',
      action: 'organisations.read',
      tags,
      security,
      summary: 'Read an organisation',
      request: { params: IdParam },
      responses: { 200: { description: 'The organisation', content: json(Organisation) }, ...problemResponses(404) },
    }),
    async (c) => {
      const org = await getOrganisation(ctx, c.get('principal'), c.req.valid('param').id);
      c.header('etag', etag(org.version));
      return c.json(org, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'patch',
      path: '/{id}',
      action: { own: 'organisations.update-own', other: 'organisations.update' },
      tags,
      security,
      summary: 'Update an organisation (UC-01.03); If-Match required',
      request: {
        params: IdParam,
        body: { required: true, content: json(OrganisationPatch) },
        headers: z.object({ 'if-match': z.string().optional() }),
      },
      responses: { 200: { description: 'Updated', content: json(Organisation) }, ...problemResponses(404, 409, 412, 428) },
    }),
    async (c) => {
      // Own organisation (organisations.update-own) or another (organisations.update): the action above, checked by authorize.
      const org = await updateOrganisation(ctx, c.get('principal'), c.req.valid('param').id, c.req.valid('json'), requireIfMatch(c));
      c.header('etag', etag(org.version));
      return c.json(org, 200);
    },
    validatingCodes(ctx, 'json', OrganisationPatch),
  );

  app.openapi(
    apiRoute({
      method: 'delete',
      path: '/{id}',
      action: { own: 'refused', other: 'organisations.deregister' },
      tags,
      security,
      summary: 'De-register an organisation (UC-01.04)',
      request: { params: IdParam, query: z.object({ reason: z.string().max(500).optional() }) },
      responses: { 200: { description: 'De-registered (status WITHDRAWN)', content: json(Organisation) }, ...problemResponses(404, 409) },
    }),
    async (c) => {
      // No organisation de-registers itself: the action above refuses this route on the caller's own organisation.
      const org = await deregisterOrganisation(ctx, c.get('principal'), c.req.valid('param').id, c.req.valid('query').reason);
      return c.json(org, 200);
    },
  );

  return app;
}
