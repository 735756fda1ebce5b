import { OpenAPIHono, z } from '@hono/zod-openapi';
import { apiRoute } from '../access/api-route';
import { OAUTH_ROUTES } from '../../identity/index';
import type { AuthEnv } from '../access/auth';
import type { Ctx } from '../context';
import { json, problemResponses, security, validationHook } from '../http/common';
import { ApiClient, ClientInput, createClient, getClient, listClients, revokeClient, rotateClient } from './clients';
import { Delegation, DelegationInput, getDelegation, grantDelegation, listDelegations, revokeDelegation } from './delegations';
import { User, UserInput, deactivateUser, getUser, inviteUser, listUsers } from './users';

const param = (name: string) =>
  z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name, in: 'path' } });

/** API clients, people and delegations: the organisation-facing half of the identity issue. */
export function identityRoutes(ctx: Ctx, o: { baseUrl: string; production: boolean }) {
  const app = new OpenAPIHono<AuthEnv>({ defaultHook: validationHook });
  const tokenEndpoint = `${o.baseUrl}${OAUTH_ROUTES.token}`;

  // ---- API clients
  const clientTags = ['API clients'];
  app.openapi(
    apiRoute({
      method: 'get',
      path: '/clients',
      action: 'clients.read',
      tags: clientTags,
      security,
      summary: 'List the API clients of the caller’s organisation (the operator: all, or ?organisationId=)',
      request: { query: z.object({ organisationId: z.string().max(64).optional() }) },
      responses: { 200: { description: 'Clients', content: json(z.object({ items: z.array(ApiClient) })) }, ...problemResponses() },
    }),
    async (c) => c.json({ items: await listClients(ctx, c.get('principal'), c.req.valid('query').organisationId) }, 200),
  );

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/clients',
      action: 'clients.write',
      tags: clientTags,
      security,
      summary: 'Register an API client (private_key_jwt recommended; a client secret is shown once)',
      request: { body: { required: true, content: json(ClientInput) } },
      responses: { 201: { description: 'Registered', content: json(ApiClient) }, ...problemResponses(404, 422) },
    }),
    async (c) => {
      const client = await createClient(ctx, c.get('principal'), c.req.valid('json'), { production: o.production });
      c.header('location', `/api/v1/clients/${client.clientId}`);
      c.header('cache-control', 'no-store');
      return c.json({ ...client, tokenEndpoint }, 201);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/clients/{clientId}',
      action: 'clients.read',
      tags: clientTags,
      security,
      summary: 'Read an API client',
      request: { params: z.object({ clientId: param('clientId') }) },
      responses: { 200: { description: 'The client', content: json(ApiClient) }, ...problemResponses(404) },
    }),
    async (c) => c.json(await getClient(ctx, c.get('principal'), c.req.valid('param').clientId), 200),
  );

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/clients/{clientId}/rotate',
      action: 'clients.write',
      tags: clientTags,
      security,
      summary: 'Rotate the client’s credential: a new secret (shown once), or a new JWKS or JWKS URI; the old one stops at once',
      request: {
        params: z.object({ clientId: param('clientId') }),
        body: {
          required: false,
          content: json(
            z
              .object({
                jwks: z.object({ keys: z.array(z.record(z.string(), z.unknown())) }).optional(),
                jwksUri: z.string().max(2000).optional(),
                credentialExpiresAt: z.iso.datetime({ offset: true }).optional(),
              })
              .strict(),
          ),
        },
      },
      responses: { 200: { description: 'Rotated', content: json(ApiClient) }, ...problemResponses(404, 409, 422) },
    }),
    async (c) => {
      let body: { jwks?: { keys: Record<string, unknown>[] }; jwksUri?: string; credentialExpiresAt?: string } = {};
      if (c.req.raw.body !== null && c.req.header('content-length') !== '0') body = c.req.valid('json') ?? {};
      c.header('cache-control', 'no-store');
      return c.json(await rotateClient(ctx, c.get('principal'), c.req.valid('param').clientId, body, { production: o.production }), 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'delete',
      path: '/clients/{clientId}',
      action: 'clients.write',
      tags: clientTags,
      security,
      summary: 'Revoke an API client: no new tokens, and its current tokens are refused',
      request: { params: z.object({ clientId: param('clientId') }) },
      responses: { 200: { description: 'Revoked', content: json(ApiClient) }, ...problemResponses(404, 409) },
    }),
    async (c) => c.json(await revokeClient(ctx, c.get('principal'), c.req.valid('param').clientId), 200),
  );

  // ---- People
  const userTags = ['People'];
  const orgUser = z.object({ id: param('id'), userId: param('userId') });
  app.openapi(
    apiRoute({
      method: 'get',
      path: '/organisations/{id}/users',
      action: 'users.read',
      tags: userTags,
      security,
      summary: 'List the people of an organisation (UC-01.01)',
      request: { params: z.object({ id: param('id') }) },
      responses: { 200: { description: 'People', content: json(z.object({ items: z.array(User) })) }, ...problemResponses(404) },
    }),
    async (c) => c.json({ items: await listUsers(ctx, c.get('principal'), c.req.valid('param').id) }, 200),
  );

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/organisations/{id}/users',
      action: 'users.write',
      tags: userTags,
      security,
      summary: 'Invite a person; the invitation link is returned once (UC-01.01)',
      request: { params: z.object({ id: param('id') }), body: { required: true, content: json(UserInput) } },
      responses: { 201: { description: 'Invited', content: json(User) }, ...problemResponses(404, 409, 422) },
    }),
    async (c) => {
      const u = await inviteUser(ctx, c.get('principal'), c.req.valid('param').id, c.req.valid('json'), o.baseUrl);
      c.header('location', `/api/v1/organisations/${u.organisationId}/users/${u.id}`);
      c.header('cache-control', 'no-store');
      return c.json(u, 201);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/organisations/{id}/users/{userId}',
      action: 'users.read',
      tags: userTags,
      security,
      summary: 'Read a person',
      request: { params: orgUser },
      responses: { 200: { description: 'The person', content: json(User) }, ...problemResponses(404) },
    }),
    async (c) => {
      const { id, userId } = c.req.valid('param');
      return c.json(await getUser(ctx, c.get('principal'), id, userId), 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/organisations/{id}/users/{userId}/deactivate',
      action: 'users.write',
      tags: userTags,
      security,
      summary: 'Deactivate a person: sign-in refused, sessions and refresh tokens ended',
      request: { params: orgUser },
      responses: { 200: { description: 'Deactivated', content: json(User) }, ...problemResponses(404, 409) },
    }),
    async (c) => {
      const { id, userId } = c.req.valid('param');
      return c.json(await deactivateUser(ctx, c.get('principal'), id, userId), 200);
    },
  );

  // ---- Delegations
  const delTags = ['Delegations'];
  app.openapi(
    apiRoute({
      method: 'get',
      path: '/delegations',
      action: 'delegations.read',
      tags: delTags,
      security,
      summary: 'List delegations the caller gave or received (UC-05.04)',
      request: {
        query: z.object({ role: z.enum(['delegator', 'delegate']).optional(), status: z.enum(['ACTIVE', 'REVOKED']).optional() }),
      },
      responses: { 200: { description: 'Delegations', content: json(z.object({ items: z.array(Delegation) })) }, ...problemResponses() },
    }),
    async (c) => c.json({ items: await listDelegations(ctx, c.get('principal'), c.req.valid('query')) }, 200),
  );

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/delegations',
      action: 'delegations.write',
      tags: delTags,
      security,
      summary: 'Delegate a subset of scopes, optionally on named assets, for a period (UC-05.04)',
      request: { body: { required: true, content: json(DelegationInput) } },
      responses: { 201: { description: 'Granted', content: json(Delegation) }, ...problemResponses(404, 422) },
    }),
    async (c) => {
      const d = await grantDelegation(ctx, c.get('principal'), c.req.valid('json'));
      c.header('location', `/api/v1/delegations/${d.id}`);
      return c.json(d, 201);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/delegations/{id}',
      action: 'delegations.read',
      tags: delTags,
      security,
      summary: 'Read a delegation',
      request: { params: z.object({ id: param('id') }) },
      responses: { 200: { description: 'The delegation', content: json(Delegation) }, ...problemResponses(404) },
    }),
    async (c) => c.json(await getDelegation(ctx, c.get('principal'), c.req.valid('param').id), 200),
  );

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/delegations/{id}/revoke',
      action: 'delegations.write',
      tags: delTags,
      security,
      summary: 'Revoke a delegation: no new exchanges, and tokens issued under it are refused',
      request: {
        params: z.object({ id: param('id') }),
        body: { required: false, content: json(z.object({ reason: z.string().max(500).optional() }).strict()) },
      },
      responses: { 200: { description: 'Revoked', content: json(Delegation) }, ...problemResponses(403, 404, 409) },
    }),
    async (c) => {
      let reason: string | undefined;
      if (c.req.raw.body !== null && c.req.header('content-length') !== '0')
        reason = (c.req.valid('json') as { reason?: string } | undefined)?.reason;
      return c.json(await revokeDelegation(ctx, c.get('principal'), c.req.valid('param').id, reason), 200);
    },
  );

  return app;
}
