/**
 * Namespaces the CIM library knows. Parsing resolves every element and attribute name to a
 * namespace IRI from the document's own `xmlns` declarations, then to a canonical token from this
 * table: the prefix text a file happens to use never matters.
 */
export const RDF = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#';
export const CIM100 = 'http://iec.ch/TC57/CIM100#';
export const MD = 'http://iec.ch/TC57/61970-552/ModelDescription/1#';
export const DCAT = 'http://www.w3.org/ns/dcat#';
export const DCTERMS = 'http://purl.org/dc/terms/';
/** The UCA interoperability tests' exchange header (`exch:InstanceSet`). */
export const EXCH = 'http://ucaiug.org/GMDM/Exchange#';
/** The register's extension namespace, for fields CIM has no home for (see docs/cim-profile.md). */
export const FMAR_EXT = 'https://fmar.uk/ns/CIM/Extensions#';

export interface Namespace {
  iri: string;
  token: 'cim' | 'eu' | 'md' | 'rdf' | 'fmar' | 'nc' | 'ltds' | 'dcat' | 'dcterms' | 'exch' | 'prov';
  version?: string;
  description: string;
}

/** Known namespaces; every CIM schema version resolves to the token `cim`. */
export const NAMESPACES: readonly Namespace[] = [
  { iri: RDF, token: 'rdf', description: 'RDF syntax' },
  { iri: CIM100, token: 'cim', version: 'CIM100', description: 'IEC CIM 100 (CGMES 3, GB LTDS); the export namespace' },
  { iri: 'https://cim.ucaiug.io/ns#', token: 'cim', version: 'CIM18', description: 'IEC CIM 18 (UCAIug)' },
  {
    iri: 'http://ucaiug.org/GMDM#',
    token: 'cim',
    version: 'CIM18',
    description: 'UCA interoperability tests, grid model data management (CIM 18 draft)',
  },
  { iri: 'http://iec.ch/TC57/2013/CIM-schema-cim16#', token: 'cim', version: 'CIM16', description: 'IEC CIM 16 (CGMES 2.4.15)' },
  { iri: 'http://iec.ch/TC57/2012/CIM-schema-cim16#', token: 'cim', version: 'CIM16', description: 'IEC CIM 16, 2012 variant' },
  { iri: 'http://iec.ch/TC57/CIM100-European#', token: 'eu', description: 'CGMES 3 European extension' },
  { iri: 'http://entsoe.eu/CIM/SchemaExtension/3/1#', token: 'eu', description: 'CGMES 2.4.15 ENTSO-E extension (`entsoe:`)' },
  { iri: 'http://entsoe.eu/Secretariat/ProfileExtension/2#', token: 'eu', description: 'CGMES 2.4 ENTSO-E profile extension (`entsoe:`)' },
  { iri: MD, token: 'md', description: 'IEC 61970-552 model header' },
  { iri: DCAT, token: 'dcat', description: 'DCAT: the `dcat:Dataset` header of the ENTSO-E network code profiles and CGMES 3.1' },
  { iri: DCTERMS, token: 'dcterms', description: 'Dublin Core terms (header properties)' },
  { iri: 'http://purl.org/dc/terms/#', token: 'dcterms', description: 'Dublin Core terms as some tools write it' },
  { iri: 'http://www.w3.org/ns/prov#', token: 'prov', description: 'PROV (header properties)' },
  { iri: EXCH, token: 'exch', description: 'UCA interoperability tests: the `exch:InstanceSet` header' },
  { iri: 'https://cim4.eu/ns/nc#', token: 'nc', description: 'ENTSO-E network codes profiles' },
  { iri: 'http://entsoe.eu/ns/nc#', token: 'nc', description: 'ENTSO-E network codes profiles, earlier namespace' },
  { iri: 'http://ofgem.gov.uk/ns/CIM/LTDS/Extensions#', token: 'ltds', description: 'Ofgem LTDS extensions' },
  { iri: FMAR_EXT, token: 'fmar', description: 'FMAR register extensions' },
];

/**
 * CIM schema namespaces recognised by their form, for the versions no table can list whole: the
 * dated IEC schemas (`http://iec.ch/TC57/2016/CIM-schema-cim17#`, any year, any version) and the
 * UCA interoperability-test drafts (`http://ucaiug.org/61970cim18v02_61968cim14v00#`).
 */
const CIM_PATTERNS: readonly { re: RegExp; version: (m: RegExpExecArray) => string; description: string }[] = [
  { re: /^http:\/\/iec\.ch\/TC57\/\d{4}\/CIM-schema-cim(\d{2})#$/, version: (m) => `CIM${m[1]}`, description: 'IEC CIM, dated schema' },
  { re: /^http:\/\/iec\.ch\/TC57\/CIM(\d{2,3})#$/, version: (m) => `CIM${m[1]}`, description: 'IEC CIM' },
  {
    re: /^https?:\/\/ucaiug\.org\/61970cim(\d{2})v\d{2}[A-Za-z0-9_]*#$/,
    version: (m) => `CIM${m[1]}`,
    description: 'UCA interoperability-test CIM draft',
  },
];

const BY_IRI = new Map<string, Namespace | null>(NAMESPACES.map((n) => [n.iri, n]));

export function namespaceOf(iri: string): Namespace | undefined {
  const known = BY_IRI.get(iri);
  if (known !== undefined) return known ?? undefined;
  let found: Namespace | null = null;
  for (const p of CIM_PATTERNS) {
    const m = p.re.exec(iri);
    if (m) {
      found = { iri, token: 'cim', version: p.version(m), description: p.description };
      break;
    }
  }
  if (BY_IRI.size < 10_000) BY_IRI.set(iri, found);
  return found ?? undefined;
}

/** The canonical key of a name: `token:local` for a known namespace, the full IRI otherwise. */
export function canonicalName(nsIri: string, local: string): string {
  const ns = namespaceOf(nsIri);
  return ns ? `${ns.token}:${local}` : nsIri + local;
}

/**
 * CIM classes the import reads. A class of this name in a namespace the library does not know is
 * still read, by its local name, and the report says so (CIM-NAMESPACE-UNKNOWN).
 */
export const CIM_CLASSES_READ: ReadonlySet<string> = new Set([
  'PowerElectronicsConnection',
  'BatteryUnit',
  'PhotoVoltaicUnit',
  'PowerElectronicsWindUnit',
  'EnergyConsumer',
  'ConformLoad',
  'NonConformLoad',
  'PSRType',
  'Asset',
  'UsagePoint',
  'Name',
  'NameType',
  'Organisation',
  'AssetOwner',
  'OrganisationRole',
  'Location',
  'CoordinateSystem',
  'PositionPoint',
  'Terminal',
  'ConnectivityNode',
  'Substation',
  'VoltageLevel',
  'Feeder',
  'Line',
  'Bay',
  'OperationalLimitSet',
  'ActivePowerLimit',
  'OperationalLimitType',
  'ScheduledLimitDependency',
  'ScheduledActivePowerLimitValue',
]);

/**
 * Property names some tools write instead of the standard one (vendor variants): read as the
 * standard property, with a CIM-VENDOR-VARIANT warning naming the variant.
 */
export const PROPERTY_VARIANTS: Readonly<Record<string, string>> = {
  'Equipment.UsagePoint': 'Equipment.UsagePoints',
  'UsagePoint.Equipment': 'UsagePoint.Equipments',
  'Terminal.sequenceNumber': 'ACDCTerminal.sequenceNumber',
};

/** Prefixes the export declares (the writer's choice; readers must not rely on them). */
export const EXPORT_PREFIXES: Record<string, string> = { rdf: RDF, cim: CIM100, md: MD, fmar: FMAR_EXT };
