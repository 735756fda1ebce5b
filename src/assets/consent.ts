import { isCompactJws } from '../consent/issuer';
import { ConsentError, type ConsentEvidence, type ConsentVerifier } from '../kernel/consent-port';
import { isRevoked } from '../consent/revocation';
import { Problem, fieldError, type FieldError } from '../http/problem';
import { RULES, type RuleCode } from '../rules';
import type { Sql } from '../storage/db';
import { londonDay } from '../kernel/dates';

/**
 * The consumer's consent at registration (UC-02.01 step 2), verified with the same port as a switch
 * (src/consent): bound to one of the asset's MPANs and to the FSP that will control the asset, valid
 * on the registration day, not revoked, used by this request only. What was verified is kept in
 * asset_consent (never the token); a revocation of it suspends the asset (src/switching/switches.ts).
 */

export interface ConsentRequest {
  consent: string;
  mpans: (string | null | undefined)[];
  fspId: string;
  /** Identifies the request: rows of one request may share a consent (assets behind one meter). */
  requestKey: string;
  at: Date;
}

/** A refused consent is the row's field error; an unreachable or unconfigured service refuses the whole request (fail closed). */
export async function verifyAssetConsent(
  tx: Sql,
  verifier: ConsentVerifier | undefined,
  r: ConsentRequest,
): Promise<{ evidence?: ConsentEvidence; error?: FieldError }> {
  if (!verifier)
    throw new Problem(
      'CONSENT-SERVICE-UNAVAILABLE',
      'No consent service is configured on this hub (FMAR_CONSENT_ISSUER, docs/consent.md), so a consentReference cannot be verified; register without it or retry when one is.',
    );
  const mpans = r.mpans.filter((m): m is string => !!m);
  if (!mpans.length)
    return {
      error: fieldError(
        'consentReference',
        'CONSENT-MPAN-MISMATCH',
        'The asset has no MPAN for a consent to be bound to; add its import or export MPAN.',
      ),
    };
  const known = isCompactJws(r.consent) ? undefined : await knownTokenConsent(tx, r.consent, mpans, r.fspId);
  if (known?.revoked)
    return {
      error: fieldError(
        'consentReference',
        'CONSENT-REVOKED',
        `The consent ${known.evidence.jti} has been revoked by the consumer; ask them for a new one.`,
      ),
    };
  if (known) return { evidence: { ...known.evidence, verifiedAt: r.at.toISOString() } };
  // The consent may name either MPAN; a refused check records nothing, so trying the other is safe.
  for (const [i, mpan] of mpans.entries()) {
    try {
      const evidence = await verifier.verify(
        { consent: r.consent, mpan, gainingFspId: r.fspId, effectiveDate: londonDay(r.at), requestKey: r.requestKey, at: r.at },
        tx,
      );
      return { evidence };
    } catch (e) {
      if (!(e instanceof ConsentError)) throw e;
      if (e.code === 'CONSENT-MPAN-MISMATCH' && i < mpans.length - 1) continue;
      if (e.code === 'CONSENT-SERVICE-UNAVAILABLE')
        throw new Problem(
          'CONSENT-SERVICE-UNAVAILABLE',
          `${e.detail} Nothing was registered; retry later.`,
          e.retryAfterSec ? { retryAfterSec: e.retryAfterSec } : {},
        );
      const code = (e.code in RULES ? e.code : 'CONSENT-TOKEN-INVALID') as RuleCode;
      return {
        error: fieldError(
          'consentReference',
          code,
          `${e.detail} Ask the consumer's consent service for a consent naming this MPAN and FSP ${r.fspId}.`,
        ),
      };
    }
  }
  return { error: fieldError('consentReference', 'CONSENT-MPAN-MISMATCH') };
}

/**
 * A consent token this hub verified before, named by its ID (jti) as an export shows it: for
 * re-registering an asset behind the same MPAN for the same FSP (e.g. an export loaded back after
 * de-registration). Only consent tokens (the token itself is never kept, so it cannot be presented
 * again), refused once a revocation of it is recorded; a reference goes to the online check again.
 */
async function knownTokenConsent(
  tx: Sql,
  jti: string,
  mpans: string[],
  fspId: string,
): Promise<{ evidence: ConsentEvidence; revoked: boolean } | undefined> {
  const [row] = await tx.query<{ consent: ConsentEvidence }>(
    `SELECT c.consent FROM asset_consent c
      WHERE c.consent_jti = $1 AND c.fsp_id = $2 AND c.consent->>'method' = 'jwt' AND c.consent->'claims'->>'mpan' = ANY($3::text[]) LIMIT 1`,
    [jti, fspId, mpans],
  );
  if (!row) return undefined;
  const e = row.consent;
  return { evidence: e, revoked: await isRevoked(tx, { issuer: e.issuer, jti: e.jti, tokenHash: e.tokenHash }) };
}

/** Keep what was verified for the asset (replacing an earlier consent), in the caller's transaction. */
export async function storeAssetConsent(
  tx: Sql,
  items: { assetId: string; fspId: string; evidence: ConsentEvidence }[],
  at: string,
  by: string,
) {
  if (!items.length) return;
  await tx.query(
    `INSERT INTO asset_consent (asset_id, fsp_id, consent, consent_issuer, consent_jti, token_hash, recorded_at, recorded_by)
    SELECT x.asset_id, x.fsp_id, x.consent, x.consent_issuer, x.consent_jti, x.token_hash, $2::timestamptz, $3
      FROM jsonb_to_recordset($1::jsonb) AS x(asset_id text, fsp_id text, consent jsonb, consent_issuer text, consent_jti text, token_hash text)
    ON CONFLICT (asset_id) DO UPDATE SET fsp_id = EXCLUDED.fsp_id, consent = EXCLUDED.consent, consent_issuer = EXCLUDED.consent_issuer,
      consent_jti = EXCLUDED.consent_jti, token_hash = EXCLUDED.token_hash, recorded_at = EXCLUDED.recorded_at, recorded_by = EXCLUDED.recorded_by`,
    [
      items.map((i) => ({
        asset_id: i.assetId,
        fsp_id: i.fspId,
        consent: i.evidence,
        consent_issuer: i.evidence.issuer,
        consent_jti: i.evidence.jti,
        token_hash: i.evidence.tokenHash,
      })),
      at,
      by,
    ],
  );
}

/** The MPAN the asset's stored consent is bound to, if it has one. */
export async function storedConsentMpan(tx: Sql, assetId: string): Promise<string | undefined> {
  const [r] = await tx.query<{ mpan: string | null }>(`SELECT consent->'claims'->>'mpan' AS mpan FROM asset_consent WHERE asset_id = $1`, [
    assetId,
  ]);
  return r?.mpan ?? undefined;
}

/** Audit detail of a verified consent: enough to match a revocation or dispute, never the token. */
export const consentAudit = (e: ConsentEvidence) => ({ issuer: e.issuer, jti: e.jti, tokenHash: e.tokenHash, method: e.method });
