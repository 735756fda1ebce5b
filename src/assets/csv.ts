import { Problem } from '../http/problem';
import type { Asset } from './schema';

/**
 * The asset CSV layout, shared by bulk import and export so that an export loads back as it is.
 * Nested fields are flattened (location.*); aliases are `scheme:value` joined with `;`.
 */
export const CSV_COLUMNS = [
  'id', 'friendlyCode', 'name', 'category', 'organisationId', 'fspId', 'status', 'ratedCapacityKw', 'generationCapacityKw', 'demandCapacityKw',
  'energySource', 'demandTechnology', 'manufacturer', 'model', 'serialNumber', 'commissioningDate', 'effectiveDate', 'connectionStatus', 'connectionType',
  'dno', 'importMpan', 'exportMpan', 'location.postcode', 'location.gspGroup', 'location.latitude', 'location.longitude', 'consentReference', 'aliases',
  'justification', 'version', 'recordedAt', 'recordedBy', 'deregisteredAt',
] as const;
/** Columns that describe the registration; the rest are output-only and ignored on import when empty. */
const OUTPUT_ONLY = new Set(['id', 'status', 'version', 'recordedAt', 'recordedBy', 'deregisteredAt']);
const NUMERIC = new Set(['ratedCapacityKw', 'generationCapacityKw', 'demandCapacityKw', 'location.latitude', 'location.longitude']);

/** RFC 4180 parsing: quoted fields, doubled quotes, CRLF or LF. Throws REQUEST-MALFORMED-CSV. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  const s = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  while (i < s.length) {
    const ch = s[i];
    if (quoted) {
      if (ch === '"') {
        if (s[i + 1] === '"') { field += '"'; i += 2; continue; }
        quoted = false; i++;
        if (i < s.length && s[i] !== ',' && s[i] !== '\n' && s[i] !== '\r') throw new Problem('REQUEST-MALFORMED-CSV', `Line ${rows.length + 1}: characters after a closing quote.`);
        continue;
      }
      field += ch; i++; continue;
    }
    if (ch === '"') {
      if (field !== '') throw new Problem('REQUEST-MALFORMED-CSV', `Line ${rows.length + 1}: a quote inside an unquoted field.`);
      quoted = true; i++; continue;
    }
    if (ch === ',') { row.push(field); field = ''; i++; continue; }
    if (ch === '\r' || ch === '\n') {
      row.push(field); field = '';
      if (!(row.length === 1 && row[0] === '')) rows.push(row);
      row = [];
      i += ch === '\r' && s[i + 1] === '\n' ? 2 : 1;
      continue;
    }
    field += ch; i++;
  }
  if (quoted) throw new Problem('REQUEST-MALFORMED-CSV', 'Unterminated quoted field.');
  row.push(field);
  if (!(row.length === 1 && row[0] === '')) rows.push(row);
  return rows;
}

/** CSV text → registration objects (one per data row), the header naming the columns. */
export function csvToInputs(text: string): unknown[] {
  const rows = parseCsv(text);
  if (rows.length === 0) return [];
  const header = rows[0].map((h) => h.trim());
  const unknown = header.filter((h) => !(CSV_COLUMNS as readonly string[]).includes(h));
  if (unknown.length) throw new Problem('REQUEST-UNKNOWN-FIELD', `Unknown CSV column(s): ${unknown.join(', ')}. Columns: ${CSV_COLUMNS.join(', ')}.`, {}, [], 422);
  return rows.slice(1).map((cells, line) => {
    if (cells.length !== header.length) throw new Problem('REQUEST-MALFORMED-CSV', `Data row ${line + 1} has ${cells.length} fields; the header has ${header.length}.`);
    const o: Record<string, any> = {};
    header.forEach((h, i) => {
      const v = cells[i];
      if (v === '' || OUTPUT_ONLY.has(h)) return;
      let val: unknown = v;
      // Exponents too: the export writes small coordinates as String(n) does, e.g. 1e-7.
      if (NUMERIC.has(h)) val = /^-?\d+(\.\d+)?(e[-+]?\d+)?$/i.test(v.trim()) ? Number(v) : v;
      if (h === 'aliases') val = v.split(';').filter(Boolean).map((a) => { const k = a.indexOf(':'); return { scheme: a.slice(0, k), value: a.slice(k + 1) }; });
      if (h.startsWith('location.')) (o.location ??= {})[h.slice(9)] = val;
      else o[h] = val;
    });
    return o;
  });
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const csvHeader = () => CSV_COLUMNS.join(',') + '\r\n';

export function assetToCsv(a: Asset): string {
  return CSV_COLUMNS.map((c) => {
    if (c === 'justification') return '';
    if (c === 'aliases') return cell(a.aliases.map((x) => `${x.scheme}:${x.value}`).join(';'));
    if (c.startsWith('location.')) return cell((a.location as any)?.[c.slice(9)]);
    return cell((a as any)[c]);
  }).join(',') + '\r\n';
}
