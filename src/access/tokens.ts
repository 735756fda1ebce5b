import { createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import { ISSUED_AT_SKEW_SEC } from '../../identity/index';

/** The token verifier port: a verified access token's claims, or an error (never a partial result). */
export interface TokenVerifier {
  verify(token: string): Promise<AccessClaims>;
}

export interface AccessClaims extends JWTPayload {
  sub: string;
  /** The caller's organisation; absent on a household's token, which carries `consumer` instead. */
  org?: string;
  /** A household's token (src/consumers/sign-in.ts): the meter points its sign-in vouched for. */
  consumer?: { mpans: string[] };
  scope?: string;
  act?: { sub: string; org?: string };
  client_id?: string;
}

export const ACCESS_TOKEN_ALGORITHMS = ['ES256', 'EdDSA', 'RS256', 'PS256'];
export { ISSUED_AT_SKEW_SEC };

/** A token that verifies but must still be refused; `code` is its rule code (src/rules.ts). */
/** A token refused, with the rule code and a detail that says which check failed and what was expected. */
export class TokenRefused extends Error {
  override readonly name = 'TokenRefused';
  constructor(
    message: string,
    readonly code: 'AUTH-TOKEN-INVALID' | 'AUTH-TOKEN-ISSUED-IN-FUTURE' | 'AUTH-TOKEN-SCOPE-WILDCARD' = 'AUTH-TOKEN-INVALID',
  ) {
    super(message);
  }
}

/**
 * Checks jose does not make: `iat` at most ISSUED_AT_SKEW_SEC ahead (jose checks it only with a
 * maximum age), and no wildcard scope (only the internal system principal holds '*'; a token never does).
 */
export function checkIssuedClaims(payload: JWTPayload, nowMs: number): void {
  const aheadSec = typeof payload.iat === 'number' ? payload.iat - nowMs / 1000 : 0;
  if (aheadSec > ISSUED_AT_SKEW_SEC) {
    throw new TokenRefused(
      `The access token's iat is ${Math.round(aheadSec)} s in the future (at most ${ISSUED_AT_SKEW_SEC} s of clock skew is allowed); check the issuer's clock and get a new token.`,
      'AUTH-TOKEN-ISSUED-IN-FUTURE',
    );
  }
  const scope = payload.scope;
  if (scope !== undefined && typeof scope !== 'string')
    throw new TokenRefused('The access token’s scope claim is not a string of space-separated scopes.');
  if (typeof scope === 'string' && scope.includes('*')) {
    throw new TokenRefused(
      "The access token's scope holds a wildcard (*); a token must name each scope it grants.",
      'AUTH-TOKEN-SCOPE-WILDCARD',
    );
  }
}

/**
 * Verify RFC 9068 JWT access tokens with jose: explicit algorithm allow-list, issuer, audience,
 * expiry with a small clock tolerance, `typ` at+jwt. Keys come from configuration only.
 */
export function jwtTokenVerifier(opts: {
  issuer: string;
  audience: string;
  jwks: JSONWebKeySet | URL | (() => JSONWebKeySet);
  clockToleranceSec?: number;
  now?: () => Date;
  cacheMs?: number;
}): TokenVerifier {
  // A function is the hub's own key ring (re-read after a rotation): the local key set is rebuilt
  // when it hands back a different object.
  let localFor: JSONWebKeySet | undefined;
  let local: ReturnType<typeof createLocalJWKSet> | undefined;
  const src = opts.jwks;
  const keys: Parameters<typeof jwtVerify>[1] =
    src instanceof URL
      ? createRemoteJWKSet(src, { cooldownDuration: 30_000, cacheMaxAge: 600_000 })
      : typeof src === 'function'
        ? (...args: Parameters<ReturnType<typeof createLocalJWKSet>>) => {
            const set = src();
            if (set !== localFor) {
              localFor = set;
              local = createLocalJWKSet(set);
            }
            return local!(...args);
          }
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
      if (
        hit &&
        now >= hit.at &&
        now - hit.at < cacheMs &&
        typeof hit.claims.exp === 'number' &&
        hit.claims.exp > Math.floor(now / 1000) - tolerance
      )
        return hit.claims;
      const claims = await verifyNow(token);
      if (cacheMs > 0) {
        if (verified.size >= 10_000) verified.clear();
        verified.set(token, { claims, at: now });
      }
      return claims;
    },
  };

  async function verifyNow(token: string): Promise<AccessClaims> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: opts.issuer,
        audience: opts.audience,
        algorithms: ACCESS_TOKEN_ALGORITHMS,
        typ: 'at+jwt',
        clockTolerance: tolerance,
        requiredClaims: ['sub', 'exp', 'iat'],
        currentDate: opts.now?.(),
      }));
    } catch (e) {
      throw new TokenRefused(
        refusalDetail(e, token, { issuer: opts.issuer, audience: opts.audience, now: opts.now?.() ?? new Date(), toleranceSec: tolerance }),
      );
    }
    if (payload.consumer !== undefined) checkConsumerClaims(payload);
    else if (typeof payload.org !== 'string' || payload.org.length === 0)
      throw new TokenRefused('The access token has no org claim: it was not issued by the register for an organisation’s client.');
    checkIssuedClaims(payload, (opts.now?.() ?? new Date()).getTime());
    return payload as AccessClaims;
  }
}

/** Most meter points one household's token may carry. */
export const MAX_CONSUMER_MPANS = 20;

/**
 * A household's token: a `consumer:` pseudonym as subject, 1–20 MPAN cores, and nothing of an
 * organisation's token (no org, client, person, actor or delegation), so it can never be read as one.
 */
function checkConsumerClaims(payload: JWTPayload): void {
  const c = payload.consumer as { mpans?: unknown } | null;
  const mpans = c && typeof c === 'object' ? c.mpans : undefined;
  if (
    !Array.isArray(mpans) ||
    mpans.length === 0 ||
    mpans.length > MAX_CONSUMER_MPANS ||
    !mpans.every((m) => typeof m === 'string' && /^\d{13}$/.test(m))
  )
    throw new TokenRefused(`A household’s token must carry consumer.mpans: 1 to ${MAX_CONSUMER_MPANS} MPAN cores of 13 digits.`);
  if (typeof payload.sub !== 'string' || !payload.sub.startsWith('consumer:'))
    throw new TokenRefused('A household’s token has a consumer: subject.');
  const foreign = ['org', 'client_id', 'user_role', 'act', 'delegation_id', 'cnf'].filter((k) => payload[k] !== undefined);
  if (foreign.length) throw new TokenRefused(`A household’s token carries no ${foreign.join(', ')}.`);
}

/** A refused access token; the message says which check failed and what was expected (it becomes the problem's detail). */

/** A value from the token, quoted and cut: it is the caller's text. */
function shown(v: unknown): string {
  const s = typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v));
  return JSON.stringify(s.length > 100 ? `${s.slice(0, 100)}…` : s);
}

const iso = (sec: unknown) =>
  typeof sec === 'number' && Number.isFinite(sec) && Math.abs(sec) < 1e11 ? new Date(sec * 1000).toISOString() : shown(sec);

function headerOf(token: string): { alg?: unknown; kid?: unknown; typ?: unknown } {
  try {
    return decodeProtectedHeader(token);
  } catch {
    return {};
  }
}

/** Which check refused the token and what was expected, in words (not jose's error names). */
export function refusalDetail(
  e: unknown,
  token: string,
  want: { issuer: string; audience: string; now: Date; toleranceSec: number },
): string {
  const renew = 'get a new access token from the token endpoint';
  if (e instanceof errors.JWTExpired) {
    return `The access token expired at ${iso(e.payload.exp)} (the hub’s time is ${want.now.toISOString()}, tolerance ${want.toleranceSec} s): ${renew}.`;
  }
  if (e instanceof errors.JWTClaimValidationFailed) {
    const got = (e.payload as Record<string, unknown>)[e.claim];
    if (e.reason === 'missing' && e.claim !== 'typ')
      return `The access token has no ${e.claim} claim; an RFC 9068 access token of this hub has iss, aud, sub, exp and iat.`;
    switch (e.claim) {
      case 'iss':
        return `The access token’s issuer ${shown(got)} is not ${shown(want.issuer)}: ${renew} of ${want.issuer}.`;
      case 'aud':
        return `The access token’s audience ${shown(got)} is not ${shown(want.audience)}: ask the token endpoint for a token for this API (resource=${want.audience}).`;
      case 'nbf':
        return `The access token is not valid before ${iso(got)} (the hub’s time is ${want.now.toISOString()}); check the issuer’s clock.`;
      case 'iat':
        return `The access token’s issue time ${iso(got)} is not a past time (the hub’s time is ${want.now.toISOString()}); check the issuer’s clock.`;
      case 'typ':
        return `The token’s typ header is ${shown(headerOf(token).typ ?? '(none)')}, not "at+jwt": send an access token (RFC 9068), not an ID token or another JWT.`;
      default:
        return `The access token’s ${e.claim} claim is invalid (${e.reason}).`;
    }
  }
  if (e instanceof errors.JOSEAlgNotAllowed)
    return `The access token is signed with ${shown(headerOf(token).alg)}; the hub accepts ${ACCESS_TOKEN_ALGORITHMS.join(', ')}.`;
  if (e instanceof errors.JWKSNoMatchingKey)
    return `No key of the issuer ${want.issuer} has the token’s key ID ${shown(headerOf(token).kid ?? '(none)')}: the token was signed by another issuer or with a retired key; ${renew}.`;
  if (e instanceof errors.JWSSignatureVerificationFailed)
    return `The access token’s signature does not verify with the issuer’s key ${shown(headerOf(token).kid ?? '(none)')}: it was altered or signed by someone else; ${renew}.`;
  if (e instanceof errors.JWKSTimeout) return `The issuer’s keys (JWKS) could not be fetched in time; retry shortly.`;
  if (e instanceof errors.JWSInvalid || e instanceof errors.JWTInvalid || e instanceof errors.JOSENotSupported)
    return `The access token is not a well-formed signed JWT (three base64url parts: header, claims, signature): ${renew}.`;
  return `The access token was refused: ${renew}.`;
}
