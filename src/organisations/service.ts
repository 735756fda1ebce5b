import type { Principal } from '../access/principal';
import { recordedBy, seesAll } from '../access/principal';
import { roleMay } from '../access/permissions';
import { writeAudit } from '../audit/audit';
import type { Ctx } from '../context';
import { writeEvents } from '../events/outbox';
import { revocations } from '../identity/revocations';
import { closeOrganisationCredentials } from '../identity/users';
import { Problem } from '../http/problem';
import { changeVersioned } from '../kernel/versioned';
import { constraintName, pgErrorCode, type Sql } from '../storage/db';
import { OrganisationInput, OrganisationPatch, type Organisation } from './schema';
import { z } from '@hono/zod-openapi';
import { organisationCrossChecks } from './schema';
import { fieldErrorsFromZod } from '../http/validation';
import { catalogueSnapshot } from '../catalogue/snapshot';
import { organisationCodeErrors } from '../catalogue/validate';

const COLS = `id, legal_name, trading_name, organisation_type, organisation_type_description, registration_number,
  to_jsonb(roles) AS roles, identifiers, passport, to_jsonb(dno_codes) AS dno_codes, status, version, recorded_at, recorded_by, deregistered_at`;

/** A row as COLS selects it (organisation, 001_core.sql); an organisation without a passport stores {}. */
export interface OrganisationRow {
  id: string;
  legal_name: string;
  trading_name: string | null;
  organisation_type: string;
  organisation_type_description: string | null;
  registration_number: string;
  roles: Organisation['roles'];
  identifiers: Organisation['identifiers'];
  passport: NonNullable<Organisation['passport']> | null;
  dno_codes: string[];
  status: Organisation['status'];
  version: number;
  recorded_at: Date;
  recorded_by: string;
  deregistered_at: Date | null;
}

export function toOrganisation(r: OrganisationRow, viewer?: Principal): Organisation {
  const private_ = !viewer || seesAll(viewer) || viewer.organisationId === r.id;
  return {
    id: r.id,
    legalName: r.legal_name,
    tradingName: r.trading_name,
    organisationType: r.organisation_type,
    organisationTypeDescription: r.organisation_type_description,
    registrationNumber: r.registration_number,
    roles: r.roles,
    identifiers: r.identifiers,
    passport: private_ && Object.keys(r.passport ?? {}).length ? r.passport : null,
    dnoCodes: r.dno_codes,
    status: r.status,
    version: Number(r.version),
    recordedAt: new Date(r.recorded_at).toISOString(),
    recordedBy: r.recorded_by,
    deregisteredAt: r.deregistered_at ? new Date(r.deregistered_at).toISOString() : null,
  };
}

export async function getOrganisationRow(db: Sql, id: string, forUpdate = false): Promise<OrganisationRow | undefined> {
  const [row] = await db.query<OrganisationRow>(`SELECT ${COLS} FROM organisation WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [id]);
  return row;
}

export async function getOrganisation(ctx: Ctx, viewer: Principal, id: string): Promise<Organisation> {
  const row = await getOrganisationRow(ctx.db, id);
  if (!row) throw new Problem('ORG-NOT-FOUND', `No organisation ${id}.`);
  return toOrganisation(row, viewer);
}

export async function listOrganisations(ctx: Ctx, viewer: Principal, q: { limit: number; after?: string; role?: string; status?: string }) {
  const params: unknown[] = [q.after ?? '', q.limit + 1];
  let where = 'id > $1';
  if (q.role) {
    params.push(q.role);
    where += ` AND $${params.length} = ANY(roles)`;
  }
  if (q.status) {
    params.push(q.status);
    where += ` AND status = $${params.length}`;
  }
  const rows = await ctx.db.query<OrganisationRow>(`SELECT ${COLS} FROM organisation WHERE ${where} ORDER BY id LIMIT $2`, params);
  const more = rows.length > q.limit;
  const items = rows.slice(0, q.limit).map((r) => toOrganisation(r, viewer));
  return { items, next: more ? items[items.length - 1].id : undefined };
}

function duplicateProblem(existing: Pick<OrganisationRow, 'id' | 'legal_name' | 'registration_number'>): Problem {
  return new Problem(
    'ORG-DUPLICATE',
    `Registration number ${existing.registration_number} is already registered to ${existing.legal_name} (${existing.id}).`,
    {
      existing: { id: existing.id, legalName: existing.legal_name },
    },
  );
}

async function findByRegistrationNumber(db: Sql, regNo: string, exceptId?: string) {
  const [row] = await db.query<Pick<OrganisationRow, 'id' | 'legal_name' | 'registration_number'>>(
    `SELECT id, legal_name, registration_number FROM organisation WHERE upper(registration_number) = upper($1) AND id <> $2`,
    [regNo, exceptId ?? ''],
  );
  return row;
}

/** UC-01.02: register an organisation; a duplicate registration number names the existing one. */
export async function registerOrganisation(
  ctx: Ctx,
  actor: Principal,
  input: OrganisationInput,
  opts: { id?: string; tx?: Sql } = {},
): Promise<Organisation> {
  const now = ctx.clock.now();
  const id = opts.id ?? ctx.ids.next();
  // Type, identifier schemes and DNO codes must be codes in effect today (src/catalogue/validate.ts).
  const codeErrors = organisationCodeErrors(await catalogueSnapshot(ctx.db, ctx.clock, opts.tx), input, now.toISOString().slice(0, 10));
  if (codeErrors.length) throw new Problem('REQUEST-VALIDATION', `${codeErrors.length} field(s) invalid`, {}, codeErrors);
  const inTransaction = <T>(f: (tx: Sql) => Promise<T>) => (opts.tx ? f(opts.tx) : ctx.db.transaction(f));
  try {
    return await inTransaction(async (tx) => {
      const existing = await findByRegistrationNumber(tx, input.registrationNumber);
      if (existing) throw duplicateProblem(existing);
      const [row] = await tx.query<OrganisationRow>(
        `INSERT INTO organisation (id, legal_name, trading_name, organisation_type, organisation_type_description, registration_number, roles, identifiers, passport, dno_codes, status, recorded_at, recorded_by)
         VALUES ($1, $2, $3, $4, $5, $6, ARRAY(SELECT jsonb_array_elements_text($7::jsonb)), $8::jsonb, $9::jsonb, ARRAY(SELECT jsonb_array_elements_text($10::jsonb)), $11, $12::timestamptz, $13)
         RETURNING ${COLS}`,
        [
          id,
          input.legalName,
          input.tradingName ?? null,
          input.organisationType,
          input.organisationTypeDescription ?? null,
          input.registrationNumber.toUpperCase(),
          input.roles,
          input.identifiers ?? [],
          input.passport ?? {},
          input.dnoCodes ?? [],
          input.status ?? 'PENDING_APPROVAL',
          now.toISOString(),
          recordedBy(actor),
        ],
      );
      const org = toOrganisation(row);
      await writeAudit(tx, actor, now, [
        {
          action: 'organisation.registered',
          recordType: 'organisation',
          recordId: id,
          organisationId: id,
          detail: { status: org.status, roles: org.roles },
        },
      ]);
      await writeEvents(tx, ctx.ids, now, [
        {
          type: 'fmar.organisation.registered',
          subject: id,
          organisationId: id,
          data: { organisationId: id, roles: org.roles, status: org.status },
        },
      ]);
      return org;
    });
  } catch (e) {
    // In a caller's transaction the failed statement ended it: the caller's rollback is the answer.
    if (!opts.tx && pgErrorCode(e) === '23505' && constraintName(e) === 'organisation_registration_number_key') {
      const existing = await findByRegistrationNumber(ctx.db, input.registrationNumber);
      if (existing) throw duplicateProblem(existing);
    }
    throw e;
  }
}

const OPERATOR_ONLY_FIELDS = ['roles', 'status', 'dnoCodes', 'registrationNumber', 'organisationType'] as const;

/** UC-01.03: update with optimistic concurrency; the prior version is kept (record_history). */
export async function updateOrganisation(
  ctx: Ctx,
  actor: Principal,
  id: string,
  patch: OrganisationPatch,
  ifMatch: number,
  opts: { tx?: Sql; disputeId?: string } = {},
): Promise<Organisation> {
  // Who may update any organisation (not who sees all: the regulator does, and may not change its own roles).
  if (!roleMay('organisations.update', actor.roles)) {
    if (actor.organisationId !== id) throw new Problem('ORG-NOT-FOUND', `No organisation ${id}.`);
    const forbidden = OPERATOR_ONLY_FIELDS.filter((f) => patch[f] !== undefined);
    if (forbidden.length) throw new Problem('AUTH-ROLE-FORBIDDEN', `Only the operator changes ${forbidden.join(', ')}.`);
  }
  const now = ctx.clock.now();
  const inTransaction = <T>(f: (tx: Sql) => Promise<T>) => (opts.tx ? f(opts.tx) : ctx.db.transaction(f));
  const out = await inTransaction(async (tx) => {
    let changed: string[] = [];
    const { after } = await changeVersioned(tx, ctx, actor, now, {
      ...organisationRecord(tx, id),
      ifMatch,
      set: async (before) => {
        // Withdrawing by PATCH is a de-registration: the same active-asset rule applies (UC-01.04).
        if (patch.status === 'WITHDRAWN') await assertNoActiveAssets(tx, id);
        const merged: Organisation = {
          ...before,
          ...(Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<Organisation>),
        };
        // Re-run the cross-field rules on the merged record.
        const check = z
          .object({})
          .passthrough()
          .superRefine((_v, c) => organisationCrossChecks(merged, c))
          .safeParse(merged);
        if (!check.success) {
          throw new Problem('REQUEST-VALIDATION', 'The updated organisation breaks a rule.', {}, fieldErrorsFromZod(check.error, merged));
        }
        // New or changed codes must be in effect today; codes the record already holds stay (src/catalogue/validate.ts).
        const codeErrors = organisationCodeErrors(
          await catalogueSnapshot(ctx.db, ctx.clock, tx),
          merged,
          now.toISOString().slice(0, 10),
          before,
        );
        if (codeErrors.length) throw new Problem('REQUEST-VALIDATION', 'The updated organisation breaks a rule.', {}, codeErrors);
        if (patch.registrationNumber) {
          const existing = await findByRegistrationNumber(tx, patch.registrationNumber, id);
          if (existing) throw duplicateProblem(existing);
        }
        return {
          sql: `legal_name = $1, trading_name = $2, organisation_type = $3, organisation_type_description = $4, registration_number = $5,
            roles = ARRAY(SELECT jsonb_array_elements_text($6::jsonb)), identifiers = $7::jsonb, passport = $8::jsonb, dno_codes = ARRAY(SELECT jsonb_array_elements_text($9::jsonb)),
            status = $10, deregistered_at = CASE WHEN $10 = 'WITHDRAWN' THEN $11::timestamptz END`,
          params: [
            merged.legalName,
            merged.tradingName,
            merged.organisationType,
            merged.organisationTypeDescription,
            String(merged.registrationNumber).toUpperCase(),
            merged.roles,
            merged.identifiers,
            merged.passport ?? {},
            merged.dnoCodes,
            merged.status,
            now.toISOString(),
          ],
        };
      },
      audit: (before, after) => {
        changed = Object.keys(patch).filter(
          (k) => JSON.stringify(before[k as keyof Organisation]) !== JSON.stringify(after[k as keyof Organisation]),
        );
        return [
          {
            action: 'organisation.updated',
            recordType: 'organisation',
            recordId: id,
            organisationId: id,
            detail: { version: after.version, changed, ...(opts.disputeId ? { disputeId: opts.disputeId } : {}) },
          },
        ];
      },
      events: (_, after) => [
        {
          type: 'fmar.organisation.updated',
          subject: id,
          organisationId: id,
          data: { organisationId: id, version: after.version, changed, status: after.status },
        },
      ],
    });
    return after;
  });
  // After the commit: this instance's token checks see the new status and roles at once (in a
  // caller's transaction, the caller emits after its commit).
  if (!opts.tx) revocations.emit();
  return out;
}

/** UC-01.03 inside the caller's transaction (a dispute's correction, src/disputes); the caller calls revocations.emit() after its commit. */
export function updateOrganisationIn(
  tx: Sql,
  ctx: Ctx,
  actor: Principal,
  id: string,
  patch: OrganisationPatch,
  ifMatch: number,
  opts: { disputeId?: string } = {},
) {
  return updateOrganisation(ctx, actor, id, patch, ifMatch, { ...opts, tx });
}

/** The organisation row for a versioned change (src/kernel/versioned.ts): locked, refused once withdrawn, prior versions in record_history. */
function organisationRecord(tx: Sql, id: string) {
  return {
    table: 'organisation',
    key: { id },
    label: `Organisation ${id}`,
    returning: COLS,
    toRecord: (r: OrganisationRow) => toOrganisation(r),
    lock: async () => {
      const row = await getOrganisationRow(tx, id, true);
      return row ? toOrganisation(row) : undefined;
    },
    notFound: () => new Problem('ORG-NOT-FOUND', `No organisation ${id}.`),
    guard: (before: Organisation) => {
      if (before.status === 'WITHDRAWN') throw new Problem('ORG-ALREADY-DEREGISTERED');
    },
    history: 'organisation',
  };
}

async function assertNoActiveAssets(tx: Sql, id: string) {
  const [{ n }] = await tx.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM (SELECT 1 FROM asset WHERE (fsp_id = $1 OR organisation_id = $1) AND deregistered_at IS NULL LIMIT 1000) s`,
    [id],
  );
  if (Number(n) > 0)
    throw new Problem(
      'ORG-HAS-ACTIVE-ASSETS',
      `Organisation ${id} still controls or owns ${n >= 1000 ? 'at least 1000' : n} active asset(s); switch or de-register them first.`,
      { activeAssets: Number(n) },
    );
}

/** UC-01.04: de-register (status Withdrawn), refused while the organisation controls or owns live assets. */
export async function deregisterOrganisation(ctx: Ctx, actor: Principal, id: string, reason?: string): Promise<Organisation> {
  const now = ctx.clock.now();
  const out = await ctx.db.transaction(async (tx) => {
    let closed = {};
    const { after } = await changeVersioned(tx, ctx, actor, now, {
      ...organisationRecord(tx, id),
      set: async () => {
        await assertNoActiveAssets(tx, id);
        // UC-01.04: its people are deactivated, its clients, grants and delegations revoked.
        closed = await closeOrganisationCredentials(tx, ctx, actor, id, now);
        return { sql: `status = 'WITHDRAWN', deregistered_at = $1::timestamptz`, params: [now.toISOString()] };
      },
      audit: () => [
        {
          action: 'organisation.deregistered',
          recordType: 'organisation',
          recordId: id,
          organisationId: id,
          detail: { reason: reason ?? null, ...closed },
        },
      ],
      events: () => [{ type: 'fmar.organisation.deregistered', subject: id, organisationId: id, data: { organisationId: id } }],
    });
    return after;
  });
  // After the commit: this instance's token checks see the new status and roles at once.
  revocations.emit();
  return out;
}

/**
 * The operator's decision on an organisation awaiting approval (UC-01.02), in the caller's
 * transaction: APPROVED makes it ACTIVE, REJECTED makes it WITHDRAWN (its registration number stays
 * on the register, so a new application names it as the existing organisation). Refused unless it
 * is PENDING_APPROVAL (`409 ORG-NOT-PENDING`). The caller calls revocations.emit() after its commit.
 */
export async function decideOrganisationIn(
  tx: Sql,
  ctx: Ctx,
  actor: Principal,
  id: string,
  decision: { approve: true; note?: string } | { approve: false; reason: string },
): Promise<Organisation> {
  const now = ctx.clock.now();
  const verb = decision.approve ? 'approved' : 'rejected';
  const reason = decision.approve ? (decision.note ?? null) : decision.reason;
  const { after } = await changeVersioned(tx, ctx, actor, now, {
    ...organisationRecord(tx, id),
    guard: (before: Organisation) => {
      if (before.status !== 'PENDING_APPROVAL') throw new Problem('ORG-NOT-PENDING', `Organisation ${id} is ${before.status}.`);
    },
    set: () =>
      decision.approve
        ? { sql: `status = 'ACTIVE'`, params: [] }
        : { sql: `status = 'WITHDRAWN', deregistered_at = $1::timestamptz`, params: [now.toISOString()] },
    audit: (_, a) => [
      {
        action: `organisation.${verb}`,
        recordType: 'organisation',
        recordId: id,
        organisationId: id,
        detail: { version: a.version, reason },
      },
    ],
    events: (_, a) => [
      {
        type: `fmar.organisation.${verb}`,
        subject: id,
        organisationId: id,
        data: { organisationId: id, version: a.version, status: a.status, reason },
      },
    ],
  });
  return after;
}

/** A registration awaiting the operator's approval (src/notices/). */
export interface PendingOrganisationFacts {
  id: string;
  legal_name: string;
  recorded_at: Date;
}

/** Organisations PENDING_APPROVAL, oldest first (at most `limit`). */
export async function organisationsAwaitingApproval(db: Sql, limit: number): Promise<PendingOrganisationFacts[]> {
  return db.query<PendingOrganisationFacts>(
    `SELECT id, legal_name, recorded_at FROM organisation WHERE status = 'PENDING_APPROVAL' ORDER BY recorded_at, id LIMIT $1`,
    [limit],
  );
}
