import { CIM_CLASSES_READ } from './namespaces';
import {
  NO_VALUES,
  parseCimXml,
  type CimDocument,
  type CimHeaderInfo,
  type CimIssue,
  type CimObject,
  type CimRef,
  type ParseLimits,
  type SourceLocation,
} from './parser';

/**
 * Several files of one model (EQ + SSH + ...) merged into one bag: an rdf:about description adds
 * its properties to the object an rdf:ID defines, whichever file comes first.
 */
export interface CimModel {
  headers: CimHeaderInfo[];
  objects: Map<string, CimObject>;
  issues: CimIssue[];
  /**
   * Every file's header declares only profiles that add to objects defined elsewhere (an SSH alone,
   * written with absolute identifiers): the objects are defined in files this import does not have.
   */
  definedElsewhere?: boolean;
}

/** Profiles that only add values to objects another file defines: steady-state hypothesis, state variables. */
const ADDS_ONLY = /SteadyStateHypothesis|StateVariables|^SSH$|^SV$/i;
/** A header that declares profiles, each one of those. */
const addsOnly = (h: CimHeaderInfo) =>
  h.profiles.length + (h.keywords?.length ?? 0) > 0 && [...h.profiles, ...(h.keywords ?? [])].every((p) => ADDS_ONLY.test(p));

/** Classes the register reads; any other class is kept in the bag and reported as not used. */
export const USED_CLASSES = CIM_CLASSES_READ;

/**
 * An object only described and defined by no file here: `rdf:about="#…"` (a fragment of some
 * other document), or described only in files that define nothing (CimDocument.describesOnly).
 */
export function describedOnly(o: CimObject): boolean {
  return !o.defined && o.ids.length > 0 && (o.addsOnly === true || o.ids.every((id) => id.startsWith('#')));
}

export function mergeDocuments(docs: CimDocument[]): CimModel {
  const objects = new Map<string, CimObject>();
  const issues: CimIssue[] = [];
  const headers: CimHeaderInfo[] = [];
  for (const d of docs) {
    if (d.header) headers.push(d.header);
    issues.push(...d.issues);
    for (const o of d.objects) {
      const have = objects.get(o.key);
      if (!have) {
        objects.set(o.key, o);
        continue;
      }
      if (o.defined && have.defined && o.src.file === have.src.file) {
        issues.push({
          code: 'CIM-ID-DUPLICATE',
          message: `${o.id} is defined twice (rdf:ID); the descriptions were merged.`,
          object: o.key,
          ...o.at[0],
        });
      }
      if (o.classKey !== have.classKey) {
        if (o.defined && !have.defined) have.cls = o.cls;
        else if (o.defined === have.defined)
          issues.push({
            code: 'CIM-CLASS-CONFLICT',
            message: `${o.id} is a ${have.className} and a ${o.className}; kept ${have.className}.`,
            object: o.key,
            ...o.at[0],
          });
      }
      have.defined ||= o.defined;
      if (have.addsOnly && !o.addsOnly) have.addsOnly = undefined;
      for (const id of o.ids) {
        if (have.id === undefined) have.id = id;
        else if (id !== have.id && !have.moreIds?.includes(id)) (have.moreIds ??= []).push(id);
      }
      (have.morePlaces ??= []).push(...o.at);
      mergeValues(have, o);
    }
  }
  // Dangling references and classes the register does not read.
  const notUsed = new Map<string, { n: number; first: CimObject }>();
  for (const o of objects.values()) {
    for (let i = 0; i < o.r.length; i += 4) {
      if (!objects.has(o.r[i + 1] as string)) {
        const r = o.refAt(i);
        issues.push({
          code: 'CIM-REFERENCE-DANGLING',
          message: `${o.className} ${o.id ?? o.key}: ${o.r[i] as string} points to ${r.raw}, which no file of the model defines.`,
          object: o.key,
          ...r.at,
        });
      }
    }
    const known = o.classKey.startsWith('cim:') && USED_CLASSES.has(o.className);
    if (!known) {
      const e = notUsed.get(o.classKey);
      if (e) e.n++;
      else notUsed.set(o.classKey, { n: 1, first: o });
    }
  }
  for (const [cls, { n, first }] of notUsed) {
    issues.push({
      code: 'CIM-CLASS-UNKNOWN',
      message: `${n} object(s) of class ${cls} kept but not used by the register.`,
      className: first.className,
      ...first.at[0],
    });
  }
  // Objects the files only describe: their definitions are in a file this import does not have.
  let partial = 0;
  let firstPartial: CimObject | undefined;
  for (const o of objects.values())
    if (describedOnly(o)) {
      partial++;
      firstPartial ??= o;
    }
  // Files whose headers all declare only such profiles (SSH, SV) define nothing either.
  const definedElsewhere = objects.size > 0 && docs.length > 0 && docs.every((d) => d.header && addsOnly(d.header));
  if (definedElsewhere && !firstPartial) {
    issues.push({
      code: 'CIM-MODEL-PARTIAL',
      message:
        `The files declare only the profiles ${JSON.stringify([...new Set(headers.flatMap((h) => [...h.profiles, ...(h.keywords ?? [])]))])}, ` +
        `which only add to objects other files define: their ${objects.size} object(s) are defined in files this import does not have; nothing is read from them.`,
      file: docs[0].file,
    });
  }
  if (firstPartial) {
    const profiles = headers.flatMap((h) => h.profiles);
    const ssh = profiles.some((p) => /SteadyStateHypothesis/i.test(p)) && !profiles.some((p) => /Equipment/i.test(p));
    const byContent = docs.filter((d) => d.describesOnly).map((d) => d.file);
    issues.push({
      code: 'CIM-MODEL-PARTIAL',
      message: firstPartial.addsOnly
        ? `${partial} of ${objects.size} object(s) are only described and defined by no file of this import: ` +
          (byContent.length === 1 ? `${byContent[0]} defines nothing` : `${byContent.join(', ')} define nothing`) +
          ' (no profile in a header, no rdf:ID, no IdentifiedObject name or mRID; objects named by rdf:about only), so ' +
          (byContent.length === 1 ? 'it only adds' : 'they only add') +
          ' properties to objects defined elsewhere, like a Steady State Hypothesis (SSH) without its Equipment (EQ) file; nothing is read from them.'
        : `${partial} of ${objects.size} object(s) are only described (rdf:about="#…") and defined by no file of this import` +
          (ssh ? ': a Steady State Hypothesis (SSH) without the Equipment (EQ) file it adds to' : '') +
          '; nothing is read from them.',
      object: firstPartial.key,
      ...firstPartial.at[0],
    });
  }
  return { headers, objects, issues, ...(definedElsewhere ? { definedElsewhere } : {}) };
}

/** Add o's values and references to have's: each value once per property, each target once per property. */
function mergeValues(have: CimObject, o: CimObject): void {
  // An object read with no values shares one empty list: it gets its own before any is added.
  if (have.p === NO_VALUES && o.p.length) have.p = [];
  if (have.r === NO_VALUES && o.r.length) have.r = [];
  const p = have.p;
  const n = p.length;
  outer: for (let i = 0; i < o.p.length; i += 2) {
    for (let j = 0; j < n; j += 2) if (p[j] === o.p[i] && p[j + 1] === o.p[i + 1]) continue outer;
    p.push(o.p[i], o.p[i + 1]);
  }
  const r = have.r;
  const m = r.length;
  next: for (let i = 0; i < o.r.length; i += 4) {
    for (let j = 0; j < m; j += 4) if (r[j] === o.r[i] && r[j + 1] === o.r[i + 1]) continue next;
    // A place in another file is kept as its location.
    const place = o.r[i + 3] as number | SourceLocation;
    r.push(o.r[i], o.r[i + 1], o.r[i + 2], o.src === have.src ? place : o.locate(place));
  }
}

export function parseCimModel(files: { name: string; content: string | Uint8Array }[], limits: ParseLimits = {}): CimModel {
  return mergeDocuments(files.map((f) => parseCimXml(f.content, f.name, limits)));
}

/** Objects per class name (canonical spelling). */
export function classCounts(model: CimModel): Record<string, number> {
  const out: Record<string, number> = {};
  for (const o of model.objects.values()) out[o.className] = (out[o.className] ?? 0) + 1;
  return out;
}

/** First literal value of a property, by local name in any CIM namespace or by canonical key. */
/** The spellings a local name is read in, in order: as given, `cim:`, `eu:`. */
const spellings = new Map<string, [string, string, string]>();
const spelled = (name: string) => {
  let v = spellings.get(name);
  if (!v) spellings.set(name, (v = [name, `cim:${name}`, `eu:${name}`]));
  return v;
};

export function prop(o: CimObject, name: string): string | undefined {
  const [a, b, c] = spelled(name);
  return o.first(a) ?? o.first(b) ?? o.first(c);
}

export function refs(o: CimObject, name: string): CimRef[] {
  const [a, b] = spelled(name);
  const r = o.refs(a);
  return r.length ? r : o.refs(b);
}

/** The keys of the objects a property refers to (as refs, without their places). */
export function refKeys(o: CimObject, name: string): string[] {
  const [a, b] = spelled(name);
  let out: string[] | undefined;
  for (let i = 0; i < o.r.length; i += 4) if (o.r[i] === a) (out ??= []).push(o.r[i + 1] as string);
  if (out) return out;
  for (let i = 0; i < o.r.length; i += 4) if (o.r[i] === b) (out ??= []).push(o.r[i + 1] as string);
  return out ?? [];
}

/** The keys of the objects a property refers to in any of these spellings (canonical keys), first found wins. */
export function refKeysAny(o: CimObject, keys: readonly string[]): string[] {
  for (const k of keys) {
    let out: string[] | undefined;
    for (let i = 0; i < o.r.length; i += 4) if (o.r[i] === k) (out ??= []).push(o.r[i + 1] as string);
    if (out) return out;
  }
  return [];
}

/** References of a property in any of these spellings (canonical keys), first found wins. */
export function refsAny(o: CimObject, keys: readonly string[]): CimRef[] {
  for (const k of keys) {
    const r = o.refs(k);
    if (r.length) return r;
  }
  return [];
}

/**
 * Lists of objects by key. A list of one (what nearly every key of a large model's index has) is
 * held as the object itself: a 1M-object model's indexes then hold no array per key.
 */
export class ObjectIndex<T extends object> {
  private readonly m = new Map<string, T | T[]>();
  get size(): number {
    return this.m.size;
  }
  /** Add `v` to the list of `k` (once, with `once`, if it is there already). */
  add(k: string, v: T, once = false): void {
    const have = this.m.get(k);
    if (have === undefined) this.m.set(k, v);
    else if (Array.isArray(have)) {
      if (!once || !have.includes(v)) have.push(v);
    } else if (!once || have !== v) this.m.set(k, [have, v]);
  }
  /** The list of `k` (not to be changed), or undefined. */
  get(k: string): readonly T[] | undefined {
    const v = this.m.get(k);
    return v === undefined ? undefined : Array.isArray(v) ? v : [v];
  }
  has(k: string): boolean {
    return this.m.has(k);
  }
}

/** Objects pointing at `target` through `property` (index built on demand). */
export function inverseIndex(model: CimModel, property: string): ObjectIndex<CimObject> {
  const idx = new ObjectIndex<CimObject>();
  for (const o of model.objects.values()) for (const k of refKeys(o, property)) idx.add(k, o);
  return idx;
}

/**
 * Unit ↔ connection pairs, whichever direction the file wrote: `PowerElectronicsUnit.PowerElectronicsConnection`
 * (CIM100) or `PowerElectronicsConnection.PowerElectronicsUnit` (CIMHub).
 */
export function unitLinks(model: CimModel): ObjectIndex<CimObject> {
  const byConnection = new ObjectIndex<CimObject>();
  for (const o of model.objects.values()) {
    for (const k of refKeys(o, 'PowerElectronicsUnit.PowerElectronicsConnection')) if (model.objects.has(k)) byConnection.add(k, o, true);
    for (const k of refKeys(o, 'PowerElectronicsConnection.PowerElectronicsUnit')) {
      const u = model.objects.get(k);
      if (u) byConnection.add(o.key, u, true);
    }
  }
  return byConnection;
}
