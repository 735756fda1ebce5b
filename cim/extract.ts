import { normaliseId } from './mrid';
import { nameTypeOf } from './names';
import { ObjectIndex, describedOnly, inverseIndex, prop, refKeysAny, refs, refsAny, unitLinks, type CimModel } from './model';
import type { CimObject, SourceLocation } from './parser';
import { CATEGORY_PROFILE, UNIT_FACTORS, type CategoryProfile, type PowerUnit } from './profile';
import { MRID_ALIAS_SCHEME, NAME_SCHEMES } from './writer';
import { connectionLimitReader, type ExtractedLimit } from './limits';

/**
 * From a merged model to what the register can use: one entry per equipment (connection or
 * consumer) with its MPANs, category, ratings in kW, network references and the fields of a
 * registration. Nothing is guessed: what cannot be read is left out and named in `problems`.
 */
export interface ExtractedAsset {
  /** The equipment's mRID as the file wrote it (IdentifiedObject.mRID, else its RDF identifier). */
  mrid: string;
  className: string;
  at: SourceLocation;
  category?: string;
  importMpan?: string;
  exportMpan?: string;
  /** MPANs whose direction the file does not say. */
  mpans: string[];
  /** MPANs of a direction the file gives another MPAN before them (a second import MPAN); absent when none. */
  moreMpans?: { value: string; direction: 'import' | 'export' }[];
  network: { connectivityNode?: string; substation?: string; feeder?: string };
  organisationMrid?: string;
  fspMrid?: string;
  /** Names of a known type on the equipment or its Asset that the register keeps as aliases (scheme ecr, evse, mcs, fsp_ref). */
  names: { scheme: string; value: string; nameType: string }[];
  /** The registration body (AssetInput shape), without organisationId/fspId. */
  input: Record<string, unknown>;
  problems: string[];
  /** The connection limits on the equipment or its terminal (cim/limits.ts); absent when none. */
  limits?: ExtractedLimit[];
}

export interface ExtractOptions {
  unit?: PowerUnit;
}

/** An Organisation of the file, with its roles and the identifiers it carries. */
export interface ExtractedOrganisation {
  mrid: string;
  name?: string;
  at: SourceLocation;
  /** Its role objects: the class, or for a plain OrganisationRole its name (`AssetOwner`, `FSP`, ...). */
  roles: string[];
  /** EIC (Names of that type, eu:IdentifiedObject.energyIdentCodeEic) and Companies House numbers (Names), upper case. */
  identifiers: { scheme: 'EIC' | 'COMPANIES_HOUSE'; value: string }[];
}

/** Name → named object, IEC 61970-301 (`Name.IdentifiedObject`) or ENTSO-E object registry (`nc:Name.UniqueIdentifiedObject`). */
const NAME_TARGET = ['cim:Name.IdentifiedObject', 'nc:Name.UniqueIdentifiedObject', 'nc:Name.IdentifiedObject'];
const NAME_TYPE = ['cim:Name.NameType', 'nc:Name.NameType'];

/** A Name of an object, with its NameType's name and its value. */
export interface NameEntry {
  name: CimObject;
  type?: CimObject;
  typeName: string;
  value: string;
}

/**
 * The names of each object, with their NameType's name, from either vocabulary. The index holds the
 * Name objects only; an entry is made when it is read (a 1M-object model has 250,000 Names).
 */
export function namesIndex(model: CimModel): { get(key: string): NameEntry[] | undefined } {
  const idx = new ObjectIndex<CimObject>();
  for (const n of model.objects.values()) {
    if (n.className !== 'Name') continue;
    for (const t of refKeysAny(n, NAME_TARGET)) idx.add(t, n);
  }
  const entry = (n: CimObject): NameEntry | undefined => {
    const type = model.objects.get(refsAny(n, NAME_TYPE)[0]?.key ?? '');
    const typeName = (type ? (prop(type, 'NameType.name') ?? prop(type, 'IdentifiedObject.name')) : prop(n, 'NameType.name')) ?? '';
    const value = (prop(n, 'Name.name') ?? n.first('nc:Name.name') ?? prop(n, 'IdentifiedObject.name') ?? '').trim();
    return value ? { name: n, type, typeName, value } : undefined;
  };
  return {
    get(key) {
      const names = idx.get(key);
      if (!names) return undefined;
      const out: NameEntry[] = [];
      for (const n of names) {
        const e = entry(n);
        if (e) out.push(e);
      }
      return out;
    },
  };
}

const EQUIPMENT = new Set(['PowerElectronicsConnection', 'EnergyConsumer', 'ConformLoad', 'NonConformLoad']);

/** The mRID of an object, normalised (normaliseId): IdentifiedObject.mRID, else its RDF identifier. */
export function mridOf(o: CimObject): string {
  const m = prop(o, 'IdentifiedObject.mRID');
  return normaliseId(m && m.trim() ? m : (o.id ?? o.key));
}

function kw(raw: string | undefined, unit: PowerUnit, problems: string[], what: string): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n)) {
    problems.push(`${what} "${raw}" is not a number.`);
    return undefined;
  }
  const v = (n * UNIT_FACTORS[unit]) / 1000;
  const r = Math.round(v * 100) / 100;
  return Math.abs(v - r) < 1e-9 ? r : v;
}

export function extractAssets(model: CimModel, opts: ExtractOptions = {}): ExtractedAsset[] {
  return [...eachAsset(model, opts)];
}

/**
 * extractAssets one equipment at a time, in document order: a caller that hands each on as it
 * comes (the parse thread) never holds them all. Every object something was taken from is marked
 * `taken` (the report's `used` counts), completely once the last is read.
 */
export function* eachAsset(model: CimModel, opts: ExtractOptions = {}): Generator<ExtractedAsset> {
  const unit = opts.unit ?? 'W';
  if (model.definedElsewhere) return;
  /** Something was taken from this object. */
  const take = <T extends CimObject | undefined>(o: T): T => {
    if (o) o.taken = true;
    return o;
  };
  const get = (k: string | undefined) => (k === undefined ? undefined : model.objects.get(k));
  const first = (o: CimObject | undefined, name: string) => (o ? get(refs(o, name)[0]?.key) : undefined);
  const units = unitLinks(model);
  const usagePointsOf = inverseIndex(model, 'UsagePoint.Equipments');
  const namesOf = namesIndex(model);
  const assetsOf = inverseIndex(model, 'Asset.PowerSystemResources');
  const terminalsOf = inverseIndex(model, 'Terminal.ConductingEquipment');
  /** A name that was read: the Name and its NameType were used. */
  const useName = (n: { name: CimObject; type?: CimObject }) => {
    take(n.name);
    take(n.type);
  };
  let pointsOf: ObjectIndex<CimObject> | undefined;
  const limitsOn = connectionLimitReader(model, unit, take);

  for (const o of model.objects.values()) {
    // Equipment only described here (an SSH without its EQ) has no definition to register or match.
    if (!EQUIPMENT.has(o.className) || describedOnly(o)) continue;
    take(o);
    const problems: string[] = [];
    const ext = (name: string) => o.first(`fmar:Equipment.${name}`);
    const input: Record<string, unknown> = {};
    const name = prop(o, 'IdentifiedObject.name');
    const description = prop(o, 'IdentifiedObject.description');
    input.name =
      name !== undefined && description !== undefined && [...name].length === 128 && description.startsWith(name) ? description : name;

    // Category: the register's own extension, else the unit classes, else the PSRType.
    let category: string | undefined = ext('category');
    if (category && !(category in CATEGORY_PROFILE)) {
      problems.push(`fmar:Equipment.category ${category} is not a category.`);
      category = undefined;
    }
    if (!category) {
      const unitClasses = [...new Set((units.get(o.key) ?? []).map((u) => take(u).className))];
      const psrObj = take(first(o, 'PowerSystemResource.PSRType'));
      const psr = psrObj ? prop(psrObj, 'IdentifiedObject.name') : undefined;
      const byUnit = Object.entries(CATEGORY_PROFILE)
        .filter(([, p]: [string, CategoryProfile]) => p.unit && unitClasses.includes(p.unit))
        .map(([c]) => c);
      const byPsr = Object.entries(CATEGORY_PROFILE)
        .filter(([, p]: [string, CategoryProfile]) => p.psrType && p.psrType === psr)
        .map(([c]) => c);
      if (o.className === 'PowerElectronicsConnection') {
        if (byUnit.length === 1 && unitClasses.length === 1) category = byUnit[0];
        else
          problems.push(
            unitClasses.length
              ? `The connection's units (${unitClasses.join(', ')}) do not name one category.`
              : 'The connection has no unit, so its category is unknown.',
          );
      } else if (byPsr.length === 1) category = byPsr[0];
      else problems.push(`The consumer's PSRType ${psr ? `"${psr}"` : '(none)'} names no category.`);
    }
    if (category) input.category = category;

    const pec = o.className === 'PowerElectronicsConnection';
    const rated = kw(
      pec ? prop(o, 'PowerElectronicsConnection.ratedS') : (o.first('fmar:EnergyConsumer.ratedP') ?? prop(o, 'EnergyConsumer.pfixed')),
      unit,
      problems,
      'rating',
    );
    if (rated !== undefined) input.ratedCapacityKw = rated;
    const gen = kw(
      pec ? prop(o, 'PowerElectronicsConnection.maxP') : o.first('fmar:EnergyConsumer.maxGenerationP'),
      unit,
      problems,
      'generation capacity',
    );
    if (gen !== undefined) input.generationCapacityKw = gen;
    const demandRaw = pec ? prop(o, 'PowerElectronicsConnection.minP') : prop(o, 'EnergyConsumer.pfixed');
    const demand = kw(demandRaw, unit, problems, 'demand capacity');
    if (demand !== undefined) input.demandCapacityKw = Math.abs(demand);

    const inService = prop(o, 'Equipment.inService');
    input.connectionStatus =
      ext('connectionStatus') ?? (inService === 'true' ? 'CONNECTED' : inService === 'false' ? 'DISCONNECTED' : 'PENDING');
    for (const f of ['connectionType', 'dno', 'energySource', 'demandTechnology', 'friendlyCode', 'consentReference', 'effectiveDate']) {
      const v = ext(f);
      if (v !== undefined) input[f] = v;
    }

    // The device.
    const asset = take(
      (assetsOf.get(o.key) ?? [])[0] ??
        refs(o, 'PowerSystemResource.Assets')
          .map((r) => get(r.key))
          .find(Boolean),
    );
    const aliases: { scheme: string; value: string }[] = [];
    const names: ExtractedAsset['names'] = [];
    // Names of a known asset type on the equipment or its Asset: aliases (MPANs are read from usage points below).
    for (const holder of asset ? [o, asset] : [o]) {
      for (const n of namesOf.get(holder.key) ?? []) {
        const t = nameTypeOf(n.typeName);
        if (t?.target !== 'asset' || t.scheme === 'mpan') continue;
        if (names.some((x) => x.scheme === t.scheme && x.value === n.value)) continue;
        useName(n);
        names.push({ scheme: t.scheme, value: n.value, nameType: n.typeName });
        if ((NAME_SCHEMES as readonly string[]).includes(t.scheme)) aliases.push({ scheme: t.scheme, value: n.value });
      }
    }
    let organisationMrid: string | undefined;
    let fspMrid: string | undefined;
    if (asset) {
      const serial = prop(asset, 'Asset.serialNumber');
      if (serial !== undefined) input.serialNumber = serial;
      for (const f of ['manufacturer', 'model', 'commissioningDate']) {
        const v = asset.first(`fmar:Asset.${f}`);
        if (v !== undefined) input[f] = v;
      }
      for (const r of refs(asset, 'Asset.OrganisationRoles')) {
        const role = get(r.key);
        const org = first(role, 'OrganisationRole.Organisation');
        if (!role || !org) continue;
        take(role);
        take(org);
        if (role.className === 'AssetOwner') organisationMrid ??= mridOf(org);
        else if (prop(role, 'IdentifiedObject.name') === 'FSP') fspMrid ??= mridOf(org);
      }
    }

    // MPANs: Names of NameType MPAN on the equipment's usage points, on the equipment itself or on its Asset (the device).
    let importMpan: string | undefined;
    let exportMpan: string | undefined;
    const undirected: string[] = [];
    const more: NonNullable<ExtractedAsset['moreMpans']> = [];
    const ups = [
      ...(usagePointsOf.get(o.key) ?? []),
      ...refs(o, 'Equipment.UsagePoints')
        .map((r) => get(r.key))
        .filter((x): x is CimObject => !!x),
    ];
    for (const holder of [...new Set(ups), o, ...(asset ? [asset] : [])]) {
      for (const n of namesOf.get(holder.key) ?? []) {
        if (nameTypeOf(n.typeName)?.scheme !== 'mpan') continue;
        const v = n.value;
        useName(n);
        take(holder);
        const dir = holder.first('fmar:UsagePoint.direction');
        if (dir === 'import' && !importMpan) importMpan = v;
        else if (dir === 'export' && !exportMpan) exportMpan = v;
        else if (dir === 'import' || dir === 'export') {
          if (v !== importMpan && v !== exportMpan && !more.some((m) => m.value === v)) more.push({ value: v, direction: dir });
        } else if (!undirected.includes(v)) undirected.push(v);
      }
    }
    if (undirected.length === 1 && !importMpan && !exportMpan && category) {
      const generating = ['SOLAR_PV', 'WIND_TURBINE', 'CHP'].includes(category);
      if (generating) exportMpan = undirected.pop();
      else importMpan = undirected.pop();
    }
    if (importMpan) input.importMpan = importMpan;
    if (exportMpan) input.exportMpan = exportMpan;

    const loc = take(first(o, 'PowerSystemResource.Location'));
    if (loc) {
      const l: Record<string, unknown> = {};
      const pc = loc.first('fmar:Location.postcode');
      const gsp = loc.first('fmar:Location.gspGroup');
      if (pc !== undefined) l.postcode = pc;
      if (gsp !== undefined) l.gspGroup = gsp;
      const point = take((pointsOf ??= inverseIndex(model, 'PositionPoint.Location')).get(loc.key)?.[0]);
      // Coordinates are WGS84 longitude/latitude only when the location says so (or names no system, as the export does).
      const crs = take(first(loc, 'Location.CoordinateSystem'));
      const crsUrn = crs ? (prop(crs, 'CoordinateSystem.crsUrn') ?? '') : 'EPSG:4326';
      if (point && !/4326|WGS\s*-?84/i.test(crsUrn)) problems.push(`Position in coordinate system "${crsUrn}" is not WGS84; not used.`);
      else if (point) {
        const x = Number(prop(point, 'PositionPoint.xPosition'));
        const y = Number(prop(point, 'PositionPoint.yPosition'));
        if (Number.isFinite(x) && Number.isFinite(y)) {
          l.longitude = x;
          l.latitude = y;
        }
      }
      if (Object.keys(l).length) input.location = l;
    }

    const mrid = mridOf(o);
    aliases.sort((a, b) => (a.scheme + '\u0000' + a.value < b.scheme + '\u0000' + b.value ? -1 : 1));
    input.aliases = [...aliases, { scheme: MRID_ALIAS_SCHEME, value: mrid }];

    // Network references: the first terminal's connectivity node, then containers up to the substation.
    const network: ExtractedAsset['network'] = {};
    const terminals = (terminalsOf.get(o.key) ?? [])
      .slice()
      .sort((a, b) => Number(prop(a, 'ACDCTerminal.sequenceNumber') ?? 0) - Number(prop(b, 'ACDCTerminal.sequenceNumber') ?? 0));
    const viaTerminal = terminals.find((t) => first(t, 'Terminal.ConnectivityNode'));
    const cn = take(first(take(viaTerminal), 'Terminal.ConnectivityNode'));
    if (cn) network.connectivityNode = mridOf(cn);
    let container = first(cn, 'ConnectivityNode.ConnectivityNodeContainer') ?? first(o, 'Equipment.EquipmentContainer');
    for (let i = 0; container && i < 6; i++) {
      if (['Feeder', 'Line', 'Substation', 'VoltageLevel', 'Bay'].includes(container.className)) take(container);
      if (container.className === 'Feeder' || container.className === 'Line') {
        network.feeder ??= mridOf(container);
        container = first(container, 'Feeder.NormalEnergizingSubstation') ?? first(container, 'Line.Region');
        if (container?.className !== 'Substation') container = undefined;
      } else if (container.className === 'Substation') {
        network.substation = mridOf(container);
        break;
      } else if (container.className === 'VoltageLevel') container = first(container, 'VoltageLevel.Substation');
      else if (container.className === 'Bay') container = first(container, 'Bay.VoltageLevel') ?? first(container, 'Bay.Substation');
      else break;
    }

    const limits = limitsOn(o, terminals, { importMpan, exportMpan, mpans: [...undirected, ...more.map((m) => m.value)] });
    yield {
      mrid,
      className: o.className,
      at: o.at[0],
      category,
      importMpan,
      exportMpan,
      mpans: undirected,
      ...(more.length ? { moreMpans: more } : {}),
      network,
      organisationMrid,
      fspMrid,
      names,
      input,
      problems,
      ...(limits.length ? { limits } : {}),
    };
  }
}

/**
 * Every Organisation of the model with its role objects (whatever points at it through
 * OrganisationRole.Organisation) and the identifiers it carries: Names of type EIC or Companies
 * House (IEC 61970-301 or ENTSO-E object registry), and the ENTSO-E EIC property.
 */
export function extractOrganisations(model: CimModel): ExtractedOrganisation[] {
  if (model.definedElsewhere) return [];
  const rolesOf = inverseIndex(model, 'OrganisationRole.Organisation');
  const namesOf = namesIndex(model);
  const out: ExtractedOrganisation[] = [];
  for (const o of model.objects.values()) {
    if (o.className !== 'Organisation' || describedOnly(o)) continue;
    o.taken = true;
    const identifiers: ExtractedOrganisation['identifiers'] = [];
    const add = (scheme: 'EIC' | 'COMPANIES_HOUSE', value: string) => {
      const v = value.trim().toUpperCase();
      if (v && !identifiers.some((x) => x.scheme === scheme && x.value === v)) identifiers.push({ scheme, value: v });
    };
    const eic = o.first('eu:IdentifiedObject.energyIdentCodeEic');
    if (eic) add('EIC', eic);
    for (const n of namesOf.get(o.key) ?? []) {
      const t = nameTypeOf(n.typeName);
      if (t?.target !== 'organisation') continue;
      n.name.taken = true;
      if (n.type) n.type.taken = true;
      add(t.scheme as 'EIC' | 'COMPANIES_HOUSE', n.value);
    }
    const roles: string[] = [];
    for (const r of rolesOf.get(o.key) ?? []) {
      r.taken = true;
      const role = r.className === 'OrganisationRole' ? (prop(r, 'IdentifiedObject.name') ?? r.className) : r.className;
      if (!roles.includes(role)) roles.push(role);
    }
    out.push({ mrid: mridOf(o), name: prop(o, 'IdentifiedObject.name'), at: o.at[0], roles: roles.sort(), identifiers });
  }
  return out;
}
