import type Provider from 'oidc-provider';

/**
 * How the provider fetches a client's keys from its JWKS URI (a private_key_jwt client registered
 * with `jwksUri`, docs/identity.md "Keys at a URL"). oidc-provider fetches the JWKS when a client
 * assertion needs it and keeps the keys while fresh: at least 60 s, longer if the response's
 * Cache-Control max-age or Expires says so. Here the hub caps that at JWKS_URI_MAX_CACHE_SEC, so a
 * key the client removes from its JWKS stops working within 5 minutes whatever its server says.
 */

/** The longest the provider keeps a fetched JWKS (the provider's own floor is 60 s). */
export const JWKS_URI_MAX_CACHE_SEC = 300;

/** A JWKS larger than this is refused (the provider's default has no limit). */
export const JWKS_URI_MAX_BYTES = 64 * 1024;

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * The provider's `fetch`: https only, and http to a loopback host in development (where a test or a
 * developer serves its JWKS). The provider's guard against special-use addresses (loopback, private
 * networks) stays for every other request, and so in production for all of them.
 */
export function jwksFetch(devMode: boolean) {
  return async (input: string | URL | Request, init: RequestInit & { dispatcher?: unknown } = {}): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : input);
    const loopback = devMode && LOOPBACK.has(url.hostname);
    if (!(url.protocol === 'https:' || (loopback && url.protocol === 'http:')))
      throw new Error(`refused to fetch ${url.protocol} ${url.host}: https only`);
    const options = { ...init, redirect: 'error' as const };
    if (loopback) delete options.dispatcher;
    const res = await fetch(url, options);
    const headers = new Headers(res.headers);
    const maxAge = Number(/max-age=(\d+)/.exec(headers.get('cache-control') ?? '')?.[1] ?? 0);
    headers.delete('expires');
    headers.set('cache-control', `max-age=${Math.min(maxAge, JWKS_URI_MAX_CACHE_SEC)}`);
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
  };
}

interface ClientKeyStore {
  jwksUri?: string;
  stale(): boolean;
  selectForVerify(options: unknown): unknown[];
}

/**
 * oidc-provider refreshes a client's JWKS only when an assertion fails to verify with the keys it
 * holds: a key removed at the JWKS URI would verify for ever from the provider's copy. Here a stale
 * copy offers no key at all, so the provider fetches the JWKS again before verifying; and if the
 * fetch fails, the assertion is refused (invalid_client) rather than checked against old keys.
 */
export function verifyWithFreshKeys(provider: Provider): void {
  const Client = provider.Client as unknown as new (metadata: Record<string, unknown>) => { asymmetricKeyStore: ClientKeyStore };
  const probe = new Client({
    client_id: 'fmar-jwks-uri-probe',
    token_endpoint_auth_method: 'private_key_jwt',
    jwks_uri: 'https://jwks-uri-probe.invalid/jwks.json',
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
  });
  const proto = Object.getPrototypeOf(probe.asymmetricKeyStore) as ClientKeyStore;
  const select = proto.selectForVerify;
  proto.selectForVerify = function selectForVerify(this: ClientKeyStore, options: unknown) {
    return this.jwksUri && this.stale() ? [] : select.call(this, options);
  };
}
