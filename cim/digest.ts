import { extractAssets, type ExtractedAsset } from './extract';
import { classCounts, mergeDocuments } from './model';
import { parseCimXml, type CimDocument, type CimHeaderInfo, type CimIssue } from './parser';
import type { PowerUnit } from './profile';

/**
 * One import's files → what the register uses of them, as plain data (arrays and records of
 * strings and numbers, no Map, no class): it is what a parser running in another thread or
 * isolate hands back, by structured clone, for the database work.
 */
export interface CimFileInput {
  name: string;
  content: string | Uint8Array;
}

export interface ParsedModel {
  headers: CimHeaderInfo[];
  issues: CimIssue[];
  /** Objects in the merged model, and how many of each class. */
  objects: number;
  classes: Record<string, number>;
  /** One entry per equipment (connection or consumer), in document order. */
  equipment: ExtractedAsset[];
  bytes: number;
}

export interface DigestOptions {
  unit: PowerUnit;
  maxBytes: number;
}

const sizeOf = (c: string | Uint8Array) => (typeof c === 'string' ? c.length : c.byteLength);

/** Parse, merge and extract; throws CimParseError for a document the parser refuses. */
export function digestCimFiles(files: CimFileInput[], o: DigestOptions, parsed?: (bytes: number, objects: number) => void): ParsedModel {
  const docs: CimDocument[] = [];
  let bytes = 0;
  let objects = 0;
  for (const f of files) {
    const doc = parseCimXml(f.content, f.name, { maxBytes: o.maxBytes });
    docs.push(doc);
    bytes += sizeOf(f.content);
    objects += doc.objects.length;
    parsed?.(bytes, objects);
  }
  const model = mergeDocuments(docs);
  return {
    headers: model.headers,
    issues: model.issues,
    objects: model.objects.size,
    classes: classCounts(model),
    equipment: extractAssets(model, { unit: o.unit }),
    bytes,
  };
}
