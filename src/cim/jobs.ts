import type { CimStream, PowerUnit } from '../../cim/index';
import { checkPermission } from '../access/auth';
import type { Principal } from '../access/principal';
import { recordedBy } from '../access/principal';
import { writeAudit } from '../audit/audit';
import type { Ctx } from '../context';
import { Problem } from '../http/problem';
import { ULID_RE } from '../ids';
import type { Sql } from '../storage/db';
import type { CimParser } from '../ports';
import { yieldToEventLoop } from './parsing';
import { importCim, type CimImportReport, type ImportProgress } from './service';

/**
 * CIM import jobs: a large import queued, run in the background by a worker loop and read back
 * as progress and, at the end, the report the synchronous import would have answered. The
 * document is kept in the database until the job finishes. Workers claim jobs with
 * FOR UPDATE SKIP LOCKED under a lease, so several hubs share one queue; a worker that dies lets
 * its lease run out and the job is claimed again (up to max_attempts, then FAILED). Each claim
 * increments `attempt`, and every write of a worker is conditional on its attempt, so a worker
 * whose lease was taken over can neither report progress nor finish the job: its transaction
 * rolls back and the import stays all-or-nothing.
 */

export type CimJobStatus = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED';

export interface CimImportJob {
  id: string;
  status: CimJobStatus;
  mode: 'enrich' | 'bulk-load';
  dryRun: boolean;
  unit: PowerUnit;
  organisationId: string;
  files: { name: string; bytes: number }[];
  progress: {
    phase: ImportProgress['phase'] | null;
    bytesTotal: number;
    bytesParsed: number;
    objectsProcessed: number;
    equipment: number;
    assetsMatched: number;
  };
  attempt: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /** Where the report is, once the job has finished. */
  report: string | null;
  /** For a FAILED job: the problem's code and detail (the whole problem is the report). */
  error: { code: string; detail: string } | null;
}

export interface CimJobWorkerOptions {
  /** This worker's name (host and process), stored on the jobs it runs. */
  worker: string;
  /** How long a claim lasts without a progress write; a longer silence means the worker is gone. */
  leaseMs: number;
  /** Called after each progress write, outside any transaction (tests hold a job here to watch it). */
  afterProgress?: (job: CimImportJob) => Promise<void>;
  /** Where the files are parsed (Node: a worker thread for large models); absent: in process. */
  parser?: CimParser;
}

export const DEFAULT_LEASE_MS = 5 * 60_000;
const JOB_COLS = `j.id, j.organisation_id, j.mode, j.dry_run, j.unit, j.files, j.status, j.phase, j.bytes_total, j.bytes_parsed, j.objects_processed, j.equipment,
  j.assets_matched, j.attempt, j.created_at, j.started_at, j.finished_at, j.report->>'code' AS error_code, j.report->>'detail' AS error_detail`;

const iso = (v: unknown) => (v ? new Date(v as string).toISOString() : null);

/** A row as JOB_COLS selects it (bigint byte counts may come back as strings). */
interface JobRow {
  id: string;
  organisation_id: string;
  mode: CimImportJob['mode'];
  dry_run: boolean;
  unit: PowerUnit;
  files: CimImportJob['files'];
  status: CimJobStatus;
  phase: ImportProgress['phase'] | null;
  bytes_total: number | string;
  bytes_parsed: number | string;
  objects_processed: number;
  equipment: number;
  assets_matched: number;
  attempt: number;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  error_code: string | null;
  error_detail: string | null;
}

function toJob(r: JobRow, basePath: string): CimImportJob {
  const finished = r.status === 'SUCCEEDED' || r.status === 'FAILED';
  return {
    id: r.id,
    status: r.status,
    mode: r.mode,
    dryRun: r.dry_run,
    unit: r.unit,
    organisationId: r.organisation_id,
    files: r.files,
    progress: {
      phase: r.phase ?? null,
      bytesTotal: Number(r.bytes_total),
      bytesParsed: Number(r.bytes_parsed),
      objectsProcessed: r.objects_processed,
      equipment: r.equipment,
      assetsMatched: r.assets_matched,
    },
    attempt: r.attempt,
    createdAt: iso(r.created_at)!,
    startedAt: iso(r.started_at),
    finishedAt: iso(r.finished_at),
    report: finished ? `${basePath}/${r.id}/report` : null,
    // A FAILED job's report is a problem: it has a code and a detail.
    error: r.status === 'FAILED' ? { code: r.error_code!, detail: r.error_detail! } : null,
  };
}

/** Jobs are their organisation's; the operator sees every job. */
function jobVisibility(p: Principal, params: unknown[]): string {
  if (p.roles.includes('MARKET_FACILITATOR')) return 'TRUE';
  params.push(p.organisationId);
  return `j.organisation_id = $${params.length}`;
}

export const JOBS_PATH = '/api/v1/cim/import-jobs';

export interface EnqueueOptions {
  mode: 'enrich' | 'bulk-load';
  dryRun: boolean;
  unit: PowerUnit;
  maxBytes: number;
  organisationId?: string;
}

/**
 * Queue an import: the files and options are stored, the job waits for a worker. A file given as
 * a stream (the request's body) is written to the database part by part as it arrives, so the
 * upload is never held whole; `o.maxBytes` is checked as it grows.
 */
export async function enqueueCimImport(
  ctx: Ctx,
  actor: Principal,
  files: { name: string; content: Uint8Array | ReadableStream<Uint8Array> }[],
  o: EnqueueOptions,
): Promise<CimImportJob> {
  if (o.mode === 'bulk-load') checkPermission(actor, 'assets.write');
  const sizes = files.map((f) => (f.content instanceof Uint8Array ? f.content.byteLength : undefined));
  const empty = files.find((f, i) => sizes[i] === 0);
  if (empty) throw new Problem('CIM-XML-MALFORMED', `${empty.name} is empty; nothing was queued.`);
  const tooLarge = (total: number) => new Problem('CIM-XML-TOO-LARGE', `The import is ${total} bytes; at most ${o.maxBytes}.`);
  let total = sizes.reduce<number>((n, b) => n + (b ?? 0), 0);
  if (total > o.maxBytes) throw tooLarge(total);
  const now = ctx.clock.now();
  const id = ctx.ids.next();
  const principal: Principal = {
    subject: actor.subject,
    organisationId: actor.organisationId,
    roles: actor.roles,
    scopes: actor.scopes,
    dnoCodes: actor.dnoCodes,
    ...(actor.act ? { act: actor.act } : {}),
    ...(actor.clientId ? { clientId: actor.clientId } : {}),
    ...(actor.delegation ? { delegation: actor.delegation } : {}),
  };
  const listed = files.map((f, i) => ({ name: f.name, bytes: sizes[i] ?? 0 }));
  // The job row first, invisible and unclaimable until every part is written; then the parts, one
  // short statement each; then the job is released and audited. Nothing holds the database for
  // the length of a 60 MB upload, and a failed upload leaves nothing behind.
  await ctx.db.query(
    `INSERT INTO cim_import_job (id, organisation_id, principal, mode, dry_run, unit, default_organisation_id, files, status, bytes_total, created_at, recorded_by, uploaded, lease_until)
    VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8::jsonb, 'QUEUED', $9, $10::timestamptz, $11, false, $12::timestamptz)`,
    [
      id,
      actor.organisationId,
      principal,
      o.mode,
      o.dryRun,
      o.unit,
      o.organisationId ?? null,
      listed,
      total,
      now.toISOString(),
      recordedBy(actor),
      leaseEnd(now, UPLOAD_MS),
    ],
  );
  try {
    for (const [seq, f] of files.entries()) {
      if (f.content instanceof Uint8Array) {
        await writeParts(ctx, id, seq, { name: f.name, content: f.content });
        continue;
      }
      const before = total;
      total = await writeStream(ctx, id, seq, f.name, f.content, total, o.maxBytes, tooLarge);
      listed[seq].bytes = total - before;
      if (total === before) throw new Problem('CIM-XML-MALFORMED', `${f.name} is empty; nothing was queued.`);
    }
    return await ctx.db.transaction(async (tx) => {
      await tx.query(`UPDATE cim_import_job SET uploaded = true, lease_until = NULL, files = $2::jsonb, bytes_total = $3 WHERE id = $1`, [
        id,
        listed,
        total,
      ]);
      await writeAudit(tx, actor, now, [
        {
          action: 'cim-import-job.queued',
          recordType: 'cim_import_job',
          recordId: id,
          organisationId: actor.organisationId,
          detail: { mode: o.mode, dryRun: o.dryRun, unit: o.unit, files: listed },
        },
      ]);
      return toJob((await tx.query<JobRow>(`SELECT ${JOB_COLS} FROM cim_import_job j WHERE j.id = $1`, [id]))[0], JOBS_PATH);
    });
  } catch (e) {
    await ctx.db.query(`DELETE FROM cim_import_job WHERE id = $1 AND NOT uploaded`, [id]);
    throw e;
  }
}

/** Stored files are cut in parts of this size (migration 022, which allows up to 256 KiB): each part's statement stays in the tens of milliseconds. */
const PART_BYTES = 64 * 1024;
/** How long an upload may take before its unfinished job is deleted. */
const UPLOAD_MS = 10 * 60_000;

/** Node's (and Workers' nodejs_compat) native base64, when the runtime has it. */
interface Base64Buffer {
  from(b: ArrayBufferLike, offset: number, length: number): { toString(enc: 'base64'): string };
  from(s: string, enc: 'base64'): Uint8Array;
}
const NativeBuffer = (globalThis as { Buffer?: Base64Buffer }).Buffer;

/** Base64 of bytes: native where there is a Buffer (JavaScript takes ~60 ms per 256 KiB on a busy machine), else in slices through btoa. */
function toBase64(bytes: Uint8Array): string {
  if (NativeBuffer) return NativeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

function fromBase64(b64: string, into: Uint8Array, at: number): number {
  if (NativeBuffer) {
    const b = NativeBuffer.from(b64, 'base64');
    into.set(b, at);
    return b.byteLength;
  }
  const bin = atob(b64);
  for (let i = 0; i < bin.length; i++) into[at + i] = bin.charCodeAt(i);
  return bin.length;
}

/** One file's parts, each its own statement (base64 text: the embedded database converts it in C, not byte by byte in JavaScript). */
async function writeParts(ctx: Ctx, id: string, seq: number, f: { name: string; content: Uint8Array }): Promise<void> {
  for (let part = 0, at = 0; at < f.content.byteLength; part++, at += PART_BYTES) {
    await ctx.db.query(`INSERT INTO cim_import_job_file (job_id, seq, part, name, content) VALUES ($1, $2, $3, $4, decode($5, 'base64'))`, [
      id,
      seq,
      part,
      f.name,
      toBase64(f.content.subarray(at, at + PART_BYTES)),
    ]);
    await yieldToEventLoop();
  }
}

/**
 * A body stream written as parts of PART_BYTES as it arrives; returns the import's running total.
 * Over `max` it stops reading and throws (the caller deletes what was written).
 */
async function writeStream(
  ctx: Ctx,
  id: string,
  seq: number,
  name: string,
  body: ReadableStream<Uint8Array>,
  total: number,
  max: number,
  tooLarge: (total: number) => Problem,
): Promise<number> {
  const reader = body.getReader();
  const buf = new Uint8Array(PART_BYTES);
  let n = 0;
  let part = 0;
  const flush = async () => {
    await ctx.db.query(`INSERT INTO cim_import_job_file (job_id, seq, part, name, content) VALUES ($1, $2, $3, $4, decode($5, 'base64'))`, [
      id,
      seq,
      part++,
      name,
      toBase64(buf.subarray(0, n)),
    ]);
    n = 0;
    // A turn of the event loop after each part, as writeParts: when the body arrives faster than the
    // parts are written, each read resolves at once and, without it, part after part would be written
    // (on the embedded database, in this thread) before any other request is answered.
    await yieldToEventLoop();
  };
  try {
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      const chunk = r.value;
      total += chunk.byteLength;
      if (total > max) throw tooLarge(total);
      for (let at = 0; at < chunk.byteLength;) {
        const take = Math.min(PART_BYTES - n, chunk.byteLength - at);
        buf.set(chunk.subarray(at, at + take), n);
        n += take;
        at += take;
        if (n === PART_BYTES) await flush();
      }
    }
  } catch (e) {
    await reader.cancel().catch(() => {});
    throw e;
  }
  if (n) await flush();
  return total;
}

/**
 * A job's files, each read back part by part as the parser asks for it (CimStream): a file is
 * never held whole, whatever its size.
 */
async function readFiles(ctx: Ctx, id: string): Promise<{ name: string; content: CimStream }[]> {
  const parts = await ctx.db.query<{ seq: number; part: number; name: string; bytes: number }>(
    `SELECT seq, part, name, octet_length(content) AS bytes FROM cim_import_job_file WHERE job_id = $1 ORDER BY seq, part`,
    [id],
  );
  const files: { name: string; content: CimStream }[] = [];
  for (const p of parts) {
    if (p.part !== 0) continue;
    const mine = parts.filter((q) => q.seq === p.seq);
    files.push({
      name: p.name,
      content: {
        bytes: mine.reduce((n, q) => n + Number(q.bytes), 0),
        async *read() {
          for (const q of mine) {
            const [row] = await ctx.db.query<{ b64: string }>(
              `SELECT encode(content, 'base64') AS b64 FROM cim_import_job_file WHERE job_id = $1 AND seq = $2 AND part = $3`,
              [id, q.seq, q.part],
            );
            const bytes = new Uint8Array(Number(q.bytes));
            fromBase64(row.b64, bytes, 0);
            yield bytes;
          }
        },
      },
    });
  }
  return files;
}

/** Delete a finished job's files a few parts at a time (each statement short; see writeParts). */
async function dropFiles(ctx: Ctx, id: string): Promise<void> {
  for (;;) {
    const gone = await ctx.db.query(
      `DELETE FROM cim_import_job_file WHERE (job_id, seq, part) IN (SELECT job_id, seq, part FROM cim_import_job_file WHERE job_id = $1 LIMIT 16) RETURNING 1`,
      [id],
    );
    if (!gone.length) return;
    await yieldToEventLoop();
  }
}

/** The import jobs the caller may see (its organisation's; the operator all), newest first, keyset-paged by ID. */
export async function listCimJobs(
  ctx: Ctx,
  p: Principal,
  q: { limit: number; before?: string },
): Promise<{ items: CimImportJob[]; next?: string }> {
  const params: unknown[] = [];
  const vis = jobVisibility(p, params);
  let where = `j.uploaded AND ${vis}`;
  if (q.before) {
    params.push(q.before);
    where += ` AND j.id < $${params.length}`;
  }
  params.push(q.limit + 1);
  const rows = await ctx.db.query<JobRow>(
    `SELECT ${JOB_COLS} FROM cim_import_job j WHERE ${where} ORDER BY j.id DESC LIMIT $${params.length}`,
    params,
  );
  const items = rows.slice(0, q.limit).map((r) => toJob(r, JOBS_PATH));
  return { items, next: rows.length > q.limit ? items[items.length - 1].id : undefined };
}

export async function getCimJob(ctx: Ctx, p: Principal, id: string): Promise<CimImportJob> {
  const params: unknown[] = [id];
  const vis = jobVisibility(p, params);
  const [row] = ULID_RE.test(id)
    ? await ctx.db.query<JobRow>(`SELECT ${JOB_COLS} FROM cim_import_job j WHERE j.id = $1 AND j.uploaded AND ${vis}`, params)
    : [];
  if (!row) throw new Problem('CIM-JOB-NOT-FOUND', `No import job ${id}.`);
  return toJob(row, JOBS_PATH);
}

/**
 * The outcome of a finished job as the synchronous import would have answered it: the report
 * (200, or 201 for a bulk-load that registered), or the problem that refused the import.
 */
export async function getCimJobReport(
  ctx: Ctx,
  p: Principal,
  id: string,
): Promise<{ status: number; body: CimImportReport | Record<string, unknown> }> {
  const job = await getCimJob(ctx, p, id);
  if (job.status === 'QUEUED' || job.status === 'RUNNING')
    throw new Problem('CIM-JOB-NOT-FINISHED', `Import job ${id} is ${job.status}; its report is written when it finishes.`, {
      jobStatus: job.status,
    });
  const [r] = await ctx.db.query<{ report: CimImportReport | Record<string, unknown> | null; http_status: number }>(
    `SELECT report, http_status FROM cim_import_job WHERE id = $1`,
    [id],
  );
  if (!r.report)
    throw new Problem('CIM-JOB-NOT-FINISHED', `Import job ${id} finished; its report is being written.`, { jobStatus: job.status });
  return { status: r.http_status, body: r.report };
}

/** A worker's claim was taken over (its lease ran out): it stops and writes nothing more. */
class ClaimLost extends Error {}

const leaseEnd = (now: Date, ms: number) => new Date(now.getTime() + ms).toISOString();

/**
 * Give back this worker's leases when it stops (graceful shutdown): its running jobs become claimable
 * at once by another hub instead of after the lease. The attempt it gave up writes nothing more (its
 * transaction was not committed), and counts against the job's attempts as a lost lease would.
 */
export async function releaseCimLeases(db: Sql, worker: string, now: Date): Promise<string[]> {
  const rows = await db.query<{ id: string }>(
    `UPDATE cim_import_job SET lease_until = $2::timestamptz WHERE worker = $1 AND status = 'RUNNING' AND lease_until > $2::timestamptz RETURNING id`,
    [worker, now.toISOString()],
  );
  return rows.map((r) => r.id);
}

/** Fail the jobs whose last attempt's lease ran out; their documents are dropped. */
async function abandonExpired(ctx: Ctx): Promise<number> {
  const now = ctx.clock.now().toISOString();
  return ctx.db.transaction(async (tx) => {
    const rows = await tx.query<{ id: string }>(
      `UPDATE cim_import_job j SET status = 'FAILED', phase = NULL, finished_at = $1::timestamptz, http_status = 500,
        report = jsonb_build_object('type', 'urn:fmar:rule:CIM-JOB-ABANDONED', 'title', 'Import job abandoned', 'status', 500, 'code', 'CIM-JOB-ABANDONED',
          'detail', 'The import stopped without finishing in ' || j.attempt || ' attempt(s) (the worker stopped or lost its lease); nothing was written.')
      WHERE j.status = 'RUNNING' AND j.lease_until < $1::timestamptz AND j.attempt >= j.max_attempts RETURNING j.id`,
      [now],
    );
    if (rows.length)
      await tx.query(`DELETE FROM cim_import_job_file WHERE job_id IN (SELECT jsonb_array_elements_text($1::jsonb))`, [
        rows.map((r) => r.id),
      ]);
    // Uploads that never finished (the hub stopped mid-way): the job was never announced, so it goes entirely.
    await tx.query(`DELETE FROM cim_import_job WHERE NOT uploaded AND lease_until < $1::timestamptz`, [now]);
    return rows.length;
  });
}

/** Claim the oldest runnable job: QUEUED, or RUNNING with its lease run out. Other workers skip it. */
export async function claimCimJob(
  ctx: Ctx,
  o: Pick<CimJobWorkerOptions, 'worker' | 'leaseMs'>,
): Promise<{ id: string; attempt: number } | undefined> {
  await abandonExpired(ctx);
  const now = ctx.clock.now();
  const [row] = await ctx.db.query<{ id: string; attempt: number }>(
    `UPDATE cim_import_job j SET status = 'RUNNING', attempt = j.attempt + 1, worker = $2, lease_until = $3::timestamptz,
      started_at = COALESCE(j.started_at, $1::timestamptz), phase = 'parsing', bytes_parsed = 0, objects_processed = 0, equipment = 0, assets_matched = 0
    WHERE j.id = (SELECT q.id FROM cim_import_job q
                   WHERE q.uploaded AND (q.status = 'QUEUED' OR (q.status = 'RUNNING' AND q.lease_until < $1::timestamptz)) AND q.attempt < q.max_attempts
                   ORDER BY q.created_at, q.id LIMIT 1 FOR UPDATE SKIP LOCKED)
    RETURNING j.id, j.attempt`,
    [now.toISOString(), o.worker, leaseEnd(now, o.leaseMs)],
  );
  return row ? { id: row.id, attempt: row.attempt } : undefined;
}

/** Run one claimed job to its end: SUCCEEDED with the report, or FAILED with the problem. */
export async function runCimJob(ctx: Ctx, claim: { id: string; attempt: number }, o: CimJobWorkerOptions, maxBytes: number): Promise<void> {
  const { id, attempt } = claim;
  const [job] = await ctx.db.query<{
    principal: Principal;
    mode: CimImportJob['mode'];
    dry_run: boolean;
    unit: PowerUnit;
    default_organisation_id: string | null;
  }>(
    `SELECT principal, mode, dry_run, unit, default_organisation_id FROM cim_import_job WHERE id = $1 AND attempt = $2 AND status = 'RUNNING'`,
    [id, attempt],
  );
  if (!job) return;
  const actor = job.principal;
  /** A write of this attempt; none when another worker holds the job now. */
  const mine = async (sql: Sql, set: string, params: unknown[], extendLease = true) => {
    const now = ctx.clock.now();
    const rows = await sql.query(
      `UPDATE cim_import_job SET ${set}${extendLease ? `, lease_until = $${params.length + 3}::timestamptz` : ''}
      WHERE id = $1 AND attempt = $2 AND status = 'RUNNING' RETURNING id`,
      [id, attempt, ...params, ...(extendLease ? [leaseEnd(now, o.leaseMs)] : [])],
    );
    if (!rows.length) throw new ClaimLost();
  };
  const finishIn = async (sql: Sql, status: number, report: unknown, jobStatus: 'SUCCEEDED' | 'FAILED', matched?: number) => {
    await mine(
      sql,
      `status = $3, phase = NULL, http_status = $4, report = $5::jsonb, finished_at = $6::timestamptz, assets_matched = COALESCE($7, assets_matched)`,
      [jobStatus, status, report, ctx.clock.now().toISOString(), matched ?? null],
      false,
    );
  };
  try {
    // The requesting organisation must still be active when the job runs (fail closed).
    const [org] = await ctx.db.query<{ status: string }>(`SELECT status FROM organisation WHERE id = $1`, [actor.organisationId]);
    if (org?.status !== 'ACTIVE')
      throw new Problem('AUTH-ORGANISATION-INACTIVE', `Organisation ${actor.organisationId} is no longer active; the import was not run.`);
    const files = await readFiles(ctx, id);
    const outcome = await importCim(
      ctx,
      actor,
      files,
      {
        mode: job.mode,
        dryRun: job.dry_run,
        unit: job.unit,
        maxBytes,
        organisationId: job.default_organisation_id ?? undefined,
        parser: o.parser,
      },
      {
        progress: async (p) => {
          await mine(ctx.db, 'phase = $3, bytes_parsed = $4, objects_processed = $5, equipment = $6', [
            p.phase,
            p.bytesParsed,
            p.objectsProcessed,
            p.equipment,
          ]);
          if (o.afterProgress)
            await o.afterProgress(
              toJob((await ctx.db.query<JobRow>(`SELECT ${JOB_COLS} FROM cim_import_job j WHERE j.id = $1`, [id]))[0], JOBS_PATH),
            );
        },
        // The change and the job's end commit together: a retried job never applies an import twice.
        beforeCommit: (tx, out) => finishIn(tx, out.status, out.report, 'SUCCEEDED', out.report.matched ?? out.report.registered),
      },
    );
    const [still] = await ctx.db.query(`SELECT 1 FROM cim_import_job WHERE id = $1 AND attempt = $2 AND status = 'RUNNING'`, [id, attempt]);
    if (still) await finishIn(ctx.db, outcome.status, outcome.report, 'SUCCEEDED', outcome.report.matched ?? outcome.report.registered);
    await dropFiles(ctx, id);
  } catch (e) {
    if (e instanceof ClaimLost) return;
    if (e instanceof Problem) {
      // The import was refused (its transaction rolled back): the job fails with the problem the synchronous import would have answered.
      const finished = await ctx.db
        .transaction((tx) => finishIn(tx, e.status, e.toJSON(), 'FAILED'))
        .then(
          () => true,
          (x) => {
            if (!(x instanceof ClaimLost)) throw x;
            return false;
          },
        );
      if (finished) await dropFiles(ctx, id);
      return;
    }
    // Anything else is the worker's fault, not the document's: release the job for another attempt now.
    console.error(`[fmar] cim import job ${id} attempt ${attempt}:`, e);
    await ctx.db.query(`UPDATE cim_import_job SET lease_until = $3::timestamptz WHERE id = $1 AND attempt = $2 AND status = 'RUNNING'`, [
      id,
      attempt,
      ctx.clock.now().toISOString(),
    ]);
    await abandonExpired(ctx);
  }
}

/** Claim and run jobs until none is runnable; returns how many were run. */
export async function runCimJobsOnce(ctx: Ctx, o: CimJobWorkerOptions, maxBytes: number, limit = 10): Promise<number> {
  let n = 0;
  for (; n < limit; n++) {
    const claim = await claimCimJob(ctx, o);
    if (!claim) break;
    await runCimJob(ctx, claim, o, maxBytes);
  }
  return n;
}

/** The Node hub's worker loop: one job at a time, polling every intervalMs. */
export function startCimJobWorker(
  ctx: Ctx,
  o: CimJobWorkerOptions & { intervalMs: number; maxBytes: number },
): { stop: () => Promise<void> } {
  let running: Promise<unknown> | undefined;
  let stopped = false;
  const tick = () => {
    if (running || stopped) return;
    running = runCimJobsOnce(ctx, o, o.maxBytes)
      .catch((e) => console.error('[fmar] cim import jobs:', e))
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(tick, o.intervalMs);
  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
