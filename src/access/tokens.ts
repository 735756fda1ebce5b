import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import { ISSUED_AT_SKEW_SEC } from '../../identity/index';

/** The token verifier port: a verified access token's claims, or an error (never a partial result). */
export interface TokenVerifier {
  verify(token: string): Promise<AccessClaims>;
}

export interface AccessClaims extends JWTPayload {
  sub: string;
  org: string;
  scope?: string;
  act?: { sub: string; org?: string };
  client_id?: string;
}

export const ACCESS_TOKEN_ALGORITHMS = ['ES256', 'EdDSA', 'RS256', 'PS256'];
export { ISSUED_AT_SKEW_SEC };

/** A token that verifies but must still be refused; `code` is its rule code (src/rules.ts). */
export class TokenRefused extends Error {
  override readonly name = 'TokenRefused';
  constructor(readonly code: 'AUTH-TOKEN-ISSUED-IN-FUTURE' | 'AUTH-TOKEN-SCOPE-WILDCARD', message: string) { super(message); }
}

/**
 * Checks jose does not make: `iat` at most ISSUED_AT_SKEW_SEC ahead (jose checks it only with a
 * maximum age), and no wildcard scope (only the internal system principal holds '*'; a token never does).
 */
export function checkIssuedClaims(payload: JWTPayload, nowMs: number): void {
  const aheadSec = typeof payload.iat === 'number' ? payload.iat - nowMs / 1000 : 0;
  if (aheadSec > ISSUED_AT_SKEW_SEC) {
    throw new TokenRefused('AUTH-TOKEN-ISSUED-IN-FUTURE', `The access token's iat is ${Math.round(aheadSec)} s in the future (at most ${ISSUED_AT_SKEW_SEC} s of clock skew is allowed); check the issuer's clock and get a new token.`);
  }
  const scope = payload.scope;
  if (scope !== undefined && typeof scope !== 'string') throw new Error('the scope claim is not a string');
  if (typeof scope === 'string' && scope.includes('*')) {
    throw new TokenRefused('AUTH-TOKEN-SCOPE-WILDCARD', 'The access token\'s scope holds a wildcard (*); a token must name each scope it grants.');
  }
}

/**
 * Verify RFC 9068 JWT access tokens with jose: explicit algorithm allow-list, issuer, audience,
 * expiry with a small clock tolerance, `typ` at+jwt. Keys come from configuration only.
 */
export function jwtTokenVerifier(opts: { issuer: string; audience: string; jwks: JSONWebKeySet | URL | (() => JSONWebKeySet); clockToleranceSec?: number; now?: () => Date; cacheMs?: number }): TokenVerifier {
  // A function is the hub's own key ring (re-read after a rotation): the local key set is rebuilt
  // when it hands back a different object.
  let localFor: JSONWebKeySet | undefined;
  let local: ReturnType<typeof createLocalJWKSet> | undefined;
  const src = opts.jwks;
  const keys: Parameters<typeof jwtVerify>[1] = src instanceof URL ? createRemoteJWKSet(src, { cooldownDuration: 30_000, cacheMaxAge: 600_000 })
    : typeof src === 'function' ? ((header: any, token: any) => {
      const set = src();
      if (set !== localFor) { localFor = set; local = createLocalJWKSet(set); }
      return local!(header, token);
    }) as any
    : createLocalJWKSet(src);
  const tolerance = opts.clockToleranceSec ?? 30;
  // Tokens verified in the last cacheMs, by their exact text: the signature check is the largest
  // CPU cost of a cheap request (bench/lookup.ts, docs/performance.md). Expiry is still checked on
  // every call, and a clock that moved backwards misses the cache; a key dropped from the JWKS
  // stops its tokens within cacheMs. 0 turns the cache off.
  const cacheMs = opts.cacheMs ?? 15_000;
  const verified = new Map<string, { claims: AccessClaims; at: number }>();
  return {
    async verify(token) {
      const now = (opts.now?.() ?? new Date()).getTime();
      const hit = cacheMs > 0 ? verified.get(token) : undefined;
      if (hit && now >= hit.at && now - hit.at < cacheMs && typeof hit.claims.exp === 'number' && hit.claims.exp > Math.floor(now / 1000) - tolerance) return hit.claims;
      const claims = await verifyNow(token);
      if (cacheMs > 0) {
        if (verified.size >= 10_000) verified.clear();
        verified.set(token, { claims, at: now });
      }
      return claims;
    },
  };

  async function verifyNow(token: string): Promise<AccessClaims> {
    const { payload } = await jwtVerify(token, keys, {
      issuer: opts.issuer,
      audience: opts.audience,
      algorithms: ACCESS_TOKEN_ALGORITHMS,
      typ: 'at+jwt',
      clockTolerance: tolerance,
      requiredClaims: ['sub', 'exp', 'iat'],
      currentDate: opts.now?.(),
    });
    if (typeof payload.org !== 'string' || payload.org.length === 0) throw new Error('token has no org claim');
    checkIssuedClaims(payload, (opts.now?.() ?? new Date()).getTime());
    return payload as AccessClaims;
  }
}
