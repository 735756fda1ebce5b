import { z } from '@hono/zod-openapi';
import type { DelegationOutcome } from '../../identity/node';
import { baselineScopes, reach } from '../access/permissions';
import { recordedBy, type Principal } from '../access/principal';
import type { OrganisationRole } from '../access/roles';
import { writeAudit } from '../audit/audit';
import type { Ctx } from '../context';
import { writeEvents } from '../events/outbox';
import { Problem, fieldError, validationProblem } from '../http/problem';
import type { Sql } from '../storage/db';
import { revocations } from './revocations';

/**
 * Delegations (UC-05.04): an FSP lets another organisation (platform, aggregator, installer) act
 * for it with a subset of its scopes, optionally on named assets only, for a bounded time. The
 * delegate uses RFC 8693 token exchange at the token endpoint (docs/identity.md).
 */

/** Scopes that are never delegated: managing credentials, people and delegations stays with the organisation. */
export const NEVER_DELEGATED = new Set([
  'clients:read',
  'clients:write',
  'users:read',
  'users:write',
  'delegations:read',
  'delegations:write',
  'organisations:write',
  'audit:read',
]);
const MAX_DAYS = 366;

export const DelegationInput = z
  .object({
    delegateId: z.string().min(1).max(64),
    scopes: z.array(z.string().max(64)).min(1).max(20),
    assetIds: z
      .array(z.string().max(64))
      .min(1)
      .max(10_000)
      .optional()
      .openapi({ description: 'Only these assets (the delegate then cannot register new ones). Omit for all the delegator’s assets.' }),
    validFrom: z.iso.datetime({ offset: true }).optional(),
    validTo: z.iso.datetime({ offset: true }),
    reason: z.string().max(500).optional(),
    delegatorId: z.string().max(64).optional().openapi({ description: 'Operator only: record a delegation for another FSP.' }),
  })
  .strict()
  .openapi('DelegationInput');

export const Delegation = z
  .object({
    id: z.string(),
    delegatorId: z.string(),
    delegateId: z.string(),
    scopes: z.array(z.string()),
    assetIds: z.array(z.string()).nullable(),
    validFrom: z.string(),
    validTo: z.string(),
    status: z.enum(['ACTIVE', 'REVOKED']),
    reason: z.string().nullable(),
    recordedAt: z.string(),
    recordedBy: z.string(),
    revokedAt: z.string().nullable(),
    revokedBy: z.string().nullable(),
  })
  .openapi('Delegation');
export type Delegation = z.infer<typeof Delegation>;

/** A row of delegation (003_identity.sql and later). */
interface DelegationRow {
  id: string;
  delegator_id: string;
  delegate_id: string;
  scopes: string[];
  asset_ids: string[] | null;
  valid_from: Date;
  valid_to: Date;
  status: Delegation['status'];
  reason: string | null;
  recorded_at: Date;
  recorded_by: string;
  revoked_at: Date | null;
  revoked_by: string | null;
}

function toDelegation(r: DelegationRow): Delegation {
  const iso = (v: unknown) => (v ? new Date(v as string).toISOString() : null);
  return {
    id: r.id,
    delegatorId: r.delegator_id,
    delegateId: r.delegate_id,
    scopes: r.scopes,
    assetIds: r.asset_ids ?? null,
    validFrom: iso(r.valid_from)!,
    validTo: iso(r.valid_to)!,
    status: r.status,
    reason: r.reason ?? null,
    recordedAt: iso(r.recorded_at)!,
    recordedBy: r.recorded_by,
    revokedAt: iso(r.revoked_at),
    revokedBy: r.revoked_by ?? null,
  };
}

export async function grantDelegation(ctx: Ctx, p: Principal, input: z.infer<typeof DelegationInput>): Promise<Delegation> {
  const delegatorId = input.delegatorId && reach('delegations.write', p.roles).all ? input.delegatorId : p.organisationId;
  const now = ctx.clock.now();
  const from = input.validFrom ? new Date(input.validFrom) : now;
  const to = new Date(input.validTo);
  if (!(to > from) || !(to > now) || to.getTime() - from.getTime() > MAX_DAYS * 86_400_000)
    throw validationProblem([fieldError('validTo', 'DELEGATION-PERIOD')]);
  if (input.delegateId === delegatorId) throw validationProblem([fieldError('delegateId', 'DELEGATION-DELEGATE-INVALID')]);
  return ctx.db.transaction(async (tx) => {
    const [delegator] = await tx.query<{ roles: OrganisationRole[] }>(
      `SELECT to_jsonb(roles) AS roles FROM organisation WHERE id = $1 AND status = 'ACTIVE'`,
      [delegatorId],
    );
    if (!delegator) throw new Problem('ORG-NOT-FOUND', `No active organisation ${delegatorId}.`);
    const [delegate] = await tx.query(`SELECT 1 FROM organisation WHERE id = $1 AND status = 'ACTIVE'`, [input.delegateId]);
    if (!delegate)
      throw validationProblem([fieldError('delegateId', 'DELEGATION-DELEGATE-INVALID', `No active organisation ${input.delegateId}.`)]);
    const baseline = baselineScopes(delegator.roles);
    const bad = input.scopes.filter((s) => NEVER_DELEGATED.has(s) || !baseline.includes(s));
    if (bad.length)
      throw validationProblem([fieldError('scopes', 'DELEGATION-SCOPE-NOT-DELEGABLE', `Cannot delegate: ${bad.join(', ')}.`)]);
    const assetIds = input.assetIds ? [...new Set(input.assetIds)].sort() : null;
    if (assetIds) {
      const found = await tx.query<{ id: string }>(
        `SELECT id FROM asset WHERE id = ANY($1::text[]) AND fsp_id = $2 AND status <> 'DEREGISTERED'`,
        [assetIds, delegatorId],
      );
      if (found.length !== assetIds.length) {
        const have = new Set(found.map((r) => r.id));
        throw validationProblem([
          fieldError(
            'assetIds',
            'DELEGATION-ASSET-UNKNOWN',
            `Not controlled by ${delegatorId}: ${assetIds
              .filter((a) => !have.has(a))
              .slice(0, 10)
              .join(', ')}.`,
          ),
        ]);
      }
    }
    const id = ctx.ids.next();
    const [row] = await tx.query<DelegationRow>(
      `INSERT INTO delegation (id, delegator_id, delegate_id, scopes, asset_ids, valid_from, valid_to, status, reason, recorded_at, recorded_by)
       VALUES ($1, $2, $3, $4::text[], $5::text[], $6::timestamptz, $7::timestamptz, 'ACTIVE', $8, $9::timestamptz, $10) RETURNING *`,
      [
        id,
        delegatorId,
        input.delegateId,
        [...new Set(input.scopes)].sort(),
        assetIds,
        from.toISOString(),
        to.toISOString(),
        input.reason ?? null,
        now.toISOString(),
        recordedBy(p),
      ],
    );
    const d = toDelegation(row);
    await writeAudit(tx, p, now, [
      {
        action: 'delegation.granted',
        recordType: 'delegation',
        recordId: id,
        organisationId: delegatorId,
        detail: {
          delegateId: d.delegateId,
          scopes: d.scopes,
          assets: assetIds?.length ?? 'all',
          validFrom: d.validFrom,
          validTo: d.validTo,
        },
      },
    ]);
    const data = { delegationId: id, delegatorId, delegateId: d.delegateId, scopes: d.scopes, validFrom: d.validFrom, validTo: d.validTo };
    await writeEvents(tx, ctx.ids, now, [
      { type: 'fmar.delegation.granted', subject: id, organisationId: delegatorId, data },
      { type: 'fmar.delegation.granted', subject: id, organisationId: d.delegateId, data },
    ]);
    return d;
  });
}

function visible(p: Principal, params: unknown[]): string {
  if (reach('delegations.read', p.roles).all) return 'TRUE';
  params.push(p.organisationId);
  return `(delegator_id = $${params.length} OR delegate_id = $${params.length})`;
}

export async function listDelegations(
  ctx: Ctx,
  p: Principal,
  q: { role?: 'delegator' | 'delegate'; status?: 'ACTIVE' | 'REVOKED' } = {},
): Promise<Delegation[]> {
  const params: unknown[] = [];
  let where = visible(p, params);
  if (q.role) {
    params.push(p.organisationId);
    where += ` AND ${q.role}_id = $${params.length}`;
  }
  if (q.status) {
    params.push(q.status);
    where += ` AND status = $${params.length}`;
  }
  return (
    await ctx.db.query<DelegationRow>(`SELECT * FROM delegation WHERE ${where} ORDER BY recorded_at DESC, id LIMIT 1000`, params)
  ).map(toDelegation);
}

async function row(tx: Sql, p: Principal, id: string, lock = false) {
  const params: unknown[] = [id];
  const [r] = await tx.query<DelegationRow>(
    `SELECT * FROM delegation WHERE id = $1 AND ${visible(p, params)}${lock ? ' FOR UPDATE' : ''}`,
    params,
  );
  if (!r) throw new Problem('DELEGATION-NOT-FOUND', `No delegation ${id}.`);
  return r;
}

export async function getDelegation(ctx: Ctx, p: Principal, id: string): Promise<Delegation> {
  return toDelegation(await row(ctx.db, p, id));
}

/**
 * Revoke: no new token exchange from now, and the API refuses tokens already issued under it.
 * Either party ends it (the delegate may renounce what it no longer needs), or the operator.
 */
export async function revokeDelegation(ctx: Ctx, p: Principal, id: string, reason?: string): Promise<Delegation> {
  const now = ctx.clock.now();
  const out = await ctx.db.transaction(async (tx) => {
    const r = await row(tx, p, id, true);
    if (r.status === 'REVOKED') throw new Problem('DELEGATION-ALREADY-REVOKED');
    const [u] = await tx.query<DelegationRow>(
      `UPDATE delegation SET status = 'REVOKED', revoked_at = $2::timestamptz, revoked_by = $3, reason = COALESCE($4, reason) WHERE id = $1 RETURNING *`,
      [id, now.toISOString(), recordedBy(p), reason ?? null],
    );
    await writeAudit(tx, p, now, [
      {
        action: 'delegation.revoked',
        recordType: 'delegation',
        recordId: id,
        organisationId: r.delegator_id,
        detail: { reason: reason ?? null },
      },
    ]);
    const data = { delegationId: id, delegatorId: r.delegator_id, delegateId: r.delegate_id };
    await writeEvents(tx, ctx.ids, now, [
      { type: 'fmar.delegation.revoked', subject: id, organisationId: r.delegator_id, data },
      { type: 'fmar.delegation.revoked', subject: id, organisationId: r.delegate_id, data },
    ]);
    return toDelegation(u);
  });
  revocations.emit();
  return out;
}

/**
 * The token endpoint's question: may this delegate act now, under which delegation, with which
 * scopes? Scopes are the delegation's, cut to the delegator's current role baseline.
 */
export async function resolveDelegation(
  ctx: Ctx,
  o: { delegationId: string | undefined; delegateOrganisationId: string; at: Date },
): Promise<DelegationOutcome> {
  if (!o.delegationId) return { ok: false, description: 'delegation_id is required: name the delegation to act under' };
  const [r] = await ctx.db.query<DelegationRow & { delegator_roles: OrganisationRole[]; delegator_status: string }>(
    `SELECT d.*, to_jsonb(o.roles) AS delegator_roles, o.status AS delegator_status FROM delegation d JOIN organisation o ON o.id = d.delegator_id WHERE d.id = $1`,
    [o.delegationId],
  );
  if (!r || r.delegate_id !== o.delegateOrganisationId) return { ok: false, description: 'no such delegation to this organisation' };
  if (r.status !== 'ACTIVE') return { ok: false, description: 'the delegation is revoked' };
  if (new Date(r.valid_from) > o.at || new Date(r.valid_to) <= o.at)
    return { ok: false, description: 'the delegation is not valid at this time' };
  if (r.delegator_status !== 'ACTIVE') return { ok: false, description: 'the delegating organisation is not active' };
  const baseline = new Set(baselineScopes(r.delegator_roles));
  return {
    ok: true,
    delegationId: r.id,
    delegatorId: r.delegator_id,
    delegateId: r.delegate_id,
    scopes: r.scopes.filter((s) => baseline.has(s)),
    validTo: new Date(r.valid_to),
  };
}
