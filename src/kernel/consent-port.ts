import type { Sql } from '../storage/db';

/**
 * Consumer consent verification (UC-05.05), one port with two real adapters: JWT consent tokens
 * from the configured Consumer Consent Service issuer (src/consent/jwt.ts) and an online check of
 * an opaque consent reference (src/consent/reference.ts). What was verified is kept as evidence;
 * the raw token never is.
 */
export interface ConsentCheck {
  /** The consent as presented: a JWT consent token, or an opaque reference for the online check. */
  consent: string;
  /** The asset's import (or export) MPAN the consent must be bound to. */
  mpan: string;
  /** The organisation that gains control: the consent must name it (or the delegator, when a delegate acts). */
  gainingFspId: string;
  /** The day the switch takes effect (YYYY-MM-DD, Europe/London calendar day): inside the consent's validity. */
  effectiveDate: string;
  /** Identifies the request (e.g. its Idempotency-Key or the switch ID): the same token on a retry of the same request is accepted once more, any other reuse is refused. */
  requestKey: string;
  /** Purpose the consent must carry (default 'flexibility-services'). */
  purpose?: string;
  at: Date;
}

export interface ConsentEvidence {
  method: 'jwt' | 'reference';
  issuer: string;
  kid: string | null;
  jti: string;
  /** A summary of the claims relied on (never the raw token). */
  claims: {
    sub?: string;
    mpan: string;
    fsp: string;
    purpose?: string;
    nbf?: string;
    exp?: string;
    iat?: string;
    validFrom?: string;
    validTo?: string;
    status?: string;
  };
  /** base64url SHA-256 of the presented consent, to match a later revocation or dispute. */
  tokenHash: string;
  /** A status-list reference carried by the token, for the periodic revocation check. */
  statusList?: { uri: string; index: number } | null;
  verifiedAt: string;
}

/**
 * Consent refused: `code` is a rule code of src/rules.ts (CONSENT-…), `detail` says what did not hold.
 * `retryAfterSec` is set when the consent service could not be reached (CONSENT-SERVICE-UNAVAILABLE):
 * the value for a `Retry-After` header.
 */
export class ConsentError extends Error {
  constructor(
    readonly code: string,
    readonly detail: string,
    readonly retryAfterSec?: number,
  ) {
    super(`${code}: ${detail}`);
  }
}

export interface ConsentVerifier {
  /** Verify the consent or throw ConsentError. `tx` (when given) records the jti replay row in the caller's transaction. */
  verify(check: ConsentCheck, tx?: Sql): Promise<ConsentEvidence>;
}
