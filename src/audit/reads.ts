import type { MiddlewareHandler } from 'hono';
import { tryDecodeURIComponent } from 'hono/utils/url';
import type { AuthEnv } from '../access/auth';
import { seesAll } from '../access/principal';
import type { Principal } from '../access/principal';
import type { Ctx } from '../context';
import type { Sql } from '../storage/db';
import { logRead } from './audit';

/**
 * Reads of another organisation's passport are audited (UC-05.06): for
 * GET /api/v1/organisations/{id}, after the handler has answered. Only callers who are served the
 * passport of an organisation not their own (the roles that see every record: operator, regulator)
 * and only a 200 write the `organisation.passport-read` record — one INSERT, no transaction; an
 * organisation reading itself, or anyone served no passport, costs nothing. If the record cannot be
 * written the read fails (500): private data is never served unlogged.
 */
export function passportReads(ctx: Ctx): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    await next();
    if (c.req.method !== 'GET' || c.res.status !== 200) return;
    const p = c.get('principal');
    // Mounted on /organisations/* (a wildcard, so the permission check does not take it for a route): only /organisations/{id} itself.
    const m = /\/organisations\/([^/]+)$/.exec(c.req.path);
    const id = m ? tryDecodeURIComponent(m[1]) : undefined;
    if (!p || !id || id === p.organisationId || !seesAll(p)) return;
    await logPrivateRead(ctx.db, p, ctx.clock.now(), {
      action: 'organisation.passport-read',
      recordType: 'organisation',
      recordId: id,
      route: 'GET /api/v1/organisations/{id}',
      shares: new Map([[id, [id]]]),
    });
  };
}

/**
 * Private reads (UC-05.06, docs/audit.md "Reads of private data are logged"): data of an
 * organisation served to another organisation. One audit record per request (or per page of an
 * export), however many rows: `detail.organisations` names every organisation whose data was
 * served (indexed, for GET /organisations/{id}/reads) and `detail.read` what each one's share was.
 */
export const PRIVATE_READ_ACTIONS = ['asset.read', 'organisation.passport-read', 'switch.consent-read'] as const;
export type PrivateReadAction = (typeof PRIVATE_READ_ACTIONS)[number];

export interface PrivateRead {
  action: PrivateReadAction;
  recordType: string;
  /** The record read, or `list` / `lookup` / `export` for a page of several. */
  recordId: string;
  /** The route as in the permission matrix, e.g. `GET /api/v1/assets`. */
  route: string;
  /** Organisation → the IDs of its records served (from othersRecords). */
  shares: Map<string, string[]>;
  /** false: keep each share as a count and its first and last ID (an export page of up to 1,000 rows). */
  listIds?: boolean;
  /** What was asked (filters), for the operator's audit queries; never shown to the organisations read. */
  asked?: Record<string, unknown>;
  /** The data share the reader pulled through (docs/sharing.md): shown to the organisation read, and how it finds a share's pulls. */
  dataShareId?: string;
}

/**
 * The organisations whose records these are, each with the IDs of its records, leaving out every
 * record the reader's organisation is a party to. A record's parties are its owners (an asset: its
 * organisation and controlling FSP; a switch: the losing and gaining FSPs): a party reading the
 * record reads its own. A reader served only such records gets an empty map: nothing to log, no query.
 */
export function othersRecords(
  reader: Principal,
  records: Iterable<{ id: string; parties: readonly (string | null | undefined)[] }>,
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const r of records) {
    if (r.parties.includes(reader.organisationId)) continue;
    for (const org of new Set(r.parties)) {
      if (!org) continue;
      (out.get(org) ?? out.set(org, []).get(org)!).push(r.id);
    }
  }
  return out;
}

/**
 * Write the record of a private read: one INSERT, none when nothing private was served. Callers
 * await it before answering, so if it cannot be written the read fails (500) and no private data
 * is served unlogged.
 */
export async function logPrivateRead(db: Sql, reader: Principal, at: Date, r: PrivateRead): Promise<void> {
  if (r.shares.size === 0) return;
  const organisations = [...r.shares.keys()].sort();
  const read = Object.fromEntries(
    organisations.map((o) => {
      const ids = r.shares.get(o)!;
      return [
        o,
        r.listIds === false ? { records: ids.length, firstId: ids[0], lastId: ids[ids.length - 1] } : { records: ids.length, ids },
      ];
    }),
  );
  await logRead(db, reader, at, {
    action: r.action,
    recordType: r.recordType,
    recordId: r.recordId,
    organisationId: organisations.length === 1 ? organisations[0] : null,
    detail: {
      route: r.route,
      organisations,
      read,
      ...(r.asked ? { asked: r.asked } : {}),
      ...(r.dataShareId ? { dataShareId: r.dataShareId } : {}),
    },
  });
}

/** One read of an organisation's data, as that organisation sees it: who, when, through which route, how many of its records. */
export interface ReadOfData {
  id: string;
  occurredAt: string;
  action: PrivateReadAction;
  recordType: string;
  recordId: string;
  route: string | null;
  reader: { organisationId: string | null; subject: string | null; clientId: string | null; actingFor: string | null };
  records: number;
  /** The data share pulled through, when the reader pulled under one. */
  dataShareId?: string;
  recordIds?: string[];
  firstRecordId?: string;
  lastRecordId?: string;
}

interface ReadRow {
  id: string;
  occurred_at: string | Date;
  actor: { sub?: string; org?: string; client_id?: string; act?: { sub?: string } };
  action: PrivateReadAction;
  record_type: string;
  record_id: string;
  organisation_id: string | null;
  detail: {
    route?: string;
    dataShareId?: string;
    read?: Record<string, { records: number; ids?: string[]; firstId?: string; lastId?: string }>;
  };
}

/** The organisation's view of a read record: its own share only (never the filter asked, nor other organisations' shares). */
function toReadOfData(r: ReadRow, orgId: string): ReadOfData {
  // Passport reads logged before detail.read existed name the organisation in organisation_id alone.
  const share = r.detail.read?.[orgId] ?? { records: 1, ids: [r.record_id] };
  return {
    id: r.id,
    occurredAt: new Date(r.occurred_at).toISOString(),
    action: r.action,
    recordType: r.record_type,
    recordId: r.record_id,
    route: r.detail.route ?? null,
    reader: {
      organisationId: r.actor.org ?? null,
      subject: r.actor.sub ?? null,
      clientId: r.actor.client_id ?? null,
      actingFor: r.actor.act?.sub ?? null,
    },
    records: share.records,
    ...(r.detail.dataShareId ? { dataShareId: r.detail.dataShareId } : {}),
    ...(share.ids ? { recordIds: share.ids } : {}),
    ...(share.firstId ? { firstRecordId: share.firstId, lastRecordId: share.lastId } : {}),
  };
}

/**
 * Reads of an organisation's data by others, oldest first, a keyset page at a time. The action
 * list is written out as in the partial GIN index of migration 026, so the planner uses it.
 */
export async function readsOfOrganisation(
  db: Sql,
  orgId: string,
  f: { from?: string; to?: string; dataShareId?: string },
  page: { limit: number; after?: string },
): Promise<{ items: ReadOfData[]; next?: string }> {
  const params: unknown[] = [orgId, page.after ?? '0'];
  let where = `action IN ('asset.read', 'organisation.passport-read', 'switch.consent-read')
    AND (detail->'organisations' ? $1 OR (action = 'organisation.passport-read' AND organisation_id = $1)) AND audit_log.id > $2::bigint`;
  if (f.dataShareId) {
    params.push(f.dataShareId);
    where += ` AND detail->>'dataShareId' = $${params.length}`;
  }
  if (f.from) {
    params.push(f.from);
    where += ` AND occurred_at >= $${params.length}::timestamptz`;
  }
  if (f.to) {
    params.push(f.to);
    where += ` AND occurred_at < $${params.length}::timestamptz`;
  }
  const rows = await db.query<ReadRow>(
    `SELECT id::text AS id, occurred_at, actor, action, record_type, record_id, organisation_id, detail FROM audit_log WHERE ${where} ORDER BY audit_log.id LIMIT ${page.limit + 1}`,
    params,
  );
  const items = rows.slice(0, page.limit).map((r) => toReadOfData(r, orgId));
  return { items, next: rows.length > page.limit ? items[items.length - 1].id : undefined };
}
