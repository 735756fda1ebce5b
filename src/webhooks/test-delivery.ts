import type { Principal } from '../access/principal';
import { writeAudit } from '../audit/audit';
import type { Ctx } from '../context';
import { writeUnroutedEvent } from '../events/outbox';
import { Problem } from '../http/problem';
import { DELIVERY_DEFAULTS, attemptClaimed, claim, type DeliveryOptions } from './delivery';
import { DELIVERY_COLS, subscriptionRow, toDelivery, type DeliveryRow, type WebhookDelivery } from './subscriptions';

/** The type of a test event: sent to one subscription on request, never to a feed or another subscriber. */
export const TEST_EVENT_TYPE = 'fmar.webhook.test';

/**
 * Send a signed test event to one subscription (POST /webhooks/{id}/test, docs/events.md) through
 * the delivery path: the event and its delivery are written and claimed in one transaction (so the
 * worker cannot take it meanwhile, and a crash leaves it to the worker when the lease ends), then
 * attempted and recorded as the worker does. A failed attempt is retried and dead-lettered like any
 * delivery. Only the subscription's own organisation may test it (`webhooks.test`).
 */
export async function sendTestDelivery(ctx: Ctx, p: Principal, id: string, opts: DeliveryOptions): Promise<WebhookDelivery> {
  const now = ctx.clock.now();
  const eventId = ctx.ids.next();
  const claimed = await ctx.db.transaction(async (tx) => {
    const s = await subscriptionRow(tx, p, id, 'webhooks.test', true);
    if (!s.enabled) throw new Problem('WEBHOOK-TEST-DISABLED', `${s.url} is disabled: enable it, then send the test again.`);
    await writeUnroutedEvent(tx, now, {
      id: eventId,
      type: TEST_EVENT_TYPE,
      subject: s.id,
      organisationId: s.organisation_id,
      data: { subscriptionId: s.id, url: s.url, requestedBy: p.subject },
    });
    await tx.query(
      `INSERT INTO webhook_delivery (subscription_id, event_id, status, attempts, next_attempt_at, scheduled_at, created_at)
       VALUES ($1, $2, 'PENDING', 0, $3::timestamptz, $3::timestamptz, $3::timestamptz)`,
      [s.id, eventId, now.toISOString()],
    );
    await writeAudit(tx, p, now, [
      {
        action: 'webhook.test-sent',
        recordType: 'webhook_subscription',
        recordId: s.id,
        organisationId: s.organisation_id,
        detail: { eventId },
      },
    ]);
    return claim(tx, now, { ...DELIVERY_DEFAULTS, ...opts, batchSize: 1, only: { subscriptionId: s.id, eventId } });
  });
  await attemptClaimed(ctx.db, ctx.clock, claimed, opts);
  const [row] = await ctx.db.query<DeliveryRow>(
    `SELECT ${DELIVERY_COLS} FROM webhook_delivery d JOIN event_outbox e ON e.id = d.event_id WHERE d.subscription_id = $1 AND d.event_id = $2`,
    [id, eventId],
  );
  return toDelivery(row);
}
