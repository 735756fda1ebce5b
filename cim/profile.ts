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
  { field: 'connectionStatus', property: 'cim:Equipment.inService (CONNECTED true, DISCONNECTED false) and fmar:Equipment.connectionStatus' },
  { field: 'connectionType, dno, energySource, demandTechnology, friendlyCode, consentReference, effectiveDate', property: 'fmar:Equipment.<field>' },
  { field: 'serialNumber', property: 'cim:Asset.serialNumber' },
  { field: 'manufacturer, model, commissioningDate', property: 'fmar:Asset.<field>' },
  { field: 'importMpan, exportMpan', property: 'UsagePoint + Name (NameType MPAN); fmar:UsagePoint.direction import|export' },
  { field: 'aliases', property: 'Name (NameType = scheme) on the Asset; `cim_mrid` aliases are the mRID instead' },
  { field: 'location', property: 'Location (fmar:Location.postcode, fmar:Location.gspGroup) + PositionPoint' },
  { field: 'organisationId, fspId', property: 'Organisation via AssetOwner / OrganisationRole "FSP"' },
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
  ];
  return out.join('\n') + '\n';
}
