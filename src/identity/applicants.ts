import { z } from '@hono/zod-openapi';
import { hashPassword, passwordProblem, randomSecret, sha256 } from '../../identity/index';
import type { Principal } from '../access/principal';
import { writeAudit } from '../audit/audit';
import { EMAIL_RE } from '../catalogue/identifiers';
import type { Ctx } from '../context';
import { Problem, fieldError, validationProblem } from '../http/problem';
import { changeVersioned, type ChangeCtx } from '../kernel/versioned';
import { pgErrorCode, type Sql } from '../storage/db';

/**
 * Applicants (UC-01.01 before UC-01.02, self-service): a person who registers before their
 * organisation exists. They submit the organisation (src/onboarding/), and on the operator's
 * approval become its first ADMIN, an app_user with the password they chose; a rejection keeps
 * the operator's reason for them to read. They reach their application with a token shown once.
 */
export const APPLICANT_STATUSES = ['REGISTERED', 'SUBMITTED', 'APPROVED', 'REJECTED'] as const;
/** How the applicant's token is presented: `Authorization: Bearer fmar-applicant-…` on /onboarding routes. */
export const APPLICANT_TOKEN_PREFIX = 'fmar-applicant-';

export const ApplicantInput = z
  .object({
    email: z.string().max(254).regex(EMAIL_RE, 'ORG-EMAIL-FORMAT'),
    name: z.string().min(1).max(200),
    password: z.string().min(1).max(256).openapi({ description: 'The password the person signs in with once approved.' }),
  })
  .strict()
  .openapi('ApplicantInput');

export const COMPANY_CHECK_RESULTS = ['FOUND', 'NOT_FOUND', 'UNAVAILABLE', 'NOT_CONFIGURED'] as const;
const CompanyCheck = z
  .object({
    result: z.enum(COMPANY_CHECK_RESULTS),
    number: z.string(),
    name: z.string().nullable(),
    status: z.string().nullable(),
  })
  .openapi('CompanyCheck');
export type CompanyCheck = z.infer<typeof CompanyCheck>;

export const Applicant = z
  .object({
    id: z.string(),
    email: z.string(),
    name: z.string(),
    status: z.enum(APPLICANT_STATUSES),
    organisationId: z.string().nullable().openapi({ description: 'The organisation submitted, once SUBMITTED.' }),
    decisionReason: z.string().nullable().openapi({ description: 'The operator’s reason, when REJECTED.' }),
    decidedAt: z.string().nullable(),
    companyCheck: CompanyCheck.nullable().openapi({
      description: 'What the companies register said at submission (LTD, PLC, LLP), for the operator.',
    }),
    userId: z.string().nullable().openapi({ description: 'The person (ADMIN of the organisation) made on approval.' }),
    version: z.number().int(),
    recordedAt: z.string(),
  })
  .openapi('Applicant');
export type Applicant = z.infer<typeof Applicant>;

/** A row of applicant (033_applicants.sql), without the hashes. */
interface ApplicantRow {
  id: string;
  email: string;
  name: string;
  status: Applicant['status'];
  organisation_id: string | null;
  decision_reason: string | null;
  decided_at: Date | null;
  company_check: CompanyCheck | null;
  user_id: string | null;
  version: number;
  recorded_at: Date;
}
const COLS = `id, email, name, status, organisation_id, decision_reason, decided_at, company_check, user_id, version, recorded_at`;
const iso = (v: Date | null) => (v ? new Date(v).toISOString() : null);

function toApplicant(r: ApplicantRow): Applicant {
  return {
    id: r.id,
    email: r.email,
    name: r.name,
    status: r.status,
    organisationId: r.organisation_id,
    decisionReason: r.decision_reason,
    decidedAt: iso(r.decided_at),
    companyCheck: r.company_check ?? null,
    userId: r.user_id,
    version: Number(r.version),
    recordedAt: iso(r.recorded_at)!,
  };
}

/** The applicant acting for themselves: their ID is the change's recorded_by and its audit actor. */
export function applicantPrincipal(a: Pick<Applicant, 'id' | 'organisationId'>): Principal {
  return { subject: `applicant:${a.id}`, organisationId: a.organisationId ?? '', roles: [], scopes: [], dnoCodes: [] };
}

/** UC-01.01, self-service: register as an applicant; the token to the application is returned once. */
export async function registerApplicant(ctx: Ctx, input: z.infer<typeof ApplicantInput>): Promise<{ applicant: Applicant; token: string }> {
  const weak = passwordProblem(input.password);
  if (weak) throw validationProblem([fieldError('password', 'USER-PASSWORD-WEAK', weak)]);
  const now = ctx.clock.now();
  const id = ctx.ids.next();
  const token = `${APPLICANT_TOKEN_PREFIX}${randomSecret()}`;
  const passwordHash = await hashPassword(input.password);
  const tokenHash = await sha256(token);
  try {
    const applicant = await ctx.db.transaction(async (tx) => {
      const [person] = await tx.query(`SELECT 1 FROM app_user WHERE lower(email) = lower($1)`, [input.email]);
      if (person) throw new Problem('USER-EMAIL-TAKEN', `${input.email} is already registered.`);
      const [row] = await tx.query<ApplicantRow>(
        `INSERT INTO applicant (id, email, name, password_hash, token_hash, status, recorded_at, recorded_by)
         VALUES ($1, $2, $3, $4, $5, 'REGISTERED', $6::timestamptz, $7) RETURNING ${COLS}`,
        [id, input.email, input.name, passwordHash, tokenHash, now.toISOString(), `applicant:${id}`],
      );
      await writeAudit(tx, applicantPrincipal({ id, organisationId: null }), now, [
        { action: 'applicant.registered', recordType: 'applicant', recordId: id, detail: { email: input.email } },
      ]);
      return toApplicant(row);
    });
    return { applicant, token };
  } catch (e) {
    if (pgErrorCode(e) === '23505') throw new Problem('USER-EMAIL-TAKEN', `${input.email} is already registered.`);
    throw e;
  }
}

/** The applicant a token names (absent or unknown: APPLICANT-TOKEN-INVALID). */
export async function applicantByToken(db: Sql, token: string | undefined, lock = false): Promise<Applicant> {
  if (!token?.startsWith(APPLICANT_TOKEN_PREFIX)) throw new Problem('APPLICANT-TOKEN-INVALID');
  const [row] = await db.query<ApplicantRow>(`SELECT ${COLS} FROM applicant WHERE token_hash = $1${lock ? ' FOR UPDATE' : ''}`, [
    await sha256(token),
  ]);
  if (!row) throw new Problem('APPLICANT-TOKEN-INVALID');
  return toApplicant(row);
}

/** The applicant's record for a versioned change (src/kernel/versioned.ts). */
function applicantRecord(tx: Sql, where: string, param: string) {
  return {
    table: 'applicant',
    label: 'The application',
    returning: COLS,
    toRecord: (r: ApplicantRow) => toApplicant(r),
    lock: async () => {
      const [row] = await tx.query<ApplicantRow>(`SELECT ${COLS} FROM applicant WHERE ${where} FOR UPDATE`, [param]);
      return row ? toApplicant(row) : undefined;
    },
    history: 'applicant',
  };
}

/** In the submission's transaction: the applicant (REGISTERED) now stands behind this organisation. */
export async function markApplicantSubmitted(
  tx: Sql,
  ctx: ChangeCtx,
  applicant: Applicant,
  organisationId: string,
  companyCheck: CompanyCheck | null,
  now: Date,
) {
  const { after } = await changeVersioned(tx, ctx, applicantPrincipal({ ...applicant, organisationId }), now, {
    ...applicantRecord(tx, 'id = $1', applicant.id),
    key: { id: applicant.id },
    notFound: () => new Problem('APPLICANT-TOKEN-INVALID'),
    guard: (before) => {
      if (before.status !== 'REGISTERED') throw new Problem('APPLICANT-ALREADY-SUBMITTED', `The application is ${before.status}.`);
    },
    set: () => ({ sql: `status = 'SUBMITTED', organisation_id = $1, company_check = $2::jsonb`, params: [organisationId, companyCheck] }),
    audit: () => [
      {
        action: 'applicant.submitted',
        recordType: 'applicant',
        recordId: applicant.id,
        organisationId,
        detail: { organisationId, companyCheck },
      },
    ],
    events: () => [],
  });
  return after;
}

/**
 * In the approval's transaction: the organisation's SUBMITTED applicant, if it has one, becomes its
 * first ADMIN (an ACTIVE person with the password they chose) and the application APPROVED.
 * Returns the applicant's and the person's IDs, or undefined when no applicant stands behind the organisation.
 */
export async function admitApplicant(tx: Sql, ctx: ChangeCtx, actor: Principal, organisationId: string, now: Date) {
  const [pending] = await tx.query<{ id: string; email: string; name: string; password_hash: string }>(
    `SELECT id, email, name, password_hash FROM applicant WHERE organisation_id = $1 AND status = 'SUBMITTED' FOR UPDATE`,
    [organisationId],
  );
  if (!pending) return undefined;
  const userId = ctx.ids.next();
  try {
    await tx.query(
      `INSERT INTO app_user (id, organisation_id, email, name, user_role, status, password_hash, recorded_at, recorded_by)
       VALUES ($1, $2, $3, $4, 'ADMIN', 'ACTIVE', $5, $6::timestamptz, $7)`,
      [userId, organisationId, pending.email, pending.name, pending.password_hash, now.toISOString(), `applicant:${pending.id}`],
    );
  } catch (e) {
    // A person with this email was invited elsewhere meanwhile: the operator must settle it first.
    if (pgErrorCode(e) === '23505') throw new Problem('USER-EMAIL-TAKEN', `${pending.email} is already registered.`);
    throw e;
  }
  await changeVersioned(tx, ctx, actor, now, {
    ...applicantRecord(tx, 'id = $1', pending.id),
    key: { id: pending.id },
    notFound: () => new Problem('ORG-NOT-FOUND'),
    set: () => ({ sql: `status = 'APPROVED', user_id = $1, decided_at = $2::timestamptz`, params: [userId, now.toISOString()] }),
    audit: () => [
      { action: 'applicant.approved', recordType: 'applicant', recordId: pending.id, organisationId },
      {
        action: 'user.registered',
        recordType: 'user',
        recordId: userId,
        organisationId,
        detail: { email: pending.email, userRole: 'ADMIN', applicantId: pending.id },
      },
    ],
    events: () => [
      {
        type: 'fmar.user.registered',
        subject: userId,
        organisationId,
        data: { userId, organisationId, userRole: 'ADMIN', applicantId: pending.id },
      },
    ],
  });
  return { applicantId: pending.id, userId };
}

/** In the rejection's transaction: the organisation's SUBMITTED applicant is REJECTED with the operator's reason. */
export async function refuseApplicant(tx: Sql, ctx: ChangeCtx, actor: Principal, organisationId: string, reason: string, now: Date) {
  const [pending] = await tx.query<{ id: string }>(`SELECT id FROM applicant WHERE organisation_id = $1 AND status = 'SUBMITTED'`, [
    organisationId,
  ]);
  if (!pending) return undefined;
  await changeVersioned(tx, ctx, actor, now, {
    ...applicantRecord(tx, 'id = $1', pending.id),
    key: { id: pending.id },
    notFound: () => new Problem('ORG-NOT-FOUND'),
    set: () => ({
      sql: `status = 'REJECTED', decision_reason = $1, decided_at = $2::timestamptz`,
      params: [reason, now.toISOString()],
    }),
    audit: () => [{ action: 'applicant.rejected', recordType: 'applicant', recordId: pending.id, organisationId, detail: { reason } }],
    events: () => [],
  });
  return pending.id;
}
