import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { EventQuery, ObjectId, OadrProblem, Paging, type OadrScope } from '../../openadr/index';
import type { AuthEnv } from '../access/auth';
import type { Principal } from '../access/principal';
import { json } from '../http/common';
import { Problem } from '../http/problem';

/**
 * The operations of the OpenADR 3.1 document that a register does not serve: programs, events,
 * reports and subscriptions live at the VTN (its base URL is in the VTN record), and the register
 * sends no OpenADR notifications. They answer as a spec client understands, each with a status the
 * document declares for it (docs/openadr.md, "Operations the register does not serve"):
 *
 * - lists (GET /programs, /events, /reports, /subscriptions): `200 []`, so generic clients start cleanly;
 * - one object (GET /programs/{id}, …): `404 OPENADR-OBJECT-NOT-FOUND`, as for any ID the server does not hold;
 * - writes (POST, PUT, DELETE): `403 OPENADR-NOT-SERVED`, naming the VTN as the place to write;
 * - GET /notifiers: `200 { "WEBHOOK": false }` (the only status the document declares for it);
 * - GET /notifiers/mqtt/topics/…: `404 OPENADR-MQTT-NOT-SERVED` (no MQTT binding).
 */

interface Deps {
  /** The view's path parameters (the VTN's, in one VTN's view). */
  params: z.ZodObject<z.ZodRawShape>;
  /** Resolves the view (refuses an unknown VTN in one VTN's view). */
  viewOf: (c: Context<AuthEnv>) => Promise<unknown>;
  /** The caller's role for an operation (its OpenADR scope, or the hub's scope and matrix). */
  roleOf: (p: Principal, need: { action: 'vens.read' | 'vens.write'; scope: OadrScope }) => unknown;
}

const tags = ['OpenADR 3.1 (not served)'];
const oauth = [{ bearerAuth: [] as string[] }];
const problem = (description: string) => ({ description, content: json(OadrProblem) });
const refusals = (...statuses: number[]) => Object.fromEntries([400, 401, ...statuses].map((s) => [s, problem('OpenADR problem')]));

/** Each object kind, its ID parameter, list query and read scope (the document's). */
const KINDS = [
  { path: '/programs', id: 'programID', query: Paging, scope: 'read_targets' },
  { path: '/events', id: 'eventID', query: EventQuery, scope: 'read_targets' },
  { path: '/reports', id: 'reportID', query: Paging, scope: 'read_ven_objects' },
  { path: '/subscriptions', id: 'subscriptionID', query: Paging, scope: 'read_ven_objects' },
] as const;

const MQTT_TOPICS = [
  '/programs',
  '/programs/{programID}',
  '/events',
  '/programs/{programID}/events',
  '/reports',
  '/subscriptions',
  '/vens',
  '/vens/{venID}',
  '/resources',
  '/vens/{venID}/events',
  '/vens/{venID}/programs',
  '/vens/{venID}/resources',
] as const;

/** Register the operations the register does not serve, under `prefix` (a view). */
export function unservedRoutes(app: OpenAPIHono<AuthEnv>, prefix: string, d: Deps) {
  for (const k of KINDS) {
    const name = k.path.slice(1);
    const IdParam = z.object({ [k.id]: ObjectId.openapi({ param: { name: k.id, in: 'path' } }) });
    const byId = d.params.extend(IdParam.shape);
    app.openapi(
      createRoute({
        method: 'get',
        path: `${prefix}${k.path}`,
        tags,
        security: oauth,
        summary: `OpenADR 3.1: ${name}, always none (the register holds none; they live at the VTN)`,
        request: { params: d.params, query: k.query },
        responses: { 200: { description: 'Always empty', content: json(z.array(z.object({}))) }, ...refusals(403) },
      }),
      async (c) => {
        d.roleOf(c.get('principal'), { action: 'vens.read', scope: k.scope });
        await d.viewOf(c);
        return c.json([], 200);
      },
    );
    app.openapi(
      createRoute({
        method: 'get',
        path: `${prefix}${k.path}/{${k.id}}`,
        tags,
        security: oauth,
        summary: `OpenADR 3.1: one of the ${name}: none here (404)`,
        request: { params: byId },
        responses: { 404: problem(`The register holds no ${name}`), ...refusals(403) },
      }),
      async (c) => {
        d.roleOf(c.get('principal'), { action: 'vens.read', scope: k.scope });
        await d.viewOf(c);
        throw new Problem('OPENADR-OBJECT-NOT-FOUND', `The register holds no ${name}: ${name} live at the VTN, at its own base URL.`);
      },
    );
    const refuse = async (c: Context<AuthEnv>) => {
      await d.viewOf(c);
      throw new Problem(
        'OPENADR-NOT-SERVED',
        `The register records VEN registrations; it does not serve ${name}. Write them at the VTN, at the base URL its VTN record names.`,
      );
    };
    for (const [method, path, params] of [
      ['post', `${prefix}${k.path}`, d.params],
      ['put', `${prefix}${k.path}/{${k.id}}`, byId],
      ['delete', `${prefix}${k.path}/{${k.id}}`, byId],
    ] as const) {
      app.openapi(
        createRoute({
          method,
          path,
          tags,
          security: oauth,
          summary: `OpenADR 3.1: ${method.toUpperCase()} ${name}: not served (403; write ${name} at the VTN)`,
          request: { params },
          responses: { 403: problem(`The register does not serve ${name}`), ...refusals() },
        }),
        refuse,
      );
    }
  }

  app.openapi(
    createRoute({
      method: 'get',
      path: `${prefix}/notifiers`,
      tags,
      security: oauth,
      summary: 'OpenADR 3.1 listAllNotifiers: no notifier (the register sends no OpenADR notifications)',
      request: { params: d.params },
      responses: { 200: { description: 'Notifier bindings', content: json(z.object({ WEBHOOK: z.boolean() })) } },
    }),
    async (c) => {
      await d.viewOf(c);
      return c.json({ WEBHOOK: false }, 200);
    },
  );
  for (const topic of MQTT_TOPICS) {
    const ids = [...topic.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
    const params = d.params.extend(Object.fromEntries(ids.map((id) => [id, ObjectId.openapi({ param: { name: id, in: 'path' } })])));
    app.openapi(
      createRoute({
        method: 'get',
        path: `${prefix}/notifiers/mqtt/topics${topic}`,
        tags,
        security: oauth,
        summary: 'OpenADR 3.1 MQTT notifier topics: none (404; GET /notifiers shows no MQTT binding)',
        request: { params },
        responses: { 404: problem('No MQTT notifier'), ...refusals() },
      }),
      async (c) => {
        await d.viewOf(c);
        throw new Problem('OPENADR-MQTT-NOT-SERVED', 'The register offers no MQTT notifier binding (GET /notifiers).');
      },
    );
  }
}
