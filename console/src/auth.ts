/**
 * Sign-in for the console: authorization code + PKCE (RFC 7636, S256) as the public client
 * `fmar-console` of the hub's own OpenID provider. Tokens live in this module's memory only (never
 * in storage); the access token (5 minutes) is refreshed with the rotated refresh token before it
 * expires. Only the PKCE verifier and state cross the redirect, in sessionStorage, and are removed
 * when the code comes back.
 *
 * A household signs in through the consumer consent service instead (docs/consumers.md): the hub's
 * /auth/consumer/callback sends it back to /console/#access_token=… (a fragment, never sent to a
 * server). That token is taken from the fragment into memory, the fragment removed from the address
 * and the history; it has no refresh token, so when it expires the household signs in again.
 */

export const CLIENT_ID = 'fmar-console';
const PENDING = 'fmar-console.pending';
const SIGNED_OUT = 'signed-out';
/** Set while a household is signed in (no token: only which sign-in to send the tab back to after a reload). */
const HOUSEHOLD = 'fmar-console.household';
/** The household's route: the hub's relying party of the consumer consent service, back to the console. */
export const HOUSEHOLD_SIGN_IN = '/auth/consumer/sign-in?return_to=/console/';

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  revocation_endpoint?: string;
  end_session_endpoint?: string;
  scopes_supported?: string[];
}

interface Tokens {
  /** Whose: an organisation's person (the hub's provider) or a household (the consumer consent service). */
  kind: 'person' | 'household';
  accessToken: string;
  refreshToken?: string;
  idToken?: string;
  expiresAt: number;
}

/** What the access token says about the person (read for the screens; the API checks it). */
export interface Person {
  sub: string;
  organisationId: string;
  userRole: 'ADMIN' | 'MEMBER' | 'VIEWER';
  scopes: string[];
  name?: string;
  email?: string;
  /** Every organisation the person may act in (the ID token's `organisations`), for the switcher. */
  organisations: { id: string; name: string; userRole: string }[];
}

let discovery: Promise<Discovery> | undefined;
let tokens: Tokens | undefined;
let refreshTimer: ReturnType<typeof setTimeout> | undefined;
let refreshing: Promise<void> | undefined;

/** Where the provider sends the person back: the console's own address (registered from FMAR_BASE_URL). */
export const redirectUri = () => new URL('/console/', window.location.origin).href;

function b64url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
const random = (n = 32) => b64url(crypto.getRandomValues(new Uint8Array(n)));
async function challenge(verifier: string): Promise<string> {
  return b64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
}

function discover(): Promise<Discovery> {
  discovery ??= (async () => {
    // The landing page's JSON names the discovery document (relative when the hub is its own issuer).
    const links = (await (await fetch('/', { headers: { accept: 'application/json' } })).json()) as {
      links: { openidConfiguration: { href: string } };
    };
    const res = await fetch(new URL(links.links.openidConfiguration.href, window.location.origin));
    if (!res.ok) throw new Error(`OpenID discovery answered ${res.status}`);
    return (await res.json()) as Discovery;
  })().catch((e: unknown) => {
    discovery = undefined;
    throw e;
  });
  return discovery;
}

async function tokenRequest(body: Record<string, string>): Promise<void> {
  const d = await discover();
  const res = await fetch(d.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: CLIENT_ID, ...body }),
  });
  const out = (await res.json()) as {
    access_token?: string;
    refresh_token?: string;
    id_token?: string;
    expires_in?: number;
    error?: string;
    error_description?: string;
  };
  if (!res.ok || !out.access_token) throw new Error(`${out.error ?? res.status}: ${out.error_description ?? 'no access token'}`);
  tokens = {
    kind: 'person',
    accessToken: out.access_token,
    refreshToken: out.refresh_token ?? tokens?.refreshToken,
    idToken: out.id_token ?? tokens?.idToken,
    expiresAt: Date.now() + (out.expires_in ?? 300) * 1000,
  };
  scheduleRefresh();
}

function scheduleRefresh() {
  clearTimeout(refreshTimer);
  if (!tokens?.refreshToken) return;
  // Refresh 30 seconds before expiry (at least 5 s from now).
  refreshTimer = setTimeout(() => void refresh().catch(() => undefined), Math.max(5_000, tokens.expiresAt - Date.now() - 30_000));
}

/** A new access token from the refresh token (rotated); one request at a time. */
export function refresh(): Promise<void> {
  if (!tokens?.refreshToken) return Promise.reject(new Error('not signed in'));
  refreshing ??= tokenRequest({ grant_type: 'refresh_token', refresh_token: tokens.refreshToken }).finally(() => {
    refreshing = undefined;
  });
  return refreshing;
}

/**
 * Send the browser to the provider's sign-in page. With `organisation`, the person switches to
 * another organisation of theirs: the provider's session signs them in there without a password
 * and asks them to allow the console's access in that organisation (its roles, their role there).
 */
export async function signIn(organisation?: string): Promise<never> {
  if (tokens?.kind === 'household' || (!tokens && sessionStorage.getItem(HOUSEHOLD))) return householdSignIn();
  const d = await discover();
  const verifier = random();
  const state = random(16);
  // The screen the person asked for (a deep link such as /console/#/assets/<id>): back there after sign-in.
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, hash: window.location.hash }));
  // Every API scope the provider knows: the consent step grants the person only what their role allows.
  const api = (d.scopes_supported ?? []).filter((s) => s.includes(':'));
  const url = new URL(d.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: redirectUri(),
    scope: ['openid', 'offline_access', 'profile', 'email', ...api].join(' '),
    state,
    code_challenge: await challenge(verifier),
    code_challenge_method: 'S256',
    ...(organisation ? { organisation } : {}),
  }).toString();
  window.location.assign(url.href);
  return new Promise<never>(() => undefined);
}

/** Send the browser to the household sign-in (the consumer consent service; in development the stand-in's page). */
export function householdSignIn(): Promise<never> {
  window.location.assign(HOUSEHOLD_SIGN_IN);
  return new Promise<never>(() => undefined);
}

/** A household's token handed over in the fragment (#access_token=…&expires_in=…): kept in memory, the fragment removed. */
function takeHouseholdToken(): boolean {
  const hash = new URLSearchParams(window.location.hash.slice(1));
  const accessToken = hash.get('access_token');
  if (!accessToken) return false;
  window.history.replaceState(null, '', window.location.pathname);
  if (!claims(accessToken).consumer) throw new Error('The token handed to the console is not a household’s: sign in again.');
  tokens = { kind: 'household', accessToken, expiresAt: Date.now() + Number(hash.get('expires_in') ?? 900) * 1000 };
  sessionStorage.setItem(HOUSEHOLD, '1');
  return true;
}

/**
 * At start: take a household's token from the fragment, redeem a code the provider sent back, or
 * report that the person has just signed out. Returns 'signed-in', 'signed-out' or 'anonymous'
 * (then the caller signs in).
 */
export async function start(): Promise<'signed-in' | 'signed-out' | 'anonymous'> {
  if (takeHouseholdToken()) return 'signed-in';
  const params = new URLSearchParams(window.location.search);
  const clean = () => window.history.replaceState(null, '', `${window.location.pathname}${window.location.hash}`);
  if (params.get('state') === SIGNED_OUT && !params.has('code')) {
    clean();
    return 'signed-out';
  }
  const code = params.get('code');
  const error = params.get('error');
  if (!code && !error) return tokens ? 'signed-in' : 'anonymous';
  const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? 'null') as { verifier: string; state: string; hash?: string } | null;
  sessionStorage.removeItem(PENDING);
  clean();
  if (error) throw new Error(`${error}: ${params.get('error_description') ?? ''}`);
  if (!pending || pending.state !== params.get('state'))
    throw new Error('The sign-in answer does not belong to this browser tab: sign in again.');
  await tokenRequest({ grant_type: 'authorization_code', code: code!, redirect_uri: redirectUri(), code_verifier: pending.verifier });
  // Only a route of the console's own (#/…) is restored.
  if (pending.hash && /^#\/[\w\-/.?=&%]*$/.test(pending.hash))
    window.history.replaceState(null, '', `${window.location.pathname}${pending.hash}`);
  return 'signed-in';
}

function claims(jwt: string): Record<string, unknown> {
  const part = jwt.split('.')[1] ?? '';
  const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0)))) as Record<string, unknown>;
}

/** The household signed in (its token's claims, read for the screens; the API checks them), if one is. */
export function household(): { subject: string; mpans: string[]; expiresAt: number } | undefined {
  if (tokens?.kind !== 'household') return undefined;
  const at = claims(tokens.accessToken) as { sub: string; consumer: { mpans: string[] } };
  return { subject: at.sub, mpans: at.consumer.mpans, expiresAt: tokens.expiresAt };
}

export function person(): Person | undefined {
  if (!tokens) return undefined;
  const at = claims(tokens.accessToken);
  const id = tokens.idToken ? claims(tokens.idToken) : {};
  return {
    sub: String(at.sub),
    organisationId: String(at.org),
    userRole: at.user_role as Person['userRole'],
    scopes: String(at.scope ?? '')
      .split(' ')
      .filter(Boolean),
    name: typeof id.name === 'string' ? id.name : undefined,
    email: typeof id.email === 'string' ? id.email : undefined,
    organisations: Array.isArray(id.organisations)
      ? (id.organisations as { id: string; name: string; user_role: string }[]).map((o) => ({
          id: o.id,
          name: o.name,
          userRole: o.user_role,
        }))
      : [],
  };
}

/** The current access token, refreshed first when it is about to expire. */
export async function accessToken(): Promise<string> {
  if (!tokens) throw new Error('not signed in');
  if (tokens.expiresAt - Date.now() < 10_000) {
    // A household's token is not refreshed: it signs in again (the consumer consent service's session makes that one redirect).
    if (tokens.kind === 'household') return householdSignIn();
    await refresh();
  }
  return tokens.accessToken;
}

/** Revoke the refresh token, forget the tokens, and end the provider's session (it asks to confirm). */
export async function signOut(): Promise<void> {
  if (tokens?.kind === 'household') {
    // The hub keeps no household session: forgetting the token signs out.
    tokens = undefined;
    sessionStorage.removeItem(HOUSEHOLD);
    window.location.assign(`${redirectUri()}?state=${SIGNED_OUT}`);
    return;
  }
  const d = await discover();
  const held = tokens;
  tokens = undefined;
  clearTimeout(refreshTimer);
  if (held?.refreshToken && d.revocation_endpoint)
    await fetch(d.revocation_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: CLIENT_ID, token: held.refreshToken, token_type_hint: 'refresh_token' }),
    }).catch(() => undefined);
  if (!d.end_session_endpoint) return;
  const url = new URL(d.end_session_endpoint);
  url.search = new URLSearchParams({
    client_id: CLIENT_ID,
    post_logout_redirect_uri: redirectUri(),
    state: SIGNED_OUT,
    ...(held?.idToken ? { id_token_hint: held.idToken } : {}),
  }).toString();
  window.location.assign(url.href);
}
