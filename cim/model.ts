import { CIM_CLASSES_READ } from './namespaces';
import { parseCimXml, type CimDocument, type CimHeaderInfo, type CimIssue, type CimObject, type CimRef, type ParseLimits } from './parser';

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
      if (o.defined && have.defined && o.at[0].file === have.at[0].file) {
        issues.push({
          code: 'CIM-ID-DUPLICATE',
          message: `${o.ids[0]} is defined twice (rdf:ID); the descriptions were merged.`,
          object: o.key,
          ...o.at[0],
        });
      }
      if (o.classKey !== have.classKey) {
        if (o.defined && !have.defined)
          Object.assign(have, { classIri: o.classIri, className: o.className, classKey: o.classKey, writtenClassName: o.writtenClassName });
        else if (o.defined === have.defined)
          issues.push({
            code: 'CIM-CLASS-CONFLICT',
            message: `${o.ids[0]} is a ${have.className} and a ${o.className}; kept ${have.className}.`,
            object: o.key,
            ...o.at[0],
          });
      }
      have.defined ||= o.defined;
      if (have.addsOnly && !o.addsOnly) delete have.addsOnly;
      for (const id of o.ids) if (!have.ids.includes(id)) have.ids.push(id);
      have.at.push(...o.at);
      for (const [k, vs] of Object.entries(o.properties)) {
        const into = (have.properties[k] ??= []);
        for (const v of vs) if (!into.includes(v)) into.push(v);
      }
      for (const [k, rs] of Object.entries(o.references)) {
        const into = (have.references[k] ??= []);
        for (const r of rs) if (!into.some((x) => x.key === r.key)) into.push(r);
      }
    }
  }
  // Dangling references and classes the register does not read.
  const notUsed = new Map<string, { n: number; first: CimObject }>();
  for (const o of objects.values()) {
    for (const [prop, refs] of Object.entries(o.references)) {
      for (const r of refs) {
        if (!objects.has(r.key))
          issues.push({
            code: 'CIM-REFERENCE-DANGLING',
            message: `${o.className} ${o.ids[0] ?? o.key}: ${prop} points to ${r.raw}, which no file of the model defines.`,
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
export function prop(o: CimObject, name: string): string | undefined {
  return (o.properties[name] ?? o.properties[`cim:${name}`] ?? o.properties[`eu:${name}`])?.[0];
}

export function refs(o: CimObject, name: string): CimRef[] {
  return o.references[name] ?? o.references[`cim:${name}`] ?? [];
}

/** References of a property in any of these spellings (canonical keys), first found wins. */
export function refsAny(o: CimObject, keys: readonly string[]): CimRef[] {
  for (const k of keys) {
    const r = o.references[k];
    if (r) return r;
  }
  return [];
}

/** Objects pointing at `target` through `property` (index built on demand). */
export function inverseIndex(model: CimModel, property: string): Map<string, CimObject[]> {
  const idx = new Map<string, CimObject[]>();
  for (const o of model.objects.values()) {
    for (const r of refs(o, property)) {
      const l = idx.get(r.key);
      if (l) l.push(o);
      else idx.set(r.key, [o]);
    }
  }
  return idx;
}

/**
 * Unit ↔ connection pairs, whichever direction the file wrote: `PowerElectronicsUnit.PowerElectronicsConnection`
 * (CIM100) or `PowerElectronicsConnection.PowerElectronicsUnit` (CIMHub).
 */
export function unitLinks(model: CimModel): Map<string, CimObject[]> {
  const byConnection = new Map<string, CimObject[]>();
  const add = (conn: string, unit: CimObject) => {
    const l = byConnection.get(conn) ?? [];
    if (!l.includes(unit)) l.push(unit);
    byConnection.set(conn, l);
  };
  for (const o of model.objects.values()) {
    for (const r of refs(o, 'PowerElectronicsUnit.PowerElectronicsConnection')) if (model.objects.has(r.key)) add(r.key, o);
    for (const r of refs(o, 'PowerElectronicsConnection.PowerElectronicsUnit')) {
      const u = model.objects.get(r.key);
      if (u) add(o.key, u);
    }
  }
  return byConnection;
}
