import { createHash, timingSafeEqual } from 'node:crypto';
import { Readable } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import Provider, { errors, interactionPolicy, type Configuration, type JWKS, type KoaContextWithOIDC } from 'oidc-provider';
import { AlreadyConsumed, adapterFactory, type FindClient } from './adapter';
import { signAccessToken, type KeyRing } from './keys';
import { esc, page } from './pages';
import { JWKS_URI_MAX_BYTES, jwksFetch, verifyWithFreshKeys } from './jwks-uri';
import {
  ACCESS_TOKEN_TTL_SEC,
  ACCESS_TOKEN_TYPE,
  CLIENT_ASSERTION_ALGORITHMS,
  ISSUED_AT_SKEW_SEC,
  OAUTH_ROUTES,
  TOKEN_EXCHANGE,
  hashClientSecret,
} from './shared';
import type { Now, SqlPort } from './types';

export interface Account {
  id: string;
  email: string;
  name: string;
  organisationId: string;
  userRole: string;
  /** Every organisation the person may act in, each through its own account (a switch of organisation). */
  organisations?: { accountId: string; organisationId: string; organisationName: string; userRole: string }[];
}

export type DelegationOutcome =
  | { ok: true; delegationId: string; delegatorId: string; delegateId: string; scopes: string[]; validTo: Date }
  | { ok: false; description: string };

export interface FailureLimiter {
  check(key: string): Promise<{ locked: boolean; retryAfterSec: number; hasRecord?: boolean }>;
  fail(key: string): Promise<unknown>;
  succeed(key: string): Promise<unknown>;
}

/** What the hub supplies: its policies (who may have which scopes, who is who), the provider supplies OAuth. */
export interface IdentityHost {
  issuer: string;
  /** The API's resource indicator: the `aud` of every API access token. */
  audience: string;
  /** Every scope the API knows (the permission matrix's scopes). */
  apiScopes: string[];
  /**
   * Trust X-Forwarded-Proto/-Host/-For from a reverse proxy (FMAR_TRUST_PROXY). Either way the
   * endpoints' URLs, and so the audiences client assertions and DPoP proofs must name, come from
   * `issuer`, never from a request header.
   */
  trustProxy?: boolean;
  db: SqlPort;
  now: Now;
  newId: () => string;
  keys: KeyRing;
  /** Secrets that sign the provider's cookies (kept in the database, see cookieKeys()). */
  cookieKeys: string[];
  /** The active API client with this ID, of an active organisation (the provider stores no clients). */
  findClient: FindClient;
  findAccount(id: string): Promise<Account | undefined>;
  /**
   * The account of the same person in another organisation (an authorization request's
   * `organisation` parameter), if they belong to it: the sign-in switches to it without a password.
   */
  switchAccount?(accountId: string, organisationId: string): Promise<string | undefined>;
  /** The API scopes an active person may be granted (their organisation's roles and their user role). */
  accountScopes(id: string): Promise<string[]>;
  /** The scopes an organisation's own tokens may carry (its roles' baseline). */
  organisationScopes(organisationId: string): Promise<string[]>;
  resolveDelegation(o: { delegationId: string | undefined; delegateOrganisationId: string; at: Date }): Promise<DelegationOutcome>;
  /** Lockout after repeated failed client authentication at the token endpoint. */
  lockout?: FailureLimiter;
  /** Told of provider events worth auditing or logging. */
  log?(event: string, detail: Record<string, unknown>): void;
  devMode: boolean;
}

async function sameHash(stored: string, presented: string): Promise<boolean> {
  const a = Buffer.from(stored);
  const b = Buffer.from(await hashClientSecret(presented));
  return a.length === b.length && timingSafeEqual(a, b);
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of req) {
    n += (chunk as Buffer).length;
    if (n > limit) throw new errors.InvalidRequest('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The client an unauthenticated token request claims to be (for lockout accounting only). */
function claimedClientId(ctx: Pick<KoaContextWithOIDC, 'get'>, form: URLSearchParams): string | undefined {
  const basic = /^Basic (.+)$/i.exec(ctx.get('authorization'));
  if (basic) {
    try {
      return decodeURIComponent(Buffer.from(basic[1], 'base64').toString('utf8').split(':')[0]);
    } catch {
      return undefined;
    }
  }
  const id = form.get('client_id');
  if (id) return id;
  const assertion = form.get('client_assertion');
  if (assertion) {
    try {
      const sub = decodeJwt(assertion).sub;
      return typeof sub === 'string' ? sub : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * The provider's usual prompts, with one more reason to sign in: the request names an organisation
 * (`organisation=`) the signed-in account does not act in but the same person belongs to. The
 * sign-in page then switches account without a password (interactions.ts).
 */
function switchingPolicy(host: IdentityHost) {
  const policy = interactionPolicy.base();
  policy.get('login')!.checks.add(
    new interactionPolicy.Check('organisation_switch', 'the request names another organisation of the person', async (ctx) => {
      const wanted = ctx.oidc.params?.organisation;
      const current = ctx.oidc.session?.accountId;
      if (typeof wanted !== 'string' || !current || !host.switchAccount) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      const target = await host.switchAccount(current, wanted);
      return target && target !== current ? interactionPolicy.Check.REQUEST_PROMPT : interactionPolicy.Check.NO_NEED_TO_PROMPT;
    }),
  );
  return policy;
}

/**
 * Build the hub's OpenID provider (oidc-provider, a Koa app, Node only). Issuer = the hub's base
 * URL. API access tokens are RFC 9068 JWTs for the resource `host.audience`, 5 minutes, signed with
 * the key ring's ES256 key and verified offline by the API; tokens without that resource (userinfo)
 * are opaque and can be introspected and revoked.
 */
export function buildProvider(host: IdentityHost): Provider {
  const apiScopes = new Set(host.apiScopes);
  const config: Configuration = {
    adapter: adapterFactory(host.db, host.now, host.findClient),
    jwks: { keys: host.keys.privateJwks() as JWKS['keys'] },
    routes: OAUTH_ROUTES,
    scopes: ['openid', 'offline_access', 'email', 'profile', ...host.apiScopes],
    claims: { openid: ['sub'], email: ['email'], profile: ['name', 'org', 'user_role', 'organisations'] },
    // `organisation`: the organisation the person wants to act in (one of theirs), for a switch.
    extraParams: ['organisation'],
    clientAuthMethods: ['private_key_jwt', 'client_secret_basic', 'client_secret_post', 'none'],
    // A private_key_jwt client's keys at its JWKS URI: https only, kept at most 5 minutes (jwks-uri.ts).
    fetch: jwksFetch(host.devMode),
    fetchResponseBodyLimits: { jwks_uri: JWKS_URI_MAX_BYTES },
    enabledJWA: {
      clientAuthSigningAlgValues: CLIENT_ASSERTION_ALGORITHMS,
      idTokenSigningAlgValues: ['ES256', 'RS256'],
      userinfoSigningAlgValues: ['ES256', 'RS256'],
      introspectionSigningAlgValues: ['ES256', 'RS256'],
      authorizationSigningAlgValues: ['ES256', 'RS256'],
      dPoPSigningAlgValues: ['ES256', 'EdDSA', 'RS256', 'PS256'],
    },
    extraClientMetadata: { properties: ['organisation_id'] },
    cookies: { keys: host.cookieKeys },
    pkce: { required: () => true },
    ttl: {
      AccessToken: ACCESS_TOKEN_TTL_SEC,
      ClientCredentials: ACCESS_TOKEN_TTL_SEC,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 600,
      Session: 14 * 24 * 3600,
      Grant: 14 * 24 * 3600,
      RefreshToken: 14 * 24 * 3600,
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true, allowedPolicy: async (ctx, client, token) => token.clientId === client.clientId },
      revocation: { enabled: true },
      userinfo: { enabled: true },
      dPoP: { enabled: true },
      // The library's own sign-out pages @import a web font from another host: the hub's pages load nothing from outside.
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.body = page(
            'Sign out',
            `<p>Sign out of the FMAR hub at ${esc(ctx.host)}?</p>${form}
<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button type="submit" form="op.logoutForm">No, stay signed in</button>`,
          );
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.body = page('Signed out', '<p>You are signed out of the FMAR hub.</p>');
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => host.audience,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx, resource) => {
          if (resource !== host.audience) throw new errors.InvalidTarget(`the only resource is ${host.audience}`);
          return {
            scope: host.apiScopes.join(' '),
            audience: host.audience,
            accessTokenTTL: ACCESS_TOKEN_TTL_SEC,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    conformIdTokenClaims: false,
    findAccount: async (_ctx, sub) => {
      const a = await host.findAccount(sub);
      if (!a) return undefined;
      return {
        accountId: a.id,
        claims: async () => ({
          sub: a.id,
          email: a.email,
          name: a.name,
          org: a.organisationId,
          user_role: a.userRole,
          organisations: (a.organisations ?? []).map((m) => ({ id: m.organisationId, name: m.organisationName, user_role: m.userRole })),
        }),
      };
    },
    extraTokenClaims: async (ctx, token) => {
      if (token.kind === 'ClientCredentials') {
        const client = ctx.oidc.client ?? (await ctx.oidc.provider.Client.find(token.clientId!));
        return { org: client?.organisation_id };
      }
      if (token.kind === 'AccessToken' && token.accountId) {
        const a = await host.findAccount(token.accountId);
        return a ? { org: a.organisationId, user_role: a.userRole } : undefined;
      }
      return undefined;
    },
    interactions: { policy: switchingPolicy(host), url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = page('Sign-in problem', `<p>${esc(String(out.error))}: ${esc(String(out.error_description ?? ''))}</p>`);
    },
    clientDefaults: {
      grant_types: ['client_credentials'],
      response_types: [],
      token_endpoint_auth_method: 'private_key_jwt',
      id_token_signed_response_alg: 'ES256',
    },
  };

  const provider = new Provider(host.issuer, config);
  provider.proxy = host.trustProxy === true;
  // Every token the token endpoint issues, by grant type (the host counts them: metrics).
  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    const grantType = ctx.oidc.params?.grant_type;
    host.log?.('token.issued', { grantType: typeof grantType === 'string' ? grantType : 'unknown' });
  });
  // oidc-provider builds its endpoints' URLs from the request's Host (or X-Forwarded-Host), and a
  // client assertion may name any of them as its audience: build them from the issuer instead.
  provider.OIDCContext.prototype.urlFor = function urlFor(name: string, options?: Record<string, unknown>) {
    return provider.urlFor(name, options);
  };
  atomicOneTimeUse(provider, host);
  verifyWithFreshKeys(provider);

  // Client secrets are stored hashed; compare the hash of what was presented.
  provider.Client.prototype.compareClientSecret = async function compare(this: { clientSecret: string }, actual: string) {
    return typeof actual === 'string' && (await sameHash(this.clientSecret, actual));
  };

  // A client-credentials request without `scope` gets every scope the client is registered for
  // (RFC 6749 §3.3 lets the server use a pre-defined default scope), limited to the API's scopes
  // and to what the client's organisation may do itself.
  // With `scope`, every scope asked for must be one the client may hold here, else the request is
  // invalid_scope (never silently narrowed to nothing and then widened to the default set).
  const ccSave = provider.ClientCredentials.prototype.save;
  provider.ClientCredentials.prototype.save = async function save(
    this: InstanceType<typeof provider.ClientCredentials>,
    ...args: Parameters<typeof ccSave>
  ) {
    if (this.resourceServer) {
      // A client may be registered for scopes it can only use under a delegation (token
      // exchange); its own tokens carry no more than its organisation's roles allow.
      const client = this.client ?? (await provider.Client.find(this.clientId!));
      const own = new Set(await host.organisationScopes(client?.organisation_id as string));
      const allowed = String(client?.scope ?? '')
        .split(' ')
        .filter((s) => apiScopes.has(s) && own.has(s));
      this.scope = grantedScopes(requestedScope(), allowed).join(' ') || undefined;
    }
    return ccSave.apply(this, args);
  };

  // Lockout/backoff on repeated failed client authentication at the token endpoint.
  provider.use(async (ctx, next) => {
    if (!(ctx.method === 'POST' && ctx.path === OAUTH_ROUTES.token && host.lockout)) return next();
    const raw = await readBody(ctx.req, 56 * 1024);
    // Hand the provider the same bytes as a stream again, so its own body parser reads them as usual.
    const req = ctx.req as IncomingMessage & { iterator?: (o?: { destroyOnReturn?: boolean }) => AsyncIterator<unknown> };
    Object.defineProperty(req, 'readable', { value: true, configurable: true });
    req.iterator = (o?: { destroyOnReturn?: boolean }) => Readable.from([raw]).iterator(o);
    const claimed = claimedClientId(ctx, new URLSearchParams(raw.toString('utf8')));
    const key = claimed ? `client:${claimed}` : undefined;
    let known = true;
    if (key) {
      const state = await host.lockout.check(key);
      known = state.hasRecord !== false;
      if (state.locked) {
        ctx.status = 429;
        ctx.set('retry-after', String(state.retryAfterSec));
        ctx.set('cache-control', 'no-store');
        ctx.body = {
          error: 'invalid_client',
          error_description: `too many failed client authentications; retry after ${state.retryAfterSec} s`,
        };
        host.log?.('client.locked', { clientId: claimed });
        return;
      }
    }
    await next();
    if (!key) return;
    const error = (ctx.body as { error?: unknown } | undefined)?.error;
    if (ctx.status === 401 && error === 'invalid_client') await host.lockout.fail(key);
    else if (ctx.status === 200 && known) await host.lockout.succeed(key);
  });

  registerTokenExchange(provider, host);
  return provider;
}

/**
 * RFC 8693 token exchange for delegation (UC-05.04). The delegate's client authenticates and
 * presents its own API access token as `subject_token` and the delegation it acts under as
 * `delegation_id`; the answer is an access token whose `sub` and `org` are the delegating FSP and
 * whose `act` names the delegate. Scopes: what was asked (default: all delegated), which must all
 * be delegated, intersected with the delegate client's scopes (the host has already intersected
 * the delegation with the FSP's role).
 */
function registerTokenExchange(provider: Provider, host: IdentityHost) {
  const verifyKeys = () => createLocalJWKSet(host.keys.publicJwks());
  provider.registerGrantType(
    TOKEN_EXCHANGE,
    async (ctx: KoaContextWithOIDC) => {
      const params = ctx.oidc.params as Record<string, string | undefined>;
      const client = ctx.oidc.client!;
      if (params.subject_token_type !== ACCESS_TOKEN_TYPE)
        throw new errors.InvalidRequest(`subject_token_type must be ${ACCESS_TOKEN_TYPE}`);
      if (params.requested_token_type && params.requested_token_type !== ACCESS_TOKEN_TYPE)
        throw new errors.InvalidRequest(`requested_token_type must be ${ACCESS_TOKEN_TYPE}`);
      if (params.actor_token) throw new errors.InvalidRequest('actor_token is not used: the authenticated client is the actor');
      if (params.resource && params.resource !== host.audience) throw new errors.InvalidTarget(`the only resource is ${host.audience}`);
      if (!params.subject_token || params.subject_token.length > 8192)
        throw new errors.InvalidRequest('subject_token is missing or too large');
      let subject;
      try {
        ({ payload: subject } = await jwtVerify(params.subject_token, verifyKeys(), {
          issuer: host.issuer,
          audience: host.audience,
          typ: 'at+jwt',
          algorithms: ['ES256', 'RS256'],
          currentDate: host.now(),
          clockTolerance: 30,
        }));
      } catch (e) {
        throw new errors.InvalidGrant(
          `subject_token is not a valid access token of this hub (${(e as { code?: string }).code ?? 'invalid'})`,
        );
      }
      const aheadSec = typeof subject.iat === 'number' ? subject.iat - host.now().getTime() / 1000 : 0;
      if (aheadSec > ISSUED_AT_SKEW_SEC)
        throw new errors.InvalidGrant(
          `subject_token was issued ${Math.round(aheadSec)} s in the future (at most ${ISSUED_AT_SKEW_SEC} s of clock skew is allowed)`,
        );
      if (subject.client_id !== client.clientId) throw new errors.InvalidGrant('subject_token was not issued to this client');
      if (subject.act) throw new errors.InvalidGrant('a delegated token cannot be exchanged again');
      const delegateOrg = client.organisation_id as string;
      if (subject.org !== delegateOrg) throw new errors.InvalidGrant('subject_token belongs to another organisation');

      const at = host.now();
      const d = await host.resolveDelegation({ delegationId: params.delegation_id, delegateOrganisationId: delegateOrg, at });
      if (!d.ok) throw new errors.InvalidGrant(d.description);
      const requested = params.scope ? params.scope.split(' ').filter(Boolean) : undefined;
      const notDelegated = (requested ?? []).filter((s) => !d.scopes.includes(s));
      if (notDelegated.length) throw new errors.InvalidScope(`not delegated: ${notDelegated.join(' ')}`, notDelegated.join(' '));
      const clientScopes = new Set(String(client.scope ?? '').split(' '));
      const notHeld = (requested ?? []).filter((s) => !clientScopes.has(s));
      if (notHeld.length)
        throw new errors.InvalidScope(`not registered for client ${client.clientId}: ${notHeld.join(' ')}`, notHeld.join(' '));
      const scopes = (requested ?? d.scopes).filter((s) => clientScopes.has(s));
      if (!scopes.length)
        throw new errors.InvalidScope('no requested scope is both delegated and allowed to this client', (requested ?? d.scopes).join(' '));

      const ttl = Math.max(1, Math.min(ACCESS_TOKEN_TTL_SEC, Math.floor((d.validTo.getTime() - at.getTime()) / 1000)));
      const token = await signAccessToken(
        host.keys,
        {
          iss: host.issuer,
          aud: host.audience,
          sub: d.delegatorId,
          ttlSec: ttl,
          jti: host.newId(),
          org: d.delegatorId,
          act: { sub: client.clientId, org: delegateOrg },
          client_id: client.clientId,
          scope: scopes.join(' '),
          delegation_id: d.delegationId,
        },
        at,
      );
      host.log?.('token.exchanged', { clientId: client.clientId, delegationId: d.delegationId, scopes });
      ctx.set('cache-control', 'no-store');
      ctx.body = {
        access_token: token,
        issued_token_type: ACCESS_TOKEN_TYPE,
        token_type: 'Bearer',
        expires_in: ttl,
        scope: scopes.join(' '),
      };
    },
    [
      'subject_token',
      'subject_token_type',
      'requested_token_type',
      'actor_token',
      'actor_token_type',
      'scope',
      'resource',
      'audience',
      'delegation_id',
    ],
  );
}

/** The `scope` parameter of the token request being handled, as a list; undefined when omitted. */
function requestedScope(): string[] | undefined {
  const scope = (Provider.ctx?.oidc?.params as { scope?: unknown } | undefined)?.scope;
  return typeof scope === 'string' && scope.trim() ? scope.split(' ').filter(Boolean) : undefined;
}

/**
 * RFC 6749 §3.3: an omitted scope gets the default set (everything allowed); a requested scope
 * that is unknown or not allowed makes the request invalid_scope.
 */
export function grantedScopes(requested: string[] | undefined, allowed: string[]): string[] {
  if (!requested) return allowed;
  const refused = requested.filter((s) => !allowed.includes(s));
  if (refused.length)
    throw new errors.InvalidScope(
      `scope not allowed to this client: ${refused.join(' ')}; ask for some of: ${allowed.join(' ') || '(none)'}`,
      refused.join(' '),
    );
  return [...new Set(requested)];
}

/**
 * One-time values hold under concurrency (the provider reads, checks, then writes, which
 * concurrent requests all pass): a replay record (client assertion and DPoP proof `jti`) is one
 * conditional insert, and a code or refresh token is consumed by one conditional update
 * (adapter.ts). A redemption that loses the race is a reuse, treated as oidc-provider treats a
 * sequential one: invalid_grant, and the grant with every token issued from it is revoked.
 */
function atomicOneTimeUse(provider: Provider, host: IdentityHost) {
  const replay = provider.ReplayDetection;
  const replayStore = replay.adapter as unknown as {
    insertOnce(id: string, payload: Record<string, unknown>, expiresAt: Date): Promise<boolean>;
  };
  replay.unique = async (iss: string, jti: string, exp: number) => {
    const id = createHash('sha256').update(`${iss}${jti}`).digest('base64url');
    return replayStore.insertOnce(id, { iss, jti: id, kind: 'ReplayDetection', exp }, new Date(exp * 1000));
  };

  const revokeGrant = async (grantId: string) => {
    await provider.RefreshToken.adapter.revokeByGrantId(grantId);
    await provider.Grant.adapter.destroy(grantId);
    host.log?.('grant.revoked', { grantId, reason: 'a code or refresh token was redeemed twice at once' });
  };
  const guard = (model: { prototype: { consume(): Promise<void>; grantId?: string } }, refused: () => Error, revoke: boolean) => {
    const consume = model.prototype.consume;
    model.prototype.consume = async function guardedConsume(this: { grantId?: string }) {
      try {
        await consume.call(this);
      } catch (e) {
        if (!(e instanceof AlreadyConsumed)) throw e;
        if (revoke && this.grantId) await revokeGrant(this.grantId);
        throw refused();
      }
    };
  };
  guard(provider.AuthorizationCode, () => new errors.InvalidGrant('authorization code already consumed'), true);
  guard(provider.RefreshToken, () => new errors.InvalidGrant('refresh token already used'), true);
  guard(
    provider.PushedAuthorizationRequest,
    () => new errors.InvalidRequestUri('request_uri is invalid, expired, or was already used'),
    false,
  );
}
