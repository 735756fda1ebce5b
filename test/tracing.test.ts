import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ProxyTracerProvider, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemPrincipal } from '../src/access/principal';
import type { OrganisationRole } from '../src/access/roles';
import { loadConfig } from '../src/config';
import type { Ctx } from '../src/context';
import { DEMO_ORGANISATIONS, seedDemo } from '../src/demo/seed';
import { standardHooks } from '../src/hooks';
import { jsonLogger } from '../src/http/request-log';
import { parseTraceparent } from '../src/http/tracing';
import { BACKGROUND_JOBS, runScheduledJobs } from '../src/jobs';
import { identityRoute, startNodeHub, type NodeHub } from '../src/node/server';
import { startTracing, tracesUrl, type Tracing } from '../src/node/tracing';
import { tracedDb } from '../src/storage/traced';
import type { Db } from '../src/storage/db';
import { DEMO, batteryInput, freePort, nodeTestHub, testDb } from './harness';

/**
 * Traces (docs/operations.md, "Traces"): a local HTTP receiver stands in for the OpenTelemetry
 * collector (the OTLP/HTTP exporter posts JSON to it). One request sent with a `traceparent` is a
 * server span whose parent is the caller's span, its database statements are its children, a
 * background job run is a root span of its own; the log line names the same trace. With no endpoint
 * there is no tracer provider and nothing is sent.
 */

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  status?: { code?: number };
  service: string;
}

/** The stand-in collector: every span posted to /v1/traces, with its attributes flattened. */
class Receiver {
  posts = 0;
  spans: OtlpSpan[] = [];
  server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.posts++;
      expect(req.url).toBe('/v1/traces');
      expect(req.headers['content-type']).toBe('application/json');
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      for (const rs of body.resourceSpans ?? []) {
        const service = attrs(rs.resource?.attributes)['service.name'] as string;
        for (const ss of rs.scopeSpans ?? [])
          for (const s of ss.spans ?? []) this.spans.push({ ...s, attributes: attrs(s.attributes), service });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  url = '';
  async start() {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  close() {
    return new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** OTLP JSON attributes ([{key, value: {stringValue|intValue|boolValue|…}}]) as a plain object. */
function attrs(list: { key: string; value: Record<string, unknown> }[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of list ?? []) {
    const v = Object.values(a.value)[0];
    out[a.key] = 'intValue' in a.value ? Number(v) : v;
  }
  return out;
}

const SERVER = 2;
const CLIENT = 3;
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';

describe('with no OTLP endpoint', () => {
  it('makes no tracer provider, wraps nothing and sends nothing', async () => {
    expect(startTracing({})).toBeUndefined();
    expect(startTracing({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).toBeUndefined();
    const receiver = new Receiver();
    await receiver.start();
    const hub = await nodeTestHub({ OTEL_EXPORTER_OTLP_ENDPOINT: '' });
    try {
      expect(hub.node.hub.ports.tracer).toBeUndefined();
      const r = await hub.api('GET', '/api/v1/catalogues', { as: 'fsp-a', headers: { traceparent: `00-${TRACE}-${PARENT}-01` } });
      expect(r.status).toBe(200);
      await runScheduledJobs(
        '* * * * *',
        { ctx: hub.ctx, source: hub.base, production: false, maxCimBytes: 1, worker: 'test' },
        {
          jobs: BACKGROUND_JOBS.filter((j) => j.name === 'audit-seal'),
        },
      );
      // No provider was ever registered: the API's global one is still the no-op.
      expect((trace.getTracerProvider() as ProxyTracerProvider).getDelegate().constructor.name).toBe('NoopTracerProvider');
      await new Promise((r) => setTimeout(r, 200));
      expect(receiver.posts).toBe(0);
    } finally {
      await hub.close();
      await receiver.close();
    }
  }, 120_000);

  it('reads the standard variables: the traces endpoint as given, else the base endpoint with /v1/traces', () => {
    expect(tracesUrl({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/custom' })).toBe('http://collector:4318/custom');
    expect(tracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })).toBe('http://collector:4318/v1/traces');
    expect(tracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://b/v1/traces' })).toBe(
      'https://b/v1/traces',
    );
    expect(() => tracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow('the OTLP endpoint must be an http(s) URL');
  });
});

describe('with an OTLP endpoint', () => {
  const receiver = new Receiver();
  const lines: Record<string, unknown>[] = [];
  let tracing: Tracing;
  let node: NodeHub;
  let db: Db;
  let drop: () => Promise<void>;
  let base: string;
  let ctx: Ctx;
  const token = (key: keyof typeof DEMO) => {
    const o = DEMO_ORGANISATIONS.find((d) => d.key === key)!;
    return node.hub.signer!.sign({ sub: `test-${key}`, org: o.id, roles: o.roles as OrganisationRole[] });
  };

  beforeAll(async () => {
    await receiver.start();
    tracing = startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'fmar-test' })!;
    expect(tracing.url).toBe(`${receiver.url}/v1/traces`);
    const made = await testDb();
    drop = made.drop;
    db = tracedDb(made.db, tracing.tracer);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const cfg = loadConfig({
      FMAR_MODE: 'development',
      FMAR_BASE_URL: base,
      PORT: String(port),
      FMAR_RATE_LIMIT_CLIENT_PER_MINUTE: '0',
      FMAR_RATE_LIMIT_ORG_PER_MINUTE: '0',
    });
    node = await startNodeHub(cfg, db, {
      port,
      host: '127.0.0.1',
      log: jsonLogger('info', (l) => lines.push(JSON.parse(l) as Record<string, unknown>)),
      tracer: tracing.tracer,
    });
    ctx = { db, clock: node.hub.ports.clock, ids: node.hub.ports.ids, hooks: standardHooks() };
    await seedDemo(ctx, systemPrincipal('seed'));
  }, 120_000);
  afterAll(async () => {
    await node.close();
    await tracing.shutdown();
    await db.close();
    await drop();
    await receiver.close();
  });

  it("exports a request's server span, child of the caller's traceparent, with its database statements as children; the log line names the same trace", async () => {
    const auth = { authorization: `Bearer ${await token('fsp-a')}` };
    const created = await fetch(`${base}/api/v1/assets`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify(batteryInput(8101)),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };

    const r = await fetch(`${base}/api/v1/assets/${id}`, { headers: { ...auth, traceparent: `00-${TRACE}-${PARENT}-01` } });
    expect(r.status).toBe(200);
    // No X-Request-Id was sent: the request ID is the trace ID.
    expect(r.headers.get('x-request-id')).toBe(TRACE);
    await tracing.flush();

    const servers = receiver.spans.filter((s) => s.traceId === TRACE && s.kind === SERVER);
    expect(servers).toHaveLength(1);
    const span = servers[0];
    expect(span.parentSpanId).toBe(PARENT);
    expect(span.name).toBe('GET /api/v1/assets/:id');
    expect(span.service).toBe('fmar-test');
    expect(span.attributes).toEqual({
      'http.request.method': 'GET',
      'http.route': '/api/v1/assets/:id',
      'http.response.status_code': 200,
      'fmar.request_id': TRACE,
      'fmar.organisation_id': DEMO['fsp-a'],
      'fmar.client_id': expect.any(String),
    });

    const statements = receiver.spans.filter((s) => s.parentSpanId === span.spanId);
    expect(statements.length).toBeGreaterThanOrEqual(1);
    for (const s of statements) {
      expect(s.traceId).toBe(TRACE);
      expect(s.kind).toBe(CLIENT);
      expect(s.attributes['db.system.name']).toBe('postgresql');
      expect(s.attributes['fmar.db.engine']).toBe(db.engine);
    }
    const read = statements.find((s) => /FROM asset a\b|FROM asset\b/.test(String(s.attributes['db.query.text'])));
    expect(read, statements.map((s) => s.attributes['db.query.text']).join('\n')).toBeDefined();
    expect(read!.name).toBe(read!.attributes['db.operation.name']);
    // Parameters never travel: the statement's text has its placeholders, not the asset's ID.
    for (const s of statements) expect(String(s.attributes['db.query.text'])).not.toContain(id);

    const line = lines.find((l) => l.requestId === TRACE)!;
    expect(line).toMatchObject({ msg: 'request', route: '/api/v1/assets/:id', status: 200, traceId: TRACE, spanId: span.spanId });
  });

  it('gives a request without a traceparent a trace of its own, and a refusal its rule code', async () => {
    const r = await fetch(`${base}/api/v1/assets/01JZZZZZZZZZZZZZZZZZZZZZZZ`, {
      headers: { authorization: `Bearer ${await token('fsp-a')}`, 'x-request-id': 'probe-404' },
    });
    expect(r.status).toBe(404);
    await tracing.flush();
    const spans = receiver.spans.filter((s) => s.kind === SERVER && s.attributes['fmar.request_id'] === 'probe-404');
    expect(spans).toHaveLength(1);
    expect(spans[0].parentSpanId ?? '').toBe('');
    expect(spans[0].attributes['fmar.rule_code']).toBe('ASSET-NOT-FOUND');
    expect(spans[0].attributes['http.response.status_code']).toBe(404);
    const line = lines.find((l) => l.requestId === 'probe-404')!;
    expect(line.traceId).toBe(spans[0].traceId);
  });

  it("follows the caller's sampling decision: a traceparent not sampled (flags 00) exports nothing of that request", async () => {
    const unsampled = 'c'.repeat(32);
    const r = await fetch(`${base}/api/v1/catalogues`, {
      headers: { authorization: `Bearer ${await token('fsp-a')}`, traceparent: `00-${unsampled}-${PARENT}-00` },
    });
    expect(r.status).toBe(200);
    await tracing.flush();
    expect(receiver.spans.filter((s) => s.traceId === unsampled)).toEqual([]);
    // The log line still names the trace the caller will look for.
    expect(lines.find((l) => l.requestId === unsampled)!.traceId).toBe(unsampled);
  });

  it('exports a background job run as a root span, its statements as children', async () => {
    const [{ n }] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_log WHERE seq IS NULL`);
    expect(n).toBeGreaterThan(0);
    const report = await runScheduledJobs(
      '* * * * *',
      { ctx, source: base, production: false, maxCimBytes: 1, worker: 'test', tracer: tracing.tracer },
      { jobs: BACKGROUND_JOBS.filter((j) => j.name === 'audit-seal') },
    );
    expect(report).toEqual({ 'audit-seal': n });
    await tracing.flush();
    const runs = receiver.spans.filter((s) => s.name === 'job audit-seal');
    expect(runs).toHaveLength(1);
    expect(runs[0].parentSpanId ?? '').toBe('');
    expect(runs[0].attributes).toEqual({ 'fmar.job.name': 'audit-seal', 'fmar.job.did': n });
    const statements = receiver.spans.filter((s) => s.parentSpanId === runs[0].spanId);
    expect(statements.length).toBeGreaterThanOrEqual(2);
    expect(statements.every((s) => s.kind === CLIENT && s.traceId === runs[0].traceId)).toBe(true);
    // The sealing transaction's statements are children too (the driver's callback keeps the run's span).
    expect(statements.some((s) => s.attributes['fmar.db.in_transaction'] === true)).toBe(true);
  });

  it("logs, counts and traces the OpenID provider's requests, which the app never sees", async () => {
    const made = await fetch(`${base}/api/v1/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await token('fsp-a')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'trace probe', kind: 'machine', authMethod: 'client_secret_basic', scopes: ['assets:read'] }),
    });
    expect(made.status).toBe(201);
    const c = (await made.json()) as { clientId: string; clientSecret: string };
    const trace2 = 'a'.repeat(31) + 'b';
    const t = await fetch(`${base}/oauth/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${c.clientId}:${c.clientSecret}`).toString('base64')}`,
        traceparent: `00-${trace2}-${PARENT}-01`,
      },
      body: 'grant_type=client_credentials&scope=assets%3Aread',
    });
    expect(t.status).toBe(200);
    expect(t.headers.get('x-request-id')).toBe(trace2);
    const discovery = await fetch(`${base}/.well-known/openid-configuration`, { headers: { 'x-request-id': 'probe-discovery' } });
    expect(discovery.status).toBe(200);
    expect(discovery.headers.get('x-request-id')).toBe('probe-discovery');
    await tracing.flush();

    const line = lines.find((l) => l.requestId === trace2)!;
    expect(line).toMatchObject({ msg: 'request', method: 'POST', route: '/oauth/token', status: 200, traceId: trace2 });
    // Never the client's secret or the token in the line.
    expect(JSON.stringify(line)).not.toContain(c.clientSecret);
    expect(lines.find((l) => l.requestId === 'probe-discovery')).toMatchObject({
      route: '/.well-known/openid-configuration',
      status: 200,
    });
    const span = receiver.spans.find((s) => s.traceId === trace2 && s.kind === SERVER)!;
    expect(span.parentSpanId).toBe(PARENT);
    expect(span.name).toBe('POST /oauth/token');
    expect(span.spanId).toBe(line.spanId);
    // The provider's own database work (client lookup, lockout accounting) is its children.
    expect(receiver.spans.filter((s) => s.parentSpanId === span.spanId && s.kind === CLIENT).length).toBeGreaterThanOrEqual(1);
    const counted = await node.hub.ports.metrics!.registry.getSingleMetricAsString('fmar_http_requests_total');
    expect(counted.split('\n')).toContain('fmar_http_requests_total{route="/oauth/token",method="POST",status="200"} 1');
    expect(counted.split('\n')).toContain(
      'fmar_http_requests_total{route="/.well-known/openid-configuration",method="GET",status="200"} 1',
    );

    // Five failed authentications lock the client: the sixth request is refused 429, rule code AUTH-CLIENT-LOCKED.
    const wrong = `Basic ${Buffer.from(`${c.clientId}:not-the-secret`).toString('base64')}`;
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const x = await fetch(`${base}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: wrong, 'x-request-id': `probe-lock-${i}` },
        body: 'grant_type=client_credentials',
      });
      statuses.push(x.status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    expect(lines.find((l) => l.requestId === 'probe-lock-5')).toMatchObject({
      route: '/oauth/token',
      status: 429,
      code: 'AUTH-CLIENT-LOCKED',
    });
    expect(lines.find((l) => l.requestId === 'probe-lock-4')!.code).toBeUndefined();
    expect((await node.hub.ports.metrics!.registry.getSingleMetricAsString('fmar_http_refusals_total')).split('\n')).toContain(
      'fmar_http_refusals_total{code="AUTH-CLIENT-LOCKED"} 1',
    );
  });
});

describe('identityRoute', () => {
  it("names the provider's requests by template, never with an ID, and leaves the app's alone", () => {
    expect(identityRoute('/oauth/token')).toBe('/oauth/token');
    expect(identityRoute('/oauth/logout/confirm')).toBe('/oauth/logout/confirm');
    expect(identityRoute('/oauth/authorize/Xy12_ab')).toBe('/oauth/authorize/:uid');
    expect(identityRoute('/oauth/anything-else')).toBe('/oauth/(other)');
    expect(identityRoute('/.well-known/openid-configuration')).toBe('/.well-known/openid-configuration');
    expect(identityRoute('/interaction/abcDEF123')).toBe('/interaction/:uid');
    expect(identityRoute('/interaction/abcDEF123/login')).toBe('/interaction/:uid/login');
    expect(identityRoute('/interaction/abc/other')).toBeUndefined();
    expect(identityRoute('/api/v1/assets')).toBeUndefined();
  });

  it('parseTraceparent refuses what W3C trace context calls invalid', () => {
    expect(parseTraceparent(`00-${TRACE}-${PARENT}-01`)).toEqual({ traceId: TRACE, spanId: PARENT, flags: 1 });
    expect(parseTraceparent(`ff-${TRACE}-${PARENT}-01`)).toBeUndefined();
    expect(parseTraceparent(`00-${'0'.repeat(32)}-${PARENT}-01`)).toBeUndefined();
    expect(parseTraceparent(`00-${TRACE}-${'0'.repeat(16)}-01`)).toBeUndefined();
  });
});
