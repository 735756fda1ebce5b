import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import {
  AuthServerInfo,
  DEFAULT_LIMIT,
  ObjectId,
  OadrProblem,
  Resource,
  ResourceQuery,
  ResourceRequest,
  VEN_ATTRIBUTES,
  Ven,
  VenQuery,
  VenRequest,
  is3x,
  isOadrScope,
  parseResourceId,
  targetList,
  type OadrScope,
  type ValuesMap,
  type Ven as VenObject,
} from '../../openadr/index';
import { checkPermission, type AuthEnv } from '../access/auth';
import { PERMISSIONS, reach } from '../access/permissions';
import type { Principal } from '../access/principal';
import type { Ctx } from '../context';
import { json, validationHook } from '../http/common';
import { Problem } from '../http/problem';
import { isRuleCode } from '../rules';
import { cancelVenRegistration, registerVen, selectRegistration, updateVenRegistration } from './registrations';
import { createBinding, deleteBinding, updateBinding, type BindingWrite } from './resources';
import {
  REG_COLS,
  REG_FROM,
  resourceOf,
  venAssetsLateral,
  venOf,
  type BoundAssetRow,
  type RegistrationRow,
  type VenAssetFilter,
  type VtnRow,
} from './store';
import { findVtn } from './vtns';
import { unservedRoutes } from './oadr31-unserved';

/**
 * OpenADR 3.1 `ven` and `resource` endpoints over the register (docs/openadr.md), conformant to the
 * official OpenAPI document (tests validate every answer against it), in two views: one VTN's at
 * `/openadr/3.1/vtns/{vtn}` (ven.id = the VEN ID that VTN assigned) and the register-wide one at
 * `/openadr/3.1` (ven.id = the registration's ID, every VTN). Authentication is the hub's: the same
 * JWT access tokens, verified by the same `authenticate`. A token carrying OpenADR's own scopes is
 * judged by them (BL with read_all, else VEN; each operation's scope); one without is judged by the
 * hub's scopes and the permission matrix (BL: a caller that reaches every registration under
 * vens.read). A VEN sees only the objects whose clientID is its token's client_id (an empty list,
 * never a 403).
 */

type Role = { bl: true } | { bl: false; clientId: string; organisationId: string };

/** The view a request is in: one VTN's (its 3.x VTN record) or the register-wide one. */
interface View {
  vtn?: VtnRow;
}

/** What an operation needs: the matrix's action and the OpenADR scope the document names for it. */
const READ = { action: 'vens.read', scope: 'read_ven_objects' } as const;
const WRITE = { action: 'vens.write', scope: 'write_vens' } as const;
type Need = { action: 'vens.read' | 'vens.write'; scope: OadrScope };

/**
 * The caller's OpenADR role for an operation. With OpenADR scopes in the token: the operation's
 * scope (read_all also reads), the matrix's roles, BL only with read_all. Without: the hub's
 * scope for the action and the matrix, BL for roles that reach every registration.
 */
export function roleOf(p: Principal, need: Need): Role {
  const bl = reach('vens.read', p.roles).all;
  const ven: Role = { bl: false, clientId: p.clientId ?? '', organisationId: p.organisationId };
  if (!p.scopes.some(isOadrScope)) {
    checkPermission(p, need.action);
    return bl ? { bl: true } : ven;
  }
  const readAll = p.scopes.includes('read_all');
  if (!p.scopes.includes(need.scope) && !(readAll && need.scope.startsWith('read_')))
    throw new Problem('AUTH-SCOPE-MISSING', `This operation needs the OpenADR scope ${need.scope}.`, { requiredScope: need.scope });
  // The roles and the delegation rules of the action, as the matrix has them; the scope was the OpenADR one.
  checkPermission({ ...p, scopes: [...p.scopes, PERMISSIONS[need.action].scope] }, need.action);
  return bl && readAll ? { bl: true } : ven;
}

/** VEN privacy in SQL (`r` = ven_registration): a VEN client reaches its own client's registrations. */
function privacy(role: Role, params: unknown[]): string {
  if (role.bl) return 'TRUE';
  params.push(role.clientId, role.organisationId);
  return `(r.client_id = $${params.length - 1} AND r.organisation_id = $${params.length})`;
}

/** Statuses the official document declares per operation; a refusal with another 4xx is sent as 400 (same rule code). */
const DECLARED: [string, RegExp, number[]][] = [
  ['GET', /\/(vens|programs|events)$/, [400, 401, 403]],
  ['POST', /\/vens$/, [400, 401, 403]],
  ['GET', /\/vens\/[^/]*$/, [400, 401, 403, 404]],
  ['PUT', /\/vens\/[^/]*$/, [400, 401, 403, 404, 409]],
  ['DELETE', /\/vens\/[^/]*$/, [400, 401, 403, 404]],
  ['GET', /\/resources$/, [400, 401, 403, 404]],
  ['POST', /\/resources$/, [400, 401, 403, 404, 409]],
  ['GET', /\/resources\/[^/]*$/, [400, 401, 403, 404]],
  ['PUT', /\/resources\/[^/]*$/, [400, 401, 403, 404, 409]],
  ['DELETE', /\/resources\/[^/]*$/, [400, 401, 403, 404]],
  ['POST', /\/auth\/token$/, [400, 401]],
  ['GET', /\/(reports|subscriptions)$/, [400, 401, 403]],
  ['POST', /\/(programs|events|reports|subscriptions)$/, [400, 401, 403, 409]],
  ['GET', /\/(programs|events|reports|subscriptions)\/[^/]*$/, [400, 401, 403, 404]],
  ['PUT', /\/(programs|events|reports|subscriptions)\/[^/]*$/, [400, 401, 403, 404, 409]],
  ['DELETE', /\/(programs|events|reports|subscriptions)\/[^/]*$/, [400, 401, 403, 404]],
];

/** A refusal as the OpenADR `problem` (application/json), with the rule code as an extension member. */
export function oadrProblemResponse(c: Context, err: unknown): Response {
  let p: Problem;
  if (err instanceof Problem) p = err;
  else if (err instanceof HTTPException && err.status < 500) {
    p = /JSON/i.test(err.message)
      ? new Problem('REQUEST-MALFORMED-JSON', err.message)
      : err.status === 413
        ? new Problem('REQUEST-TOO-LARGE')
        : new Problem('REQUEST-QUERY-INVALID', err.message);
  } else {
    console.error(`[fmar] ${c.req.method} ${c.req.path}:`, err);
    p = new Problem('INTERNAL-ERROR');
  }
  const declared = DECLARED.find(([m, re]) => m === c.req.method && re.test(c.req.path))?.[2];
  const status = declared && p.status >= 400 && p.status < 500 && p.status !== 429 && !declared.includes(p.status) ? 400 : p.status;
  const { type, title, detail, code, errors } = p.toJSON() as Record<string, unknown>;
  const body = { type, title, status, detail, code, ...(errors ? { errors } : {}) };
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  // RFC 6750 §3: a request without a token gets the challenge without an error code.
  if (status === 401)
    headers['www-authenticate'] = p.code === 'AUTH-TOKEN-MISSING' ? 'Bearer realm="fmar"' : 'Bearer realm="fmar", error="invalid_token"';
  return new Response(JSON.stringify(body), { status, headers });
}

/** The hub's validation hook, with an OpenADR rule code (limit, skip, targets, …) lifted to the top. */
function oadrHook(result: Parameters<typeof validationHook>[0]) {
  try {
    validationHook(result);
  } catch (e) {
    const first = e instanceof Problem ? e.errors[0]?.code : undefined;
    if (first?.startsWith('OPENADR-') && isRuleCode(first)) throw new Problem(first, (e as Problem).message, {}, (e as Problem).errors);
    throw e;
  }
}

const problems = (...statuses: number[]) =>
  Object.fromEntries([400, 401, 403, ...statuses].map((s) => [s, { description: 'OpenADR problem', content: json(OadrProblem) }]));
const tags = ['OpenADR 3.1'];
const oauth = [{ bearerAuth: [] as string[] }];

/** Derived ven attributes in a request: the inputs of a new ven (VTN, VEN_ID, …), the rest kept as given. */
function splitAttributes(attrs: ValuesMap[] | null | undefined): { reserved: Map<string, ValuesMap['values']>; custom: ValuesMap[] } {
  const reserved = new Map<string, ValuesMap['values']>();
  const custom: ValuesMap[] = [];
  for (const a of attrs ?? []) {
    if ((VEN_ATTRIBUTES as readonly string[]).includes(a.type)) {
      if (reserved.has(a.type)) throw new Problem('OPENADR-ATTRIBUTE-RESERVED', `Attribute ${a.type} is given twice.`);
      reserved.set(a.type, a.values);
    } else custom.push(a);
  }
  return { reserved, custom };
}
const single = (reserved: Map<string, ValuesMap['values']>, type: string): string | undefined => {
  const v = reserved.get(type);
  if (v === undefined) return undefined;
  if (v.length !== 1 || typeof v[0] !== 'string') throw new Problem('OPENADR-ATTRIBUTE-RESERVED', `Attribute ${type} holds one string.`);
  return v[0];
};

export interface Oadr31Options {
  /** The token endpoint GET /auth/server names. */
  tokenUrl: string;
  /** Where tokens come from when this process serves no token endpoint (POST /auth/token answers 501 naming it). */
  issuerTokenUrl: string;
  authenticate: MiddlewareHandler<AuthEnv>;
  rateLimit: MiddlewareHandler<AuthEnv>;
  maxBodyBytes: number;
}

/** Where one VTN's view is served, below OPENADR_BASE. */
export const VTN_VIEW = '/vtns/{vtn}';
const VtnParam = z.object({
  vtn: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: 'vtn', in: 'path' }, description: 'The VTN record’s code or ID (an OpenADR 3.x VTN)', example: 'SPEN' }),
});

export function openadr31Routes(ctx: Ctx, o: Oadr31Options) {
  const app = new OpenAPIHono<AuthEnv>({ defaultHook: oadrHook });
  app.onError((err, c) => oadrProblemResponse(c, err));
  const VIEWS = ['', VTN_VIEW] as const;
  const withVtn = (prefix: string, p: z.ZodObject<z.ZodRawShape> = z.object({})) => (prefix ? p.extend(VtnParam.shape) : p);

  /** The view of this request: its VTN (an OpenADR 3.x VTN record, by code or ID) or the register-wide one. */
  async function viewOf(c: Context<AuthEnv>): Promise<View> {
    const ref = c.req.param('vtn');
    if (ref === undefined) return {};
    const vtn = await findVtn(ctx.db, { vtn: ref });
    if (!vtn || !is3x(vtn.protocol))
      throw new Problem('OPENADR-VTN-NOT-FOUND', `No OpenADR 3.x VTN record ${ref}: its view is /openadr/3.1/vtns/{code}.`);
    return { vtn };
  }
  /** A registration as this view's ven: in a VTN's view its id is the VEN ID that VTN assigned. */
  const venIn = (view: View, r: RegistrationRow): VenObject => (view.vtn ? { ...venOf(r), id: r.ven_id } : venOf(r));
  /** The registrations of this view (`r`), in SQL; appends to `params`. */
  const inView = (view: View, params: unknown[]) => (view.vtn ? (params.push(view.vtn.id), ` AND r.vtn = $${params.length}`) : '');

  // ---- Auth (public), in both views: one token endpoint, the hub's
  for (const prefix of VIEWS) {
    app.openapi(
      createRoute({
        method: 'get',
        path: `${prefix}/auth/server`,
        tags,
        summary: 'OpenADR 3.1: the token endpoint (OAuth 2 client credentials at the hub’s provider)',
        request: { params: withVtn(prefix) },
        responses: { 200: { description: 'Token endpoint', content: json(AuthServerInfo) } },
      }),
      (c) => c.json({ tokenURL: o.tokenUrl }, 200),
    );

    app.openapi(
      createRoute({
        method: 'post',
        path: `${prefix}/auth/token`,
        request: { params: withVtn(prefix) },
        tags,
        summary: 'OpenADR 3.1: client credentials token (on Node forwarded to the hub’s token endpoint; elsewhere 501 naming it)',
        responses: Object.fromEntries(
          [400, 401, 501].map((s) => [
            s,
            { description: s === 501 ? 'No token endpoint in this process' : 'OpenADR problem', content: json(OadrProblem) },
          ]),
        ),
      }),
      () => {
        throw new Problem(
          'OPENADR-TOKEN-ENDPOINT',
          `This process serves no token endpoint: obtain tokens from ${o.issuerTokenUrl} (client credentials).`,
        );
      },
    );
  }

  // ---- Everything else: JSON bodies, the hub's authentication and rate limits
  app.use('*', async (c, next) => {
    if (
      ['POST', 'PUT'].includes(c.req.method) &&
      c.req.raw.body !== null &&
      (c.req.header('content-type') ?? '').split(';')[0].trim().toLowerCase() !== 'application/json'
    ) {
      throw new Problem('REQUEST-UNSUPPORTED-MEDIA-TYPE', 'Send application/json.');
    }
    return bodyLimit({
      maxSize: o.maxBodyBytes,
      onError: () => {
        throw new Problem('REQUEST-TOO-LARGE');
      },
    })(c, next);
  });
  app.use('*', o.authenticate);
  app.use('*', o.rateLimit);

  // Programs, events, reports, subscriptions, notifiers: not the register's business (oadr31-unserved.ts).
  for (const prefix of VIEWS) unservedRoutes(app, prefix, { params: withVtn(prefix), viewOf, roleOf });

  // ---- vens and resources, in both views
  const VenParam = z.object({ venID: ObjectId.openapi({ param: { name: 'venID', in: 'path' } }) });
  const ResourceParam = z.object({ resourceID: ObjectId.openapi({ param: { name: 'resourceID', in: 'path' } }) });

  /** A live registration the caller reaches for this operation by this view's ven ID, or a 404. */
  async function venRow(p: Principal, role: Role, view: View, venID: string, write: boolean): Promise<RegistrationRow> {
    const key = view.vtn ? { vtn: view.vtn.id, venId: venID } : venID;
    const row = await selectRegistration(ctx.db, key, { p, action: write ? 'vens.write' : 'vens.read' });
    const own = row && (role.bl || (row.client_id === role.clientId && row.organisation_id === role.organisationId));
    if (!row || row.status === 'CANCELLED' || !own) throw new Problem('OPENADR-VEN-NOT-FOUND', `No ven ${venID}.`);
    return row;
  }

  /** The assets bound to each VEN of the view, or (a VEN without bindings) all its organisation controls. */
  async function resources(
    role: Role,
    view: View,
    f: VenAssetFilter & { venID?: string; registrationId?: string; limit: number; skip: number },
  ) {
    const params: unknown[] = [f.skip + f.limit];
    // Per VEN at most skip + limit assets, in ID order: a page costs what it skips, however many
    // assets an organisation controls.
    const lateral = venAssetsLateral(params, f, '$1');
    let vens = `r.status <> 'CANCELLED' AND ${privacy(role, params)}${inView(view, params)}`;
    if (f.venID !== undefined) {
      params.push(f.venID);
      vens += view.vtn ? ` AND r.ven_id = $${params.length}` : ` AND r.id = $${params.length}`;
    }
    if (f.registrationId !== undefined) {
      params.push(f.registrationId);
      vens += ` AND r.id = $${params.length}`;
    }
    params.push(f.limit, f.skip);
    const rows = await ctx.db.query<
      BoundAssetRow & {
        ven_object_id: string;
        ven_vtn_id: string;
        ven_client_id: string | null;
        ven_organisation_id: string;
        ven_created_at: Date;
        ven_recorded_at: Date;
      }
    >(
      `SELECT a.*, r.id AS ven_object_id, r.ven_id AS ven_vtn_id, r.client_id AS ven_client_id, r.organisation_id AS ven_organisation_id,
              r.created_at AS ven_created_at, r.recorded_at AS ven_recorded_at
         FROM ven_registration r CROSS JOIN ${lateral}
        WHERE ${vens} ORDER BY r.id, a.id LIMIT $${params.length - 1} OFFSET $${params.length}`,
      params,
    );
    // The resource's own ID is <registration ID>_<asset ID> in both views; its venID is the view's ven ID.
    return rows.map((row) => ({
      ...resourceOf(row, {
        id: row.ven_object_id,
        clientID: row.ven_client_id ?? row.ven_organisation_id,
        createdDateTime: new Date(row.ven_created_at).toISOString(),
        modificationDateTime: new Date(row.ven_recorded_at).toISOString(),
      }),
      ...(view.vtn ? { venID: row.ven_vtn_id } : {}),
    }));
  }

  /** The resource `id` as the caller may see it in this view, or a 404. */
  async function resourceById(role: Role, view: View, id: string) {
    const ref = parseResourceId(id);
    const [found] = ref ? await resources(role, view, { registrationId: ref.venObjectId, assetId: ref.assetId, limit: 1, skip: 0 }) : [];
    if (!ref || !found) throw new Problem('OPENADR-RESOURCE-NOT-FOUND', `No resource ${id}.`);
    return { ref, found };
  }

  /** A resource request as a binding write, after the role's rules (a VEN: VEN_RESOURCE_REQUEST, no targets or clientID). */
  async function bindingWrite(c: Context<AuthEnv>, role: Role, body: ResourceRequest, ven: RegistrationRow): Promise<BindingWrite> {
    const raw = (await c.req.json()) as Record<string, unknown>;
    if (!role.bl) {
      const what =
        body.objectType !== 'VEN_RESOURCE_REQUEST'
          ? 'a BL_RESOURCE_REQUEST'
          : 'targets' in raw
            ? 'targets'
            : 'clientID' in raw
              ? 'a clientID'
              : undefined;
      if (what) throw new Problem('OPENADR-VEN-ROLE-FORBIDDEN', `A VEN client cannot write ${what}.`);
    }
    if (body.objectType === 'BL_RESOURCE_REQUEST' && body.clientID !== venOf(ven).clientID)
      throw new Problem('OPENADR-RESOURCE-VEN-FIXED', `A resource’s clientID is its ven’s (${venOf(ven).clientID}).`);
    return {
      resourceName: body.resourceName,
      attributes: body.attributes ?? [],
      targets: body.objectType === 'BL_RESOURCE_REQUEST' ? (body.targets ?? []) : undefined,
    };
  }

  for (const prefix of VIEWS) {
    const where = prefix ? 'one VTN’s view: ven.id is the VEN ID that VTN assigned' : 'every VTN: ven.id is the registration’s ID';
    app.openapi(
      createRoute({
        method: 'get',
        path: `${prefix}/vens`,
        tags,
        security: oauth,
        summary: `OpenADR 3.1 searchVens (${where}), ordered by registration`,
        request: { params: withVtn(prefix), query: VenQuery },
        responses: { 200: { description: 'vens', content: json(z.array(Ven)) }, ...problems() },
      }),
      async (c) => {
        const role = roleOf(c.get('principal'), READ);
        const view = await viewOf(c);
        const q = c.req.valid('query');
        const params: unknown[] = [];
        let where = `r.status <> 'CANCELLED' AND ${privacy(role, params)}${inView(view, params)}`;
        if (q.venName !== undefined) {
          params.push(q.venName);
          where += ` AND r.ven_name = $${params.length}`;
        }
        const targets = targetList(q.targets);
        if (targets.length) {
          params.push(targets);
          where += ` AND r.targets && $${params.length}::text[]`;
        }
        params.push(q.limit ?? DEFAULT_LIMIT, q.skip ?? 0);
        const rows = await ctx.db.query<RegistrationRow>(
          `SELECT ${REG_COLS} FROM ${REG_FROM} WHERE ${where} ORDER BY r.id LIMIT $${params.length - 1} OFFSET $${params.length}`,
          params,
        );
        return c.json(
          rows.map((r) => venIn(view, r)),
          200,
        );
      },
    );

    app.openapi(
      createRoute({
        method: 'post',
        path: `${prefix}/vens`,
        tags,
        security: oauth,
        summary: prefix
          ? 'OpenADR 3.1 createVen: record a VEN registration on this VTN (attribute VEN_ID: the VEN ID the VTN assigned)'
          : 'OpenADR 3.1 createVen: record a VEN registration (attributes VTN and VEN_ID name the VTN and the VEN ID there)',
        request: { params: withVtn(prefix), body: { required: true, content: json(VenRequest) } },
        responses: { 201: { description: 'Created', content: json(Ven) }, ...problems() },
      }),
      async (c) => {
        const p = c.get('principal');
        const role = roleOf(p, WRITE);
        const view = await viewOf(c);
        const body = c.req.valid('json');
        const raw = (await c.req.json()) as Record<string, unknown>;
        const { reserved, custom } = splitAttributes(body.attributes);
        for (const t of ['OADR_PROTOCOL', 'REGISTRATION_STATUS', 'CONFIRMATION'])
          if (reserved.has(t)) throw new Problem('OPENADR-ATTRIBUTE-RESERVED', `${t} is derived by the register.`);
        const organisationId = single(reserved, 'FMAR_ORGANISATION_ID');
        if (!role.bl) venWritesOwn(raw, body.objectType, organisationId === undefined || organisationId === role.organisationId);
        const named = single(reserved, 'VTN');
        if (view.vtn && named !== undefined && named !== view.vtn.id && named.toUpperCase() !== view.vtn.code.toUpperCase())
          throw new Problem(
            'OPENADR-ATTRIBUTE-RESERVED',
            `This base URL is VTN ${view.vtn.code}'s: the VTN attribute cannot name ${named}.`,
          );
        const vtn = view.vtn?.id ?? named;
        const venId = single(reserved, 'VEN_ID');
        if (vtn === undefined) throw new Problem('OPENADR-VTN-UNKNOWN', 'Name the VTN (its code or ID) in a VTN attribute.');
        if (venId === undefined) throw new Problem('OPENADR-VEN-ID-FORMAT', 'Name the VEN ID the VTN assigned in a VEN_ID attribute.');
        const reg = await registerVen(
          ctx,
          p,
          {
            vtn,
            venId,
            venName: body.venName,
            registrationId: single(reserved, 'REGISTRATION_ID'),
            clientId: role.bl ? (body.objectType === 'BL_VEN_REQUEST' ? body.clientID : undefined) : role.clientId || undefined,
            targets: body.objectType === 'BL_VEN_REQUEST' ? (body.targets ?? []) : [],
            organisationId: role.bl ? organisationId : role.organisationId,
          },
          { attributes: custom, source: 'openadr3.1' },
        );
        return c.json(venIn(view, (await selectRegistration(ctx.db, reg.id))!), 201);
      },
    );

    app.openapi(
      createRoute({
        method: 'get',
        path: `${prefix}/vens/{venID}`,
        tags,
        security: oauth,
        summary: `OpenADR 3.1 searchVenByID (${where})`,
        request: { params: withVtn(prefix, VenParam) },
        responses: { 200: { description: 'The ven', content: json(Ven) }, ...problems(404) },
      }),
      async (c) => {
        const p = c.get('principal');
        const role = roleOf(p, READ);
        const view = await viewOf(c);
        return c.json(venIn(view, await venRow(p, role, view, c.req.param('venID'), false)), 200);
      },
    );

    app.openapi(
      createRoute({
        method: 'put',
        path: `${prefix}/vens/{venID}`,
        tags,
        security: oauth,
        summary: 'OpenADR 3.1 updateVen: venName, clientID, targets (BL), further attributes',
        request: { params: withVtn(prefix, VenParam), body: { required: true, content: json(VenRequest) } },
        responses: { 200: { description: 'Updated', content: json(Ven) }, ...problems(404, 409) },
      }),
      async (c) => {
        const p = c.get('principal');
        const role = roleOf(p, WRITE);
        const view = await viewOf(c);
        const body = c.req.valid('json');
        const raw = (await c.req.json()) as Record<string, unknown>;
        if (!role.bl) venWritesOwn(raw, body.objectType, true);
        const cur = await venRow(p, role, view, c.req.param('venID'), true);
        const shown: VenObject = venOf(cur);
        const { reserved, custom } = splitAttributes(body.attributes);
        for (const [type, values] of reserved) {
          if (JSON.stringify(shown.attributes.find((a) => a.type === type)?.values) !== JSON.stringify(values))
            throw new Problem('OPENADR-ATTRIBUTE-RESERVED', `${type} cannot be changed.`);
        }
        const bl = body.objectType === 'BL_VEN_REQUEST' ? body : undefined;
        await updateVenRegistration(ctx, p, cur.id, {
          venName: body.venName,
          attributes: custom,
          ...(bl ? { targets: bl.targets ?? [], clientId: bl.clientID === shown.clientID ? undefined : bl.clientID } : {}),
        });
        return c.json(venIn(view, (await selectRegistration(ctx.db, cur.id))!), 200);
      },
    );

    app.openapi(
      createRoute({
        method: 'delete',
        path: `${prefix}/vens/{venID}`,
        tags,
        security: oauth,
        summary: 'OpenADR 3.1 deleteVen: cancel the registration (kept, read-only, in the register)',
        request: { params: withVtn(prefix, VenParam) },
        responses: { 200: { description: 'Deleted', content: json(Ven) }, ...problems(404) },
      }),
      async (c) => {
        const p = c.get('principal');
        const role = roleOf(p, WRITE);
        const view = await viewOf(c);
        const cur = await venRow(p, role, view, c.req.param('venID'), true);
        await cancelVenRegistration(ctx, p, cur.id, { reason: 'deleted through OpenADR 3.1' });
        return c.json(venIn(view, (await selectRegistration(ctx.db, cur.id))!), 200);
      },
    );

    app.openapi(
      createRoute({
        method: 'get',
        path: `${prefix}/resources`,
        tags,
        security: oauth,
        summary: `OpenADR 3.1 searchVenResources (${where}): each VEN’s bound assets (or, without bindings, its organisation’s), ordered by VEN then asset ID`,
        request: { params: withVtn(prefix), query: ResourceQuery },
        responses: { 200: { description: 'resources', content: json(z.array(Resource)) }, ...problems(404) },
      }),
      async (c) => {
        const role = roleOf(c.get('principal'), READ);
        const view = await viewOf(c);
        const q = c.req.valid('query');
        return c.json(
          await resources(role, view, {
            venID: q.venID,
            resourceName: q.resourceName,
            targets: targetList(q.targets),
            limit: q.limit ?? DEFAULT_LIMIT,
            skip: q.skip ?? 0,
          }),
          200,
        );
      },
    );

    app.openapi(
      createRoute({
        method: 'get',
        path: `${prefix}/resources/{resourceID}`,
        tags,
        security: oauth,
        summary: 'OpenADR 3.1 searchVenResourceByID',
        request: { params: withVtn(prefix, ResourceParam) },
        responses: { 200: { description: 'The resource', content: json(Resource) }, ...problems(404) },
      }),
      async (c) => {
        const role = roleOf(c.get('principal'), READ);
        const view = await viewOf(c);
        return c.json((await resourceById(role, view, c.req.param('resourceID'))).found, 200);
      },
    );

    app.openapi(
      createRoute({
        method: 'post',
        path: `${prefix}/resources`,
        tags,
        security: oauth,
        summary:
          'OpenADR 3.1 createResource: bind an asset of the ven’s organisation (named by FMAR_ASSET_ID, MPAN or resourceName = asset ID) to the ven',
        request: { params: withVtn(prefix), body: { required: true, content: json(ResourceRequest) } },
        responses: { 201: { description: 'Created', content: json(Resource) }, ...problems(404, 409) },
      }),
      async (c) => {
        const p = c.get('principal');
        const role = roleOf(p, WRITE);
        const view = await viewOf(c);
        const body = c.req.valid('json');
        const ven = await venRow(p, role, view, body.venID, true);
        const assetId = await createBinding(ctx, p, ven, await bindingWrite(c, role, body, ven));
        return c.json((await resourceById(role, view, `${ven.id}_${assetId}`)).found, 201);
      },
    );

    app.openapi(
      createRoute({
        method: 'put',
        path: `${prefix}/resources/{resourceID}`,
        tags,
        security: oauth,
        summary: 'OpenADR 3.1 updateVenResource: resourceName, targets (BL) and further attributes of a bound asset',
        request: { params: withVtn(prefix, ResourceParam), body: { required: true, content: json(ResourceRequest) } },
        responses: { 200: { description: 'Updated', content: json(Resource) }, ...problems(404, 409) },
      }),
      async (c) => {
        const p = c.get('principal');
        const role = roleOf(p, WRITE);
        const view = await viewOf(c);
        const id = c.req.param('resourceID');
        const body = c.req.valid('json');
        const { ref, found } = await resourceById(role, view, id);
        const ven = await venRow(p, role, view, found.venID, true);
        const write = await bindingWrite(c, role, body, ven);
        if (body.venID !== found.venID)
          throw new Problem(
            'OPENADR-RESOURCE-VEN-FIXED',
            `Resource ${id} belongs to ven ${found.venID}: delete it and create it under the other ven.`,
          );
        await updateBinding(ctx, p, ven, ref.assetId, write);
        return c.json((await resourceById(role, view, id)).found, 200);
      },
    );

    app.openapi(
      createRoute({
        method: 'delete',
        path: `${prefix}/resources/{resourceID}`,
        tags,
        security: oauth,
        summary: 'OpenADR 3.1 deleteVenResource: remove the binding (the asset stays registered); answers the resource as it was',
        request: { params: withVtn(prefix, ResourceParam) },
        responses: { 200: { description: 'Deleted', content: json(Resource) }, ...problems(404) },
      }),
      async (c) => {
        const p = c.get('principal');
        const role = roleOf(p, WRITE);
        const view = await viewOf(c);
        const { ref, found } = await resourceById(role, view, c.req.param('resourceID'));
        const ven = await venRow(p, role, view, found.venID, true);
        await deleteBinding(ctx, p, ven, ref.assetId);
        return c.json(found, 200);
      },
    );
  }
  return app;
}

/** A VEN client writes VEN_VEN_REQUEST only (venName, attributes), for its own organisation. */
function venWritesOwn(raw: Record<string, unknown>, objectType: string, ownOrganisation: boolean) {
  const what =
    objectType !== 'VEN_VEN_REQUEST'
      ? 'a BL_VEN_REQUEST'
      : 'targets' in raw
        ? 'targets'
        : 'clientID' in raw
          ? 'a clientID'
          : !ownOrganisation
            ? 'another organisation’s ven'
            : undefined;
  if (what) throw new Problem('OPENADR-VEN-ROLE-FORBIDDEN', `A VEN client cannot write ${what}.`);
}
