import { z } from '@hono/zod-openapi';
import type { Principal } from '../access/principal';
import { ASSET_STATUSES } from '../catalogue/codes';
import type { Ctx } from '../context';
import { Problem, fieldError, type FieldError } from '../http/problem';
import { fieldErrorsFromZod } from '../http/validation';
import { ULID_RE } from '../ids';
import { REJECT_COLUMNS, csvLine, csvRecords } from './csv';
import { registerAssets, type RowResult } from './service';

/**
 * Bulk import, shared by the bulk API and `fmar import`: rows numbered by their line in the file,
 * an export's read-only fields accepted, a resumed import, the valid rows kept on request, and the
 * rejects written back in the input's own format. No I/O here beyond the registration itself.
 */

export type BulkFormat = 'ndjson' | 'csv';
/** stop: one bad row and nothing of the batch is written (the default); skip: the valid rows are written. */
export type OnError = 'stop' | 'skip';
export const ON_ERROR = ['stop', 'skip'] as const;

/** One row of the input: the 1-based line of the file it starts on, what was read, and why it could not be read. */
export interface BulkRecord {
  line: number;
  value?: unknown;
  problem?: FieldError;
  raw: string | string[];
}

/** Fields a rejects file adds to NDJSON rows (the CSV columns are REJECT_COLUMNS); an import ignores them. */
const REJECT_FIELDS = ['_row', '_errors', '_text'];

/** An NDJSON line → record; a blank line is no record. */
export function ndjsonRecord(text: string, line: number): BulkRecord | undefined {
  const t = text.trim();
  if (!t) return undefined;
  try {
    return { line, value: JSON.parse(t), raw: text };
  } catch {
    return { line, raw: text, problem: fieldError('(row)', 'REQUEST-MALFORMED-JSON', `Line ${line} is not valid JSON.`) };
  }
}

/**
 * A request body → header (CSV) and records. With onError=stop a line that cannot be read refuses
 * the whole body (400, naming the line); with skip it is one rejected row among the others.
 */
export function parseBulkText(format: BulkFormat, text: string, onError: OnError): { header: string[]; records: BulkRecord[] } {
  let header: string[] = [];
  let records: BulkRecord[];
  if (format === 'csv') {
    const parsed = csvRecords(text);
    header = parsed.header;
    records = parsed.records.map((r) => ({ line: r.line, value: r.value, problem: r.problem, raw: r.cells }));
  } else {
    records = text
      .split('\n')
      .map((l, i) => ndjsonRecord(l, i + 1))
      .filter((r): r is BulkRecord => r !== undefined);
  }
  const unreadable = onError === 'stop' ? records.find((r) => r.problem) : undefined;
  if (unreadable) throw new Problem(unreadable.problem!.code, unreadable.problem!.detail, { line: unreadable.line });
  return { header, records };
}

/** The media type of a bulk body → its format; anything else is 415. */
export function bulkFormatOf(contentType: string): BulkFormat {
  const type = contentType.split(';')[0].trim().toLowerCase();
  if (type === 'text/csv') return 'csv';
  if (type === 'application/x-ndjson' || type === 'application/ndjson' || type === 'application/jsonl') return 'ndjson';
  throw new Problem('REQUEST-UNSUPPORTED-MEDIA-TYPE', 'Bulk registration takes application/x-ndjson or text/csv.');
}

/** An export's read-only fields: accepted on import, checked for shape, then ignored (`id` is matched on resume). */
const ExportedFields = z
  .object({
    id: z.string('ASSET-ID-FORMAT').regex(ULID_RE, 'ASSET-ID-FORMAT'),
    status: z.enum(ASSET_STATUSES, 'REQUEST-FIELD-TYPE'),
    version: z.coerce.number('REQUEST-FIELD-TYPE').int('REQUEST-FIELD-TYPE').min(1, 'REQUEST-FIELD-TYPE'),
    recordedAt: z.string('REQUEST-FIELD-TYPE').datetime({ offset: true, message: 'REQUEST-FIELD-TYPE' }),
    recordedBy: z.string('REQUEST-FIELD-TYPE'),
    deregisteredAt: z.string('REQUEST-FIELD-TYPE').datetime({ offset: true, message: 'REQUEST-FIELD-TYPE' }),
  })
  .partial();
const EXPORTED_KEYS = Object.keys(ExportedFields.shape);

const isRecord = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** `null` means "not given" on import (an export writes absent fields as null). */
function withoutNulls(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === null) continue;
    if (k === 'location' && isRecord(v)) {
      const loc = withoutNulls(v);
      if (Object.keys(loc).length) out[k] = loc;
      continue;
    }
    out[k] = v;
  }
  return out;
}

/**
 * A row as read → the registration input, the asset ID it carries, and errors in the read-only
 * fields. A de-registered asset of an export is refused: importing it would make it live again.
 */
export function importInput(value: unknown): { input: unknown; knownId?: string; errors: FieldError[] } {
  if (!isRecord(value)) return { input: value, errors: [] };
  const given = withoutNulls(value);
  const exported: Record<string, unknown> = {};
  const input: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(given)) {
    if (REJECT_FIELDS.includes(k)) continue;
    if (EXPORTED_KEYS.includes(k)) exported[k] = v;
    else input[k] = v;
  }
  if (Object.keys(exported).length === 0) return { input, errors: [] };
  const checked = ExportedFields.safeParse(exported);
  if (!checked.success) return { input, errors: fieldErrorsFromZod(checked.error, exported) };
  if (checked.data.status === 'DEREGISTERED' || checked.data.deregisteredAt) {
    return { input, errors: [fieldError('status', 'BULK-ROW-DEREGISTERED')] };
  }
  return { input, knownId: checked.data.id, errors: [] };
}

export interface ImportRunOptions {
  dryRun: boolean;
  onError: OnError;
  source: string;
  /** Keys claimed by earlier batches of the same file (the CLI keeps one across its batches). */
  seen?: Map<string, number>;
}

/**
 * Register one batch of records. Results are numbered by line and ordered by it. With onError=stop
 * a row that cannot be read still lets the others be checked (so every error is reported) but
 * nothing is written.
 */
export async function registerRecords(ctx: Ctx, actor: Principal, records: BulkRecord[], o: ImportRunOptions): Promise<RowResult[]> {
  const results: RowResult[] = [];
  const rows: unknown[] = [];
  const lines: number[] = [];
  const knownIds: (string | undefined)[] = [];
  for (const rec of records) {
    const imp = rec.problem ? { input: undefined, errors: [rec.problem] } : importInput(rec.value);
    if (imp.errors.length) {
      results.push({ row: rec.line, status: 'rejected', errors: imp.errors });
      continue;
    }
    rows.push(imp.input);
    lines.push(rec.line);
    knownIds.push('knownId' in imp ? imp.knownId : undefined);
  }
  const refused = o.onError === 'stop' && results.length > 0;
  if (rows.length) {
    const out = await registerAssets(ctx, actor, rows, {
      dryRun: o.dryRun || refused,
      onError: o.onError,
      source: o.source,
      lines,
      knownIds,
      seen: o.seen,
      resume: true,
    });
    results.push(...out.results);
  }
  return results.sort((a, b) => a.row - b.row);
}

export interface Tally {
  registered: number;
  existing: number;
  valid: number;
  rejected: number;
  byRule: Record<string, number>;
}

/** Counts of a batch's (or a whole file's) results; `byRule` counts each rule code among the errors. */
export function tally(results: RowResult[], into: Tally = { registered: 0, existing: 0, valid: 0, rejected: 0, byRule: {} }): Tally {
  for (const r of results) {
    into[r.status]++;
    for (const e of r.errors ?? []) into.byRule[e.code] = (into.byRule[e.code] ?? 0) + 1;
  }
  return into;
}

/** One line of text per error, as the CLI prints it and a CSV rejects file holds it. */
export const errorText = (errors: FieldError[] = []) => errors.map((e) => `${e.code} ${e.field}: ${e.detail}`).join(' | ');

const annotationAt = (header: string[]) => header.map((h) => (REJECT_COLUMNS as readonly string[]).includes(h));

/** The first line of a rejects file: CSV keeps the input's header (without earlier annotations) and adds `_row`, `_errors`. */
export function rejectsHeader(format: BulkFormat, header: string[]): string {
  if (format !== 'csv') return '';
  const skip = annotationAt(header);
  return csvLine([...header.filter((_, i) => !skip[i]), ...REJECT_COLUMNS]);
}

/** A rejected row in the input's format, with its line and errors added, so it can be fixed and imported as it is. */
export function rejectLine(format: BulkFormat, header: string[], rec: BulkRecord, r: RowResult): string {
  if (format === 'csv') {
    const skip = annotationAt(header);
    const cells = (rec.raw as string[]).filter((_, i) => !skip[i]);
    const width = header.length - skip.filter(Boolean).length;
    while (cells.length < width) cells.push('');
    return csvLine([...cells, rec.line, errorText(r.errors)]);
  }
  const errors = (r.errors ?? []).map((e) => ({ field: e.field, code: e.code, detail: e.detail }));
  if (isRecord(rec.value)) {
    const kept = Object.fromEntries(Object.entries(rec.value).filter(([k]) => !REJECT_FIELDS.includes(k)));
    return JSON.stringify({ ...kept, _row: rec.line, _errors: errors }) + '\n';
  }
  return JSON.stringify({ _row: rec.line, _errors: errors, _text: typeof rec.raw === 'string' ? rec.raw.trim() : '' }) + '\n';
}
