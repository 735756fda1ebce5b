import { OpenAPIHono, z } from '@hono/zod-openapi';
import { apiRoute } from '../access/api-route';
import type { AuthEnv } from '../access/auth';
import { validatingCodes } from '../catalogue/routes';
import type { Ctx } from '../context';
import { idempotency, json, problemResponses, security, validationHook } from '../http/common';
import { Asset } from './schema';
import {
  AcceptInput,
  RejectInput,
  SUBMISSION_STATUSES,
  Submission,
  SubmissionInput,
  acceptSubmission,
  getSubmission,
  listSubmissions,
  rejectSubmission,
  submitAsset,
} from './submissions';

const IdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: 'id', in: 'path' } }),
});

/** Asset submissions (UC-02.01 step 1): installers and OEMs submit, the named FSP accepts or rejects. */
export function submissionRoutes(ctx: Ctx) {
  const app = new OpenAPIHono<AuthEnv>({ defaultHook: validationHook });
  const tags = ['Asset submissions'];

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/asset-submissions',
      action: 'asset-submissions.submit',
      tags,
      security,
      summary: 'Submit an asset at the point of installation for the FSP that will control it (installers, OEMs)',
      middleware: [idempotency(ctx.db, ctx.clock)] as const,
      request: {
        body: { required: true, content: json(SubmissionInput) },
        headers: z.object({ 'idempotency-key': z.string().optional() }),
      },
      responses: {
        201: { description: 'Submitted: PENDING until the FSP accepts or rejects it', content: json(Submission) },
        ...problemResponses(422),
      },
    }),
    async (c) => {
      const s = await submitAsset(ctx, c.get('principal'), c.req.valid('json'));
      c.header('location', `/api/v1/asset-submissions/${s.id}`);
      return c.json(s, 201);
    },
    validatingCodes(ctx, 'json', SubmissionInput),
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/asset-submissions',
      action: 'asset-submissions.read',
      tags,
      security,
      summary: 'List the submissions the caller made or that name it (operator, regulator: all)',
      request: { query: z.object({ status: z.enum(SUBMISSION_STATUSES).optional() }) },
      responses: {
        200: { description: 'Submissions, newest first', content: json(z.object({ items: z.array(Submission) })) },
        ...problemResponses(),
      },
    }),
    async (c) => c.json({ items: await listSubmissions(ctx, c.get('principal'), c.req.valid('query')) }, 200),
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/asset-submissions/{id}',
      action: 'asset-submissions.read',
      tags,
      security,
      summary: 'Read a submission',
      request: { params: IdParam },
      responses: { 200: { description: 'The submission', content: json(Submission) }, ...problemResponses(404) },
    }),
    async (c) => c.json(await getSubmission(ctx, c.get('principal'), c.req.valid('param').id), 200),
  );

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/asset-submissions/{id}/accept',
      action: 'asset-submissions.decide',
      tags,
      security,
      summary: 'The named FSP accepts: the asset is registered as its own (with the consumer’s consent, if given)',
      request: { params: IdParam, body: { required: true, content: json(AcceptInput) } },
      responses: {
        200: { description: 'Accepted, with the registered asset', content: json(z.object({ submission: Submission, asset: Asset })) },
        ...problemResponses(403, 404, 409, 422, 503),
      },
    }),
    async (c) => c.json(await acceptSubmission(ctx, c.get('principal'), c.req.valid('param').id, c.req.valid('json')), 200),
  );

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/asset-submissions/{id}/reject',
      action: 'asset-submissions.decide',
      tags,
      security,
      summary: 'The named FSP rejects, with a reason',
      request: { params: IdParam, body: { required: true, content: json(RejectInput) } },
      responses: { 200: { description: 'Rejected', content: json(Submission) }, ...problemResponses(403, 404, 409, 422) },
    }),
    async (c) => c.json(await rejectSubmission(ctx, c.get('principal'), c.req.valid('param').id, c.req.valid('json')), 200),
  );

  return app;
}
