/** Constants and helpers shared by the provider (Node) and the API (Node and Workers). */

/** Paths of the provider's endpoints (discovery stays at /.well-known/openid-configuration). */
export const OAUTH_ROUTES = {
  authorization: '/oauth/authorize',
  token: '/oauth/token',
  jwks: '/oauth/jwks',
  introspection: '/oauth/introspect',
  revocation: '/oauth/revoke',
  userinfo: '/oauth/userinfo',
  end_session: '/oauth/logout',
  pushed_authorization_request: '/oauth/par',
} as const;

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
/** Access tokens for the API (client credentials, people, token exchange) live at most this long. */
export const ACCESS_TOKEN_TTL_SEC = 300;
export const CLIENT_ASSERTION_ALGORITHMS = ['ES256', 'EdDSA', 'RS256', 'PS256'] as const;
/** How far in the future an access token's `iat` may be (the issuer's clock ahead of ours), at the API and in token exchange. */
export const ISSUED_AT_SKEW_SEC = 60;

/** SHA-256 of a client secret as stored (secrets are 256-bit random, so a fast hash is enough). Web Crypto. */
export async function hashClientSecret(secret: string): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(secret)));
  return `sha256:${btoa(String.fromCharCode(...d))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '')}`;
}
