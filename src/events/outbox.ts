import type { IdSource } from '../ports';
import type { Sql } from '../storage/db';

/** A change event, stored in the outbox in the change's transaction (CloudEvents-shaped on read). */
export interface ChangeEvent {
  type: string; // e.g. fmar.asset.registered
  subject: string; // the record's ID
  organisationId?: string | null;
  data: Record<string, unknown>;
}

export async function writeEvents(tx: Sql, ids: IdSource, at: Date, events: ChangeEvent[]): Promise<void> {
  if (events.length === 0) return;
  const rows = events.map((e) => ({ id: ids.next(), type: e.type, subject: e.subject, organisation_id: e.organisationId ?? null, data: e.data }));
  await tx.query(
    `INSERT INTO event_outbox (id, type, subject, organisation_id, data, occurred_at)
     SELECT x.id, x.type, x.subject, x.organisation_id, x.data, $1::timestamptz
       FROM jsonb_to_recordset($2::jsonb) AS x(id text, type text, subject text, organisation_id text, data jsonb)`,
    [at.toISOString(), rows],
  );
}

/** The pull feed: events after a cursor (an event ID), oldest first, as CloudEvents 1.0 JSON. */
export async function readEvents(db: Sql, opts: { after?: string; limit: number; organisationId?: string; source: string }) {
  const params: unknown[] = [opts.after ?? '', opts.limit];
  let where = `id > $1`;
  if (opts.organisationId) {
    params.push(opts.organisationId);
    where += ` AND organisation_id = $3`;
  }
  const rows = await db.query(`SELECT id, type, subject, data, occurred_at FROM event_outbox WHERE ${where} ORDER BY id LIMIT $2`, params);
  return rows.map((r) => ({
    specversion: '1.0' as const, id: r.id as string, source: opts.source, type: r.type, subject: r.subject,
    time: new Date(r.occurred_at).toISOString(), datacontenttype: 'application/json', data: r.data,
  }));
}
