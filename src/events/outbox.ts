import { PERMISSIONS, SEES_ALL } from '../access/permissions';
import type { EventSink, IdSource } from '../ports';
import type { Db, Row, Sql } from '../storage/db';
import { recipientsCtes } from './recipients';

/** A change event, stored in the outbox in the change's transaction (CloudEvents-shaped on read). */
export interface ChangeEvent {
  type: string; // e.g. fmar.asset.registered
  subject: string; // the record's ID
  /** The organisation the record belongs to; the recipients policy (src/events/recipients.ts) adds the other parties. */
  organisationId?: string | null;
  data: Record<string, unknown>;
}

const READ = PERMISSIONS['events.read'];
/** Roles whose organisations may receive events at all, and those that may take every event. */
export const EVENT_READER_ROLES: readonly string[] = READ.roles;
export const EVENT_ALL_ROLES: readonly string[] = READ.seesAll ?? SEES_ALL;

/**
 * Write events in the caller's transaction, in one statement: the outbox rows, their recipients
 * by policy (event_recipient) and a pending delivery for every enabled webhook subscription of a
 * recipient whose filters match (webhook_delivery). The change, its events and their deliveries
 * commit or roll back together, so no event is lost between commit and delivery.
 */
export async function writeEvents(tx: Sql, ids: IdSource, at: Date, events: ChangeEvent[]): Promise<void> {
  if (events.length === 0) return;
  const rows = events.map((e) => ({
    id: ids.next(),
    type: e.type,
    subject: e.subject,
    organisation_id: e.organisationId ?? null,
    data: e.data,
  }));
  await tx.query(
    `WITH ev AS (
       INSERT INTO event_outbox (id, type, subject, organisation_id, data, occurred_at)
       SELECT x.id, x.type, x.subject, x.organisation_id, x.data, $1::timestamptz
         FROM jsonb_to_recordset($2::jsonb) AS x(id text, type text, subject text, organisation_id text, data jsonb)
       RETURNING id, type, organisation_id, data, md5(type || ' ' || subject || ' ' || data::text) AS grp
     ),
     ${recipientsCtes()},
     ${deliveriesCte({ at: '$1', readerRoles: '$3', allRoles: '$4' })}
     SELECT 1`,
    [at.toISOString(), rows, EVENT_READER_ROLES, EVENT_ALL_ROLES],
  );
  written.set(tx, (written.get(tx) ?? 0) + events.length);
}

/**
 * Write one event that has no recipients and goes to no feed (a webhook's test event: its one
 * delivery is written by the caller, src/webhooks/test-delivery.ts). The outbox stays this module's.
 */
export async function writeUnroutedEvent(
  tx: Sql,
  at: Date,
  e: { id: string; type: string; subject: string; organisationId: string | null; data: Record<string, unknown> },
): Promise<void> {
  await tx.query(
    `INSERT INTO event_outbox (id, type, subject, organisation_id, data, occurred_at) VALUES ($1, $2, $3, $4, $5::jsonb, $6::timestamptz)`,
    [e.id, e.type, e.subject, e.organisationId, e.data, at.toISOString()],
  );
}

/** Events written so far by each open transaction, keyed by its handle (told to the EventSink on commit). */
const written = new WeakMap<Sql, number>();

/**
 * The database as the app uses it: a transaction that wrote events tells `sink` how many once it
 * has committed (never on rollback), so a webhook deliverer can wake at once instead of at its
 * next tick (docs/events.md). Everything else passes through.
 */
export function signallingCommits(db: Db, sink: EventSink): Db {
  return {
    engine: db.engine,
    query: <T extends object = Row>(text: string, params?: unknown[]) => db.query<T>(text, params),
    close: () => db.close(),
    async transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
      let handle: Sql | undefined;
      const out = await db.transaction((tx) => {
        handle = tx;
        return fn(tx);
      });
      const n = handle ? (written.get(handle) ?? 0) : 0;
      if (n > 0) sink.written(n);
      return out;
    },
  };
}

export interface OutboxRow {
  id: string;
  type: string;
  subject: string;
  data: Record<string, unknown>;
  occurred_at: string | Date;
}

/** An outbox row as a CloudEvents 1.0 event (JSON format): the pull feed's items and the webhook body. */
export function toCloudEvent(r: OutboxRow, source: string) {
  return {
    specversion: '1.0' as const,
    id: r.id,
    source,
    type: r.type,
    subject: r.subject,
    time: new Date(r.occurred_at).toISOString(),
    datacontenttype: 'application/json',
    data: r.data,
  };
}

/**
 * The pull feed: events after a cursor (an event ID), oldest first, as CloudEvents 1.0 JSON; with
 * `organisationId`, only the events that organisation is a recipient of; with `within` (a SQL
 * condition over `e`, e.g. a delegation's asset limit, with its parameters after the first three), only those.
 */
export async function readEvents(
  db: Sql,
  opts: { after?: string; limit: number; organisationId?: string; source: string; within?: (params: unknown[]) => string },
) {
  const params: unknown[] = [opts.after ?? '', opts.limit, opts.organisationId ?? null];
  const within = opts.within ? opts.within(params) : 'TRUE';
  const rows = opts.organisationId
    ? await db.query<OutboxRow>(
        `SELECT e.id, e.type, e.subject, e.data, e.occurred_at FROM event_recipient r JOIN event_outbox e ON e.id = r.event_id
        WHERE r.organisation_id = $3 AND r.event_id > $1 AND ${within} ORDER BY r.event_id LIMIT $2`,
        params,
      )
    : await db.query<OutboxRow>(
        // A webhook's test events (src/webhooks/test-delivery.ts) are for that subscription alone: no recipient rows, and not in the feed of every event.
        `SELECT e.id, e.type, e.subject, e.data, e.occurred_at FROM event_outbox e
          WHERE e.id > $1 AND ($3::text IS NULL) AND e.type <> 'fmar.webhook.test' AND ${within} ORDER BY e.id LIMIT $2`,
        params,
      );
  return rows.map((r) => toCloudEvent(r, opts.source));
}

/**
 * The CTE `dl` of writeEvents' statement (after `ev` and `rc`): a PENDING delivery for each enabled
 * subscription of a recipient organisation whose filters match the event, and, for subscriptions
 * with allEvents of an organisation whose roles see every event, one per change. The organisation
 * must be active and hold a role that reads events. Parameters are named by the caller.
 */
function deliveriesCte(p: { at: string; readerRoles: string; allRoles: string }): string {
  return `dl AS (
  INSERT INTO webhook_delivery (subscription_id, event_id, status, attempts, next_attempt_at, scheduled_at, created_at)
  SELECT s.id, x.event_id, 'PENDING', 0, ${p.at}::timestamptz, ${p.at}::timestamptz, ${p.at}::timestamptz
    FROM (SELECT s.id, rc.event_id FROM rc
            JOIN webhook_subscription s ON s.organisation_id = rc.organisation_id AND s.enabled
            JOIN organisation o ON o.id = s.organisation_id
           WHERE NOT (s.all_events AND o.roles && ${p.allRoles}::text[])
          UNION ALL
          SELECT s.id, g.id FROM (SELECT DISTINCT ON (grp) id FROM ev ORDER BY grp, id) g
            JOIN webhook_subscription s ON s.enabled AND s.all_events
            JOIN organisation o ON o.id = s.organisation_id AND o.roles && ${p.allRoles}::text[]) AS x(sub, event_id)
    JOIN webhook_subscription s ON s.id = x.sub
    JOIN organisation o ON o.id = s.organisation_id AND o.status = 'ACTIVE' AND o.roles && ${p.readerRoles}::text[]
    JOIN ev e ON e.id = x.event_id
   WHERE EXISTS (SELECT 1 FROM unnest(s.event_types) f WHERE e.type LIKE replace(f, '*', '%'))
  ON CONFLICT DO NOTHING
  RETURNING 1
)`;
}
