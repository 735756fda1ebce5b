import { ConsentError } from '../kernel/consent-port';
import { CONSENT_DEFAULTS } from './issuer';
import type { ConsentSimulator } from './simulator';

/**
 * A household's revocation goes to the consumer consent service, which answers with its signed
 * revocation notice (docs/consumers.md); the hub then acts on the notice as on any other. In
 * development the stand-in issues the notice itself; otherwise the hub POSTs
 * `{ jti, tokenHash, reason }` to FMAR_CONSENT_REVOCATION_URL with its client credentials at the
 * service (HTTP Basic) and expects `{ notice }` back, the stand-in's own `/revocations` shape.
 */
export interface ConsentRevoker {
  /** Throws ConsentError CONSENT-SERVICE-UNAVAILABLE when the service cannot be reached or answers wrongly. */
  revoke(r: { jti: string; tokenHash: string; reason?: string }): Promise<{ notice: string }>;
}

export function simulatorRevoker(sim: ConsentSimulator): ConsentRevoker {
  return { revoke: (r) => sim.issueRevocation(r) };
}

export function httpRevoker(o: {
  url: string;
  clientId: string;
  clientSecret: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}): ConsentRevoker {
  return {
    async revoke(r) {
      const unavailable = (why: string) =>
        new ConsentError(
          'CONSENT-SERVICE-UNAVAILABLE',
          `The consent service did not take the revocation: ${why}.`,
          CONSENT_DEFAULTS.retryAfterSec,
        );
      let res: Response;
      try {
        res = await (o.fetch ?? fetch)(o.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: `Basic ${btoa(`${encodeURIComponent(o.clientId)}:${encodeURIComponent(o.clientSecret)}`)}`,
          },
          body: JSON.stringify({ jti: r.jti, tokenHash: r.tokenHash, ...(r.reason ? { reason: r.reason } : {}) }),
          signal: AbortSignal.timeout(o.timeoutMs ?? 5_000),
        });
      } catch (e) {
        throw unavailable((e as Error).message);
      }
      if (res.status !== 200 && res.status !== 201) throw unavailable(`it answered ${res.status}`);
      const body = (await res.json().catch(() => undefined)) as { notice?: unknown } | undefined;
      if (typeof body?.notice !== 'string') throw unavailable('its answer holds no notice');
      return { notice: body.notice };
    },
  };
}
