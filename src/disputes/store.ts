import { isAssetLimited, withinAssetLimit } from '../access/asset-limit';
import { reach, type Action } from '../access/permissions';
import type { Principal } from '../access/principal';
import type { Sql } from '../storage/db';
import { ownAssetReach } from '../assets/store';
import type { Dispute, DisputeComment } from './schema';

/** SQL that belongs to the dispute tables: column list, row mapping, object-level visibility. */

export const DISPUTE_COLS = `d.id, d.record_type, d.record_id, to_jsonb(d.fields) AS fields, d.claim, d.evidence, d.status, d.outcome, d.resolution_note, d.correction,
  d.raised_by_org, d.raised_by, d.raised_at, d.closed_at, d.version, d.recorded_at, d.recorded_by`;

const iso = (v: unknown) => (v ? new Date(v as string).toISOString() : null);

/** Storage row → wire shape (the one mapping, used by the API and the history). */
/** A row as DISPUTE_COLS selects it (dispute); claim, evidence and correction are the jsonb the module wrote. */
export interface DisputeRow {
  id: string;
  record_type: Dispute['recordType'];
  record_id: string;
  fields: string[];
  claim: Dispute['claim'];
  evidence: Dispute['evidence'] | null;
  status: Dispute['status'];
  outcome: Dispute['outcome'];
  resolution_note: string | null;
  correction: Dispute['correction'];
  raised_by_org: string | null;
  raised_by: string;
  raised_at: Date;
  closed_at: Date | null;
  version: number;
  recorded_at: Date;
  recorded_by: string;
}

/** A row of dispute_comment as selectComments reads it. */
export interface CommentRow {
  id: string;
  organisation_id: string | null;
  author: string;
  body: string;
  evidence: DisputeComment['evidence'] | null;
  created_at: Date;
}

export function toDispute(r: DisputeRow): Dispute {
  return {
    id: r.id,
    recordType: r.record_type,
    recordId: r.record_id,
    fields: r.fields,
    claim: r.claim,
    evidence: r.evidence ?? [],
    status: r.status,
    outcome: r.outcome ?? null,
    resolutionNote: r.resolution_note ?? null,
    correction: r.correction ?? null,
    raisedBy: { organisationId: r.raised_by_org, actor: r.raised_by },
    raisedAt: iso(r.raised_at)!,
    closedAt: iso(r.closed_at),
    version: Number(r.version),
    recordedAt: iso(r.recorded_at)!,
    recordedBy: r.recorded_by,
  };
}

export function toComment(r: CommentRow): DisputeComment {
  return {
    id: r.id,
    organisationId: r.organisation_id,
    author: r.author,
    body: r.body,
    evidence: r.evidence ?? [],
    createdAt: iso(r.created_at)!,
  };
}

/**
 * Object-level rule, in SQL: the reach PERMISSIONS gives the action. Roles that see all reach
 * every dispute; others the disputes their organisation raised and those on records it is a
 * party to now: an asset it controls now (or owns, as an ASSET_OWNER) or that is on its network (`dnoCodes`), itself, a
 * market unit it controls. A delegation limited to named assets reaches disputes on those only.
 */
export function disputeVisibility(p: Principal, params: unknown[], action: Action = 'disputes.read'): string {
  // A household (docs/consumers.md) follows the disputes it raised, whatever the action.
  if (p.consumer) {
    params.push(p.subject);
    return `d.raised_by_consumer = $${params.length}`;
  }
  const r = reach(action, p.roles);
  let vis: string;
  if (r.all) vis = 'TRUE';
  else if (!r.own) vis = 'FALSE';
  else {
    params.push(p.organisationId);
    const org = `$${params.length}`;
    params.push(p.dnoCodes);
    const dnos = `$${params.length}`;
    // A party to an asset as assets.read has it: the FSP controlling it now (not the one that lost it by a switch), its ASSET_OWNER, its DNO.
    const assetParty = [...ownAssetReach(p, params, 'read', 'pa'), `pa.dno IN (SELECT jsonb_array_elements_text(${dnos}::jsonb))`].join(
      ' OR ',
    );
    vis = `(d.raised_by_org = ${org}
      OR (d.record_type = 'organisation' AND d.record_id = ${org})
      OR (d.record_type = 'asset' AND EXISTS (SELECT 1 FROM asset pa WHERE pa.id = d.record_id
            AND (${assetParty})))
      OR (d.record_type = 'market_unit' AND EXISTS (SELECT 1 FROM market_unit pu WHERE pu.id = d.record_id AND pu.fsp_id = ${org})))`;
  }
  if (isAssetLimited(p)) vis = `(${vis} AND d.record_type = 'asset' AND ${withinAssetLimit(p, params, 'd.record_id')})`;
  return vis;
}

export async function selectDispute(
  db: Sql,
  p: Principal,
  id: string,
  opts: { forUpdate?: boolean; action?: Action } = {},
): Promise<DisputeRow | undefined> {
  const params: unknown[] = [id];
  const vis = disputeVisibility(p, params, opts.action);
  const [row] = await db.query<DisputeRow>(
    `SELECT ${DISPUTE_COLS} FROM dispute d WHERE d.id = $1 AND ${vis}${opts.forUpdate ? ' FOR UPDATE OF d' : ''}`,
    params,
  );
  return row;
}

export async function selectComments(db: Sql, disputeId: string): Promise<DisputeComment[]> {
  const rows = await db.query<CommentRow>(
    `SELECT id, organisation_id, author, body, evidence, created_at FROM dispute_comment WHERE dispute_id = $1 ORDER BY id`,
    [disputeId],
  );
  return rows.map(toComment);
}

/** Evidence items held by the dispute and its comments (a dispute holds at most MAX_EVIDENCE_PER_DISPUTE). */
export async function evidenceCount(tx: Sql, disputeId: string): Promise<number> {
  const [{ n }] = await tx.query<{ n: number | string }>(
    `SELECT (SELECT jsonb_array_length(evidence) FROM dispute WHERE id = $1) + COALESCE((SELECT sum(jsonb_array_length(evidence)) FROM dispute_comment WHERE dispute_id = $1), 0) AS n`,
    [disputeId],
  );
  return Number(n);
}

/** An open dispute awaiting an organisation's answer or the operator's review (src/notices/). */
export interface DisputeAwaitingFacts {
  id: string;
  record_type: Dispute['recordType'];
  record_id: string;
  raised_by_org: string;
  raised_at: Date;
}

/**
 * Open disputes another organisation raised on a record this one is a party to (itself, an asset
 * or a market unit it controls now) that it has not answered: no comment of its own yet.
 */
export async function disputesAwaitingAnswer(db: Sql, organisationId: string, limit: number): Promise<DisputeAwaitingFacts[]> {
  return db.query<DisputeAwaitingFacts>(
    `SELECT d.id, d.record_type, d.record_id, d.raised_by_org, d.raised_at FROM dispute d
      WHERE d.status IN ('OPEN', 'UNDER_REVIEW') AND d.raised_by_org <> $1
        AND ((d.record_type = 'organisation' AND d.record_id = $1)
          OR (d.record_type = 'asset' AND EXISTS (SELECT 1 FROM asset pa WHERE pa.id = d.record_id AND pa.fsp_id = $1))
          OR (d.record_type = 'market_unit' AND EXISTS (SELECT 1 FROM market_unit pu WHERE pu.id = d.record_id AND pu.fsp_id = $1)))
        AND NOT EXISTS (SELECT 1 FROM dispute_comment c WHERE c.dispute_id = d.id AND c.organisation_id = $1)
      ORDER BY d.raised_at, d.id LIMIT $2`,
    [organisationId, limit],
  );
}

/** Disputes still OPEN: the operator's to take under review, oldest first. */
export async function disputesAwaitingReview(db: Sql, limit: number): Promise<DisputeAwaitingFacts[]> {
  return db.query<DisputeAwaitingFacts>(
    `SELECT d.id, d.record_type, d.record_id, d.raised_by_org, d.raised_at FROM dispute d WHERE d.status = 'OPEN' ORDER BY d.raised_at, d.id LIMIT $1`,
    [limit],
  );
}
