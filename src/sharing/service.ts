import type { z } from '@hono/zod-openapi';
import type { Principal } from '../access/principal';
import { recordedBy } from '../access/principal';
import type { OrganisationRole } from '../access/roles';
import { heldAssets, rolesHoldAssets, toAsset } from '../assets/store';
import type { Asset } from '../assets/schema';
import { writeAudit } from '../audit/audit';
import { logPrivateRead, othersRecords, readsOfOrganisation } from '../audit/reads';
import type { Ctx } from '../context';
import { writeEvents, type ChangeEvent } from '../events/outbox';
import { Problem, fieldError, type FieldError } from '../http/problem';
import { fieldErrorsFromZod } from '../http/validation';
import { ULID_RE } from '../ids';
import { changeVersioned, priorVersions } from '../kernel/versioned';
import { getOrganisationRow, toOrganisation } from '../organisations/service';
import type { Organisation } from '../organisations/schema';
import { constraintName, pgErrorCode, type Sql } from '../storage/db';
import { DataShareInput, DataSharePatch, MAX_SHARE_DAYS, type DataShare } from './schema';
import { SHARE_COLS, overlappingShare, selectShare, shareVisibility, toShare, type ShareRow } from './store';

/**
 * Data shares (UC-05.01): an organisation lets a named platform pull its passport and, if it says
 * so, its assets, for a period; the platform pulls with its own credential while the share is live,
 * and every pull is logged for the owner. docs/sharing.md; why a share and not a delegation:
 * docs/decisions.md, "Sharing with platforms is a share, not a delegation".
 */

const PLATFORM_ROLES: readonly OrganisationRole[] = ['SYSTEM_OPERATOR', 'INDEPENDENT_MARKET_PLATFORM'];
const DAY = 86_400_000;

function refuse(errors: FieldError[]): Problem {
  return new Problem('REQUEST-VALIDATION', `${errors.length} field(s) invalid`, {}, errors);
}
function parse<T>(
  schema: { safeParse(raw: unknown): { success: true; data: T } | { success: false; error: z.ZodError } },
  raw: unknown,
  what: string,
): T {
  const r = schema.safeParse(raw);
  if (!r.success) throw new Problem('REQUEST-VALIDATION', `The ${what} is invalid.`, {}, fieldErrorsFromZod(r.error, raw));
  return r.data;
}
const notFound = (id: string) => new Problem('DATA-SHARE-NOT-FOUND', `No data share ${id}.`);
const overlap = (id: string) =>
  new Problem(
    'DATA-SHARE-OVERLAP',
    `Data share ${id} between these organisations covers part of this period: change it, or revoke it first.`,
    {
      dataShareId: id,
    },
  );
/** Two overlapping shares granted at the same moment: the exclusion constraint refuses the second. */
const raced = (e: unknown) =>
  pgErrorCode(e) === '23P01' && constraintName(e) === 'data_share_no_overlap'
    ? new Problem(
        'DATA-SHARE-OVERLAP',
        'A share between these organisations with an overlapping period was granted at the same moment: list the shares and retry.',
      )
    : e;

/** What a share will stand as: the field rules that need no database (assets and assetIds together, the period). */
function shapeErrors(
  s: { assets: DataShare['assets']; assetIds: string[] | null; validFrom: string; validTo: string },
  now: Date,
): FieldError[] {
  const errors: FieldError[] = [];
  if (s.assets === 'LISTED' && !s.assetIds)
    errors.push(fieldError('assetIds', 'DATA-SHARE-ASSETS', 'A LISTED share names its assets in assetIds.'));
  if (s.assets !== 'LISTED' && s.assetIds)
    errors.push(fieldError('assetIds', 'DATA-SHARE-ASSETS', `assetIds goes with assets LISTED, not ${s.assets}.`));
  const from = new Date(s.validFrom);
  const to = new Date(s.validTo);
  const start = from > now ? from : now;
  if (!(to > from) || !(to > now) || to.getTime() - start.getTime() > MAX_SHARE_DAYS * DAY)
    errors.push(
      fieldError(
        'validTo',
        'DATA-SHARE-PERIOD',
        `validTo ${s.validTo} must be after validFrom and now, and at most ${MAX_SHARE_DAYS} days after the later of them.`,
      ),
    );
  return errors;
}

/** The asset rules that read the register: the owner holds assets at all, and holds each one listed now. */
async function assetErrors(
  tx: Sql,
  owner: { organisationId: string; roles: OrganisationRole[] },
  s: Pick<DataShare, 'assets' | 'assetIds'>,
) {
  if (s.assets === 'NONE') return [];
  if (!rolesHoldAssets(owner.roles))
    return [
      fieldError(
        'assets',
        'DATA-SHARE-ASSETS',
        `Organisation ${owner.organisationId} holds no assets (roles ${owner.roles.join(', ')}): share its passport (assets NONE).`,
      ),
    ];
  if (s.assets === 'ALL') return [];
  const ids = s.assetIds!;
  const found = new Set((await heldAssets(tx, owner, { ids, limit: ids.length })).map((a) => a.id));
  const missing = ids.filter((i) => !found.has(i));
  return missing.length
    ? [
        fieldError(
          'assetIds',
          'DATA-SHARE-ASSET-UNKNOWN',
          `Not live assets controlled or owned by ${owner.organisationId}: ${missing.slice(0, 10).join(', ')}.`,
        ),
      ]
    : [];
}

/** A share as the audit trail keeps it: without its state, which is only ever where it stood when read. */
function recorded(s: DataShare): Omit<DataShare, 'state'> {
  const { state: _state, ...rest } = s;
  return rest;
}

/** What an event says of a share: the parties and the reach, never the passport or an asset's data. */
function event(type: string, s: DataShare, extra: Record<string, unknown> = {}): ChangeEvent {
  return {
    type,
    subject: s.id,
    organisationId: s.ownerId,
    data: {
      dataShareId: s.id,
      ownerId: s.ownerId,
      recipientId: s.recipientId,
      assets: s.assets,
      assetCount: s.assetIds?.length ?? null,
      validFrom: s.validFrom,
      validTo: s.validTo,
      status: s.status,
      version: s.version,
      ...extra,
    },
  };
}

export async function grantShare(ctx: Ctx, actor: Principal, raw: unknown): Promise<DataShare> {
  const input = parse(DataShareInput, raw, 'data share');
  const now = ctx.clock.now();
  const shape = {
    assets: input.assets ?? 'NONE',
    assetIds: input.assetIds ? [...new Set(input.assetIds)].sort() : null,
    validFrom: new Date(input.validFrom ?? now).toISOString(),
    validTo: new Date(input.validTo).toISOString(),
  };
  const errors = shapeErrors(shape, now);
  if (input.recipientId === actor.organisationId)
    errors.unshift(fieldError('recipientId', 'DATA-SHARE-RECIPIENT-INVALID', 'An organisation does not share with itself.'));
  if (errors.length) throw refuse(errors);
  const id = ctx.ids.next();
  try {
    return await ctx.db.transaction(async (tx) => {
      const recipient = await getOrganisationRow(tx, input.recipientId);
      if (!recipient || recipient.status !== 'ACTIVE' || !recipient.roles.some((r) => PLATFORM_ROLES.includes(r)))
        throw refuse([
          fieldError(
            'recipientId',
            'DATA-SHARE-RECIPIENT-INVALID',
            `${input.recipientId} is not an active organisation with the role SYSTEM_OPERATOR or INDEPENDENT_MARKET_PLATFORM.`,
          ),
        ]);
      const assetProblems = await assetErrors(tx, actor, shape);
      if (assetProblems.length) throw refuse(assetProblems);
      const other = await overlappingShare(tx, actor.organisationId, input.recipientId, shape.validFrom, shape.validTo);
      if (other) throw overlap(other);
      const [row] = await tx.query<ShareRow>(
        `INSERT INTO data_share AS s (id, owner_id, recipient_id, assets, asset_ids, valid_from, valid_to, purpose, status, recorded_at, recorded_by)
         VALUES ($1, $2, $3, $4, $5::text[], $6::timestamptz, $7::timestamptz, $8, 'ACTIVE', $9::timestamptz, $10) RETURNING ${SHARE_COLS}`,
        [
          id,
          actor.organisationId,
          input.recipientId,
          shape.assets,
          shape.assetIds,
          shape.validFrom,
          shape.validTo,
          input.purpose ?? null,
          now.toISOString(),
          recordedBy(actor),
        ],
      );
      const share = toShare(row, now);
      await writeAudit(tx, actor, now, [
        {
          action: 'data-share.granted',
          recordType: 'data_share',
          recordId: id,
          organisationId: share.ownerId,
          detail: recorded(share),
        },
      ]);
      await writeEvents(tx, ctx.ids, now, [event('fmar.data-share.granted', share)]);
      return share;
    });
  } catch (e) {
    throw raced(e);
  }
}

export interface ShareFilter {
  /** owner: the shares the caller granted; recipient: those naming it as the platform. */
  role?: 'owner' | 'recipient';
  ownerId?: string;
  recipientId?: string;
  status?: DataShare['status'];
  /** Only the shares live at this instant. */
  liveAt?: string;
}

export async function listShares(ctx: Ctx, p: Principal, f: ShareFilter, page: { limit: number; after?: string }) {
  const params: unknown[] = [];
  const conds = [shareVisibility(p, params, 'read')];
  const eq = (col: string, v: string | undefined) => {
    if (v !== undefined) {
      params.push(v);
      conds.push(`${col} = $${params.length}`);
    }
  };
  if (f.role) eq(f.role === 'owner' ? 's.owner_id' : 's.recipient_id', p.organisationId);
  eq('s.owner_id', f.ownerId);
  eq('s.recipient_id', f.recipientId);
  eq('s.status', f.status);
  if (f.liveAt) {
    params.push(f.liveAt);
    conds.push(`s.status = 'ACTIVE' AND s.valid_from <= $${params.length}::timestamptz AND s.valid_to > $${params.length}::timestamptz`);
  }
  if (page.after) {
    params.push(page.after);
    conds.push(`s.id > $${params.length}`);
  }
  params.push(page.limit + 1);
  const rows = await ctx.db.query<ShareRow>(
    `SELECT ${SHARE_COLS} FROM data_share s WHERE ${conds.join(' AND ')} ORDER BY s.id LIMIT $${params.length}`,
    params,
  );
  const now = ctx.clock.now();
  const items = rows.slice(0, page.limit).map((r) => toShare(r, now));
  return { items, next: rows.length > page.limit ? items[items.length - 1].id : undefined };
}

export async function getShare(ctx: Ctx, p: Principal, id: string): Promise<DataShare> {
  const row = ULID_RE.test(id) ? await selectShare(ctx.db, p, id, 'read') : undefined;
  if (!row) throw notFound(id);
  return toShare(row, ctx.clock.now());
}

/** Every version, newest first: the current one, then record_history (each with its state when it was superseded). */
export async function shareHistory(ctx: Ctx, p: Principal, id: string): Promise<DataShare[]> {
  const current = await getShare(ctx, p, id);
  return [current, ...(await priorVersions<DataShare>(ctx.db, 'data_share', id))];
}

/** The one versioned change of a share: only the organisation that granted it; a revoked or ended one changes no more. */
function changeShare(
  ctx: Ctx,
  tx: Sql,
  actor: Principal,
  now: Date,
  id: string,
  ifMatch: number,
  spec: {
    guard?: (before: DataShare) => void;
    set: (before: DataShare) => Promise<{ sql: string; params: unknown[] }>;
    action: string;
    detail: (before: DataShare, after: DataShare) => Record<string, unknown>;
    event: string;
    data: (before: DataShare, after: DataShare) => Record<string, unknown>;
  },
) {
  return changeVersioned<DataShare, ShareRow>(tx, ctx, actor, now, {
    table: 'data_share',
    alias: 's',
    key: { id },
    label: `Data share ${id}`,
    returning: SHARE_COLS,
    toRecord: (r) => toShare(r, now),
    ifMatch,
    lock: async (t) => {
      const r = ULID_RE.test(id) ? await selectShare(t, actor, id, 'write', 'update') : undefined;
      return r && toShare(r, now);
    },
    notFound: () => notFound(id),
    guard: (before) => {
      if (before.status === 'REVOKED') throw new Problem('DATA-SHARE-REVOKED', `Data share ${id} is revoked.`);
      spec.guard?.(before);
    },
    history: 'data_share',
    set: spec.set,
    audit: (before, after) => [
      {
        action: spec.action,
        recordType: 'data_share',
        recordId: id,
        organisationId: after.ownerId,
        detail: { version: after.version, ...spec.detail(before, after) },
      },
    ],
    events: (before, after) => [event(spec.event, after, spec.data(before, after))],
  });
}

const KEYS = ['assets', 'assetIds', 'validFrom', 'validTo', 'purpose'] as const;

/** Whether `after` shares more than `before`: more assets or a longer period. */
function widens(before: DataShare, after: DataShare): boolean {
  const rank = { NONE: 0, LISTED: 1, ALL: 2 } as const;
  if (rank[after.assets] > rank[before.assets]) return true;
  if (after.assets === 'LISTED' && before.assets === 'LISTED' && after.assetIds!.some((a) => !before.assetIds!.includes(a))) return true;
  return new Date(after.validFrom) < new Date(before.validFrom) || new Date(after.validTo) > new Date(before.validTo);
}

/** Change what is shared and for when (If-Match). Narrowing takes effect at the next pull: an asset removed is not served again. */
export async function updateShare(ctx: Ctx, actor: Principal, id: string, raw: unknown, ifMatch: number): Promise<DataShare> {
  const patch = parse(DataSharePatch, raw, 'change');
  const now = ctx.clock.now();
  let changes: Record<string, [unknown, unknown]> = {};
  let removed: string[] = [];
  try {
    return await ctx.db.transaction(async (tx) => {
      const { after } = await changeShare(ctx, tx, actor, now, id, ifMatch, {
        guard: (before) => {
          if (before.state === 'ENDED') throw new Problem('DATA-SHARE-ENDED', `Data share ${id} ended at ${before.validTo}.`);
        },
        set: async (before) => {
          const next: DataShare = { ...before };
          if (patch.assets !== undefined) next.assets = patch.assets;
          if (patch.assetIds !== undefined) next.assetIds = patch.assetIds ? [...new Set(patch.assetIds)].sort() : null;
          // Moving away from LISTED drops the list unless the change names one (which the rules then refuse).
          if (patch.assets !== undefined && patch.assets !== 'LISTED' && patch.assetIds === undefined) next.assetIds = null;
          if (patch.validFrom !== undefined) next.validFrom = new Date(patch.validFrom).toISOString();
          if (patch.validTo !== undefined) next.validTo = new Date(patch.validTo).toISOString();
          if (patch.purpose !== undefined) next.purpose = patch.purpose;
          // A live share's start is history: it may not move (the pulls it served stay under it).
          if (before.state === 'LIVE' && next.validFrom !== before.validFrom)
            throw refuse([
              fieldError('validFrom', 'DATA-SHARE-PERIOD', `Data share ${id} is live since ${before.validFrom}: its start stays.`),
            ]);
          const errors = shapeErrors(next, now);
          if (errors.length) throw refuse(errors);
          const owner = await getOrganisationRow(tx, before.ownerId);
          const assetProblems = await assetErrors(tx, { organisationId: before.ownerId, roles: owner?.roles ?? [] }, next);
          if (assetProblems.length) throw refuse(assetProblems);
          const other = await overlappingShare(tx, before.ownerId, before.recipientId, next.validFrom, next.validTo, id);
          if (other) throw overlap(other);
          changes = Object.fromEntries(
            KEYS.filter((k) => JSON.stringify(before[k]) !== JSON.stringify(next[k])).map((k) => [k, [before[k], next[k]]]),
          );
          removed =
            before.assets === 'NONE'
              ? []
              : next.assets === 'NONE'
                ? (before.assetIds ?? ['*'])
                : next.assets === 'LISTED'
                  ? before.assets === 'ALL'
                    ? ['*']
                    : before.assetIds!.filter((a) => !next.assetIds!.includes(a))
                  : [];
          return {
            sql: `assets = $1, asset_ids = $2::text[], valid_from = $3::timestamptz, valid_to = $4::timestamptz, purpose = $5`,
            params: [next.assets, next.assetIds, next.validFrom, next.validTo, next.purpose],
          };
        },
        action: 'data-share.updated',
        detail: () => ({ changes }),
        event: 'fmar.data-share.updated',
        data: (before, after) => ({
          changed: Object.keys(changes),
          narrowed: Object.keys(changes).length > 0 && !widens(before, after),
          removedAssetIds: removed.filter((a) => a !== '*').slice(0, 100),
        }),
      });
      return after;
    });
  } catch (e) {
    throw raced(e);
  }
}

/** Revoke (never delete): no pull is served through it from the moment it commits; pulls in flight finish first. */
export async function revokeShare(ctx: Ctx, actor: Principal, id: string, ifMatch: number, reason?: string): Promise<DataShare> {
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const { after } = await changeShare(ctx, tx, actor, now, id, ifMatch, {
      set: async () => ({
        sql: `status = 'REVOKED', revoked_at = $1::timestamptz, revoke_reason = $2`,
        params: [now.toISOString(), reason ?? null],
      }),
      action: 'data-share.revoked',
      detail: () => ({ reason: reason ?? null }),
      event: 'fmar.data-share.revoked',
      data: () => ({ reason: reason ?? null }),
    });
    return after;
  });
}

/**
 * A pull through a share, in one transaction: the share is read FOR SHARE (a revocation or change
 * waits for the pull, and a pull after it sees it), must be live and its owner active; then `serve`
 * reads the data, and the read is logged for the owner before the transaction commits, so nothing
 * is served unlogged and nothing after the revocation.
 */
async function pull<T>(
  ctx: Ctx,
  p: Principal,
  id: string,
  serve: (tx: Sql, share: DataShare, owner: { organisationId: string; roles: OrganisationRole[] }, now: Date) => Promise<T>,
): Promise<T> {
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const row = ULID_RE.test(id) ? await selectShare(tx, p, id, 'pull', 'share') : undefined;
    if (!row) throw notFound(id);
    const share = toShare(row, now);
    if (share.state !== 'LIVE')
      throw new Problem(
        'DATA-SHARE-NOT-LIVE',
        share.state === 'PENDING'
          ? `Data share ${id} starts at ${share.validFrom}.`
          : share.state === 'ENDED'
            ? `Data share ${id} ended at ${share.validTo}.`
            : `Data share ${id} was revoked at ${share.revokedAt}.`,
        { state: share.state, validFrom: share.validFrom, validTo: share.validTo, revokedAt: share.revokedAt },
      );
    const owner = await getOrganisationRow(tx, share.ownerId);
    if (!owner || owner.status !== 'ACTIVE')
      throw new Problem('DATA-SHARE-OWNER-INACTIVE', `Organisation ${share.ownerId} is ${owner?.status ?? 'gone'}: nothing is served.`);
    return serve(tx, share, { organisationId: owner.id, roles: owner.roles }, now);
  });
}

const ROUTE = '/api/v1/data-shares/{id}';

/** The owner's passport, as the owner reads it. */
export function pullPassport(ctx: Ctx, p: Principal, id: string): Promise<Organisation> {
  return pull(ctx, p, id, async (tx, share, _owner, now) => {
    const row = (await getOrganisationRow(tx, share.ownerId))!;
    await logPrivateRead(tx, p, now, {
      action: 'organisation.passport-read',
      recordType: 'organisation',
      recordId: share.ownerId,
      route: `GET ${ROUTE}/passport`,
      shares: new Map([[share.ownerId, [share.ownerId]]]),
      dataShareId: share.id,
    });
    return toOrganisation(row);
  });
}

/** What an asset's parties are, for the read log: its owner and its controlling FSP. */
const parties = (a: Asset) => ({ id: a.id, parties: [a.organisationId, a.fspId] });

/** A keyset page of the assets the share covers now (none for a passport-only share). */
export function pullAssets(ctx: Ctx, p: Principal, id: string, page: { limit: number; after?: string }) {
  return pull(ctx, p, id, async (tx, share, owner, now) => {
    if (share.assets === 'NONE') return { items: [] as Asset[], next: undefined };
    const rows = await heldAssets(tx, owner, { ids: share.assetIds, after: page.after, limit: page.limit + 1 });
    const items = rows.slice(0, page.limit).map(toAsset);
    await logPrivateRead(tx, p, now, {
      action: 'asset.read',
      recordType: 'asset',
      recordId: 'list',
      route: `GET ${ROUTE}/assets`,
      shares: othersRecords(p, items.map(parties)),
      dataShareId: share.id,
    });
    return { items, next: rows.length > page.limit ? items[items.length - 1].id : undefined };
  });
}

/** One asset the share covers now; another is DATA-SHARE-ASSET-NOT-SHARED. */
export function pullAsset(ctx: Ctx, p: Principal, id: string, assetId: string): Promise<Asset> {
  return pull(ctx, p, id, async (tx, share, owner, now) => {
    const covered = share.assets === 'ALL' || (share.assets === 'LISTED' && share.assetIds!.includes(assetId));
    const [row] = covered && ULID_RE.test(assetId) ? await heldAssets(tx, owner, { ids: [assetId], limit: 1 }) : [];
    if (!row) throw new Problem('DATA-SHARE-ASSET-NOT-SHARED', `Asset ${assetId} is not covered by data share ${id} now.`);
    const asset = toAsset(row);
    await logPrivateRead(tx, p, now, {
      action: 'asset.read',
      recordType: 'asset',
      recordId: asset.id,
      route: `GET ${ROUTE}/assets/{assetId}`,
      shares: othersRecords(p, [parties(asset)]),
      dataShareId: share.id,
    });
    return asset;
  });
}

/** Every pull through a share, oldest first, as its owner sees them: who, when, through which route, which records. */
export async function sharePulls(ctx: Ctx, p: Principal, id: string, page: { limit: number; after?: string }) {
  const share = await getShare(ctx, p, id);
  return readsOfOrganisation(ctx.db, share.ownerId, { dataShareId: share.id }, page);
}
