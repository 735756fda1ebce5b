import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { apiRoute } from '../access/api-route';
import type { AuthEnv } from '../access/auth';
import { validatingCodes } from '../catalogue/routes';
import type { Ctx } from '../context';
import { etag, json, problemResponses, security, validationHook, type CallerEnv } from '../http/common';
import { Applicant, ApplicantInput, registerApplicant } from '../identity/applicants';
import { Organisation, OrganisationApplication } from '../organisations/schema';
import type { ExternalRegistries } from '../quality/registries';
import { applicationOf, approveOrganisation, rejectOrganisation, submitOrganisation } from './service';

const tags = ['Onboarding'];
const Application = z.object({ applicant: Applicant, organisation: Organisation.nullable() }).openapi('Application');
const applicantSecurity = [{ applicantToken: [] as string[] }];
const bearer = (h: string | undefined) => (h?.startsWith('Bearer ') ? h.slice(7).trim() : undefined);

/**
 * Self-service onboarding for people who have no organisation yet, so no access token: public
 * routes under /onboarding (docs/organisations.md, "Self-service onboarding"). The applicant's
 * token, returned once at registration, reaches their own application only.
 */
export function onboardingRoutes(ctx: Ctx, registries: () => ExternalRegistries) {
  const app = new OpenAPIHono<CallerEnv>({ defaultHook: validationHook });
  app.openAPIRegistry.registerComponent('securitySchemes', 'applicantToken', {
    type: 'http',
    scheme: 'bearer',
    description: 'The applicant’s token (fmar-applicant-…), returned once by POST /onboarding/applicants',
  });

  app.openapi(
    createRoute({
      method: 'post',
      path: '/applicants',
      tags,
      summary: 'Register yourself as an applicant (UC-01.01, self-service); the token to your application is shown once',
      request: { body: { required: true, content: json(ApplicantInput) } },
      responses: {
        201: { description: 'Registered', content: json(z.object({ applicant: Applicant, token: z.string() })) },
        ...problemResponses(409),
      },
    }),
    async (c) => {
      const out = await registerApplicant(ctx, c.req.valid('json'));
      c.header('cache-control', 'no-store');
      return c.json(out, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/application',
      tags,
      security: applicantSecurity,
      summary: 'Your application: its status, your organisation, and the operator’s reason if it was rejected',
      responses: { 200: { description: 'The application', content: json(Application) }, ...problemResponses() },
    }),
    async (c) => c.json(await applicationOf(ctx, bearer(c.req.header('authorization'))), 200),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/application',
      tags,
      security: applicantSecurity,
      summary: 'Submit your organisation with its passport and roles (UC-01.02); it awaits the operator’s approval (PENDING_APPROVAL)',
      request: { body: { required: true, content: json(OrganisationApplication) } },
      responses: { 201: { description: 'Submitted', content: json(Application) }, ...problemResponses(409) },
    }),
    async (c) => {
      const out = await submitOrganisation(ctx, registries(), bearer(c.req.header('authorization')), c.req.valid('json'));
      return c.json(out, 201);
    },
    validatingCodes(ctx, 'json', OrganisationApplication),
  );
  return app;
}

const IdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: 'id', in: 'path' } }),
});
const Decision = z.object({ organisation: Organisation, adminUserId: z.string().nullable(), applicantId: z.string().nullable() });

/** The operator's decision on an organisation awaiting approval, under /api/v1/organisations. */
export function organisationDecisionRoutes(ctx: Ctx) {
  const app = new OpenAPIHono<AuthEnv>({ defaultHook: validationHook });
  app.openapi(
    apiRoute({
      method: 'post',
      path: '/organisations/{id}/approve',
      action: 'organisations.approve',
      tags: ['Organisations'],
      security,
      summary: 'Approve an organisation awaiting approval (ACTIVE); its applicant becomes its first ADMIN',
      request: {
        params: IdParam,
        body: { required: false, content: json(z.object({ note: z.string().min(1).max(500).optional() }).strict()) },
      },
      responses: { 200: { description: 'Approved', content: json(Decision) }, ...problemResponses(404, 409) },
    }),
    async (c) => {
      const body = (c.req.valid('json') as { note?: string } | undefined) ?? {};
      const out = await approveOrganisation(ctx, c.get('principal'), c.req.valid('param').id, body.note);
      c.header('etag', etag(out.organisation.version));
      return c.json(out, 200);
    },
  );
  app.openapi(
    apiRoute({
      method: 'post',
      path: '/organisations/{id}/reject',
      action: 'organisations.approve',
      tags: ['Organisations'],
      security,
      summary: 'Reject an organisation awaiting approval, with a reason its applicant reads (WITHDRAWN)',
      request: {
        params: IdParam,
        body: {
          required: true,
          content: json(z.object({ reason: z.string().min(3, 'ORG-DECISION-REASON').max(500, 'ORG-DECISION-REASON') }).strict()),
        },
      },
      responses: { 200: { description: 'Rejected', content: json(Decision) }, ...problemResponses(404, 409) },
    }),
    async (c) => {
      const out = await rejectOrganisation(ctx, c.get('principal'), c.req.valid('param').id, c.req.valid('json').reason);
      c.header('etag', etag(out.organisation.version));
      return c.json({ ...out, adminUserId: null }, 200);
    },
  );
  return app;
}
