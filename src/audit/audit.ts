import type { Principal } from '../access/principal';
import type { Db, Sql } from '../storage/db';

/** The kinds of record the trail holds (`audit`: reads of the trail itself); a query names one of these. */
export const AUDIT_RECORD_TYPES = [
  'asset',
  'organisation',
  'api_client',
  'user',
  'delegation',
  'switch',
  'contract',
  'market_unit',
  'openadr_vtn',
  'ven_registration',
  'ven_resource',
  'webhook_subscription',
  'audit',
  'product',
  'qualification',
  'product_equivalence',
  'dispute',
  'data_quality_rule',
  'catalogue_code',
  'cim_import_job',
  'consumer',
  'data_share',
] as const;

export interface AuditEntry {
  action: string;
  recordType: string;
  recordId: string;
  organisationId?: string | null;
  detail?: Record<string, unknown>;
}

/** Who an audit record says acted: the token's subject and organisation, its client, the delegate (act). */
export interface AuditActor {
  sub: string;
  org?: string | null;
  client_id?: string;
  act?: { sub: string; org?: string };
  /** The HTTP request that wrote the record (its X-Request-Id); absent for jobs and the CLI's own work. */
  request_id?: string;
}

function actorOf(p: Principal): AuditActor {
  return {
    sub: p.subject,
    // A household (docs/consumers.md) belongs to no organisation: its pseudonym is the subject alone.
    org: p.consumer ? null : p.organisationId,
    ...(p.act ? { act: p.act } : {}),
    ...(p.clientId ? { client_id: p.clientId } : {}),
    ...(p.requestId ? { request_id: p.requestId } : {}),
  };
}

/** Append audit records in the caller's transaction (one statement however many entries). */
export async function writeAudit(tx: Sql, actor: Principal, at: Date, entries: AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const rows = entries.map((e) => ({
    record_type: e.recordType,
    record_id: e.recordId,
    action: e.action,
    organisation_id: e.organisationId ?? null,
    detail: e.detail ?? {},
  }));
  await tx.query(
    `INSERT INTO audit_log (occurred_at, actor, organisation_id, action, record_type, record_id, detail)
     SELECT $1::timestamptz, $2::jsonb, x.organisation_id, x.action, x.record_type, x.record_id, x.detail
       FROM jsonb_to_recordset($3::jsonb) AS x(organisation_id text, action text, record_type text, record_id text, detail jsonb)`,
    [at.toISOString(), actorOf(actor), rows],
  );
}

/** Canonical JSON: keys sorted at every depth, so a record hashes the same however it was read. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v ?? null);
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
    .join(',')}}`;
}

async function sha256Hex(s: string): Promise<string> {
  const d = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(s));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

const GENESIS = '0'.repeat(64);
// Ordering names audit_log.id / audit_log.seq: the bare names would sort these text aliases ('10' < '9').
const SELECT_COLS = `id::text AS id, occurred_at, actor, organisation_id, action, record_type, record_id, detail, seq::text AS seq, prev_hash, hash`;

/** A row as SELECT_COLS selects it: id and seq as text (bigint), actor and detail as the jsonb written. */
interface AuditRow {
  id: string;
  occurred_at: Date;
  actor: AuditActor;
  organisation_id: string | null;
  action: string;
  record_type: string;
  record_id: string;
  detail: Record<string, unknown> | null;
  seq: string | null;
  prev_hash: string | null;
  hash: string | null;
}

function hashInput(row: AuditRow, seq: string, prevHash: string): string {
  return canonicalJson({
    seq,
    prev_hash: prevHash,
    occurred_at: new Date(row.occurred_at).toISOString(),
    actor: row.actor,
    organisation_id: row.organisation_id,
    action: row.action,
    record_type: row.record_type,
    record_id: row.record_id,
    detail: row.detail,
  });
}

/**
 * Seal committed, unsealed audit rows into the chain, in id order, in batches. One sealer at a
 * time (advisory lock); writers never wait for it. Returns how many rows were sealed.
 */
export async function sealAudit(db: Db, batch = 5000): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await db.transaction(async (tx) => {
      const [{ locked }] = await tx.query<{ locked: boolean }>(`SELECT pg_try_advisory_xact_lock(775102) AS locked`);
      if (!locked) return 0;
      const head = await tx.query<{ seq: string; hash: string }>(
        `SELECT seq::text AS seq, hash FROM audit_log WHERE seq IS NOT NULL ORDER BY audit_log.seq DESC LIMIT 1`,
      );
      let seq = head.length ? BigInt(head[0].seq) : 0n;
      let prev = head.length ? head[0].hash : GENESIS;
      const rows = await tx.query<AuditRow>(`SELECT ${SELECT_COLS} FROM audit_log WHERE seq IS NULL ORDER BY audit_log.id LIMIT ${batch}`);
      if (rows.length === 0) return 0;
      const sealed = [];
      for (const r of rows) {
        seq += 1n;
        const hash = await sha256Hex(hashInput(r, seq.toString(), prev));
        sealed.push({ id: r.id, seq: seq.toString(), prev_hash: prev, hash });
        prev = hash;
      }
      await tx.query(
        `UPDATE audit_log a SET seq = x.seq::bigint, prev_hash = x.prev_hash, hash = x.hash
           FROM jsonb_to_recordset($1::jsonb) AS x(id text, seq text, prev_hash text, hash text)
          WHERE a.id = x.id::bigint`,
        [sealed],
      );
      return rows.length;
    });
    total += n;
    if (n < batch) return total;
  }
}

export interface ChainReport {
  ok: boolean;
  sealed: number;
  unsealed: number;
  firstBroken?: { seq: string; id: string; reason: string };
  /** The last sealed record, when the chain verified (null when nothing is sealed yet): keep it outside the database. */
  head?: { seq: string; hash: string } | null;
}

/** Walk the sealed chain in order, recomputing each hash; name the first record that does not fit. */
export async function verifyAudit(db: Db, pageSize = 5000): Promise<ChainReport> {
  let prev = GENESIS;
  let expected = 1n;
  let sealed = 0;
  let head: { seq: string; hash: string } | null = null;
  for (;;) {
    const rows = await db.query<AuditRow & { seq: string }>(
      `SELECT ${SELECT_COLS} FROM audit_log WHERE seq >= $1::bigint ORDER BY audit_log.seq LIMIT ${pageSize}`,
      [expected.toString()],
    );
    for (const r of rows) {
      const seq = BigInt(r.seq);
      const broken = (reason: string): ChainReport => ({ ok: false, sealed, unsealed: -1, firstBroken: { seq: r.seq, id: r.id, reason } });
      if (seq !== expected) return { ...broken(`sequence gap: expected ${expected}`), unsealed: await countUnsealed(db) };
      if (r.prev_hash !== prev) return { ...broken('prev_hash does not match the previous record'), unsealed: await countUnsealed(db) };
      const hash = await sha256Hex(hashInput(r, r.seq, prev));
      if (hash !== r.hash) return { ...broken('content does not match its hash'), unsealed: await countUnsealed(db) };
      prev = hash;
      head = { seq: r.seq, hash };
      expected += 1n;
      sealed++;
    }
    if (rows.length < pageSize) break;
  }
  return { ok: true, sealed, unsealed: await countUnsealed(db), head };
}

async function countUnsealed(db: Db): Promise<number> {
  const [r] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_log WHERE seq IS NULL`);
  return Number(r.n);
}

export interface AuditRecord {
  id: string;
  seq: string | null;
  occurredAt: string;
  actor: AuditActor;
  organisationId: string | null;
  action: string;
  recordType: string;
  recordId: string;
  detail: Record<string, unknown> | null;
}

const toRecord = (r: AuditRow): AuditRecord => ({
  id: r.id,
  seq: r.seq,
  occurredAt: new Date(r.occurred_at).toISOString(),
  actor: r.actor,
  organisationId: r.organisation_id,
  action: r.action,
  recordType: r.record_type,
  recordId: r.record_id,
  detail: r.detail,
});

export async function auditForRecord(db: Sql, recordType: string, recordId: string): Promise<AuditRecord[]> {
  const rows = await db.query<AuditRow>(
    `SELECT ${SELECT_COLS} FROM audit_log WHERE record_type = $1 AND record_id = $2 ORDER BY audit_log.id`,
    [recordType, recordId],
  );
  return rows.map(toRecord);
}

/**
 * What an audit query may filter on (UC-05.06); every field is optional and they combine with AND.
 * `action` is exact (`asset.updated`) or a prefix ending in `.*` (`asset.*`); `from` is inclusive,
 * `to` exclusive; actor fields match the token's `sub`, `client_id` and delegate (`act.sub`).
 */
export interface AuditFilter {
  recordType?: string;
  recordId?: string;
  organisationId?: string;
  actorSub?: string;
  actorClient?: string;
  actorAct?: string;
  action?: string;
  from?: string;
  to?: string;
}

function whereOf(f: AuditFilter, after: string | undefined): { where: string; params: unknown[] } {
  const params: unknown[] = [];
  const conds: string[] = [];
  const add = (sql: string, v: unknown) => {
    params.push(v);
    conds.push(sql.replace('?', `$${params.length}`));
  };
  if (after !== undefined) add('audit_log.id > ?::bigint', after);
  if (f.recordType) add('record_type = ?', f.recordType);
  if (f.recordId) add('record_id = ?', f.recordId);
  if (f.organisationId) add('organisation_id = ?', f.organisationId);
  if (f.actorSub) add(`actor->>'sub' = ?`, f.actorSub);
  if (f.actorClient) add(`actor->>'client_id' = ?`, f.actorClient);
  if (f.actorAct) add(`actor->'act'->>'sub' = ?`, f.actorAct);
  if (f.action?.endsWith('.*')) add(`starts_with(action, ?)`, f.action.slice(0, -1));
  else if (f.action) add('action = ?', f.action);
  if (f.from) add('occurred_at >= ?::timestamptz', f.from);
  if (f.to) add('occurred_at < ?::timestamptz', f.to);
  return { where: conds.length ? conds.join(' AND ') : 'TRUE', params };
}

/** One keyset page of the trail, oldest first; `next` is the last row's id when more follow. */
export async function queryAudit(
  db: Sql,
  f: AuditFilter,
  page: { limit: number; after?: string },
): Promise<{ items: AuditRecord[]; next?: string }> {
  const { where, params } = whereOf(f, page.after);
  const rows = await db.query<AuditRow>(
    `SELECT ${SELECT_COLS} FROM audit_log WHERE ${where} ORDER BY audit_log.id LIMIT ${page.limit + 1}`,
    params,
  );
  const items = rows.slice(0, page.limit).map(toRecord);
  return { items, next: rows.length > page.limit ? items[items.length - 1].id : undefined };
}

/** Every record matching the filter, a keyset page at a time (for the streamed export). */
export async function* auditPages(db: Sql, f: AuditFilter, pageSize = 1000): AsyncGenerator<AuditRecord[]> {
  let after: string | undefined;
  for (;;) {
    const page = await queryAudit(db, f, { limit: pageSize, after });
    if (page.items.length) yield page.items;
    if (!page.next) return;
    after = page.next;
  }
}

/**
 * Log a read of private data (the audit trail itself, another organisation's passport): one INSERT
 * on its own, outside any transaction, so the read it records costs one round trip at most.
 */
export async function logRead(db: Sql, reader: Principal, at: Date, entry: AuditEntry): Promise<void> {
  await writeAudit(db, reader, at, [entry]);
}
