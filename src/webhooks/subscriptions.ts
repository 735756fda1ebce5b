import { z } from '@hono/zod-openapi';
import { reach, type Action } from '../access/permissions';
import { recordedBy, type Principal } from '../access/principal';
import { writeAudit } from '../audit/audit';
import type { Ctx } from '../context';
import { Problem, fieldError, validationProblem, type FieldError } from '../http/problem';
import { assertVersion, changeVersioned } from '../kernel/versioned';
import type { Sql } from '../storage/db';
import { isTypePattern } from '../events/recipients';

/**
 * Webhook subscriptions (docs/events.md): an organisation asks for the events it is a recipient of
 * to be POSTed to a URL, signed with a secret the hub issues. Deliveries are made by
 * src/webhooks/delivery.ts; this module owns the subscriptions, the deliveries' views and replay.
 */

export const MAX_SUBSCRIPTIONS = 20;
/** How long the previous secret keeps signing after a rotation, so receivers can switch without a gap. */
export const PREVIOUS_SECRET_MS = 86_400_000;

const EventTypes = z
  .array(z.string().max(100))
  .min(1)
  .max(20)
  .openapi({
    description: 'Event types to deliver: exact (`fmar.switch.effective`), a prefix (`fmar.asset.*`) or `*` (every type).',
    example: ['fmar.asset.*', 'fmar.switch.*'],
  });
export const WebhookInput = z
  .object({
    url: z.string().min(1).max(2000).openapi({ description: 'Where events are POSTed: https (http only for localhost in development).' }),
    description: z.string().max(500).optional(),
    eventTypes: EventTypes.default(['*']),
    allEvents: z.boolean().default(false).openapi({
      description:
        'Every event of the register, not only those the organisation is a recipient of: for organisations whose roles see every event (operator, regulator, SOs, IMPs).',
    }),
    enabled: z.boolean().default(true),
  })
  .strict()
  .openapi('WebhookSubscriptionInput');
export const WebhookPatch = z
  .object({
    url: z.string().min(1).max(2000).optional(),
    description: z.string().max(500).nullable().optional(),
    eventTypes: EventTypes.optional(),
    allEvents: z.boolean().optional(),
    enabled: z
      .boolean()
      .optional()
      .openapi({ description: 'false pauses deliveries (none are created while disabled); true resumes them.' }),
  })
  .strict()
  .openapi('WebhookSubscriptionPatch');

export const WebhookSubscription = z
  .object({
    id: z.string(),
    organisationId: z.string(),
    url: z.string(),
    description: z.string().nullable(),
    eventTypes: z.array(z.string()),
    allEvents: z.boolean(),
    enabled: z.boolean(),
    disabledReason: z.string().nullable().openapi({ description: 'Why the hub disabled it (a receiver answering 410 Gone), or null.' }),
    pendingDeliveries: z.number().int(),
    deadLetters: z.number().int(),
    previousSecretExpiresAt: z
      .string()
      .nullable()
      .openapi({ description: 'Until then deliveries also carry a signature made with the previous secret.' }),
    version: z.number().int(),
    createdAt: z.string(),
    recordedAt: z.string(),
    recordedBy: z.string(),
    secret: z
      .string()
      .optional()
      .openapi({ description: 'The signing secret (`whsec_` + base64 of 32 random bytes), shown once: at creation and rotation.' }),
  })
  .openapi('WebhookSubscription');
export type WebhookSubscription = z.infer<typeof WebhookSubscription>;

export const DELIVERY_STATUSES = ['PENDING', 'DELIVERED', 'DEAD'] as const;
export const WebhookDelivery = z
  .object({
    subscriptionId: z.string(),
    eventId: z.string().openapi({ description: 'The event’s ID: also the `webhook-id` header and the CloudEvent `id`.' }),
    type: z.string(),
    subject: z.string(),
    status: z
      .enum(DELIVERY_STATUSES)
      .openapi({ description: 'PENDING (due at nextAttemptAt), DELIVERED, or DEAD (a dead letter: replay it).' }),
    attempts: z.number().int(),
    nextAttemptAt: z.string().nullable(),
    lastAttemptAt: z.string().nullable(),
    lastStatus: z.number().int().nullable().openapi({ description: 'HTTP status of the last attempt, null when none was received.' }),
    lastError: z.string().nullable(),
    deliveredAt: z.string().nullable(),
    deadAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi('WebhookDelivery');
export type WebhookDelivery = z.infer<typeof WebhookDelivery>;

const iso = (v: unknown) => (v ? new Date(v as string).toISOString() : null);

/** A row of webhook_subscription (008_webhooks.sql), with COUNTS when it was selected. */
interface SubscriptionRow {
  id: string;
  organisation_id: string;
  url: string;
  description: string | null;
  event_types: string[];
  all_events: boolean;
  enabled: boolean;
  disabled_reason: string | null;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
  version: number;
  created_at: Date;
  recorded_at: Date;
  recorded_by: string;
  pending?: number;
  dead?: number;
}

function toSubscription(r: SubscriptionRow): WebhookSubscription {
  return {
    id: r.id,
    organisationId: r.organisation_id,
    url: r.url,
    description: r.description ?? null,
    eventTypes: r.event_types,
    allEvents: r.all_events,
    enabled: r.enabled,
    disabledReason: r.disabled_reason ?? null,
    pendingDeliveries: Number(r.pending ?? 0),
    deadLetters: Number(r.dead ?? 0),
    previousSecretExpiresAt: r.previous_secret ? iso(r.previous_secret_expires_at) : null,
    version: r.version,
    createdAt: iso(r.created_at)!,
    recordedAt: iso(r.recorded_at)!,
    recordedBy: r.recorded_by,
  };
}

/** A row of webhook_delivery (008_webhooks.sql) with its event's type and subject (DELIVERY_COLS). */
export interface DeliveryRow {
  subscription_id: string;
  event_id: string;
  status: WebhookDelivery['status'];
  attempts: number;
  next_attempt_at: Date;
  scheduled_at: Date;
  last_attempt_at: Date | null;
  last_status: number | null;
  last_error: string | null;
  delivered_at: Date | null;
  dead_at: Date | null;
  created_at: Date;
  type: string;
  subject: string;
}

export function toDelivery(r: DeliveryRow): WebhookDelivery {
  return {
    subscriptionId: r.subscription_id,
    eventId: r.event_id,
    type: r.type,
    subject: r.subject,
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: r.status === 'PENDING' ? iso(r.next_attempt_at) : null,
    lastAttemptAt: iso(r.last_attempt_at),
    lastStatus: r.last_status ?? null,
    lastError: r.last_error ?? null,
    deliveredAt: iso(r.delivered_at),
    deadAt: iso(r.dead_at),
    createdAt: iso(r.created_at)!,
  };
}

// ---- The URL guard (SSRF): what the hub will POST to.

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

function ipv4(host: string): number[] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  const parts = m?.slice(1).map(Number);
  return parts && parts.every((n) => n <= 255) ? parts : undefined;
}

/** Loopback, private, shared, link-local, documentation, benchmarking, multicast and reserved IPv4. */
function privateV4([a, b, c]: number[]): boolean {
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    a >= 224 ||
    (a === 100 && b >= 64 && b <= 127) ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 192 && b === 0 && (c === 0 || c === 2)) ||
    (a === 198 && (b === 18 || b === 19)) ||
    (a === 198 && b === 51 && c === 100) ||
    (a === 203 && b === 0 && c === 113)
  );
}

/** An IPv6 literal (as the URL parser writes it, in brackets) as eight 16-bit groups. */
function ipv6(host: string): number[] | undefined {
  if (!host.startsWith('[') || !host.endsWith(']')) return undefined;
  const text = host.slice(1, -1);
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const groups = (s: string) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const all = tail === undefined ? h : [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
  return all.length === 8 && all.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? all : undefined;
}

function privateV6(g: number[]): boolean {
  const zeroTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  const v4 = [g[6] >> 8, g[6] & 0xff, g[7] >> 8, g[7] & 0xff];
  if (zeroTo(6)) return g[6] === 0 || privateV4(v4); // ::, ::1 and IPv4-compatible
  if (zeroTo(5) && g[5] === 0xffff) return privateV4(v4); // IPv4-mapped
  if (g[0] === 0x64 && g[1] === 0xff9b) return privateV4(v4); // NAT64 (64:ff9b::/96; /48 is local use)
  if (g[0] === 0x2002) return privateV4([g[1] >> 8, g[1] & 0xff, g[2] >> 8, g[2] & 0xff]); // 6to4
  return (
    (g[0] & 0xfe00) === 0xfc00 ||
    (g[0] & 0xffc0) === 0xfe80 ||
    (g[0] & 0xffc0) === 0xfec0 ||
    (g[0] & 0xff00) === 0xff00 ||
    (g[0] === 0x2001 && g[1] === 0x0db8)
  );
}

/** Names that only make sense inside a network: refused in production. */
function localName(host: string): boolean {
  return !host.includes('.') || /(^|\.)(localhost|local|internal|intranet|lan|home\.arpa|localdomain)$/.test(host);
}

/** A loop, not /\.+$/: that regular expression is quadratic on a long run of dots followed by another character. */
function withoutTrailingDots(host: string): string {
  let end = host.length;
  while (end > 0 && host.charCodeAt(end - 1) === 46) end--;
  return host.slice(0, end);
}

/**
 * Why the hub will not POST to this URL, or undefined. Checked at creation, update and before every
 * attempt. Limits (docs/events.md): a public name that resolves to a private address is not caught
 * here (Workers cannot resolve names); production deployments put an egress proxy in front.
 */
export function urlRefusal(raw: string, o: { production: boolean }): FieldError | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return fieldError('url', 'WEBHOOK-URL-INVALID', 'Not an absolute URL.');
  }
  if (raw.length > 2000 || url.username || url.password || url.hash)
    return fieldError('url', 'WEBHOOK-URL-INVALID', 'At most 2,000 characters, without credentials or fragment.');
  const host = withoutTrailingDots(url.hostname.toLowerCase());
  if (url.protocol === 'http:' && !(LOCAL_HOSTS.has(host) && !o.production))
    return fieldError(
      'url',
      'WEBHOOK-URL-SCHEME',
      o.production ? 'Production delivers over https only.' : 'http only for localhost, 127.0.0.1 or [::1] in development.',
    );
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return fieldError('url', 'WEBHOOK-URL-SCHEME');
  if (!o.production) return undefined;
  const v4 = ipv4(host);
  const v6 = ipv6(host);
  if ((v4 && privateV4(v4)) || (v6 && privateV6(v6)) || (!v4 && !v6 && host.startsWith('[')) || (!v4 && !v6 && localName(host))) {
    return fieldError('url', 'WEBHOOK-URL-PRIVATE', `${host} is not a public address.`);
  }
  return undefined;
}

function checkInput(o: { url?: string; eventTypes?: string[] }, production: boolean): FieldError[] {
  const errors: FieldError[] = [];
  if (o.url !== undefined) {
    const e = urlRefusal(o.url, { production });
    if (e) errors.push(e);
  }
  o.eventTypes?.forEach((t, i) => {
    if (!isTypePattern(t)) errors.push(fieldError(`eventTypes[${i}]`, 'WEBHOOK-EVENT-TYPE', `${t} is not a type, \`prefix.*\` or \`*\`.`));
  });
  return errors;
}

/** `whsec_` + base64 of 32 random bytes (Standard Webhooks: at least 24). */
export function newSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `whsec_${btoa(String.fromCharCode(...bytes))}`;
}

const AUDIT = 'webhook_subscription';

function visible(p: Principal, action: Action, params: unknown[]): string {
  if (reach(action, p.roles).all) return 'TRUE';
  params.push(p.organisationId);
  return `s.organisation_id = $${params.length}`;
}

const COUNTS = `(SELECT count(*) FROM webhook_delivery d WHERE d.subscription_id = s.id AND d.status = 'PENDING')::int AS pending,
  (SELECT count(*) FROM webhook_delivery d WHERE d.subscription_id = s.id AND d.status = 'DEAD')::int AS dead`;

export async function subscriptionRow(db: Sql, p: Principal, id: string, action: Action, lock = false) {
  const params: unknown[] = [id];
  const [r] = await db.query<SubscriptionRow>(
    `SELECT s.*${lock ? '' : `, ${COUNTS}`} FROM webhook_subscription s WHERE s.id = $1 AND ${visible(p, action, params)}${lock ? ' FOR UPDATE' : ''}`,
    params,
  );
  if (!r) throw new Problem('WEBHOOK-NOT-FOUND', `No webhook subscription ${id}.`);
  return r;
}

export async function createSubscription(
  ctx: Ctx,
  p: Principal,
  input: z.input<typeof WebhookInput>,
  o: { production: boolean },
): Promise<WebhookSubscription> {
  const eventTypes = [...new Set(input.eventTypes ?? ['*'])];
  const errors = checkInput({ url: input.url, eventTypes }, o.production);
  if (input.allEvents && !reach('events.read', p.roles).all) errors.push(fieldError('allEvents', 'WEBHOOK-ALL-EVENTS'));
  if (errors.length) throw validationProblem(errors);
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    // The organisation's row serialises concurrent creations, so the limit holds.
    const [org] = await tx.query(`SELECT id FROM organisation WHERE id = $1 FOR UPDATE`, [p.organisationId]);
    if (!org) throw new Problem('ORG-NOT-FOUND', `No organisation ${p.organisationId}.`);
    const [{ n }] = await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM webhook_subscription WHERE organisation_id = $1`, [
      p.organisationId,
    ]);
    if (n >= MAX_SUBSCRIPTIONS) throw new Problem('WEBHOOK-LIMIT');
    const id = ctx.ids.next();
    const secret = newSecret();
    const [row] = await tx.query<SubscriptionRow>(
      `INSERT INTO webhook_subscription (id, organisation_id, url, description, event_types, all_events, enabled, secret, created_at, recorded_at, recorded_by)
       VALUES ($1, $2, $3, $4, $5::text[], $6, $7, $8, $9::timestamptz, $9::timestamptz, $10) RETURNING *`,
      [
        id,
        p.organisationId,
        input.url,
        input.description ?? null,
        eventTypes,
        input.allEvents ?? false,
        input.enabled ?? true,
        secret,
        now.toISOString(),
        recordedBy(p),
      ],
    );
    await writeAudit(tx, p, now, [
      {
        action: 'webhook.created',
        recordType: AUDIT,
        recordId: id,
        organisationId: p.organisationId,
        detail: { url: input.url, eventTypes, allEvents: row.all_events, enabled: row.enabled },
      },
    ]);
    return { ...toSubscription(row), secret };
  });
}

export async function listSubscriptions(ctx: Ctx, p: Principal, organisationId?: string): Promise<WebhookSubscription[]> {
  const params: unknown[] = [];
  let where = visible(p, 'webhooks.read', params);
  if (organisationId) {
    params.push(organisationId);
    where += ` AND s.organisation_id = $${params.length}`;
  }
  return (
    await ctx.db.query<SubscriptionRow>(
      `SELECT s.*, ${COUNTS} FROM webhook_subscription s WHERE ${where} ORDER BY s.organisation_id, s.id LIMIT 500`,
      params,
    )
  ).map(toSubscription);
}

export async function getSubscription(ctx: Ctx, p: Principal, id: string): Promise<WebhookSubscription> {
  return toSubscription(await subscriptionRow(ctx.db, p, id, 'webhooks.read'));
}

/** Change URL, description, filters or enabled; If-Match carries the version last read. */
export async function updateSubscription(
  ctx: Ctx,
  p: Principal,
  id: string,
  patch: z.infer<typeof WebhookPatch>,
  ifMatch: number,
  o: { production: boolean },
): Promise<WebhookSubscription> {
  const now = ctx.clock.now();
  const changed = Object.keys(patch).filter((k) => (patch as Record<string, unknown>)[k] !== undefined);
  return ctx.db.transaction(async (tx) => {
    const { after } = await changeVersioned(tx, ctx, p, now, {
      ...subscriptionRecord(tx, p, id),
      ifMatch,
      set: (r) => {
        const eventTypes = patch.eventTypes ? [...new Set(patch.eventTypes)] : undefined;
        const errors = checkInput({ url: patch.url, eventTypes }, o.production);
        if (patch.allEvents && !reach('events.read', p.roles).all && !r.all_events)
          errors.push(fieldError('allEvents', 'WEBHOOK-ALL-EVENTS'));
        if (errors.length) throw validationProblem(errors);
        return {
          sql: `url = COALESCE($1, url), description = CASE WHEN $2 THEN $3 ELSE description END, event_types = COALESCE($4::text[], event_types),
            all_events = COALESCE($5, all_events), enabled = COALESCE($6, enabled), disabled_reason = CASE WHEN $6 THEN NULL ELSE disabled_reason END`,
          params: [
            patch.url ?? null,
            patch.description !== undefined,
            patch.description ?? null,
            eventTypes ?? null,
            patch.allEvents ?? null,
            patch.enabled ?? null,
          ],
        };
      },
      audit: (r, u) => [
        {
          action: 'webhook.updated',
          recordType: AUDIT,
          recordId: id,
          organisationId: r.organisation_id,
          detail: { changed, url: u.url, eventTypes: u.event_types, enabled: u.enabled },
        },
      ],
    });
    return toSubscription(after);
  });
}

/**
 * A subscription as a versioned record (changeVersioned): read and locked with the caller's
 * visibility for webhooks.write, returned with its delivery counts. No history is kept (its audit
 * trail is its history) and a change writes no event.
 */
function subscriptionRecord(tx: Sql, p: Principal, id: string) {
  return {
    table: 'webhook_subscription',
    alias: 's',
    key: { id },
    label: `Subscription ${id}`,
    lock: async () => {
      const params: unknown[] = [id];
      const [r] = await tx.query<SubscriptionRow>(
        `SELECT s.* FROM webhook_subscription s WHERE s.id = $1 AND ${visible(p, 'webhooks.write', params)} FOR UPDATE`,
        params,
      );
      return r;
    },
    notFound: () => new Problem('WEBHOOK-NOT-FOUND', `No webhook subscription ${id}.`),
    returning: `s.*, ${COUNTS}`,
    toRecord: (r: SubscriptionRow) => r,
    events: () => [],
  };
}

/** Delete a subscription and its deliveries (the events stay in the outbox and the feed). */
export async function deleteSubscription(ctx: Ctx, p: Principal, id: string, ifMatch?: number): Promise<void> {
  const now = ctx.clock.now();
  await ctx.db.transaction(async (tx) => {
    const r = await subscriptionRow(tx, p, id, 'webhooks.write', true);
    assertVersion(`Subscription ${id}`, r.version, ifMatch);
    await tx.query(`DELETE FROM webhook_subscription WHERE id = $1`, [id]);
    await writeAudit(tx, p, now, [
      { action: 'webhook.deleted', recordType: AUDIT, recordId: id, organisationId: r.organisation_id, detail: { url: r.url } },
    ]);
  });
}

/**
 * A new signing secret, returned once. The previous one keeps signing for 24 hours (each delivery
 * carries both signatures), unless `revokePrevious` (a leaked secret) ends it now. A second
 * rotation inside those 24 hours would drop the secret receivers may still verify with, so it is
 * refused unless `revokePrevious`.
 */
export async function rotateSecret(ctx: Ctx, p: Principal, id: string, o: { revokePrevious?: boolean } = {}): Promise<WebhookSubscription> {
  const now = ctx.clock.now();
  const secret = newSecret();
  return ctx.db.transaction(async (tx) => {
    const { after } = await changeVersioned(tx, ctx, p, now, {
      ...subscriptionRecord(tx, p, id),
      guard: (r) => {
        const open = r.previous_secret && new Date(r.previous_secret_expires_at ?? 0).getTime() > now.getTime();
        if (open && !o.revokePrevious)
          throw new Problem(
            'WEBHOOK-ROTATION-OPEN',
            `The previous secret signs until ${iso(r.previous_secret_expires_at)}; pass revokePrevious to end it now.`,
          );
      },
      set: (r) => ({
        sql: `secret = $1, previous_secret = $2, previous_secret_expires_at = $3::timestamptz`,
        params: [
          secret,
          o.revokePrevious ? null : r.secret,
          o.revokePrevious ? null : new Date(now.getTime() + PREVIOUS_SECRET_MS).toISOString(),
        ],
      }),
      audit: (r) => [
        {
          action: 'webhook.secret-rotated',
          recordType: AUDIT,
          recordId: id,
          organisationId: r.organisation_id,
          detail: { revokePrevious: o.revokePrevious ?? false },
        },
      ],
    });
    return { ...toSubscription(after), secret };
  });
}

export const DELIVERY_COLS = `d.*, e.type, e.subject`;

/** The deliveries of a subscription, oldest event first, optionally of one status (DEAD: the dead letters). */
export async function listDeliveries(
  ctx: Ctx,
  p: Principal,
  id: string,
  q: { status?: (typeof DELIVERY_STATUSES)[number]; after?: string; limit: number },
) {
  const s = await subscriptionRow(ctx.db, p, id, 'webhooks.read');
  const params: unknown[] = [s.id, q.after ?? '', q.limit];
  let where = `d.subscription_id = $1 AND d.event_id > $2`;
  if (q.status) {
    params.push(q.status);
    where += ` AND d.status = $${params.length}`;
  }
  const rows = await ctx.db.query<DeliveryRow>(
    `SELECT ${DELIVERY_COLS} FROM webhook_delivery d JOIN event_outbox e ON e.id = d.event_id WHERE ${where} ORDER BY d.event_id LIMIT $3`,
    params,
  );
  return rows.map(toDelivery);
}

/** A new delivery cycle from `at` (a parameter): attempts and the age bound start again. */
const replaySet = (at: string) =>
  `status = 'PENDING', attempts = 0, next_attempt_at = ${at}::timestamptz, scheduled_at = ${at}::timestamptz, dead_at = NULL`;

/** Deliver one event again: a dead letter, or one already delivered. A pending one is already due. */
export async function replayDelivery(ctx: Ctx, p: Principal, id: string, eventId: string): Promise<WebhookDelivery> {
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const s = await subscriptionRow(tx, p, id, 'webhooks.write');
    const [d] = await tx.query<{ status: WebhookDelivery['status'] }>(
      `SELECT status FROM webhook_delivery WHERE subscription_id = $1 AND event_id = $2 FOR UPDATE`,
      [s.id, eventId],
    );
    if (!d) throw new Problem('WEBHOOK-DELIVERY-NOT-FOUND', `No delivery of event ${eventId} for subscription ${id}.`);
    if (d.status === 'PENDING') throw new Problem('WEBHOOK-DELIVERY-PENDING');
    await tx.query(`UPDATE webhook_delivery SET ${replaySet('$3')} WHERE subscription_id = $1 AND event_id = $2`, [
      s.id,
      eventId,
      now.toISOString(),
    ]);
    await writeAudit(tx, p, now, [
      {
        action: 'webhook.delivery-replayed',
        recordType: AUDIT,
        recordId: s.id,
        organisationId: s.organisation_id,
        detail: { eventIds: [eventId], from: d.status },
      },
    ]);
    const [row] = await tx.query<DeliveryRow>(
      `SELECT ${DELIVERY_COLS} FROM webhook_delivery d JOIN event_outbox e ON e.id = d.event_id WHERE d.subscription_id = $1 AND d.event_id = $2`,
      [s.id, eventId],
    );
    return toDelivery(row);
  });
}

/** Replay every dead letter of a subscription; returns how many were scheduled. */
export async function replayDeadLetters(ctx: Ctx, p: Principal, id: string): Promise<{ replayed: number }> {
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const s = await subscriptionRow(tx, p, id, 'webhooks.write');
    const rows = await tx.query<{ event_id: string }>(
      `UPDATE webhook_delivery SET ${replaySet('$2')} WHERE subscription_id = $1 AND status = 'DEAD' RETURNING event_id`,
      [s.id, now.toISOString()],
    );
    if (rows.length)
      await writeAudit(tx, p, now, [
        {
          action: 'webhook.delivery-replayed',
          recordType: AUDIT,
          recordId: s.id,
          organisationId: s.organisation_id,
          detail: { count: rows.length, from: 'DEAD' },
        },
      ]);
    return { replayed: rows.length };
  });
}
