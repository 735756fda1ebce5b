import type { Principal } from '../access/principal';
import { recordedBy } from '../access/principal';
import { writeAudit, type AuditEntry } from '../audit/audit';
import { writeEvents, type ChangeEvent } from '../events/outbox';
import { Problem } from '../http/problem';
import type { IdSource } from '../ports';
import type { Row, Sql } from '../storage/db';

/** What every versioned record carries (its row also has recorded_at and recorded_by). */
export interface Versioned {
  version: number;
}

/** The new column values: `col = $1, …` with its parameters, an optional FROM list (a recordset to unpack, a joined table the read shows) and its join condition. */
export interface SetClause {
  sql: string;
  params: unknown[];
  from?: string;
  where?: string;
}

export interface Change<R extends Versioned, W extends object = Row> {
  /** The row's table, its alias in `set` and `returning`, and its key. */
  table: string;
  alias?: string;
  key: Record<string, string>;
  /** Read the record and lock its row (SELECT … FOR UPDATE, with the reader's visibility): undefined if it is not there. */
  lock: (tx: Sql) => Promise<R | undefined>;
  notFound: () => Problem;
  /** State refusals checked before the version (e.g. already de-registered). */
  guard?: (before: R) => void;
  /** The If-Match version, when the request carries one, and how the precondition problem names the record. */
  ifMatch?: number;
  label: string;
  /**
   * Validate and compute the new values (may throw a Problem, which rolls the caller's transaction
   * back); it may write the record's own dependent rows (aliases, members), which `returning` then shows.
   */
  set: (before: R) => Promise<SetClause> | SetClause;
  /** recorded_by when it is not the actor's (e.g. `switch <id>`). */
  by?: string;
  /**
   * Keep the prior version in record_history under this record type (the audit trail's, e.g.
   * 'asset'), with record_id the key's values joined by '/'. Omitted for records whose audit trail
   * is their history (clients, VTNs, VEN registrations, contracts).
   */
  history?: string;
  returning: string;
  /** Maps the row `returning` reads (W, the owning store's row type) to the record. */
  toRecord: (row: W) => R;
  /** Effects that must see the new version and that its audit reports (a rule's deactivation re-assesses assets). */
  afterWrite?: (before: R, after: R) => Promise<void>;
  audit: (before: R, after: R) => AuditEntry[];
  events: (before: R, after: R) => ChangeEvent[];
}

export interface ChangeCtx {
  ids: IdSource;
}

/**
 * The one versioned change of a record, in the caller's transaction: lock → guard → If-Match →
 * validate and compute → keep the prior version → update with version + 1, recorded_at,
 * recorded_by → (afterWrite) → audit → events. The caller then runs its hooks (ctx.hooks) with before and after.
 */
export async function changeVersioned<R extends Versioned, W extends object = Row>(
  tx: Sql,
  ctx: ChangeCtx,
  actor: Principal,
  now: Date,
  spec: Change<R, W>,
): Promise<{ before: R; after: R }> {
  const before = await spec.lock(tx);
  if (!before) throw spec.notFound();
  spec.guard?.(before);
  assertVersion(spec.label, before.version, spec.ifMatch);
  const set = await spec.set(before);
  const at = now.toISOString();
  const alias = spec.alias ?? spec.table;
  if (spec.history) await keepVersion(tx, spec, before, at);
  const params = [...set.params, at, spec.by ?? recordedBy(actor)];
  const stamp = `version = ${alias}.version + 1, recorded_at = $${params.length - 1}::timestamptz, recorded_by = $${params.length}`;
  const where = Object.entries(spec.key)
    .map(([col, v]) => {
      params.push(v);
      return `${alias}.${col} = $${params.length}`;
    })
    .join(' AND ');
  const [row] = await tx.query<W>(
    `UPDATE ${spec.table}${spec.alias ? ` ${spec.alias}` : ''} SET ${set.sql ? `${set.sql}, ` : ''}${stamp}${set.from ? ` FROM ${set.from}` : ''} WHERE ${where}${set.where ? ` AND ${set.where}` : ''} RETURNING ${spec.returning}`,
    params,
  );
  const after = spec.toRecord(row);
  await spec.afterWrite?.(before, after);
  await writeAudit(tx, actor, now, spec.audit(before, after));
  await writeEvents(tx, ctx.ids, now, spec.events(before, after));
  return { before, after };
}

/** If-Match: the record must still be at the version the client read. */
export function assertVersion(label: string, version: number, ifMatch: number | undefined) {
  if (ifMatch !== undefined && version !== ifMatch)
    throw new Problem('REQUEST-PRECONDITION-FAILED', `${label} is at version ${version}, not ${ifMatch}.`, { currentVersion: version });
}

/** Copy the current version (the record as read, its row's recorded_at and recorded_by) into record_history, superseded at `at`. */
async function keepVersion<R extends Versioned, W extends object>(tx: Sql, spec: Change<R, W>, before: R, at: string) {
  const cols = Object.keys(spec.key);
  const params: unknown[] = [spec.history, Object.values(spec.key).join('/'), before, at, ...Object.values(spec.key)];
  await tx.query(
    `INSERT INTO record_history (record_type, record_id, version, data, recorded_at, recorded_by, superseded_at)
    SELECT $1, $2, version, $3::jsonb, recorded_at, recorded_by, $4::timestamptz FROM ${spec.table} WHERE ${cols.map((c, i) => `${c} = $${i + 5}`).join(' AND ')}`,
    params,
  );
}

/** A change of many records of one table, already locked by the caller (see changeVersionedMany). */
export interface ManyChange<R extends Versioned> {
  table: string;
  /** The key column (default `id`) and a record's value of it (default its `id`). */
  key?: string;
  keyOf?: (before: R) => string;
  /** Keep the prior versions in record_history under this record type (omitted as in Change). */
  history?: string;
  befores: R[];
  /**
   * The new column values for every record, and a condition a row must still meet (its parameters
   * are numbered from $4: $1 is the keys, $2 recorded_at, $3 recorded_by). Without it only the
   * version and its stamp change (the caller writes what changed in its own tables).
   */
  set?: { sql: string; params: unknown[]; where?: string };
  /** recorded_by when it is not the actor's. */
  by?: string;
  audit?: (before: R, version: number) => AuditEntry;
  events?: (before: R, version: number) => ChangeEvent[];
}

/**
 * The set-based variant for many records of one table, already locked by the caller (CIM
 * enrichment, an organisation's people and clients when it closes, subscriptions a receiver
 * ended): their current versions go to history in one statement and one UPDATE bumps them (with
 * `set`'s columns); then one audit and one event write.
 */
export async function changeVersionedMany<R extends Versioned>(
  tx: Sql,
  ctx: ChangeCtx,
  actor: Principal,
  now: Date,
  spec: ManyChange<R>,
): Promise<void> {
  if (!spec.befores.length) return;
  const at = now.toISOString();
  const key = spec.key ?? 'id';
  const keyOf = spec.keyOf ?? ((b: R) => String((b as R & { id?: unknown }).id));
  const keys = spec.befores.map(keyOf);
  if (spec.history)
    await tx.query(
      `INSERT INTO record_history (record_type, record_id, version, data, recorded_at, recorded_by, superseded_at)
      SELECT $3, x.key, t.version, x.data, t.recorded_at, t.recorded_by, $2::timestamptz
        FROM jsonb_to_recordset($1::jsonb) AS x(key text, data jsonb) JOIN ${spec.table} t ON t.${key} = x.key`,
      [spec.befores.map((b, i) => ({ key: keys[i], data: b })), at, spec.history],
    );
  await tx.query(
    `UPDATE ${spec.table} SET ${spec.set ? `${spec.set.sql}, ` : ''}version = version + 1, recorded_at = $2::timestamptz, recorded_by = $3
    WHERE ${key} IN (SELECT jsonb_array_elements_text($1::jsonb))${spec.set?.where ? ` AND ${spec.set.where}` : ''}`,
    [keys, at, spec.by ?? recordedBy(actor), ...(spec.set?.params ?? [])],
  );
  const { audit, events } = spec;
  if (audit)
    await writeAudit(
      tx,
      actor,
      now,
      spec.befores.map((b) => audit(b, b.version + 1)),
    );
  if (events)
    await writeEvents(
      tx,
      ctx.ids,
      now,
      spec.befores.flatMap((b) => events(b, b.version + 1)),
    );
}

/** The kept prior versions of a record, newest first (each the wire shape its module wrote: T). */
export async function priorVersions<T>(db: Sql, recordType: string, recordId: string): Promise<T[]> {
  const rows = await db.query<{ data: T }>(
    `SELECT data FROM record_history WHERE record_type = $1 AND record_id = $2 ORDER BY version DESC`,
    [recordType, recordId],
  );
  return rows.map((r) => r.data);
}

/** The newest prior version recorded by `asOf` (the register "as of" a time), if any. */
export async function priorVersionAsOf<T>(db: Sql, recordType: string, recordId: string, asOf: Date): Promise<T | undefined> {
  const [h] = await db.query<{ data: T }>(
    `SELECT data FROM record_history WHERE record_type = $1 AND record_id = $2 AND recorded_at <= $3::timestamptz ORDER BY version DESC LIMIT 1`,
    [recordType, recordId, asOf.toISOString()],
  );
  return h?.data;
}
