import { EXPORT_PREFIXES } from './namespaces';
import { derivedMrid, isUuidShaped, legacyUlidMrid, normaliseId, ulidToMrid, ULID_SHAPE } from './mrid';
import { CATEGORY_PROFILE, PROFILE_URI, type CategoryProfile } from './profile';
import { codePoints, cut, escapeAttr, escapeText } from './xml';

/** What an enrich recorded for an asset: the DSO's equipment mRID and its network, as the DSO wrote them. */
export interface CimNetworkInput {
  equipmentMrid: string;
  connectivityNode?: string | null;
  feeder?: string | null;
  substation?: string | null;
}

/** What the writer needs of an asset (plain data; the register's Asset satisfies it). */
export interface CimAssetInput {
  id: string;
  name: string;
  category: string;
  ratedCapacityKw: number;
  generationCapacityKw?: number | null;
  demandCapacityKw?: number | null;
  energySource?: string | null;
  demandTechnology?: string | null;
  manufacturer?: string | null;
  model?: string | null;
  serialNumber?: string | null;
  commissioningDate?: string | null;
  effectiveDate?: string | null;
  connectionStatus: string;
  connectionType?: string | null;
  dno?: string | null;
  importMpan?: string | null;
  exportMpan?: string | null;
  location?: { postcode?: string; gspGroup?: string; latitude?: number; longitude?: number } | null;
  consentReference?: string | null;
  friendlyCode?: string | null;
  aliases?: readonly { scheme: string; value: string }[];
  /** The latest enrich's references (absent: never enriched). */
  network?: CimNetworkInput | null;
  /** The connection limits at its MPANs that the document carries (absent: none). */
  connectionLimits?: readonly CimConnectionLimitInput[];
  organisationId: string;
  fspId: string;
}

/** A connection limit at one of the asset's MPANs (the register's connection limit, as the writer needs it). */
export interface CimConnectionLimitInput {
  id: string;
  mpan: string;
  firmness: string;
  importLimitKw: number | null;
  exportLimitKw: number | null;
  validFrom: string;
  validTo: string | null;
  siteReference?: string | null;
  schemeReference?: string | null;
  /** TIMED: the bands, each on some days (every day when absent), from–to local time, with a limit per direction. */
  profile?: readonly CimLimitBand[] | null;
}

/** One band of a TIMED limit's profile (the register's ProfileBand). */
export interface CimLimitBand {
  days?: readonly string[];
  from: string;
  to: string;
  importLimitKw?: number;
  exportLimitKw?: number;
}

export interface CimOrganisationInput {
  id: string;
  name: string;
}

/** A market unit (the register's SPU/SPG) and those of its member assets the document holds. */
export interface CimMarketUnitInput {
  id: string;
  name: string;
  type: string;
  product: string;
  fspId: string;
  members: readonly Pick<CimAssetInput, 'id' | 'aliases' | 'network'>[];
}

export interface CimHeader {
  created: Date;
  modelingAuthoritySet: string;
  description?: string;
}

/**
 * What more than one asset of the register shares, known before the first of them is written (a
 * streaming export cannot look back). Keys are normalised (`normaliseId`).
 */
export interface CimSharing {
  /** DSO equipment mRIDs that more than one asset carries: each such asset keeps an mRID of its own. */
  equipment: ReadonlySet<string>;
  /** Usage points, `import/<MPAN>` or `export/<MPAN>`, that more than one asset has. */
  usagePoints: ReadonlySet<string>;
  /** Connectivity nodes, feeders and substations that more than one asset's references name. */
  network: ReadonlySet<string>;
}

/** Alias scheme whose value is the equipment's mRID rather than a Name. */
export const MRID_ALIAS_SCHEME = 'cim_mrid';
/** Alias schemes written as Names (NameType = scheme). */
export const NAME_SCHEMES = ['evse', 'ecr', 'mcs', 'fsp_ref'] as const;
/** Every NameType the header writes: MPAN, the alias schemes, and the DSO's mRID where it is not the object's own. */
export const EXPORT_NAME_TYPES = ['mpan', ...NAME_SCHEMES, MRID_ALIAS_SCHEME] as const;

export const MAX_NAME = 128;
export const MAX_DESCRIPTION = 256;

type Value = string | number | boolean | { ref: string };
type Prop = [string, Value | null | undefined];

/** mRID of an organisation: its ULID as a UUIDv8, or a derived mRID when its ID is not a ULID. */
export function organisationMrid(id: string): string {
  return ULID_SHAPE.test(id) ? ulidToMrid(id) : derivedMrid('fmar:organisation', id);
}

/** The mRID exports gave an organisation before the UUIDv8 layout (a ULID's bits unchanged); none when its ID is not a ULID. */
export function legacyOrganisationMrid(id: string): string | undefined {
  return ULID_SHAPE.test(id) ? legacyUlidMrid(id) : undefined;
}

/**
 * The DSO's identifier of an asset's equipment: what the latest enrich recorded, else (an asset
 * bulk-loaded from a DSO's file) the smallest UUID-shaped `cim_mrid` alias. Trimmed, as written.
 */
export function dsoEquipmentId(a: Pick<CimAssetInput, 'aliases' | 'network'>): string | undefined {
  if (a.network) return a.network.equipmentMrid.trim();
  return (a.aliases ?? [])
    .filter((x) => x.scheme === MRID_ALIAS_SCHEME)
    .map((x) => normaliseId(x.value))
    .filter(isUuidShaped)
    .sort()[0];
}

const NO_SHARING: CimSharing = { equipment: new Set(), usagePoints: new Set(), network: new Set() };

/**
 * mRID of an asset's equipment: the DSO's (lowercase: UUIDs compare case-insensitively) when it is
 * UUID-shaped and no other asset carries it, else the asset ID's.
 */
export function equipmentMrid(a: Pick<CimAssetInput, 'id' | 'aliases' | 'network'>, sharing: CimSharing = NO_SHARING): string {
  const dso = dsoEquipmentId(a);
  const key = dso === undefined ? undefined : normaliseId(dso);
  return key !== undefined && isUuidShaped(key) && !sharing.equipment.has(key) ? key : ulidToMrid(a.id);
}

export type NetworkClass = 'ConnectivityNode' | 'Feeder' | 'Substation';

/** mRID of a network object the DSO named: its own when UUID-shaped (lowercase), else derived from it and the class. */
export function networkMrid(cls: NetworkClass, dsoId: string): string {
  const key = normaliseId(dsoId);
  return isUuidShaped(key) ? key : derivedMrid(`fmar:network/${cls}`, key);
}

export const usagePointKey = (direction: 'import' | 'export', mpan: string) => `${direction}/${mpan}`;
/** One usage point per MPAN and direction, whichever assets are behind it. */
export const usagePointMrid = (direction: 'import' | 'export', mpan: string) =>
  derivedMrid('fmar:usagepoint', usagePointKey(direction, mpan));
export const nameTypeMrid = (scheme: string) => derivedMrid('fmar:nametype', scheme === 'mpan' ? 'MPAN' : scheme);
export const psrTypeMrid = (psrType: string) => derivedMrid('fmar:psrtype', psrType);
/** The two kinds of active power limit at a connection: what it may import, what it may export. */
export const limitTypeMrid = (direction: 'import' | 'export') => derivedMrid('fmar:operationallimittype', direction);

/** Watts, as an integer string: kW × 1000 (kW has at most 2 decimals). */
const watts = (kw: number) => String(Math.round(kw * 1000));

/**
 * Streaming RDF/XML writer: each method returns the text of complete objects, so a caller can
 * write a page at a time and keep memory flat. Every object is written once. Objects several
 * assets refer to (organisations, usage points, connectivity nodes, feeders, substations) are
 * written with the first asset that refers to them; the writer remembers the organisations and, of
 * the others, those the sharing names. Without a sharing (a small document), it remembers all of
 * them and refuses an equipment mRID twice.
 */
export class CimWriter {
  private readonly sharing: CimSharing;
  private readonly rememberAll: boolean;
  private written = new Set<string>();

  constructor(sharing?: CimSharing) {
    this.sharing = sharing ?? NO_SHARING;
    this.rememberAll = !sharing;
  }

  /** The document head: declaration, rdf:RDF with the export namespaces, md:FullModel, NameTypes and PSRTypes. */
  header(h: CimHeader): string {
    const ns = Object.entries(EXPORT_PREFIXES)
      .map(([p, iri]) => ` xmlns:${p}="${escapeAttr(iri)}"`)
      .join('');
    const modelId = derivedMrid(h.modelingAuthoritySet, h.created.toISOString());
    let out = `<?xml version="1.0" encoding="UTF-8"?>\n<rdf:RDF${ns}>\n`;
    out += `  <md:FullModel rdf:about="urn:uuid:${modelId}">\n`;
    out += `    <md:Model.created>${escapeText(h.created.toISOString())}</md:Model.created>\n`;
    out += `    <md:Model.description>${escapeText(h.description ?? 'FMAR asset register export')}</md:Model.description>\n`;
    out += `    <md:Model.modelingAuthoritySet>${escapeText(h.modelingAuthoritySet)}</md:Model.modelingAuthoritySet>\n`;
    out += `    <md:Model.profile>${escapeText(PROFILE_URI)}</md:Model.profile>\n`;
    out += `  </md:FullModel>\n`;
    for (const scheme of EXPORT_NAME_TYPES) {
      out += this.object('NameType', nameTypeMrid(scheme), [['cim:NameType.name', scheme === 'mpan' ? 'MPAN' : scheme]], {
        identified: false,
      });
    }
    const psrTypes = [
      ...new Set(
        Object.values(CATEGORY_PROFILE)
          .map((p: CategoryProfile) => p.psrType)
          .filter((x): x is string => !!x),
      ),
    ];
    for (const t of psrTypes) out += this.object('PSRType', psrTypeMrid(t), [['cim:IdentifiedObject.name', t]]);
    return out;
  }

  footer(): string {
    return '</rdf:RDF>\n';
  }

  /** An organisation and its two role objects, or '' when already written. */
  organisation(o: CimOrganisationInput): string {
    const m = organisationMrid(o.id);
    if (!this.firstTime(m, true)) return '';
    return (
      this.object('Organisation', m, this.named(o.name)) +
      this.object('AssetOwner', derivedMrid(m, 'AssetOwner'), [
        ['cim:IdentifiedObject.name', 'AssetOwner'],
        ['cim:OrganisationRole.Organisation', { ref: m }],
      ]) +
      this.object('OrganisationRole', derivedMrid(m, 'FSP'), [
        ['cim:IdentifiedObject.name', 'FSP'],
        ['cim:OrganisationRole.Organisation', { ref: m }],
      ])
    );
  }

  /** The asset's equipment mRID in this document (see equipmentMrid). */
  equipmentMrid(a: Pick<CimAssetInput, 'id' | 'aliases' | 'network'>): string {
    return equipmentMrid(a, this.sharing);
  }

  /** Every object of one asset, in a fixed order, then the shared objects it is the first to refer to. */
  asset(a: CimAssetInput): string {
    const profile: CategoryProfile | undefined = (CATEGORY_PROFILE as Record<string, CategoryProfile>)[a.category];
    if (!profile) throw new Error(`no CIM profile for category ${a.category}`);
    const m = this.equipmentMrid(a);
    if (this.rememberAll && !this.firstTime(`equipment/${m}`, true))
      throw new Error(`equipment mRID ${m} twice: pass the CimSharing of the assets to the writer`);
    const pec = profile.equipment === 'PowerElectronicsConnection';
    const assetM = derivedMrid(m, 'asset');
    const locM = a.location ? derivedMrid(m, 'location') : undefined;
    const net = a.network;
    const cn = net?.connectivityNode ? networkMrid('ConnectivityNode', net.connectivityNode) : undefined;
    const feeder = net?.feeder ? networkMrid('Feeder', net.feeder) : undefined;
    const substation = net?.substation ? networkMrid('Substation', net.substation) : undefined;
    const ups = (
      [
        ['import', a.importMpan],
        ['export', a.exportMpan],
      ] as const
    ).filter((x): x is readonly ['import' | 'export', string] => !!x[1]);
    const eq: Prop[] = [
      ...this.named(a.name),
      ['cim:Equipment.inService', a.connectionStatus === 'CONNECTED' ? true : a.connectionStatus === 'DISCONNECTED' ? false : undefined],
      ...(pec
        ? ([
            ['cim:PowerElectronicsConnection.ratedS', watts(a.ratedCapacityKw)],
            ['cim:PowerElectronicsConnection.maxP', a.generationCapacityKw != null ? watts(a.generationCapacityKw) : undefined],
            [
              'cim:PowerElectronicsConnection.minP',
              a.demandCapacityKw != null ? (a.demandCapacityKw === 0 ? '0' : '-' + watts(a.demandCapacityKw)) : undefined,
            ],
          ] as Prop[])
        : ([
            ['fmar:EnergyConsumer.ratedP', watts(a.ratedCapacityKw)],
            ['fmar:EnergyConsumer.maxGenerationP', a.generationCapacityKw != null ? watts(a.generationCapacityKw) : undefined],
            ['cim:EnergyConsumer.pfixed', a.demandCapacityKw != null ? watts(a.demandCapacityKw) : undefined],
            ['cim:PowerSystemResource.PSRType', { ref: psrTypeMrid(profile.psrType!) }],
          ] as Prop[])),
      ['cim:PowerSystemResource.Location', locM ? { ref: locM } : undefined],
      ['cim:Equipment.EquipmentContainer', feeder ? { ref: feeder } : substation ? { ref: substation } : undefined],
      ...ups.map(([dir, mpan]): Prop => ['cim:Equipment.UsagePoints', { ref: usagePointMrid(dir, mpan) }]),
      ['fmar:Equipment.category', a.category],
      ['fmar:Equipment.connectionStatus', a.connectionStatus],
      ['fmar:Equipment.connectionType', a.connectionType],
      ['fmar:Equipment.dno', a.dno],
      ['fmar:Equipment.energySource', a.energySource],
      ['fmar:Equipment.demandTechnology', a.demandTechnology],
      ['fmar:Equipment.friendlyCode', a.friendlyCode],
      ['fmar:Equipment.consentReference', a.consentReference],
      ['fmar:Equipment.effectiveDate', a.effectiveDate],
    ];
    let out = this.object(profile.equipment, m, eq);
    if (profile.unit) {
      out += this.object(profile.unit, derivedMrid(m, 'unit'), [
        ...this.named(a.name),
        ['cim:PowerElectronicsUnit.PowerElectronicsConnection', { ref: m }],
      ]);
    }
    const owner = derivedMrid(organisationMrid(a.organisationId), 'AssetOwner');
    const fsp = derivedMrid(organisationMrid(a.fspId), 'FSP');
    out += this.object('Asset', assetM, [
      ...this.named(a.name),
      ['cim:Asset.serialNumber', a.serialNumber],
      ['fmar:Asset.manufacturer', a.manufacturer],
      ['fmar:Asset.model', a.model],
      ['fmar:Asset.commissioningDate', a.commissioningDate],
      ['cim:Asset.PowerSystemResources', { ref: m }],
      ['cim:Asset.OrganisationRoles', { ref: owner }],
      ['cim:Asset.OrganisationRoles', { ref: fsp }],
    ]);
    const aliases = (a.aliases ?? [])
      .filter((x) => (NAME_SCHEMES as readonly string[]).includes(x.scheme))
      .slice()
      .sort((x, y) => (x.scheme + '\u0000' + x.value < y.scheme + '\u0000' + y.value ? -1 : 1));
    for (const al of aliases) out += this.name(derivedMrid(m, `name/${al.scheme}/${al.value}`), al.value, al.scheme, assetM);
    // The DSO's identifier, where the equipment could not take it as its mRID (shared, or not UUID-shaped).
    const dso = dsoEquipmentId(a);
    if (dso !== undefined && normaliseId(dso) !== m)
      out += this.name(derivedMrid(m, 'name/cim_mrid'), this.dsoText(dso), MRID_ALIAS_SCHEME, m);
    if (cn) {
      out += this.object('Terminal', derivedMrid(m, 'terminal'), [
        ['cim:ACDCTerminal.sequenceNumber', 1],
        ['cim:Terminal.ConductingEquipment', { ref: m }],
        ['cim:Terminal.ConnectivityNode', { ref: cn }],
      ]);
    }
    for (const l of a.connectionLimits ?? []) out += this.connectionLimit(m, cn ? derivedMrid(m, 'terminal') : undefined, l);
    if (a.location && locM) {
      const l = a.location;
      out += this.object('Location', locM, [
        ['fmar:Location.postcode', l.postcode],
        ['fmar:Location.gspGroup', l.gspGroup],
      ]);
      if (l.latitude != null && l.longitude != null) {
        out += this.object(
          'PositionPoint',
          derivedMrid(m, 'position'),
          [
            ['cim:PositionPoint.sequenceNumber', 1],
            ['cim:PositionPoint.xPosition', String(l.longitude)],
            ['cim:PositionPoint.yPosition', String(l.latitude)],
            ['cim:PositionPoint.Location', { ref: locM }],
          ],
          { identified: false },
        );
      }
    }
    // Shared objects, each the first time it is referred to.
    for (const [dir, mpan] of ups) {
      const up = usagePointMrid(dir, mpan);
      if (!this.firstTime(up, this.sharing.usagePoints.has(usagePointKey(dir, mpan)))) continue;
      out += this.object('UsagePoint', up, [
        ['cim:IdentifiedObject.name', mpan],
        ['fmar:UsagePoint.direction', dir],
      ]);
      out += this.name(derivedMrid(up, 'name/mpan'), mpan, 'mpan', up);
    }
    if (net && cn) out += this.networkObject('ConnectivityNode', cn, net.connectivityNode!, []);
    if (net && feeder)
      out += this.networkObject('Feeder', feeder, net.feeder!, [
        ['cim:Feeder.NormalEnergizingSubstation', substation ? { ref: substation } : undefined],
      ]);
    if (net && substation) out += this.networkObject('Substation', substation, net.substation!, []);
    return out;
  }

  /**
   * A connection limit the way CIM carries one: an OperationalLimitSet on the equipment's terminal
   * (on the equipment itself while no terminal is known), with an ActivePowerLimit (W, the magnitude)
   * per direction the limit sets, each of the shared OperationalLimitType "import" or "export". A
   * TIMED limit's profile is a ScheduledLimitDependency per direction (CIM's limit that changes with
   * a schedule) on that direction's ActivePowerLimit, with a ScheduledActivePowerLimitValue per band.
   */
  private connectionLimit(m: string, terminal: string | undefined, l: CimConnectionLimitInput): string {
    const set = derivedMrid(m, `limit/${l.id}`);
    let out = this.object('OperationalLimitSet', set, [
      ['cim:IdentifiedObject.name', cut(`Connection limit ${l.mpan}`, MAX_NAME)],
      terminal ? ['cim:OperationalLimitSet.Terminal', { ref: terminal }] : ['cim:OperationalLimitSet.Equipment', { ref: m }],
      ['fmar:OperationalLimitSet.mpan', l.mpan],
      ['fmar:OperationalLimitSet.siteReference', l.siteReference],
      ['fmar:OperationalLimitSet.firmness', l.firmness],
      ['fmar:OperationalLimitSet.validFrom', l.validFrom],
      ['fmar:OperationalLimitSet.validTo', l.validTo],
      ['fmar:OperationalLimitSet.schemeReference', l.schemeReference],
    ]);
    for (const [dir, kw, key] of [
      ['import', l.importLimitKw, 'importLimitKw'],
      ['export', l.exportLimitKw, 'exportLimitKw'],
    ] as const) {
      if (kw === null) continue;
      const type = limitTypeMrid(dir);
      if (this.firstTime(type, true))
        out += this.object('OperationalLimitType', type, [
          ['cim:IdentifiedObject.name', dir],
          ['fmar:OperationalLimitType.direction', dir],
        ]);
      const limit = derivedMrid(set, dir);
      out += this.object('ActivePowerLimit', limit, [
        ['cim:IdentifiedObject.name', `${dir} limit`],
        ['cim:ActivePowerLimit.value', watts(kw)],
        ['cim:OperationalLimit.OperationalLimitSet', { ref: set }],
        ['cim:OperationalLimit.OperationalLimitType', { ref: type }],
      ]);
      const bands = (l.profile ?? []).map((b, i) => [b, i] as const).filter(([b]) => b[key] !== undefined);
      if (!bands.length) continue;
      const schedule = derivedMrid(limit, 'schedule');
      out += this.object('ScheduledLimitDependency', schedule, [
        ['cim:IdentifiedObject.name', `${dir} limit profile`],
        ['cim:LimitDependency.Equipment', { ref: m }],
        ['cim:LimitDependency.OperationalLimit', { ref: limit }],
      ]);
      for (const [b, i] of bands)
        out += this.object('ScheduledActivePowerLimitValue', derivedMrid(schedule, `band/${i}`), [
          ['cim:IdentifiedObject.name', `${(b.days ?? ['every day']).join(' ')} ${b.from}-${b.to}`],
          ['cim:ScheduledActivePowerLimitValue.value', watts(b[key]!)],
          ['cim:ScheduledLimitValue.ScheduledLimitDependency', { ref: schedule }],
          ['fmar:ScheduledLimitValue.band', i + 1],
          ...(b.days ?? []).map((d): Prop => ['fmar:ScheduledLimitValue.day', d]),
          ['fmar:ScheduledLimitValue.from', b.from],
          ['fmar:ScheduledLimitValue.to', b.to],
        ]);
    }
    return out;
  }

  /**
   * A market unit as a RegisteredResource: its FSP (the organisation's "FSP" role) and its member
   * assets' equipment, in equipment-mRID order. The members' objects are written by asset().
   */
  marketUnit(u: CimMarketUnitInput): string {
    const members = [...new Set(u.members.map((a) => this.equipmentMrid(a)))].sort();
    return this.object('RegisteredResource', ulidToMrid(u.id), [
      ...this.named(u.name),
      ['fmar:RegisteredResource.unitType', u.type],
      ['fmar:RegisteredResource.product', u.product],
      ['fmar:RegisteredResource.OrganisationRole', { ref: derivedMrid(organisationMrid(u.fspId), 'FSP') }],
      ...members.map((m): Prop => ['fmar:RegisteredResource.PowerSystemResources', { ref: m }]),
    ]);
  }

  /** True the first time an object is offered; remembered only when it may come again (shared) or without a sharing. */
  private firstTime(key: string, shared: boolean): boolean {
    if (!shared && !this.rememberAll) return true;
    if (this.written.has(key)) return false;
    this.written.add(key);
    return true;
  }

  /** A connectivity node, feeder or substation the DSO named; a DSO identifier that is not UUID-shaped becomes a Name. */
  private networkObject(cls: NetworkClass, m: string, dsoId: string, props: Prop[]): string {
    if (!this.firstTime(m, this.sharing.network.has(normaliseId(dsoId)))) return '';
    let out = this.object(cls, m, props);
    if (normaliseId(dsoId) !== m) out += this.name(derivedMrid(m, 'name/cim_mrid'), this.dsoText(dsoId), MRID_ALIAS_SCHEME, m);
    return out;
  }

  /** A DSO identifier as a Name: in its one stored form (`normaliseId`: lower case, no `#`, `urn:uuid:` or leading `_`). */
  private dsoText(dsoId: string): string {
    return cut(normaliseId(dsoId), MAX_NAME);
  }

  private name(mrid: string, value: string, scheme: string, of: string): string {
    return this.object(
      'Name',
      mrid,
      [
        ['cim:Name.name', value],
        ['cim:Name.NameType', { ref: nameTypeMrid(scheme) }],
        ['cim:Name.IdentifiedObject', { ref: of }],
      ],
      { identified: false },
    );
  }

  /** name ≤128 (cut; the whole name then goes to description, ≤256). */
  private named(name: string): Prop[] {
    const short = cut(name, MAX_NAME);
    return [
      ['cim:IdentifiedObject.name', short],
      ['cim:IdentifiedObject.description', short === name ? undefined : cut(name, MAX_DESCRIPTION)],
    ];
  }

  /** One object. Identified objects get their mRID first; non-identified ones (Name, NameType, PositionPoint) only rdf:ID. */
  object(cls: string, mrid: string, props: Prop[], o: { identified?: boolean } = {}): string {
    if (!isUuidShaped(mrid)) throw new Error(`mRID ${mrid} is not UUID-shaped`);
    let out = `  <cim:${cls} rdf:ID="_${mrid}">\n`;
    if (o.identified !== false) out += `    <cim:IdentifiedObject.mRID>${mrid}</cim:IdentifiedObject.mRID>\n`;
    for (const [name, v] of props) {
      if (v === undefined || v === null || v === '') continue;
      if (typeof v === 'object') out += `    <${name} rdf:resource="#_${v.ref}"/>\n`;
      else out += `    <${name}>${escapeText(String(v))}</${name}>\n`;
    }
    return out + `  </cim:${cls}>\n`;
  }
}

/** The ENTSO-E SHACL rules for identified objects, as a check on plain values. */
export function identifiedObjectProblems(o: { mrid?: string; name?: string; description?: string }): string[] {
  const p: string[] = [];
  if (!o.mrid) p.push('mRID missing');
  else if (!isUuidShaped(o.mrid.toLowerCase())) p.push(`mRID ${o.mrid} is not UUID-shaped`);
  if (o.name !== undefined && codePoints(o.name) > MAX_NAME) p.push(`name longer than ${MAX_NAME}`);
  if (o.description !== undefined && codePoints(o.description) > MAX_DESCRIPTION) p.push(`description longer than ${MAX_DESCRIPTION}`);
  return p;
}
