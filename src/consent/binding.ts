import { base64url } from 'jose';
import type { Sql } from '../storage/db';
import { londonMidnight } from '../kernel/dates';
import { ConsentError, type ConsentCheck } from '../kernel/consent-port';

/**
 * What every consent adapter checks once the consent is authentic: that it is bound to this MPAN,
 * this gaining FSP and this purpose, that its validity covers the effective date, and that it is
 * used by one request only. Shared by the JWT and the reference adapter (docs/consent.md).
 */

export const DEFAULT_PURPOSE = 'flexibility-services';
export const MPAN_RE = /^\d{13}$/;
const DAY_RE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;
// RFC 3339 date-time with an explicit offset: an instant, never a local time.
const INSTANT_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** One end of the consent's validity: a Great Britain calendar day (inclusive), or an instant. */
export type ValidityBound = { day: string } | { at: Date };

/** base64url(SHA-256(the consent as presented)): matches a later revocation or dispute without keeping the token. */
export async function consentHash(consent: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(consent));
  return base64url.encode(new Uint8Array(digest));
}

/**
 * A validity bound as the consent service writes it: `YYYY-MM-DD` (a GB calendar day), an RFC 3339
 * instant with offset, or a NumericDate (seconds since the epoch). Anything else is undefined.
 */
export function parseBound(v: unknown): ValidityBound | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? { at: new Date(v * 1000) } : undefined;
  if (typeof v !== 'string') return undefined;
  if (DAY_RE.test(v)) return { day: v };
  if (INSTANT_RE.test(v) && !Number.isNaN(Date.parse(v))) return { at: new Date(v) };
  return undefined;
}

export function boundText(b: ValidityBound): string {
  return 'day' in b ? b.day : b.at.toISOString();
}

/** What a consent says it allows, whatever carried it. */
export interface ConsentBinding {
  mpan: string;
  fsp: string;
  purpose: string | undefined;
  from: ValidityBound;
  /** Absent: until revoked. */
  to?: ValidityBound;
}

/** The binding rules of UC-05.05, in the order a client would fix them. Throws ConsentError. */
export function checkBinding(b: ConsentBinding, check: ConsentCheck): void {
  if (b.mpan !== check.mpan)
    throw new ConsentError('CONSENT-MPAN-MISMATCH', `The consent is for MPAN ${b.mpan}, not the asset's MPAN ${check.mpan}.`);
  if (b.fsp !== check.gainingFspId)
    throw new ConsentError('CONSENT-FSP-MISMATCH', `The consent names FSP ${b.fsp}, not the gaining FSP ${check.gainingFspId}.`);
  const purpose = check.purpose ?? DEFAULT_PURPOSE;
  if (b.purpose !== purpose)
    throw new ConsentError('CONSENT-PURPOSE', `The consent's purpose is ${b.purpose ?? '(none)'}, not ${purpose}.`);
  if (!DAY_RE.test(check.effectiveDate)) throw new TypeError(`checkBinding: effectiveDate ${check.effectiveDate} is not YYYY-MM-DD`);
  if (!covers(b, check.effectiveDate)) {
    throw new ConsentError(
      'CONSENT-WINDOW',
      `The consent is valid from ${boundText(b.from)}${b.to ? ` to ${boundText(b.to)}` : ''}, which does not cover the effective date ${check.effectiveDate}.`,
    );
  }
}

/** Days compare as days (both ends inclusive); instants against the switch's effective instant, London midnight of the day. */
function covers(b: ConsentBinding, day: string): boolean {
  const effectiveAt = () => londonMidnight(day).getTime();
  const fromOk = 'day' in b.from ? b.from.day <= day : b.from.at.getTime() <= effectiveAt();
  const toOk = !b.to || ('day' in b.to ? day <= b.to.day : effectiveAt() < b.to.at.getTime());
  return fromOk && toOk;
}

export interface ConsentUse {
  issuer: string;
  jti: string;
  requestKey: string;
  tokenHash: string;
  method: 'jwt' | 'reference';
  at: Date;
  /** When the row may be purged (the consent is refused by then anyway); null keeps it. */
  expiresAt: Date | null;
}

/**
 * Record the single use of a consent (consent_replay). The same consent with the same requestKey
 * (and the same token) is a retry of one request: accepted, 'retry'. Any other reuse throws
 * CONSENT-REPLAYED. Run in the caller's transaction, the row commits or rolls back with the switch;
 * a concurrent transaction holding the same jti makes the insert wait for its outcome.
 */
export async function claimConsentUse(sql: Sql, u: ConsentUse): Promise<'first' | 'retry'> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const inserted = await sql.query(
      `INSERT INTO consent_replay (issuer, jti, request_key, token_hash, method, first_seen, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6::timestamptz, $7::timestamptz) ON CONFLICT (issuer, jti) DO NOTHING RETURNING jti`,
      [u.issuer, u.jti, u.requestKey, u.tokenHash, u.method, u.at.toISOString(), u.expiresAt?.toISOString() ?? null],
    );
    if (inserted.length) return 'first';
    const [seen] = await sql.query<{ request_key: string; token_hash: string; first_seen: string }>(
      `SELECT request_key, token_hash, first_seen FROM consent_replay WHERE issuer = $1 AND jti = $2`,
      [u.issuer, u.jti],
    );
    if (!seen) continue; // purged between the two statements: claim it afresh
    if (seen.request_key === u.requestKey && seen.token_hash === u.tokenHash) return 'retry';
    throw new ConsentError(
      'CONSENT-REPLAYED',
      `The consent ${u.jti} was already used by another request (first seen ${new Date(seen.first_seen).toISOString()}).`,
    );
  }
  throw new ConsentError('CONSENT-REPLAYED', `The consent ${u.jti} could not be claimed.`);
}

/** Forget single-use rows whose consent can no longer be accepted; returns how many went. */
export async function purgeConsentReplays(sql: Sql, now: Date): Promise<number> {
  const rows = await sql.query(`DELETE FROM consent_replay WHERE expires_at < $1::timestamptz RETURNING jti`, [now.toISOString()]);
  return rows.length;
}
