import { z } from '@hono/zod-openapi';
import type { Sql } from '../storage/db';
import { DEFAULT_PURPOSE, MPAN_RE, boundText, checkBinding, claimConsentUse, consentHash, parseBound } from './binding';
import { CONSENT_DEFAULTS } from './issuer';
import { ConsentError, type ConsentEvidence, type ConsentVerifier } from '../kernel/consent-port';
import { isRevoked } from './revocation';

/**
 * An opaque consent reference, checked online with the consent service (docs/consent.md, "Reference
 * check"): POST {reference, mpan, fsp, effectiveDate, purpose} to the configured endpoint. No
 * answer within the timeout, or an answer the hub cannot use, refuses the consent (fail closed:
 * CONSENT-SERVICE-UNAVAILABLE, 503 with Retry-After). The same binding and single-use rules as
 * for tokens apply to what the service says.
 */

export const REFERENCE_RE = /^[A-Za-z0-9._~:+/=-]{1,512}$/;
const MAX_ANSWER_BYTES = 65_536;

const Bound = z
  .union([z.string().max(40), z.number()])
  .refine((v) => parseBound(v) !== undefined, 'must be a YYYY-MM-DD day, an RFC 3339 instant with offset, or a NumericDate');
const ValidAnswer = z.object({
  valid: z.literal(true),
  consentId: z.string().min(1).max(256).optional(),
  jti: z.string().min(1).max(256).optional(),
  validFrom: Bound,
  validTo: Bound.nullable().optional(),
  mpan: z.string().regex(MPAN_RE),
  fsp: z.string().min(1).max(64),
  purpose: z.string().min(1).max(64),
});
const InvalidAnswer = z.object({ valid: z.literal(false), reason: z.string().max(500).optional() });
/** The consent service's answer. `reason: "revoked"` on an invalid answer is reported as CONSENT-REVOKED. */
export const ReferenceAnswer = z.discriminatedUnion('valid', [ValidAnswer, InvalidAnswer]);

export interface ReferenceConsentOptions {
  url: string;
  /** Names the consent service in evidence, replay and revocation rows (FMAR_CONSENT_ISSUER, or the URL's origin). */
  issuer?: string;
  /** `Authorization: Bearer <token>`, or the token in an API-key header (default `X-API-Key`). */
  auth?: { scheme: 'bearer'; token: string } | { scheme: 'api-key'; token: string; header?: string };
  timeoutMs?: number;
  db: Sql;
  retryAfterSec?: number;
  fetch?: typeof fetch;
}

export function referenceConsentVerifier(opts: ReferenceConsentOptions): ConsentVerifier {
  const issuer = opts.issuer ?? new URL(opts.url).origin;
  const timeoutMs = opts.timeoutMs ?? 3_000;
  const retryAfter = opts.retryAfterSec ?? CONSENT_DEFAULTS.retryAfterSec;
  const doFetch = opts.fetch ?? fetch;
  const unavailable = (why: string, after = retryAfter) =>
    new ConsentError('CONSENT-SERVICE-UNAVAILABLE', `The consent service could not check the reference: ${why}.`, after);

  async function ask(body: unknown): Promise<{ status: number; json: unknown; retryAfter?: number }> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (opts.auth?.scheme === 'bearer') headers.authorization = `Bearer ${opts.auth.token}`;
    if (opts.auth?.scheme === 'api-key') headers[opts.auth.header ?? 'x-api-key'] = opts.auth.token;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    try {
      // No redirects: the credential goes to the configured endpoint and nowhere else.
      const res = await doFetch(opts.url, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        signal: abort.signal,
        redirect: 'manual',
      });
      const text = await res.text();
      if (text.length > MAX_ANSWER_BYTES) throw unavailable('the answer is too large');
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      const ra = Number(res.headers.get('retry-after'));
      return { status: res.status, json, retryAfter: Number.isInteger(ra) && ra > 0 ? Math.min(ra, 300) : undefined };
    } catch (e) {
      if (e instanceof ConsentError) throw e;
      throw unavailable(abort.signal.aborted ? `no answer within ${timeoutMs} ms` : (e as Error).message);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    async verify(check, tx) {
      const reference = check.consent;
      if (!REFERENCE_RE.test(reference))
        throw new ConsentError(
          'CONSENT-REFERENCE-INVALID',
          'A consent reference is 1–512 characters of A–Z, a–z, 0–9 and . _ ~ : + / = -.',
        );
      const purpose = check.purpose ?? DEFAULT_PURPOSE;
      const answer = await ask({ reference, mpan: check.mpan, fsp: check.gainingFspId, effectiveDate: check.effectiveDate, purpose });
      if (answer.status === 404) throw new ConsentError('CONSENT-REFERENCE-INVALID', 'The consent service does not know this reference.');
      if (answer.status !== 200) throw unavailable(`it answered HTTP ${answer.status}`, answer.retryAfter);
      const parsed = ReferenceAnswer.safeParse(answer.json);
      if (!parsed.success)
        throw unavailable(`its answer does not match the reference-check protocol (${parsed.error.issues[0].path.join('.') || 'body'})`);
      const a = parsed.data;
      if (!a.valid) {
        if (a.reason === 'revoked') throw new ConsentError('CONSENT-REVOKED', 'The consent service says this consent has been revoked.');
        throw new ConsentError(
          'CONSENT-REFERENCE-INVALID',
          `The consent service says the consent is not valid${a.reason ? ` (${a.reason})` : ''}.`,
        );
      }
      const consentId = a.consentId ?? a.jti;
      if (!consentId) throw unavailable('its answer names no consentId');
      const from = parseBound(a.validFrom)!;
      const to = a.validTo === null || a.validTo === undefined ? undefined : parseBound(a.validTo)!;
      checkBinding({ mpan: a.mpan, fsp: a.fsp, purpose: a.purpose, from, to }, check);

      const sql = tx ?? opts.db;
      const tokenHash = await consentHash(reference);
      if (await isRevoked(sql, { issuer, jti: consentId, tokenHash }))
        throw new ConsentError('CONSENT-REVOKED', `The consent ${consentId} has been revoked by the consumer.`);
      await claimConsentUse(sql, {
        issuer,
        jti: consentId,
        requestKey: check.requestKey,
        tokenHash,
        method: 'reference',
        at: check.at,
        expiresAt: null,
      });
      const claims: ConsentEvidence['claims'] = {
        mpan: a.mpan,
        fsp: a.fsp,
        purpose: a.purpose,
        validFrom: boundText(from),
        ...(to ? { validTo: boundText(to) } : {}),
      };
      return {
        method: 'reference',
        issuer,
        kid: null,
        jti: consentId,
        claims,
        tokenHash,
        statusList: null,
        verifiedAt: check.at.toISOString(),
      };
    },
  };
}
