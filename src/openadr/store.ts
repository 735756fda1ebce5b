import { decodeTime } from 'ulid';
import {
  toResource,
  toVen,
  type AssetFacts,
  type BindingFacts,
  type Resource,
  type Ven,
  type VenFacts,
  type ValuesMap,
} from '../../openadr/index';
import { reach, type Action } from '../access/permissions';
import type { Principal } from '../access/principal';
import type { Vtn, VenRegistration } from './schema';

/** SQL that belongs to the OpenADR tables: column lists, row mapping, object-level visibility. */

export const VTN_COLS = `v.id, v.code, v.name, v.operator_id, v.protocol, v.vtn_id, v.base_url, v.status, v.version, v.created_at, v.recorded_at, v.recorded_by`;

/** A registration row joined with its VTN (`FROM ven_registration r JOIN openadr_vtn v ON v.id = r.vtn`). */
export const REG_COLS = `r.id, r.organisation_id, r.vtn, v.code AS vtn_code, v.operator_id AS vtn_operator_id, v.vtn_id AS vtn_oadr_id, r.protocol, r.ven_id, r.ven_name, r.client_id,
  r.registration_id, r.targets, r.attributes, r.details, r.status, r.confirmation, r.confirmation_reason, r.confirmation_at, r.valid_from, r.valid_to, r.version,
  r.created_at, r.recorded_at, r.recorded_by`;
export const REG_FROM = `ven_registration r JOIN openadr_vtn v ON v.id = r.vtn`;

const iso = (v: unknown) => new Date(v as string).toISOString();

/** A row as VTN_COLS selects it (openadr_vtn, 005_openadr.sql). */
export interface VtnRow {
  id: string;
  code: string;
  name: string;
  operator_id: string;
  protocol: Vtn['protocol'];
  vtn_id: string | null;
  base_url: string | null;
  status: Vtn['status'];
  version: number;
  created_at: Date;
  recorded_at: Date;
  recorded_by: string;
}

/** A row as REG_COLS selects it: ven_registration with its VTN's code, operator and OpenADR ID. */
export interface RegistrationRow {
  id: string;
  organisation_id: string;
  vtn: string;
  vtn_code: string;
  vtn_operator_id: string;
  vtn_oadr_id: string | null;
  protocol: VenRegistration['protocol'];
  ven_id: string;
  ven_name: string;
  client_id: string | null;
  registration_id: string | null;
  targets: string[] | null;
  attributes: ValuesMap[] | null;
  details: Record<string, unknown>;
  status: VenRegistration['status'];
  confirmation: VenRegistration['confirmation'];
  confirmation_reason: string | null;
  confirmation_at: Date | null;
  valid_from: Date;
  valid_to: Date | null;
  version: number;
  created_at: Date;
  recorded_at: Date;
  recorded_by: string;
}

export function toVtn(r: VtnRow): Vtn {
  return {
    id: r.id,
    code: r.code,
    name: r.name,
    operatorId: r.operator_id,
    protocol: r.protocol,
    vtnId: r.vtn_id ?? null,
    baseUrl: r.base_url ?? null,
    status: r.status,
    version: Number(r.version),
    createdAt: iso(r.created_at),
    recordedAt: iso(r.recorded_at),
    recordedBy: r.recorded_by,
  };
}

/** ACTIVE and within its validity at `now`. */
export const inForce = (r: Pick<RegistrationRow, 'status' | 'valid_from' | 'valid_to'>, now: Date) =>
  r.status === 'ACTIVE' && new Date(r.valid_from) <= now && (!r.valid_to || new Date(r.valid_to) > now);

/** Storage row → native wire shape (the one mapping, used by every native answer). */
export function toRegistration(r: RegistrationRow, now: Date): VenRegistration {
  return {
    id: r.id,
    organisationId: r.organisation_id,
    vtn: r.vtn,
    vtnCode: r.vtn_code,
    protocol: r.protocol,
    venId: r.ven_id,
    venName: r.ven_name,
    clientId: r.client_id ?? null,
    registrationId: r.registration_id ?? null,
    targets: r.targets ?? [],
    status: r.status,
    confirmation: r.confirmation,
    confirmationReason: r.confirmation_reason ?? null,
    confirmationAt: r.confirmation_at ? iso(r.confirmation_at) : null,
    validFrom: iso(r.valid_from),
    validTo: r.valid_to ? iso(r.valid_to) : null,
    inForce: inForce(r, now),
    version: Number(r.version),
    createdAt: iso(r.created_at),
    recordedAt: iso(r.recorded_at),
    recordedBy: r.recorded_by,
  };
}

/** Storage row → the facts an OpenADR 3.1 `ven` shows. */
export function venFacts(r: RegistrationRow): VenFacts {
  return {
    id: r.id,
    createdAt: new Date(r.created_at),
    modifiedAt: new Date(r.recorded_at),
    organisationId: r.organisation_id,
    clientId: r.client_id ?? null,
    venName: r.ven_name,
    targets: r.targets ?? [],
    attributes: r.attributes ?? [],
    vtnCode: r.vtn_code,
    venId: r.ven_id,
    protocol: r.protocol,
    status: r.status,
    confirmation: r.confirmation,
    registrationId: r.registration_id ?? null,
  };
}
export const venOf = (r: RegistrationRow): Ven => toVen(venFacts(r));

/** Columns of an asset (`a`) that its OpenADR resource view reads. */
export const ASSET_RESOURCE_COLS = `a.id, a.name, a.category, a.rated_capacity_kw::float8 AS rated_capacity_kw, a.generation_capacity_kw::float8 AS generation_capacity_kw,
  a.demand_capacity_kw::float8 AS demand_capacity_kw, a.dno, a.import_mpan, a.export_mpan, a.location, a.recorded_at, a.status, a.connection_status, a.friendly_code`;

/** A row as ASSET_RESOURCE_COLS selects it. */
export interface AssetResourceRow {
  id: string;
  name: string;
  category: string;
  rated_capacity_kw: number;
  generation_capacity_kw: number | null;
  demand_capacity_kw: number | null;
  dno: string | null;
  import_mpan: string | null;
  export_mpan: string | null;
  location: { latitude?: number; longitude?: number; gspGroup?: string } | null;
  recorded_at: Date;
  status: string;
  connection_status: string;
  friendly_code: string | null;
}

/** A venAssetsLateral row: the asset's resource columns and its binding's, NULL when unbound. */
export interface BoundAssetRow extends AssetResourceRow {
  resource_name: string | null;
  bound_targets: string[] | null;
  bound_attributes: ValuesMap[] | null;
  bound_created_at: Date | null;
  bound_recorded_at: Date | null;
}

export function assetFacts(r: AssetResourceRow): AssetFacts {
  const loc = r.location ?? {};
  const modified = new Date(r.recorded_at);
  // Asset IDs are ULIDs: their first 48 bits are the registration time.
  let created = modified;
  try {
    const t = decodeTime(r.id);
    if (t <= modified.getTime()) created = new Date(t);
  } catch {
    /* not a ULID: keep recorded_at */
  }
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    id: r.id,
    name: r.name,
    category: r.category,
    createdAt: created,
    modifiedAt: modified,
    ratedCapacityKw: Number(r.rated_capacity_kw),
    generationCapacityKw: num(r.generation_capacity_kw),
    demandCapacityKw: num(r.demand_capacity_kw),
    latitude: typeof loc.latitude === 'number' ? loc.latitude : null,
    longitude: typeof loc.longitude === 'number' ? loc.longitude : null,
    dno: r.dno ?? null,
    gspGroup: loc.gspGroup ?? null,
    importMpan: r.import_mpan ?? null,
    exportMpan: r.export_mpan ?? null,
  };
}

/** Filters on the assets behind a VEN (resourceName is the binding's, or the asset ID when unbound). */
export interface VenAssetFilter {
  resourceName?: string;
  assetId?: string;
  targets?: string[];
  after?: string;
}

/**
 * The assets that stand behind the VEN registration `r`, as a LATERAL subquery `a` (asset columns
 * and the binding's, NULL when unbound), in asset ID order, at most `limit` (a parameter reference):
 * the live assets bound to it (ven_resource) that its organisation still controls, or, when it has
 * no live binding at all, every live asset its organisation controls (the fallback). Appends to `params`.
 */
export function venAssetsLateral(params: unknown[], f: VenAssetFilter, limit: string): string {
  const arg = (v: unknown) => (params.push(v), `$${params.length}`);
  let bound = '';
  let all = '';
  if (f.after !== undefined) {
    const x = arg(f.after);
    bound += ` AND a.id > ${x}`;
    all += ` AND a.id > ${x}`;
  }
  if (f.assetId !== undefined) {
    const x = arg(f.assetId);
    bound += ` AND a.id = ${x}`;
    all += ` AND a.id = ${x}`;
  }
  if (f.resourceName !== undefined) {
    const x = arg(f.resourceName);
    bound += ` AND b.resource_name = ${x}`;
    all += ` AND a.id = ${x}`;
  }
  if (f.targets?.length) {
    // Derived targets (DNO:<code>, GSP_GROUP:<group>) match the asset; a binding's own, its targets.
    const of = (prefix: string) => f.targets!.filter((t) => t.startsWith(prefix)).map((t) => t.slice(prefix.length));
    const derived = `(a.dno = ANY(${arg(of('DNO:'))}::text[]) OR a.location->>'gspGroup' = ANY(${arg(of('GSP_GROUP:'))}::text[]))`;
    bound += ` AND (${derived} OR b.targets && ${arg(f.targets)}::text[])`;
    all += ` AND ${derived}`;
  }
  const live = `a.fsp_id = r.organisation_id AND a.deregistered_at IS NULL`;
  return `LATERAL (
    SELECT ${ASSET_RESOURCE_COLS}, b.resource_name, b.targets AS bound_targets, b.attributes AS bound_attributes, b.created_at AS bound_created_at, b.recorded_at AS bound_recorded_at
      FROM ven_resource b JOIN asset a ON a.id = b.asset_id
     WHERE b.registration_id = r.id AND b.deleted_at IS NULL AND ${live}${bound}
    UNION ALL
    SELECT ${ASSET_RESOURCE_COLS}, NULL::text, NULL::text[], NULL::jsonb, NULL::timestamptz, NULL::timestamptz
      FROM asset a
     WHERE ${live}${all} AND NOT EXISTS (SELECT 1 FROM ven_resource x WHERE x.registration_id = r.id AND x.deleted_at IS NULL)
    ORDER BY id LIMIT ${limit}) a`;
}

/** The binding columns of a venAssetsLateral row, or undefined when the asset is unbound. */
export function bindingFacts(r: BoundAssetRow): BindingFacts | undefined {
  if (r.resource_name === null || r.resource_name === undefined) return undefined;
  return {
    resourceName: r.resource_name,
    targets: r.bound_targets ?? [],
    attributes: r.bound_attributes ?? [],
    createdAt: new Date(r.bound_created_at!),
    modifiedAt: new Date(r.bound_recorded_at!),
  };
}

/** A venAssetsLateral row as the resource of `ven`. */
export const resourceOf = (r: BoundAssetRow, ven: Pick<Ven, 'id' | 'clientID' | 'createdDateTime' | 'modificationDateTime'>): Resource =>
  toResource(assetFacts(r), ven, bindingFacts(r));

/**
 * Object-level rule for registrations, in SQL: the reach PERMISSIONS gives `action`. Roles that see
 * all reach every registration; the others those of their own organisation and those on a VTN their
 * organisation operates. Appends its parameters to `params`.
 */
export function registrationVisibility(p: Principal, params: unknown[], action: Extract<Action, 'vens.read' | 'vens.write'>): string {
  if (reach(action, p.roles).all) return 'TRUE';
  params.push(p.organisationId);
  return `(r.organisation_id = $${params.length} OR v.operator_id = $${params.length})`;
}
