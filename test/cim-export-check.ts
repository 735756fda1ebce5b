import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Parser as TurtleParser, Store, type Quad } from 'n3';
import SHACLValidator from 'rdf-validate-shacl';
import { RdfXmlParser } from 'rdfxml-streaming-parser';

/**
 * Independent checks of an export: an RDF/XML parser that is not the hub's (rdfxml-streaming-parser,
 * which refuses a document with a repeated rdf:ID, as RDF/XML requires) and a SHACL validator
 * (rdf-validate-shacl) with the shapes the repository publishes (docs/cim-shapes.ttl).
 */

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const SHAPES_FILE = resolve(root, 'docs/cim-shapes.ttl');
export const BASE = 'http://hub.test/api/v1/cim/export';

/** The triples of an RDF/XML document; rejects as the parser does (malformed, repeated rdf:ID). */
export function rdfXmlQuads(xml: string): Promise<Quad[]> {
  return new Promise((done, fail) => {
    const quads: Quad[] = [];
    const p = new RdfXmlParser({ baseIRI: BASE });
    p.on('data', (q: Quad) => quads.push(q));
    p.on('error', fail);
    p.on('end', () => done(quads));
    p.write(xml);
    p.end();
  });
}

let shapes: Store | undefined;
function shapeStore(): Store {
  shapes ??= new Store(new TurtleParser().parse(readFileSync(SHAPES_FILE, 'utf8')));
  return shapes;
}

export interface Violation {
  focus: string;
  path?: string;
  message: string;
}

/** SHACL violations of a document against the published shapes (none: it conforms). */
export async function shaclViolations(xml: string): Promise<Violation[]> {
  const data = new Store(await rdfXmlQuads(xml));
  const report = await new SHACLValidator(shapeStore()).validate(data);
  return report.results.map((r) => ({
    focus: r.focusNode?.value ?? '',
    path: r.path?.value,
    message: r.message.map((m) => m.value).join('; '),
  }));
}

/** Subjects of a class (full IRIs), in document order. */
export function subjectsOf(quads: Quad[], cls: string): string[] {
  return quads
    .filter((q) => q.predicate.value === 'http://www.w3.org/1999/02/22-rdf-syntax-ns#type' && q.object.value === cls)
    .map((q) => q.subject.value);
}

/** Values of a property of a subject (IRIs or literals). */
export function valuesOf(quads: Quad[], subject: string, property: string): string[] {
  return quads.filter((q) => q.subject.value === subject && q.predicate.value === property).map((q) => q.object.value);
}

export const CIM = 'http://iec.ch/TC57/CIM100#';
export const FMAR = 'https://fmar.uk/ns/CIM/Extensions#';
/** The subject IRI of an object with this mRID in an export parsed at BASE. */
export const iri = (mrid: string) => `${BASE}#_${mrid}`;
