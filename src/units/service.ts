import type { Principal } from '../access/principal';
import { recordedBy, seesAll } from '../access/principal';
import type { Asset, Warning } from '../assets/schema';
import { ASSET_COLS, assetVisibility, toAsset, type AssetRow } from '../assets/store';
import { writeAudit } from '../audit/audit';
import type { Ctx } from '../context';
import { writeEvents } from '../events/outbox';
import { Problem, fieldError, type FieldError } from '../http/problem';
import { fieldErrorsFromZod } from '../http/validation';
import { ULID_RE } from '../ids';
import { constraintName, pgErrorCode, type Sql } from '../storage/db';
import { changeVersioned, priorVersions, type Change } from '../kernel/versioned';
import { activeQualifications, offeredProduct, productOwners } from '../products/store';
import { checkComposition } from './rules';
import { MarketUnitInput, MarketUnitPatch, type MarketUnit } from './schema';
import { UNIT_COLS, awardedContracts, selectUnit, toUnit, unitVisibility, type UnitRow } from './store';
import { unitMembersChanged } from './hooks';

/** The first rule broken names the problem; every error found comes back in `errors`. */
function refuse(errors: FieldError[], warnings: Warning[] = []): Problem {
  return new Problem(errors[0].code, errors.map((e) => e.detail).join(' '), warnings.length ? { warnings } : {}, errors);
}

/** The member assets, as the caller may write them, locked against a concurrent de-registration. */
async function memberAssets(tx: Sql, p: Principal, ids: string[]): Promise<Asset[]> {
  const wellFormed = ids.filter((id) => ULID_RE.test(id));
  const params: unknown[] = [wellFormed];
  const vis = assetVisibility(p, params, 'write');
  const rows = wellFormed.length
    ? await tx.query<AssetRow>(
        `SELECT ${ASSET_COLS} FROM asset a WHERE a.id = ANY($1::text[]) AND ${vis} ORDER BY a.id FOR SHARE OF a`,
        params,
      )
    : [];
  const found = rows.map(toAsset);
  const missing = ids.filter((id) => !found.some((a) => a.id === id));
  if (missing.length) throw refuse([fieldError('assetIds', 'UNIT-ASSET-UNKNOWN', `No asset you may write: ${missing.join(', ')}.`)]);
  return found;
}

/** Every composition rule, then the one-unit-per-product rule against the stored units. */
async function checkMembers(
  tx: Sql,
  p: Principal,
  unit: { id: string; fspId: string; type: MarketUnit['type']; product: string },
  assetIds: string[],
  found?: Asset[],
): Promise<{ assets: Asset[]; warnings: Warning[] }> {
  const assets = found ?? (await memberAssets(tx, p, assetIds));
  const { errors, warnings } = checkComposition(unit, assets);
  if (errors.length) throw refuse(errors, warnings);
  const taken = await tx.query<{ asset_id: string; market_unit_id: string }>(
    `SELECT asset_id, market_unit_id FROM market_unit_member WHERE active AND product = $1 AND asset_id = ANY($2::text[]) AND market_unit_id <> $3 ORDER BY asset_id`,
    [unit.product, assetIds, unit.id],
  );
  if (taken.length) {
    const detail = `For product ${unit.product}: ${taken.map((t) => `${t.asset_id} is in market unit ${t.market_unit_id}`).join(', ')}.`;
    throw new Problem(
      'UNIT-ASSET-IN-OTHER-UNIT',
      detail,
      { otherMarketUnits: taken.map((t) => ({ assetId: t.asset_id, marketUnitId: t.market_unit_id })) },
      [fieldError('assetIds', 'UNIT-ASSET-IN-OTHER-UNIT', detail)],
    );
  }
  return { assets, warnings };
}

async function insertMembers(tx: Sql, unitId: string, product: string, assetIds: string[]) {
  await tx.query(`INSERT INTO market_unit_member (market_unit_id, asset_id, product) SELECT $1, x, $2 FROM unnest($3::text[]) AS x`, [
    unitId,
    product,
    assetIds,
  ]);
}

/** One versioned change of a unit (src/kernel/versioned.ts), prior versions in record_history; `lock` defaults to a unit the caller has locked already. */
function changeUnit(
  tx: Sql,
  ctx: Ctx,
  actor: Principal,
  now: Date,
  id: string,
  spec: Pick<Change<MarketUnit>, 'set' | 'audit' | 'events'> & Partial<Pick<Change<MarketUnit>, 'lock' | 'guard' | 'ifMatch'>>,
) {
  return changeVersioned(tx, ctx, actor, now, {
    table: 'market_unit',
    alias: 'u',
    key: { id },
    label: `Market unit ${id}`,
    returning: UNIT_COLS,
    toRecord: toUnit,
    lock: () => reread(tx, id),
    notFound: () => new Problem('UNIT-NOT-FOUND', `No market unit ${id}.`),
    history: 'market_unit',
    ...spec,
  });
}

/** Lock a unit the caller may write (the kernel then refuses a stale If-Match). */
function lockUnit(p: Principal, id: string, mode: 'write' | 'read' = 'write') {
  return async (tx: Sql): Promise<MarketUnit | undefined> => {
    const row = ULID_RE.test(id) ? await selectUnit(tx, p, id, { forUpdate: true, mode }) : undefined;
    return row ? toUnit(row) : undefined;
  };
}

const refuseDeregistered = (before: MarketUnit) => {
  if (before.deregisteredAt) throw new Problem('UNIT-DEREGISTERED');
};

async function reread(tx: Sql, id: string): Promise<MarketUnit> {
  return toUnit((await tx.query<UnitRow>(`SELECT ${UNIT_COLS} FROM market_unit u WHERE u.id = $1`, [id]))[0]);
}

/** A concurrent writer put an asset in another unit for this product between our check and our insert. */
function raced(e: unknown): never {
  if (pgErrorCode(e) === '23505' && constraintName(e) === 'market_unit_member_one_per_product')
    throw new Problem(
      'UNIT-ASSET-IN-OTHER-UNIT',
      'An asset was put in another unit for this product concurrently; read the units and retry.',
    );
  throw e;
}

const unique = (ids: string[]) => [...new Set(ids)].sort();

async function activeFsp(tx: Sql, id: string): Promise<boolean> {
  const [o] = await tx.query(
    `SELECT 1 FROM organisation WHERE id = $1 AND status = 'ACTIVE' AND roles && ARRAY['FSP', 'AGGREGATOR']::text[]`,
    [id],
  );
  return !!o;
}

/** UC-03.01: create a unit; every rule is checked before anything is written. */
export async function createMarketUnit(ctx: Ctx, actor: Principal, raw: unknown): Promise<{ unit: MarketUnit; warnings: Warning[] }> {
  const parsed = MarketUnitInput.safeParse(raw);
  if (!parsed.success) throw new Problem('REQUEST-VALIDATION', 'The market unit is invalid.', {}, fieldErrorsFromZod(parsed.error, raw));
  const input = parsed.data;
  if (!seesAll(actor) && input.fspId && input.fspId !== actor.organisationId)
    throw refuse([fieldError('fspId', 'AUTH-ROLE-FORBIDDEN', 'An FSP creates market units for itself.')]);
  const assetIds = unique(input.assetIds);
  const now = ctx.clock.now();
  const at = now.toISOString();
  const id = ctx.ids.next();
  try {
    return await ctx.db.transaction(async (tx) => {
      if (!(await offeredProduct(tx, input.product, at)))
        throw refuse([fieldError('product', 'UNIT-PRODUCT-UNKNOWN', `${input.product} is not an active product of the catalogue.`)]);
      const assets = await memberAssets(tx, actor, assetIds);
      // The operator may leave the FSP to the assets; an FSP's unit is its own.
      const fspId = seesAll(actor) ? (input.fspId ?? assets[0].fspId) : actor.organisationId;
      if (!(await activeFsp(tx, fspId)))
        throw refuse([fieldError('fspId', 'UNIT-FSP-INVALID', `${fspId} is not an active FSP or aggregator.`)]);
      const { warnings } = await checkMembers(tx, actor, { id, fspId, type: input.type, product: input.product }, assetIds, assets);
      await tx.query(
        `INSERT INTO market_unit (id, fsp_id, name, unit_type, product, status, recorded_at, recorded_by) VALUES ($1, $2, $3, $4, $5, 'ACTIVE', $6::timestamptz, $7)`,
        [id, fspId, input.name, input.type, input.product, at, recordedBy(actor)],
      );
      await insertMembers(tx, id, input.product, assetIds);
      await ctx.hooks.run(unitMembersChanged, tx, { ctx, now, assetIds });
      const unit = await reread(tx, id);
      await writeAudit(tx, actor, now, [
        {
          action: 'market-unit.created',
          recordType: 'market_unit',
          recordId: id,
          organisationId: fspId,
          detail: { version: 1, name: unit.name, type: unit.type, product: unit.product, assetIds, warnings: warnings.map((w) => w.code) },
        },
      ]);
      await writeEvents(tx, ctx.ids, now, [
        {
          type: 'fmar.market-unit.created',
          subject: id,
          organisationId: fspId,
          data: { marketUnitId: id, fspId, assetIds, product: unit.product, type: unit.type, version: 1 },
        },
      ]);
      return { unit, warnings };
    });
  } catch (e) {
    raced(e);
  }
}

export async function getMarketUnit(ctx: Ctx, p: Principal, id: string): Promise<MarketUnit> {
  const row = ULID_RE.test(id) ? await selectUnit(ctx.db, p, id) : undefined;
  if (!row) throw new Problem('UNIT-NOT-FOUND', `No market unit ${id}.`);
  return toUnit(row);
}

/** Every version, newest first: the current record then the kept prior versions. */
export async function marketUnitHistory(ctx: Ctx, p: Principal, id: string): Promise<MarketUnit[]> {
  const current = await getMarketUnit(ctx, p, id);
  return [current, ...(await priorVersions<MarketUnit>(ctx.db, 'market_unit', id))];
}

export interface UnitFilter {
  fspId?: string;
  product?: string;
  assetId?: string;
  status?: MarketUnit['status'];
}

/** Keyset page of visible units, ordered by ID; ACTIVE ones unless a status is asked for. */
export async function listMarketUnits(ctx: Ctx, p: Principal, f: UnitFilter, page: { limit: number; after?: string }) {
  const params: unknown[] = [];
  const conds = [unitVisibility(p, params)];
  const eq = (sql: string, v: string | undefined) => {
    if (v !== undefined) {
      params.push(v);
      conds.push(sql.replace('?', `$${params.length}`));
    }
  };
  eq('u.fsp_id = ?', f.fspId);
  eq('u.product = ?', f.product);
  eq('u.status = ?', f.status ?? 'ACTIVE');
  eq('u.id IN (SELECT market_unit_id FROM market_unit_member WHERE asset_id = ?)', f.assetId);
  eq('u.id > ?', page.after);
  params.push(page.limit + 1);
  const rows = await ctx.db.query<UnitRow>(
    `SELECT ${UNIT_COLS} FROM market_unit u WHERE ${conds.join(' AND ')} ORDER BY u.id LIMIT $${params.length}`,
    params,
  );
  const items = rows.slice(0, page.limit).map(toUnit);
  return { items, next: rows.length > page.limit ? items[items.length - 1].id : undefined };
}

/** UC-03.03 inside the caller's transaction (a dispute's correction, src/disputes); the audit record names the dispute. */
export function updateMarketUnitIn(
  tx: Sql,
  ctx: Ctx,
  actor: Principal,
  id: string,
  raw: unknown,
  ifMatch: number,
  opts: { disputeId?: string } = {},
) {
  return updateMarketUnit(ctx, actor, id, raw, ifMatch, { ...opts, tx });
}

/** UC-03.03: change the name, the type or the composition, with If-Match; the prior version is kept. */
export async function updateMarketUnit(
  ctx: Ctx,
  actor: Principal,
  id: string,
  raw: unknown,
  ifMatch: number,
  opts: { tx?: Sql; disputeId?: string } = {},
): Promise<{ unit: MarketUnit; warnings: Warning[] }> {
  const parsed = MarketUnitPatch.safeParse(raw);
  if (!parsed.success) throw new Problem('REQUEST-VALIDATION', 'The update is invalid.', {}, fieldErrorsFromZod(parsed.error, raw));
  const patch = parsed.data;
  const now = ctx.clock.now();
  const at = now.toISOString();
  const inTransaction = <T>(f: (tx: Sql) => Promise<T>) => (opts.tx ? f(opts.tx) : ctx.db.transaction(f));
  try {
    return await inTransaction(async (tx) => {
      let warnings: Warning[] = [];
      let qualified: { id: string; productId: string }[] = [];
      let reason: string | null = null;
      let changes: Record<string, unknown> = {};
      const { after } = await changeUnit(tx, ctx, actor, now, id, {
        lock: lockUnit(actor, id),
        guard: refuseDeregistered,
        ifMatch,
        set: async (before) => {
          const assetIds = patch.assetIds ? unique(patch.assetIds) : before.assetIds;
          const type = patch.type ?? before.type;
          ({ warnings } = await checkMembers(tx, actor, { id, fspId: before.fspId, type, product: before.product }, assetIds));
          // A change of type or composition is material: a unit holding an active qualification needs re-assessment.
          const material = type !== before.type || JSON.stringify(assetIds) !== JSON.stringify(before.assetIds);
          qualified = material ? await activeQualifications(tx, id, at) : [];
          reason = qualified.length
            ? `${type !== before.type ? 'type' : 'composition'} changed in version ${before.version + 1} while qualified (${qualified.map((q) => q.productId).join(', ')})`
            : null;
          if (patch.assetIds) {
            await tx.query(`DELETE FROM market_unit_member WHERE market_unit_id = $1`, [id]);
            await insertMembers(tx, id, before.product, assetIds);
            await ctx.hooks.run(unitMembersChanged, tx, { ctx, now, assetIds: unique([...before.assetIds, ...assetIds]) });
          }
          return {
            sql: `name = $1, unit_type = $2, reassessment_required = reassessment_required OR $3::text IS NOT NULL, reassessment_reason = COALESCE($3::text, reassessment_reason)`,
            params: [patch.name ?? before.name, type, reason],
          };
        },
        audit: (before, after) => {
          changes = Object.fromEntries(
            (['name', 'type', 'assetIds'] as const)
              .filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]))
              .map((k) => [k, [before[k], after[k]]]),
          );
          return [
            {
              action: 'market-unit.updated',
              recordType: 'market_unit',
              recordId: id,
              organisationId: before.fspId,
              detail: {
                version: after.version,
                changes,
                warnings: warnings.map((w) => w.code),
                ...(opts.disputeId ? { disputeId: opts.disputeId } : {}),
              },
            },
          ];
        },
        events: (before, after) => [
          {
            type: 'fmar.market-unit.updated',
            subject: id,
            organisationId: before.fspId,
            data: {
              marketUnitId: id,
              fspId: before.fspId,
              assetIds: after.assetIds,
              changed: Object.keys(changes),
              version: after.version,
            },
          },
        ],
      });
      if (reason)
        await writeReassessmentNotice(
          tx,
          ctx,
          actor,
          after,
          now,
          { reason, qualificationIds: qualified.map((q) => q.id) },
          qualified.map((q) => q.productId),
        );
      return { unit: after, warnings };
    });
  } catch (e) {
    raced(e);
  }
}

/**
 * UC-03.04: soft delete, refused while an awarded (CONFIRMED, not ended) contract holds the unit or
 * one of its assets for its product. Its assets stay registered and are free for another unit.
 */
export async function deregisterMarketUnit(
  ctx: Ctx,
  actor: Principal,
  id: string,
  opts: { ifMatch?: number; reason?: string } = {},
): Promise<MarketUnit> {
  const now = ctx.clock.now();
  const at = now.toISOString();
  return ctx.db.transaction(async (tx) => {
    const { after } = await changeUnit(tx, ctx, actor, now, id, {
      lock: lockUnit(actor, id),
      guard: refuseDeregistered,
      ifMatch: opts.ifMatch,
      set: async (before) => {
        const contracts = await awardedContracts(tx, before, at);
        if (contracts.length)
          throw new Problem(
            'UNIT-CONTRACT-AWARDED',
            `Market unit ${id} holds confirmed contract(s) ${contracts.join(', ')}; they must be terminated first.`,
            { contractIds: contracts },
          );
        const qualified = await activeQualifications(tx, id, at);
        if (qualified.length)
          throw new Problem(
            'UNIT-QUALIFIED',
            `Market unit ${id} holds active qualification(s) ${qualified.map((q) => `${q.id} (${q.productId})`).join(', ')}; its System Operator records their end first.`,
            { qualificationIds: qualified.map((q) => q.id) },
          );
        await tx.query(`UPDATE market_unit_member SET active = false WHERE market_unit_id = $1`, [id]);
        await ctx.hooks.run(unitMembersChanged, tx, { ctx, now, assetIds: before.assetIds });
        return { sql: `status = 'DEREGISTERED', deregistered_at = $1::timestamptz`, params: [at] };
      },
      audit: (before, after) => [
        {
          action: 'market-unit.deregistered',
          recordType: 'market_unit',
          recordId: id,
          organisationId: before.fspId,
          detail: { version: after.version, reason: opts.reason ?? null },
        },
      ],
      events: (before, after) => [
        {
          type: 'fmar.market-unit.deregistered',
          subject: id,
          organisationId: before.fspId,
          data: { marketUnitId: id, fspId: before.fspId, assetIds: after.assetIds, version: after.version },
        },
      ],
    });
    return after;
  });
}

/**
 * UC-02.06 / UC-03.02: move a unit to a new FSP, inside the caller's transaction. The switching
 * module calls this when a sole-member unit's asset switches; the operator through the API. Every
 * member must already be controlled by the new FSP (UNIT-MIXED-FSP otherwise).
 */
export async function reassignMarketUnitIn(
  tx: Sql,
  ctx: Ctx,
  actor: Principal,
  id: string,
  fspId: string,
  opts: { reason?: string; now?: Date } = {},
): Promise<MarketUnit> {
  const now = opts.now ?? ctx.clock.now();
  const { after } = await changeUnit(tx, ctx, actor, now, id, {
    lock: lockUnit(actor, id, 'read'),
    guard: refuseDeregistered,
    set: async (before) => {
      if (before.fspId === fspId) throw new Problem('UNIT-REASSIGN-SAME-FSP', `Market unit ${id} is already controlled by ${fspId}.`);
      if (!(await activeFsp(tx, fspId)))
        throw refuse([fieldError('fspId', 'UNIT-FSP-INVALID', `${fspId} is not an active FSP or aggregator.`)]);
      const members = (
        await tx.query<AssetRow>(`SELECT ${ASSET_COLS} FROM asset a WHERE a.id = ANY($1::text[]) ORDER BY a.id`, [before.assetIds])
      ).map(toAsset);
      const { errors } = checkComposition({ fspId, type: before.type }, members);
      const mixed = errors.filter((e) => e.code === 'UNIT-MIXED-FSP');
      if (mixed.length) throw refuse(mixed);
      return { sql: 'fsp_id = $1', params: [fspId] };
    },
    audit: (before, after) => [
      {
        action: 'market-unit.reassigned',
        recordType: 'market_unit',
        recordId: id,
        organisationId: fspId,
        detail: { version: after.version, fromFspId: before.fspId, toFspId: fspId, reason: opts.reason ?? null },
      },
    ],
    // One change announced to both FSPs: the same type, subject and data, so each receives it once.
    events: (before, after) => {
      const data = { marketUnitId: id, fspId, fromFspId: before.fspId, assetIds: after.assetIds, version: after.version };
      return [fspId, before.fspId].map((org) => ({ type: 'fmar.market-unit.reassigned', subject: id, organisationId: org, data }));
    },
  });
  return after;
}

/**
 * What a switch that has taken effect does to the asset's active market units (UC-02.06 step 6),
 * in the switch's transaction: a unit whose only member is the asset moves to the gaining FSP with
 * it (an SPG moved so is flagged: one member is one accounting point); any other unit loses the
 * asset and is flagged Re-assessment Required. The asset has already
 * moved when this runs. Returns the units moved and the units flagged.
 */
export async function applySwitchToUnits(
  tx: Sql,
  ctx: Ctx,
  actor: Principal,
  o: { assetId: string; gainingFspId: string; switchId: string; now: Date },
): Promise<{ moved: string[]; flagged: string[] }> {
  const units = await tx.query<{ id: string; unit_type: MarketUnit['type']; members: number }>(
    `SELECT u.id, u.unit_type, (SELECT count(*) FROM market_unit_member x WHERE x.market_unit_id = u.id AND x.active)::int AS members
       FROM market_unit u JOIN market_unit_member m ON m.market_unit_id = u.id AND m.active
      WHERE m.asset_id = $1 AND u.status = 'ACTIVE' ORDER BY u.id FOR UPDATE OF u`,
    [o.assetId],
  );
  const moved: string[] = [];
  const flagged: string[] = [];
  for (const u of units) {
    if (u.members === 1) {
      await reassignMarketUnitIn(tx, ctx, actor, u.id, o.gainingFspId, {
        reason: `sole member switched (switch ${o.switchId})`,
        now: o.now,
      });
      moved.push(u.id);
      // An SPG of one member is no SPG (UNIT-SPG-ACCOUNTING-POINTS): it moves, and is flagged for its new FSP to re-assess.
      if (u.unit_type === 'SPG') {
        await flagUnit(
          tx,
          ctx,
          actor,
          u.id,
          o.now,
          `an SPG with one member (asset ${o.assetId}, switch ${o.switchId}) is one accounting point (UNIT-SPG-ACCOUNTING-POINTS)`,
          { switchId: o.switchId },
        );
        flagged.push(u.id);
      }
      continue;
    }
    await tx.query(`UPDATE market_unit_member SET active = false WHERE market_unit_id = $1 AND asset_id = $2`, [u.id, o.assetId]);
    const rest = await tx.query<{ asset_id: string }>(`SELECT asset_id FROM market_unit_member WHERE market_unit_id = $1 AND active`, [
      u.id,
    ]);
    await ctx.hooks.run(unitMembersChanged, tx, { ctx, now: o.now, assetIds: [o.assetId, ...rest.map((r) => r.asset_id)] });
    const left = await spgAccountingPoints(tx, u.id);
    const reason = `asset ${o.assetId} left with switch ${o.switchId}${u.unit_type === 'SPG' && left < 2 ? `; the SPG is left with ${left} accounting point(s) (UNIT-SPG-ACCOUNTING-POINTS)` : ''}`;
    await flagUnit(tx, ctx, actor, u.id, o.now, reason, { removedAssetId: o.assetId, switchId: o.switchId });
    flagged.push(u.id);
  }
  return { moved, flagged };
}

/** Distinct import MPANs of a unit's active members. */
async function spgAccountingPoints(tx: Sql, unitId: string): Promise<number> {
  const [r] = await tx.query<{ n: number }>(
    `SELECT count(DISTINCT a.import_mpan)::int AS n FROM market_unit_member m JOIN asset a ON a.id = m.asset_id WHERE m.market_unit_id = $1 AND m.active`,
    [unitId],
  );
  return r.n;
}

/** Set Re-assessment Required with its reason (a new unit version) and announce it. */
async function flagUnit(tx: Sql, ctx: Ctx, actor: Principal, unitId: string, now: Date, reason: string, detail: Record<string, unknown>) {
  const at = now.toISOString();
  let productOwnerIds: string[] = [];
  await changeUnit(tx, ctx, actor, now, unitId, {
    set: async (before) => {
      productOwnerIds = await productOwners(tx, [before.product, ...(await activeQualifications(tx, unitId, at)).map((q) => q.productId)]);
      return { sql: 'reassessment_required = true, reassessment_reason = $1', params: [reason] };
    },
    ...reassessmentNotice({ reason, ...detail }, () => productOwnerIds),
  });
}

/**
 * A member asset changed materially (capacity, category, connection; src/assets/service.ts), in the
 * update's transaction: each active unit holding it with an active qualification is flagged
 * Re-assessment Required, as a change of its composition would be. Returns the units flagged.
 */
export async function flagUnitsOfChangedMember(
  tx: Sql,
  ctx: Ctx,
  actor: Principal,
  o: { assetId: string; version: number; changed: string[]; now: Date },
): Promise<string[]> {
  const at = o.now.toISOString();
  const units = await tx.query<{ id: string }>(
    `SELECT u.id FROM market_unit u JOIN market_unit_member m ON m.market_unit_id = u.id AND m.active
      WHERE m.asset_id = $1 AND u.status = 'ACTIVE' ORDER BY u.id FOR UPDATE OF u`,
    [o.assetId],
  );
  const flagged: string[] = [];
  for (const u of units) {
    const qualified = await activeQualifications(tx, u.id, at);
    if (!qualified.length) continue;
    const reason = `member asset ${o.assetId} changed ${o.changed.join(', ')} in its version ${o.version} while the unit is qualified (${qualified.map((q) => q.productId).join(', ')})`;
    await flagUnit(tx, ctx, actor, u.id, o.now, reason, {
      changedAssetId: o.assetId,
      changed: o.changed,
      qualificationIds: qualified.map((q) => q.id),
    });
    flagged.push(u.id);
  }
  return flagged;
}

/**
 * The one announcement that a unit needs re-assessment (after a switch, or a material change while
 * qualified): audit on the unit, and fmar.market-unit.reassessment-required to the unit's FSP and
 * the System Operators owning its product and the products it is qualified for.
 */
function reassessmentNotice(detail: Record<string, unknown>, owners: () => string[]): Pick<Change<MarketUnit>, 'audit' | 'events'> {
  return {
    audit: (_, after) => [
      {
        action: 'market-unit.reassessment-required',
        recordType: 'market_unit',
        recordId: after.id,
        organisationId: after.fspId,
        detail: { version: after.version, ...detail },
      },
    ],
    events: (_, after) => [
      {
        type: 'fmar.market-unit.reassessment-required',
        subject: after.id,
        organisationId: after.fspId,
        data: {
          marketUnitId: after.id,
          fspId: after.fspId,
          product: after.product,
          assetIds: after.assetIds,
          version: after.version,
          productOwnerIds: owners(),
          ...detail,
        },
      },
    ],
  };
}

/** The notice for a version already written (an update that made a qualified unit need re-assessment). */
async function writeReassessmentNotice(
  tx: Sql,
  ctx: Ctx,
  actor: Principal,
  after: MarketUnit,
  now: Date,
  detail: Record<string, unknown>,
  qualifiedProducts: string[],
) {
  const owners = await productOwners(tx, [after.product, ...qualifiedProducts]);
  const notice = reassessmentNotice(detail, () => owners);
  await writeAudit(tx, actor, now, notice.audit(after, after));
  await writeEvents(tx, ctx.ids, now, notice.events(after, after));
}

/**
 * Recording QUALIFIED clears the unit's Re-assessment Required flag (UC-04.02), in the
 * qualification's transaction; the prior version is kept. Returns whether the flag was set.
 */
export async function clearReassessmentIn(
  tx: Sql,
  ctx: Ctx,
  actor: Principal,
  unitId: string,
  qualificationId: string,
  now: Date,
): Promise<boolean> {
  const before = await reread(tx, unitId);
  if (!before.reassessmentRequired) return false;
  await changeUnit(tx, ctx, actor, now, unitId, {
    lock: async () => before,
    set: () => ({ sql: 'reassessment_required = false, reassessment_reason = NULL', params: [] }),
    audit: (_, after) => [
      {
        action: 'market-unit.reassessment-cleared',
        recordType: 'market_unit',
        recordId: unitId,
        organisationId: before.fspId,
        detail: { version: after.version, qualificationId, previousReason: before.reassessmentReason },
      },
    ],
    events: () => [],
  });
  return true;
}

/** UC-03.02 through the API: the operator re-assigns a unit. */
export async function reassignMarketUnit(ctx: Ctx, actor: Principal, id: string, fspId: string, reason?: string): Promise<MarketUnit> {
  return ctx.db.transaction((tx) => reassignMarketUnitIn(tx, ctx, actor, id, fspId, { reason }));
}
