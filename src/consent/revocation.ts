import { z } from '@hono/zod-openapi';
import { errors, jwtVerify, type JWTPayload } from 'jose';
import type { Sql } from '../storage/db';
import { consentHash } from './binding';
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
} from './issuer';
import { ConsentError } from '../kernel/consent-port';

/**
 * Consent revocations (UC-05.05): the consumer withdraws a consent in the consent service, which
 * tells the hub with a signed notice. The hub records it (consent_revocation); the verifiers refuse
 * a recorded consent (CONSENT-REVOKED), and the switching module cancels pending switches and
 * suspends assets that rely on it.
 */

export const REVOCATION_SOURCES = ['notice', 'operator', 'status-list', 'reference'] as const;
export type RevocationSource = (typeof REVOCATION_SOURCES)[number];

export interface ConsentRevocation {
  issuer: string;
  /** The revoked consent's jti (or a reference's consent ID), its token hash, or both. */
  jti?: string | null;
  tokenHash?: string | null;
  revokedAt: Date;
  reason?: string | null;
  source: RevocationSource;
  recordedBy: string;
}

/** Record a revocation; idempotent: `recorded` is false when this consent was already recorded as revoked. */
export async function recordConsentRevocation(sql: Sql, r: ConsentRevocation, now: Date): Promise<{ recorded: boolean }> {
  if (!r.jti && !r.tokenHash) throw new TypeError('recordConsentRevocation: name the consent by jti or tokenHash');
  const rows = await sql.query(
    `INSERT INTO consent_revocation (issuer, jti, token_hash, revoked_at, reason, source, recorded_at, recorded_by)
     VALUES ($1, $2, $3, $4::timestamptz, $5, $6, $7::timestamptz, $8) ON CONFLICT DO NOTHING RETURNING id`,
    [r.issuer, r.jti ?? null, r.tokenHash ?? null, r.revokedAt.toISOString(), r.reason ?? null, r.source, now.toISOString(), r.recordedBy],
  );
  return { recorded: rows.length > 0 };
}

/** True when the hub has recorded a revocation of this consent, by jti or by token hash. */
export async function isRevoked(sql: Sql, c: { issuer: string; jti?: string | null; tokenHash?: string | null }): Promise<boolean> {
  if (!c.jti && !c.tokenHash) return false;
  const rows = await sql.query(`SELECT 1 FROM consent_revocation WHERE issuer = $1 AND (jti = $2 OR token_hash = $3) LIMIT 1`, [
    c.issuer,
    c.jti ?? null,
    c.tokenHash ?? null,
  ]);
  return rows.length > 0;
}

export const REVOCATION_NOTICE_TYPE = 'consent-revocation+jwt';

const NoticeClaims = z.object({
  jti: z.string().min(1).max(256).optional(),
  consent_jti: z.string().min(1).max(256).optional(),
  consent_hash: z
    .string()
    .regex(/^[A-Za-z0-9_-]{43}$/, 'must be a base64url SHA-256')
    .optional(),
  revoked_at: z.number().nonnegative(),
  reason: z.string().max(500).optional(),
});

/** What a verified notice says was revoked: pass it to recordConsentRevocation and the switching module. */
export interface RevocationNotice {
  issuer: string;
  kid: string;
  /** The notice's own jti, when it has one. */
  noticeId: string | null;
  jti: string | null;
  tokenHash: string | null;
  revokedAt: string;
  reason: string | null;
  /** base64url SHA-256 of the notice, for the audit trail. */
  noticeHash: string;
}

export interface RevocationNoticeOptions {
  notice: string;
  issuer: string;
  audience: string;
  keys: ConsentKeySource | IssuerKeys;
  at: Date;
  skewSec?: number;
  retryAfterSec?: number;
}

/**
 * Verify a revocation notice: a JWT with typ consent-revocation+jwt, signed by the consent
 * service's key (same issuer, same JWKS, same algorithms as consent tokens), naming the revoked
 * consent by `consent_jti` and/or `consent_hash`. Throws ConsentError CONSENT-NOTICE-INVALID (or
 * CONSENT-SERVICE-UNAVAILABLE when the keys cannot be fetched).
 */
export async function verifyRevocationNotice(o: RevocationNoticeOptions): Promise<RevocationNotice> {
  const code = 'CONSENT-NOTICE-INVALID';
  if (o.notice.length > MAX_TOKEN_CHARS || !isCompactJws(o.notice))
    throw new ConsentError(code, 'The revocation notice is not a signed compact JWS.');
  const { kid } = checkHeader(o.notice, REVOCATION_NOTICE_TYPE, code);
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(o.notice, consentIssuerKeys(o.keys).getKey, {
      algorithms: CONSENT_ALGORITHMS,
      typ: REVOCATION_NOTICE_TYPE,
      issuer: o.issuer,
      audience: o.audience,
      clockTolerance: o.skewSec ?? CONSENT_DEFAULTS.skewSec,
      currentDate: o.at,
      requiredClaims: ['iat'],
    }));
  } catch (e) {
    if (e instanceof IssuerKeysUnavailable)
      throw new ConsentError(
        'CONSENT-SERVICE-UNAVAILABLE',
        `The revocation notice cannot be checked now: ${e.message}.`,
        o.retryAfterSec ?? CONSENT_DEFAULTS.retryAfterSec,
      );
    if (e instanceof errors.JWKSNoMatchingKey) throw new ConsentError(code, `No key of the consent service has kid ${kid}.`);
    if (e instanceof errors.JWTClaimValidationFailed || e instanceof errors.JWTExpired)
      throw new ConsentError(code, `The revocation notice's ${e.claim} claim is ${e.reason === 'missing' ? 'missing' : 'not acceptable'}.`);
    if (e instanceof errors.JOSEError) throw new ConsentError(code, `The revocation notice is not valid: ${e.message}.`);
    throw e;
  }
  const c = parseClaims(NoticeClaims, payload, code, 'revocation notice');
  if (!c.consent_jti && !c.consent_hash)
    throw new ConsentError(code, 'The revocation notice names no consent (consent_jti or consent_hash).');
  return {
    issuer: o.issuer,
    kid,
    noticeId: c.jti ?? null,
    jti: c.consent_jti ?? null,
    tokenHash: c.consent_hash ?? null,
    revokedAt: new Date(c.revoked_at * 1000).toISOString(),
    reason: c.reason ?? null,
    noticeHash: await consentHash(o.notice),
  };
}
