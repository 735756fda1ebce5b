import { Problem, fieldError, type FieldError } from '../http/problem';
import type { Asset } from './schema';

/**
 * The asset CSV layout, shared by bulk import and export so that an export loads back as it is.
 * Nested fields are flattened (location.*); aliases are `scheme:value` joined with `;`.
 */
export const CSV_COLUMNS = [
  'id',
  'friendlyCode',
  'name',
  'category',
  'organisationId',
  'fspId',
  'status',
  'ratedCapacityKw',
  'generationCapacityKw',
  'demandCapacityKw',
  'energySource',
  'demandTechnology',
  'energyConversionType',
  'manufacturer',
  'model',
  'serialNumber',
  'commissioningDate',
  'effectiveDate',
  'connectionStatus',
  'connectionType',
  'dno',
  'importMpan',
  'exportMpan',
  'location.postcode',
  'location.gspGroup',
  'location.latitude',
  'location.longitude',
  'consentReference',
  'aliases',
  'justification',
  'version',
  'recordedAt',
  'recordedBy',
  'deregisteredAt',
] as const;
// The output-only columns (id, status, version, recordedAt, recordedBy, deregisteredAt) are read as
// given: bulk-import.ts checks and ignores them (and matches `id` when an import resumes).
const NUMERIC = new Set(['ratedCapacityKw', 'generationCapacityKw', 'demandCapacityKw', 'location.latitude', 'location.longitude']);

/** Columns a rejects file adds (row number, errors); an import ignores them so the file loads back as it is. */
export const REJECT_COLUMNS = ['_row', '_errors'] as const;

/** One CSV record and the 1-based line of the file it starts on (quoted newlines make a record span lines). */
export interface CsvRecord {
  line: number;
  cells: string[];
}

/**
 * The most fields a record may have. A registration row has one field a column (CSV_COLUMNS and
 * the rejected-rows columns); a record far beyond that is not a row to report but a body to refuse,
 * before it becomes an array of a million one-character strings (which V8's collector handles in
 * time that grows faster than the record).
 */
export const MAX_CSV_FIELDS = 1_000;

/** RFC 4180 parsing: quoted fields, doubled quotes, CRLF or LF. Throws REQUEST-MALFORMED-CSV. */
export function parseCsv(text: string): string[][] {
  return parseCsvRecords(text).map((r) => r.cells);
}

/** As parseCsv, each record with the line it starts on. */
export function parseCsvRecords(text: string): CsvRecord[] {
  const rows: CsvRecord[] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  let line = 1;
  let start = 1;
  const s = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  while (i < s.length) {
    const ch = s[i];
    if (quoted) {
      if (ch === '"') {
        if (s[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        if (i < s.length && s[i] !== ',' && s[i] !== '\n' && s[i] !== '\r')
          throw new Problem('REQUEST-MALFORMED-CSV', `Line ${line}: characters after a closing quote.`, { line });
        continue;
      }
      if (ch === '\n' || (ch === '\r' && s[i + 1] !== '\n')) line++;
      field += ch;
      i++;
      continue;
    }
    if (ch === '"') {
      if (field !== '') throw new Problem('REQUEST-MALFORMED-CSV', `Line ${line}: a quote inside an unquoted field.`, { line });
      quoted = true;
      i++;
      continue;
    }
    if (ch === ',') {
      row.push(field);
      field = '';
      i++;
      if (row.length >= MAX_CSV_FIELDS)
        throw new Problem(
          'REQUEST-MALFORMED-CSV',
          `Line ${start}: more than ${MAX_CSV_FIELDS.toLocaleString('en-GB')} fields in one record; a row has one field per column of the header.`,
          { line: start },
        );
      continue;
    }
    if (ch === '\r' || ch === '\n') {
      row.push(field);
      field = '';
      if (!(row.length === 1 && row[0] === '')) rows.push({ line: start, cells: row });
      row = [];
      i += ch === '\r' && s[i + 1] === '\n' ? 2 : 1;
      start = ++line;
      continue;
    }
    field += ch;
    i++;
  }
  if (quoted) throw new Problem('REQUEST-MALFORMED-CSV', `Line ${start}: unterminated quoted field.`, { line: start });
  row.push(field);
  if (!(row.length === 1 && row[0] === '')) rows.push({ line: start, cells: row });
  return rows;
}

/** CSV text → registration objects (one per data row), the header naming the columns. */
export function csvToInputs(text: string): unknown[] {
  const { records } = csvRecords(text);
  return records.map((r) => {
    if (r.problem) throw new Problem(r.problem.code, r.problem.detail, { line: r.line });
    return r.value;
  });
}

/** A data row read from CSV: its line, its cells as written, and the object (or why there is none). */
export interface CsvRow {
  line: number;
  cells: string[];
  value?: Record<string, unknown>;
  problem?: FieldError;
}

/**
 * CSV text → header and data rows. The header is line 1 of the file; a data row is numbered by the
 * line it starts on, so the first data row is row 2 (what a spreadsheet shows). A row with the
 * wrong number of fields is a row problem (REQUEST-MALFORMED-CSV), not the whole file's.
 */
export function csvRecords(text: string): { header: string[]; records: CsvRow[] } {
  const rows = parseCsvRecords(text);
  if (rows.length === 0) return { header: [], records: [] };
  const header = rows[0].cells.map((h) => h.trim());
  const unknown = header.filter(
    (h) => !(CSV_COLUMNS as readonly string[]).includes(h) && !(REJECT_COLUMNS as readonly string[]).includes(h),
  );
  if (unknown.length)
    throw new Problem(
      'REQUEST-UNKNOWN-FIELD',
      `Unknown CSV column(s): ${unknown.join(', ')}. Columns: ${CSV_COLUMNS.join(', ')}.`,
      {},
      [],
      422,
    );
  const records = rows.slice(1).map(({ line, cells }): CsvRow => {
    if (cells.length !== header.length)
      return {
        line,
        cells,
        problem: fieldError('(row)', 'REQUEST-MALFORMED-CSV', `Row ${line} has ${cells.length} fields; the header has ${header.length}.`),
      };
    return { line, cells, value: csvRowToInput(header, cells) };
  });
  return { header, records };
}

function csvRowToInput(header: string[], cells: string[]): Record<string, unknown> {
  const o: Record<string, unknown> & { location?: Record<string, unknown> } = {};
  header.forEach((h, i) => {
    const v = cells[i];
    if (v === '' || (REJECT_COLUMNS as readonly string[]).includes(h)) return;
    let val: unknown = v;
    // Exponents too: the export writes small coordinates as String(n) does, e.g. 1e-7.
    if (NUMERIC.has(h)) val = /^-?\d+(\.\d+)?(e[-+]?\d+)?$/i.test(v.trim()) ? Number(v) : v;
    if (h === 'aliases')
      val = v
        .split(';')
        .filter(Boolean)
        .map((a) => {
          const k = a.indexOf(':');
          return { scheme: a.slice(0, k), value: a.slice(k + 1) };
        });
    if (h.startsWith('location.')) (o.location ??= {})[h.slice(9)] = val;
    else o[h] = val;
  });
  return o;
}

/** One CSV line from cells (quoted where needed), CRLF-terminated. */
export function csvLine(cells: unknown[]): string {
  return cells.map(cell).join(',') + '\r\n';
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const csvHeader = () => CSV_COLUMNS.join(',') + '\r\n';

export function assetToCsv(a: Asset): string {
  return (
    CSV_COLUMNS.map((c) => {
      if (c === 'justification') return '';
      if (c === 'aliases') return cell(a.aliases.map((x) => `${x.scheme}:${x.value}`).join(';'));
      if (c.startsWith('location.')) return cell((a.location as Record<string, unknown> | null)?.[c.slice(9)]);
      return cell((a as Record<string, unknown>)[c]);
    }).join(',') + '\r\n'
  );
}
