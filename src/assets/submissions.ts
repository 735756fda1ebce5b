import { z } from '@hono/zod-openapi';
import { reach } from '../access/permissions';
import { recordedBy, type Principal } from '../access/principal';
import { writeAudit } from '../audit/audit';
import { parseWithCodes } from '../catalogue/schema';
import { catalogueSnapshot } from '../catalogue/snapshot';
import type { Ctx } from '../context';
import { writeEvents } from '../events/outbox';
import { Problem, fieldError } from '../http/problem';
import { fieldErrorsFromZod, unstorableTextAt } from '../http/validation';
import { ULID_RE } from '../ids';
import type { Sql } from '../storage/db';
import { checkAsset } from './rules';
import { Asset, AssetInput } from './schema';
import { registerAsset } from './service';

/**
 * Submission by an installer or OEM at the point of installation (UC-02.01 step 1): the asset as
 * submitted waits, PENDING, for the FSP it names. The FSP accepts it (the asset is then registered
 * as if the FSP had sent it, with the consumer's consent the FSP holds) or rejects it with a reason;
 * both parties are told each step. Delegation (src/identity) stays the way to act for an FSP.
 */

export const SUBMISSION_STATUSES = ['PENDING', 'ACCEPTED', 'REJECTED'] as const;

/** The asset as an installer describes it: no parties (the FSP is named beside it), no consent or justification (the FSP's, at acceptance). */
const SubmittedAsset = AssetInput.omit({ organisationId: true, fspId: true, consentReference: true, justification: true });

export const SubmissionInput = z
  .object({
    fspId: z.string().min(1).max(64).openapi({ description: 'The FSP (or aggregator) that is to control the asset and must accept it.' }),
    asset: SubmittedAsset,
  })
  .strict()
  .openapi('AssetSubmissionInput');

export const AcceptInput = z
  .object({
    consentReference: AssetInput.shape.consentReference,
    justification: AssetInput.shape.justification,
    reason: z.string().min(1).max(500).optional(),
  })
  .strict()
  .openapi('AssetSubmissionAccept');

export const RejectInput = z
  .object({ reason: z.string().min(3).max(500).openapi({ description: 'Why the FSP rejects it; the submitter is told.' }) })
  .strict()
  .openapi('AssetSubmissionReject');

export const Submission = z
  .object({
    id: z.string(),
    submitterId: z.string(),
    fspId: z.string(),
    status: z.enum(SUBMISSION_STATUSES),
    asset: z
      .record(z.string(), z.unknown())
      .openapi({ description: 'The asset as submitted (AssetInput without parties, consent or justification).' }),
    assetId: z.string().nullable().openapi({ description: 'The registered asset, once ACCEPTED.' }),
    reason: z.string().nullable(),
    submittedAt: z.string(),
    submittedBy: z.string(),
    decidedAt: z.string().nullable(),
    decidedBy: z.string().nullable(),
  })
  .openapi('AssetSubmission');
export type Submission = z.infer<typeof Submission>;

interface SubmissionRow {
  id: string;
  submitter_id: string;
  fsp_id: string;
  status: Submission['status'];
  input: Record<string, unknown>;
  asset_id: string | null;
  reason: string | null;
  submitted_at: string | Date;
  submitted_by: string;
  decided_at: string | Date | null;
  decided_by: string | null;
}

const iso = (v: string | Date | null) => (v ? new Date(v).toISOString() : null);
function toSubmission(r: SubmissionRow): Submission {
  return {
    id: r.id,
    submitterId: r.submitter_id,
    fspId: r.fsp_id,
    status: r.status,
    asset: r.input,
    assetId: r.asset_id,
    reason: r.reason,
    submittedAt: iso(r.submitted_at)!,
    submittedBy: r.submitted_by,
    decidedAt: iso(r.decided_at),
    decidedBy: r.decided_by,
  };
}

/** Which submissions the caller reaches: the operator and regulator all; others those they submitted or that name them. */
function visible(p: Principal, params: unknown[]): string {
  if (reach('asset-submissions.read', p.roles).all) return 'TRUE';
  params.push(p.organisationId);
  return `(submitter_id = $${params.length} OR fsp_id = $${params.length})`;
}

/** Both parties hear of every step, as one event each. */
async function announce(tx: Sql, ctx: Ctx, now: Date, s: Submission, type: 'submitted' | 'accepted' | 'rejected') {
  const data = { submissionId: s.id, submitterId: s.submitterId, fspId: s.fspId, status: s.status, assetId: s.assetId, reason: s.reason };
  await writeEvents(
    tx,
    ctx.ids,
    now,
    [s.submitterId, s.fspId].map((org) => ({ type: `fmar.asset-submission.${type}`, subject: s.id, organisationId: org, data })),
  );
}

/** An installer or OEM submits an asset for an FSP: every field checked now, the parties' checks (duplicates, aliases) at acceptance. */
export async function submitAsset(ctx: Ctx, p: Principal, raw: unknown): Promise<Submission> {
  const unstorable = unstorableTextAt(raw);
  if (unstorable !== undefined) throw new Problem('REQUEST-TEXT-INVALID', undefined, {}, [fieldError(unstorable, 'REQUEST-TEXT-INVALID')]);
  const codes = await catalogueSnapshot(ctx.db, ctx.clock);
  const parsed = parseWithCodes(codes, () => SubmissionInput.safeParse(raw));
  if (!parsed.success) throw new Problem('REQUEST-VALIDATION', 'The submission is invalid.', {}, fieldErrorsFromZod(parsed.error, raw));
  const now = ctx.clock.now();
  const checked = checkAsset(parsed.data.asset, now.toISOString().slice(0, 10), codes);
  if (checked.errors.length)
    throw new Problem(
      'REQUEST-VALIDATION',
      'The submitted asset breaks a rule.',
      {},
      checked.errors.map((e) => ({ ...e, field: `asset.${e.field}` })),
    );
  return ctx.db.transaction(async (tx) => {
    const [fsp] = await tx.query(
      `SELECT 1 FROM organisation WHERE id = $1 AND status = 'ACTIVE' AND roles && ARRAY['FSP', 'AGGREGATOR']::text[]`,
      [parsed.data.fspId],
    );
    if (!fsp)
      throw new Problem(
        'SUBMISSION-FSP-INVALID',
        `${parsed.data.fspId} is not an active FSP or aggregator; name the FSP that will control the asset.`,
        {},
        [fieldError('fspId', 'SUBMISSION-FSP-INVALID')],
      );
    const id = ctx.ids.next();
    const [row] = await tx.query<SubmissionRow>(
      `INSERT INTO asset_submission (id, submitter_id, fsp_id, status, input, submitted_at, submitted_by)
      VALUES ($1, $2, $3, 'PENDING', $4::jsonb, $5::timestamptz, $6) RETURNING *`,
      [id, p.organisationId, parsed.data.fspId, parsed.data.asset, now.toISOString(), recordedBy(p)],
    );
    const s = toSubmission(row);
    await writeAudit(tx, p, now, [
      {
        action: 'asset-submission.submitted',
        recordType: 'asset_submission',
        recordId: id,
        organisationId: p.organisationId,
        detail: { fspId: s.fspId },
      },
    ]);
    await announce(tx, ctx, now, s, 'submitted');
    return s;
  });
}

async function submissionRow(sql: Sql, p: Principal, id: string, lock = false): Promise<SubmissionRow> {
  const params: unknown[] = [id];
  const [r] = ULID_RE.test(id)
    ? await sql.query<SubmissionRow>(
        `SELECT * FROM asset_submission WHERE id = $1 AND ${visible(p, params)}${lock ? ' FOR UPDATE' : ''}`,
        params,
      )
    : [];
  if (!r) throw new Problem('SUBMISSION-NOT-FOUND', `No asset submission ${id}.`);
  return r;
}

export async function getSubmission(ctx: Ctx, p: Principal, id: string): Promise<Submission> {
  return toSubmission(await submissionRow(ctx.db, p, id));
}

export async function listSubmissions(ctx: Ctx, p: Principal, q: { status?: Submission['status'] }): Promise<Submission[]> {
  const params: unknown[] = [];
  let where = visible(p, params);
  if (q.status) {
    params.push(q.status);
    where += ` AND status = $${params.length}`;
  }
  return (await ctx.db.query<SubmissionRow>(`SELECT * FROM asset_submission WHERE ${where} ORDER BY id DESC LIMIT 1000`, params)).map(
    toSubmission,
  );
}

/** Lock a PENDING submission the caller decides: only the FSP it names (SUBMISSION-NOT-PARTY otherwise). */
async function pendingForFsp(tx: Sql, p: Principal, id: string): Promise<SubmissionRow> {
  const r = await submissionRow(tx, p, id, true);
  if (r.fsp_id !== p.organisationId)
    throw new Problem('SUBMISSION-NOT-PARTY', `Submission ${id} names FSP ${r.fsp_id}; only it accepts or rejects.`);
  if (r.status !== 'PENDING') throw new Problem('SUBMISSION-STATE', `Submission ${id} is ${r.status}.`);
  return r;
}

/**
 * The FSP accepts: in one transaction the asset is registered as the FSP's own (every registration
 * check, its consent verified) and the submission is ACCEPTED. A refused registration leaves the
 * submission PENDING and nothing written.
 */
export async function acceptSubmission(
  ctx: Ctx,
  p: Principal,
  id: string,
  raw: unknown,
): Promise<{ submission: Submission; asset: Asset }> {
  const parsed = AcceptInput.safeParse(raw ?? {});
  if (!parsed.success) throw new Problem('REQUEST-VALIDATION', 'The acceptance is invalid.', {}, fieldErrorsFromZod(parsed.error, raw));
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const r = await pendingForFsp(tx, p, id);
    const { reason, ...extra } = parsed.data;
    const { asset } = await registerAsset(ctx, p, { ...r.input, ...extra }, { tx, source: `submission ${id}` });
    const [row] = await tx.query<SubmissionRow>(
      `UPDATE asset_submission SET status = 'ACCEPTED', asset_id = $2, reason = $3, decided_at = $4::timestamptz, decided_by = $5 WHERE id = $1 RETURNING *`,
      [id, asset.id, reason ?? null, now.toISOString(), recordedBy(p)],
    );
    const s = toSubmission(row);
    await writeAudit(tx, p, now, [
      {
        action: 'asset-submission.accepted',
        recordType: 'asset_submission',
        recordId: id,
        organisationId: p.organisationId,
        detail: { assetId: asset.id, submitterId: s.submitterId },
      },
    ]);
    await announce(tx, ctx, now, s, 'accepted');
    return { submission: s, asset };
  });
}

/** The FSP rejects, with its reason; nothing is registered. */
export async function rejectSubmission(ctx: Ctx, p: Principal, id: string, raw: unknown): Promise<Submission> {
  const parsed = RejectInput.safeParse(raw ?? {});
  if (!parsed.success) throw new Problem('REQUEST-VALIDATION', 'A rejection needs its reason.', {}, fieldErrorsFromZod(parsed.error, raw));
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    await pendingForFsp(tx, p, id);
    const [row] = await tx.query<SubmissionRow>(
      `UPDATE asset_submission SET status = 'REJECTED', reason = $2, decided_at = $3::timestamptz, decided_by = $4 WHERE id = $1 RETURNING *`,
      [id, parsed.data.reason, now.toISOString(), recordedBy(p)],
    );
    const s = toSubmission(row);
    await writeAudit(tx, p, now, [
      {
        action: 'asset-submission.rejected',
        recordType: 'asset_submission',
        recordId: id,
        organisationId: p.organisationId,
        detail: { reason: s.reason, submitterId: s.submitterId },
      },
    ]);
    await announce(tx, ctx, now, s, 'rejected');
    return s;
  });
}

/** A submission awaiting the named FSP's decision (src/notices/). */
export interface SubmissionAwaitingFacts {
  id: string;
  submitter_id: string;
  submitted_at: Date;
}

/** The PENDING submissions naming this FSP, oldest first (at most `limit`). */
export async function submissionsAwaitingDecision(db: Sql, fspId: string, limit: number): Promise<SubmissionAwaitingFacts[]> {
  return db.query<SubmissionAwaitingFacts>(
    `SELECT id, submitter_id, submitted_at FROM asset_submission WHERE fsp_id = $1 AND status = 'PENDING' ORDER BY submitted_at, id LIMIT $2`,
    [fspId, limit],
  );
}
