import { Hono, type Context } from 'hono';
import { esc, page } from '../../identity/index';
import type { Clock } from '../ports';
import type { ConsentSimulator } from './simulator';

/**
 * The development consent service as an OpenID provider (docs/consumers.md): a household signs in
 * to the hub through it, as it would through the Consumer Consent Service, which verifies who may
 * act for a meter point. Authorization code flow with PKCE (S256) only, confidential clients
 * (client_secret_basic or client_secret_post), ES256 ID tokens from the simulator's own key (its
 * JWKS at `/jwks`) carrying the household's meter points in the `mpans` claim, and a userinfo
 * endpoint that answers the same. Instead of a password, a page to choose a test household.
 * Codes and access tokens live in memory (a restart forgets them). Refused in production.
 */

export interface TestHousehold {
  /** Stable ID: the `sub` of its ID tokens. */
  id: string;
  /** What the choosing page shows (a made-up address). */
  label: string;
  /** The meter points (MPAN cores) the household may act for. */
  mpans: string[];
}

export interface StandInClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
}

/** The claim carrying the meter points, in ID tokens and userinfo. */
export const MPANS_CLAIM = 'mpans';
const CODE_TTL_SEC = 60;
const TOKEN_TTL_SEC = 300;

interface Pending {
  clientId: string;
  redirectUri: string;
  challenge: string;
  nonce?: string;
  scope: string;
  household: TestHousehold;
  exp: number;
}

function randomToken(): string {
  const b = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...b))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

async function s256(verifier: string): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  return btoa(String.fromCharCode(...d))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

const HTML_HEADERS = {
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action *; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

/** An OAuth error answer of the token or userinfo endpoint (RFC 6749 §5.2). */
const oauthError = (c: Context, status: 400 | 401, error: string, description: string) =>
  c.json({ error, error_description: description }, status, { 'cache-control': 'no-store' });

export function standInProviderRoutes(
  sim: ConsentSimulator,
  o: { clock: Clock; households: TestHousehold[]; clients: StandInClient[]; mode: 'development' | 'production' },
) {
  if (o.mode === 'production') throw new Error('the consent-service stand-in provider is refused in production');
  const codes = new Map<string, Pending>();
  const tokens = new Map<string, { household: TestHousehold; exp: number }>();
  const nowSec = () => Math.floor(o.clock.now().getTime() / 1000);
  const sweep = () => {
    const t = nowSec();
    for (const [k, v] of codes) if (v.exp < t) codes.delete(k);
    for (const [k, v] of tokens) if (v.exp < t) tokens.delete(k);
  };
  const app = new Hono();

  app.get('/.well-known/openid-configuration', (c) =>
    c.json({
      issuer: sim.issuer,
      authorization_endpoint: `${sim.issuer}/authorize`,
      token_endpoint: `${sim.issuer}/token`,
      userinfo_endpoint: `${sim.issuer}/userinfo`,
      jwks_uri: `${sim.issuer}/jwks`,
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['ES256'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      code_challenge_methods_supported: ['S256'],
      scopes_supported: ['openid', 'meter-points'],
      claims_supported: ['sub', MPANS_CLAIM],
      authorization_response_iss_parameter_supported: true,
    }),
  );

  /** The authorization request's parameters, checked; a bad client or redirect URI is shown, never redirected to. */
  type Checked =
    { error: string } | { client: StandInClient; redirectUri: string; challenge: string; state?: string; nonce?: string; scope: string };
  const checkRequest = (q: (k: string) => string | undefined): Checked => {
    const client = o.clients.find((x) => x.clientId === q('client_id'));
    const redirectUri = q('redirect_uri') ?? '';
    if (!client || !client.redirectUris.includes(redirectUri)) return { error: 'Unknown client or redirect URI.' };
    if (q('response_type') !== 'code') return { error: 'Only response_type=code is supported.' };
    if (!(q('scope') ?? '').split(' ').includes('openid')) return { error: 'The scope must include openid.' };
    const challenge = q('code_challenge') ?? '';
    if (q('code_challenge_method') !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(challenge))
      return { error: 'PKCE is required: code_challenge with code_challenge_method=S256.' };
    return { client, redirectUri, challenge, state: q('state'), nonce: q('nonce'), scope: q('scope')! };
  };
  const FORWARDED = ['client_id', 'redirect_uri', 'response_type', 'scope', 'state', 'nonce', 'code_challenge', 'code_challenge_method'];

  app.get('/authorize', (c) => {
    const r = checkRequest((k) => c.req.query(k));
    if (!('client' in r)) return c.html(page('Sign-in problem', `<p>${esc(r.error)}</p>`), 400, HTML_HEADERS);
    const hidden = FORWARDED.map((k) => {
      const v = c.req.query(k);
      return v === undefined ? '' : `<input type="hidden" name="${k}" value="${esc(v)}">`;
    }).join('');
    const choices = o.households
      .map(
        (h, i) =>
          `<p><input type="radio" name="household" id="h${i}" value="${esc(h.id)}"${i === 0 ? ' checked' : ''} style="width:auto">
<label for="h${i}" style="display:inline">${esc(h.label)} (${h.mpans.map((m) => `<code>${esc(m)}</code>`).join(', ')})</label></p>`,
      )
      .join('');
    return c.html(
      page(
        'Consumer consent service (development stand-in)',
        `<p>Choose the test household to sign in as. The real service verifies who may act for a meter point; this stand-in trusts the choice.</p>
<form method="post" action="${esc(sim.issuer)}/authorize">${hidden}${choices}
<button type="submit">Continue</button></form>
<form method="post" action="${esc(sim.issuer)}/authorize">${hidden}<input type="hidden" name="deny" value="1"><button type="submit">Cancel</button></form>`,
      ),
      200,
      HTML_HEADERS,
    );
  });

  app.post('/authorize', async (c) => {
    const f = new URLSearchParams(await c.req.text());
    const r = checkRequest((k) => f.get(k) ?? undefined);
    if (!('client' in r)) return c.html(page('Sign-in problem', `<p>${esc(r.error)}</p>`), 400, HTML_HEADERS);
    const back = new URL(r.redirectUri);
    if (r.state !== undefined) back.searchParams.set('state', r.state);
    back.searchParams.set('iss', sim.issuer);
    const household = o.households.find((h) => h.id === f.get('household'));
    if (f.get('deny') || !household) {
      back.searchParams.set('error', 'access_denied');
      return c.redirect(back.toString(), 303);
    }
    sweep();
    const code = randomToken();
    codes.set(code, {
      clientId: r.client.clientId,
      redirectUri: r.redirectUri,
      challenge: r.challenge,
      nonce: r.nonce,
      scope: r.scope,
      household,
      exp: nowSec() + CODE_TTL_SEC,
    });
    back.searchParams.set('code', code);
    return c.redirect(back.toString(), 303);
  });

  app.post('/token', async (c) => {
    const f = new URLSearchParams(await c.req.text());
    // Client authentication: HTTP Basic (form-encoded parts, RFC 6749 §2.3.1) or the form's own fields.
    let id = f.get('client_id') ?? undefined;
    let secret = f.get('client_secret') ?? undefined;
    const basic = /^Basic (.+)$/i.exec(c.req.header('authorization') ?? '');
    if (basic) {
      const [u, p] = atob(basic[1]).split(':');
      id = decodeURIComponent(u.replace(/\+/g, ' '));
      secret = decodeURIComponent((p ?? '').replace(/\+/g, ' '));
    }
    const client = o.clients.find((x) => x.clientId === id);
    if (!client || secret !== client.clientSecret) return oauthError(c, 401, 'invalid_client', 'client authentication failed');
    if (f.get('grant_type') !== 'authorization_code') return oauthError(c, 400, 'unsupported_grant_type', 'only authorization_code');
    const code = f.get('code') ?? '';
    const p = codes.get(code);
    codes.delete(code);
    if (!p || p.exp < nowSec() || p.clientId !== client.clientId) return oauthError(c, 400, 'invalid_grant', 'unknown or used code');
    if (f.get('redirect_uri') !== p.redirectUri) return oauthError(c, 400, 'invalid_grant', 'redirect_uri differs');
    if ((await s256(f.get('code_verifier') ?? '')) !== p.challenge) return oauthError(c, 400, 'invalid_grant', 'PKCE verification failed');
    const accessToken = randomToken();
    tokens.set(accessToken, { household: p.household, exp: nowSec() + TOKEN_TTL_SEC });
    const idToken = await sim.signJwt(
      'JWT',
      {
        sub: p.household.id,
        [MPANS_CLAIM]: p.household.mpans,
        auth_time: nowSec(),
        ...(p.nonce ? { nonce: p.nonce } : {}),
      },
      { audience: client.clientId, ttlSec: TOKEN_TTL_SEC },
    );
    return c.json({ access_token: accessToken, token_type: 'Bearer', expires_in: TOKEN_TTL_SEC, id_token: idToken, scope: p.scope }, 200, {
      'cache-control': 'no-store',
    });
  });

  app.get('/userinfo', (c) => {
    const m = /^Bearer (.+)$/i.exec(c.req.header('authorization') ?? '');
    const t = m ? tokens.get(m[1]) : undefined;
    if (!t || t.exp < nowSec()) return oauthError(c, 401, 'invalid_token', 'unknown or expired access token');
    return c.json({ sub: t.household.id, [MPANS_CLAIM]: t.household.mpans });
  });

  return app;
}
