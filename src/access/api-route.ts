import { createRoute, type OpenAPIHono, type RouteConfig } from '@hono/zod-openapi';
import type { Env } from 'hono';
import type { RouteAction } from './permissions';

/**
 * A route under /api/v1 is declared once: its OpenAPI description and the action of the permission
 * matrix it needs, side by side (`apiRoute({ method, path, …, action: 'assets.read' })`). The action
 * rides on the route definition under a symbol key, so it follows the route into the app's OpenAPI
 * registry when routers are mounted, and stays out of the OpenAPI document (JSON has no symbols).
 * `routeActions` reads the table back from the registry; `authorize` (src/access/auth.ts) enforces
 * it, docs/security.md and test/permission-matrix.test.ts are made from it.
 */

const ACTION = Symbol('fmar.route-action');

/** createRoute with the action the route needs; a route under /api/v1 without one never builds (see routeActions). */
export function apiRoute<P extends string, R extends Omit<RouteConfig, 'path'> & { path: P; action: RouteAction }>(config: R) {
  const { action, ...route } = config;
  return createRoute({ ...route, [ACTION]: action } as unknown as Omit<R, 'action'> & { path: P });
}

/** `GET /api/v1/assets/{id}` (OpenAPI's path form) → the action that route needs. */
export type RouteActions = ReadonlyMap<string, RouteAction>;

/**
 * The action of every route an app declares under `under` (e.g. `/api/v1`), keyed
 * `METHOD /path/{param}` with `prefix` put before the declared path (a router mounted there later),
 * and the routes declared there without an action.
 */
export function routeActions<E extends Env>(
  app: OpenAPIHono<E>,
  o: { prefix?: string; under?: string } = {},
): { actions: Map<string, RouteAction>; missing: string[] } {
  const actions = new Map<string, RouteAction>();
  const missing: string[] = [];
  for (const def of app.openAPIRegistry.definitions) {
    if (def.type !== 'route') continue;
    const path = `${o.prefix ?? ''}${def.route.path}`;
    if (o.under && !path.startsWith(`${o.under}/`)) continue;
    const key = `${def.route.method.toUpperCase()} ${path}`;
    const action = (def.route as { [ACTION]?: RouteAction })[ACTION];
    if (action === undefined) missing.push(key);
    else actions.set(key, action);
  }
  return { actions, missing };
}
