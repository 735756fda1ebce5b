import type { Principal } from '../access/principal';
import type { Ctx } from '../context';
import { Problem } from '../http/problem';
import { ULID_RE } from '../ids';
import type { OnError, Tally } from './bulk-import';
import type { RowResult } from './service';

/** A bulk response lists at most this many rejected rows; the full list goes to a stored report. */
export const MAX_LISTED_REJECTS = 1_000;
/** How long a bulk report is kept (docs/decisions.md, "Bulk reports"). */
export const BULK_REPORT_TTL_MS = 7 * 24 * 60 * 60 * 1000;

/** A row of bulk_report; summary and results are the jsonb this module wrote. */
interface BulkReportRow {
  id: string;
  dry_run: boolean;
  on_error: OnError;
  http_status: number;
  created_at: Date;
  expires_at: Date;
  summary: Pick<BulkReport, 'total' | 'registered' | 'existing' | 'valid' | 'rejected' | 'byRule'>;
  results: RowResult[];
}

export interface BulkReport {
  id: string;
  dryRun: boolean;
  onError: OnError;
  status: number;
  total: number;
  createdAt: string;
  expiresAt: string;
  registered: number;
  existing: number;
  valid: number;
  rejected: number;
  byRule: Record<string, number>;
  results: RowResult[];
}

/**
 * Store the rejected rows of a bulk request, in a statement of its own after the batch (a refused
 * batch writes nothing else). Expired reports go in the same transaction: no job needed.
 */
export async function saveBulkReport(
  ctx: Ctx,
  p: Principal,
  r: { dryRun: boolean; onError: OnError; status: number; total: number; tally: Tally; rejected: RowResult[] },
): Promise<string> {
  const id = ctx.ids.next();
  const now = ctx.clock.now();
  const summary = {
    total: r.total,
    registered: r.tally.registered,
    existing: r.tally.existing,
    valid: r.tally.valid,
    rejected: r.tally.rejected,
    byRule: r.tally.byRule,
  };
  await ctx.db.transaction(async (tx) => {
    await tx.query(`DELETE FROM bulk_report WHERE expires_at <= $1::timestamptz`, [now.toISOString()]);
    await tx.query(
      `INSERT INTO bulk_report (id, organisation_id, dry_run, on_error, http_status, summary, results, created_at, expires_at)
      VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8::timestamptz, $9::timestamptz)`,
      [
        id,
        p.organisationId,
        r.dryRun,
        r.onError,
        r.status,
        summary,
        r.rejected,
        now.toISOString(),
        new Date(now.getTime() + BULK_REPORT_TTL_MS).toISOString(),
      ],
    );
  });
  return id;
}

/** A report of the caller's own organisation that has not expired; anything else is 404 (another organisation's report is not revealed). */
export async function readBulkReport(ctx: Ctx, p: Principal, id: string): Promise<BulkReport> {
  const missing = new Problem('BULK-REPORT-NOT-FOUND', `No bulk report ${id} for your organisation (reports are kept for 7 days).`);
  if (!ULID_RE.test(id)) throw missing;
  const [row] = await ctx.db.query<BulkReportRow>(
    `SELECT id, dry_run, on_error, http_status, summary, results, created_at, expires_at FROM bulk_report
    WHERE id = $1 AND organisation_id = $2 AND expires_at > $3::timestamptz`,
    [id, p.organisationId, ctx.clock.now().toISOString()],
  );
  if (!row) throw missing;
  return {
    id: row.id,
    dryRun: row.dry_run,
    onError: row.on_error,
    status: Number(row.http_status),
    ...row.summary,
    createdAt: new Date(row.created_at).toISOString(),
    expiresAt: new Date(row.expires_at).toISOString(),
    results: row.results,
  };
}

export const bulkReportPath = (id: string) => `/api/v1/assets/bulk/reports/${id}`;
