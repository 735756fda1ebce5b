import type { Principal } from '../access/principal';
import type { OrganisationRole } from '../access/roles';
import { withinAssetLimit } from '../access/asset-limit';
import { reach } from '../access/permissions';
import type { Sql } from '../storage/db';
import type { Asset } from './schema';

/** SQL that belongs to the asset tables: column lists, row mapping, object-level visibility. */

export const ASSET_COLS = `a.id, a.organisation_id, a.fsp_id, a.friendly_code, a.name, a.category, a.status, a.rated_capacity_kw::float8 AS rated_capacity_kw,
  a.generation_capacity_kw::float8 AS generation_capacity_kw, a.demand_capacity_kw::float8 AS demand_capacity_kw, a.energy_source, a.demand_technology, a.energy_conversion_type,
  a.manufacturer, a.model, a.serial_number, a.commissioning_date::text AS commissioning_date, a.effective_date::text AS effective_date, a.connection_status,
  a.connection_type, a.dno, a.import_mpan, a.export_mpan, a.location, a.consent_reference, a.version, a.recorded_at, a.recorded_by, a.deregistered_at,
  COALESCE((SELECT json_agg(json_build_object('scheme', al.scheme, 'value', al.value) ORDER BY al.scheme, al.value)
              FROM asset_alias al WHERE al.asset_id = a.id AND al.scheme NOT IN ('mpan', 'serial')), '[]'::json) AS aliases`;
// json, not jsonb: the aliases are built only to be sent, and building jsonb cost about a third of
// a lookup's query time (0.073 → 0.048 ms executing, 0.226 → 0.142 ms round trip at 1M assets;
// docs/performance.md, "Lookup by MPAN").

/** A row as ASSET_COLS selects it: capacities as float8, dates as text, aliases built as json. */
export interface AssetRow {
  id: string;
  organisation_id: string;
  fsp_id: string;
  friendly_code: string | null;
  name: string;
  category: string;
  status: Asset['status'];
  rated_capacity_kw: number;
  generation_capacity_kw: number | null;
  demand_capacity_kw: number | null;
  energy_source: string | null;
  demand_technology: string | null;
  energy_conversion_type: string | null;
  manufacturer: string | null;
  model: string | null;
  serial_number: string | null;
  commissioning_date: string | null;
  effective_date: string | null;
  connection_status: string;
  connection_type: string | null;
  dno: string | null;
  import_mpan: string | null;
  export_mpan: string | null;
  location: Asset['location'];
  consent_reference: string | null;
  version: number;
  recorded_at: Date | string;
  recorded_by: string;
  deregistered_at: Date | string | null;
  aliases: Asset['aliases'] | null;
}

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

/** Storage row → wire shape (the one mapping, used by the API, exports and history). */
export function toAsset(r: AssetRow): Asset {
  return {
    id: r.id,
    friendlyCode: r.friendly_code,
    name: r.name,
    category: r.category,
    organisationId: r.organisation_id,
    fspId: r.fsp_id,
    status: r.status,
    ratedCapacityKw: Number(r.rated_capacity_kw),
    generationCapacityKw: num(r.generation_capacity_kw),
    demandCapacityKw: num(r.demand_capacity_kw),
    energySource: r.energy_source,
    demandTechnology: r.demand_technology,
    energyConversionType: r.energy_conversion_type,
    manufacturer: r.manufacturer,
    model: r.model,
    serialNumber: r.serial_number,
    commissioningDate: r.commissioning_date,
    effectiveDate: r.effective_date,
    connectionStatus: r.connection_status,
    connectionType: r.connection_type,
    dno: r.dno,
    importMpan: r.import_mpan,
    exportMpan: r.export_mpan,
    location: r.location,
    consentReference: r.consent_reference,
    aliases: r.aliases ?? [],
    version: Number(r.version),
    recordedAt: new Date(r.recorded_at).toISOString(),
    recordedBy: r.recorded_by,
    deregisteredAt: r.deregistered_at ? new Date(r.deregistered_at).toISOString() : null,
  };
}

/** Roles that act on an asset through the FSP link in force (asset.fsp_id), never through who registered it. */
const CONTROLLING_ROLES: readonly OrganisationRole[] = ['FSP', 'AGGREGATOR'];

/**
 * The "own" part of an object-level rule over `a` (or another alias with the same columns):
 * FSPs and aggregators reach the assets they control now; an ASSET_OWNER organisation also reads
 * (never writes) the assets it owns. The organisation that registered an asset, once it has lost
 * control by a switch, reaches nothing (docs/decisions.md, "Control follows the FSP link").
 */
export function ownAssetReach(
  p: Principal,
  params: unknown[],
  mode: 'read' | 'write',
  alias = 'a',
  cols = { fsp: 'fsp_id', owner: 'organisation_id' },
): string[] {
  const parts: string[] = [];
  const controls = p.roles.some((r) => CONTROLLING_ROLES.includes(r));
  const owns = mode === 'read' && p.roles.includes('ASSET_OWNER');
  if (controls || owns) params.push(p.organisationId);
  if (controls) parts.push(`${alias}.${cols.fsp} = $${params.length}`);
  if (owns) parts.push(`${alias}.${cols.owner} = $${params.length}`);
  return parts;
}

/**
 * Object-level rule, in SQL so that no route can forget it: the reach that PERMISSIONS gives
 * assets.read (`read`) or assets.write (`write`): the operator and regulator every asset; FSPs and
 * aggregators those they control (the FSP link in force); asset owners (read only) those they own;
 * DNOs/IDNOs (read only) those on their networks. Appends its parameters to `params`.
 */
export function assetVisibility(p: Principal, params: unknown[], mode: 'read' | 'write' = 'read'): string {
  // A household (docs/consumers.md) reads the live assets at its own meter points and writes none.
  if (p.consumer) {
    if (mode === 'write') return 'FALSE';
    params.push(p.consumer.mpans);
    const m = `$${params.length}::text[]`;
    return `(a.deregistered_at IS NULL AND (a.import_mpan = ANY(${m}) OR a.export_mpan = ANY(${m})))`;
  }
  // A delegation limited to named assets reaches only those, whatever else the delegator reaches.
  const limit = withinAssetLimit(p, params, 'a.id');
  const r = reach(mode === 'write' ? 'assets.write' : 'assets.read', p.roles);
  if (r.all) return limit;
  const parts: string[] = [];
  if (r.own) parts.push(...ownAssetReach(p, params, mode));
  if (r.network && p.dnoCodes.length) {
    params.push(p.dnoCodes);
    parts.push(`a.dno IN (SELECT jsonb_array_elements_text($${params.length}::jsonb))`);
  }
  return parts.length ? `(${limit} AND (${parts.join(' OR ')}))` : 'FALSE';
}

export async function selectAsset(
  db: Sql,
  p: Principal,
  id: string,
  opts: { forUpdate?: boolean; mode?: 'read' | 'write' } = {},
): Promise<AssetRow | undefined> {
  const params: unknown[] = [id];
  const vis = assetVisibility(p, params, opts.mode ?? 'read');
  const [row] = await db.query<AssetRow>(
    `SELECT ${ASSET_COLS} FROM asset a WHERE a.id = $1 AND ${vis}${opts.forUpdate ? ' FOR UPDATE OF a' : ''}`,
    params,
  );
  return row;
}

/**
 * The live assets an organisation holds now, as its own reach under assets.read gives them (those it
 * controls through the FSP link in force, or owns as an ASSET_OWNER): for what it shares with a
 * platform (src/sharing/). `ids` cuts them to a list; a keyset page in ID order. An organisation
 * whose roles hold no assets gets none.
 */
export async function heldAssets(
  db: Sql,
  holder: { organisationId: string; roles: OrganisationRole[] },
  f: { ids?: readonly string[] | null; after?: string; limit: number },
): Promise<AssetRow[]> {
  const params: unknown[] = [];
  const who: Principal = {
    subject: holder.organisationId,
    organisationId: holder.organisationId,
    roles: holder.roles,
    scopes: [],
    dnoCodes: [],
  };
  const reachParts = ownAssetReach(who, params, 'read');
  if (!reachParts.length) return [];
  const conds = [`(${reachParts.join(' OR ')})`, 'a.deregistered_at IS NULL'];
  if (f.ids) {
    params.push(f.ids);
    conds.push(`a.id = ANY($${params.length}::text[])`);
  }
  if (f.after) {
    params.push(f.after);
    conds.push(`a.id > $${params.length}`);
  }
  params.push(f.limit);
  return db.query<AssetRow>(`SELECT ${ASSET_COLS} FROM asset a WHERE ${conds.join(' AND ')} ORDER BY a.id LIMIT $${params.length}`, params);
}

/** Whether these roles hold assets at all (control them as FSP or aggregator, or own them). */
export function rolesHoldAssets(roles: readonly OrganisationRole[]): boolean {
  return roles.some((r) => CONTROLLING_ROLES.includes(r) || r === 'ASSET_OWNER');
}
