import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import { OAUTH_ROUTES, ensureCookieKeys, purgeDpopReplays } from '../../identity/index';
import type { OrganisationRole } from '../access/roles';
import { buildProvider, identityListener, interactionHandler, sweepOidc, type IdentityHost } from '../../identity/node';
import { OADR_SCOPES } from '../../openadr/index';
import { PERMISSIONS, baselineScopes, openadrScopes } from '../access/permissions';
import type { HubConfig } from '../config';
import type { Ctx } from '../context';
import { failureLimiter } from '../http/rate-limit';
import { resolveDelegation } from '../identity/delegations';
import { activeClientRow, ensureConsoleClient } from '../identity/clients';
import { accountScopes, checkLogin, findAccount, switchAccount } from '../identity/users';
import { CONSUMER_SIGN_IN_PATH } from '../consumers/sign-in';
import type { Hub } from './setup';
import { standardHooks } from '../hooks';

type Listener = (req: IncomingMessage, res: ServerResponse) => unknown;

export interface IdentityServer {
  provider(): Provider;
  /** The Node request listener: provider paths, sign-in screens, then `fallback` (the Hono app). */
  listener(fallback: Listener): Listener;
  /** Re-read the signing keys; a rotation (by the CLI, maybe in another process) rebuilds the provider. */
  refreshKeys(): Promise<boolean>;
  /** Delete expired provider rows and DPoP replay records. */
  sweep(): Promise<number>;
  host: IdentityHost;
}

/** The hub's OpenID provider on Node, over the hub's database and policies. */
export async function startIdentity(cfg: HubConfig, hub: Hub): Promise<IdentityServer> {
  const { db, clock, ids } = hub.ports;
  const ctx: Ctx = { db, clock, ids, hooks: standardHooks() };
  const scopeDescriptions: Record<string, string> = {};
  // A household's scopes are never the provider's to grant: only the household sign-in issues them (docs/consumers.md).
  for (const p of Object.values(PERMISSIONS) as { scope: string; description: string; consumer?: true }[])
    if (!p.consumer) scopeDescriptions[p.scope] ??= p.description;
  // OpenADR 3.1's own scopes, issued to the roles OPENADR_SCOPE_ROLES names (docs/openadr.md, "Scopes").
  for (const [scope, description] of Object.entries(OADR_SCOPES)) scopeDescriptions[scope] = `OpenADR 3.1: ${description}`;
  const apiScopes = Object.keys(scopeDescriptions).sort();
  const host: IdentityHost = {
    issuer: cfg.issuer,
    audience: cfg.audience,
    trustProxy: cfg.trustProxy,
    apiScopes,
    db,
    now: () => clock.now(),
    newId: () => ids.next(),
    keys: hub.keys,
    cookieKeys: await ensureCookieKeys(db, clock.now(), () => ids.next()),
    findClient: (id) => activeClientRow(db, id),
    findAccount: (id) => findAccount(ctx, id),
    switchAccount: (id, organisationId) => switchAccount(ctx, id, organisationId),
    accountScopes: (id) => accountScopes(ctx, id),
    resolveDelegation: (o) => resolveDelegation(ctx, o),
    organisationScopes: async (id) => {
      const [o] = await db.query<{ roles: OrganisationRole[] }>(
        `SELECT to_jsonb(roles) AS roles FROM organisation WHERE id = $1 AND status = 'ACTIVE'`,
        [id],
      );
      return o ? [...baselineScopes(o.roles), ...openadrScopes(o.roles)] : [];
    },
    lockout: failureLimiter(db, clock),
    devMode: cfg.mode === 'development',
    log: (event, detail) => {
      if (event === 'token.issued') hub.ports.metrics?.tokenIssued(String(detail.grantType));
      if (process.env.FMAR_LOG_IDENTITY) console.log(`[fmar] identity ${event}`, detail);
    },
  };
  // The console's client (migration 031) signs people in back to this hub's /console/.
  await ensureConsoleClient(db, cfg.baseUrl);
  let provider = buildProvider(host);
  const interactions = interactionHandler(() => provider, {
    db,
    login: (email, password) => checkLogin(ctx, email, password),
    switchAccount: (id, organisationId) => switchAccount(ctx, id, organisationId),
    accountScopes: (id) => accountScopes(ctx, id),
    sessionLimit: cfg.sessionLimit,
    scopeDescriptions,
    // Households sign in through the consumer consent service instead (docs/consumers.md), back to the console.
    ...(hub.ports.consumerSignIn ? { householdSignIn: `${CONSUMER_SIGN_IN_PATH}?return_to=%2Fconsole%2F` } : {}),
  });
  return {
    host,
    provider: () => provider,
    listener: (fallback) => identityListener(() => provider, interactions, fallback),
    async refreshKeys() {
      if (!(await hub.keys.refresh())) return false;
      provider = buildProvider(host);
      return true;
    },
    sweep: async () => (await sweepOidc(db, clock.now())) + (await purgeDpopReplays(db, clock.now())),
  };
}

export const TOKEN_PATH = OAUTH_ROUTES.token;
