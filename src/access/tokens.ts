import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';

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
    return payload as AccessClaims;
  }
}
