import { XMLValidator } from 'fast-xml-parser';
import { CIM_CLASSES_READ, DCAT, EXCH, MD, PROPERTY_VARIANTS, RDF, canonicalName, namespaceOf } from './namespaces';
import { normaliseId } from './mrid';
import { CLASS_SPELLINGS } from './profile';
import { MORE, ScanError, Scanner, type XNode } from './scan';
import { decodeXml } from './xml';
import { CimObject, CimSource, idForm, type CimClass, type SourceLocation } from './object';

export { CimObject, CimSource, NO_VALUES, idForm, idWritten, type CimClass, type CimRef, type SourceLocation } from './object';

/**
 * Parse CIM RDF/XML into a neutral object bag. XML is hostile until parsed: no DOCTYPE (so no
 * entity expansion of any kind, internal or external), no fetches, a size limit before parsing and
 * a depth limit during it; malformed XML is a ParseError with line and column, never a crash.
 */

export const CIM_ISSUE_CODES = [
  'CIM-CLASS-UNKNOWN',
  'CIM-REFERENCE-DANGLING',
  'CIM-REFERENCE-AS-LITERAL',
  'CIM-HEADER-INVALID',
  'CIM-ID-DUPLICATE',
  'CIM-ID-MISSING',
  'CIM-CLASS-CONFLICT',
  'CIM-MRID-MISMATCH',
  'CIM-NAMESPACE-UNKNOWN',
  'CIM-VENDOR-VARIANT',
  'CIM-CLASS-NOT-USED',
  'CIM-MODEL-PARTIAL',
] as const;
export type CimIssueCode = (typeof CIM_ISSUE_CODES)[number];

export const CIM_FATAL_CODES = [
  'CIM-XML-MALFORMED',
  'CIM-XML-DOCTYPE',
  'CIM-XML-TOO-LARGE',
  'CIM-XML-TOO-DEEP',
  'CIM-XML-ENCODING',
  'CIM-XML-NOT-RDF',
] as const;
export type CimFatalCode = (typeof CIM_FATAL_CODES)[number];

export interface CimIssue extends Partial<SourceLocation> {
  code: CimIssueCode;
  message: string;
  object?: string;
  /** CIM-CLASS-UNKNOWN, CIM-CLASS-NOT-USED: the class (canonical spelling). */
  className?: string;
  /** CIM-NAMESPACE-UNKNOWN: the namespace IRI. */
  namespace?: string;
}

/** A document the parser refuses: the code, and where. */
export class CimParseError extends Error {
  constructor(
    readonly code: CimFatalCode,
    message: string,
    readonly location?: SourceLocation,
  ) {
    super(message);
  }
}

/** The header classes read: IEC 61970-552 `md:FullModel`, DCAT `dcat:Dataset` (ENTSO-E NC, CGMES 3.1), UCA `exch:InstanceSet`. */
export type CimHeaderKind = 'md:FullModel' | 'dcat:Dataset' | 'exch:InstanceSet';

export interface CimHeaderInfo {
  file: string;
  kind?: CimHeaderKind;
  about?: string;
  created?: string;
  profiles: string[];
  modelingAuthoritySet?: string;
  dependentOn: string[];
  /** dcat:keyword of a dcat:Dataset header (the profile's short name: EQ, SSH, ...). */
  keywords?: string[];
}

export interface CimDocument {
  file: string;
  header?: CimHeaderInfo;
  objects: CimObject[];
  issues: CimIssue[];
  namespaces: Record<string, string>;
  /**
   * The file defines nothing: its header (if any) declares no profile, and no object has an
   * rdf:ID, an IdentifiedObject property or a class outside IdentifiedObject (Name, NameType,
   * PositionPoint). Such a file (a CGMES 3 SSH or SV written with `rdf:about="urn:uuid:…"` and no
   * header) only adds properties to objects another file defines.
   */
  describesOnly?: boolean;
}

/** The property an object's mRID is read from. */
const MRID = 'cim:IdentifiedObject.mRID';

/** Classes that are not IdentifiedObjects, so carry no IdentifiedObject property even where they are defined. */
const NOT_IDENTIFIED = new Set(['Name', 'NameType', 'PositionPoint']);
const carriesIdentity = (o: CimObject) => {
  if (o.defined || NOT_IDENTIFIED.has(o.className)) return true;
  for (let i = 0; i < o.p.length; i += 2) if ((o.p[i] as string).includes(':IdentifiedObject.')) return true;
  for (let i = 0; i < o.r.length; i += 4) if ((o.r[i] as string).includes(':IdentifiedObject.')) return true;
  return false;
};

export interface ParseLimits {
  maxBytes?: number;
  maxDepth?: number;
  /** Characters per slice of the document parsed at once (SLICE_CHARS); tests use small slices. */
  sliceChars?: number;
}
export const DEFAULT_LIMITS = { maxBytes: 64 * 1024 * 1024, maxDepth: 32 };

/**
 * The string as the engine's one shared copy (V8 internalises property names): equal identifiers
 * share one string, and a string cut from the document's text no longer keeps that text alive.
 */
export function intern(s: string): string {
  const o: Record<string, 0> = { [s]: 0 };
  for (const k in o) return k;
  return s;
}

/** Characters of the document read per window (a window holds whole elements and the start of the next). */
export const SLICE_CHARS = 1 << 20;

function headerKind(ns: string, local: string): CimHeaderKind | undefined {
  if (ns === MD && local === 'FullModel') return 'md:FullModel';
  if (ns === DCAT && local === 'Dataset') return 'dcat:Dataset';
  if (ns === EXCH && local === 'InstanceSet') return 'exch:InstanceSet';
  return undefined;
}

/** Header properties by local name, whichever header vocabulary wrote them. */
const HEADER_FIELDS: Record<string, 'created' | 'profile' | 'authority' | 'dependentOn'> = {
  'Model.created': 'created',
  issued: 'created',
  generatedAtTime: 'created',
  'InstanceSet.created': 'created',
  'Model.profile': 'profile',
  conformsTo: 'profile',
  'InstanceSet.profile': 'profile',
  'Model.modelingAuthoritySet': 'authority',
  publisher: 'authority',
  'Model.DependentOn': 'dependentOn',
  requires: 'dependentOn',
  'InstanceSet.DependentOn': 'dependentOn',
};
/** Namespaces whose properties a header may carry (others, such as a vendor's, are kept out of it). */
const HEADER_TOKENS = new Set(['md', 'dcat', 'dcterms', 'prov', 'exch']);

/** Properties of these classes (or their CIM ancestors) in an unknown namespace are read by local name. */
const CIM_ANCESTORS = new Set([
  'IdentifiedObject',
  'PowerSystemResource',
  'Equipment',
  'ConductingEquipment',
  'ACDCTerminal',
  'PowerElectronicsUnit',
  'EnergyConnection',
  'RegulatingCondEq',
  'EquipmentContainer',
  'ConnectivityNodeContainer',
]);
const readByLocalName = (local: string) => {
  const dot = local.indexOf('.');
  const cls = dot === -1 ? local : local.slice(0, dot);
  return CIM_CLASSES_READ.has(cls) || (dot !== -1 && CIM_ANCESTORS.has(cls));
};

/** Parse one file. Throws CimParseError for a document it refuses; reports everything else as issues. */
export function parseCimXml(
  input: string | Uint8Array | (() => string | Uint8Array),
  file = 'input.xml',
  limits: ParseLimits = {},
): CimDocument {
  // A function hands over the content (digestCimFiles' release): nothing else keeps it then.
  const content = typeof input === 'function' ? input() : input;
  const max = limits.maxBytes ?? DEFAULT_LIMITS.maxBytes;
  const size = typeof content === 'string' ? content.length : content.byteLength;
  if (size > max) throw new CimParseError('CIM-XML-TOO-LARGE', `${file} is ${size} bytes; at most ${max} are accepted.`);
  const reader = cimXmlReader(file, { ...limits, maxBytes: Infinity });
  // Decoded and read a window at a time: the document is never one string.
  const win = Math.max(1, limits.sliceChars ?? SLICE_CHARS);
  try {
    if (typeof content === 'string') for (let i = 0; i < content.length; i += win) reader.push(content.slice(i, i + win));
    else for (let i = 0; i < content.byteLength; i += win) reader.push(content.subarray(i, i + win));
    return reader.end();
  } catch (e) {
    // A fault is reported as a check of the whole document reports it (its message, line and column).
    if (e instanceof CimParseError && e.code === 'CIM-XML-MALFORMED') throw wholeDocumentFault(content, file) ?? e;
    throw e;
  }
}

/** fast-xml-parser's validator on the whole document: its account of the first fault, if it finds one. */
function wholeDocumentFault(content: string | Uint8Array, file: string): CimParseError | undefined {
  let text = typeof content === 'string' ? content : new TextDecoder().decode(content);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const valid = XMLValidator.validate(text, { allowBooleanAttributes: false });
  if (valid === true) return undefined;
  return new CimParseError('CIM-XML-MALFORMED', `${file} is not well-formed XML: ${valid.err.msg}`, {
    file,
    line: valid.err.line,
    col: valid.err.col,
  });
}

/** A document read as it arrives: `push` each part (bytes or text) in order, then `end`. */
export interface CimXmlReader {
  push(chunk: string | Uint8Array): void;
  end(): CimDocument;
}

/**
 * The parser proper. Each pushed part is decoded and appended to a window; the scanner reads
 * whole top-level elements from it, each turned into an object at once, and what it has read
 * leaves the window. An element cut by the window's end is read again once the window has at
 * least doubled, so a long element costs linear time.
 */
export function cimXmlReader(file: string, limits: ParseLimits = {}): CimXmlReader {
  const maxDepth = limits.maxDepth ?? DEFAULT_LIMITS.maxDepth;
  const maxBytes = limits.maxBytes ?? DEFAULT_LIMITS.maxBytes;
  const lines = new CimSource(file);
  const at = (offset: number | undefined): SourceLocation => (offset === undefined ? { file, line: 0, col: 0 } : lines.locate(offset));
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const sc = new Scanner(maxDepth);
  let bytes = 0;
  let started = false;
  /** The window is read again once it holds this many characters (after an element was cut by its end). */
  let want = 0;
  /** Where the reading is: before the root element, inside it, after it. */
  let state: 'prolog' | 'body' | 'after' = 'prolog';
  const fault = (e: ScanError): CimParseError => {
    const loc = at(e.at);
    if (e.fault === 'DEEP') return new CimParseError('CIM-XML-TOO-DEEP', `${file} nests elements deeper than ${maxDepth} levels.`, loc);
    if (e.fault === 'DOCTYPE')
      return new CimParseError(
        'CIM-XML-DOCTYPE',
        /<!ENTITY/i.test(sc.s.slice(e.at - sc.base))
          ? `${file} declares entities (DOCTYPE with ENTITY); entity expansion is refused.`
          : `${file} has a DOCTYPE; CIM RDF/XML needs none and it is refused.`,
        loc,
      );
    return new CimParseError('CIM-XML-MALFORMED', `${file} is not well-formed XML: ${e.message}`, loc);
  };

  const issues: CimIssue[] = [];
  const objects: CimObject[] = [];
  const rootNs: Record<string, string> = {};
  let header: CimHeaderInfo | undefined;
  /** Namespaces the library does not know, as met: elements, and what was read by local name. */
  const unknownNs = new Map<string, { elements: number; classes: Map<string, number>; properties: Set<string>; at: SourceLocation }>();
  const unknownSeen = (ns: string, loc: () => SourceLocation) => {
    let u = unknownNs.get(ns);
    if (!u) unknownNs.set(ns, (u = { elements: 0, classes: new Map(), properties: new Set(), at: loc() }));
    u.elements++;
    return u;
  };
  /** Vendor spellings read as the standard name, with how often. */
  const variants = new Map<string, { standard: string; n: number; at: SourceLocation }>();
  const noteVariant = (written: string, standard: string, loc: () => SourceLocation) => {
    const v = variants.get(written);
    if (v) v.n++;
    else variants.set(written, { standard, n: 1, at: loc() });
  };
  type TagNote = { variant?: { written: string; standard: string }; unknownNs?: string; readAs?: string };
  /** What a property name needs noted each time it is met: a vendor variant, or an unknown namespace. */
  const tagNote = (pname: { ns: string; local: string }): TagNote | undefined => {
    if (pname.ns === RDF) return undefined;
    const known = namespaceOf(pname.ns);
    if (!known) return { unknownNs: pname.ns, ...(readByLocalName(pname.local) ? { readAs: pname.local } : {}) };
    const standard = known.token === 'cim' ? PROPERTY_VARIANTS[pname.local] : undefined;
    return standard ? { variant: { written: pname.local, standard } } : undefined;
  };
  const notedTags = new Map<string, TagNote>();
  const noteTag = (tag: string, pname: { ns: string; local: string }) => {
    const n = tagNote(pname);
    if (n) notedTags.set(tag, n);
  };
  const noteProperty = (n: TagNote, loc: () => SourceLocation) => {
    if (n.variant) noteVariant(n.variant.written, n.variant.standard, loc);
    if (n.unknownNs) {
      const u = unknownSeen(n.unknownNs, loc);
      if (n.readAs) u.properties.add(n.readAs);
    }
  };

  /** Resolve `prefix:local` with the in-scope declarations. */
  // Names resolved in the root scope (nearly all of them) are cached.
  const cache = new Map<string, { ns: string; local: string } | undefined>();
  let rootScopeRef: Record<string, string> | undefined;
  const resolve = (qname: string, scope: Record<string, string>, isAttr = false): { ns: string; local: string } | undefined => {
    if (scope === rootScopeRef) {
      const key = isAttr ? '@' + qname : qname;
      if (cache.has(key)) return cache.get(key);
      const r = resolveIn(qname, scope, isAttr);
      cache.set(key, r);
      return r;
    }
    return resolveIn(qname, scope, isAttr);
  };
  const resolveIn = (qname: string, scope: Record<string, string>, isAttr: boolean): { ns: string; local: string } | undefined => {
    const i = qname.indexOf(':');
    const prefix = i === -1 ? '' : qname.slice(0, i);
    const local = i === -1 ? qname : qname.slice(i + 1);
    if (isAttr && i === -1) return { ns: '', local };
    const ns = scope[prefix];
    return ns === undefined ? undefined : { ns, local };
  };
  const scopeOf = (attrs: string[] | undefined, parent: Record<string, string>) => {
    if (!attrs) return parent;
    let scope = parent;
    for (let i = 0; i < attrs.length; i += 2) {
      const k = attrs[i];
      if (k === 'xmlns' || k.startsWith('xmlns:')) {
        if (scope === parent) scope = { ...parent };
        scope[k === 'xmlns' ? '' : k.slice(6)] = intern(decodeXml(attrs[i + 1]));
      }
    }
    return scope;
  };
  const NO_ATTRS: Record<string, string> = Object.freeze({}) as Record<string, string>;
  const rdfAttrs = (attrs: string[] | undefined, scope: Record<string, string>) => {
    if (!attrs) return NO_ATTRS;
    let out: Record<string, string> | undefined;
    for (let i = 0; i < attrs.length; i += 2) {
      const k = attrs[i];
      if (k === 'xmlns' || k.startsWith('xmlns:')) continue;
      const r = resolve(k, scope, true);
      if (r && r.ns === RDF) (out ??= {})[r.local] = decodeXml(attrs[i + 1]);
    }
    return out ?? NO_ATTRS;
  };
  const NO_NODES: XNode[] = [];
  const textOf = (n: XNode) => decodeXml(n.text);
  const keys = new Map<string, string>();
  const rootKeys = new Map<string, string>();
  /** Canonical property key; a vendor variant becomes the standard name, and an unknown namespace's CIM property its `cim:` name. */
  const keyOf = (ns: string, local: string) => {
    const k = ns + local;
    let v = keys.get(k);
    if (v === undefined) {
      const known = namespaceOf(ns);
      if (!known && ns !== RDF && readByLocalName(local)) v = `cim:${PROPERTY_VARIANTS[local] ?? local}`;
      else if (known?.token === 'cim' && PROPERTY_VARIANTS[local]) v = `cim:${PROPERTY_VARIANTS[local]}`;
      else v = canonicalName(ns, local);
      keys.set(k, v);
    }
    return v;
  };

  // The root element: its tag and namespace declarations, known once its start tag is read.
  let rootTag = '';
  let rootScope: Record<string, string> = {};
  const rootStarted = (root: XNode) => {
    rootTag = root.tag;
    rootScope = scopeOf(root.attrs, { xml: 'http://www.w3.org/XML/1998/namespace' });
    rootScopeRef = rootScope;
    Object.assign(rootNs, Object.fromEntries(Object.entries(rootScope).filter(([p]) => p !== 'xml')));
    const rootName = resolve(rootTag, rootScope);
    if (!rootName || rootName.ns !== RDF || rootName.local !== 'RDF') {
      throw new CimParseError('CIM-XML-NOT-RDF', `${file}: the root element is ${rootTag}, not rdf:RDF (${RDF}).`, at(root.start));
    }
  };

  let anon = 0;
  // Compact objects: identifiers are interned (one string however often a file names it, and none
  // keeps the document's text alive), class keys computed once per class, value lists sized to fit.
  const classes = new Map<string, CimClass>();
  const classOf = (classIri: string, className: string, keyNs: string, written: string | undefined) => {
    const k = classIri + ' ' + className + ' ' + keyNs + ' ' + (written ?? '');
    let v = classes.get(k);
    if (v === undefined) {
      const classKey = keyNs === '' ? `cim:${className}` : canonicalName(keyNs, className);
      v = { classIri, className, classKey, ...(written ? { writtenClassName: written } : {}) };
      classes.set(k, v);
    }
    return v;
  };
  const keyOfId = (raw: string) => intern(normaliseId(raw));
  /** A node element (typed node or rdf:Description) → object; returns its key. */
  const nodeElement = (n: XNode, parentScope: Record<string, string>): string | undefined => {
    const tag = n.tag;
    const scope = scopeOf(n.attrs, parentScope);
    const loc = at(n.start);
    const name = resolve(tag, scope);
    const attrs = rdfAttrs(n.attrs, scope);
    if (!name) {
      issues.push({ code: 'CIM-CLASS-UNKNOWN', message: `Element ${tag} uses an undeclared prefix; kept as ${tag}.`, ...loc });
    }
    let classIri = name?.ns ?? '';
    let className = name?.local ?? tag;
    const props = n.kids ?? NO_NODES;
    // rdf:Description with rdf:type
    if (name && name.ns === RDF && name.local === 'Description') {
      const typeProp = props.find((p) => {
        const r = resolve(p.tag, scopeOf(p.attrs, scope));
        return r?.ns === RDF && r.local === 'type';
      });
      const typeIri = typeProp ? rdfAttrs(typeProp.attrs, scope).resource : undefined;
      if (typeIri) {
        const hash = typeIri.lastIndexOf('#');
        classIri = typeIri.slice(0, hash + 1);
        className = typeIri.slice(hash + 1);
      }
    }
    let written: string | undefined;
    for (const [canonical, spellings] of Object.entries(CLASS_SPELLINGS)) {
      if (spellings.includes(className)) {
        written = className;
        className = canonical;
        noteVariant(written, canonical, () => loc);
      }
    }
    // A class in a namespace the library does not know: read by its local name when that is a CIM class it reads.
    const unknownClassNs = classIri !== '' && classIri !== RDF && !namespaceOf(classIri);
    let byLocalName = false;
    if (unknownClassNs) {
      const u = unknownSeen(classIri, () => loc);
      if (CIM_CLASSES_READ.has(className)) {
        byLocalName = true;
        u.classes.set(className, (u.classes.get(className) ?? 0) + 1);
      }
    }
    const rawAttr = attrs.ID ?? attrs.about ?? attrs.nodeID;
    const rawId = rawAttr === undefined ? undefined : intern(rawAttr);
    if (!rawId)
      issues.push({ code: 'CIM-ID-MISSING', message: `A ${className} has no rdf:ID or rdf:about; it was given a blank-node key.`, ...loc });
    const key = rawId ? keyOfId(rawId) : `_:b${++anon}`;
    const obj = new CimObject(
      key,
      rawId,
      classOf(classIri, className, byLocalName ? '' : classIri, written),
      lines,
      n.start,
      attrs.ID !== undefined,
    );
    // Values gathered here and copied once at their size: an array grown by push keeps room for 17.
    const pv: (string | number)[] = [];
    const rv: (string | number)[] = [];
    const kind = headerKind(classIri, className);
    if (kind) header = { file, kind, about: rawId, profiles: [], dependentOn: [] };
    for (const p of props) {
      const ptag = p.tag;
      const pscope = scopeOf(p.attrs, scope);
      const pname = resolve(ptag, pscope);
      // Located only when something keeps the location (a reference, a finding): most properties are literals.
      const plocOf = () => at(p.start);
      let pkey: string;
      if (pscope === rootScopeRef) {
        // Most properties are in the root scope: their canonical key depends on the tag alone.
        const k = rootKeys.get(ptag);
        if (k !== undefined) pkey = k;
        else {
          pkey = pname ? keyOf(pname.ns, pname.local) : ptag;
          rootKeys.set(ptag, pkey);
          if (pname) noteTag(ptag, pname);
        }
        // Tags worth a note (a vendor variant, an unknown namespace) are few; most files have none.
        if (notedTags.size) {
          const n = notedTags.get(ptag);
          if (n) noteProperty(n, plocOf);
        }
      } else {
        pkey = pname ? keyOf(pname.ns, pname.local) : ptag;
        const n = pname && tagNote(pname);
        if (n) noteProperty(n, plocOf);
      }
      if (pname?.ns === RDF && pname.local === 'type') continue;
      const pattrs = rdfAttrs(p.attrs, pscope);
      const nested = p.kids ?? NO_NODES;
      if (pattrs.resource !== undefined) {
        const raw = pattrs.resource;
        if (/^[a-z][a-z0-9+.-]*:/i.test(raw) && !/^urn:uuid:/i.test(raw)) pv.push(pkey, intern(raw));
        else {
          const k = keyOfId(raw);
          const w = idForm(raw, k);
          rv.push(pkey, k, typeof w === 'string' ? intern(w) : w, p.start);
        }
      } else if (nested.length) {
        for (const c of nested) {
          const k = nodeElement(c, pscope);
          if (k) rv.push(pkey, k, idForm(k, k), p.start);
        }
      } else {
        // Interned: short values repeat (flags, ratings, an mRID that is also the identifier), and
        // none keeps the window it was read from alive.
        const text = textOf(p);
        // An mRID that is a form of the identifier (nearly all) is held as a number, not a second string.
        const form = pkey === MRID ? idForm(text, key) : text;
        const value = typeof form === 'number' ? text : intern(text);
        pv.push(pkey, typeof form === 'number' ? form : value);
        const dot = pname ? pname.local.indexOf('.') : -1;
        const c = dot >= 0 ? pname!.local.charCodeAt(dot + 1) : 0;
        if (c >= 65 && c <= 90 && pname!.ns !== MD && value !== '') {
          issues.push({
            code: 'CIM-REFERENCE-AS-LITERAL',
            message: `${className} ${rawId ?? ''}: ${pkey} is an association but holds the text "${value.slice(0, 80)}"; no link was made.`,
            object: key,
            ...plocOf(),
          });
        }
      }
      if (kind && pname && header) {
        const token = namespaceOf(pname.ns)?.token;
        const field = token && HEADER_TOKENS.has(token) ? HEADER_FIELDS[pname.local] : undefined;
        const v = intern(pattrs.resource ?? textOf(p));
        if (field === 'created') header.created ??= v;
        else if (field === 'profile') header.profiles.push(v);
        else if (field === 'authority') header.modelingAuthoritySet ??= v;
        else if (field === 'dependentOn') header.dependentOn.push(v);
        else if (token === 'dcat' && pname.local === 'keyword') (header.keywords ??= []).push(v);
      }
    }
    if (pv.length) obj.p = pv.slice();
    if (rv.length) obj.r = rv.slice();
    if (kind) {
      const h = header!;
      const created = kind === 'md:FullModel' ? 'md:Model.created' : 'its creation time (dcterms:issued, prov:generatedAtTime)';
      if (!rawId || !/^urn:uuid:[0-9a-f-]{36}$/i.test(rawId))
        issues.push({ code: 'CIM-HEADER-INVALID', message: `${kind} rdf:about "${rawId ?? ''}" is not a urn:uuid.`, ...loc });
      if (!h.created || Number.isNaN(Date.parse(h.created)))
        issues.push({ code: 'CIM-HEADER-INVALID', message: `${created} "${h.created ?? ''}" is not a date-time.`, ...loc });
      const profileOk = h.profiles.length
        ? h.profiles.every((p) => /^[a-z][a-z0-9+.-]*:/i.test(p))
        : kind !== 'md:FullModel' && !!h.keywords?.length;
      if (!profileOk)
        issues.push({
          code: 'CIM-HEADER-INVALID',
          message:
            kind === 'md:FullModel'
              ? `md:Model.profile ${JSON.stringify(h.profiles)} is not a profile URI.`
              : `${kind} names no profile (dcterms:conformsTo URI or dcat:keyword): ${JSON.stringify(h.profiles)}.`,
          ...loc,
        });
      return undefined;
    }
    const mrid = obj.first('cim:IdentifiedObject.mRID');
    if (mrid !== undefined && rawId && normaliseId(mrid) !== key) {
      issues.push({
        code: 'CIM-MRID-MISMATCH',
        message: `${className} ${rawId}: IdentifiedObject.mRID ${mrid} differs from its RDF identifier.`,
        object: key,
        ...loc,
      });
    }
    objects.push(obj);
    return key;
  };

  /** Read what the window holds; stops where an element runs past its end (`final`: there is no more). */
  const scan = (final: boolean) => {
    for (;;) {
      if (!sc.skipSpace()) return;
      const from = sc.pos;
      const s = sc.s;
      try {
        if (state === 'prolog') {
          if (sc.skipMisc()) continue;
          if (s.charCodeAt(from) !== 60) throw new ScanError('MALFORMED', sc.base + from, 'Text before the root element.');
          const { node, empty } = sc.startTag();
          rootStarted(node);
          state = empty ? 'after' : 'body';
        } else if (state === 'body') {
          if (s.charCodeAt(from) !== 60) {
            // Text directly inside rdf:RDF says nothing.
            const lt = s.indexOf('<', from);
            sc.pos = lt === -1 ? s.length : lt;
          } else if (s.charCodeAt(from + 1) === 47) {
            const name = sc.endTag();
            if (name !== rootTag)
              throw new ScanError('MALFORMED', sc.base + from, `Expected closing tag '${rootTag}' instead of closing tag '${name}'.`);
            state = 'after';
          } else if (!sc.skipMisc()) {
            if (s.startsWith('<![CDATA[', from)) {
              const e = s.indexOf(']]>', from + 9);
              if (e === -1) throw MORE;
              sc.pos = e + 3;
            } else nodeElement(sc.element(2), rootScope);
          }
        } else if (!sc.skipMisc()) throw new ScanError('MALFORMED', sc.base + from, 'Content after the root element.');
      } catch (e) {
        if (e !== MORE) throw e instanceof ScanError ? fault(e) : e;
        sc.pos = from;
        if (final) throw fault(new ScanError('MALFORMED', sc.base + s.length, 'The document ends inside an element, comment or tag.'));
        want = 2 * (s.length - from);
        return;
      }
    }
  };
  const append = (text: string) => {
    if (!started) {
      started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    lines.add(text, sc.base + sc.s.length);
    const rest = sc.pos ? sc.s.slice(sc.pos) : sc.s;
    sc.base += sc.pos;
    sc.pos = 0;
    sc.s = rest + text;
    if (!declChecked && (sc.s.length >= 256 || sc.s.includes('>'))) {
      declChecked = true;
      const decl = /^<\?xml[^>]*encoding\s*=\s*["']([^"']+)["']/.exec(sc.s);
      if (decl && !/^utf-?8$/i.test(decl[1]))
        throw new CimParseError('CIM-XML-ENCODING', `${file} declares encoding ${decl[1]}; send UTF-8.`);
    }
  };
  let declChecked = false;
  const decode = (chunk: Uint8Array, stream: boolean) => {
    try {
      return decoder.decode(chunk, { stream });
    } catch {
      throw new CimParseError('CIM-XML-ENCODING', `${file} is not UTF-8.`);
    }
  };

  return {
    push(chunk) {
      bytes += typeof chunk === 'string' ? chunk.length : chunk.byteLength;
      if (bytes > maxBytes)
        throw new CimParseError('CIM-XML-TOO-LARGE', `${file} is more than ${maxBytes} bytes; at most ${maxBytes} are accepted.`);
      append(typeof chunk === 'string' ? chunk : decode(chunk, true));
      if (sc.s.length - sc.pos >= want) {
        want = 0;
        scan(false);
      }
    },
    end() {
      append(decode(new Uint8Array(0), false));
      declChecked = true;
      scan(true);
      if (state !== 'after')
        throw fault(
          new ScanError(
            'MALFORMED',
            sc.base + sc.s.length,
            state === 'prolog' ? 'The document has no root element.' : `The root element ${rootTag} is not closed.`,
          ),
        );
      sc.s = '';
      return finish();
    },
  };

  function finish(): CimDocument {
    for (const [ns, u] of unknownNs) {
      const classes = [...u.classes].map(([c, n]) => `${c} ×${n}`);
      const props = [...u.properties].sort();
      const read = classes.length || props.length;
      issues.push({
        code: 'CIM-NAMESPACE-UNKNOWN',
        message:
          `${file}: namespace ${ns} is not one the hub knows (${u.elements} element(s)); ` +
          (read
            ? `read by local name as CIM: ${[...(classes.length ? [`classes ${classes.join(', ')}`] : []), ...(props.length ? [`properties ${props.join(', ')}`] : [])].join('; ')}.`
            : 'nothing under it was read.'),
        namespace: ns,
        ...u.at,
      });
    }
    for (const [written, v] of variants) {
      issues.push({
        code: 'CIM-VENDOR-VARIANT',
        message: `${file}: ${v.n} × ${written} read as ${v.standard} (a spelling some tools write; the standard is ${v.standard}).`,
        ...v.at,
      });
    }
    const declared = header ? header.profiles.length + (header.keywords?.length ?? 0) : 0;
    const describesOnly = declared === 0 && objects.length > 0 && !objects.some(carriesIdentity);
    if (describesOnly) for (const o of objects) o.addsOnly = true;
    return { file, header, objects, issues, namespaces: rootNs, ...(describesOnly ? { describesOnly } : {}) };
  }
}
