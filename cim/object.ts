/**
 * One object of a parsed CIM model, held compactly (cim/parser.ts makes them, cim/model.ts merges
 * them): its values and references in flat arrays, its identifier as a form of its key where it is
 * one, its places as offsets into its document's line index.
 */

export interface SourceLocation {
  file: string;
  line: number;
  col: number;
}

export interface CimRef {
  key: string;
  raw: string;
  at: SourceLocation;
}

/** A document's line starts: the line and column of any offset in it. */
export class CimSource {
  /** Offsets at which lines start, ascending. */
  readonly starts: number[] = [0];
  constructor(readonly file: string) {}
  /** The text at document offset `at` was read. */
  add(text: string, at: number): void {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) this.starts.push(at + i + 1);
  }
  locate(offset: number): SourceLocation {
    const starts = this.starts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { file: this.file, line: lo + 1, col: offset - starts[lo] + 1 };
  }
}

/** A class as read: shared by every object of it. */
export interface CimClass {
  /** Namespace IRI and local name (canonical spelling); the spelling written when it differs. */
  classIri: string;
  className: string;
  writtenClassName?: string;
  /** `cim:PowerElectronicsConnection` for known namespaces, the full IRI otherwise. */
  classKey: string;
}

/** A place in a document: an offset into the object's own source, or (merged from another file) a location. */
type Place = number | SourceLocation;

/**
 * Identifiers as written, held as a number when they follow from the key: a prefix (none, `#`,
 * `_`, `#_`, `urn:uuid:`, `#urn:uuid:`) and the key in lower or upper case. Nearly every
 * identifier is one of these, so a model keeps one string per object (its key), not two.
 */
const ID_PREFIXES = ['', '#', '_', '#_', 'urn:uuid:', '#urn:uuid:'];
/** The identifier as written, as a form of `key` (a small number) where it is one, else itself. */
export function idForm(raw: string, key: string): string | number {
  const n = raw.length - key.length;
  const i = n < 0 ? -1 : ID_PREFIXES.indexOf(raw.slice(0, n));
  if (i === -1) return raw;
  if (raw.endsWith(key)) return 2 * i + 1;
  return raw === ID_PREFIXES[i] + key.toUpperCase() ? 2 * i + 2 : raw;
}
/** The identifier `idForm` gave, as written. */
export function idWritten(w: string | number, key: string): string {
  if (typeof w === 'string') return w;
  const prefix = ID_PREFIXES[(w - 1) >> 1];
  return prefix + ((w - 1) & 1 ? key.toUpperCase() : key);
}

/** CimObject's flags. */
const DEFINED = 1;
const ADDS_ONLY = 2;
const TAKEN = 4;
/** Values and references of an object that has none: shared, and replaced before anything is added. */
export const NO_VALUES: string[] = Object.freeze([]) as unknown as string[];
/** What few objects have: identifiers after the first, places after the first. */
interface CimObjectMore {
  ids?: string[];
  places?: SourceLocation[];
}

/**
 * One object of the model, held compactly (a 1M-object model is held at once): values and
 * references in flat arrays (one shared empty where there are none), places as offsets into the
 * document's line index, the class shared, the identifier as a form of the key where it is one
 * (idForm), flags in one number. `properties`, `references`, `ids` and `at` build the readable form
 * on each read; the model's functions (prop, refs, refsAny, values) read the flat arrays directly.
 */
export class CimObject {
  /**
   * Literal values: property key (canonical), value, key, value, ... in document order. An mRID that
   * is a form of the key (idForm) is held as that number; the readers below give it as written.
   */
  p: (string | number)[] = NO_VALUES;
  /** References: property key, target key, target as written (idForm of the target key), place, ... in document order. */
  r: (string | Place)[] = NO_VALUES;
  /** The first identifier as written (idForm), or undefined. */
  private w: string | number | undefined;
  /** DEFINED, ADDS_ONLY, TAKEN. */
  private f: number;
  private more: CimObjectMore | undefined = undefined;
  constructor(
    /** Comparison key: without `#`, `urn:uuid:`, `_`, lowercase. */
    readonly key: string,
    /** The first identifier as written. */
    id: string | undefined,
    public cls: CimClass,
    readonly src: CimSource,
    /** Where the object is defined or described first. */
    readonly place: Place,
    /** True once an rdf:ID (a definition, not only a description) was seen. */
    defined: boolean,
  ) {
    this.w = id === undefined ? undefined : idForm(id, key);
    this.f = defined ? DEFINED : 0;
  }

  /** The first identifier as written. */
  get id(): string | undefined {
    return this.w === undefined ? undefined : idWritten(this.w, this.key);
  }
  set id(v: string | undefined) {
    this.w = v === undefined ? undefined : idForm(v, this.key);
  }
  /** True once an rdf:ID (a definition, not only a description) was seen. */
  get defined(): boolean {
    return (this.f & DEFINED) !== 0;
  }
  set defined(v: boolean) {
    this.f = v ? this.f | DEFINED : this.f & ~DEFINED;
  }
  /**
   * Described only in files that define nothing (`describesOnly` of CimDocument): absolute
   * identifiers (`rdf:about="urn:uuid:…"`) that add properties to objects defined elsewhere.
   */
  get addsOnly(): boolean | undefined {
    return (this.f & ADDS_ONLY) !== 0 ? true : undefined;
  }
  set addsOnly(v: boolean | undefined) {
    this.f = v ? this.f | ADDS_ONLY : this.f & ~ADDS_ONLY;
  }
  /** Something was taken from the object by the extraction (the report's `used` counts). */
  get taken(): boolean {
    return (this.f & TAKEN) !== 0;
  }
  set taken(v: boolean) {
    this.f = v ? this.f | TAKEN : this.f & ~TAKEN;
  }
  /** Identifiers as written after the first (rdf:ID, rdf:about), each once. */
  get moreIds(): string[] | undefined {
    return this.more?.ids;
  }
  set moreIds(v: string[] | undefined) {
    (this.more ??= {}).ids = v;
  }
  /** Places after the first (the same object described in other files). */
  get morePlaces(): SourceLocation[] | undefined {
    return this.more?.places;
  }
  set morePlaces(v: SourceLocation[] | undefined) {
    (this.more ??= {}).places = v;
  }

  get classIri(): string {
    return this.cls.classIri;
  }
  get className(): string {
    return this.cls.className;
  }
  get classKey(): string {
    return this.cls.classKey;
  }
  get writtenClassName(): string | undefined {
    return this.cls.writtenClassName;
  }
  /** Identifiers as written, each once. */
  get ids(): string[] {
    const id = this.id;
    return id === undefined ? [] : this.moreIds ? [id, ...this.moreIds] : [id];
  }
  locate(place: Place): SourceLocation {
    return typeof place === 'number' ? this.src.locate(place) : place;
  }
  /** Where the object is defined or described, per file. */
  get at(): SourceLocation[] {
    const first = this.locate(this.place);
    return this.morePlaces ? [first, ...this.morePlaces] : [first];
  }
  /** Literal properties by canonical name, values in document order. */
  get properties(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (let i = 0; i < this.p.length; i += 2) (out[this.p[i] as string] ??= []).push(this.valueAt(i + 1));
    return out;
  }
  /** References by canonical property name. */
  get references(): Record<string, CimRef[]> {
    const out: Record<string, CimRef[]> = {};
    for (let i = 0; i < this.r.length; i += 4) (out[this.r[i] as string] ??= []).push(this.refAt(i));
    return out;
  }
  /** The reference at index i of `r`. */
  refAt(i: number): CimRef {
    const key = this.r[i + 1] as string;
    return { key, raw: idWritten(this.r[i + 2] as string | number, key), at: this.locate(this.r[i + 3] as Place) };
  }
  /** The value at index i of `p`, as written. */
  private valueAt(i: number): string {
    const v = this.p[i];
    return typeof v === 'number' ? idWritten(v, this.key) : v;
  }
  /** The values of one property key, in document order. */
  values(key: string): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.p.length; i += 2) if (this.p[i] === key) out.push(this.valueAt(i + 1));
    return out;
  }
  /** The first value of one property key. */
  first(key: string): string | undefined {
    for (let i = 0; i < this.p.length; i += 2) if (this.p[i] === key) return this.valueAt(i + 1);
    return undefined;
  }
  /** The references of one property key. */
  refs(key: string): CimRef[] {
    let out: CimRef[] | undefined;
    for (let i = 0; i < this.r.length; i += 4) if (this.r[i] === key) (out ??= []).push(this.refAt(i));
    return out ?? NO_REFS;
  }
  /** Whether some property (literal or reference) has this key. */
  has(key: string): boolean {
    for (let i = 0; i < this.p.length; i += 2) if (this.p[i] === key) return true;
    for (let i = 0; i < this.r.length; i += 4) if (this.r[i] === key) return true;
    return false;
  }
}
const NO_REFS: CimRef[] = Object.freeze([]) as unknown as CimRef[];
