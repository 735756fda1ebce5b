import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config';
import { batteryInput, nodeTestHub, testDb, testHub, type NodeTestHub } from './harness';

/**
 * Metrics (docs/operations.md, "Metrics"): GET /api/v1/metrics in Prometheus text format for the
 * operator's scraper, on the whole Node hub (API and OpenID provider on one port), every figure
 * checked against what was done or what the database holds.
 */

let hub: NodeTestHub;
beforeAll(async () => {
  hub = await nodeTestHub();
}, 120_000);
afterAll(() => hub.close());

/** Scrape as the operator: every sample as "name{labels}" → value. */
async function scrape(): Promise<Map<string, number>> {
  const r = await fetch(`${hub.base}/api/v1/metrics`, { headers: { authorization: `Bearer ${await hub.devToken('operator')}` } });
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  const samples = new Map<string, number>();
  for (const line of (await r.text()).split('\n')) {
    const m = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m) samples.set(m[1], Number(m[2]));
  }
  return samples;
}
const at = (s: Map<string, number>, key: string) => s.get(key) ?? 0;
const one = async (sql: string) => Number((await hub.db.query<{ n: number }>(sql))[0].n);

describe('GET /api/v1/metrics', () => {
  it('counts requests by route template and status, and refusals by rule code', async () => {
    const before = await scrape();
    for (let i = 0; i < 3; i++) expect((await hub.api('GET', '/api/v1/catalogues', { as: 'fsp-a' })).status).toBe(200);
    expect((await hub.api('GET', '/api/v1/assets/01JZZZZZZZZZZZZZZZZZZZZZZZ', { as: 'fsp-a' })).status).toBe(404);
    const after = await scrape();
    const key = 'fmar_http_requests_total{route="/api/v1/catalogues",method="GET",status="200"}';
    expect(at(after, key) - at(before, key)).toBe(3);
    const notFound = 'fmar_http_refusals_total{code="ASSET-NOT-FOUND"}';
    expect(at(after, notFound) - at(before, notFound)).toBe(1);
    const count = 'fmar_http_request_duration_seconds_count{route="/api/v1/catalogues",method="GET",status_class="2xx"}';
    expect(at(after, count) - at(before, count)).toBe(3);
  });

  it('reads the backlogs from the database: pending and dead deliveries, due switches, unsealed audit records, CIM jobs', async () => {
    expect((await hub.api('POST', '/api/v1/assets', { as: 'fsp-a', body: batteryInput(7301) })).status).toBe(201);
    const s = await scrape();
    expect(at(s, 'fmar_audit_unsealed')).toBe(await one(`SELECT count(*)::int AS n FROM audit_log WHERE seq IS NULL`));
    for (const status of ['PENDING', 'DELIVERED', 'DEAD'])
      expect(at(s, `fmar_webhook_deliveries{status="${status}"}`)).toBe(
        await one(`SELECT count(*)::int AS n FROM webhook_delivery WHERE status = '${status}'`),
      );
    expect(at(s, 'fmar_switches_due')).toBe(
      await one(`SELECT count(*)::int AS n FROM asset_switch WHERE status = 'PENDING' AND effective_at <= now()`),
    );
    for (const status of ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED'])
      expect(at(s, `fmar_cim_import_jobs{status="${status}"}`)).toBe(
        await one(`SELECT count(*)::int AS n FROM cim_import_job WHERE status = '${status}'`),
      );
    expect(s.has('fmar_outbox_oldest_pending_seconds')).toBe(true);
  });

  it('counts the tokens the OpenID provider issues, by grant type', async () => {
    const made = await hub.api('POST', '/api/v1/clients', {
      as: 'fsp-a',
      body: { name: 'metrics probe', kind: 'machine', authMethod: 'client_secret_basic', scopes: ['assets:read'] },
    });
    expect(made.status, JSON.stringify(made.json)).toBe(201);
    const before = await scrape();
    const basic = Buffer.from(`${made.json.clientId}:${made.json.clientSecret}`).toString('base64');
    for (let i = 0; i < 2; i++) {
      const t = await fetch(`${hub.base}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
        body: 'grant_type=client_credentials&scope=assets%3Aread',
      });
      expect(t.status, await t.clone().text()).toBe(200);
    }
    const after = await scrape();
    const key = 'fmar_tokens_issued_total{grant_type="client_credentials"}';
    expect(at(after, key) - at(before, key)).toBe(2);
  });

  it('counts data quality evaluations by outcome and the rules that failed, as the findings of the assets say', async () => {
    const before = await scrape();
    const expected = new Map<string, number>();
    const outcomes = { passed: 0, failed: 0 };
    const noSerial: Record<string, unknown> = batteryInput(7312);
    delete noSerial.serialNumber;
    for (const input of [batteryInput(7311), noSerial]) {
      const made = await hub.api('POST', '/api/v1/assets', { as: 'fsp-a', body: input });
      expect(made.status, made.text).toBe(201);
      const f = await hub.api('GET', `/api/v1/assets/${made.json.id}/findings`, { as: 'fsp-a' });
      expect(f.status).toBe(200);
      const failed: string[] = [
        ...f.json.items.map((i: { ruleCode: string }) => i.ruleCode),
        ...f.json.advisories.map((a: { ruleCode: string }) => a.ruleCode),
      ];
      outcomes[failed.length ? 'failed' : 'passed']++;
      for (const code of failed) expected.set(code, (expected.get(code) ?? 0) + 1);
    }
    // The second asset has no serial number: DQ-SERIAL-REQUIRED fails for it, not for the first.
    expect(expected.get('DQ-SERIAL-REQUIRED')).toBe(1);
    const after = await scrape();
    for (const outcome of ['passed', 'failed'] as const) {
      const key = `fmar_dq_evaluations_total{outcome="${outcome}"}`;
      expect(at(after, key) - at(before, key)).toBe(outcomes[outcome]);
    }
    const rules = new Set([...after.keys()].filter((k) => k.startsWith('fmar_dq_rule_failures_total')));
    for (const key of rules) {
      const rule = /rule="([^"]+)"/.exec(key)![1];
      expect(at(after, key) - at(before, key), rule).toBe(expected.get(rule) ?? 0);
    }
    for (const rule of expected.keys()) expect(rules.has(`fmar_dq_rule_failures_total{rule="${rule}"}`)).toBe(true);
  });

  it('reports the database pool: its size and, between requests, nothing busy or waiting', async () => {
    const s = await scrape();
    expect(at(s, 'fmar_db_pool_size')).toBe(hub.db.engine === 'pglite' ? 1 : 4);
    expect(s.get('fmar_db_pool_busy')).toBe(0);
    expect(s.get('fmar_db_pool_waiting')).toBe(0);
  });

  it('is for the operator only: an FSP is refused with the scope it lacks', async () => {
    const r = await hub.api('GET', '/api/v1/metrics', { as: 'fsp-a' });
    expect(r.status).toBe(403);
    expect(r.json.code).toBe('AUTH-SCOPE-MISSING');
  });
});

describe('FMAR_REQUEST_METRICS=false', () => {
  it('counts no request and serves no request series; the backlogs, pool and token series are served as before', async () => {
    expect(loadConfig({}).requestMetrics).toBe(true);
    expect(() => loadConfig({ FMAR_REQUEST_METRICS: 'off' })).toThrow(ConfigError);
    const off = await testHub({ env: { FMAR_REQUEST_METRICS: 'false' } });
    try {
      expect(off.cfg.requestMetrics).toBe(false);
      expect((await off.call('GET', '/api/v1/catalogues', { as: 'fsp-a' })).status).toBe(200);
      expect((await off.call('GET', '/api/v1/assets/01JZZZZZZZZZZZZZZZZZZZZZZZ', { as: 'fsp-a' })).status).toBe(404);
      const r = await off.call('GET', '/api/v1/metrics', { as: 'operator' });
      expect(r.status).toBe(200);
      const names = new Set([...r.text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
      expect([...names].filter((n) => n.startsWith('fmar_http_'))).toEqual([]);
      for (const n of ['fmar_tokens_issued_total', 'fmar_webhook_deliveries', 'fmar_audit_unsealed', 'fmar_db_pool_size'])
        expect(names.has(n)).toBe(true);
    } finally {
      await off.close();
    }
  });
});

describe('database pool use', () => {
  it('counts statements and transactions in flight: busy up to the pool size, waiting beyond it', async () => {
    const { db, drop } = await testDb();
    try {
      const size = db.engine === 'pglite' ? 1 : 4;
      expect(db.use!()).toEqual({ size, busy: 0, waiting: 0 });
      let open!: () => void;
      const held = new Promise<void>((r) => (open = r));
      let entered!: () => void;
      const inside = new Promise<void>((r) => (entered = r));
      const tx = db.transaction(async (t) => {
        await t.query('SELECT 1');
        entered();
        await held;
      });
      await inside;
      // One transaction holds a connection; two statements more are in flight (PGlite: waiting for it).
      const more = [db.query('SELECT 1'), db.query('SELECT 2')];
      expect(db.use!()).toEqual({ size, busy: Math.min(3, size), waiting: Math.max(0, 3 - size) });
      open();
      await tx;
      await Promise.all(more);
      expect(db.use!()).toEqual({ size, busy: 0, waiting: 0 });
    } finally {
      await db.close();
      await drop();
    }
  });
});

describe('GET /readyz', () => {
  it('is ready when the database answers, every migration is applied and signing keys are loaded; says which check fails otherwise', async () => {
    const ports = hub.node.hub.ports;
    const ready = await fetch(`${hub.base}/readyz`);
    expect(ready.status).toBe(200);
    expect((await ready.json()).checks).toEqual({ database: 'ok', migrations: 'ok', signingKeys: 'ok' });

    const expected = ports.expectedMigrations!;
    ports.expectedMigrations = [...expected, '999_from_a_newer_release'];
    ports.stalledJobs = () => ['webhook-delivery'];
    try {
      const notReady = await fetch(`${hub.base}/readyz`);
      expect(notReady.status).toBe(503);
      const body = await notReady.json();
      expect(body.status).toBe('not-ready');
      expect(body.checks).toEqual({
        database: 'ok',
        migrations: 'pending: 999_from_a_newer_release (run npx fmar migrate)',
        signingKeys: 'ok',
        jobs: 'stalled: webhook-delivery',
      });
      // Liveness is not readiness: the process is up.
      expect((await fetch(`${hub.base}/healthz`)).status).toBe(200);
    } finally {
      ports.expectedMigrations = expected;
      delete ports.stalledJobs;
    }
  });

  it('says the hub is stopping once it has begun to stop (SIGTERM), on /healthz and /readyz', async () => {
    const ports = hub.node.hub.ports;
    ports.stopping = () => true;
    try {
      const health = await fetch(`${hub.base}/healthz`);
      expect(health.status).toBe(503);
      expect((await health.json()).status).toBe('stopping');
      const ready = await fetch(`${hub.base}/readyz`);
      expect(ready.status).toBe(503);
      const body = await ready.json();
      expect(body.status).toBe('not-ready');
      expect(body.checks).toEqual({ shutdown: 'stopping', database: 'ok', migrations: 'ok', signingKeys: 'ok' });
    } finally {
      delete ports.stopping;
    }
    expect((await fetch(`${hub.base}/healthz`)).status).toBe(200);
  });
});
