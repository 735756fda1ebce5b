import type { HubConfig } from '../config';
import type { Clock } from '../ports';
import type { Sql } from '../storage/db';
import { consentIssuerKeys, isCompactJws, type IssuerKeys } from './issuer';
import { jwtConsentVerifier } from './jwt';
import { ConsentError, type ConsentVerifier } from '../kernel/consent-port';
import { referenceConsentVerifier } from './reference';
import { verifyRevocationNotice, type RevocationNotice } from './revocation';
import { fetchStatus } from './status-list';
import type { ConsentSimulator } from './simulator';

/**
 * The hub's consent verification as configured (docs/consent.md): a compact JWS goes to the JWT
 * adapter, anything else to the reference adapter; a method that is not configured is refused
 * (CONSENT-METHOD-UNSUPPORTED). Also verifies the consent service's revocation notices with the
 * same issuer keys.
 */
export interface ConsentService extends ConsentVerifier {
  readonly methods: { jwt: boolean; reference: boolean };
  /** The consent tokens' issuer (also the reference adapter's, when FMAR_CONSENT_ISSUER is set). */
  readonly issuer: string | undefined;
  /** Verify a signed revocation notice; throws ConsentError (CONSENT-NOTICE-INVALID, CONSENT-SERVICE-UNAVAILABLE, CONSENT-METHOD-UNSUPPORTED). */
  verifyRevocationNotice(notice: string): Promise<RevocationNotice>;
  /** Read a consent's entry in the issuer's Token Status List (0 valid, 1 revoked, 2 suspended); throws ConsentError when it cannot. */
  statusOf(ref: { uri: string; index: number }): Promise<number>;
}

/**
 * Build the consent service from configuration, or undefined when none is configured. In
 * development a simulator (src/consent/simulator.ts) may stand in for an unconfigured issuer;
 * production refuses it.
 */
export function consentVerifierFromConfig(
  cfg: Pick<HubConfig, 'mode' | 'consent'>,
  db: Sql,
  clock: Clock,
  o: { simulator?: ConsentSimulator } = {},
): ConsentService | undefined {
  const c = cfg.consent;
  if (o.simulator && cfg.mode === 'production') throw new Error('the consent-service simulator is refused in production');
  let jwt: { issuer: string; audience: string; keys: IssuerKeys } | undefined;
  if (c.issuer) {
    const src = c.jwksUrl ? new URL(c.jwksUrl) : JSON.parse(c.jwks!);
    jwt = { issuer: c.issuer, audience: c.audience, keys: consentIssuerKeys(src) };
  } else if (o.simulator) {
    const sim = o.simulator;
    jwt = { issuer: sim.issuer, audience: sim.audience, keys: consentIssuerKeys(() => sim.jwks()) };
  }
  const tokens =
    jwt &&
    jwtConsentVerifier({
      ...jwt,
      db,
      skewSec: c.skewSec,
      maxAgeDays: c.maxAgeDays,
      allowLoopbackHttpStatusList: cfg.mode === 'development',
    });
  const references = c.referenceUrl
    ? referenceConsentVerifier({
        url: c.referenceUrl,
        issuer: c.issuer,
        db,
        timeoutMs: c.referenceTimeoutMs,
        auth: c.referenceToken ? { scheme: c.referenceAuth, token: c.referenceToken } : undefined,
      })
    : undefined;
  if (!tokens && !references) return undefined;

  return {
    methods: { jwt: !!tokens, reference: !!references },
    issuer: jwt?.issuer,
    async verify(check, tx) {
      const asToken = isCompactJws(check.consent);
      const adapter = asToken ? tokens : references;
      if (!adapter) {
        throw new ConsentError(
          'CONSENT-METHOD-UNSUPPORTED',
          asToken
            ? 'The consent is a consent token, but this hub has no consent token issuer configured; send a consent reference.'
            : 'The consent is an opaque reference, but this hub has no reference-check endpoint configured; send a consent token (JWT).',
        );
      }
      return adapter.verify(check, tx);
    },
    async statusOf(ref) {
      if (!jwt)
        throw new ConsentError(
          'CONSENT-METHOD-UNSUPPORTED',
          'This hub has no consent token issuer configured, so it cannot read status lists.',
        );
      return fetchStatus({ uri: ref.uri, idx: ref.index, issuer: jwt.issuer, keys: jwt.keys, at: clock.now() });
    },
    async verifyRevocationNotice(notice) {
      if (!jwt)
        throw new ConsentError(
          'CONSENT-METHOD-UNSUPPORTED',
          'This hub has no consent token issuer configured, so it cannot verify signed revocation notices.',
        );
      return verifyRevocationNotice({ notice, ...jwt, at: clock.now(), skewSec: c.skewSec });
    },
  };
}

export { ConsentError, type ConsentCheck, type ConsentEvidence, type ConsentVerifier } from '../kernel/consent-port';
export { CONSENT_ALGORITHMS, CONSENT_DEFAULTS, consentIssuerKeys, isCompactJws, type ConsentKeySource, type IssuerKeys } from './issuer';
export { CONSENT_TOKEN_TYPE, jwtConsentVerifier, type JwtConsentOptions } from './jwt';
export { referenceConsentVerifier, type ReferenceConsentOptions } from './reference';
export {
  REVOCATION_NOTICE_TYPE,
  isRevoked,
  recordConsentRevocation,
  verifyRevocationNotice,
  type ConsentRevocation,
  type RevocationNotice,
} from './revocation';
export { DEFAULT_PURPOSE, consentHash, purgeConsentReplays } from './binding';
export { consentSimulator, consentSimulatorRoutes, type ConsentSimulator } from './simulator';
export { STATUS, STATUS_LIST_TYPE, fetchStatus, statusAt } from './status-list';
