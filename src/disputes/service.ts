import type { z } from '@hono/zod-openapi';
import type { Action } from '../access/permissions';
import type { Principal } from '../access/principal';
import { recordedBy } from '../access/principal';
import { writeAudit, type AuditEntry } from '../audit/audit';
import type { Ctx } from '../context';
import { writeEvents, type ChangeEvent } from '../events/outbox';
import { changeVersioned, priorVersions } from '../kernel/versioned';
import { Problem, type FieldError } from '../http/problem';
import { fieldErrorsFromZod } from '../http/validation';
import { ULID_RE } from '../ids';
import { constraintName, pgErrorCode, type Sql } from '../storage/db';
import { DISPUTABLE } from './records';
import { checkFields, checkProposed, checkResolution, mayTransition, type DisputeAction } from './rules';
import {
  CommentInput,
  DisputeInput,
  MAX_EVIDENCE_PER_DISPUTE,
  ResolveInput,
  WithdrawInput,
  type Dispute,
  type DisputeComment,
  type DisputeStatus,
} from './schema';
import {
  DISPUTE_COLS,
  disputeVisibility,
  evidenceCount,
  selectComments,
  selectDispute,
  toComment,
  toDispute,
  type CommentRow,
  type DisputeRow,
} from './store';

/** The first rule broken names the problem; every error found comes back in `errors`. */
function refuse(errors: FieldError[]): Problem {
  return new Problem(errors[0].code, errors.map((e) => e.detail).join(' '), {}, errors);
}

function parse<T>(
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: z.ZodError } },
  raw: unknown,
  what: string,
): T {
  const r = schema.safeParse(raw);
  if (!r.success) throw new Problem('REQUEST-VALIDATION', `The ${what} is invalid.`, {}, fieldErrorsFromZod(r.error, raw));
  return r.data;
}

const notFound = (id: string) => new Problem('DISPUTE-NOT-FOUND', `No dispute ${id}.`);

async function reread(tx: Sql, id: string): Promise<Dispute> {
  return toDispute((await tx.query<DisputeRow>(`SELECT ${DISPUTE_COLS} FROM dispute d WHERE d.id = $1`, [id]))[0]);
}

/** The audit record and the event of one change to a dispute, in its transaction. */
type Verb = 'raised' | 'comment-added' | 'under-review' | 'resolved' | 'withdrawn';

/** The audit record and the event of a dispute's step (each party is told, src/events/recipients.ts). */
function notice(d: Dispute, verb: Verb, extra: Record<string, unknown> = {}): { audit: AuditEntry; event: ChangeEvent } {
  const org = d.raisedBy.organisationId;
  return {
    audit: {
      action: `dispute.${verb}`,
      recordType: 'dispute',
      recordId: d.id,
      organisationId: org,
      detail: { version: d.version, status: d.status, recordType: d.recordType, recordId: d.recordId, ...extra },
    },
    event: {
      type: `fmar.dispute.${verb}`,
      subject: d.id,
      organisationId: org,
      data: {
        disputeId: d.id,
        recordType: d.recordType,
        recordId: d.recordId,
        fields: d.fields,
        status: d.status,
        outcome: d.outcome,
        raisedBy: org,
        version: d.version,
        ...DISPUTABLE[d.recordType].eventData(d.recordId),
        ...extra,
      },
    },
  };
}

async function announce(tx: Sql, ctx: Ctx, actor: Principal, now: Date, d: Dispute, verb: Verb, extra: Record<string, unknown> = {}) {
  const n = notice(d, verb, extra);
  await writeAudit(tx, actor, now, [n.audit]);
  await writeEvents(tx, ctx.ids, now, [n.event]);
}

/** UC-05.03: raise a dispute on a record the caller sees; a second open one on the same fields is refused. */
export async function raiseDispute(ctx: Ctx, actor: Principal, raw: unknown): Promise<Dispute> {
  const input = parse(DisputeInput, raw, 'dispute');
  const fields = [...new Set(input.fields)].sort();
  const errors = [...checkFields(input.recordType, fields), ...checkProposed(fields, input.claim.proposedValues)];
  if (errors.length) throw refuse(errors);
  const now = ctx.clock.now();
  const at = now.toISOString();
  const id = ctx.ids.next();
  const duplicate = (existing: string) =>
    new Problem(
      'DISPUTE-DUPLICATE',
      `Your organisation already has open dispute ${existing} on ${input.recordType} ${input.recordId} for ${fields.join(', ')}.`,
      { existingDisputeId: existing },
    );
  // A household (docs/consumers.md) raises as itself: its pseudonym, no organisation.
  const household = actor.consumer ? actor.subject : null;
  const raiser = household ? 'raised_by_consumer' : 'raised_by_org';
  const findOpen = async (db: Sql) =>
    (
      await db.query<{ id: string }>(
        `SELECT id FROM dispute WHERE ${raiser} = $1 AND record_type = $2 AND record_id = $3 AND fields = $4::text[] AND status IN ('OPEN', 'UNDER_REVIEW')`,
        [household ?? actor.organisationId, input.recordType, input.recordId, fields],
      )
    )[0]?.id;
  try {
    return await ctx.db.transaction(async (tx) => {
      await DISPUTABLE[input.recordType].assertVisible(tx, actor, input.recordId);
      const existing = await findOpen(tx);
      if (existing) throw duplicate(existing);
      await tx.query(
        `INSERT INTO dispute (id, record_type, record_id, fields, claim, evidence, status, raised_by_org, raised_by_consumer, raised_by, raised_at, recorded_at, recorded_by)
         VALUES ($1, $2, $3, $4::text[], $5::jsonb, $6::jsonb, 'OPEN', $7, $8, $9, $10::timestamptz, $10::timestamptz, $9)`,
        [
          id,
          input.recordType,
          input.recordId,
          fields,
          input.claim,
          input.evidence,
          household ? null : actor.organisationId,
          household,
          recordedBy(actor),
          at,
        ],
      );
      const d = await reread(tx, id);
      await announce(tx, ctx, actor, now, d, 'raised', { evidence: d.evidence.length });
      return d;
    });
  } catch (e) {
    // A concurrent identical dispute won the unique index: name it.
    if (pgErrorCode(e) === '23505' && ['dispute_one_open', 'dispute_one_open_consumer'].includes(constraintName(e) ?? '')) {
      const existing = await findOpen(ctx.db);
      if (existing) throw duplicate(existing);
    }
    throw e;
  }
}

/** A dispute with its comments, if the caller may read it. */
export async function getDispute(ctx: Ctx, p: Principal, id: string): Promise<Dispute & { comments: DisputeComment[] }> {
  const row = ULID_RE.test(id) ? await selectDispute(ctx.db, p, id) : undefined;
  if (!row) throw notFound(id);
  return { ...toDispute(row), comments: await selectComments(ctx.db, id) };
}

/** Every version, newest first: the current record then the kept prior versions. */
export async function disputeHistory(ctx: Ctx, p: Principal, id: string): Promise<Dispute[]> {
  const { comments: _c, ...current } = await getDispute(ctx, p, id);
  return [current, ...(await priorVersions<Dispute>(ctx.db, 'dispute', id))];
}

export interface DisputeFilter {
  status?: DisputeStatus;
  recordType?: string;
  recordId?: string;
  raisedBy?: string;
}

/** Keyset page of visible disputes, ordered by ID. */
export async function listDisputes(ctx: Ctx, p: Principal, f: DisputeFilter, page: { limit: number; after?: string }) {
  const params: unknown[] = [];
  const conds = [disputeVisibility(p, params)];
  const eq = (col: string, v: string | undefined) => {
    if (v !== undefined) {
      params.push(v);
      conds.push(`${col} = $${params.length}`);
    }
  };
  eq('d.status', f.status);
  eq('d.record_type', f.recordType);
  eq('d.record_id', f.recordId);
  eq('d.raised_by_org', f.raisedBy);
  if (page.after) {
    params.push(page.after);
    conds.push(`d.id > $${params.length}`);
  }
  params.push(page.limit + 1);
  const rows = await ctx.db.query<DisputeRow>(
    `SELECT ${DISPUTE_COLS} FROM dispute d WHERE ${conds.join(' AND ')} ORDER BY d.id LIMIT $${params.length}`,
    params,
  );
  const items = rows.slice(0, page.limit).map(toDispute);
  return { items, next: rows.length > page.limit ? items[items.length - 1].id : undefined };
}

/** Read and lock a dispute the caller reaches for this action. */
function lockDispute(p: Principal, id: string, permission: Action) {
  return async (tx: Sql) => {
    const row = ULID_RE.test(id) ? await selectDispute(tx, p, id, { forUpdate: true, action: permission }) : undefined;
    return row ? toDispute(row) : undefined;
  };
}

/** Refuse an action the caller may not take on the dispute now (the kernel then refuses a stale If-Match). */
function refuseAction(p: Principal, action: DisputeAction) {
  return (before: Dispute) => {
    const id = before.id;
    const raiser = before.raisedBy.organisationId ?? before.raisedBy.actor;
    if (action === 'withdraw' && raiser !== p.organisationId)
      throw new Problem(
        'DISPUTE-NOT-RAISER',
        `Dispute ${id} was raised by ${before.raisedBy.organisationId ?? 'a household'}; only it withdraws the dispute.`,
      );
    if (!mayTransition(before.status, action))
      throw new Problem(
        'DISPUTE-TRANSITION-ILLEGAL',
        `Dispute ${id} is ${before.status}: it cannot be ${action === 'comment' ? 'commented on' : action === 'review' ? 'taken under review' : action === 'resolve' ? 'resolved' : 'withdrawn'}.`,
        { status: before.status },
      );
  };
}

/** Lock a dispute the caller reaches for this action; refuse an illegal transition. */
async function lockFor(tx: Sql, p: Principal, id: string, permission: Action, action: DisputeAction): Promise<Dispute> {
  const before = await lockDispute(p, id, permission)(tx);
  if (!before) throw notFound(id);
  refuseAction(p, action)(before);
  return before;
}

/** Parties comment and add evidence while the dispute is open or under review. */
export async function commentOnDispute(ctx: Ctx, actor: Principal, id: string, raw: unknown): Promise<DisputeComment> {
  const input = parse(CommentInput, raw, 'comment');
  const now = ctx.clock.now();
  const commentId = ctx.ids.next();
  return ctx.db.transaction(async (tx) => {
    const d = await lockFor(tx, actor, id, 'disputes.comment', 'comment');
    const held = await evidenceCount(tx, id);
    if (held + input.evidence.length > MAX_EVIDENCE_PER_DISPUTE)
      throw new Problem(
        'DISPUTE-EVIDENCE-LIMIT',
        `Dispute ${id} holds ${held} evidence item(s); ${input.evidence.length} more would pass ${MAX_EVIDENCE_PER_DISPUTE}.`,
      );
    const [row] = await tx.query<CommentRow>(
      `INSERT INTO dispute_comment (id, dispute_id, organisation_id, consumer, author, body, evidence, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::timestamptz)
       RETURNING id, organisation_id, author, body, evidence, created_at`,
      [
        commentId,
        id,
        actor.consumer ? null : actor.organisationId,
        actor.consumer ? actor.subject : null,
        recordedBy(actor),
        input.body,
        input.evidence,
        now.toISOString(),
      ],
    );
    await announce(tx, ctx, actor, now, d, 'comment-added', {
      commentId,
      by: actor.consumer ? null : actor.organisationId,
      evidence: input.evidence.length,
    });
    return toComment(row);
  });
}

/** A step that changes the dispute's status: one versioned change (src/kernel/versioned.ts), announced to every party. */
async function changeStatus(
  tx: Sql,
  ctx: Ctx,
  actor: Principal,
  now: Date,
  id: string,
  o: {
    permission: Action;
    action: DisputeAction;
    ifMatch?: number;
    status: DisputeStatus;
    verb: Verb;
    /** Work done after the checks, before the write (a resolution's correction), and what it adds to the row and the notice. */
    more?: (before: Dispute) => Promise<{ outcome?: string; note?: string | null; correction?: unknown; extra?: Record<string, unknown> }>;
  },
): Promise<Dispute> {
  const at = now.toISOString();
  const closed = o.status === 'RESOLVED' || o.status === 'WITHDRAWN';
  let extra: Record<string, unknown> = {};
  const { after } = await changeVersioned(tx, ctx, actor, now, {
    table: 'dispute',
    alias: 'd',
    key: { id },
    label: `Dispute ${id}`,
    returning: DISPUTE_COLS,
    toRecord: toDispute,
    lock: lockDispute(actor, id, o.permission),
    notFound: () => notFound(id),
    guard: refuseAction(actor, o.action),
    ifMatch: o.ifMatch,
    history: 'dispute',
    set: async (before) => {
      const m = o.more ? await o.more(before) : {};
      extra = m.extra ?? {};
      return {
        sql: `status = $1, outcome = $2, resolution_note = $3, correction = $4::jsonb, closed_at = $5::timestamptz`,
        params: [o.status, m.outcome ?? null, m.note ?? null, m.correction ?? null, closed ? at : null],
      };
    },
    audit: (_, after) => [notice(after, o.verb, extra).audit],
    events: (_, after) => [notice(after, o.verb, extra).event],
  });
  return after;
}

/** The operator takes an open dispute under review. */
export async function reviewDispute(ctx: Ctx, actor: Principal, id: string, opts: { ifMatch?: number } = {}): Promise<Dispute> {
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    return changeStatus(tx, ctx, actor, now, id, {
      permission: 'disputes.resolve',
      action: 'review',
      ifMatch: opts.ifMatch,
      status: 'UNDER_REVIEW',
      verb: 'under-review',
    });
  });
}

/** The raiser withdraws its dispute before resolution. */
export async function withdrawDispute(
  ctx: Ctx,
  actor: Principal,
  id: string,
  raw: unknown = {},
  opts: { ifMatch?: number } = {},
): Promise<Dispute> {
  const input = parse(WithdrawInput, raw ?? {}, 'withdrawal');
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    return changeStatus(tx, ctx, actor, now, id, {
      permission: 'disputes.withdraw',
      action: 'withdraw',
      ifMatch: opts.ifMatch,
      status: 'WITHDRAWN',
      verb: 'withdrawn',
      more: async () => ({ note: input.reason ?? null, extra: { reason: input.reason ?? null } }),
    });
  });
}

/** A correction's refusal keeps its own rule codes; its fields are named where the client sent them. */
function inCorrection(e: unknown): unknown {
  if (!(e instanceof Problem)) return e;
  const errors = e.errors.map((x) => ({ ...x, field: x.field === '(body)' ? 'correction.changes' : `correction.changes.${x.field}` }));
  return new Problem(e.code, e.message, { ...e.extra, correctionRefused: true }, errors, e.status);
}

/**
 * The operator resolves a dispute under review. CORRECTED applies the correction through the
 * record's own update (its rules, its If-Match: `correction.version`) in the same transaction as
 * the resolution: a refused correction leaves the record and the dispute as they were.
 */
export async function resolveDispute(
  ctx: Ctx,
  actor: Principal,
  id: string,
  raw: unknown,
  opts: { ifMatch?: number } = {},
): Promise<Dispute> {
  const input = parse(ResolveInput, raw, 'resolution');
  const errors = checkResolution(input);
  if (errors.length) throw refuse(errors);
  const now = ctx.clock.now();
  let record: (typeof DISPUTABLE)[keyof typeof DISPUTABLE] | undefined;
  const out = await ctx.db.transaction(async (tx) => {
    return changeStatus(tx, ctx, actor, now, id, {
      permission: 'disputes.resolve',
      action: 'resolve',
      ifMatch: opts.ifMatch,
      status: 'RESOLVED',
      verb: 'resolved',
      more: async (before) => {
        let correction: { expectedVersion: number; changes: Record<string, unknown>; resultingVersion: number } | undefined;
        if (input.outcome === 'CORRECTED') {
          const c = input.correction!;
          record = DISPUTABLE[before.recordType];
          let resultingVersion: number;
          try {
            resultingVersion = await record.correct(tx, ctx, actor, before.recordId, c.changes, c.version, id);
          } catch (e) {
            throw inCorrection(e);
          }
          correction = { expectedVersion: c.version, changes: c.changes, resultingVersion };
        }
        return {
          outcome: input.outcome,
          note: input.note ?? null,
          correction,
          extra: correction ? { correctedVersion: correction.resultingVersion } : {},
        };
      },
    });
  });
  record?.afterCommit?.();
  return out;
}
