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
export function jwtTokenVerifier(opts: { issuer: string; audience: string; jwks: JSONWebKeySet | URL; clockToleranceSec?: number; now?: () => Date }): TokenVerifier {
  const keys = opts.jwks instanceof URL ? createRemoteJWKSet(opts.jwks, { cooldownDuration: 30_000, cacheMaxAge: 600_000 }) : createLocalJWKSet(opts.jwks);
  return {
    async verify(token) {
      const { payload } = await jwtVerify(token, keys, {
        issuer: opts.issuer,
        audience: opts.audience,
        algorithms: ACCESS_TOKEN_ALGORITHMS,
        typ: 'at+jwt',
        clockTolerance: opts.clockToleranceSec ?? 30,
        requiredClaims: ['sub', 'exp', 'iat'],
        currentDate: opts.now?.(),
      });
      if (typeof payload.org !== 'string' || payload.org.length === 0) throw new Error('token has no org claim');
      return payload as AccessClaims;
    },
  };
}
