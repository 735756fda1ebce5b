import { CIM100, FMAR_EXT, MD, RDF } from './namespaces';
import { EXPORT_SHAPES, PROFILE_URI, UUID_PATTERN, shapeProperties } from './profile';

/** The export's SHACL shapes in Turtle (docs/cim-shapes.ttl), rendered from EXPORT_SHAPES in cim/profile.ts. */

export const SHAPES_NS = `${PROFILE_URI}/shapes#`;
const SH_PREFIXES: Record<string, string> = {
  sh: 'http://www.w3.org/ns/shacl#',
  rdf: RDF,
  cim: CIM100,
  fmar: FMAR_EXT,
  md: MD,
  shape: SHAPES_NS,
};
const ttlString = (s: string) => JSON.stringify(s);

/** docs/cim-shapes.ttl: the SHACL shapes of EXPORT_SHAPES, in Turtle. */
export function profileShapes(): string {
  const out = [
    '# generated from cim/profile.ts by `npm run docs:cim`; do not edit',
    `# SHACL shapes of the FMAR CIM export (${PROFILE_URI}); test/cim-export-shacl.test.ts validates exports against them.`,
    ...Object.entries(SH_PREFIXES).map(([p, iri]) => `@prefix ${p}: <${iri}> .`),
    '',
  ];
  for (const s of EXPORT_SHAPES) {
    const local = s.cls.split(':')[1];
    const lines = [`shape:${local} a sh:NodeShape ;`, `  sh:targetClass ${s.cls} ;`];
    if (s.identified) lines.push(`  sh:nodeKind sh:IRI ;`, `  sh:pattern ${ttlString('#_' + UUID_PATTERN.slice(1))} ;`);
    lines.push(`  sh:closed true ;`, `  sh:ignoredProperties ( rdf:type ) ;`);
    const props = shapeProperties(s).map((p) => {
      const c = [`sh:path ${p.path}`, `sh:minCount ${p.min}`];
      if (p.max !== undefined) c.push(`sh:maxCount ${p.max}`);
      if (p.ref) {
        c.push('sh:nodeKind sh:IRI');
        c.push(p.ref.length === 1 ? `sh:class cim:${p.ref[0]}` : `sh:or ( ${p.ref.map((r) => `[ sh:class cim:${r} ]`).join(' ')} )`);
      } else {
        c.push('sh:nodeKind sh:Literal', 'sh:datatype <http://www.w3.org/2001/XMLSchema#string>');
        if (p.pattern) c.push(`sh:pattern ${ttlString(p.pattern)}`);
        if (p.in) c.push(`sh:in ( ${p.in.map(ttlString).join(' ')} )`);
        if (p.maxLength !== undefined) c.push(`sh:maxLength ${p.maxLength}`);
      }
      return `  sh:property [\n    ${c.join(' ;\n    ')} ;\n  ]`;
    });
    out.push(lines.join('\n') + (props.length ? '\n' + props.join(' ;\n') : '') + ' .', '');
  }
  return out.join('\n');
}
