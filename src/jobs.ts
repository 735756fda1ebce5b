import { ROOT_CONTEXT, SpanKind, context, trace, type Tracer } from '@opentelemetry/api';
import { purgeDpopReplays } from '../identity/index';
import { spanFailed } from './http/tracing';
import type { Logger } from './http/request-log';
import { sweepOidc } from '../identity/node';
import { systemPrincipal } from './access/principal';
import { sealAudit } from './audit/audit';
import { DEFAULT_LEASE_MS, runCimJobsOnce } from './cim/jobs';
import { isRevoked, purgeConsentReplays, recordConsentRevocation, type ConsentService } from './consent/index';
import type { Ctx } from './context';
import { sweepRateLimits } from './http/rate-limit';
import { warnExpiringCredentials } from './identity/clients';
import type { CimParser } from './ports';
import { evaluateStaleness, recordScorecardHistory, registriesConfigured, validatePending } from './quality/service';
import type { ExternalRegistries } from './quality/registries';
import { applyDueSwitches, checkConsentStatusLists } from './switching/switches';
import { DELIVERY_DEFAULTS, deliverDue, pruneDeliveries } from './webhooks/delivery';

/**
 * The hub's background jobs, listed once for both runtimes (docs/workers.md, "Background jobs"):
 * the Node hub runs each on a timer every `everyMs` (`startJobTimers`, src/node.ts); a Worker runs
 * them from its `scheduled` handler, each on the Cron Trigger named in `cron` (`runScheduledJobs`,
 * src/worker.ts; the same crons are in wrangler.toml, which test/jobs.test.ts checks). Every job
 * keeps its state in the database, so any number of Node hubs and Worker invocations may run it
 * side by side: claims use FOR UPDATE SKIP LOCKED or leases, and a job that stops half-way is
 * picked up by the next run.
 */

/** What the jobs run against: the same ports as the API, plus what some jobs need. */
export interface JobHost {
  ctx: Ctx;
  /** The CloudEvents `source` of webhook deliveries: the hub's base URL. */
  source: string;
  production: boolean;
  /** Bytes a CIM import job may read (FMAR_MAX_CIM_JOB_BYTES). */
  maxCimBytes: number;
  /** The name stored on the CIM import jobs this runner claims (host and process, or the Worker's invocation). */
  worker: string;
  /** Where CIM files are parsed (Node: a worker thread for large models); absent: in the runner itself. */
  cimParser?: CimParser;
  registries?: ExternalRegistries;
  consent?: ConsentService;
  /** Aborting it ends batch loops at the next batch (Node: on stop). */
  signal?: AbortSignal;
  /** Batch loops start no new batch after this instant (ms since the epoch): a Worker invocation's budget. */
  deadline?: number;
  /** A JSON line per run (src/http/request-log.ts): `info` when it did something or failed, `debug` when idle. */
  log?: Logger;
  /** A span per run, the root of its database statements' spans (src/http/tracing.ts); absent: no tracing. */
  tracer?: Tracer;
}

/** Run one job, timed, and write its log line (and end its span); returns what it did, or throws its error after logging it. */
async function runLogged(job: BackgroundJob, h: JobHost): Promise<number> {
  const t0 = performance.now();
  // A run is a trace of its own: a root span, whatever called it.
  const span = h.tracer?.startSpan(`job ${job.name}`, { kind: SpanKind.INTERNAL, attributes: { 'fmar.job.name': job.name } }, ROOT_CONTEXT);
  try {
    const did = span?.isRecording() ? await context.with(trace.setSpan(ROOT_CONTEXT, span), () => job.run(h)) : await job.run(h);
    span?.setAttribute('fmar.job.did', did);
    h.log?.write(did > 0 ? 'info' : 'debug', 'job', {
      job: job.name,
      did,
      durationMs: Math.round((performance.now() - t0) * 10) / 10,
      ...(span ? { traceId: span.spanContext().traceId } : {}),
    });
    return did;
  } catch (e) {
    if (span) spanFailed(span, e);
    h.log?.write('error', 'job', {
      job: job.name,
      error: e instanceof Error ? e.message : String(e),
      durationMs: Math.round((performance.now() - t0) * 10) / 10,
      ...(span ? { traceId: span.spanContext().traceId } : {}),
    });
    throw e;
  } finally {
    span?.end();
  }
}

export interface BackgroundJob {
  name: string;
  /** Node: run every this many milliseconds (the next run starts that long after the previous one ended). */
  everyMs: number;
  /** Workers: the Cron Trigger (wrangler.toml `[triggers] crons`) that runs it. */
  cron: string;
  /** Node: also run once when the hub starts. */
  atStart?: boolean;
  /** Whether this deployment has anything for the job to do (e.g. a registry configured). */
  enabled?(h: JobHost): boolean;
  /** One run; returns how many things it did (records sealed, deliveries claimed, …). */
  run(h: JobHost): Promise<number>;
}

const MINUTE = 60_000;
const HOUR = 3_600_000;
/** Workers run jobs at minute granularity at best; these are the crons used below. */
export const EVERY_MINUTE = '* * * * *';
export const EVERY_5_MINUTES = '*/5 * * * *';
export const EVERY_15_MINUTES = '*/15 * * * *';
export const HOURLY = '0 * * * *';

const more = (h: JobHost) => !h.signal?.aborted && (h.deadline === undefined || Date.now() < h.deadline);

/**
 * The jobs, in the order one Cron Trigger runs them: jobs that write (switches, validation, CIM
 * imports) come before webhook delivery and audit sealing, so one run delivers and seals their
 * events and records too.
 */
export const BACKGROUND_JOBS: readonly BackgroundJob[] = [
  {
    // Switches whose effective instant has come move their FSP link (UC-02.06).
    name: 'due-switches',
    everyMs: MINUTE,
    cron: EVERY_MINUTE,
    atStart: true,
    async run(h) {
      const done = await applyDueSwitches(h.ctx, {
        isRevoked: (tx, issuer, jti, tokenHash) => isRevoked(tx, { issuer, jti, tokenHash }),
      });
      return done.length;
    },
  },
  {
    // Authenticity checks (UC-02.01 step 6): Pending Validation assets against the external registries;
    // one a registry could not answer for is asked again after 15 minutes.
    name: 'data-quality-validation',
    everyMs: 30_000,
    cron: EVERY_MINUTE,
    enabled: (h) => registriesConfigured(h.registries),
    async run(h) {
      return (await validatePending(h.ctx, h.registries!, { limit: 200, retryAfterMs: 15 * MINUTE })).validated;
    },
  },
  {
    // CIM import jobs (docs/cim-profile.md): claimed from the shared queue, one at a time.
    name: 'cim-import-jobs',
    everyMs: 2_000,
    cron: EVERY_MINUTE,
    async run(h) {
      let n = 0;
      while (more(h)) {
        const ran = await runCimJobsOnce(h.ctx, { worker: h.worker, leaseMs: DEFAULT_LEASE_MS, parser: h.cimParser }, h.maxCimBytes, 1);
        if (!ran) break;
        n += ran;
      }
      return n;
    },
  },
  {
    // Webhooks (docs/events.md): deliver due events, batch after batch while batches come full.
    name: 'webhook-delivery',
    everyMs: 1_000,
    cron: EVERY_MINUTE,
    async run(h) {
      let claimed = 0;
      for (;;) {
        const r = await deliverDue(h.ctx.db, h.ctx.clock, { source: h.source, production: h.production, signal: h.signal });
        claimed += r.claimed;
        if (r.claimed < DELIVERY_DEFAULTS.batchSize || !more(h)) return claimed;
      }
    },
  },
  {
    // The audit hash chain (docs/audit.md): seal what was written since the last run.
    name: 'audit-seal',
    everyMs: 2_000,
    cron: EVERY_MINUTE,
    async run(h) {
      let total = 0;
      for (;;) {
        const n = await sealAudit(h.ctx.db);
        total += n;
        if (n === 0 || !more(h)) return total;
      }
    },
  },
  {
    // Expired provider rows and DPoP proofs, and rate-limit windows.
    name: 'sweep',
    everyMs: 5 * MINUTE,
    cron: EVERY_5_MINUTES,
    async run(h) {
      const now = h.ctx.clock.now();
      return (await sweepOidc(h.ctx.db, now)) + (await purgeDpopReplays(h.ctx.db, now)) + (await sweepRateLimits(h.ctx.db, now));
    },
  },
  {
    // Consents whose tokens carry a status-list reference are re-checked (docs/consent.md).
    name: 'consent-status-lists',
    everyMs: 15 * MINUTE,
    cron: EVERY_15_MINUTES,
    enabled: (h) => !!h.consent?.methods.jwt,
    async run(h) {
      const consent = h.consent!;
      const r = await checkConsentStatusLists(h.ctx, {
        statusOf: (ref) => consent.statusOf(ref),
        record: (x) =>
          recordConsentRevocation(
            h.ctx.db,
            {
              issuer: x.issuer,
              jti: x.jti,
              tokenHash: x.tokenHash,
              revokedAt: h.ctx.clock.now(),
              reason: `status list: ${x.status === 2 ? 'suspended' : 'invalid'}`,
              source: 'status-list',
              recordedBy: 'consent-status-list',
            },
            h.ctx.clock.now(),
          ),
      });
      return r.checked;
    },
  },
  {
    name: 'consent-replay-purge',
    everyMs: HOUR,
    cron: HOURLY,
    run: (h) => purgeConsentReplays(h.ctx.db, h.ctx.clock.now()),
  },
  {
    // Client credentials about to expire: their organisation is told once (docs/identity.md).
    name: 'credential-expiry',
    everyMs: HOUR,
    cron: HOURLY,
    atStart: true,
    async run(h) {
      return (await warnExpiringCredentials(h.ctx, systemPrincipal('credential-expiry'))).length;
    },
  },
  {
    // Data quality (docs/data-quality.md): records that time alone made stale get their finding.
    name: 'data-quality-staleness',
    everyMs: HOUR,
    cron: HOURLY,
    run: (h) => evaluateStaleness(h.ctx),
  },
  {
    // Scorecards over time (docs/data-quality.md): today's point of every scorecard, replaced by each later run of the day.
    name: 'data-quality-scorecard-history',
    everyMs: HOUR,
    cron: HOURLY,
    atStart: true,
    run: (h) => recordScorecardHistory(h.ctx),
  },
  {
    // Delivered webhook rows are kept 30 days (the outbox keeps the events; dead letters stay).
    name: 'delivery-prune',
    everyMs: HOUR,
    cron: HOURLY,
    run: (h) => pruneDeliveries(h.ctx.db, new Date(h.ctx.clock.now().getTime() - 30 * 86_400_000)),
  },
];

/** The Cron Triggers a Worker needs for the jobs (wrangler.toml must list exactly these). */
export function workerCrons(jobs: readonly BackgroundJob[] = BACKGROUND_JOBS): string[] {
  return [...new Set(jobs.map((j) => j.cron))];
}

export type JobReport = Record<string, number | { error: string } | 'disabled'>;

/**
 * One Cron Trigger on a Worker: run its jobs one after the other (a failing job is reported and
 * the next one still runs). Returns what each did.
 */
export async function runScheduledJobs(
  cron: string,
  h: JobHost,
  opts: { jobs?: readonly BackgroundJob[]; onError?: (job: string, e: unknown) => void } = {},
): Promise<JobReport> {
  const report: JobReport = {};
  for (const job of (opts.jobs ?? BACKGROUND_JOBS).filter((j) => j.cron === cron)) {
    if (job.enabled && !job.enabled(h)) {
      report[job.name] = 'disabled';
      continue;
    }
    try {
      report[job.name] = await runLogged(job, h);
    } catch (e) {
      (opts.onError ?? ((n, x) => console.error(`[fmar] ${n}:`, x)))(job.name, e);
      report[job.name] = { error: (e as Error).message };
    }
  }
  return report;
}

export interface JobTimers {
  /** Run a job now (e.g. webhook delivery after a commit that wrote events) instead of at its next tick. */
  wake(name: string): void;
  /** Stop: no new run; batch loops end at their next batch; resolves once running jobs have returned. */
  stop(): Promise<void>;
  /**
   * The loop is alive: every job is running, or ended its last run (or was started) no longer ago than its
   * period and a minute's grace. False once stopped. Readiness (/readyz) reads it.
   */
  alive(now?: number): boolean;
  /** Jobs that are not alive (for the readiness detail). */
  stalled(now?: number): string[];
}

/**
 * The Node runner: each enabled job on its own timer, one run at a time; the next run starts
 * `everyMs` after the previous one ended. Errors are reported, never thrown.
 */
export function startJobTimers(
  h: Omit<JobHost, 'signal' | 'deadline'>,
  opts: { jobs?: readonly BackgroundJob[]; onError?: (job: string, e: unknown) => void; everyMs?: (job: BackgroundJob) => number } = {},
): JobTimers {
  const ac = new AbortController();
  const host: JobHost = { ...h, signal: ac.signal };
  const onError = opts.onError ?? ((n, x) => console.error(`[fmar] ${n}:`, x));
  const loops = new Map<string, { wake(): void; running(): Promise<void> | undefined; clear(): void; stalled(now: number): boolean }>();
  for (const job of opts.jobs ?? BACKGROUND_JOBS) {
    if (job.enabled && !job.enabled(host)) continue;
    const every = opts.everyMs?.(job) ?? job.everyMs;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let running: Promise<void> | undefined;
    let again = false;
    let lastEnded = Date.now();
    const run = () => {
      timer = undefined;
      running = (async () => {
        do {
          again = false;
          try {
            await runLogged(job, host);
          } catch (e) {
            if (!ac.signal.aborted) onError(job.name, e);
          }
        } while (again && !ac.signal.aborted);
      })().finally(() => {
        running = undefined;
        lastEnded = Date.now();
        if (!ac.signal.aborted) timer = setTimeout(run, every);
      });
    };
    if (job.atStart) run();
    else timer = setTimeout(run, every);
    loops.set(job.name, {
      wake() {
        if (ac.signal.aborted) return;
        if (running) {
          again = true;
          return;
        }
        if (timer) clearTimeout(timer);
        run();
      },
      running: () => running,
      clear: () => timer && clearTimeout(timer),
      stalled: (now: number) => !running && now - lastEnded > every + 60_000,
    });
  }
  return {
    wake: (name) => loops.get(name)?.wake(),
    stalled: (now = Date.now()) => (ac.signal.aborted ? [...loops.keys()] : [...loops].filter(([, l]) => l.stalled(now)).map(([n]) => n)),
    alive(now = Date.now()) {
      return !ac.signal.aborted && this.stalled(now).length === 0;
    },
    async stop() {
      ac.abort();
      for (const l of loops.values()) l.clear();
      await Promise.all([...loops.values()].map((l) => l.running()));
    },
  };
}
