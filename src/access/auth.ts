import type { MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { tryDecodeURIComponent } from 'hono/utils/url';
import type { OrganisationRole } from './roles';
import { refuseIfAssetLimited } from './asset-limit';
import { Problem } from '../http/problem';
import type { Clock, LocalCli } from '../ports';
import type { Db } from '../storage/db';
import { CONSUMER_SCOPES, PERMISSIONS, consumerMay, roleMay, routeAction, type Action, type Permission } from './permissions';
import type { RouteActions } from './api-route';
import { consumerPrincipal, type Principal } from './principal';
import { DpopError, sqlReplayStore, verifyDpopProof } from '../../identity/index';
import { TokenRefused, type TokenVerifier } from './tokens';
import { localCliPrincipal } from './local-cli';

export type AuthEnv = { Variables: { principal: Principal; requestId: string } };

/** The register's facts behind a token: the organisation, the API client, the person and the delegation it names. */
export interface CredentialFacts {
  status: string;
  roles: OrganisationRole[];
  dnoCodes: string[];
  clientStatus: string | null;
  userStatus: string | null;
  delegation: {
    status: string;
    delegator_id: string;
    delegate_id: string;
    valid_from: string;
    valid_to: string;
    asset_ids: string[] | null;
  } | null;
}

/** Where authentication reads those facts (src/identity/credentials.ts, over the identity and organisation tables). */
export interface Credentials {
  /** The facts for a token's organisation, client, person and delegation; undefined when the register holds no such organisation. */
  facts(q: {
    organisationId: string;
    clientId: string | null;
    userId: string | null;
    delegationId: string | null;
    actorOrganisationId: string | null;
  }): Promise<CredentialFacts | undefined>;
  /** Moves whenever a credential is revoked on this instance: facts read at another generation are stale. */
  generation(): number;
}

/** What authentication needs of the hub's ports. */
export interface AuthPorts {
  db: Db;
  clock: Clock;
  tokens: TokenVerifier;
  localCli?: LocalCli;
  config: { baseUrl: string };
}

/**
 * Authentication of API calls: verify the JWT access token offline (jose, the issuer's keys), the
 * DPoP proof when the token is sender-constrained, then complete the principal from the register:
 * the organisation (roles, status), the API client the token was issued to, the person (for
 * people's tokens) and the delegation (for delegated tokens). Those facts are cached for
 * `cacheMs` (FMAR_AUTH_CACHE_MS, default 5 s) and dropped at once on this instance when a
 * credential is revoked (`credentials.generation()` moves), so a revoked client, deactivated person,
 * revoked delegation or suspended organisation is refused within that bound everywhere.
 */
export function authenticate(ports: AuthPorts, credentials: Credentials, cacheMs = 5_000): MiddlewareHandler<AuthEnv> {
  const cache = new Map<string, CredentialFacts & { at: number }>();
  let cacheGeneration = credentials.generation();
  // DPoP proofs already used (RFC 9449 §11.1), in the database: shared by every instance.
  const dpopReplay = sqlReplayStore(ports.db, () => ports.clock.now());
  return async (c, next) => {
    const header = (c.req.header('authorization') ?? '').trim();
    const cli = localCliPrincipal(ports.localCli, header);
    if (cli) {
      c.set('principal', { ...cli, requestId: c.get('requestId') });
      return next();
    }
    const m = /^(Bearer|DPoP) ([A-Za-z0-9._~+/=-]+)$/i.exec(header);
    if (!m)
      throw new Problem(
        'AUTH-TOKEN-MISSING',
        header ? 'Authorization must be "Bearer <access token>" (or "DPoP <access token>" with a DPoP proof).' : undefined,
        {},
        [],
        401,
      );
    if (m[2].length > MAX_TOKEN_CHARS)
      throw new Problem('AUTH-TOKEN-INVALID', `The access token is longer than ${MAX_TOKEN_CHARS} characters.`);
    let claims;
    try {
      claims = await ports.tokens.verify(m[2]);
    } catch (e) {
      if (e instanceof TokenRefused) throw new Problem(e.code, e.message);
      throw new Problem('AUTH-TOKEN-INVALID', 'The access token was refused: get a new access token from the token endpoint.');
    }
    const now = ports.clock.now();
    const jkt = (claims.cnf as { jkt?: string } | undefined)?.jkt;
    if (jkt) {
      if (m[1].toLowerCase() !== 'dpop') throw new Problem('AUTH-DPOP-REQUIRED');
      try {
        await verifyDpopProof({
          proof: c.req.header('dpop'),
          method: c.req.method,
          url: publicUrl(ports.config.baseUrl, c.req.url),
          accessToken: m[2],
          jkt,
          now,
          replay: dpopReplay,
        });
      } catch (e) {
        throw new Problem('AUTH-DPOP-INVALID', e instanceof DpopError ? `${e.code}: ${e.message}` : 'The DPoP proof was refused.');
      }
    } else if (m[1].toLowerCase() === 'dpop') {
      throw new Problem('AUTH-TOKEN-INVALID', 'The access token is not DPoP-bound: send it as Bearer.');
    }
    // A household's token (src/consumers/sign-in.ts): no organisation, client or person to look up;
    // it lives minutes and carries the meter points its sign-in vouched for.
    if (claims.consumer) {
      const scopes = (claims.scope ?? '').split(' ').filter((s) => CONSUMER_SCOPES.includes(s));
      c.set('principal', consumerPrincipal(claims.sub, claims.consumer.mpans, scopes, c.get('requestId')));
      return next();
    }
    const org = claims.org;
    if (!org) throw new Problem('AUTH-TOKEN-INVALID', 'The access token has no org claim.');
    const userId = typeof claims.user_role === 'string' ? claims.sub : null;
    const delegationId = typeof claims.delegation_id === 'string' ? claims.delegation_id : null;
    if (claims.act && !delegationId) throw new Problem('AUTH-TOKEN-INVALID', 'A token with an actor must name its delegation.');
    const key = `${org}|${claims.client_id ?? ''}|${userId ?? ''}|${delegationId ?? ''}`;
    // A revocation since the cache was filled drops it all.
    if (cacheGeneration !== credentials.generation()) {
      cache.clear();
      cacheGeneration = credentials.generation();
    }
    const t = now.getTime();
    let f = cache.get(key);
    if (!f || t - f.at > cacheMs || t < f.at) {
      const facts = await credentials.facts({
        organisationId: org,
        clientId: claims.client_id ?? null,
        userId,
        delegationId,
        actorOrganisationId: claims.act?.org ?? null,
      });
      if (!facts) throw new Problem('AUTH-TOKEN-INVALID', 'The token names an organisation the register does not hold.');
      f = { ...facts, at: t };
      if (cache.size > 10_000) cache.clear();
      cache.set(key, f);
    }
    if (f.status !== 'ACTIVE') throw new Problem('AUTH-ORGANISATION-INACTIVE', `Organisation ${org} is ${f.status}.`);
    if (f.clientStatus !== 'ACTIVE')
      throw new Problem(
        'AUTH-CLIENT-REVOKED',
        claims.client_id ? `API client ${claims.client_id} is not active.` : 'The token names no API client.',
      );
    if (userId && f.userStatus !== 'ACTIVE') throw new Problem('AUTH-USER-INACTIVE');
    let delegation: Principal['delegation'];
    if (delegationId) {
      const d = f.delegation;
      if (
        !d ||
        d.status !== 'ACTIVE' ||
        d.delegator_id !== org ||
        d.delegate_id !== claims.act?.org ||
        new Date(d.valid_from) > now ||
        new Date(d.valid_to) <= now
      ) {
        throw new Problem('AUTH-DELEGATION-INACTIVE', `Delegation ${delegationId} is not active.`);
      }
      delegation = { id: delegationId, assetIds: d.asset_ids };
    }
    c.set('principal', {
      subject: claims.sub,
      organisationId: org,
      roles: f.roles,
      scopes: (claims.scope ?? '').split(' ').filter(Boolean),
      act: claims.act,
      dnoCodes: f.dnoCodes,
      clientId: claims.client_id,
      ...(delegation ? { delegation } : {}),
      requestId: c.get('requestId'),
    });
    await next();
  };
}

/** Longest access token accepted (a JWT of this hub is under 1.5 KB). */
export const MAX_TOKEN_CHARS = 8192;

/** The URL the client addressed (behind a proxy the hub's public base URL), for the DPoP htu check. */
function publicUrl(baseUrl: string, requestUrl: string): string {
  const u = new URL(requestUrl);
  return `${baseUrl}${u.pathname}`;
}

/** Check the permission matrix for one action: the token's scope and one of the organisation's roles. */
export function checkPermission(p: Principal, action: Action): void {
  const perm: Permission = PERMISSIONS[action];
  if (!p.scopes.includes(perm.scope) && !p.scopes.includes('*'))
    throw new Problem('AUTH-SCOPE-MISSING', `This action needs the scope ${perm.scope}.`, { requiredScope: perm.scope });
  if (p.consumer) {
    if (!consumerMay(action))
      throw new Problem(
        'AUTH-ROLE-FORBIDDEN',
        `A household’s token performs only the consumer actions (docs/consumers.md), not ${action}.`,
      );
    return;
  }
  if (!roleMay(action, p.roles)) {
    throw new Problem('AUTH-ROLE-FORBIDDEN', `No role of organisation ${p.organisationId} (${p.roles.join(', ')}) may ${action}.`);
  }
  // Fails closed: an action that does not say how the asset limit applies is refused to a limited delegate.
  if (!perm.assetLimit) refuseIfAssetLimited(p, `${action}`);
}

/** `GET /api/v1/assets/:id` (Hono) as `GET /api/v1/assets/{id}` (OpenAPI, the key of RouteActions). */
export function routeKey(method: string, honoPath: string): string {
  return `${method.toUpperCase()} ${honoPath.replace(/:(\w+)(\{[^}]*\})?/g, '{$1}')}`;
}

/** A `use()` entry (method ALL on a wildcard path) is middleware, not a route. */
export const isMiddlewareEntry = (r: { method: string; path: string }) => r.method === 'ALL' && r.path.endsWith('*');

/**
 * The permission check of every route under /api/v1, from the action each route declares
 * (`routes`, read from the declarations by `routeActions` in src/access/api-route.ts): runs after
 * `authenticate`, before any validator or handler. Fails closed: a route the table does not name
 * is refused (AUTH-ROUTE-UNMAPPED) and logged. With no route at all it lets the app 404.
 */
export function authorize(routes: RouteActions): MiddlewareHandler<AuthEnv> {
  const logged = new Set<string>();
  return async (c, next) => {
    // The app is flattened at the root, so the matched routes carry the full /api/v1 paths; the
    // first one that is not middleware is the one that answers (e.g. /assets/export before /assets/:id).
    const route = matchedRoutes(c).find((r) => !isMiddlewareEntry(r));
    if (!route) return next();
    const key = routeKey(route.method, route.path);
    const entry = routes.get(key);
    if (!entry) {
      // Once per route and process: a deployment bug to fix, not a stream of log lines.
      if (!logged.has(key)) {
        logged.add(key);
        console.error(
          `[fmar] ${c.req.method} ${c.req.path}: route ${key} declares no action of the permission matrix (apiRoute, src/access/api-route.ts); refused.`,
        );
      }
      throw new Problem('AUTH-ROUTE-UNMAPPED', `${key} has no entry in the permission matrix.`);
    }
    const p = c.get('principal');
    const action = routeAction(entry, typeof entry !== 'string' && pathParam(route.path, c.req.path, 'id') === p.organisationId);
    if (action === 'refused') throw new Problem('AUTH-ROLE-FORBIDDEN', `${key} is refused on the caller’s own organisation.`);
    checkPermission(p, action);
    await next();
  };
}

/** The value of `:name` in a request path matched by a Hono route pattern, decoded as `c.req.param` does. */
function pathParam(pattern: string, path: string, name: string): string | undefined {
  const i = pattern.split('/').findIndex((s) => s === `:${name}` || s.startsWith(`:${name}{`));
  const raw = i < 0 ? undefined : path.split('/')[i];
  return raw === undefined ? undefined : tryDecodeURIComponent(raw);
}
