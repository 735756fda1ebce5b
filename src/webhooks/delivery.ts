import type { Principal } from '../access/principal';
import { ulidSource } from '../ids';
import { changeVersionedMany } from '../kernel/versioned';
import type { Clock } from '../ports';
import type { Sql } from '../storage/db';
import { EVENT_READER_ROLES, toCloudEvent } from '../events/outbox';
import { urlRefusal } from './subscriptions';

/**
 * The webhook delivery worker (docs/events.md). Deliveries are rows written with their event
 * (src/events/outbox.ts), so a crash never loses one: `deliverDue` claims due rows with
 * FOR UPDATE SKIP LOCKED and, in the same statement, moves them to the end of a lease; it then
 * POSTs each as a CloudEvent signed per Standard Webhooks and records the outcome. A worker that
 * dies mid-batch leaves its rows to come due again when the lease ends: at least once, never lost.
 * No Node import: the Node entry runs it on a timer (`startDeliveryWorker`), a Workers Cron
 * trigger would call `deliverDue` the same way.
 */

export interface DeliveryOptions {
  /** The CloudEvents `source`: the hub's base URL. */
  source: string;
  /** Production refuses non-public URLs at every attempt (urlRefusal). */
  production: boolean;
  batchSize?: number;
  /** Per attempt; Standard Webhooks recommends 15–30 s. */
  timeoutMs?: number;
  /** How long a claim holds a delivery; after it a delivery whose worker died is due again. */
  leaseMs?: number;
  /** Dead-letter after this many attempts … */
  maxAttempts?: number;
  /** … or once this long has passed since the delivery (or its replay) was scheduled. */
  maxAgeMs?: number;
  /** Retry n waits baseDelayMs × 2^(n−1), at most maxDelayMs, jittered down to half. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  fetch?: typeof fetch;
  random?: () => number;
  /** Aborting it stops in-flight attempts without recording them (their lease brings them back). */
  signal?: AbortSignal;
}

export const DELIVERY_DEFAULTS: Required<
  Pick<DeliveryOptions, 'batchSize' | 'timeoutMs' | 'leaseMs' | 'maxAttempts' | 'maxAgeMs' | 'baseDelayMs' | 'maxDelayMs'>
> = {
  batchSize: 20,
  timeoutMs: 15_000,
  leaseMs: 60_000,
  maxAttempts: 10,
  maxAgeMs: 3 * 86_400_000,
  baseDelayMs: 30_000,
  maxDelayMs: 6 * 3_600_000,
};

export interface DeliveryReport {
  claimed: number;
  delivered: number;
  retrying: number;
  dead: number;
}

const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const unb64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

/** `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` with a `whsec_` secret (Standard Webhooks 1.0). */
export async function signWebhook(secret: string, id: string, timestamp: number, body: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', unb64(secret.replace(/^whsec_/, '')), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ]);
  const mac = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(`${id}.${timestamp}.${body}`));
  return `v1,${b64(new Uint8Array(mac))}`;
}

/** The wait before attempt n+1 after n failed attempts: exponential, capped, with equal jitter. */
export function backoffMs(attempts: number, o: { baseDelayMs: number; maxDelayMs: number }, random: () => number = Math.random): number {
  const full = Math.min(o.baseDelayMs * 2 ** Math.max(0, attempts - 1), o.maxDelayMs);
  return Math.round(full / 2 + random() * (full / 2));
}

/** Retry-After as milliseconds (seconds or an HTTP date), or undefined. */
function retryAfterMs(h: string | null, now: Date): number | undefined {
  if (!h) return undefined;
  if (/^\d+$/.test(h.trim())) return Number(h.trim()) * 1000;
  const t = Date.parse(h);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now.getTime());
}

export interface Claimed {
  subscription_id: string;
  event_id: string;
  attempts: number;
  scheduled_at: string | Date;
  url: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: string | Date | null;
  org_ok: boolean;
  type: string;
  subject: string;
  data: Record<string, unknown>;
  occurred_at: string | Date;
}

export interface Outcome {
  subscription_id: string;
  event_id: string;
  attempts: number;
  status: 'PENDING' | 'DELIVERED' | 'DEAD';
  next_attempt_at: string | null;
  last_status: number | null;
  last_error: string | null;
  gone?: boolean;
}

/**
 * Claim up to batchSize due deliveries of enabled subscriptions, and, in the same statement,
 * count the attempt and move the rows to the end of the lease (so the claim survives this
 * statement's locks and a dead worker's rows come back). The claimed rows are joined back by
 * their physical row ID (ctid, stable within the statement), so the update is a TID scan whatever
 * the planner's statistics say (bench/switching.ts saw the key join read a subscription's every
 * delivery on PGlite, which never auto-analyses).
 */
export async function claim(
  db: Sql,
  now: Date,
  o: Required<Pick<DeliveryOptions, 'batchSize' | 'leaseMs'>> & { only?: { subscriptionId: string; eventId: string } },
): Promise<Claimed[]> {
  const only = o.only ? `AND d.subscription_id = $5 AND d.event_id = $6` : '';
  return db.query<Claimed>(
    `WITH due AS (
       SELECT d.ctid AS row_id FROM webhook_delivery d JOIN webhook_subscription s ON s.id = d.subscription_id AND s.enabled
        WHERE d.status = 'PENDING' AND d.next_attempt_at <= $1::timestamptz ${only}
        ORDER BY d.next_attempt_at LIMIT $2 FOR UPDATE OF d SKIP LOCKED)
     UPDATE webhook_delivery d SET attempts = d.attempts + 1, last_attempt_at = $1::timestamptz, next_attempt_at = $3::timestamptz
       FROM due, webhook_subscription s, organisation o, event_outbox e
      WHERE d.ctid = due.row_id AND s.id = d.subscription_id AND o.id = s.organisation_id AND e.id = d.event_id
     RETURNING d.subscription_id, d.event_id, d.attempts, d.scheduled_at, s.url, s.secret, s.previous_secret, s.previous_secret_expires_at,
       (o.status = 'ACTIVE' AND o.roles && $4::text[]) AS org_ok, e.type, e.subject, e.data, e.occurred_at`,
    [
      now.toISOString(),
      o.batchSize,
      new Date(now.getTime() + o.leaseMs).toISOString(),
      EVENT_READER_ROLES,
      ...(o.only ? [o.only.subscriptionId, o.only.eventId] : []),
    ],
  );
}

/** One attempt: POST the CloudEvent, signed; the outcome to record, or undefined when stopped. */
async function attempt(c: Claimed, now: Date, o: DeliveryOptions & typeof DELIVERY_DEFAULTS): Promise<Outcome | undefined> {
  const base = { subscription_id: c.subscription_id, event_id: c.event_id, attempts: c.attempts };
  const dead = (error: string, status: number | null = null): Outcome => ({
    ...base,
    status: 'DEAD',
    next_attempt_at: null,
    last_status: status,
    last_error: error,
  });
  if (!c.org_ok) return dead('The subscription’s organisation is not active or may no longer read events.');
  const refused = urlRefusal(c.url, { production: o.production });
  if (refused) return dead(`${refused.code}: ${refused.detail}`);

  const body = JSON.stringify(
    toCloudEvent({ id: c.event_id, type: c.type, subject: c.subject, data: c.data, occurred_at: c.occurred_at }, o.source),
  );
  const ts = Math.floor(now.getTime() / 1000);
  const secrets = [c.secret];
  if (c.previous_secret && c.previous_secret_expires_at && new Date(c.previous_secret_expires_at).getTime() > now.getTime())
    secrets.push(c.previous_secret);
  const signatures = await Promise.all(secrets.map((s) => signWebhook(s, c.event_id, ts, body)));

  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new Error(`no answer within ${o.timeoutMs / 1000} s`)), o.timeoutMs);
  const stop = () => ac.abort(new Error('stopped'));
  o.signal?.addEventListener('abort', stop);
  let status: number | null = null;
  let error: string;
  let retryAfter: number | undefined;
  try {
    const res = await (o.fetch ?? fetch)(c.url, {
      method: 'POST',
      body,
      redirect: 'manual',
      signal: ac.signal,
      headers: {
        'content-type': 'application/cloudevents+json; charset=utf-8',
        'webhook-id': c.event_id,
        'webhook-timestamp': String(ts),
        'webhook-signature': signatures.join(' '),
        'user-agent': 'fmar-hub-webhooks/1',
      },
    });
    status = res.status;
    retryAfter = retryAfterMs(res.headers.get('retry-after'), now);
    await res.body?.cancel().catch(() => {});
    if (status >= 200 && status < 300)
      return { ...base, status: 'DELIVERED', next_attempt_at: null, last_status: status, last_error: null };
    // 410 Gone: the receiver wants no more; the subscription is disabled (Standard Webhooks).
    if (status === 410) return { ...dead('HTTP 410 Gone: the subscription was disabled', status), gone: true };
    error = `HTTP ${status}${status >= 300 && status < 400 ? ' (redirects are not followed)' : ''}`;
  } catch (e) {
    if (o.signal?.aborted) return undefined;
    error =
      (ac.signal.reason as Error | undefined)?.message ??
      `${(e as Error).message}${(e as { cause?: Error }).cause ? `: ${(e as { cause: Error }).cause.message}` : ''}`;
  } finally {
    clearTimeout(timer);
    o.signal?.removeEventListener('abort', stop);
  }
  const age = now.getTime() - new Date(c.scheduled_at).getTime();
  if (c.attempts >= o.maxAttempts || age >= o.maxAgeMs) return dead(`${error}; gave up after ${c.attempts} attempt(s)`, status);
  const wait = Math.min(Math.max(backoffMs(c.attempts, o, o.random), retryAfter ?? 0), o.maxDelayMs);
  return {
    ...base,
    status: 'PENDING',
    next_attempt_at: new Date(now.getTime() + wait).toISOString(),
    last_status: status,
    last_error: error,
  };
}

/** Who disables a subscription whose receiver answered 410 Gone (its recorded_by). */
const DELIVERY_WORKER: Principal = { subject: 'webhook-delivery', organisationId: '', roles: [], scopes: [], dnoCodes: [] };

/**
 * Record outcomes in one statement; a row re-claimed meanwhile (its attempts moved on) is left alone.
 * Subscriptions whose receiver answered 410 Gone are disabled in one set-based versioned change.
 */
async function record(db: Sql, clock: Clock, now: Date, outcomes: Outcome[]) {
  if (!outcomes.length) return;
  await db.query(
    `UPDATE webhook_delivery d SET status = x.status, next_attempt_at = COALESCE(x.next_attempt_at, d.next_attempt_at), last_status = x.last_status, last_error = x.last_error,
       delivered_at = CASE WHEN x.status = 'DELIVERED' THEN $1::timestamptz ELSE d.delivered_at END, dead_at = CASE WHEN x.status = 'DEAD' THEN $1::timestamptz END
       FROM jsonb_to_recordset($2::jsonb) AS x(subscription_id text, event_id text, attempts int, status text, next_attempt_at timestamptz, last_status int, last_error text)
      WHERE d.subscription_id = x.subscription_id AND d.event_id = x.event_id AND d.attempts = x.attempts AND d.status = 'PENDING'`,
    [now.toISOString(), outcomes.map(({ gone: _g, ...x }) => x)],
  );
  const gone = [...new Set(outcomes.filter((x) => x.gone).map((x) => x.subscription_id))];
  if (gone.length) {
    const befores = await db.query<{ id: string; version: number }>(
      `SELECT id, version FROM webhook_subscription WHERE id = ANY($1::text[]) AND enabled ORDER BY id FOR UPDATE`,
      [gone],
    );
    await changeVersionedMany(db, { ids: ulidSource(clock) }, DELIVERY_WORKER, now, {
      table: 'webhook_subscription',
      befores,
      set: { sql: `enabled = false, disabled_reason = 'The receiver answered 410 Gone.'`, params: [], where: 'enabled' },
    });
  }
}

/** Attempt claimed deliveries concurrently and record the outcomes; attempts cut short by a stop are not recorded. */
export async function attemptClaimed(db: Sql, clock: Clock, claimed: Claimed[], opts: DeliveryOptions): Promise<Outcome[]> {
  const o = { ...DELIVERY_DEFAULTS, ...opts };
  const outcomes = (await Promise.all(claimed.map((c) => attempt(c, clock.now(), o)))).filter((x): x is Outcome => x !== undefined);
  await record(db, clock, clock.now(), outcomes);
  return outcomes;
}

/** One pass: claim a batch of due deliveries, attempt them concurrently, record the outcomes. */
export async function deliverDue(db: Sql, clock: Clock, opts: DeliveryOptions): Promise<DeliveryReport> {
  const o = { ...DELIVERY_DEFAULTS, ...opts };
  const claimed = await claim(db, clock.now(), o);
  const outcomes = await attemptClaimed(db, clock, claimed, o);
  const n = (s: Outcome['status']) => outcomes.filter((x) => x.status === s).length;
  return { claimed: claimed.length, delivered: n('DELIVERED'), retrying: n('PENDING'), dead: n('DEAD') };
}

/** Drop delivered rows older than a date (the outbox keeps the events; dead letters are kept). */
export async function pruneDeliveries(db: Sql, before: Date): Promise<number> {
  const rows = await db.query(`DELETE FROM webhook_delivery WHERE status = 'DELIVERED' AND delivered_at < $1::timestamptz RETURNING 1`, [
    before.toISOString(),
  ]);
  return rows.length;
}

export interface DeliveryWorker {
  /** Run a pass now (e.g. from EventSink.written) instead of at the next tick. */
  wake(): void;
  /** Stop: no new pass; in-flight attempts are aborted and left to their lease. */
  stop(): Promise<void>;
}

/** Passes every intervalMs, back to back while batches come full; errors are reported, not thrown. */
export function startDeliveryWorker(
  db: Sql,
  clock: Clock,
  opts: DeliveryOptions & { intervalMs?: number; onError?: (e: unknown) => void },
): DeliveryWorker {
  const ac = new AbortController();
  const batch = opts.batchSize ?? DELIVERY_DEFAULTS.batchSize;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  const pass = async () => {
    try {
      let r: DeliveryReport;
      do {
        again = false;
        r = await deliverDue(db, clock, { ...opts, signal: ac.signal });
      } while (!ac.signal.aborted && (again || r.claimed === batch));
    } catch (e) {
      if (!ac.signal.aborted) (opts.onError ?? ((x) => console.error('[fmar] webhook delivery:', x)))(e);
    }
  };
  const run = () => {
    timer = undefined;
    running = pass().finally(() => {
      running = undefined;
      if (!ac.signal.aborted) timer = setTimeout(run, opts.intervalMs ?? 1000);
    });
  };
  run();
  return {
    wake() {
      if (ac.signal.aborted) return;
      if (running) {
        again = true;
        return;
      }
      if (timer) clearTimeout(timer);
      run();
    },
    async stop() {
      ac.abort();
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
