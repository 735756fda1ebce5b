import { z } from '@hono/zod-openapi';
import { errors, jwtVerify, type JWTPayload } from 'jose';
import type { Sql } from '../storage/db';
import { MPAN_RE, boundText, checkBinding, claimConsentUse, consentHash, parseBound } from './binding';
import { ConsentError, type ConsentEvidence, type ConsentVerifier } from '../kernel/consent-port';
import {
  CONSENT_ALGORITHMS,
  CONSENT_DEFAULTS,
  IssuerKeysUnavailable,
  MAX_TOKEN_CHARS,
  checkHeader,
  consentIssuerKeys,
  isCompactJws,
  parseClaims,
  type ConsentKeySource,
  type IssuerKeys,
  type IssuerKeysOptions,
} from './issuer';
import { isRevoked } from './revocation';

/**
 * JWT consent tokens from the configured Consumer Consent Service (UC-05.05), verified with jose:
 * an algorithm allow-list, keys from configuration only (never from the token's header), issuer,
 * audience, `typ`, expiry and not-before with a bounded skew, a maximum age, then the binding
 * rules and single use (binding.ts). The token profile is docs/consent.md.
 */

export const CONSENT_TOKEN_TYPE = 'consent+jwt';

/** A jose failure as a rule code: which check failed, not the library's message alone. */
function consentFailure(e: unknown, kid: string, retryAfterSec: number): ConsentError {
  if (e instanceof ConsentError) return e;
  if (e instanceof IssuerKeysUnavailable)
    return new ConsentError('CONSENT-SERVICE-UNAVAILABLE', `The consent token cannot be checked now: ${e.message}.`, retryAfterSec);
  if (e instanceof errors.JWTExpired) {
    return e.claim === 'iat'
      ? new ConsentError(
          'CONSENT-TOO-OLD',
          'The consent token was issued longer ago than the hub accepts (iat); ask the consent service for a fresh one.',
        )
      : new ConsentError('CONSENT-EXPIRED', 'The consent token has expired (exp).');
  }
  if (e instanceof errors.JWTClaimValidationFailed) {
    if (e.reason === 'check_failed') {
      if (e.claim === 'iss')
        return new ConsentError(
          'CONSENT-ISSUER',
          `The consent token's iss ${String(e.payload.iss)} is not the configured consent service.`,
        );
      if (e.claim === 'aud')
        return new ConsentError('CONSENT-AUDIENCE', `The consent token's aud ${JSON.stringify(e.payload.aud)} does not name this hub.`);
      if (e.claim === 'nbf') return new ConsentError('CONSENT-NOT-YET-VALID', 'The consent token is not valid yet (nbf).');
      if (e.claim === 'iat') return new ConsentError('CONSENT-NOT-YET-VALID', 'The consent token is issued in the future (iat).');
    }
    return new ConsentError(
      'CONSENT-TOKEN-INVALID',
      `The consent token's ${e.claim} claim is ${e.reason === 'missing' ? 'missing' : 'invalid'}.`,
    );
  }
  if (e instanceof errors.JWKSNoMatchingKey)
    return new ConsentError('CONSENT-TOKEN-INVALID', `No key of the consent service has kid ${kid}.`);
  if (e instanceof errors.JWSSignatureVerificationFailed)
    return new ConsentError('CONSENT-TOKEN-INVALID', 'The consent token signature does not verify.');
  if (e instanceof errors.JOSEError) return new ConsentError('CONSENT-TOKEN-INVALID', `The consent token is not valid: ${e.message}.`);
  throw e;
}

const BoundClaim = z.union([z.string().max(40), z.number()]).transform((v, ctx) => {
  const b = parseBound(v);
  if (!b) {
    ctx.addIssue({ code: 'custom', message: 'must be a YYYY-MM-DD day, an RFC 3339 instant with offset, or a NumericDate' });
    return z.NEVER;
  }
  return b;
});

/** The consent-specific claims (the registered ones are checked by jose). docs/consent.md lists them. */
export const ConsentTokenClaims = z.object({
  jti: z.string().min(1).max(256),
  sub: z.string().min(1).max(256).optional(),
  mpan: z.string().regex(MPAN_RE, 'must be an MPAN core of 13 digits'),
  fsp: z.string().min(1).max(64),
  purpose: z.string().min(1).max(64),
  consent_from: BoundClaim,
  consent_to: BoundClaim.optional(),
  status: z
    .object({ status_list: z.object({ uri: z.url({ protocol: /^https?$/ }).max(2048), idx: z.number().int().min(0) }).optional() })
    .optional(),
});

export interface JwtConsentOptions {
  /** The Consumer Consent Service's issuer identifier, compared exactly with `iss`. */
  issuer: string;
  /** This hub, as the consent service names it in `aud`. */
  audience: string;
  keys: ConsentKeySource | IssuerKeys;
  /** Where replay and revocation rows are read and written when verify() gets no transaction. */
  db: Sql;
  skewSec?: number;
  maxAgeDays?: number;
  jwks?: IssuerKeysOptions;
  retryAfterSec?: number;
  /** Development only: accept a status-list URI on http://localhost or 127.0.0.1 (production: https only). */
  allowLoopbackHttpStatusList?: boolean;
}

const isoOf = (sec: unknown) => (typeof sec === 'number' ? new Date(sec * 1000).toISOString() : undefined);

/** The ConsentVerifier for JWT consent tokens (typ consent+jwt). */
export function jwtConsentVerifier(opts: JwtConsentOptions): ConsentVerifier {
  const keys = consentIssuerKeys(opts.keys, opts.jwks);
  const skewSec = opts.skewSec ?? CONSENT_DEFAULTS.skewSec;
  const maxAgeSec = (opts.maxAgeDays ?? CONSENT_DEFAULTS.maxAgeDays) * 86_400;
  const retryAfterSec = opts.retryAfterSec ?? CONSENT_DEFAULTS.retryAfterSec;
  return {
    async verify(check, tx) {
      const token = check.consent;
      if (token.length > MAX_TOKEN_CHARS)
        throw new ConsentError(
          'CONSENT-TOKEN-INVALID',
          `The consent token is ${token.length} characters; at most ${MAX_TOKEN_CHARS} are accepted.`,
        );
      if (!isCompactJws(token))
        throw new ConsentError('CONSENT-TOKEN-INVALID', 'The consent token is not a signed compact JWS (header.payload.signature).');
      const { kid } = checkHeader(token, CONSENT_TOKEN_TYPE, 'CONSENT-TOKEN-INVALID');
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, keys.getKey, {
          algorithms: CONSENT_ALGORITHMS,
          typ: CONSENT_TOKEN_TYPE,
          issuer: opts.issuer,
          audience: opts.audience,
          clockTolerance: skewSec,
          maxTokenAge: maxAgeSec,
          currentDate: check.at,
          requiredClaims: ['exp', 'iat', 'jti'],
        }));
      } catch (e) {
        throw consentFailure(e, kid, retryAfterSec);
      }
      const c = parseClaims(ConsentTokenClaims, payload, 'CONSENT-TOKEN-INVALID', 'consent token');
      const listUri = c.status?.status_list?.uri;
      if (listUri && !listUri.startsWith('https:')) {
        const host = new URL(listUri).hostname;
        if (!(opts.allowLoopbackHttpStatusList && (host === 'localhost' || host === '127.0.0.1'))) {
          throw new ConsentError('CONSENT-TOKEN-INVALID', "The consent token's status list URI must be https.");
        }
      }
      checkBinding({ mpan: c.mpan, fsp: c.fsp, purpose: c.purpose, from: c.consent_from, to: c.consent_to }, check);

      const sql = tx ?? opts.db;
      const tokenHash = await consentHash(token);
      if (await isRevoked(sql, { issuer: opts.issuer, jti: c.jti, tokenHash })) {
        throw new ConsentError('CONSENT-REVOKED', `The consent ${c.jti} has been revoked by the consumer.`);
      }
      // Last, so that only a consent valid in every other way uses up its jti.
      await claimConsentUse(sql, {
        issuer: opts.issuer,
        jti: c.jti,
        requestKey: check.requestKey,
        tokenHash,
        method: 'jwt',
        at: check.at,
        expiresAt: new Date(((payload.exp as number) + skewSec) * 1000),
      });
      return jwtEvidence(opts.issuer, kid, payload, c, tokenHash, check.at);
    },
  };
}

function jwtEvidence(
  issuer: string,
  kid: string,
  payload: JWTPayload,
  c: z.infer<typeof ConsentTokenClaims>,
  tokenHash: string,
  at: Date,
): ConsentEvidence {
  const list = c.status?.status_list;
  const claims: ConsentEvidence['claims'] = {
    sub: c.sub,
    mpan: c.mpan,
    fsp: c.fsp,
    purpose: c.purpose,
    nbf: isoOf(payload.nbf),
    exp: isoOf(payload.exp),
    iat: isoOf(payload.iat),
    validFrom: boundText(c.consent_from),
    validTo: c.consent_to ? boundText(c.consent_to) : undefined,
    status: list ? `${list.uri}#${list.idx}` : undefined,
  };
  for (const k of Object.keys(claims) as (keyof typeof claims)[]) if (claims[k] === undefined) delete claims[k];
  return {
    method: 'jwt',
    issuer,
    kid,
    jti: c.jti,
    claims,
    tokenHash,
    statusList: list ? { uri: list.uri, index: list.idx } : null,
    verifiedAt: at.toISOString(),
  };
}
