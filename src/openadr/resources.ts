import { RESOURCE_ATTRIBUTES, assetAttributes, assetTargets, type ValuesMap } from '../../openadr/index';
import { recordedBy, type Principal } from '../access/principal';
import { writeAudit } from '../audit/audit';
import type { Ctx } from '../context';
import { writeEvents } from '../events/outbox';
import { Problem } from '../http/problem';
import { constraintName, pgErrorCode, type Sql } from '../storage/db';
import { ASSET_RESOURCE_COLS, assetFacts, type AssetResourceRow, type RegistrationRow } from './store';

/**
 * VEN–asset bindings (ven_resource): the OpenADR 3.1 resources a VEN stands for. A binding names a
 * live asset its VEN's organisation controls, with a resourceName unique within the VEN, targets
 * and further attributes; the register's own attributes (RESOURCE_ATTRIBUTES) and the derived
 * targets come from the asset and cannot be overridden. An asset is bound to at most one VEN per
 * VTN. Callers (the 3.1 routes) have checked that the caller reaches the ven for writing.
 */

/** The write of a binding: resourceName (default the asset ID), targets (undefined: keep), attributes as sent. */
export interface BindingWrite {
  resourceName?: string;
  targets?: string[];
  attributes: ValuesMap[];
}

const isReserved = (type: string) => (RESOURCE_ATTRIBUTES as readonly string[]).includes(type);
const DERIVED_TARGET = /^(DNO|GSP_GROUP):/;

function conflict(e: unknown): Problem | undefined {
  if (pgErrorCode(e) !== '23505') return undefined;
  return constraintName(e) === 'ven_resource_name_key'
    ? new Problem('OPENADR-RESOURCE-NAME-TAKEN')
    : new Problem('OPENADR-RESOURCE-ASSET-BOUND');
}

/**
 * The register's attributes and derived targets may be sent back only with values the asset shows
 * (a client PUTs what it read); what remains is the binding's own.
 */
/** A row of ven_resource (009_openadr_resources.sql). */
interface BindingRow {
  id: string;
  registration_id: string;
  vtn: string;
  asset_id: string;
  resource_name: string;
  targets: string[];
  attributes: ValuesMap[];
  created_at: Date;
  recorded_at: Date;
  recorded_by: string;
  deleted_at: Date | null;
}

/** The registration columns a binding change is recorded with. */
type VenRef = Pick<RegistrationRow, 'id' | 'organisation_id' | 'vtn' | 'vtn_code' | 'vtn_operator_id' | 'ven_id'>;

function ownPart(asset: AssetResourceRow, w: BindingWrite): { attributes: ValuesMap[]; targets?: string[] } {
  const facts = assetFacts(asset);
  const shown = new Map(assetAttributes(facts).map((a) => [a.type, new Set(a.values.map((v) => JSON.stringify(v)))]));
  for (const a of w.attributes.filter((x) => isReserved(x.type))) {
    const ok = shown.get(a.type);
    if (!ok || !a.values.every((v) => ok.has(JSON.stringify(v))))
      throw new Problem(
        'OPENADR-RESOURCE-ATTRIBUTE-RESERVED',
        `${a.type} comes from the asset and cannot be set to ${JSON.stringify(a.values)}.`,
      );
  }
  const derived = assetTargets(facts);
  for (const t of w.targets ?? [])
    if (DERIVED_TARGET.test(t) && !derived.includes(t))
      throw new Problem(
        'OPENADR-RESOURCE-ATTRIBUTE-RESERVED',
        `Target ${t} is derived from the asset, which shows ${derived.join(', ') || 'none'}.`,
      );
  return { attributes: w.attributes.filter((x) => !isReserved(x.type)), targets: w.targets?.filter((t) => !DERIVED_TARGET.test(t)) };
}

/** The value of a register attribute in a request that names the asset (FMAR_ASSET_ID, MPAN). */
const first = (attrs: ValuesMap[], type: string) => attrs.find((a) => a.type === type)?.values[0];

/**
 * The asset a new resource names: an FMAR_ASSET_ID attribute, else an MPAN attribute (an import or
 * export MPAN core), else resourceName as the asset ID; live and controlled by the VEN's organisation.
 */
async function namedAsset(tx: Sql, organisationId: string, w: BindingWrite): Promise<AssetResourceRow> {
  const byId = first(w.attributes, 'FMAR_ASSET_ID');
  const byMpan = first(w.attributes, 'MPAN');
  const [sql, value] =
    byId !== undefined
      ? ['a.id = $2', byId]
      : byMpan !== undefined
        ? ['(a.import_mpan = $2 OR a.export_mpan = $2)', byMpan]
        : ['a.id = $2', w.resourceName];
  const [a] =
    typeof value === 'string'
      ? await tx.query<AssetResourceRow>(
          `SELECT ${ASSET_RESOURCE_COLS} FROM asset a WHERE a.fsp_id = $1 AND a.deregistered_at IS NULL AND ${sql} FOR UPDATE OF a`,
          [organisationId, value],
        )
      : [];
  // One answer for unknown and not controlled: a VEN client learns nothing of other organisations' assets.
  if (!a)
    throw new Problem(
      'OPENADR-RESOURCE-ASSET',
      `${byId !== undefined ? `FMAR_ASSET_ID ${byId}` : byMpan !== undefined ? `MPAN ${byMpan}` : `Asset ${w.resourceName}`} is not a live asset controlled by the VEN’s organisation.`,
    );
  return a;
}

async function checkName(tx: Sql, registrationId: string, name: string, except?: string) {
  const [taken] = await tx.query(
    `SELECT 1 FROM ven_resource WHERE registration_id = $1 AND resource_name = $2 AND deleted_at IS NULL AND id IS DISTINCT FROM $3`,
    [registrationId, name, except ?? null],
  );
  if (taken) throw new Problem('OPENADR-RESOURCE-NAME-TAKEN', `The ven already has a resource named ${name}.`);
}

/** Audit and events of a binding change: to the VEN's organisation and the VTN's operator. */
async function record(
  tx: Sql,
  ctx: Ctx,
  p: Principal,
  now: Date,
  ven: VenRef,
  action: 'created' | 'updated' | 'deleted',
  b: Pick<BindingRow, 'id' | 'asset_id' | 'resource_name'>,
  detail: Record<string, unknown> = {},
) {
  const data = {
    bindingId: b.id,
    registrationId: ven.id,
    organisationId: ven.organisation_id,
    vtn: ven.vtn,
    vtnCode: ven.vtn_code,
    venId: ven.ven_id,
    assetId: b.asset_id,
    resourceName: b.resource_name,
  };
  await writeAudit(tx, p, now, [
    {
      action: `ven_resource.${action}`,
      recordType: 'ven_resource',
      recordId: b.id,
      organisationId: ven.organisation_id,
      detail: { ...data, ...detail },
    },
  ]);
  const to = [...new Set([ven.organisation_id, ven.vtn_operator_id])];
  await writeEvents(
    tx,
    ctx.ids,
    now,
    to.map((organisationId) => ({ type: `fmar.ven-resource.${action}`, subject: b.id, organisationId, data })),
  );
}

/** Where a binding change came from (its audit row's `source`): OpenADR 3.1's /resources or the native /api/v1. */
export type BindingSource = 'openadr3.1' | 'api';

/** Bind an asset to a live 3.x ven (`ven`: a registration row, REG_COLS). Returns the asset ID. */
export async function createBinding(
  ctx: Ctx,
  p: Principal,
  ven: RegistrationRow,
  w: BindingWrite,
  source: BindingSource = 'openadr3.1',
): Promise<string> {
  if (ven.protocol === '2.0b') throw new Problem('OPENADR-RESOURCE-PROTOCOL');
  const now = ctx.clock.now();
  try {
    return await ctx.db.transaction(async (tx) => {
      const asset = await namedAsset(tx, ven.organisation_id, w);
      const own = ownPart(asset, w);
      const name = w.resourceName ?? asset.id;
      await checkName(tx, ven.id, name);
      const [held] = await tx.query<BindingRow & { holder_organisation_id: string }>(
        `SELECT b.*, r.organisation_id AS holder_organisation_id FROM ven_resource b JOIN ven_registration r ON r.id = b.registration_id
          WHERE b.vtn = $1 AND b.asset_id = $2 AND b.deleted_at IS NULL FOR UPDATE OF b`,
        [ven.vtn, asset.id],
      );
      if (held && held.holder_organisation_id === ven.organisation_id) {
        throw new Problem(
          'OPENADR-RESOURCE-ASSET-BOUND',
          `Asset ${asset.id} is already a resource of ven ${held.registration_id} on this VTN.`,
        );
      }
      if (held) {
        // The asset has left that VEN's organisation (a switch): its binding is stale and gives way.
        await tx.query(
          `UPDATE ven_resource SET deleted_at = $2::timestamptz, recorded_at = $2::timestamptz, recorded_by = $3 WHERE id = $1`,
          [held.id, now.toISOString(), recordedBy(p)],
        );
        const [holder] = await tx.query<VenRef>(
          `SELECT r.id, r.organisation_id, r.vtn, v.code AS vtn_code, v.operator_id AS vtn_operator_id, r.ven_id FROM ven_registration r JOIN openadr_vtn v ON v.id = r.vtn WHERE r.id = $1`,
          [held.registration_id],
        );
        await record(tx, ctx, p, now, holder, 'deleted', held, { reason: 'the asset is no longer controlled by the VEN’s organisation' });
      }
      const id = ctx.ids.next();
      await tx.query(
        `INSERT INTO ven_resource (id, registration_id, vtn, asset_id, resource_name, targets, attributes, created_at, recorded_at, recorded_by)
         VALUES ($1, $2, $3, $4, $5, $6::text[], $7::jsonb, $8::timestamptz, $8::timestamptz, $9)`,
        [id, ven.id, ven.vtn, asset.id, name, own.targets ?? [], own.attributes, now.toISOString(), recordedBy(p)],
      );
      await record(
        tx,
        ctx,
        p,
        now,
        ven,
        'created',
        { id, asset_id: asset.id, resource_name: name },
        { targets: own.targets ?? [], source },
      );
      return asset.id;
    });
  } catch (e) {
    throw conflict(e) ?? e;
  }
}

/** The live binding of `assetId` to `ven`, locked; a 409 when the resource is only implied by the fallback. */
async function liveBinding(tx: Sql, ven: RegistrationRow, assetId: string): Promise<BindingRow> {
  const [b] = await tx.query<BindingRow>(
    `SELECT * FROM ven_resource WHERE registration_id = $1 AND asset_id = $2 AND deleted_at IS NULL FOR UPDATE`,
    [ven.id, assetId],
  );
  if (!b)
    throw new Problem(
      'OPENADR-RESOURCE-IMPLICIT',
      `The ven has no explicit resources: bind asset ${assetId} with POST /resources before changing it.`,
    );
  return b;
}

/** Update a binding: resourceName, targets (when given), further attributes (replaced). */
export async function updateBinding(ctx: Ctx, p: Principal, ven: RegistrationRow, assetId: string, w: BindingWrite): Promise<void> {
  const now = ctx.clock.now();
  try {
    await ctx.db.transaction(async (tx) => {
      const b = await liveBinding(tx, ven, assetId);
      const [asset] = await tx.query<AssetResourceRow>(`SELECT ${ASSET_RESOURCE_COLS} FROM asset a WHERE a.id = $1`, [assetId]);
      const own = ownPart(asset, w);
      const name = w.resourceName ?? b.resource_name;
      if (name !== b.resource_name) await checkName(tx, ven.id, name, b.id);
      await tx.query(
        `UPDATE ven_resource SET resource_name = $2, targets = $3::text[], attributes = $4::jsonb, recorded_at = $5::timestamptz, recorded_by = $6 WHERE id = $1`,
        [b.id, name, own.targets ?? b.targets, own.attributes, now.toISOString(), recordedBy(p)],
      );
      const before = { resourceName: b.resource_name, targets: b.targets, attributes: b.attributes };
      await record(tx, ctx, p, now, ven, 'updated', { ...b, resource_name: name }, { before, source: 'openadr3.1' });
    });
  } catch (e) {
    throw conflict(e) ?? e;
  }
}

/** Remove a binding; the asset stays registered. */
export async function deleteBinding(
  ctx: Ctx,
  p: Principal,
  ven: RegistrationRow,
  assetId: string,
  source: BindingSource = 'openadr3.1',
): Promise<void> {
  const now = ctx.clock.now();
  await ctx.db.transaction(async (tx) => {
    const b = await liveBinding(tx, ven, assetId);
    await tx.query(`UPDATE ven_resource SET deleted_at = $2::timestamptz, recorded_at = $2::timestamptz, recorded_by = $3 WHERE id = $1`, [
      b.id,
      now.toISOString(),
      recordedBy(p),
    ]);
    await record(tx, ctx, p, now, ven, 'deleted', b, { source });
  });
}

/** A cancelled registration releases its bindings (in the cancellation's transaction); the asset IDs released. */
export async function releaseBindings(tx: Sql, p: Principal, now: Date, registrationId: string): Promise<string[]> {
  const rows = await tx.query<{ asset_id: string }>(
    `UPDATE ven_resource SET deleted_at = $2::timestamptz, recorded_at = $2::timestamptz, recorded_by = $3 WHERE registration_id = $1 AND deleted_at IS NULL RETURNING asset_id`,
    [registrationId, now.toISOString(), recordedBy(p)],
  );
  return rows.map((r) => r.asset_id).sort();
}
