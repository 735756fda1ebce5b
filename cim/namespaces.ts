/**
 * Namespaces the CIM library knows. Parsing resolves every element and attribute name to a
 * namespace IRI from the document's own `xmlns` declarations, then to a canonical token from this
 * table: the prefix text a file happens to use never matters.
 */
export const RDF = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#';
export const CIM100 = 'http://iec.ch/TC57/CIM100#';
export const MD = 'http://iec.ch/TC57/61970-552/ModelDescription/1#';
/** The register's extension namespace, for fields CIM has no home for (see docs/cim-profile.md). */
export const FMAR_EXT = 'https://fmar.uk/ns/CIM/Extensions#';

export interface Namespace {
  iri: string;
  token: 'cim' | 'eu' | 'md' | 'rdf' | 'fmar' | 'nc' | 'ltds';
  version?: string;
  description: string;
}

/** Known namespaces; every CIM schema version resolves to the token `cim`. */
export const NAMESPACES: readonly Namespace[] = [
  { iri: RDF, token: 'rdf', description: 'RDF syntax' },
  { iri: CIM100, token: 'cim', version: 'CIM100', description: 'IEC CIM 100 (CGMES 3, GB LTDS); the export namespace' },
  { iri: 'https://cim.ucaiug.io/ns#', token: 'cim', version: 'CIM18', description: 'IEC CIM 18 (UCAIug)' },
  { iri: 'http://iec.ch/TC57/2013/CIM-schema-cim16#', token: 'cim', version: 'CIM16', description: 'IEC CIM 16 (CGMES 2.4.15)' },
  { iri: 'http://iec.ch/TC57/2012/CIM-schema-cim16#', token: 'cim', version: 'CIM16', description: 'IEC CIM 16, 2012 variant' },
  { iri: 'http://iec.ch/TC57/CIM100-European#', token: 'eu', description: 'CGMES 3 European extension' },
  { iri: MD, token: 'md', description: 'IEC 61970-552 model header' },
  { iri: 'https://cim4.eu/ns/nc#', token: 'nc', description: 'ENTSO-E network codes profiles' },
  { iri: 'http://ofgem.gov.uk/ns/CIM/LTDS/Extensions#', token: 'ltds', description: 'Ofgem LTDS extensions' },
  { iri: FMAR_EXT, token: 'fmar', description: 'FMAR register extensions' },
];

const BY_IRI = new Map(NAMESPACES.map((n) => [n.iri, n]));

export function namespaceOf(iri: string): Namespace | undefined {
  return BY_IRI.get(iri);
}

/** The canonical key of a name: `token:local` for a known namespace, the full IRI otherwise. */
export function canonicalName(nsIri: string, local: string): string {
  const ns = BY_IRI.get(nsIri);
  return ns ? `${ns.token}:${local}` : nsIri + local;
}

/** Prefixes the export declares (the writer's choice; readers must not rely on them). */
export const EXPORT_PREFIXES: Record<string, string> = { rdf: RDF, cim: CIM100, md: MD, fmar: FMAR_EXT };
