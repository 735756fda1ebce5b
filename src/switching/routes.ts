import { OpenAPIHono, z } from '@hono/zod-openapi';
import { apiRoute } from '../access/api-route';
import type { AuthEnv } from '../access/auth';
import type { Ctx } from '../context';
import { decodeCursor, encodeCursor, idempotency, json, pageOf, problemResponses, security, validationHook } from '../http/common';
import { CONTRACT_STATUSES, Contract, ContractInput, getContract, listContracts, recordContract, setContractStatus } from './contracts';
import {
  SWITCH_STATUSES,
  Switch,
  SwitchBatch,
  SwitchInput,
  cancelSwitch,
  getSwitch,
  listSwitches,
  requestSwitch,
  withdrawSwitch,
  type SwitchOptions,
} from './switches';
import type { Principal } from '../access/principal';
import { logPrivateRead, othersRecords } from '../audit/reads';

const IdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: 'id', in: 'path' } }),
});
const Reason = z.object({ reason: z.string().max(500).optional() }).strict();

/**
 * A switch carries the consumer's consent evidence: served to anyone but its two FSPs (the operator,
 * regulator and System Operators) it is a private read of both, logged (docs/audit.md).
 */
function logConsentRead(
  ctx: Ctx,
  p: Principal,
  route: string,
  recordId: string,
  switches: { id: string; losingFspId: string; gainingFspId: string }[],
  asked?: Record<string, unknown>,
) {
  const shares = othersRecords(
    p,
    switches.map((s) => ({ id: s.id, parties: [s.losingFspId, s.gainingFspId] })),
  );
  return logPrivateRead(ctx.db, p, ctx.clock.now(), {
    action: 'switch.consent-read',
    recordType: 'switch',
    recordId,
    route,
    shares,
    ...(asked ? { asked } : {}),
  });
}

/** Switches (UC-02.06) and the contracts whose service windows they respect. */
export function switchingRoutes(ctx: Ctx, o: () => SwitchOptions) {
  const app = new OpenAPIHono<AuthEnv>({ defaultHook: validationHook });
  const tags = ['Switching'];

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/switches',
      action: 'switches.request',
      tags,
      security,
      summary:
        'Request a switch of an asset, or of several behind one meter, to the caller (the gaining FSP), with the consumer’s consent (UC-02.06)',
      middleware: [idempotency(ctx.db, ctx.clock)] as const,
      request: { body: { required: true, content: json(SwitchInput) }, headers: z.object({ 'idempotency-key': z.string().optional() }) },
      responses: {
        201: {
          description:
            'Accepted: PENDING until its effective date. A request naming `asset` answers with its switch; one naming `assets` with `items`, one switch per asset.',
          content: json(z.union([Switch, SwitchBatch])),
        },
        ...problemResponses(403, 404, 409, 422, 503),
      },
    }),
    async (c) => {
      const requestKey = c.req.header('idempotency-key') ?? `switch:${ctx.ids.next()}`;
      const input = c.req.valid('json');
      const switches = await requestSwitch(ctx, c.get('principal'), input, { ...o(), requestKey });
      if (input.assets) return c.json({ items: switches }, 201);
      c.header('location', `/api/v1/switches/${switches[0].id}`);
      return c.json(switches[0], 201);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/switches',
      action: 'switches.read',
      tags,
      security,
      summary: 'List switches the caller is party to (operator, regulator, System Operators: all)',
      request: { query: z.object({ assetId: z.string().max(64).optional(), status: z.enum(SWITCH_STATUSES).optional() }) },
      responses: { 200: { description: 'Switches', content: json(z.object({ items: z.array(Switch) })) }, ...problemResponses() },
    }),
    async (c) => {
      const items = await listSwitches(ctx, c.get('principal'), c.req.valid('query'));
      await logConsentRead(ctx, c.get('principal'), 'GET /api/v1/switches', 'list', items, c.req.valid('query'));
      return c.json({ items }, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/switches/{id}',
      action: 'switches.read',
      tags,
      security,
      summary: 'Read a switch, with its transitions and the consent evidence',
      request: { params: IdParam },
      responses: { 200: { description: 'The switch', content: json(Switch) }, ...problemResponses(404) },
    }),
    async (c) => {
      const s = await getSwitch(ctx, c.get('principal'), c.req.valid('param').id);
      await logConsentRead(ctx, c.get('principal'), 'GET /api/v1/switches/{id}', s.id, [s]);
      return c.json(s, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/switches/{id}/withdraw',
      action: 'switches.withdraw',
      tags,
      security,
      summary: 'The gaining FSP withdraws an open switch',
      request: { params: IdParam, body: { required: false, content: json(Reason) } },
      responses: { 200: { description: 'Withdrawn', content: json(Switch) }, ...problemResponses(403, 404, 409) },
    }),
    async (c) => {
      const body =
        c.req.raw.body !== null && c.req.header('content-length') !== '0'
          ? (c.req.valid('json') as { reason?: string } | undefined)
          : undefined;
      return c.json(await withdrawSwitch(ctx, c.get('principal'), c.req.valid('param').id, body?.reason), 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/switches/{id}/cancel',
      action: 'switches.cancel',
      tags,
      security,
      summary: 'The operator cancels an open switch',
      request: { params: IdParam, body: { required: false, content: json(Reason) } },
      responses: { 200: { description: 'Cancelled', content: json(Switch) }, ...problemResponses(403, 404, 409) },
    }),
    async (c) => {
      const body =
        c.req.raw.body !== null && c.req.header('content-length') !== '0'
          ? (c.req.valid('json') as { reason?: string } | undefined)
          : undefined;
      return c.json(await cancelSwitch(ctx, c.get('principal'), c.req.valid('param').id, body?.reason), 200);
    },
  );

  const ctags = ['Contracts'];
  app.openapi(
    apiRoute({
      method: 'post',
      path: '/contracts',
      action: 'contracts.write',
      tags: ctags,
      security,
      summary: 'Record a contract (a CONFIRMED one is a service window switches respect)',
      request: { body: { required: true, content: json(ContractInput) } },
      responses: { 201: { description: 'Recorded', content: json(Contract) }, ...problemResponses(422) },
    }),
    async (c) => {
      const k = await recordContract(ctx, c.get('principal'), c.req.valid('json'));
      c.header('location', `/api/v1/contracts/${k.id}`);
      return c.json(k, 201);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/contracts',
      action: 'contracts.read',
      tags: ctags,
      security,
      summary: 'List contracts (System Operators their own, FSPs those naming them)',
      request: {
        query: z.object({
          assetId: z.string().max(64).optional(),
          status: z.enum(CONTRACT_STATUSES).optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(1000).openapi({ description: 'Page size, 1–1000 (default 1000)' }),
          cursor: z.string().max(200).optional().openapi({ description: 'nextCursor of the previous page' }),
        }),
      },
      responses: {
        200: { description: 'A page of contracts, by start of period then ID', content: json(pageOf(Contract)) },
        ...problemResponses(),
      },
    }),
    async (c) => {
      const { limit, cursor, ...q } = c.req.valid('query');
      const page = await listContracts(ctx, c.get('principal'), q, { limit, after: decodeCursor(cursor) });
      return c.json({ items: page.items, nextCursor: encodeCursor(page.next) }, 200);
    },
  );

  app.openapi(
    apiRoute({
      method: 'get',
      path: '/contracts/{id}',
      action: 'contracts.read',
      tags: ctags,
      security,
      summary: 'Read a contract',
      request: { params: IdParam },
      responses: { 200: { description: 'The contract', content: json(Contract) }, ...problemResponses(404) },
    }),
    async (c) => c.json(await getContract(ctx, c.get('principal'), c.req.valid('param').id), 200),
  );

  app.openapi(
    apiRoute({
      method: 'post',
      path: '/contracts/{id}/status',
      action: 'contracts.write',
      tags: ctags,
      security,
      summary: 'Confirm or terminate a contract (OFFERED → CONFIRMED → TERMINATED)',
      request: { params: IdParam, body: { required: true, content: json(z.object({ status: z.enum(CONTRACT_STATUSES) }).strict()) } },
      responses: { 200: { description: 'Updated', content: json(Contract) }, ...problemResponses(404, 409) },
    }),
    async (c) => c.json(await setContractStatus(ctx, c.get('principal'), c.req.valid('param').id, c.req.valid('json').status), 200),
  );

  return app;
}
