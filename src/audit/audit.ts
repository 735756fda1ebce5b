import type { Principal } from '../access/principal';
import type { Db, Sql } from '../storage/db';

export interface AuditEntry {
  action: string;
  recordType: string;
  recordId: string;
  organisationId?: string | null;
  detail?: Record<string, unknown>;
}

function actorOf(p: Principal) {
  return { sub: p.subject, org: p.organisationId, ...(p.act ? { act: p.act } : {}), ...(p.clientId ? { client_id: p.clientId } : {}) };
}

/** Append audit records in the caller's transaction (one statement however many entries). */
export async function writeAudit(tx: Sql, actor: Principal, at: Date, entries: AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const rows = entries.map((e) => ({ record_type: e.recordType, record_id: e.recordId, action: e.action, organisation_id: e.organisationId ?? null, detail: e.detail ?? {} }));
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
  return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
}

async function sha256Hex(s: string): Promise<string> {
  const d = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(s));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

const GENESIS = '0'.repeat(64);
// Ordering names audit_log.id / audit_log.seq: the bare names would sort these text aliases ('10' < '9').
const SELECT_COLS = `id::text AS id, occurred_at, actor, organisation_id, action, record_type, record_id, detail, seq::text AS seq, prev_hash, hash`;

function hashInput(row: any, seq: string, prevHash: string): string {
  return canonicalJson({
    seq, prev_hash: prevHash, occurred_at: new Date(row.occurred_at).toISOString(), actor: row.actor,
    organisation_id: row.organisation_id, action: row.action, record_type: row.record_type, record_id: row.record_id, detail: row.detail,
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
      const [{ locked }] = await tx.query(`SELECT pg_try_advisory_xact_lock(775102) AS locked`);
      if (!locked) return 0;
      const head = await tx.query(`SELECT seq::text AS seq, hash FROM audit_log WHERE seq IS NOT NULL ORDER BY audit_log.seq DESC LIMIT 1`);
      let seq = head.length ? BigInt(head[0].seq) : 0n;
      let prev = head.length ? (head[0].hash as string) : GENESIS;
      const rows = await tx.query(`SELECT ${SELECT_COLS} FROM audit_log WHERE seq IS NULL ORDER BY audit_log.id LIMIT ${batch}`);
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

export interface ChainReport { ok: boolean; sealed: number; unsealed: number; firstBroken?: { seq: string; id: string; reason: string } }

/** Walk the sealed chain in order, recomputing each hash; name the first record that does not fit. */
export async function verifyAudit(db: Db, pageSize = 5000): Promise<ChainReport> {
  let prev = GENESIS;
  let expected = 1n;
  let sealed = 0;
  for (;;) {
    const rows = await db.query(`SELECT ${SELECT_COLS} FROM audit_log WHERE seq >= $1::bigint ORDER BY audit_log.seq LIMIT ${pageSize}`, [expected.toString()]);
    for (const r of rows) {
      const seq = BigInt(r.seq);
      const broken = (reason: string): ChainReport => ({ ok: false, sealed, unsealed: -1, firstBroken: { seq: r.seq, id: r.id, reason } });
      if (seq !== expected) return { ...broken(`sequence gap: expected ${expected}`), unsealed: await countUnsealed(db) };
      if (r.prev_hash !== prev) return { ...broken('prev_hash does not match the previous record'), unsealed: await countUnsealed(db) };
      const hash = await sha256Hex(hashInput(r, r.seq, prev));
      if (hash !== r.hash) return { ...broken('content does not match its hash'), unsealed: await countUnsealed(db) };
      prev = hash;
      expected += 1n;
      sealed++;
    }
    if (rows.length < pageSize) break;
  }
  return { ok: true, sealed, unsealed: await countUnsealed(db) };
}

async function countUnsealed(db: Db): Promise<number> {
  const [r] = await db.query(`SELECT count(*)::int AS n FROM audit_log WHERE seq IS NULL`);
  return Number(r.n);
}

export interface AuditRecord { id: string; seq: string | null; occurredAt: string; actor: unknown; organisationId: string | null; action: string; recordType: string; recordId: string; detail: unknown }

export async function auditForRecord(db: Sql, recordType: string, recordId: string): Promise<AuditRecord[]> {
  const rows = await db.query(`SELECT ${SELECT_COLS} FROM audit_log WHERE record_type = $1 AND record_id = $2 ORDER BY audit_log.id`, [recordType, recordId]);
  return rows.map((r) => ({ id: r.id, seq: r.seq, occurredAt: new Date(r.occurred_at).toISOString(), actor: r.actor, organisationId: r.organisation_id, action: r.action, recordType: r.record_type, recordId: r.record_id, detail: r.detail }));
}
