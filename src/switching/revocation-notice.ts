import { systemPrincipal } from '../access/principal';
import { recordConsentRevocation, type ConsentService } from '../consent/index';
import type { Ctx } from '../context';
import { applyConsentRevocation } from './switches';

/**
 * A signed revocation notice from the consumer consent service (UC-05.05), however it reached the
 * hub (POST /consent/revocations, or the answer to a household's revocation, docs/consumers.md):
 * verified with the consent issuer's keys, recorded, then pending switches relying on the consent
 * are cancelled and assets whose control rests on it suspended. Idempotent. Throws ConsentError
 * when the notice does not verify.
 */
export async function acceptRevocationNotice(ctx: Ctx, service: ConsentService, notice: string) {
  const verified = await service.verifyRevocationNotice(notice);
  const by = systemPrincipal(`consent-service ${verified.issuer}`);
  const { recorded } = await recordConsentRevocation(
    ctx.db,
    {
      issuer: verified.issuer,
      jti: verified.jti,
      tokenHash: verified.tokenHash,
      revokedAt: new Date(verified.revokedAt),
      reason: verified.reason,
      source: 'notice',
      recordedBy: by.subject,
    },
    ctx.clock.now(),
  );
  const effects = await applyConsentRevocation(ctx, by, {
    issuer: verified.issuer,
    jti: verified.jti ?? undefined,
    tokenHash: verified.tokenHash ?? undefined,
    reason: verified.reason ?? undefined,
  });
  return {
    recorded,
    revoked: { issuer: verified.issuer, jti: verified.jti, tokenHash: verified.tokenHash, revokedAt: verified.revokedAt },
    ...effects,
  };
}
