import { z } from '@hono/zod-openapi';
import {
  endAccountSessions,
  forgetClients,
  hashPassword,
  passwordProblem,
  randomSecret,
  sha256,
  verifyPassword,
} from '../../identity/index';
import { baselineScopes, reach } from '../access/permissions';
import { recordedBy, type Principal } from '../access/principal';
import type { OrganisationRole } from '../access/roles';
import { writeAudit } from '../audit/audit';
import type { Ctx } from '../context';
import { writeEvents } from '../events/outbox';
import { changeVersioned, changeVersionedMany, type ChangeCtx } from '../kernel/versioned';
import { Problem, fieldError, validationProblem } from '../http/problem';
import { EMAIL_RE } from '../catalogue/identifiers';
import { pgErrorCode, type Sql } from '../storage/db';
import { revocations } from './revocations';

/**
 * People (UC-01.01): users belong to one organisation; an organisation's admins invite and
 * deactivate them. A user's role inside the organisation bounds the scopes they can be granted:
 * VIEWER only reads, MEMBER does the organisation's work, ADMIN also manages clients, people and
 * delegations.
 */
export const USER_ROLES = ['ADMIN', 'MEMBER', 'VIEWER'] as const;
const ADMIN_SCOPES = new Set(['clients:write', 'users:write', 'delegations:write']);
export const INVITATION_DAYS = 7;
const LOCK_AFTER = 5;
const LOCK_MINUTES = 15;

export const UserInput = z
  .object({
    email: z.string().max(254).regex(EMAIL_RE, 'ORG-EMAIL-FORMAT'),
    name: z.string().min(1).max(200),
    userRole: z.enum(USER_ROLES).default('MEMBER'),
  })
  .strict()
  .openapi('UserInput');

export const User = z
  .object({
    id: z.string(),
    organisationId: z.string(),
    email: z.string(),
    name: z.string(),
    userRole: z.enum(USER_ROLES),
    status: z.enum(['INVITED', 'ACTIVE', 'DEACTIVATED']),
    version: z.number().int(),
    recordedAt: z.string(),
    recordedBy: z.string(),
    deactivatedAt: z.string().nullable(),
    personId: z.string().optional().openapi({
      description:
        'Present when this person belongs to another organisation first: the ID of their first (home) row, where they sign in. Added here, they need no new password.',
    }),
    invitation: z
      .object({ url: z.string(), expiresAt: z.string() })
      .optional()
      .openapi({ description: 'Shown once, at invitation: the link the person opens to choose a password.' }),
  })
  .openapi('User');
export type User = z.infer<typeof User>;

/** A row of app_user (003_identity.sql), without the columns toUser leaves out. */
interface UserRow {
  id: string;
  organisation_id: string;
  email: string;
  name: string;
  user_role: User['userRole'];
  status: User['status'];
  version: number;
  recorded_at: Date;
  recorded_by: string;
  deactivated_at: Date | null;
  person_id: string | null;
}

function toUser(r: UserRow): User {
  const iso = (v: unknown) => (v ? new Date(v as string).toISOString() : null);
  return {
    id: r.id,
    organisationId: r.organisation_id,
    email: r.email,
    name: r.name,
    userRole: r.user_role,
    status: r.status,
    version: r.version,
    recordedAt: iso(r.recorded_at)!,
    recordedBy: r.recorded_by,
    deactivatedAt: iso(r.deactivated_at),
    ...(r.person_id ? { personId: r.person_id } : {}),
  };
}

function canSee(p: Principal, orgId: string, write = false) {
  if (!reach(write ? 'users.write' : 'users.read', p.roles).all && p.organisationId !== orgId)
    throw new Problem('ORG-NOT-FOUND', `No organisation ${orgId}.`);
}

export async function inviteUser(
  ctx: Ctx,
  p: Principal,
  orgId: string,
  input: z.infer<typeof UserInput>,
  baseUrl: string,
  opts: { id?: string; password?: string } = {},
): Promise<User> {
  canSee(p, orgId, true);
  const now = ctx.clock.now();
  const token = randomSecret();
  const expires = new Date(now.getTime() + INVITATION_DAYS * 86_400_000);
  const id = opts.id ?? ctx.ids.next();
  const passwordHash = opts.password ? await hashPassword(opts.password) : null;
  try {
    return await ctx.db.transaction(async (tx) => {
      const [org] = await tx.query(`SELECT 1 FROM organisation WHERE id = $1 AND status = 'ACTIVE'`, [orgId]);
      if (!org) throw new Problem('ORG-NOT-FOUND', `No active organisation ${orgId}.`);
      // A person already active in another organisation joins this one as a membership of their home row:
      // no invitation, no password (they sign in as before and switch organisation).
      const [home] = await tx.query<{ id: string; organisation_id: string; status: string; email: string }>(
        `SELECT id, organisation_id, status, email FROM app_user WHERE lower(email) = lower($1) AND person_id IS NULL`,
        [input.email],
      );
      const member = home && home.organisation_id !== orgId && home.status === 'ACTIVE' && !passwordHash;
      const [row] = await tx.query<UserRow>(
        `INSERT INTO app_user (id, organisation_id, email, name, user_role, status, password_hash, invitation_hash, invitation_expires_at, recorded_at, recorded_by, person_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::timestamptz, $10::timestamptz, $11, $12) RETURNING *`,
        [
          id,
          orgId,
          member ? home.email : input.email,
          input.name,
          input.userRole ?? 'MEMBER',
          passwordHash || member ? 'ACTIVE' : 'INVITED',
          passwordHash,
          passwordHash || member ? null : await sha256(token),
          passwordHash || member ? null : expires.toISOString(),
          now.toISOString(),
          recordedBy(p),
          member ? home.id : null,
        ],
      );
      await writeAudit(tx, p, now, [
        {
          action: 'user.invited',
          recordType: 'user',
          recordId: id,
          organisationId: orgId,
          detail: { email: input.email, userRole: input.userRole },
        },
      ]);
      await writeEvents(tx, ctx.ids, now, [
        {
          type: 'fmar.user.invited',
          subject: id,
          organisationId: orgId,
          data: { userId: id, organisationId: orgId, userRole: input.userRole },
        },
      ]);
      return {
        ...toUser(row),
        ...(passwordHash || row.person_id
          ? {}
          : { invitation: { url: `${baseUrl}/invitations/${token}`, expiresAt: expires.toISOString() } }),
      };
    });
  } catch (e) {
    if (pgErrorCode(e) === '23505') throw new Problem('USER-EMAIL-TAKEN', `${input.email} is already registered.`);
    throw e;
  }
}

export async function listUsers(ctx: Ctx, p: Principal, orgId: string): Promise<User[]> {
  canSee(p, orgId);
  return (
    await ctx.db.query<UserRow>(`SELECT * FROM app_user WHERE organisation_id = $1 ORDER BY recorded_at, id LIMIT 1000`, [orgId])
  ).map(toUser);
}

async function findUser(tx: Sql, orgId: string, id: string, lock = false): Promise<UserRow | undefined> {
  const [row] = await tx.query<UserRow>(`SELECT * FROM app_user WHERE id = $1 AND organisation_id = $2${lock ? ' FOR UPDATE' : ''}`, [
    id,
    orgId,
  ]);
  return row;
}

const userNotFound = (orgId: string, id: string) => new Problem('USER-NOT-FOUND', `No person ${id} in organisation ${orgId}.`);

async function userRow(tx: Sql, orgId: string, id: string, lock = false) {
  const row = await findUser(tx, orgId, id, lock);
  if (!row) throw userNotFound(orgId, id);
  return row;
}

export async function getUser(ctx: Ctx, p: Principal, orgId: string, id: string): Promise<User> {
  canSee(p, orgId);
  return toUser(await userRow(ctx.db, orgId, id));
}

/** Deactivate a person: they cannot sign in, their sessions and grants (refresh tokens) end. */
export async function deactivateUser(ctx: Ctx, p: Principal, orgId: string, id: string): Promise<User> {
  canSee(p, orgId, true);
  const now = ctx.clock.now();
  const out = await ctx.db.transaction(async (tx) => {
    const { after } = await changeVersioned(tx, ctx, p, now, {
      table: 'app_user',
      key: { id },
      label: 'The person',
      lock: () => findUser(tx, orgId, id, true),
      notFound: () => userNotFound(orgId, id),
      guard: (row) => {
        if (row.status === 'DEACTIVATED') throw new Problem('USER-ALREADY-DEACTIVATED');
      },
      set: () => ({ sql: `status = 'DEACTIVATED', deactivated_at = $1::timestamptz, invitation_hash = NULL`, params: [now.toISOString()] }),
      returning: '*',
      toRecord: (r: UserRow) => r,
      afterWrite: () => endAccountSessions(tx, [id]),
      audit: () => [{ action: 'user.deactivated', recordType: 'user', recordId: id, organisationId: orgId }],
      events: () => [{ type: 'fmar.user.deactivated', subject: id, organisationId: orgId, data: { userId: id, organisationId: orgId } }],
    });
    return toUser(after);
  });
  revocations.emit();
  return out;
}

/**
 * UC-01.04 side effects, in the de-registration's transaction: every person of the organisation is
 * deactivated, its API clients are revoked (each a versioned change, set-based), its provider
 * grants and sessions end, and delegations to and from it are revoked. The caller emits
 * `revocations` after its commit.
 */
export async function closeOrganisationCredentials(
  tx: Sql,
  ctx: ChangeCtx,
  actor: Principal,
  orgId: string,
  now: Date,
): Promise<{ users: number; clients: number; delegations: number }> {
  const users = await tx.query<{ id: string; version: number }>(
    `SELECT id, version FROM app_user WHERE organisation_id = $1 AND status <> 'DEACTIVATED' ORDER BY id FOR UPDATE`,
    [orgId],
  );
  await changeVersionedMany(tx, ctx, actor, now, {
    table: 'app_user',
    befores: users,
    set: { sql: `status = 'DEACTIVATED', deactivated_at = $2::timestamptz, invitation_hash = NULL`, params: [] },
  });
  await endAccountSessions(
    tx,
    users.map((u) => u.id),
  );
  const clients = await tx.query<{ client_id: string; version: number }>(
    `SELECT client_id, version FROM api_client WHERE organisation_id = $1 AND status = 'ACTIVE' ORDER BY client_id FOR UPDATE`,
    [orgId],
  );
  await changeVersionedMany(tx, ctx, actor, now, {
    table: 'api_client',
    key: 'client_id',
    keyOf: (c) => c.client_id,
    befores: clients,
    set: { sql: `status = 'REVOKED', revoked_at = $2::timestamptz`, params: [] },
  });
  await forgetClients(
    tx,
    clients.map((c) => c.client_id),
  );
  const delegations = await tx.query(
    `UPDATE delegation SET status = 'REVOKED', revoked_at = $2::timestamptz, revoked_by = $3, reason = COALESCE(reason, 'organisation de-registered')
    WHERE (delegator_id = $1 OR delegate_id = $1) AND status = 'ACTIVE' RETURNING id`,
    [orgId, now.toISOString(), recordedBy(actor)],
  );
  return { users: users.length, clients: clients.length, delegations: delegations.length };
}

/** Accept an invitation: the person chooses a password and becomes ACTIVE. */
export async function acceptInvitation(ctx: Ctx, token: string, password: string): Promise<User> {
  const weak = passwordProblem(password);
  if (weak) throw validationProblem([fieldError('password', 'USER-PASSWORD-WEAK', weak)]);
  const now = ctx.clock.now();
  const hash = await hashPassword(password);
  const tokenHash = await sha256(token);
  return ctx.db.transaction(async (tx) => {
    const [invitee] = await tx.query<UserRow>(
      `SELECT * FROM app_user WHERE invitation_hash = $1 AND status = 'INVITED' AND invitation_expires_at > $2::timestamptz FOR UPDATE`,
      [tokenHash, now.toISOString()],
    );
    if (!invitee) throw new Problem('USER-INVITATION-INVALID');
    // The person accepts for themselves: their ID is the change's recorded_by and its audit actor.
    const self: Principal = { subject: invitee.id, organisationId: invitee.organisation_id, roles: [], scopes: [], dnoCodes: [] };
    const { after } = await changeVersioned(tx, ctx, self, now, {
      table: 'app_user',
      key: { id: invitee.id },
      label: 'The person',
      lock: () => Promise.resolve(invitee),
      notFound: () => new Problem('USER-INVITATION-INVALID'),
      set: () => ({
        sql: `status = 'ACTIVE', password_hash = $1, invitation_hash = NULL, invitation_expires_at = NULL`,
        params: [hash],
      }),
      returning: '*',
      toRecord: (r: UserRow) => r,
      audit: () => [{ action: 'user.activated', recordType: 'user', recordId: invitee.id, organisationId: invitee.organisation_id }],
      events: () => [],
    });
    return toUser(after);
  });
}

/**
 * Development only (src/demo/people.ts): give a demo person a new password, as demo client secrets
 * are rotated at each start; the person stays ACTIVE. Audited as `user.password-set`.
 */
export async function setDemoPassword(ctx: Ctx, p: Principal, id: string, password: string): Promise<void> {
  const hash = await hashPassword(password);
  const now = ctx.clock.now();
  await ctx.db.transaction(async (tx) => {
    await changeVersioned(tx, ctx, p, now, {
      table: 'app_user',
      key: { id },
      label: 'The person',
      lock: async (t: Sql) => (await t.query<UserRow>(`SELECT * FROM app_user WHERE id = $1 AND status = 'ACTIVE' FOR UPDATE`, [id]))[0],
      notFound: () => new Problem('USER-NOT-FOUND', `No active person ${id}.`),
      set: () => ({ sql: `password_hash = $1, failed_logins = 0, locked_until = NULL`, params: [hash] }),
      returning: '*',
      toRecord: (r: UserRow) => r,
      audit: (r: UserRow) => [{ action: 'user.password-set', recordType: 'user', recordId: id, organisationId: r.organisation_id }],
      events: () => [],
    });
  });
}

/** Is this invitation token current? (for the page before the password is chosen) */
export async function invitationFor(ctx: Ctx, token: string): Promise<{ email: string; name: string } | undefined> {
  const [row] = await ctx.db.query<{ email: string; name: string }>(
    `SELECT email, name FROM app_user WHERE invitation_hash = $1 AND status = 'INVITED' AND invitation_expires_at > $2::timestamptz`,
    [await sha256(token), ctx.clock.now().toISOString()],
  );
  return row ? { email: row.email, name: row.name } : undefined;
}

/** Sign-in check with a per-person lockout (5 failures → 15 minutes). */
export async function checkLogin(ctx: Ctx, email: string, password: string): Promise<{ accountId: string } | { error: string }> {
  const now = ctx.clock.now();
  const [row] = await ctx.db.query<{
    id: string;
    password_hash: string | null;
    status: User['status'];
    locked_until: Date | null;
    org_status: string;
  }>(
    `SELECT u.id, u.password_hash, u.status, u.locked_until, o.status AS org_status FROM app_user u JOIN organisation o ON o.id = u.organisation_id WHERE lower(u.email) = lower($1) AND u.person_id IS NULL`,
    [email],
  );
  const generic = { error: 'The email or password is not right.' };
  if (row?.locked_until && new Date(row.locked_until) > now) return { error: 'Too many failed sign-ins: try again later.' };
  const ok = await verifyPassword(row?.password_hash, password);
  if (!row) return generic;
  if (!ok) {
    await ctx.db.query(
      `UPDATE app_user SET failed_logins = failed_logins + 1,
      locked_until = CASE WHEN failed_logins + 1 >= $2 THEN $3::timestamptz ELSE locked_until END WHERE id = $1`,
      [row.id, LOCK_AFTER, new Date(now.getTime() + LOCK_MINUTES * 60_000).toISOString()],
    );
    return generic;
  }
  if (row.status !== 'ACTIVE' || row.org_status !== 'ACTIVE') return generic;
  await ctx.db.query(`UPDATE app_user SET failed_logins = 0, locked_until = NULL WHERE id = $1`, [row.id]);
  return { accountId: row.id };
}

/** One organisation a person belongs to: the account (row) that acts in it, the organisation, the person's role there. */
export interface Membership {
  accountId: string;
  organisationId: string;
  organisationName: string;
  userRole: User['userRole'];
}

/**
 * A person's account as the OpenID provider sees it: one organisation's row. A membership row
 * (person_id set) acts only while the person's home row is active. `organisations` lists every
 * organisation the person may act in (the console's switcher).
 */
export async function findAccount(ctx: Ctx, id: string) {
  const [r] = await ctx.db.query<{
    id: string;
    email: string;
    name: string;
    organisation_id: string;
    user_role: User['userRole'];
    person: string;
  }>(
    `SELECT u.id, u.email, u.name, u.organisation_id, u.user_role, COALESCE(u.person_id, u.id) AS person
       FROM app_user u JOIN organisation o ON o.id = u.organisation_id
      WHERE u.id = $1 AND u.status = 'ACTIVE' AND o.status = 'ACTIVE'
        AND (u.person_id IS NULL OR EXISTS (SELECT 1 FROM app_user h WHERE h.id = u.person_id AND h.status = 'ACTIVE'))`,
    [id],
  );
  if (!r) return undefined;
  return {
    id: r.id,
    email: r.email,
    name: r.name,
    organisationId: r.organisation_id,
    userRole: r.user_role,
    organisations: await memberships(ctx, r.person),
  };
}

/** Every organisation a person (their home row's ID) may act in, home first. */
export async function memberships(ctx: Ctx, personId: string): Promise<Membership[]> {
  const rows = await ctx.db.query<{ id: string; organisation_id: string; legal_name: string; user_role: User['userRole'] }>(
    `SELECT u.id, u.organisation_id, o.legal_name, u.user_role FROM app_user u JOIN organisation o ON o.id = u.organisation_id
      WHERE (u.id = $1 OR u.person_id = $1) AND u.status = 'ACTIVE' AND o.status = 'ACTIVE'
      ORDER BY (u.person_id IS NOT NULL), o.legal_name, u.id`,
    [personId],
  );
  return rows.map((m) => ({ accountId: m.id, organisationId: m.organisation_id, organisationName: m.legal_name, userRole: m.user_role }));
}

/** The account of the same person in another organisation, if they belong to it (a switch of organisation). */
export async function switchAccount(ctx: Ctx, accountId: string, organisationId: string): Promise<string | undefined> {
  const a = await findAccount(ctx, accountId);
  return a?.organisations.find((m) => m.organisationId === organisationId)?.accountId;
}

/** The API scopes a person may be granted: their organisation's baseline, cut by their user role. */
export async function accountScopes(ctx: Ctx, id: string): Promise<string[]> {
  const [r] = await ctx.db.query<{ user_role: User['userRole']; roles: OrganisationRole[] }>(
    `SELECT u.user_role, to_jsonb(o.roles) AS roles FROM app_user u JOIN organisation o ON o.id = u.organisation_id WHERE u.id = $1 AND u.status = 'ACTIVE' AND o.status = 'ACTIVE'`,
    [id],
  );
  if (!r) return [];
  return userRoleScopes(baselineScopes(r.roles), r.user_role);
}

export function userRoleScopes(baseline: string[], userRole: string): string[] {
  if (userRole === 'ADMIN') return baseline;
  if (userRole === 'MEMBER') return baseline.filter((s) => !ADMIN_SCOPES.has(s));
  return baseline.filter((s) => s.endsWith(':read'));
}
