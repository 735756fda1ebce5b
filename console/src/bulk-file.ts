/**
 * A bulk file as the console sends it: its records with the line each starts on (as the API numbers
 * rows), cut into parts of at most PART_ROWS rows so that a large file shows its progress part by
 * part, and the rejected rows written back as CSV to fix and send again.
 */

/** Rows per request when a file is sent in parts. */
export const PART_ROWS = 5_000;

export interface FileRecord {
  /** The line of the file the record starts on (1 = the first line). */
  line: number;
  /** The record's text as in the file, without its line break. */
  text: string;
}

/** CSV: the header and each record (quoted fields may hold line breaks); NDJSON: each non-blank line. */
export function splitRecords(text: string, csv: boolean): { header?: string; records: FileRecord[] } {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  const records: FileRecord[] = [];
  if (!csv) {
    lines.forEach((l, i) => {
      if (l.trim()) records.push({ line: i + 1, text: l });
    });
    return { records };
  }
  let header: string | undefined;
  let open: FileRecord | undefined;
  let quoted = false;
  lines.forEach((l, i) => {
    if (open) open.text += `\n${l}`;
    else open = { line: i + 1, text: l };
    for (const ch of l) if (ch === '"') quoted = !quoted;
    if (quoted) return;
    if (header === undefined) header = open.text;
    else if (open.text.trim()) records.push(open);
    open = undefined;
  });
  if (open) records.push(open);
  return { header, records };
}

/** Parts of at most PART_ROWS records, each a body of its own (CSV: with the header) and the file line of each body line. */
export function parts(header: string | undefined, records: FileRecord[], size = PART_ROWS) {
  const out: { body: string; lineOf: Map<number, number>; rows: number }[] = [];
  for (let i = 0; i < records.length; i += size) {
    const part = records.slice(i, i + size);
    const lineOf = new Map<number, number>();
    let at = header === undefined ? 1 : 2;
    for (const r of part) {
      lineOf.set(at, r.line);
      at += r.text.split('\n').length;
    }
    out.push({
      body: [...(header === undefined ? [] : [header]), ...part.map((r) => r.text)].join('\n') + '\n',
      lineOf,
      rows: part.length,
    });
  }
  return out;
}

const cell = (v: string) => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/**
 * The rejected rows as CSV: `line` (in the file sent), `errors` (each "RULE-CODE field: what to fix"),
 * then the row as it was: a CSV file's own columns, so it can be fixed and sent again without the
 * first two; an NDJSON line in `record`.
 */
export function rejectedCsv(
  header: string | undefined,
  records: FileRecord[],
  rejected: { row: number; errors?: { field: string; code: string; detail: string }[] }[],
): string {
  const byLine = new Map(records.map((r) => [r.line, r.text]));
  const out = [`line,errors,${header ?? 'record'}`];
  for (const r of rejected) {
    const errors = (r.errors ?? []).map((e) => `${e.code} ${e.field}: ${e.detail}`).join('; ');
    const text = byLine.get(r.row) ?? '';
    out.push(`${r.row},${cell(errors)},${header === undefined ? cell(text) : text}`);
  }
  return out.join('\n') + '\n';
}
