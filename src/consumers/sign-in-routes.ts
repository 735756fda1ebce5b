import { Hono } from 'hono';
import { getCookie, setCookie, deleteCookie } from 'hono/cookie';
import * as oidc from 'openid-client';
import type { AuthEnv } from '../access/auth';
import { CONSUMER_SCOPES } from '../access/permissions';
import { consumerPrincipal } from '../access/principal';
import { MAX_CONSUMER_MPANS } from '../access/tokens';
import { writeAudit } from '../audit/audit';
import { checkMpanCore } from '../catalogue/identifiers';
import type { Ctx } from '../context';
import { Problem } from '../http/problem';
import { CONSUMER_CALLBACK_PATH, CONSUMER_SIGN_IN_PATH, type ConsumerSignIn } from './sign-in';

export type { ConsumerSignIn } from './sign-in';

/**
 * A household signs in (docs/consumers.md): the hub is a relying party (openid-client, a certified
 * OpenID client library) of the consumer consent service, an external OpenID provider that
 * verifies who may act for a meter point. Authorization code flow with PKCE, state and nonce; the
 * ID token (or userinfo) names the meter points (MPANs). The hub then issues the household its own
 * short-lived access token (the same RFC 9068 format and keys as every hub token) with a `consumer`
 * principal bound to those MPANs. Of the person it keeps only the audit record of the sign-in,
 * under a pseudonym (a hash of the provider's issuer and subject).
 */

const COOKIE = 'fmar_consumer_sign_in';
const FLOW_TTL_SEC = 600;

const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

/** The pseudonym of a household: stable per provider and person, and not their identifier there. */
export async function consumerSubject(issuer: string, sub: string): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`${issuer}\n${sub}`)));
  return `consumer:${b64url(d).slice(0, 32)}`;
}

interface Flow {
  state: string;
  nonce: string;
  verifier: string;
  returnTo?: string;
  exp: number;
}

/** The flow's secrets ride in a cookie, signed (HMAC-SHA-256, keyed by the client secret) so nothing else can plant one. */
async function hmac(secret: string, data: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(`fmar consumer sign-in\n${secret}`),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  return b64url(new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(data))));
}

async function sealFlow(secret: string, f: Flow): Promise<string> {
  const body = b64url(new TextEncoder().encode(JSON.stringify(f)));
  return `${body}.${await hmac(secret, body)}`;
}

async function openFlow(secret: string, raw: string | undefined, nowSec: number): Promise<Flow | undefined> {
  const [body, mac] = (raw ?? '').split('.');
  if (!body || !mac || (await hmac(secret, body)) !== mac) return undefined;
  try {
    const f = JSON.parse(atob(body.replace(/-/g, '+').replace(/_/g, '/'))) as Flow;
    return f.exp >= nowSec ? f : undefined;
  } catch {
    return undefined;
  }
}

/** A path on this hub to come back to (the console), never another site. */
function safeReturnTo(v: string | undefined): string | undefined {
  if (!v) return undefined;
  if (!v.startsWith('/') || v.startsWith('//') || v.includes('\\') || v.length > 512)
    throw new Problem('CONSUMER-SIGN-IN-FAILED', 'return_to must be a path on this hub.');
  return v.split('#')[0];
}

/** The meter points the provider vouched for: MPAN cores with a valid check digit, 1 to MAX_CONSUMER_MPANS. */
export function meterPoints(v: unknown, claim: string): string[] {
  const list = Array.isArray(v) ? v : typeof v === 'string' ? v.split(/[\s,]+/).filter(Boolean) : undefined;
  if (!list || list.length === 0)
    throw new Problem(
      'CONSUMER-NO-METER-POINTS',
      `The consumer consent service named no meter point (claim ${claim}) this person may act for.`,
    );
  const mpans = [...new Set(list.map((m) => String(m).replace(/\s/g, '')))];
  const bad = mpans.filter((m) => checkMpanCore(m) !== 'ok');
  if (bad.length || mpans.length > MAX_CONSUMER_MPANS)
    throw new Problem(
      'CONSUMER-NO-METER-POINTS',
      bad.length
        ? `The ${claim} claim holds ${bad.length} value(s) that are not MPAN cores with a valid check digit.`
        : `The ${claim} claim names ${mpans.length} meter points; at most ${MAX_CONSUMER_MPANS} are accepted.`,
    );
  return mpans.sort();
}

/** GET /auth/consumer/sign-in and /auth/consumer/callback (outside /api/v1: a browser's redirects, no token). */
export function consumerSignInRoutes(ctx: Ctx, o: { baseUrl: string; signIn: () => ConsumerSignIn | undefined }) {
  const app = new Hono<AuthEnv>();
  const redirectUri = `${o.baseUrl}${CONSUMER_CALLBACK_PATH}`;
  let discovered: { key: string; config: Promise<oidc.Configuration> } | undefined;
  const nowSec = () => Math.floor(ctx.clock.now().getTime() / 1000);

  const configured = () => {
    const s = o.signIn();
    if (!s)
      throw new Problem(
        'CONSUMER-SIGN-IN-UNAVAILABLE',
        'No consumer consent service is configured as a provider (FMAR_CONSUMER_OIDC_ISSUER, docs/consumers.md).',
      );
    return s;
  };
  /**
   * Discovery once per issuer (again after a failure); then a client per request, whose clock is the
   * hub's clock port (the ID token's iat and exp are judged by it, as everything else is).
   */
  const configuration = async (s: ConsumerSignIn): Promise<oidc.Configuration> => {
    const options: oidc.DiscoveryRequestOptions = {
      ...(s.allowHttp ? { execute: [oidc.allowInsecureRequests] } : {}),
      ...(s.fetch ? { [oidc.customFetch]: s.fetch as oidc.CustomFetch } : {}),
    };
    if (discovered?.key !== s.issuer) {
      const found = oidc.discovery(new URL(s.issuer), s.clientId, undefined, oidc.ClientSecretBasic(s.clientSecret), options);
      discovered = { key: s.issuer, config: found };
      found.catch(() => {
        if (discovered?.config === found) discovered = undefined;
      });
    }
    const server = (await discovered.config).serverMetadata();
    const skew = Math.round((ctx.clock.now().getTime() - Date.now()) / 1000);
    const config = new oidc.Configuration(
      server,
      s.clientId,
      { id_token_signed_response_alg: 'ES256', [oidc.clockSkew]: skew },
      oidc.ClientSecretBasic(s.clientSecret),
    );
    if (s.allowHttp) oidc.allowInsecureRequests(config);
    if (s.fetch) config[oidc.customFetch] = s.fetch as oidc.CustomFetch;
    // The ID token's signature is checked against the provider's JWKS too, not only trusted for coming over TLS.
    oidc.enableNonRepudiationChecks(config);
    return config;
  };
  const unavailable = (e: unknown) =>
    new Problem('CONSUMER-SIGN-IN-UNAVAILABLE', `The consumer consent service cannot be reached now: ${(e as Error).message}`, {
      retryAfterSec: 30,
    });

  app.get(CONSUMER_SIGN_IN_PATH, async (c) => {
    const s = configured();
    const returnTo = safeReturnTo(c.req.query('return_to'));
    let config: oidc.Configuration;
    try {
      config = await configuration(s);
    } catch (e) {
      throw unavailable(e);
    }
    const flow: Flow = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      verifier: oidc.randomPKCECodeVerifier(),
      ...(returnTo ? { returnTo } : {}),
      exp: nowSec() + FLOW_TTL_SEC,
    };
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid meter-points',
      state: flow.state,
      nonce: flow.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(flow.verifier),
      code_challenge_method: 'S256',
    });
    setCookie(c, COOKIE, await sealFlow(s.clientSecret, flow), {
      path: '/auth/consumer',
      httpOnly: true,
      secure: o.baseUrl.startsWith('https:'),
      sameSite: 'Lax',
      maxAge: FLOW_TTL_SEC,
    });
    return c.redirect(url.toString(), 302);
  });

  app.get(CONSUMER_CALLBACK_PATH, async (c) => {
    const s = configured();
    const flow = await openFlow(s.clientSecret, getCookie(c, COOKIE), nowSec());
    deleteCookie(c, COOKIE, { path: '/auth/consumer' });
    if (!flow)
      throw new Problem(
        'CONSUMER-SIGN-IN-FAILED',
        'This sign-in did not start in this browser or took longer than 10 minutes: start again.',
      );
    let config: oidc.Configuration;
    try {
      config = await configuration(s);
    } catch (e) {
      throw unavailable(e);
    }
    // The URL the provider redirected to, as the hub's public base URL names it (not the Host header).
    const current = new URL(`${redirectUri}${new URL(c.req.url).search}`);
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: flow.verifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
        idTokenExpected: true,
      });
    } catch (e) {
      return refusal(e);
    }
    const claims = tokens.claims()!;
    let listed: unknown = claims[s.mpansClaim];
    if (listed === undefined) {
      try {
        listed = (await oidc.fetchUserInfo(config, tokens.access_token, claims.sub))[s.mpansClaim];
      } catch (e) {
        return refusal(e);
      }
    }
    const mpans = meterPoints(listed, s.mpansClaim);
    const subject = await consumerSubject(claims.iss, claims.sub);
    const scope = CONSUMER_SCOPES.join(' ');
    const token = await s.sign({ sub: subject, consumer: { mpans }, scope, ttlSec: s.tokenTtlSec });
    // The audit's record of the sign-in: the pseudonym and the meter points, nothing else about the person.
    const p = consumerPrincipal(subject, mpans, [...CONSUMER_SCOPES], c.get('requestId'));
    await writeAudit(ctx.db, p, ctx.clock.now(), [
      { action: 'consumer.signed-in', recordType: 'consumer', recordId: subject, detail: { provider: claims.iss, mpans } },
    ]);
    const answer = { access_token: token, token_type: 'Bearer', expires_in: s.tokenTtlSec, scope, mpans };
    if (flow.returnTo) {
      const fragment = new URLSearchParams({ access_token: token, token_type: 'Bearer', expires_in: String(s.tokenTtlSec), scope });
      return c.redirect(`${flow.returnTo}#${fragment}`, 303);
    }
    return c.json(answer, 200, { 'cache-control': 'no-store', pragma: 'no-cache' });
  });
  return app;
}

/** The provider refused or answered wrongly: the household is told which, in a problem (never a 5xx for its answer). */
function refusal(e: unknown): never {
  if (e instanceof oidc.AuthorizationResponseError)
    throw new Problem(
      'CONSUMER-SIGN-IN-FAILED',
      e.error === 'access_denied'
        ? 'The sign-in was cancelled at the consumer consent service.'
        : `The consumer consent service answered ${e.error}.`,
    );
  if (e instanceof oidc.ResponseBodyError)
    throw new Problem('CONSUMER-SIGN-IN-FAILED', `The consumer consent service refused: ${e.error}.`);
  if (e instanceof oidc.ClientError)
    throw new Problem('CONSUMER-SIGN-IN-FAILED', `The consumer consent service’s answer was refused: ${e.message}`);
  throw new Problem('CONSUMER-SIGN-IN-UNAVAILABLE', `The consumer consent service cannot be reached now: ${(e as Error).message}`, {
    retryAfterSec: 30,
  });
}
