import { inverseIndex, prop, refs, unitLinks, type CimModel } from './model';
import type { CimObject, SourceLocation } from './parser';
import { CATEGORY_PROFILE, UNIT_FACTORS, type CategoryProfile, type PowerUnit } from './profile';
import { MRID_ALIAS_SCHEME, NAME_SCHEMES } from './writer';

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
  network: { connectivityNode?: string; substation?: string; feeder?: string };
  organisationMrid?: string;
  fspMrid?: string;
  /** The registration body (AssetInput shape), without organisationId/fspId. */
  input: Record<string, unknown>;
  problems: string[];
}

export interface ExtractOptions {
  unit?: PowerUnit;
}

const EQUIPMENT = new Set(['PowerElectronicsConnection', 'EnergyConsumer', 'ConformLoad', 'NonConformLoad']);

/** The mRID of an object as the file wrote it (case kept): IdentifiedObject.mRID, else its RDF identifier without `#`, `urn:uuid:` and `_`. */
export function mridOf(o: CimObject): string {
  const m = prop(o, 'IdentifiedObject.mRID');
  if (m) return m.trim();
  return (o.ids[0] ?? o.key)
    .trim()
    .replace(/^#/, '')
    .replace(/^urn:uuid:/i, '')
    .replace(/^_/, '');
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
  const unit = opts.unit ?? 'W';
  const get = (k: string | undefined) => (k === undefined ? undefined : model.objects.get(k));
  const first = (o: CimObject | undefined, name: string) => (o ? get(refs(o, name)[0]?.key) : undefined);
  const units = unitLinks(model);
  const usagePointsOf = inverseIndex(model, 'UsagePoint.Equipments');
  const namesOf = inverseIndex(model, 'Name.IdentifiedObject');
  const assetsOf = inverseIndex(model, 'Asset.PowerSystemResources');
  const terminalsOf = inverseIndex(model, 'Terminal.ConductingEquipment');
  const nameType = (n: CimObject) => prop(first(n, 'Name.NameType') ?? n, 'NameType.name') ?? '';
  let pointsOf: Map<string, CimObject[]> | undefined;
  const out: ExtractedAsset[] = [];

  for (const o of model.objects.values()) {
    if (!EQUIPMENT.has(o.className)) continue;
    const problems: string[] = [];
    const ext = (name: string) => o.properties[`fmar:Equipment.${name}`]?.[0];
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
      const unitClasses = [...new Set((units.get(o.key) ?? []).map((u) => u.className))];
      const psrObj = first(o, 'PowerSystemResource.PSRType');
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
      pec
        ? prop(o, 'PowerElectronicsConnection.ratedS')
        : (o.properties['fmar:EnergyConsumer.ratedP']?.[0] ?? prop(o, 'EnergyConsumer.pfixed')),
      unit,
      problems,
      'rating',
    );
    if (rated !== undefined) input.ratedCapacityKw = rated;
    const gen = kw(
      pec ? prop(o, 'PowerElectronicsConnection.maxP') : o.properties['fmar:EnergyConsumer.maxGenerationP']?.[0],
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
    const asset =
      (assetsOf.get(o.key) ?? [])[0] ??
      refs(o, 'PowerSystemResource.Assets')
        .map((r) => get(r.key))
        .find(Boolean);
    const aliases: { scheme: string; value: string }[] = [];
    let organisationMrid: string | undefined;
    let fspMrid: string | undefined;
    if (asset) {
      const serial = prop(asset, 'Asset.serialNumber');
      if (serial !== undefined) input.serialNumber = serial;
      for (const f of ['manufacturer', 'model', 'commissioningDate']) {
        const v = asset.properties[`fmar:Asset.${f}`]?.[0];
        if (v !== undefined) input[f] = v;
      }
      for (const n of namesOf.get(asset.key) ?? []) {
        const scheme = nameType(n);
        const value = prop(n, 'Name.name');
        if ((NAME_SCHEMES as readonly string[]).includes(scheme) && value) aliases.push({ scheme, value });
      }
      for (const r of refs(asset, 'Asset.OrganisationRoles')) {
        const role = get(r.key);
        const org = first(role, 'OrganisationRole.Organisation');
        if (!role || !org) continue;
        if (role.className === 'AssetOwner') organisationMrid ??= mridOf(org);
        else if (prop(role, 'IdentifiedObject.name') === 'FSP') fspMrid ??= mridOf(org);
      }
    }

    // MPANs: Names of NameType MPAN on the equipment's usage points (or on the equipment itself).
    let importMpan: string | undefined;
    let exportMpan: string | undefined;
    const undirected: string[] = [];
    const ups = [
      ...(usagePointsOf.get(o.key) ?? []),
      ...refs(o, 'Equipment.UsagePoints')
        .map((r) => get(r.key))
        .filter((x): x is CimObject => !!x),
    ];
    for (const holder of [...new Set(ups), o]) {
      for (const n of namesOf.get(holder.key) ?? []) {
        if (nameType(n).toUpperCase() !== 'MPAN') continue;
        const v = prop(n, 'Name.name');
        if (!v) continue;
        const dir = holder.properties['fmar:UsagePoint.direction']?.[0];
        if (dir === 'import' && !importMpan) importMpan = v;
        else if (dir === 'export' && !exportMpan) exportMpan = v;
        else if (!undirected.includes(v)) undirected.push(v);
      }
    }
    if (undirected.length === 1 && !importMpan && !exportMpan && category) {
      const generating = ['SOLAR_PV', 'WIND_TURBINE', 'CHP'].includes(category);
      if (generating) exportMpan = undirected.pop();
      else importMpan = undirected.pop();
    }
    if (importMpan) input.importMpan = importMpan;
    if (exportMpan) input.exportMpan = exportMpan;

    const loc = first(o, 'PowerSystemResource.Location');
    if (loc) {
      const l: Record<string, unknown> = {};
      const pc = loc.properties['fmar:Location.postcode']?.[0];
      const gsp = loc.properties['fmar:Location.gspGroup']?.[0];
      if (pc !== undefined) l.postcode = pc;
      if (gsp !== undefined) l.gspGroup = gsp;
      const point = (pointsOf ??= inverseIndex(model, 'PositionPoint.Location')).get(loc.key)?.[0];
      // Coordinates are WGS84 longitude/latitude only when the location says so (or names no system, as the export does).
      const crs = first(loc, 'Location.CoordinateSystem');
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
    const cn = terminals.map((t) => first(t, 'Terminal.ConnectivityNode')).find(Boolean);
    if (cn) network.connectivityNode = mridOf(cn);
    let container = first(cn, 'ConnectivityNode.ConnectivityNodeContainer') ?? first(o, 'Equipment.EquipmentContainer');
    for (let i = 0; container && i < 6; i++) {
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

    out.push({
      mrid,
      className: o.className,
      at: o.at[0],
      category,
      importMpan,
      exportMpan,
      mpans: undirected,
      network,
      organisationMrid,
      fspMrid,
      input,
      problems,
    });
  }
  return out;
}
