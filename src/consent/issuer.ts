import type { z } from '@hono/zod-openapi';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { ConsentError } from '../kernel/consent-port';

/**
 * The Consumer Consent Service as a signer: where its keys come from (configuration only) and the
 * header rules every token it signs must meet. Used by consent tokens (jwt.ts) and revocation
 * notices (revocation.ts).
 */

/** Asymmetric signatures only: never `none` or an HMAC, whose key a verifier would have to share. */
export const CONSENT_ALGORITHMS = ['ES256', 'EdDSA', 'RS256', 'PS256'];
export const CONSENT_DEFAULTS = {
  skewSec: 60,
  maxAgeDays: 365,
  /** A remote JWKS is refetched for an unknown kid at most once per cooldown, and at the latest after cacheMaxAge. */
  jwksCooldownMs: 30_000,
  jwksCacheMaxAgeMs: 600_000,
  jwksTimeoutMs: 3_000,
  /** Retry-After when the consent service (its JWKS or reference endpoint) cannot be reached. */
  retryAfterSec: 30,
};
/** Longest consent token or notice accepted, in characters. */
export const MAX_TOKEN_CHARS = 8_192;
const COMPACT_JWS_RE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
// Header parameters that name a key or a place to fetch one: trusting them would let the token pick its own key.
const KEY_SOURCE_HEADERS = ['jku', 'x5u', 'jwk', 'x5c'];

/** True when the consent is a compact JWS (header.payload.signature), i.e. for the JWT adapter. */
export function isCompactJws(consent: string): boolean {
  return COMPACT_JWS_RE.test(consent);
}

/** Where the issuer's public keys come from: a JWKS URL, an inline JWKS, or a function (the development simulator). */
export type ConsentKeySource = URL | JSONWebKeySet | (() => JSONWebKeySet | Promise<JSONWebKeySet>);

/** The issuer's keys, resolved for jose; share one between the consent verifier and the notice verifier. */
export interface IssuerKeys {
  readonly kind: 'issuer-keys';
  readonly getKey: JWTVerifyGetKey;
}

/** The issuer's keys could not be fetched: the token is not at fault, the hub cannot check it (fail closed, 503). */
export class IssuerKeysUnavailable extends Error {}

export interface IssuerKeysOptions {
  cooldownMs?: number;
  cacheMaxAgeMs?: number;
  timeoutMs?: number;
}

export function consentIssuerKeys(src: ConsentKeySource | IssuerKeys, o: IssuerKeysOptions = {}): IssuerKeys {
  if ('kind' in src && src.kind === 'issuer-keys') return src;
  let inner: JWTVerifyGetKey;
  if (src instanceof URL) {
    inner = createRemoteJWKSet(src, {
      cooldownDuration: o.cooldownMs ?? CONSENT_DEFAULTS.jwksCooldownMs,
      cacheMaxAge: o.cacheMaxAgeMs ?? CONSENT_DEFAULTS.jwksCacheMaxAgeMs,
      timeoutDuration: o.timeoutMs ?? CONSENT_DEFAULTS.jwksTimeoutMs,
    });
  } else if (typeof src === 'function') {
    let forSet: JSONWebKeySet | undefined;
    let local: ReturnType<typeof createLocalJWKSet> | undefined;
    inner = async (header, token) => {
      const set = await src();
      if (set !== forSet) {
        local = createLocalJWKSet(set);
        forSet = set;
      }
      return local!(header, token);
    };
  } else {
    inner = createLocalJWKSet(src as JSONWebKeySet);
  }
  return {
    kind: 'issuer-keys',
    getKey: async (header, token) => {
      try {
        return await inner(header, token);
      } catch (e) {
        if (e instanceof errors.JWKSNoMatchingKey || e instanceof errors.JWKSMultipleMatchingKeys) throw e;
        throw new IssuerKeysUnavailable(`the issuer's JWKS could not be fetched or read (${(e as Error).message})`, { cause: e });
      }
    },
  };
}

const normaliseTyp = (t: string) => t.toLowerCase().replace(/^application\//, '');

/**
 * Check the protected header before any key is looked up: `typ`, an allowed asymmetric `alg`, a
 * `kid`, and no key-source parameter. Throws ConsentError(code) on the first failure.
 */
export function checkHeader(
  token: string,
  typ: string,
  code: string,
  algorithms: string[] = CONSENT_ALGORITHMS,
): { kid: string; alg: string } {
  let h: ReturnType<typeof decodeProtectedHeader>;
  try {
    h = decodeProtectedHeader(token);
  } catch {
    throw new ConsentError(code, 'The token header is not base64url-encoded JSON.');
  }
  if (typeof h.typ !== 'string' || normaliseTyp(h.typ) !== typ)
    throw new ConsentError(code, `The token's typ is ${String(h.typ)}, not ${typ}.`);
  const alg = h.alg;
  if (typeof alg !== 'string' || alg === 'none' || alg.startsWith('HS') || !algorithms.includes(alg)) {
    throw new ConsentError(code, `The token's alg ${String(alg)} is not accepted; the issuer signs with one of ${algorithms.join(', ')}.`);
  }
  const sources = KEY_SOURCE_HEADERS.filter((p) => p in h);
  if (sources.length)
    throw new ConsentError(
      code,
      `The token header carries ${sources.join(', ')}: keys come from the hub's configuration only, never from the token.`,
    );
  if (typeof h.kid !== 'string' || h.kid.length === 0 || h.kid.length > 256)
    throw new ConsentError(code, 'The token header has no kid naming the issuer key that signed it.');
  return { kid: h.kid, alg };
}

export function parseClaims<T extends z.ZodType>(schema: T, payload: JWTPayload, code: string, what: string): z.infer<T> {
  const r = schema.safeParse(payload);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const path = issue.path.join('.');
  throw new ConsentError(
    code,
    `The ${what}'s ${path || 'claims'} claim ${issue.code === 'invalid_type' && issue.input === undefined ? 'is missing' : `is invalid (${issue.message})`}.`,
  );
}
