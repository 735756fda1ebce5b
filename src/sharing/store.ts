import { reach } from '../access/permissions';
import type { Principal } from '../access/principal';
import type { Sql } from '../storage/db';
import { shareState, type DataShare } from './schema';

/** SQL that belongs to the data_share table: columns, row mapping, who reaches a share. */

const iso = (v: unknown) => (v ? new Date(v as string).toISOString() : null);

export const SHARE_COLS = `s.id, s.owner_id, s.recipient_id, s.assets, s.asset_ids, s.valid_from, s.valid_to, s.purpose, s.status,
  s.revoked_at, s.revoke_reason, s.version, s.recorded_at, s.recorded_by`;

export interface ShareRow {
  id: string;
  owner_id: string;
  recipient_id: string;
  assets: DataShare['assets'];
  asset_ids: string[] | null;
  valid_from: Date;
  valid_to: Date;
  purpose: string | null;
  status: DataShare['status'];
  revoked_at: Date | null;
  revoke_reason: string | null;
  version: number;
  recorded_at: Date;
  recorded_by: string;
}

/** Storage row → wire shape, with where the share stands at `at`. */
export function toShare(r: ShareRow, at: Date): DataShare {
  const s = {
    id: r.id,
    ownerId: r.owner_id,
    recipientId: r.recipient_id,
    assets: r.assets,
    assetIds: r.asset_ids ?? null,
    validFrom: iso(r.valid_from)!,
    validTo: iso(r.valid_to)!,
    purpose: r.purpose ?? null,
    status: r.status,
    revokedAt: iso(r.revoked_at),
    revokeReason: r.revoke_reason ?? null,
    version: Number(r.version),
    recordedAt: iso(r.recorded_at)!,
    recordedBy: r.recorded_by,
  };
  return { ...s, state: shareState(s, at) };
}

/**
 * Who reaches a share, in SQL over `s`: to read it, both parties (the operator and the regulator
 * every share); to change or revoke it, the organisation that granted it; to pull through it, the
 * platform it names. Appends its parameters to `params`.
 */
export function shareVisibility(p: Principal, params: unknown[], mode: 'read' | 'write' | 'pull'): string {
  if (mode === 'read' && reach('data-shares.read', p.roles).all) return 'TRUE';
  params.push(p.organisationId);
  const me = `$${params.length}`;
  if (mode === 'write') return `s.owner_id = ${me}`;
  if (mode === 'pull') return `s.recipient_id = ${me}`;
  return `(s.owner_id = ${me} OR s.recipient_id = ${me})`;
}

/** One share the caller reaches, locked for a change (FOR UPDATE) or against one while a pull is served (FOR SHARE). */
export async function selectShare(
  db: Sql,
  p: Principal,
  id: string,
  mode: 'read' | 'write' | 'pull',
  lock?: 'update' | 'share',
): Promise<ShareRow | undefined> {
  const params: unknown[] = [id];
  const vis = shareVisibility(p, params, mode);
  const [row] = await db.query<ShareRow>(
    `SELECT ${SHARE_COLS} FROM data_share s WHERE s.id = $1 AND ${vis}${lock ? ` FOR ${lock.toUpperCase()}` : ''}`,
    params,
  );
  return row;
}

/** Another ACTIVE share between the same two organisations whose period overlaps this one. */
export async function overlappingShare(
  db: Sql,
  ownerId: string,
  recipientId: string,
  from: string,
  to: string,
  exceptId = '',
): Promise<string | undefined> {
  const [r] = await db.query<{ id: string }>(
    `SELECT id FROM data_share WHERE owner_id = $1 AND recipient_id = $2 AND status = 'ACTIVE' AND id <> $5
      AND tstzrange(valid_from, valid_to) && tstzrange($3::timestamptz, $4::timestamptz) ORDER BY id LIMIT 1`,
    [ownerId, recipientId, from, to, exceptId],
  );
  return r?.id;
}

/** Shares that are live and end between `from` and `to`, of which `orgId` is a party (the notice "share ending"). */
export async function sharesEndingBetween(db: Sql, orgId: string, from: Date, to: Date, limit: number): Promise<ShareRow[]> {
  return db.query<ShareRow>(
    `SELECT ${SHARE_COLS} FROM data_share s WHERE (s.owner_id = $1 OR s.recipient_id = $1) AND s.status = 'ACTIVE'
      AND s.valid_from <= $2::timestamptz AND s.valid_to > $2::timestamptz AND s.valid_to <= $3::timestamptz ORDER BY s.valid_to, s.id LIMIT $4`,
    [orgId, from.toISOString(), to.toISOString(), limit],
  );
}
