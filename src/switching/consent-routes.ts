import { Hono } from 'hono';
import { ConsentError, type ConsentService } from '../consent/index';
import type { Ctx } from '../context';
import { Problem, problemResponse } from '../http/problem';
import { RULES, type RuleCode } from '../rules';
import { acceptRevocationNotice } from './revocation-notice';

const MAX_NOTICE = 16_384;

/**
 * POST /consent/revocations (UC-05.05): the Consumer Consent Service tells the hub a consent was
 * revoked. The body is the signed notice itself (a `consent-revocation+jwt`, docs/consent.md) —
 * its signature by the configured consent issuer is the authentication, so the route needs no
 * bearer token. The revocation is recorded, pending switches relying on the consent are
 * cancelled, and an asset whose control rests on it becomes Suspended – Consent Revoked.
 * Idempotent: the same notice again changes nothing more.
 */
export function consentRoutes(ctx: Ctx, service: () => ConsentService | undefined) {
  const app = new Hono();
  app.post('/consent/revocations', async (c) => {
    const s = service();
    if (!s) return problemResponse(new Problem('CONSENT-METHOD-UNSUPPORTED', 'This hub has no consent service configured.'));
    const type = (c.req.header('content-type') ?? '').split(';')[0].trim().toLowerCase();
    const raw = await c.req.text();
    if (raw.length > MAX_NOTICE) return problemResponse(new Problem('REQUEST-TOO-LARGE'));
    let notice = raw.trim();
    if (type === 'application/json') {
      try {
        notice = String((JSON.parse(raw) as { notice?: unknown }).notice ?? '');
      } catch {
        return problemResponse(new Problem('REQUEST-MALFORMED-JSON'));
      }
    } else if (type !== 'application/jwt') {
      return problemResponse(
        new Problem('REQUEST-UNSUPPORTED-MEDIA-TYPE', 'Send the notice as application/jwt, or as {"notice": "…"} in application/json.'),
      );
    }
    try {
      return c.json(await acceptRevocationNotice(ctx, s, notice), 200);
    } catch (e) {
      if (e instanceof ConsentError) {
        const code = (e.code in RULES ? e.code : 'CONSENT-NOTICE-INVALID') as RuleCode;
        return problemResponse(new Problem(code, e.detail), e.retryAfterSec ? { 'retry-after': String(e.retryAfterSec) } : {});
      }
      throw e;
    }
  });
  return app;
}
