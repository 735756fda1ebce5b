import { CIM100, FMAR_EXT } from './namespaces';

/**
 * The FMAR CIM profile: ONE table, used by the writer, the importer and docs/cim-profile.md
 * (`profileMarkdown()` renders it; a test checks the file on disk agrees).
 */

export type EquipmentClass = 'PowerElectronicsConnection' | 'EnergyConsumer';
export type UnitClass = 'BatteryUnit' | 'PhotoVoltaicUnit' | 'PowerElectronicsWindUnit';

export interface CategoryProfile { equipment: EquipmentClass; unit?: UnitClass; psrType?: string; note: string }

/** Register category → CIM classes. */
export const CATEGORY_PROFILE = {
  BESS: { equipment: 'PowerElectronicsConnection', unit: 'BatteryUnit', note: 'Battery storage' },
  SOLAR_PV: { equipment: 'PowerElectronicsConnection', unit: 'PhotoVoltaicUnit', note: 'Solar PV' },
  WIND_TURBINE: { equipment: 'PowerElectronicsConnection', unit: 'PowerElectronicsWindUnit', note: 'Wind (inverter-connected)' },
  EV_CHARGER: { equipment: 'EnergyConsumer', psrType: 'EV_CHARGER', note: 'EV charger' },
  HEAT_PUMP: { equipment: 'EnergyConsumer', psrType: 'HEAT_PUMP', note: 'Heat pump' },
  ELECTRIC_BOILER: { equipment: 'EnergyConsumer', psrType: 'ELECTRIC_BOILER', note: 'Electric boiler' },
  HVAC: { equipment: 'EnergyConsumer', psrType: 'HVAC', note: 'HVAC' },
  REFRIGERATION: { equipment: 'EnergyConsumer', psrType: 'REFRIGERATION', note: 'Refrigeration' },
  INDUSTRIAL_LOAD: { equipment: 'EnergyConsumer', psrType: 'INDUSTRIAL_LOAD', note: 'Industrial load' },
  CHP: { equipment: 'EnergyConsumer', psrType: 'CHP', note: 'CHP: no generator model in this profile; an EnergyConsumer typed CHP whose generation capacity is fmar:EnergyConsumer.maxGenerationP' },
  OTHER: { equipment: 'EnergyConsumer', psrType: 'OTHER', note: 'Anything else' },
} as const satisfies Record<string, CategoryProfile>;

export type ProfileCategory = keyof typeof CATEGORY_PROFILE;

/** Class spellings written by other tools, accepted on import (canonical local name → variants). */
export const CLASS_SPELLINGS: Record<string, readonly string[]> = {
  PhotoVoltaicUnit: ['PhotovoltaicUnit'],
};

/** Record-level mapping: every other class the export writes, and what it carries. */
export const OBJECT_PROFILE: readonly { cls: string; ns: string; from: string; mrid: string }[] = [
  { cls: 'PowerElectronicsConnection / EnergyConsumer', ns: CIM100, from: 'the asset (equipment view): name, ratings, connection status, network', mrid: 'the asset ID (ULID → UUID-shaped hex), or the DSO mRID it was imported or enriched with (alias `cim_mrid`)' },
  { cls: 'BatteryUnit / PhotoVoltaicUnit / PowerElectronicsWindUnit', ns: CIM100, from: 'the asset’s unit; `PowerElectronicsUnit.PowerElectronicsConnection` points to the connection (the other direction is accepted on import)', mrid: 'derived: UUIDv8 of (equipment mRID, "unit")' },
  { cls: 'PSRType', ns: CIM100, from: 'one per demand category, name = the category code; `PowerSystemResource.PSRType` on the EnergyConsumer', mrid: 'derived from the category' },
  { cls: 'Asset', ns: CIM100, from: 'the physical device: serial number, manufacturer, model, commissioning date, owner and FSP roles; `Asset.PowerSystemResources` points to the equipment', mrid: 'derived: (equipment mRID, "asset")' },
  { cls: 'UsagePoint', ns: CIM100, from: 'one per MPAN (import, export); `UsagePoint.Equipments` points to the equipment', mrid: 'derived: (equipment mRID, "usagepoint/import|export")' },
  { cls: 'Name + NameType "MPAN"', ns: CIM100, from: 'the MPAN core, on its UsagePoint', mrid: 'derived' },
  { cls: 'Name + NameType <scheme>', ns: CIM100, from: 'every other alias (evse, ecr, mcs, fsp_ref), on the Asset', mrid: 'derived' },
  { cls: 'Location + PositionPoint', ns: CIM100, from: 'postcode and GSP group (fmar:), WGS84 longitude = xPosition, latitude = yPosition', mrid: 'derived' },
  { cls: 'Organisation + AssetOwner / OrganisationRole "FSP"', ns: CIM100, from: 'owning organisation (AssetOwner) and controlling FSP (OrganisationRole named FSP); `Asset.OrganisationRoles` points to them', mrid: 'the organisation ID (ULID → UUID-shaped hex, derived when not a ULID); roles derived' },
];

/** Asset field → CIM / extension property. Powers are written in W (SI, no multiplier). */
export const FIELD_PROFILE: readonly { field: string; property: string; note?: string }[] = [
  { field: 'name', property: 'cim:IdentifiedObject.name', note: 'at most 128 characters; a longer name is cut there and written whole in IdentifiedObject.description' },
  { field: 'category', property: 'classes above, and fmar:Equipment.category' },
  { field: 'ratedCapacityKw', property: 'cim:PowerElectronicsConnection.ratedS / fmar:EnergyConsumer.ratedP', note: 'W' },
  { field: 'generationCapacityKw', property: 'cim:PowerElectronicsConnection.maxP / fmar:EnergyConsumer.maxGenerationP', note: 'W' },
  { field: 'demandCapacityKw', property: 'cim:PowerElectronicsConnection.minP (negative) / cim:EnergyConsumer.pfixed', note: 'W' },
  { field: 'connectionStatus', property: 'cim:Equipment.inService (CONNECTED true, DISCONNECTED false) and fmar:Equipment.connectionStatus', note: 'on import, a file that states neither is read as PENDING' },
  { field: 'connectionType, dno, energySource, demandTechnology, friendlyCode, consentReference, effectiveDate', property: 'fmar:Equipment.<field>' },
  { field: 'serialNumber', property: 'cim:Asset.serialNumber' },
  { field: 'manufacturer, model, commissioningDate', property: 'fmar:Asset.<field>' },
  { field: 'importMpan, exportMpan', property: 'UsagePoint + Name (NameType MPAN); fmar:UsagePoint.direction import|export' },
  { field: 'aliases', property: 'Name (NameType = scheme) on the Asset; `cim_mrid` aliases are the mRID instead' },
  { field: 'location', property: 'Location (fmar:Location.postcode, fmar:Location.gspGroup) + PositionPoint' },
  { field: 'organisationId, fspId', property: 'Organisation via AssetOwner / OrganisationRole "FSP"', note: 'bulk-load finds the organisation by its mRID; `organisationId=` names one for equipment that has none' },
  { field: 'status, version, recordedAt, recordedBy, history', property: '(not exported)', note: 'register bookkeeping; a bulk-loaded asset starts PENDING_VALIDATION like any registration' },
];

/** Import: what an inbound file may change (network references read from the DSO's model). */
export const NETWORK_REFERENCES = [
  { ref: 'connectivityNode', path: 'Terminal.ConductingEquipment → equipment; Terminal.ConnectivityNode' },
  { ref: 'substation', path: 'ConnectivityNode.ConnectivityNodeContainer / Equipment.EquipmentContainer → VoltageLevel.Substation or Substation' },
  { ref: 'feeder', path: 'Equipment.EquipmentContainer or ConnectivityNode.ConnectivityNodeContainer that is a Feeder (or Line)' },
] as const;

export const PROFILE_URI = 'https://fmar.uk/ns/CIM/profile/AssetRegister/1.0';

export const UNIT_FACTORS = { W: 1, kW: 1000, MW: 1_000_000 } as const;
export type PowerUnit = keyof typeof UNIT_FACTORS;

const cell = (s: string) => s.replace(/\|/g, '\\|');

/** docs/cim-profile.md, rendered from the tables above. */
export function profileMarkdown(): string {
  const out = [
    '<!-- generated from cim/profile.ts by `npm run docs:cim`; do not edit -->',
    '# CIM profile of the register',
    '',
    `Profile URI \`${PROFILE_URI}\`. Export namespace CIM100 (\`${CIM100}\`); fields CIM has no home for use the`,
    `extension namespace \`${FMAR_EXT}\` (prefix \`fmar\`). Documents carry an \`md:FullModel\` header (profile, creation`,
    'time from the hub clock, modelling authority = the hub base URL) and list objects in asset-ID order, so that two',
    'exports of the same register diff cleanly. Every object is written as `rdf:ID="_<mRID>"` with',
    '`cim:IdentifiedObject.mRID`; names are at most 128 characters, descriptions at most 256.',
    '',
    '## Categories',
    '',
    '| Category | Equipment | Unit | PSRType | Note |',
    '|---|---|---|---|---|',
    ...Object.entries(CATEGORY_PROFILE).map(([c, p]: [string, CategoryProfile]) => `| \`${c}\` | ${p.equipment} | ${p.unit ?? ''} | ${p.psrType ?? ''} | ${cell(p.note)} |`),
    '',
    'Import also accepts these class spellings: ' + Object.entries(CLASS_SPELLINGS).map(([k, v]) => `${v.join(', ')} for ${k}`).join('; ') + '.',
    '',
    '## Objects',
    '',
    '| Class | Carries | mRID |',
    '|---|---|---|',
    ...OBJECT_PROFILE.map((o) => `| ${o.cls} | ${cell(o.from)} | ${cell(o.mrid)} |`),
    '',
    '## Fields',
    '',
    '| Register field | CIM property | Note |',
    '|---|---|---|',
    ...FIELD_PROFILE.map((f) => `| ${f.field} | ${cell(f.property)} | ${cell(f.note ?? '')} |`),
    '',
    '## Import',
    '',
    'An import parses CIM16, CIM100 and CIM18 files (prefixes resolved from `xmlns`), merges several files of one model',
    '(EQ + SSH), normalises identifiers (`_`, `#`, `urn:uuid:`, case) while keeping their original form, and reports',
    'unknown classes and dangling references. Powers are read in the unit of the request’s `unit` parameter',
    `(${Object.keys(UNIT_FACTORS).join(', ')}; default W). \`mode=enrich\` records, on assets matched by MPAN, the DSO's equipment mRID as a`,
    '`cim_mrid` alias and these network references:',
    '',
    '| Reference | Read from |',
    '|---|---|',
    ...NETWORK_REFERENCES.map((r) => `| ${r.ref} | ${cell(r.path)} |`),
    '',
    '`mode=bulk-load` registers the equipment as new assets through the same validation as the API (atomic, `dryRun=true`',
    'validates only); the source mRID is kept as a `cim_mrid` alias, never re-minted.',
    '',
    '## JSON-LD',
    '',
    'The native JSON API reads as CIM through the JSON-LD 1.1 `@context` published at `/contexts/cim.jsonld`',
    '(quantities stay in kW there, so capacities map to extension terms):',
    '',
    '| JSON field | Term | Resource |',
    '|---|---|---|',
    ...JSONLD_TERMS.map((t) => `| \`${t.field}\` | ${t.term}${t.container ? ' (set)' : ''} | ${t.resource} |`),
  ];
  return out.join('\n') + '\n';
}

/**
 * JSON-LD: the native API's JSON fields → the CIM (or extension) terms of this profile, one table
 * for the published `@context` and docs/cim-profile.md. Quantities stay in the API's units (kW),
 * so capacities map to extension terms; the RDF export writes the CIM properties in W.
 */
export const JSONLD_TERMS: readonly { field: string; term: string; resource: 'Asset' | 'Organisation' | 'both'; container?: '@set' }[] = [
  { field: 'id', term: 'fmar:IdentifiedObject.registerId', resource: 'both' },
  { field: 'name', term: 'cim:IdentifiedObject.name', resource: 'Asset' },
  { field: 'friendlyCode', term: 'fmar:Equipment.friendlyCode', resource: 'Asset' },
  { field: 'category', term: 'fmar:Equipment.category', resource: 'Asset' },
  { field: 'organisationId', term: 'fmar:Asset.organisationId', resource: 'Asset' },
  { field: 'fspId', term: 'fmar:Asset.fspId', resource: 'Asset' },
  { field: 'status', term: 'fmar:IdentifiedObject.registerStatus', resource: 'both' },
  { field: 'ratedCapacityKw', term: 'fmar:Equipment.ratedCapacityKw', resource: 'Asset' },
  { field: 'generationCapacityKw', term: 'fmar:Equipment.generationCapacityKw', resource: 'Asset' },
  { field: 'demandCapacityKw', term: 'fmar:Equipment.demandCapacityKw', resource: 'Asset' },
  { field: 'energySource', term: 'fmar:Equipment.energySource', resource: 'Asset' },
  { field: 'demandTechnology', term: 'fmar:Equipment.demandTechnology', resource: 'Asset' },
  { field: 'manufacturer', term: 'fmar:Asset.manufacturer', resource: 'Asset' },
  { field: 'model', term: 'fmar:Asset.model', resource: 'Asset' },
  { field: 'serialNumber', term: 'cim:Asset.serialNumber', resource: 'Asset' },
  { field: 'commissioningDate', term: 'fmar:Asset.commissioningDate', resource: 'Asset' },
  { field: 'effectiveDate', term: 'fmar:Equipment.effectiveDate', resource: 'Asset' },
  { field: 'connectionStatus', term: 'fmar:Equipment.connectionStatus', resource: 'Asset' },
  { field: 'connectionType', term: 'fmar:Equipment.connectionType', resource: 'Asset' },
  { field: 'dno', term: 'fmar:Equipment.dno', resource: 'Asset' },
  { field: 'importMpan', term: 'fmar:UsagePoint.importMpan', resource: 'Asset' },
  { field: 'exportMpan', term: 'fmar:UsagePoint.exportMpan', resource: 'Asset' },
  { field: 'location', term: 'cim:PowerSystemResource.Location', resource: 'Asset' },
  { field: 'postcode', term: 'fmar:Location.postcode', resource: 'Asset' },
  { field: 'gspGroup', term: 'fmar:Location.gspGroup', resource: 'Asset' },
  { field: 'latitude', term: 'cim:PositionPoint.yPosition', resource: 'Asset' },
  { field: 'longitude', term: 'cim:PositionPoint.xPosition', resource: 'Asset' },
  { field: 'consentReference', term: 'fmar:Equipment.consentReference', resource: 'Asset' },
  { field: 'aliases', term: 'cim:IdentifiedObject.Names', resource: 'Asset', container: '@set' },
  { field: 'identifiers', term: 'cim:IdentifiedObject.Names', resource: 'Organisation', container: '@set' },
  { field: 'scheme', term: 'cim:Name.NameType', resource: 'both' },
  { field: 'value', term: 'cim:Name.name', resource: 'both' },
  { field: 'legalName', term: 'cim:IdentifiedObject.name', resource: 'Organisation' },
  { field: 'tradingName', term: 'cim:IdentifiedObject.aliasName', resource: 'Organisation' },
  { field: 'organisationType', term: 'fmar:Organisation.organisationType', resource: 'Organisation' },
  { field: 'organisationTypeDescription', term: 'fmar:Organisation.organisationTypeDescription', resource: 'Organisation' },
  { field: 'registrationNumber', term: 'fmar:Organisation.registrationNumber', resource: 'Organisation' },
  { field: 'roles', term: 'fmar:Organisation.roles', resource: 'Organisation', container: '@set' },
  { field: 'dnoCodes', term: 'fmar:Organisation.dnoCodes', resource: 'Organisation', container: '@set' },
  { field: 'version', term: 'fmar:IdentifiedObject.version', resource: 'both' },
  { field: 'recordedAt', term: 'fmar:IdentifiedObject.recordedAt', resource: 'both' },
  { field: 'recordedBy', term: 'fmar:IdentifiedObject.recordedBy', resource: 'both' },
  { field: 'deregisteredAt', term: 'fmar:IdentifiedObject.deregisteredAt', resource: 'both' },
];

/** The published JSON-LD 1.1 `@context` of the native API (served at /contexts/cim.jsonld). */
export function jsonLdContext(): Record<string, unknown> {
  const ctx: Record<string, unknown> = { '@version': 1.1, cim: CIM100, fmar: FMAR_EXT, Asset: 'cim:Asset', Organisation: 'cim:Organisation' };
  for (const t of JSONLD_TERMS) ctx[t.field] = t.container ? { '@id': t.term, '@container': t.container } : t.term;
  return { '@context': ctx };
}
