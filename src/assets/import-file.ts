import { closeSync, createReadStream, openSync, readFileSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Principal } from '../access/principal';
import type { Ctx } from '../context';
import {
  ndjsonRecord,
  registerRecords,
  rejectLine,
  rejectsHeader,
  tally,
  type BulkFormat,
  type BulkRecord,
  type OnError,
  type Tally,
} from './bulk-import';
import { csvRecords } from './csv';
import type { RowResult } from './service';

/**
 * `fmar import`: a file read in batches, each batch submitted as one bulk request would be. The
 * submission is a function so that the same loop runs in process (localSubmitter) or, later,
 * against a running hub's bulk API (each option is one of its query parameters).
 */

export interface ImportFileOptions {
  /** Content-Type of the bulk API: text/csv or application/x-ndjson. Default: from the file extension. */
  format?: BulkFormat;
  /** Rows per submission (one bulk request each). */
  batch: number;
  /** dryRun=true */
  dryRun: boolean;
  /** onError=stop|skip */
  onError: OnError;
  /** Owning organisation for rows that name none (operator imports). */
  organisation?: string;
  /** Where to write the rejected rows, in the input's format with `_row` and `_errors` added. */
  rejects?: string;
}

/** One batch → one result per record, numbered by line (the bulk API's `results`). */
export type SubmitBatch = (records: BulkRecord[], o: { dryRun: boolean; onError: OnError }) => Promise<RowResult[]>;

export interface ImportOutcome extends Tally {
  total: number;
  /** onError=stop (not a dry run): the batch that was refused, by its first and last line; nothing after it was sent. */
  stoppedAt?: { from: number; to: number };
}

export interface ImportProgress {
  rejected?(r: RowResult): void;
  progress?(done: number): void;
}

/** The rows of a file with their line numbers. CSV fields may hold newlines, so CSV is parsed whole; NDJSON streams. */
export async function readRecords(file: string, format: BulkFormat): Promise<{ header: string[]; records: AsyncIterable<BulkRecord> }> {
  if (format === 'csv') {
    const { header, records } = csvRecords(readFileSync(file, 'utf8'));
    return {
      header,
      records: (async function* () {
        for (const r of records) yield { line: r.line, value: r.value, problem: r.problem, raw: r.cells };
      })(),
    };
  }
  return {
    header: [],
    records: (async function* () {
      let n = 0;
      for await (const text of createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity })) {
        const rec = ndjsonRecord(text, ++n);
        if (rec) yield rec;
      }
    })(),
  };
}

/** Batches are registered in process, as the CLI's actor; keys seen in earlier batches are kept so that an in-file duplicate names its row. */
export function localSubmitter(ctx: Ctx, actor: Principal): SubmitBatch {
  const seen = new Map<string, number>();
  return (records, o) => registerRecords(ctx, actor, records, { ...o, source: 'cli', seen });
}

const withOrganisation = (rec: BulkRecord, org: string | undefined): BulkRecord => {
  const v = rec.value;
  if (!org || !v || typeof v !== 'object' || Array.isArray(v) || (v as { organisationId?: unknown }).organisationId != null) return rec;
  return { ...rec, value: { ...v, organisationId: org } };
};

export const formatOf = (file: string, format?: string): BulkFormat =>
  (format ?? (file.toLowerCase().endsWith('.csv') ? 'csv' : 'ndjson')) as BulkFormat;

/**
 * Import a file batch by batch. onError=stop stops at the first refused batch (the batches before
 * it are registered); a dry run checks every batch and reports every error; onError=skip registers
 * every valid row. Re-running after a stop or a crash resumes: rows already registered count as existing.
 */
export async function importFile(file: string, submit: SubmitBatch, o: ImportFileOptions, on: ImportProgress = {}): Promise<ImportOutcome> {
  const format = formatOf(file, o.format);
  const { header, records } = await readRecords(file, format);
  const out: ImportOutcome = { total: 0, ...tally([]) };
  const fd = o.rejects ? openSync(o.rejects, 'w') : undefined;
  try {
    if (fd !== undefined) writeSync(fd, rejectsHeader(format, header));
    let batch: BulkRecord[] = [];
    let originals: BulkRecord[] = []; // as read: a rejects file holds the row as it was written
    const flush = async (): Promise<boolean> => {
      if (!batch.length) return true;
      const results = await submit(batch, { dryRun: o.dryRun, onError: o.onError });
      const byLine = new Map(originals.map((r) => [r.line, r]));
      out.total += batch.length;
      tally(results, out);
      for (const r of results.filter((x) => x.status === 'rejected')) {
        on.rejected?.(r);
        if (fd !== undefined) writeSync(fd, rejectLine(format, header, byLine.get(r.row)!, r));
      }
      const refused = o.onError === 'stop' && !o.dryRun && results.some((x) => x.status === 'rejected');
      if (refused) out.stoppedAt = { from: batch[0].line, to: batch[batch.length - 1].line };
      batch = [];
      originals = [];
      on.progress?.(out.total);
      return !refused;
    };
    for await (const rec of records) {
      originals.push(rec);
      batch.push(withOrganisation(rec, o.organisation));
      if (batch.length >= o.batch && !(await flush())) return out;
    }
    await flush();
    return out;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
