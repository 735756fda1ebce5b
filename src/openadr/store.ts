import { decodeTime } from 'ulid';
import { toVen, type AssetFacts, type Ven, type VenFacts, type ValuesMap } from '../../openadr/index';
import { reach, type Action } from '../access/permissions';
import type { Principal } from '../access/principal';
import type { Vtn, VenRegistration } from './schema';

/** SQL that belongs to the OpenADR tables: column lists, row mapping, object-level visibility. */

export const VTN_COLS = `v.id, v.code, v.name, v.operator_id, v.protocol, v.vtn_id, v.base_url, v.status, v.version, v.created_at, v.recorded_at, v.recorded_by`;

/** A registration row joined with its VTN (`FROM ven_registration r JOIN openadr_vtn v ON v.id = r.vtn`). */
export const REG_COLS = `r.id, r.organisation_id, r.vtn, v.code AS vtn_code, v.operator_id AS vtn_operator_id, v.vtn_id AS vtn_oadr_id, r.protocol, r.ven_id, r.ven_name, r.client_id,
  r.registration_id, r.targets, r.attributes, r.details, r.status, r.valid_from, r.valid_to, r.version, r.created_at, r.recorded_at, r.recorded_by`;
export const REG_FROM = `ven_registration r JOIN openadr_vtn v ON v.id = r.vtn`;

const iso = (v: unknown) => new Date(v as string).toISOString();

export function toVtn(r: any): Vtn {
  return {
    id: r.id, code: r.code, name: r.name, operatorId: r.operator_id, protocol: r.protocol, vtnId: r.vtn_id ?? null, baseUrl: r.base_url ?? null, status: r.status,
    version: Number(r.version), createdAt: iso(r.created_at), recordedAt: iso(r.recorded_at), recordedBy: r.recorded_by,
  };
}

/** ACTIVE and within its validity at `now`. */
export const inForce = (r: any, now: Date) => r.status === 'ACTIVE' && new Date(r.valid_from) <= now && (!r.valid_to || new Date(r.valid_to) > now);

/** Storage row → native wire shape (the one mapping, used by every native answer). */
export function toRegistration(r: any, now: Date): VenRegistration {
  return {
    id: r.id, organisationId: r.organisation_id, vtn: r.vtn, vtnCode: r.vtn_code, protocol: r.protocol, venId: r.ven_id, venName: r.ven_name,
    clientId: r.client_id ?? null, registrationId: r.registration_id ?? null, targets: r.targets ?? [], status: r.status,
    validFrom: iso(r.valid_from), validTo: r.valid_to ? iso(r.valid_to) : null, inForce: inForce(r, now),
    version: Number(r.version), createdAt: iso(r.created_at), recordedAt: iso(r.recorded_at), recordedBy: r.recorded_by,
  };
}

/** Storage row → the facts an OpenADR 3.1 `ven` shows. */
export function venFacts(r: any): VenFacts {
  return {
    id: r.id, createdAt: new Date(r.created_at), modifiedAt: new Date(r.recorded_at), organisationId: r.organisation_id, clientId: r.client_id ?? null,
    venName: r.ven_name, targets: r.targets ?? [], attributes: (r.attributes ?? []) as ValuesMap[], vtnCode: r.vtn_code, venId: r.ven_id,
    protocol: r.protocol, status: r.status, registrationId: r.registration_id ?? null,
  };
}
export const venOf = (r: any): Ven => toVen(venFacts(r));

/** Columns of an asset (`a`) that its OpenADR resource view reads. */
export const ASSET_RESOURCE_COLS = `a.id, a.name, a.category, a.rated_capacity_kw::float8 AS rated_capacity_kw, a.generation_capacity_kw::float8 AS generation_capacity_kw,
  a.demand_capacity_kw::float8 AS demand_capacity_kw, a.dno, a.import_mpan, a.export_mpan, a.location, a.recorded_at, a.status, a.connection_status, a.friendly_code`;

export function assetFacts(r: any): AssetFacts {
  const loc = r.location ?? {};
  const modified = new Date(r.recorded_at);
  // Asset IDs are ULIDs: their first 48 bits are the registration time.
  let created = modified;
  try { const t = decodeTime(r.id); if (t <= modified.getTime()) created = new Date(t); } catch { /* not a ULID: keep recorded_at */ }
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    id: r.id, name: r.name, category: r.category, createdAt: created, modifiedAt: modified, ratedCapacityKw: Number(r.rated_capacity_kw),
    generationCapacityKw: num(r.generation_capacity_kw), demandCapacityKw: num(r.demand_capacity_kw),
    latitude: typeof loc.latitude === 'number' ? loc.latitude : null, longitude: typeof loc.longitude === 'number' ? loc.longitude : null,
    dno: r.dno ?? null, gspGroup: loc.gspGroup ?? null, importMpan: r.import_mpan ?? null, exportMpan: r.export_mpan ?? null,
  };
}

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
