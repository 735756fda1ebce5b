import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Db, PoolUse } from '../storage/db';

/**
 * The hub's metrics in Prometheus text format (prom-client), served at GET /api/v1/metrics to callers
 * with `metrics:read` (docs/operations.md, "Metrics"). Request counts and latencies are counted as
 * requests end (src/http/request-log.ts); tokens as the OpenID provider issues them; the register's
 * backlogs (outbox, webhook deliveries, due switches, unsealed audit records, CIM jobs) are read from
 * the database at each scrape, so every instance reports the same shared figures; the connection pool's
 * use is this instance's own (src/storage/db.ts, PoolUse).
 */
/** What the domains count (through `Ctx.metrics`). */
export interface DomainMetrics {
  /**
   * Data quality evaluated assets: how many passed every rule that applies and how many failed one
   * or more, and per rule code how many failed it (src/quality/service.ts, assessAssetsIn).
   */
  dataQualityEvaluated(passed: number, failed: number, failuresByRule: ReadonlyMap<string, number>): void;
}

export interface HubMetrics extends DomainMetrics {
  readonly registry: Registry;
  /** False when request metrics are off (FMAR_REQUEST_METRICS=false): `request` counts nothing and its series are not served. */
  readonly countsRequests: boolean;
  request(o: { route: string; method: string; status: number; seconds: number; code?: string }): void;
  tokenIssued(grantType: string): void;
}

/** Latency buckets in seconds: lookups answer in milliseconds, bulk loads and CIM exports in seconds. */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * The hub's metrics. `requests: false` (FMAR_REQUEST_METRICS=false) leaves out the per-request series
 * (fmar_http_requests_total, fmar_http_request_duration_seconds, fmar_http_refusals_total): nothing is
 * counted per request; every other series is served as before.
 */
export function hubMetrics(db: Db, now: () => Date, opts: { requests?: boolean } = {}): HubMetrics {
  const registry = new Registry();
  const countsRequests = opts.requests ?? true;
  // Registered only when counted: a scrape then shows no series that would stay at zero.
  const perRequest = countsRequests ? [registry] : [];
  const requests = new Counter({
    name: 'fmar_http_requests_total',
    help: 'Requests answered, by route template, method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: perRequest,
  });
  const latency = new Histogram({
    name: 'fmar_http_request_duration_seconds',
    help: 'Time to answer, by route template, method and status class.',
    labelNames: ['route', 'method', 'status_class'] as const,
    buckets: BUCKETS,
    registers: perRequest,
  });
  const refusals = new Counter({
    name: 'fmar_http_refusals_total',
    help: 'Refused requests by rule code (rate-limit refusals are RATE-LIMITED, client lockouts AUTH-CLIENT-LOCKED; docs/rules.md).',
    labelNames: ['code'] as const,
    registers: perRequest,
  });
  const tokens = new Counter({
    name: 'fmar_tokens_issued_total',
    help: 'Access tokens issued by the OpenID provider, by grant type.',
    labelNames: ['grant_type'] as const,
    registers: [registry],
  });

  const dqEvaluations = new Counter({
    name: 'fmar_dq_evaluations_total',
    help: 'Assets evaluated by data quality, by outcome (passed: every rule that applies passed; failed: one or more failed).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const dqFailures = new Counter({
    name: 'fmar_dq_rule_failures_total',
    help: 'Data quality evaluations in which a rule failed, by rule code.',
    labelNames: ['rule'] as const,
    registers: [registry],
  });
  // This instance's connection pool, read at each scrape (before any gauge below queries the database).
  const pool = (name: string, help: string, read: (u: PoolUse) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const u = db.use?.();
        if (u) this.set(read(u));
      },
    });
  pool('fmar_db_pool_size', 'Connections the database pool may open (PGlite: 1).', (u) => u.size);
  pool('fmar_db_pool_busy', 'Pool connections running a statement or holding a transaction.', (u) => u.busy);
  pool('fmar_db_pool_waiting', 'Statements and transactions waiting for a pool connection.', (u) => u.waiting);

  /** A gauge read from the database at each scrape. */
  const fromDb = <L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    read: () => Promise<{ labels: Record<L, string>; value: number }[]>,
  ) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        for (const r of await read()) this.set(r.labels, r.value);
      },
    });
  const counts = async <L extends string>(label: L, sql: string, values: readonly string[], params: unknown[] = []) => {
    const rows = await db.query<{ k: string; n: number }>(sql, params);
    const by = new Map(rows.map((r) => [r.k, Number(r.n)]));
    return values.map((v) => ({ labels: { [label]: v } as Record<L, string>, value: by.get(v) ?? 0 }));
  };
  const one = async (sql: string, params: unknown[] = []) => {
    const [r] = await db.query<{ n: number | null }>(sql, params);
    return [{ labels: {}, value: Number(r?.n ?? 0) }];
  };

  fromDb('fmar_webhook_deliveries', 'Webhook deliveries by status (PENDING: the outbox backlog; DEAD: dead letters).', ['status'], () =>
    counts('status', `SELECT status AS k, count(*)::int AS n FROM webhook_delivery GROUP BY status`, ['PENDING', 'DELIVERED', 'DEAD']),
  );
  fromDb('fmar_outbox_oldest_pending_seconds', 'Age of the oldest pending webhook delivery (0 when none is pending).', [], () =>
    one(
      `SELECT COALESCE(EXTRACT(EPOCH FROM ($1::timestamptz - min(scheduled_at))), 0)::float8 AS n FROM webhook_delivery WHERE status = 'PENDING'`,
      [now().toISOString()],
    ),
  );
  fromDb('fmar_switches_due', 'Switches due (PENDING, effective time passed) and not yet applied.', [], () =>
    one(`SELECT count(*)::int AS n FROM asset_switch WHERE status = 'PENDING' AND effective_at <= $1::timestamptz`, [now().toISOString()]),
  );
  fromDb('fmar_audit_unsealed', 'Audit records not yet sealed into the hash chain.', [], () =>
    one(`SELECT count(*)::int AS n FROM audit_log WHERE seq IS NULL`),
  );
  fromDb('fmar_cim_import_jobs', 'CIM import jobs by status.', ['status'], () =>
    counts('status', `SELECT status AS k, count(*)::int AS n FROM cim_import_job GROUP BY status`, [
      'QUEUED',
      'RUNNING',
      'SUCCEEDED',
      'FAILED',
    ]),
  );

  return {
    registry,
    countsRequests,
    request(o) {
      if (!countsRequests) return;
      requests.inc({ route: o.route, method: o.method, status: String(o.status) });
      latency.observe({ route: o.route, method: o.method, status_class: `${Math.floor(o.status / 100)}xx` }, o.seconds);
      if (o.code) refusals.inc({ code: o.code });
    },
    tokenIssued(grantType) {
      tokens.inc({ grant_type: grantType });
    },
    dataQualityEvaluated(passed, failed, failuresByRule) {
      if (passed) dqEvaluations.inc({ outcome: 'passed' }, passed);
      if (failed) dqEvaluations.inc({ outcome: 'failed' }, failed);
      for (const [rule, n] of failuresByRule) dqFailures.inc({ rule }, n);
    },
  };
}
