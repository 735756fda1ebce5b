import type { Principal } from '../access/principal';
import type { AuditEntry } from '../audit/audit';
import type { Ctx } from '../context';
import type { ChangeEvent } from '../events/outbox';
import { Problem } from '../http/problem';
import { changeVersioned, changeVersionedMany, type Change } from '../kernel/versioned';
import type { Sql } from '../storage/db';
import { assetsChanged } from './hooks';
import type { Asset } from './schema';
import { ASSET_COLS, toAsset, type AssetRow } from './store';

/**
 * The asset's versioned changes, the only writers of the asset row besides registration: the
 * asset's own update and de-registration (service.ts) and the changes other domains ask for (a
 * status from data quality, a switch's FSP change, a suspension, CIM network enrichment) go
 * through here, and so through the kernel's one versioned change (src/kernel/versioned.ts).
 */

type AssetSpec = Pick<Change<Asset>, 'guard' | 'ifMatch' | 'set' | 'audit' | 'events' | 'by'> & {
  id: string;
  lock?: Change<Asset>['lock'];
};

/** Lock the asset row (the caller has checked who may change it). */
export async function lockAsset(tx: Sql, id: string): Promise<Asset | undefined> {
  const [row] = await tx.query<AssetRow>(`SELECT ${ASSET_COLS} FROM asset a WHERE a.id = $1 FOR UPDATE OF a`, [id]);
  return row ? toAsset(row) : undefined;
}

/** One versioned change of an asset row in the caller's transaction (prior versions in record_history). */
export function changeAsset(tx: Sql, ctx: Ctx, actor: Principal, now: Date, s: AssetSpec) {
  return changeVersioned(tx, ctx, actor, now, {
    table: 'asset',
    alias: 'a',
    key: { id: s.id },
    lock: s.lock ?? ((t) => lockAsset(t, s.id)),
    notFound: () => new Problem('ASSET-NOT-FOUND', `No asset ${s.id}.`),
    label: `Asset ${s.id}`,
    guard: s.guard,
    ifMatch: s.ifMatch,
    set: s.set,
    by: s.by,
    history: 'asset',
    returning: ASSET_COLS,
    toRecord: toAsset,
    audit: s.audit,
    events: s.events,
  });
}

/**
 * A new status for a locked asset, from another domain (data-quality validation, a revoked
 * consent's suspension): one version, its audit record and its events.
 */
export async function setAssetStatusIn(
  tx: Sql,
  ctx: Ctx,
  actor: Principal,
  now: Date,
  o: {
    asset: Asset;
    status: string;
    audit: (after: Asset) => AuditEntry;
    events: (after: Asset) => ChangeEvent[];
  },
): Promise<Asset> {
  const { after } = await changeAsset(tx, ctx, actor, now, {
    id: o.asset.id,
    lock: async () => o.asset,
    set: () => ({ sql: 'status = $1', params: [o.status] }),
    audit: (_, a) => [o.audit(a)],
    events: (_, a) => o.events(a),
  });
  return after;
}

/**
 * A switch takes effect (src/switching): the locked asset's open FSP link closes at `effectiveAt`
 * and the gaining FSP's opens; data quality follows control (the asset's findings move to the
 * gaining FSP's scorecard).
 */
export async function moveAssetFspIn(
  tx: Sql,
  ctx: Ctx,
  actor: Principal,
  now: Date,
  o: {
    asset: Asset;
    toFspId: string;
    effectiveAt: string;
    by: string;
    audit: (after: Asset) => AuditEntry;
    events: (after: Asset) => ChangeEvent[];
  },
): Promise<Asset> {
  await closeFspLink(tx, o.asset.id, o.effectiveAt);
  const { after } = await changeAsset(tx, ctx, actor, now, {
    id: o.asset.id,
    lock: async () => o.asset,
    by: o.by,
    set: () => ({
      sql: `fsp_id = $1, fsp_since = $2::timestamptz, fsp_since_recorded_at = $3::timestamptz, fsp_since_recorded_by = $4`,
      params: [o.toFspId, o.effectiveAt, now.toISOString(), o.by],
    }),
    audit: (_, a) => [o.audit(a)],
    events: (_, a) => o.events(a),
  });
  await ctx.hooks.run(assetsChanged, tx, { ctx, now, assets: [after] });
  return after;
}

/**
 * Close the asset's open FSP link at `at`: the period it held on the asset row becomes a closed
 * asset_fsp_link row (whose exclusion constraint refuses an overlap). The caller then opens the
 * next period on the row, or clears it (de-registration). Run inside the caller's transaction,
 * with the asset row locked.
 */
export async function closeFspLink(tx: Sql, assetId: string, at: string) {
  await tx.query(
    `INSERT INTO asset_fsp_link (asset_id, fsp_id, valid, recorded_at, recorded_by)
    SELECT id, fsp_id, tstzrange(fsp_since, $2::timestamptz), fsp_since_recorded_at, fsp_since_recorded_by FROM asset WHERE id = $1 AND fsp_since IS NOT NULL`,
    [assetId, at],
  );
}

/**
 * CIM network enrichment (src/cim): new versions of the locked assets, set-based, and the
 * equipment mRID as an alias (scheme `scheme`) where one fits; the audit and events name the
 * network references.
 */
export async function enrichAssetsIn(
  tx: Sql,
  ctx: Ctx,
  actor: Principal,
  now: Date,
  o: {
    befores: Asset[];
    aliasScheme: string;
    aliases: { asset_id: string; organisation_id: string; value: string }[];
    /** Aliases of other schemes (an ECR reference, kept in the asset's DNO register). */
    otherAliases?: { asset_id: string; organisation_id: string; scheme: string; value: string; register: string | null }[];
    audit: (before: Asset, version: number) => AuditEntry;
    events: (before: Asset, version: number) => ChangeEvent[];
  },
): Promise<void> {
  await changeVersionedMany(tx, ctx, actor, now, {
    table: 'asset',
    history: 'asset',
    befores: o.befores,
    audit: o.audit,
    events: o.events,
  });
  await tx.query(
    `INSERT INTO asset_alias (scheme, value, asset_id, organisation_id) SELECT $2, x.value, x.asset_id, x.organisation_id
    FROM jsonb_to_recordset($1::jsonb) AS x(asset_id text, organisation_id text, value text) ON CONFLICT (scheme, value, asset_id) DO UPDATE SET active = true`,
    [o.aliases, o.aliasScheme],
  );
  if (o.otherAliases?.length)
    await tx.query(
      `INSERT INTO asset_alias (scheme, value, asset_id, organisation_id, register) SELECT x.scheme, x.value, x.asset_id, x.organisation_id, x.register
      FROM jsonb_to_recordset($1::jsonb) AS x(asset_id text, organisation_id text, scheme text, value text, register text) ON CONFLICT (scheme, value, asset_id) DO UPDATE SET active = true`,
      [o.otherAliases],
    );
}
