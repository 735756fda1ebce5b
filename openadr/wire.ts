import { z } from '@hono/zod-openapi';
import { MAX_TEXT, OBJECT_ID_RE } from './ids';

/**
 * OpenADR 3.1 wire shapes (what the official OpenAPI document says goes over the network) and the
 * one mapping from the register's records to them. Storage rows never leave through this module:
 * callers hand in the plain facts below (openleadr-rs keeps wire types and rows apart the same way).
 * Tests validate every answer against the official document itself, not against these schemas.
 */

const text = z.string().min(1).max(MAX_TEXT);
export const ObjectId = z.string().regex(OBJECT_ID_RE).openapi({ description: 'OpenADR object ID: `^[a-zA-Z0-9_-]*$`, 1–128 characters' });
const point = z.object({ x: z.number(), y: z.number() });
export const ValuesMap = z
  .object({
    type: text,
    values: z.array(z.union([z.number(), z.string(), z.boolean(), point])).max(100),
  })
  .openapi('OadrValuesMap', { description: 'OpenADR valuesMap: a type and its values' });
export type ValuesMap = z.infer<typeof ValuesMap>;

export const BlVenRequest = z
  .object({
    objectType: z.literal('BL_VEN_REQUEST'),
    clientID: text,
    venName: text,
    targets: z.array(text).max(50).nullable().optional(),
    attributes: z.array(ValuesMap).max(30).nullable().optional(),
  })
  .openapi('OadrBlVenRequest');
export const VenVenRequest = z
  .object({
    objectType: z.literal('VEN_VEN_REQUEST'),
    venName: text,
    attributes: z.array(ValuesMap).max(30).nullable().optional(),
  })
  .openapi('OadrVenVenRequest');
export const VenRequest = z.discriminatedUnion('objectType', [BlVenRequest, VenVenRequest]).openapi('OadrVenRequest');
export type VenRequest = z.infer<typeof VenRequest>;

export const Ven = z
  .object({
    id: ObjectId,
    createdDateTime: z.string(),
    modificationDateTime: z.string(),
    objectType: z.literal('VEN'),
    clientID: text,
    venName: text,
    targets: z.array(text),
    attributes: z.array(ValuesMap),
  })
  .openapi('OadrVen', { description: 'OpenADR 3.1 `ven`: one VEN registration of the register (docs/openadr.md)' });
export type Ven = z.infer<typeof Ven>;

export const Resource = z
  .object({
    id: ObjectId,
    createdDateTime: z.string(),
    modificationDateTime: z.string(),
    objectType: z.literal('RESOURCE'),
    clientID: text,
    resourceName: text,
    venID: ObjectId,
    targets: z.array(text),
    attributes: z.array(ValuesMap),
  })
  .openapi('OadrResource', {
    description:
      'OpenADR 3.1 `resource`: an asset bound to the VEN, or (a VEN without bindings) one its organisation controls (docs/openadr.md)',
  });
export type Resource = z.infer<typeof Resource>;

export const BlResourceRequest = z
  .object({
    objectType: z.literal('BL_RESOURCE_REQUEST'),
    clientID: text,
    resourceName: text.optional().openapi({ description: 'Required by OpenADR; the register defaults it to the asset ID' }),
    venID: ObjectId,
    targets: z.array(text).max(50).nullable().optional(),
    attributes: z.array(ValuesMap).max(30).nullable().optional(),
  })
  .openapi('OadrBlResourceRequest');
export const VenResourceRequest = z
  .object({
    objectType: z.literal('VEN_RESOURCE_REQUEST'),
    resourceName: text.optional().openapi({ description: 'Required by OpenADR; the register defaults it to the asset ID' }),
    venID: ObjectId,
    attributes: z.array(ValuesMap).max(30).nullable().optional(),
  })
  .openapi('OadrVenResourceRequest');
export const ResourceRequest = z.discriminatedUnion('objectType', [BlResourceRequest, VenResourceRequest]).openapi('OadrResourceRequest', {
  description:
    'The asset is named by an FMAR_ASSET_ID attribute, else an MPAN attribute (an import or export MPAN core), else by resourceName = its asset ID (docs/openadr.md)',
});
export type ResourceRequest = z.infer<typeof ResourceRequest>;

export const OadrProblem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    code: z
      .string()
      .openapi({ description: 'The register’s rule code (docs/rules.md); an extension member the OpenADR `problem` schema allows' }),
  })
  .openapi('OadrProblem', { description: 'OpenADR 3.1 `problem` (served as application/json, as the OpenADR document declares it)' });
export type OadrProblem = z.infer<typeof OadrProblem>;

export const AuthServerInfo = z.object({ tokenURL: z.string() }).openapi('OadrAuthServerInfo');

/** Attribute types the register derives on a ven object; a client cannot set them (docs/openadr.md). */
export const VEN_ATTRIBUTES = [
  'VTN',
  'VEN_ID',
  'OADR_PROTOCOL',
  'FMAR_ORGANISATION_ID',
  'REGISTRATION_STATUS',
  'CONFIRMATION',
  'REGISTRATION_ID',
] as const;
/** Attribute types the register derives on a resource object. */
export const RESOURCE_ATTRIBUTES = [
  'DESCRIPTION',
  'MAX_POWER_EXPORT',
  'MAX_POWER_CONSUMPTION',
  'LOCATION',
  'FMAR_ASSET_ID',
  'MPAN',
  'DNO',
  'GSP_GROUP',
] as const;

/** The facts of a VEN registration that its ven object shows. */
export interface VenFacts {
  id: string;
  createdAt: Date;
  modifiedAt: Date;
  organisationId: string;
  clientId: string | null;
  venName: string;
  targets: string[];
  attributes: ValuesMap[];
  vtnCode: string;
  venId: string;
  protocol: string;
  status: string;
  /** Whether the VTN's operator confirmed the registration: SELF_DECLARED, UNCONFIRMED, CONFIRMED (REJECTED ones are not shown). */
  confirmation: string;
  registrationId: string | null;
}

/**
 * A VEN registration as an OpenADR 3.1 `ven`. The spec requires clientID; a registration without an
 * OpenADR clientID (2.0b, or none recorded) shows its organisation's FMAR ID there.
 */
export function toVen(f: VenFacts): Ven {
  const derived: ValuesMap[] = [
    { type: 'VTN', values: [f.vtnCode] },
    { type: 'VEN_ID', values: [f.venId] },
    { type: 'OADR_PROTOCOL', values: [f.protocol] },
    { type: 'FMAR_ORGANISATION_ID', values: [f.organisationId] },
    { type: 'REGISTRATION_STATUS', values: [f.status] },
    { type: 'CONFIRMATION', values: [f.confirmation] },
    ...(f.registrationId ? [{ type: 'REGISTRATION_ID', values: [f.registrationId] }] : []),
  ];
  return {
    id: f.id,
    createdDateTime: f.createdAt.toISOString(),
    modificationDateTime: f.modifiedAt.toISOString(),
    objectType: 'VEN',
    clientID: f.clientId ?? f.organisationId,
    venName: f.venName,
    targets: f.targets,
    attributes: [...derived, ...f.attributes],
  };
}

/** The facts of an asset that its resource object shows (kW, WGS 84 degrees). */
export interface AssetFacts {
  id: string;
  name: string;
  category: string;
  createdAt: Date;
  modifiedAt: Date;
  generationCapacityKw: number | null;
  demandCapacityKw: number | null;
  ratedCapacityKw: number;
  latitude: number | null;
  longitude: number | null;
  dno: string | null;
  gspGroup: string | null;
  importMpan: string | null;
  exportMpan: string | null;
}

/** What a VEN–asset binding adds to the asset's resource view (a VEN without bindings has none). */
export interface BindingFacts {
  resourceName: string;
  targets: string[];
  attributes: ValuesMap[];
  createdAt: Date;
  modifiedAt: Date;
}

/** A resource's object ID: its VEN's object ID and the asset ID (both `[A-Za-z0-9]`), joined by `_`. */
export const resourceId = (venObjectId: string, assetId: string) => `${venObjectId}_${assetId}`;
export function parseResourceId(id: string): { venObjectId: string; assetId: string } | undefined {
  const m = /^([A-Za-z0-9-]{1,64})_([A-Za-z0-9]{1,63})$/.exec(id);
  return m ? { venObjectId: m[1], assetId: m[2] } : undefined;
}

/** Targets of an asset's resource: its DNO licence area and GSP group, prefixed by their kind. */
export function assetTargets(a: Pick<AssetFacts, 'dno' | 'gspGroup'>): string[] {
  return [...(a.dno ? [`DNO:${a.dno}`] : []), ...(a.gspGroup ? [`GSP_GROUP:${a.gspGroup}`] : [])];
}

/** The attributes the register derives from an asset (RESOURCE_ATTRIBUTES, in that order where present). */
export function assetAttributes(a: AssetFacts): ValuesMap[] {
  const attributes: ValuesMap[] = [{ type: 'DESCRIPTION', values: [`${a.category}: ${a.name}`] }];
  const exportKw = a.generationCapacityKw ?? (a.category === 'BESS' ? a.ratedCapacityKw : null);
  const consumeKw = a.demandCapacityKw ?? (a.category === 'BESS' ? a.ratedCapacityKw : null);
  if (exportKw !== null) attributes.push({ type: 'MAX_POWER_EXPORT', values: [exportKw] });
  if (consumeKw !== null) attributes.push({ type: 'MAX_POWER_CONSUMPTION', values: [consumeKw] });
  if (a.latitude !== null && a.longitude !== null) attributes.push({ type: 'LOCATION', values: [{ x: a.longitude, y: a.latitude }] });
  attributes.push({ type: 'FMAR_ASSET_ID', values: [a.id] });
  const mpans = [a.importMpan, a.exportMpan].filter((m): m is string => !!m);
  if (mpans.length) attributes.push({ type: 'MPAN', values: mpans });
  if (a.dno) attributes.push({ type: 'DNO', values: [a.dno] });
  if (a.gspGroup) attributes.push({ type: 'GSP_GROUP', values: [a.gspGroup] });
  return attributes;
}

/**
 * An asset as an OpenADR 3.1 `resource` of a VEN. Bound to the VEN: the binding's resourceName,
 * its targets after the derived ones and its attributes after the derived ones. Unbound (a VEN
 * without bindings): resourceName = the asset ID. LOCATION is one point with x = longitude and y = latitude (WGS 84 decimal degrees,
 * GeoJSON's axis order); MAX_POWER_* are kW.
 */
export function toResource(
  a: AssetFacts,
  ven: Pick<Ven, 'id' | 'clientID' | 'createdDateTime' | 'modificationDateTime'>,
  b?: BindingFacts,
): Resource {
  const later = (...xs: Date[]) => new Date(Math.max(...xs.map((x) => x.getTime()))).toISOString();
  const venCreated = new Date(ven.createdDateTime),
    venModified = new Date(ven.modificationDateTime);
  const derived = assetTargets(a);
  return {
    id: resourceId(ven.id, a.id),
    createdDateTime: b ? b.createdAt.toISOString() : later(a.createdAt, venCreated),
    modificationDateTime: later(a.modifiedAt, venModified, ...(b ? [b.modifiedAt] : [])),
    objectType: 'RESOURCE',
    clientID: ven.clientID,
    resourceName: b?.resourceName ?? a.id,
    venID: ven.id,
    targets: [...derived, ...(b?.targets ?? []).filter((t) => !derived.includes(t))],
    attributes: [...assetAttributes(a), ...(b?.attributes ?? [])],
  };
}
