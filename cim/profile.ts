import { importMarkdown } from './import-profile';
import { CIM100, FMAR_EXT } from './namespaces';

/**
 * The FMAR CIM profile: ONE table, used by the writer, the importer and docs/cim-profile.md
 * (`profileMarkdown()` renders it; a test checks the file on disk agrees).
 */

export type EquipmentClass = 'PowerElectronicsConnection' | 'EnergyConsumer';
export type UnitClass = 'BatteryUnit' | 'PhotoVoltaicUnit' | 'PowerElectronicsWindUnit';

export interface CategoryProfile {
  equipment: EquipmentClass;
  unit?: UnitClass;
  psrType?: string;
  note: string;
}

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
  CHP: {
    equipment: 'EnergyConsumer',
    psrType: 'CHP',
    note: 'CHP: no generator model in this profile; an EnergyConsumer typed CHP whose generation capacity is fmar:EnergyConsumer.maxGenerationP',
  },
  OTHER: { equipment: 'EnergyConsumer', psrType: 'OTHER', note: 'Anything else' },
} as const satisfies Record<string, CategoryProfile>;

export type ProfileCategory = keyof typeof CATEGORY_PROFILE;

/** Class spellings written by other tools, accepted on import (canonical local name → variants). */
export const CLASS_SPELLINGS: Record<string, readonly string[]> = {
  PhotoVoltaicUnit: ['PhotovoltaicUnit'],
};

/** Record-level mapping: every other class the export writes, and what it carries. */
export const OBJECT_PROFILE: readonly { cls: string; ns: string; from: string; mrid: string }[] = [
  {
    cls: 'PowerElectronicsConnection / EnergyConsumer',
    ns: CIM100,
    from: 'the asset (equipment view): name, ratings, connection status, network',
    mrid: "the DSO's mRID for the asset's connection (what the latest enrich recorded, else the `cim_mrid` alias it was bulk-loaded with), in lower case, when it is UUID-shaped and no other asset carries it; otherwise the asset ID as a UUIDv8, and the DSO's identifier is a Name of NameType `cim_mrid` on the equipment",
  },
  {
    cls: 'BatteryUnit / PhotoVoltaicUnit / PowerElectronicsWindUnit',
    ns: CIM100,
    from: 'the asset’s unit; `PowerElectronicsUnit.PowerElectronicsConnection` points to the connection (the other direction is accepted on import)',
    mrid: 'derived: UUIDv8 of (equipment mRID, "unit")',
  },
  {
    cls: 'PSRType',
    ns: CIM100,
    from: 'one per demand category, name = the category code; `PowerSystemResource.PSRType` on the EnergyConsumer',
    mrid: 'derived from the category',
  },
  {
    cls: 'Asset',
    ns: CIM100,
    from: 'the physical device: serial number, manufacturer, model, commissioning date, owner and FSP roles; `Asset.PowerSystemResources` points to the equipment',
    mrid: 'derived: (equipment mRID, "asset")',
  },
  {
    cls: 'UsagePoint',
    ns: CIM100,
    from: 'one per MPAN and direction, shared by every asset behind that meter (written once, with the first); `Equipment.UsagePoints` on each equipment points to it',
    mrid: 'derived: ("fmar:usagepoint", "import|export/<MPAN>")',
  },
  { cls: 'Name + NameType "MPAN"', ns: CIM100, from: 'the MPAN core, on its UsagePoint', mrid: 'derived (Name has no mRID: rdf:ID only)' },
  {
    cls: 'Name + NameType "cim_mrid"',
    ns: CIM100,
    from: "the DSO's identifier (normalised: lower case, without `#`, `urn:uuid:` or a leading `_`) of an equipment, connectivity node, feeder or substation whose mRID could not be the DSO's (shared by several assets, or not UUID-shaped)",
    mrid: 'derived (rdf:ID only)',
  },
  {
    cls: 'Name + NameType <scheme>',
    ns: CIM100,
    from: 'every other alias (evse, ecr, mcs, fsp_ref), on the Asset',
    mrid: 'derived (rdf:ID only)',
  },
  {
    cls: 'Location + PositionPoint',
    ns: CIM100,
    from: 'postcode and GSP group (fmar:), WGS84 longitude = xPosition, latitude = yPosition',
    mrid: 'derived (PositionPoint: rdf:ID only)',
  },
  {
    cls: 'Terminal',
    ns: CIM100,
    from: "the equipment's connection to the connectivity node an enrich recorded (`Terminal.ConductingEquipment`, `Terminal.ConnectivityNode`, sequence number 1)",
    mrid: 'derived: (equipment mRID, "terminal")',
  },
  {
    cls: 'OperationalLimitSet + ActivePowerLimit + OperationalLimitType',
    ns: CIM100,
    from: "a connection limit a DNO recorded at one of the asset's MPANs (docs/connection-limits.md), ACTIVE and not ended: an OperationalLimitSet on the equipment's Terminal (`OperationalLimitSet.Terminal`; on the equipment, `OperationalLimitSet.Equipment`, while no terminal is known), with the MPAN, site reference, firmness, validity and flexible connection scheme (fmar:); an ActivePowerLimit per direction the limit sets (`ActivePowerLimit.value` in W, the magnitude), typed by the shared OperationalLimitType `import` or `export`. An import reads them back (see Import)",
    mrid: 'derived: set (equipment mRID, "limit/<limit ID>"), limit (set mRID, "import|export"), type ("fmar:operationallimittype", "import|export")',
  },
  {
    cls: 'ScheduledLimitDependency + ScheduledActivePowerLimitValue',
    ns: CIM100,
    from: "a TIMED limit's profile, the way CIM (InfOperationalLimits) carries a limit that changes with a schedule: per direction that has bands, a ScheduledLimitDependency on that direction's ActivePowerLimit (`LimitDependency.OperationalLimit`) and the equipment (`LimitDependency.Equipment`); per band, a ScheduledActivePowerLimitValue (`value` in W) whose time is the band's days (`fmar:ScheduledLimitValue.day`, one per day, none = every day) and local times (`fmar:ScheduledLimitValue.from` / `.to`, HH:MM Europe/London) with its number in the profile (`fmar:ScheduledLimitValue.band`, from 1; a band with both limits is one value under each direction's dependency). CIM's `ScheduledLimitValue.Season` (a date range) is not used: the bands repeat every week of the limit's validity",
    mrid: 'derived: dependency (limit mRID, "schedule"), value (dependency mRID, "band/<index from 0>")',
  },
  {
    cls: 'ConnectivityNode / Feeder / Substation',
    ns: CIM100,
    from: "what the asset's latest enrich recorded, each written once with the first asset that refers to it; `Equipment.EquipmentContainer` points to the feeder (else the substation), `Feeder.NormalEnergizingSubstation` to the substation (as the feeder's first asset recorded it)",
    mrid: "the DSO's, in lower case; derived from it when it is not UUID-shaped (the DSO's identifier is then a Name of NameType `cim_mrid`)",
  },
  {
    cls: 'RegisteredResource',
    ns: CIM100,
    from: 'a market unit (SPU/SPG): name, type and product (fmar:), its FSP (`fmar:RegisteredResource.OrganisationRole` → the organisation\'s "FSP" role) and its member assets (`fmar:RegisteredResource.PowerSystemResources` → each member\'s equipment that the document holds; CIM has no association from a RegisteredResource to the equipment it groups, so the link is an extension)',
    mrid: 'the market unit ID as a UUIDv8',
  },
  {
    cls: 'Organisation + AssetOwner / OrganisationRole "FSP"',
    ns: CIM100,
    from: 'owning organisation (AssetOwner) and controlling FSP (OrganisationRole named FSP); `Asset.OrganisationRoles` points to them',
    mrid: 'the organisation ID as a UUIDv8 (derived when not a ULID); roles derived',
  },
];

/** Asset field → CIM / extension property. Powers are written in W (SI, no multiplier). */
export const FIELD_PROFILE: readonly { field: string; property: string; note?: string }[] = [
  {
    field: 'name',
    property: 'cim:IdentifiedObject.name',
    note: 'at most 128 characters; a longer name is cut there and written whole in IdentifiedObject.description',
  },
  { field: 'category', property: 'classes above, and fmar:Equipment.category' },
  { field: 'ratedCapacityKw', property: 'cim:PowerElectronicsConnection.ratedS / fmar:EnergyConsumer.ratedP', note: 'W' },
  { field: 'generationCapacityKw', property: 'cim:PowerElectronicsConnection.maxP / fmar:EnergyConsumer.maxGenerationP', note: 'W' },
  { field: 'demandCapacityKw', property: 'cim:PowerElectronicsConnection.minP (negative) / cim:EnergyConsumer.pfixed', note: 'W' },
  {
    field: 'connectionStatus',
    property: 'cim:Equipment.inService (CONNECTED true, DISCONNECTED false) and fmar:Equipment.connectionStatus',
    note: 'on import, a file that states neither is read as PENDING',
  },
  {
    field: 'connectionType, dno, energySource, demandTechnology, friendlyCode, consentReference, effectiveDate',
    property: 'fmar:Equipment.<field>',
  },
  { field: 'serialNumber', property: 'cim:Asset.serialNumber' },
  { field: 'manufacturer, model, commissioningDate', property: 'fmar:Asset.<field>' },
  {
    field: 'importMpan, exportMpan',
    property: 'cim:Equipment.UsagePoints → UsagePoint + Name (NameType MPAN); fmar:UsagePoint.direction import|export',
    note: 'one usage point per MPAN and direction, whichever assets share it',
  },
  {
    field: 'aliases',
    property: 'Name (NameType = scheme) on the Asset',
    note: '`cim_mrid` aliases are not Names: the smallest UUID-shaped one is the equipment mRID of an asset no enrich has recorded a reference for (Objects); the mRIDs a DSO gave before its latest enrich are kept on the asset, not exported',
  },
  { field: 'location', property: 'Location (fmar:Location.postcode, fmar:Location.gspGroup) + PositionPoint' },
  {
    field: 'organisationId, fspId',
    property: 'Organisation via AssetOwner / OrganisationRole "FSP"',
    note: 'bulk-load finds the organisation by its mRID; `organisationId=` names one for equipment that has none',
  },
  {
    field: 'status, version, recordedAt, recordedBy, history',
    property: '(not exported)',
    note: 'register bookkeeping; a bulk-loaded asset starts PENDING_VALIDATION like any registration',
  },
];

/** Market unit field → CIM / extension property (export only: market units are not imported). */
export const UNIT_FIELD_PROFILE: readonly { field: string; property: string; note?: string }[] = [
  {
    field: 'name',
    property: 'cim:IdentifiedObject.name',
    note: 'as for assets: at most 128 characters, the whole name in description when longer',
  },
  { field: 'type', property: 'fmar:RegisteredResource.unitType', note: 'SPU or SPG' },
  { field: 'product', property: 'fmar:RegisteredResource.product' },
  { field: 'fspId', property: 'fmar:RegisteredResource.OrganisationRole', note: 'the FSP organisation\'s "FSP" OrganisationRole' },
  {
    field: 'assetIds',
    property: 'fmar:RegisteredResource.PowerSystemResources',
    note: 'one per member asset in the document, in equipment-mRID order; a unit with no member in the document is left out',
  },
  {
    field: 'status, version, reassessmentRequired, history',
    property: '(not exported)',
    note: 'only ACTIVE units the caller may read (market-units.read) are written, after the assets',
  },
];

/** Import: what an inbound file may change (network references read from the DSO's model). */
export const NETWORK_REFERENCES = [
  { ref: 'connectivityNode', path: 'Terminal.ConductingEquipment → equipment; Terminal.ConnectivityNode' },
  {
    ref: 'substation',
    path: 'ConnectivityNode.ConnectivityNodeContainer / Equipment.EquipmentContainer → VoltageLevel.Substation or Substation',
  },
  { ref: 'feeder', path: 'Equipment.EquipmentContainer or ConnectivityNode.ConnectivityNodeContainer that is a Feeder (or Line)' },
] as const;

export const PROFILE_URI = 'https://fmar.uk/ns/CIM/profile/AssetRegister/1.0';

/**
 * The export as SHACL: every class the writer writes and every property it may carry, with its
 * count and values. Shapes are closed (a property not listed here is a violation), so a SHACL
 * validation of an export checks the writer against this table; docs/cim-shapes.ttl is rendered
 * from it (`profileShapes()`) and so is the "Shapes" section of docs/cim-profile.md.
 */
export interface ShapeProperty {
  /** `cim:`, `fmar:` or `md:` property. */
  path: string;
  min: number;
  /** Absent: any number. */
  max?: number;
  /** A reference to an object of one of these classes (local names in the CIM namespace). */
  ref?: readonly string[];
  /** A literal matching this pattern, or one of these values. */
  pattern?: string;
  in?: readonly string[];
  maxLength?: number;
}

export interface ClassShape {
  /** `cim:Class` or `md:FullModel`. */
  cls: string;
  /** Identified objects carry `cim:IdentifiedObject.mRID` (and may carry name and description); Name, NameType and PositionPoint do not. */
  identified: boolean;
  /** Whether the name is required (identified objects only). */
  named?: boolean;
  properties: readonly ShapeProperty[];
}

export const UUID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
const WATTS = '^-?[0-9]+$';
const DATE = '^[0-9]{4}-[0-9]{2}-[0-9]{2}$';
const DATETIME = '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?Z$';
const LOCAL_TIME = '^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$';
const NUMBER = '^-?[0-9]+(\\.[0-9]+)?(e[-+]?[0-9]+)?$';
const EQUIPMENT = ['PowerElectronicsConnection', 'EnergyConsumer'] as const;
const categoriesOf = (cls: EquipmentClass) =>
  Object.entries(CATEGORY_PROFILE)
    .filter(([, p]: [string, CategoryProfile]) => p.equipment === cls)
    .map(([c]) => c);
const opt = (path: string, more: Partial<ShapeProperty> = {}): ShapeProperty => ({ path, min: 0, max: 1, ...more });
const one = (path: string, more: Partial<ShapeProperty> = {}): ShapeProperty => ({ path, min: 1, max: 1, ...more });
const equipmentProperties = (cls: EquipmentClass): ShapeProperty[] => [
  opt('cim:Equipment.inService', { in: ['true', 'false'] }),
  opt('cim:PowerSystemResource.Location', { ref: ['Location'] }),
  opt('cim:Equipment.EquipmentContainer', { ref: ['Feeder', 'Substation'] }),
  { path: 'cim:Equipment.UsagePoints', min: 0, max: 2, ref: ['UsagePoint'] },
  one('fmar:Equipment.category', { in: categoriesOf(cls) }),
  one('fmar:Equipment.connectionStatus', { pattern: '^[A-Z_]+$' }),
  opt('fmar:Equipment.connectionType'),
  opt('fmar:Equipment.dno'),
  opt('fmar:Equipment.energySource'),
  opt('fmar:Equipment.demandTechnology'),
  opt('fmar:Equipment.friendlyCode'),
  opt('fmar:Equipment.consentReference'),
  opt('fmar:Equipment.effectiveDate', { pattern: DATE }),
];
const role = (cls: string): ClassShape => ({
  cls,
  identified: true,
  named: true,
  properties: [one('cim:OrganisationRole.Organisation', { ref: ['Organisation'] })],
});

export const EXPORT_SHAPES: readonly ClassShape[] = [
  {
    cls: 'md:FullModel',
    identified: false,
    properties: [
      one('md:Model.created', { pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?Z$' }),
      one('md:Model.description'),
      one('md:Model.modelingAuthoritySet'),
      one('md:Model.profile', { in: [PROFILE_URI] }),
    ],
  },
  { cls: 'cim:NameType', identified: false, properties: [one('cim:NameType.name')] },
  { cls: 'cim:PSRType', identified: true, named: true, properties: [] },
  { cls: 'cim:Organisation', identified: true, named: true, properties: [] },
  role('cim:AssetOwner'),
  role('cim:OrganisationRole'),
  {
    cls: 'cim:PowerElectronicsConnection',
    identified: true,
    named: true,
    properties: [
      one('cim:PowerElectronicsConnection.ratedS', { pattern: WATTS }),
      opt('cim:PowerElectronicsConnection.maxP', { pattern: WATTS }),
      opt('cim:PowerElectronicsConnection.minP', { pattern: WATTS }),
      ...equipmentProperties('PowerElectronicsConnection'),
    ],
  },
  {
    cls: 'cim:EnergyConsumer',
    identified: true,
    named: true,
    properties: [
      one('fmar:EnergyConsumer.ratedP', { pattern: WATTS }),
      opt('fmar:EnergyConsumer.maxGenerationP', { pattern: WATTS }),
      opt('cim:EnergyConsumer.pfixed', { pattern: WATTS }),
      one('cim:PowerSystemResource.PSRType', { ref: ['PSRType'] }),
      ...equipmentProperties('EnergyConsumer'),
    ],
  },
  ...[...new Set(Object.values(CATEGORY_PROFILE).map((p: CategoryProfile) => p.unit))]
    .filter((u): u is UnitClass => !!u)
    .map((u): ClassShape => ({
      cls: `cim:${u}`,
      identified: true,
      named: true,
      properties: [one('cim:PowerElectronicsUnit.PowerElectronicsConnection', { ref: ['PowerElectronicsConnection'] })],
    })),
  {
    cls: 'cim:Asset',
    identified: true,
    named: true,
    properties: [
      opt('cim:Asset.serialNumber'),
      opt('fmar:Asset.manufacturer'),
      opt('fmar:Asset.model'),
      opt('fmar:Asset.commissioningDate', { pattern: DATE }),
      one('cim:Asset.PowerSystemResources', { ref: EQUIPMENT }),
      { path: 'cim:Asset.OrganisationRoles', min: 2, max: 2, ref: ['AssetOwner', 'OrganisationRole'] },
    ],
  },
  {
    cls: 'cim:UsagePoint',
    identified: true,
    named: true,
    properties: [one('fmar:UsagePoint.direction', { in: ['import', 'export'] })],
  },
  {
    cls: 'cim:Name',
    identified: false,
    properties: [
      one('cim:Name.name'),
      one('cim:Name.NameType', { ref: ['NameType'] }),
      one('cim:Name.IdentifiedObject', { ref: ['UsagePoint', 'Asset', ...EQUIPMENT, 'ConnectivityNode', 'Feeder', 'Substation'] }),
    ],
  },
  {
    cls: 'cim:Location',
    identified: true,
    properties: [opt('fmar:Location.postcode'), opt('fmar:Location.gspGroup', { pattern: '^_[A-P]$' })],
  },
  {
    cls: 'cim:PositionPoint',
    identified: false,
    properties: [
      one('cim:PositionPoint.sequenceNumber', { in: ['1'] }),
      one('cim:PositionPoint.xPosition', { pattern: NUMBER }),
      one('cim:PositionPoint.yPosition', { pattern: NUMBER }),
      one('cim:PositionPoint.Location', { ref: ['Location'] }),
    ],
  },
  {
    cls: 'cim:Terminal',
    identified: true,
    properties: [
      one('cim:ACDCTerminal.sequenceNumber', { in: ['1'] }),
      one('cim:Terminal.ConductingEquipment', { ref: EQUIPMENT }),
      one('cim:Terminal.ConnectivityNode', { ref: ['ConnectivityNode'] }),
    ],
  },
  {
    cls: 'cim:OperationalLimitSet',
    identified: true,
    named: true,
    properties: [
      opt('cim:OperationalLimitSet.Terminal', { ref: ['Terminal'] }),
      opt('cim:OperationalLimitSet.Equipment', { ref: EQUIPMENT }),
      one('fmar:OperationalLimitSet.mpan', { pattern: '^[0-9]{13}$' }),
      one('fmar:OperationalLimitSet.firmness', { in: ['FIRM', 'NON_FIRM', 'TIMED', 'DYNAMIC'] }),
      one('fmar:OperationalLimitSet.validFrom', { pattern: DATETIME }),
      opt('fmar:OperationalLimitSet.validTo', { pattern: DATETIME }),
      opt('fmar:OperationalLimitSet.schemeReference'),
      opt('fmar:OperationalLimitSet.siteReference'),
    ],
  },
  {
    cls: 'cim:ActivePowerLimit',
    identified: true,
    named: true,
    properties: [
      one('cim:ActivePowerLimit.value', { pattern: WATTS }),
      one('cim:OperationalLimit.OperationalLimitSet', { ref: ['OperationalLimitSet'] }),
      one('cim:OperationalLimit.OperationalLimitType', { ref: ['OperationalLimitType'] }),
    ],
  },
  {
    cls: 'cim:OperationalLimitType',
    identified: true,
    named: true,
    properties: [one('fmar:OperationalLimitType.direction', { in: ['import', 'export'] })],
  },
  {
    cls: 'cim:ScheduledLimitDependency',
    identified: true,
    named: true,
    properties: [
      one('cim:LimitDependency.Equipment', { ref: EQUIPMENT }),
      one('cim:LimitDependency.OperationalLimit', { ref: ['ActivePowerLimit'] }),
    ],
  },
  {
    cls: 'cim:ScheduledActivePowerLimitValue',
    identified: true,
    named: true,
    properties: [
      one('cim:ScheduledActivePowerLimitValue.value', { pattern: WATTS }),
      one('cim:ScheduledLimitValue.ScheduledLimitDependency', { ref: ['ScheduledLimitDependency'] }),
      one('fmar:ScheduledLimitValue.band', { pattern: '^[1-9][0-9]?$' }),
      { path: 'fmar:ScheduledLimitValue.day', min: 0, max: 7, in: ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'] },
      one('fmar:ScheduledLimitValue.from', { pattern: LOCAL_TIME }),
      one('fmar:ScheduledLimitValue.to', { pattern: LOCAL_TIME }),
    ],
  },
  { cls: 'cim:ConnectivityNode', identified: true, properties: [] },
  { cls: 'cim:Feeder', identified: true, properties: [opt('cim:Feeder.NormalEnergizingSubstation', { ref: ['Substation'] })] },
  { cls: 'cim:Substation', identified: true, properties: [] },
  {
    cls: 'cim:RegisteredResource',
    identified: true,
    named: true,
    properties: [
      one('fmar:RegisteredResource.unitType', { in: ['SPU', 'SPG'] }),
      one('fmar:RegisteredResource.product'),
      one('fmar:RegisteredResource.OrganisationRole', { ref: ['OrganisationRole'] }),
      { path: 'fmar:RegisteredResource.PowerSystemResources', min: 1, ref: EQUIPMENT },
    ],
  },
];

/** Every property of a shape, the identified object's own first. */
export function shapeProperties(s: ClassShape): ShapeProperty[] {
  if (!s.identified) return [...s.properties];
  return [
    one('cim:IdentifiedObject.mRID', { pattern: UUID_PATTERN }),
    { path: 'cim:IdentifiedObject.name', min: s.named ? 1 : 0, max: 1, maxLength: 128 },
    opt('cim:IdentifiedObject.description', { maxLength: 256 }),
    ...s.properties,
  ];
}

/** The shapes as a table for docs/cim-profile.md. */
function shapesMarkdown(): string[] {
  const rows: string[] = [];
  for (const s of EXPORT_SHAPES) {
    for (const p of shapeProperties(s)) {
      const count = `${p.min}..${p.max ?? '*'}`;
      const values = p.ref
        ? `→ ${p.ref.join(' or ')}`
        : [
            p.in ? `one of ${p.in.map((v) => `\`${v}\``).join(', ')}` : '',
            p.pattern ? `\`${p.pattern}\`` : '',
            p.maxLength ? `≤ ${p.maxLength} characters` : '',
          ]
            .filter(Boolean)
            .join('; ');
      rows.push(`| ${s.cls} | ${p.path} | ${count} | ${cell(values)} |`);
    }
    if (!shapeProperties(s).length) rows.push(`| ${s.cls} | (none) | | |`);
  }
  return rows;
}

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
    'time from the hub clock, modelling authority = the hub base URL; the model ID is derived from both) and list objects',
    'in asset-ID order: two exports of an unchanged register are byte-identical apart from the creation time and that ID.',
    'Every object is written once, as `rdf:ID="_<mRID>"`; objects several assets refer to (organisations, usage points,',
    'connectivity nodes, feeders, substations) are written with the first and referred to by the others. Identified',
    'objects carry `cim:IdentifiedObject.mRID` (a lower-case UUID), names of at most 128 characters and descriptions of',
    'at most 256; `Name`, `NameType`, `PositionPoint` and the `md:FullModel` header are not IdentifiedObjects in CIM and',
    'carry no mRID. mRIDs the register mints are UUIDv8 (RFC 9562): a register ID (a ULID) keeps its bits around the',
    'version and variant (reversible for every ULID minted before 2109); objects derived from a record hash the parent',
    "mRID and a role. Exports before this layout wrote a ULID's 128 bits unchanged (no version or variant): every",
    'register-minted mRID, and every mRID derived from one, changed once with it. A consumer that keyed objects by the old',
    "mRIDs maps them to register IDs (the old mRID is the ULID's bits as hex) and from there to the new ones; bulk-load",
    'still finds an organisation by its old mRID ([decisions.md](decisions.md#cim-mrids-are-uuidv8-and-one-asset-is-one-equipment)).',
    'DSO mRIDs were never re-minted and did not change. The Shapes section at the end is also',
    'published as SHACL (`docs/cim-shapes.ttl`, closed shapes: a property not listed is a violation).',
    '',
    '## Categories',
    '',
    '| Category | Equipment | Unit | PSRType | Note |',
    '|---|---|---|---|---|',
    ...Object.entries(CATEGORY_PROFILE).map(
      ([c, p]: [string, CategoryProfile]) => `| \`${c}\` | ${p.equipment} | ${p.unit ?? ''} | ${p.psrType ?? ''} | ${cell(p.note)} |`,
    ),
    '',
    'Import also accepts these class spellings: ' +
      Object.entries(CLASS_SPELLINGS)
        .map(([k, v]) => `${v.join(', ')} for ${k}`)
        .join('; ') +
      '.',
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
    ...importMarkdown({
      units: Object.keys(UNIT_FACTORS),
      networkReferences: NETWORK_REFERENCES,
      classSpellings: Object.entries(CLASS_SPELLINGS)
        .map(([k, v]) => `${v.map((x) => `\`${x}\``).join(', ')} for \`${k}\``)
        .join('; '),
    }),
    '## Market units',
    '',
    'The export writes the market units the caller may read as `RegisteredResource`s, after the assets:',
    '',
    '| Unit field | CIM property | Note |',
    '|---|---|---|',
    ...UNIT_FIELD_PROFILE.map((f) => `| ${f.field} | ${cell(f.property)} | ${cell(f.note ?? '')} |`),
    '',
    '## Import jobs',
    '',
    'A large import runs in the background: `POST /api/v1/cim/import-jobs` takes the body and options of `/cim/import`',
    '(`mode`, `dryRun`, `unit`, `organisationId`; one XML file or multipart), stores the files and answers `202` with',
    '`Location: /api/v1/cim/import-jobs/{id}`. The job is `QUEUED`, then `RUNNING` (with `progress`: `phase` parsing or',
    'writing, `bytesParsed` of `bytesTotal`, `objectsProcessed`, `equipment`; `assetsMatched` once it has succeeded) and',
    'ends `SUCCEEDED` or `FAILED`, with `createdAt`, `startedAt` and `finishedAt`. `GET .../{id}/report` then answers what',
    'the synchronous import would have: the report (`200`, `201` for a bulk-load that registered) or the problem that',
    'refused the import (e.g. `422 CIM-IMPORT-ROWS-INVALID`, `400 CIM-XML-MALFORMED`); before the end it is',
    '`409 CIM-JOB-NOT-FINISHED`. A job is visible to its organisation and the operator; to anyone else it is',
    '`404 CIM-JOB-NOT-FOUND`. All three routes need `cim.import` (scope `cim:import`: the operator, DNOs and IDNOs); a',
    'bulk-load job also needs `assets.write`, checked when it is queued and again when it runs, as the requesting',
    'organisation (which must still be active then). The import itself writes what `/cim/import` writes: its audit',
    'records and events (`fmar.asset.registered`, `fmar.asset.network-enriched`) commit with it.',
    '',
    "Jobs stay all-or-nothing: the import is one transaction, and the job's outcome is written in that same transaction,",
    'so a job that fails half-way changes nothing and a job is never applied twice. Every Node hub runs a worker loop',
    '(every 2 s, one job at a time) that claims the oldest runnable job with `FOR UPDATE SKIP LOCKED`, so several hubs',
    'share the queue. A claim is a lease (5 minutes, renewed at each progress write); a hub that stops lets it run out and',
    'the job is claimed again, up to 3 attempts, after which it fails `500 CIM-JOB-ABANDONED`. Each claim raises',
    '`attempt`, and a worker writes only under its own attempt: one whose lease was taken over can neither report',
    'progress nor commit. The stored files are deleted when the job ends; the job row, its report and the audit record',
    '`cim-import-job.queued` remain. Progress is written between the steps (after each file is parsed, before the',
    'writing transaction); parsing one file is one step, so a single very large file shows `bytesParsed` move once.',
    'A Workers deployment runs its jobs from the every-minute Cron Trigger (`cim-import-jobs` in `src/jobs.ts`, docs/workers.md).',
    '',
    '**Size.** A job whose body is one RDF/XML document (`application/rdf+xml` or `application/xml`) has its own limit,',
    '`FMAR_MAX_CIM_JOB_BYTES` (default 1 GiB on Node; on a Worker `FMAR_MAX_CIM_BYTES`, 2 MiB): the body is written to',
    'the database in parts of 64 KiB as it arrives, and counted as it grows (over the limit: `413 CIM-XML-TOO-LARGE`, and',
    'nothing of it is left). When the job runs, the parts are read back one at a time into the parser (in its thread on',
    'Node), which reads the document a window at a time: neither the upload nor its text is ever held whole. A',
    'document whose `Content-Length` is within `FMAR_MAX_CIM_BYTES` is read whole and stored in parts, as a multipart',
    'job is (streaming held the embedded database for up to 156 ms at a time on a 60 MB body, against 54 ms read whole). A',
    'multipart job, and `/cim/import` itself, stay under `FMAR_MAX_CIM_BYTES`. A streamed document that is not',
    "well-formed is refused with the scanner's own account of the first fault (message, line and column); a document",
    'sent whole is refused with the account of a whole-document check, as before.',
    '',
    '## Parsing off the request path',
    '',
    'No import stalls the hub. Parsing goes through a `CimParser` port (`src/ports.ts`), whose result is plain data',
    '(`ParsedModel` in `cim/digest.ts`: headers, issues, object and class counts, the extracted equipment):',
    '',
    '| Runtime | Parser | Bound |',
    '|---|---|---|',
    "| Node (`npm start`) | models larger than `FMAR_PARSER_THREAD_ABOVE_BYTES` (default 1 MiB) are parsed, merged and extracted in a worker thread (`src/node/cim-parser.ts`), for `/cim/import` and for jobs alike; smaller ones in process | the thread's heap is `FMAR_PARSER_MAX_MEMORY_MB` (default 2048; `resourceLimits.maxOldGenerationSizeMb`): a model that needs more fails `413 CIM-IMPORT-MEMORY` (a job `FAILED` with that problem), nothing written, the hub unharmed |",
    "| Cloudflare Workers, tests | in process (`src/cim/parsing.ts`): the request's isolate parses | the import's size limit (`FMAR_MAX_BULK_BYTES`), the parser's depth (32) and size limits, and the platform's CPU and memory limits per request |",
    '',
    'The thread starts from `src/node/cim-parse-worker.mjs`, which registers tsx so the thread loads the TypeScript',
    'sources under `npm start` and under vitest alike. The document moves to the thread without a copy (its buffer is',
    'transferred); the result comes back in chunks of 100 issues or equipment, each sent only when the main thread asks',
    'for it after a turn of its event loop, so the main thread never deserialises more than a chunk at a time. The',
    "database work then runs in short steps that yield between them: a job's files are stored and read in parts of",
    '64 KiB (one statement each; the job becomes visible and claimable only once every part is written, and an upload',
    'that never finishes is deleted after 10 minutes), MPANs are looked up 500 at a time outside any transaction, and',
    'the enrich transaction holds only the matched equipment. This matters most on the embedded database, which runs',
    'one statement at a time for the whole hub (`/healthz` included). The parser reads with a purpose-built scanner',
    '(`cim/scan.ts`) a window of about 1 Mi characters at a time, one top-level element after another, checking',
    'well-formedness and depth as it goes (linear in the document). Figures: [performance.md](performance.md#cim-imports-off-the-request-path).',
    '',
    '## JSON-LD',
    '',
    'The native JSON API reads as CIM through the JSON-LD 1.1 `@context` published at `/contexts/cim.jsonld`',
    '(quantities stay in kW there, so capacities map to extension terms):',
    '',
    '| JSON field | Term | Resource |',
    '|---|---|---|',
    ...JSONLD_TERMS.map((t) => `| \`${t.field}\` | ${t.term}${t.container ? ' (set)' : ''} | ${t.resource} |`),
    '',
    '## Shapes',
    '',
    'Every class the export writes and every property it may carry (`docs/cim-shapes.ttl` is the same table as SHACL).',
    'Literals are plain strings; `→` is a reference (`rdf:resource`) to an object of that class in the same document.',
    '',
    '| Class | Property | Count | Values |',
    '|---|---|---|---|',
    ...shapesMarkdown(),
  ];
  return out.join('\n') + '\n';
}

/**
 * JSON-LD: the native API's JSON fields → the CIM (or extension) terms of this profile, one table
 * for the published `@context` and docs/cim-profile.md. Quantities stay in the API's units (kW),
 * so capacities map to extension terms; the RDF export writes the CIM properties in W.
 */
export const JSONLD_TERMS: readonly { field: string; term: string; resource: string; container?: '@set' }[] = [
  { field: 'id', term: 'fmar:IdentifiedObject.registerId', resource: 'all' },
  { field: 'name', term: 'cim:IdentifiedObject.name', resource: 'Asset, MarketUnit' },
  { field: 'friendlyCode', term: 'fmar:Equipment.friendlyCode', resource: 'Asset' },
  { field: 'category', term: 'fmar:Equipment.category', resource: 'Asset' },
  { field: 'organisationId', term: 'fmar:Asset.organisationId', resource: 'Asset' },
  { field: 'fspId', term: 'fmar:Asset.fspId', resource: 'Asset, MarketUnit' },
  { field: 'status', term: 'fmar:IdentifiedObject.registerStatus', resource: 'all' },
  { field: 'ratedCapacityKw', term: 'fmar:Equipment.ratedCapacityKw', resource: 'Asset' },
  { field: 'generationCapacityKw', term: 'fmar:Equipment.generationCapacityKw', resource: 'Asset' },
  { field: 'demandCapacityKw', term: 'fmar:Equipment.demandCapacityKw', resource: 'Asset' },
  { field: 'energySource', term: 'fmar:Equipment.energySource', resource: 'Asset' },
  { field: 'demandTechnology', term: 'fmar:Equipment.demandTechnology', resource: 'Asset' },
  { field: 'energyConversionType', term: 'fmar:Equipment.energyConversionType', resource: 'Asset' },
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
  { field: 'scheme', term: 'cim:Name.NameType', resource: 'Asset, Organisation' },
  { field: 'value', term: 'cim:Name.name', resource: 'Asset, Organisation' },
  { field: 'legalName', term: 'cim:IdentifiedObject.name', resource: 'Organisation' },
  { field: 'tradingName', term: 'cim:IdentifiedObject.aliasName', resource: 'Organisation' },
  { field: 'organisationType', term: 'fmar:Organisation.organisationType', resource: 'Organisation' },
  { field: 'organisationTypeDescription', term: 'fmar:Organisation.organisationTypeDescription', resource: 'Organisation' },
  { field: 'registrationNumber', term: 'fmar:Organisation.registrationNumber', resource: 'Organisation' },
  { field: 'roles', term: 'fmar:Organisation.roles', resource: 'Organisation', container: '@set' },
  { field: 'dnoCodes', term: 'fmar:Organisation.dnoCodes', resource: 'Organisation', container: '@set' },
  { field: 'version', term: 'fmar:IdentifiedObject.version', resource: 'all' },
  { field: 'recordedAt', term: 'fmar:IdentifiedObject.recordedAt', resource: 'all' },
  { field: 'recordedBy', term: 'fmar:IdentifiedObject.recordedBy', resource: 'all' },
  { field: 'type', term: 'fmar:RegisteredResource.unitType', resource: 'MarketUnit' },
  { field: 'product', term: 'fmar:RegisteredResource.product', resource: 'MarketUnit' },
  { field: 'assetIds', term: 'fmar:RegisteredResource.assetIds', resource: 'MarketUnit', container: '@set' },
  { field: 'reassessmentRequired', term: 'fmar:RegisteredResource.reassessmentRequired', resource: 'MarketUnit' },
  { field: 'reassessmentReason', term: 'fmar:RegisteredResource.reassessmentReason', resource: 'MarketUnit' },
  { field: 'qualifications', term: 'fmar:RegisteredResource.qualifications', resource: 'MarketUnit', container: '@set' },
  { field: 'deregisteredAt', term: 'fmar:IdentifiedObject.deregisteredAt', resource: 'all' },
];

/** The published JSON-LD 1.1 `@context` of the native API (served at /contexts/cim.jsonld). */
export function jsonLdContext(): Record<string, unknown> {
  const ctx: Record<string, unknown> = {
    '@version': 1.1,
    cim: CIM100,
    fmar: FMAR_EXT,
    Asset: 'cim:Asset',
    Organisation: 'cim:Organisation',
    MarketUnit: 'cim:RegisteredResource',
  };
  for (const t of JSONLD_TERMS) ctx[t.field] = t.container ? { '@id': t.term, '@container': t.container } : t.term;
  return { '@context': ctx };
}
