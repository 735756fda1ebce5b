import { eachAsset, extractOrganisations, type ExtractedAsset, type ExtractedOrganisation } from './extract';
import { USED_CLASSES, classCounts, mergeDocuments, type CimModel } from './model';
import {
  CimParseError,
  cimXmlReader,
  parseCimXml,
  type CimDocument,
  type CimHeaderInfo,
  type CimIssue,
  type CimObject,
  type CimXmlReader,
} from './parser';
import type { PowerUnit } from './profile';

/**
 * One import's files → what the register uses of them, as plain data (arrays and records of
 * strings and numbers, no Map, no class): it is what a parser running in another thread or
 * isolate hands back, by structured clone, for the database work.
 */
export interface CimFileInput {
  name: string;
  content: string | Uint8Array | CimStream;
}

/**
 * A file read in parts as it is needed (an import job's file, from the database), never whole:
 * `bytes` is its size, `read` yields its parts in order.
 */
export interface CimStream {
  bytes: number;
  read(): AsyncIterable<Uint8Array>;
}

export interface ParsedModel {
  headers: CimHeaderInfo[];
  issues: CimIssue[];
  /** Objects in the merged model, and how many of each class. */
  objects: number;
  classes: Record<string, number>;
  /**
   * Objects per class from which something was taken. A class is here exactly when it is used;
   * every class of `classes` that is not has a CIM-CLASS-UNKNOWN or CIM-CLASS-NOT-USED issue.
   */
  used: Record<string, number>;
  /** One entry per equipment (connection or consumer), in document order. */
  equipment: ExtractedAsset[];
  /** Every Organisation of the model, with its roles and identifiers. */
  organisations: ExtractedOrganisation[];
  bytes: number;
}

export interface DigestOptions {
  unit: PowerUnit;
  maxBytes: number;
  /**
   * Each file's content is taken out of `files` as it is read (the entry keeps its name, its
   * content becomes ''), so the bytes can be collected once decoded: for a caller that holds them
   * nowhere else (the parse thread), a large model is then held once, as text, not also as bytes.
   */
  release?: boolean;
  /**
   * What the import does with the equipment. An enrich reads neither their registration body
   * (`input`) nor its `problems`: a parser that hands the equipment across a thread may leave them
   * empty then (src/node/cim-parser.ts does, which halves what a large model's equipment holds).
   */
  mode?: 'enrich' | 'bulk-load';
}

export const sizeOf = (c: string | Uint8Array | CimStream) =>
  typeof c === 'string' ? c.length : c instanceof Uint8Array ? c.byteLength : c.bytes;

/** Parse, merge and extract; throws CimParseError for a document the parser refuses. */
export function digestCimFiles(files: CimFileInput[], o: DigestOptions, parsed?: (bytes: number, objects: number) => void): ParsedModel {
  return whole(digestCimFilesInParts(files, o, parsed));
}

/**
 * A digest handed on as it is made: the equipment one at a time (`equipment`, read to its end
 * first), then the rest (`rest`). Only the model and the equipment not yet handed on are held, never
 * every equipment at once beside the model.
 */
export interface DigestInParts {
  equipment: Iterable<ExtractedAsset>;
  /** The headers, issues, counts and organisations: once `equipment` has been read to its end. */
  rest(): Omit<ParsedModel, 'equipment'>;
}

/** The whole digest, every equipment in one list. */
function whole(d: DigestInParts): ParsedModel {
  const equipment = [...d.equipment];
  return { ...d.rest(), equipment };
}

/** digestCimFiles, handed on in parts (DigestInParts). */
export function digestCimFilesInParts(
  files: CimFileInput[],
  o: DigestOptions,
  parsed?: (bytes: number, objects: number) => void,
): DigestInParts {
  const docs: CimDocument[] = [];
  let bytes = 0;
  let objects = 0;
  for (let i = 0; i < files.length; i++) {
    const { name } = files[i];
    const size = sizeOf(files[i].content);
    const take = () => {
      const c = files[i].content;
      if (typeof c !== 'string' && !(c instanceof Uint8Array)) throw new Error(`${name} is streamed: read it with cimDigester.`);
      if (o.release) files[i] = { name, content: '' };
      return c;
    };
    const doc = parseCimXml(take, name, { maxBytes: o.maxBytes });
    docs.push(doc);
    bytes += size;
    objects += doc.objects.length;
    parsed?.(bytes, objects);
  }
  return digestDocuments(docs, bytes, o);
}

/**
 * The same digest for files that arrive in parts (streamed): `push` each part of each file in
 * order (a new `name` starts a new file), then `finish`. Only the window being read and the
 * objects read so far are held, never a file's text.
 */
export function cimDigester(o: DigestOptions): {
  push(name: string, part: Uint8Array): void;
  finish(): ParsedModel;
  /** finish, handed on in parts (DigestInParts). */
  finishInParts(): DigestInParts;
  readonly bytes: number;
  readonly objects: number;
} {
  const docs: CimDocument[] = [];
  let current: { name: string; reader: CimXmlReader } | undefined;
  let bytes = 0;
  let total = 0;
  let objects = 0;
  const close = () => {
    if (!current) return;
    const doc = current.reader.end();
    docs.push(doc);
    objects += doc.objects.length;
    current = undefined;
  };
  return {
    push(name, part) {
      if (current?.name !== name) {
        close();
        current = { name, reader: cimXmlReader(name, { maxBytes: o.maxBytes }) };
      }
      total += part.byteLength;
      if (total > o.maxBytes)
        throw new CimParseError('CIM-XML-TOO-LARGE', `The import is more than ${o.maxBytes} bytes; at most ${o.maxBytes}.`);
      bytes += part.byteLength;
      current.reader.push(part);
    },
    finish() {
      return whole(this.finishInParts());
    },
    finishInParts() {
      close();
      return digestDocuments(docs, bytes, o);
    },
    get bytes() {
      return bytes;
    },
    get objects() {
      return objects;
    },
  };
}

function digestDocuments(docs: CimDocument[], bytes: number, o: DigestOptions): DigestInParts {
  let model: CimModel | undefined = mergeDocuments(docs);
  docs.length = 0;
  let read = false;
  const equipment = eachAsset(model, { unit: o.unit });
  return {
    equipment: {
      *[Symbol.iterator]() {
        yield* equipment;
        read = true;
      },
    },
    rest() {
      if (!read || !model) throw new Error('The equipment of a digest is read to its end first, and its rest once.');
      const m = model;
      model = undefined; // once the rest is made, nothing here holds the model
      const organisations = extractOrganisations(m);
      const classes = classCounts(m);
      const used = usedCounts(m);
      return { headers: m.headers, issues: classIssues(m, classes, used), objects: m.objects.size, classes, used, organisations, bytes };
    },
  };
}

/** Objects per class from which something was taken (marked `taken` by the extraction). */
export function usedCounts(model: CimModel): Record<string, number> {
  const used: Record<string, number> = {};
  for (const o of model.objects.values()) if (o.taken) used[o.className] = (used[o.className] ?? 0) + 1;
  return used;
}

/**
 * The model's issues with the class findings made true of what was taken: a class is reported
 * not used (CIM-CLASS-UNKNOWN for a class the import does not read, CIM-CLASS-NOT-USED for one it
 * reads) exactly when nothing was taken from it.
 */
function classIssues(model: CimModel, classes: Record<string, number>, used: Record<string, number>) {
  const issues = model.issues.filter((i) => i.code !== 'CIM-CLASS-UNKNOWN' || !i.className || !used[i.className]);
  const reported = new Set(issues.filter((i) => i.code === 'CIM-CLASS-UNKNOWN').map((i) => i.className));
  const firstOf = new Map<string, CimObject>();
  for (const o of model.objects.values()) if (!firstOf.has(o.className)) firstOf.set(o.className, o);
  for (const [cls, n] of Object.entries(classes)) {
    if (used[cls] || reported.has(cls)) continue;
    const first = firstOf.get(cls);
    issues.push({
      code: USED_CLASSES.has(cls) ? 'CIM-CLASS-NOT-USED' : 'CIM-CLASS-UNKNOWN',
      message: USED_CLASSES.has(cls)
        ? `${n} object(s) of class ${cls}: nothing was taken from them (nothing the register matches or records links to them).`
        : `${n} object(s) of class ${cls} kept but not used by the register.`,
      className: cls,
      ...first?.at[0],
    });
  }
  return issues;
}
