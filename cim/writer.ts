import { EXPORT_PREFIXES } from './namespaces';
import { derivedMrid, isUuidShaped, normaliseId, ulidToMrid, ULID_SHAPE } from './mrid';
import { CATEGORY_PROFILE, PROFILE_URI, type CategoryProfile } from './profile';
import { codePoints, cut, escapeAttr, escapeText } from './xml';

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
  organisationId: string;
  fspId: string;
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
  members: readonly Pick<CimAssetInput, 'id' | 'aliases'>[];
}

export interface CimHeader {
  created: Date;
  modelingAuthoritySet: string;
  description?: string;
}

/** Alias scheme whose value is the equipment's mRID rather than a Name. */
export const MRID_ALIAS_SCHEME = 'cim_mrid';
/** Alias schemes written as Names (NameType = scheme). */
export const NAME_SCHEMES = ['evse', 'ecr', 'mcs', 'fsp_ref'] as const;

export const MAX_NAME = 128;
export const MAX_DESCRIPTION = 256;

type Value = string | number | boolean | { ref: string };
type Prop = [string, Value | null | undefined];

/** mRID of an organisation: its ULID as UUID-shaped hex, or a derived mRID when its ID is not a ULID. */
export function organisationMrid(id: string): string {
  return ULID_SHAPE.test(id) ? ulidToMrid(id) : derivedMrid('fmar:organisation', id);
}

/**
 * mRID of an asset's equipment: the DSO's own mRID when it carries a UUID-shaped one (UUIDs compare
 * case-insensitively, so it is written in lowercase), else the asset ID's.
 */
export function equipmentMrid(a: Pick<CimAssetInput, 'id' | 'aliases'>): string {
  const dso = (a.aliases ?? [])
    .filter((x) => x.scheme === MRID_ALIAS_SCHEME)
    .map((x) => normaliseId(x.value))
    .filter(isUuidShaped)
    .sort()[0];
  return dso ?? ulidToMrid(a.id);
}

export const nameTypeMrid = (scheme: string) => derivedMrid('fmar:nametype', scheme === 'mpan' ? 'MPAN' : scheme);
export const psrTypeMrid = (psrType: string) => derivedMrid('fmar:psrtype', psrType);

/** Watts, as an integer string: kW × 1000 (kW has at most 2 decimals). */
const watts = (kw: number) => String(Math.round(kw * 1000));

/**
 * Streaming RDF/XML writer: each method returns the text of complete objects, so a caller can
 * write a page at a time and keep memory flat. Organisations are written once, when first named.
 */
export class CimWriter {
  private orgsSeen = new Set<string>();

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
    for (const scheme of ['mpan', ...NAME_SCHEMES]) {
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
    if (this.orgsSeen.has(o.id)) return '';
    this.orgsSeen.add(o.id);
    const m = organisationMrid(o.id);
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

  /** Every object of one asset, in a fixed order. */
  asset(a: CimAssetInput): string {
    const profile: CategoryProfile | undefined = (CATEGORY_PROFILE as Record<string, CategoryProfile>)[a.category];
    if (!profile) throw new Error(`no CIM profile for category ${a.category}`);
    const m = equipmentMrid(a);
    const pec = profile.equipment === 'PowerElectronicsConnection';
    const assetM = derivedMrid(m, 'asset');
    const locM = a.location ? derivedMrid(m, 'location') : undefined;
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
    for (const [dir, mpan] of [
      ['import', a.importMpan],
      ['export', a.exportMpan],
    ] as const) {
      if (!mpan) continue;
      const up = derivedMrid(m, `usagepoint/${dir}`);
      out += this.object('UsagePoint', up, [
        ['cim:IdentifiedObject.name', mpan],
        ['fmar:UsagePoint.direction', dir],
        ['cim:UsagePoint.Equipments', { ref: m }],
      ]);
      out += this.object(
        'Name',
        derivedMrid(m, `name/mpan/${dir}`),
        [
          ['cim:Name.name', mpan],
          ['cim:Name.NameType', { ref: nameTypeMrid('mpan') }],
          ['cim:Name.IdentifiedObject', { ref: up }],
        ],
        { identified: false },
      );
    }
    const aliases = (a.aliases ?? [])
      .filter((x) => (NAME_SCHEMES as readonly string[]).includes(x.scheme))
      .slice()
      .sort((x, y) => (x.scheme + '\u0000' + x.value < y.scheme + '\u0000' + y.value ? -1 : 1));
    for (const al of aliases) {
      out += this.object(
        'Name',
        derivedMrid(m, `name/${al.scheme}/${al.value}`),
        [
          ['cim:Name.name', al.value],
          ['cim:Name.NameType', { ref: nameTypeMrid(al.scheme) }],
          ['cim:Name.IdentifiedObject', { ref: assetM }],
        ],
        { identified: false },
      );
    }
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
    return out;
  }

  /**
   * A market unit as a RegisteredResource: its FSP (the organisation's "FSP" role) and its member
   * assets' equipment, in equipment-mRID order. The members' objects are written by asset().
   */
  marketUnit(u: CimMarketUnitInput): string {
    const members = [...new Set(u.members.map(equipmentMrid))].sort();
    return this.object('RegisteredResource', ulidToMrid(u.id), [
      ...this.named(u.name),
      ['fmar:RegisteredResource.unitType', u.type],
      ['fmar:RegisteredResource.product', u.product],
      ['fmar:RegisteredResource.OrganisationRole', { ref: derivedMrid(organisationMrid(u.fspId), 'FSP') }],
      ...members.map((m): Prop => ['fmar:RegisteredResource.PowerSystemResources', { ref: m }]),
    ]);
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
