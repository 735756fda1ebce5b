import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config';
import { requestLog, silentLogger } from '../src/http/request-log';
import type { Db } from '../src/storage/db';
import { tracedDb } from '../src/storage/traced';
import { samplerOf, workerTracing } from '../src/worker-tracing';

/**
 * Traces on Workers (docs/workers.md, "Traces"): the Worker's tracing, run here under Node with the
 * app's own request middleware and database wrapper; the Worker smoke (scripts/worker-smoke.ts)
 * checks the same against a receiver from workerd.
 */

interface Posted {
  url: string;
  headers: Record<string, string>;
  body: {
    resourceSpans: {
      resource: { attributes: { key: string; value: { stringValue?: string } }[] };
      scopeSpans: { spans: { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number }[] }[];
    }[];
  };
}

/** A Worker-like app: the request middleware with the tracer, a route that runs two statements. */
function tracedApp(env: Record<string, string>) {
  const posted: Posted[] = [];
  const tracing = workerTracing(env, async (url, init) => {
    posted.push({
      url: String(url),
      headers: init!.headers as Record<string, string>,
      body: JSON.parse(new TextDecoder().decode(init!.body as Uint8Array)) as Posted['body'],
    });
    return new Response('{}', { status: 200 });
  })!;
  const plain: Db = {
    engine: 'postgres',
    query: async <T extends object>() => [] as T[],
    transaction: (fn) => fn(plain),
    close: async () => {},
  };
  const db = tracedDb(plain, tracing.tracer);
  const app = new Hono();
  app.use(
    '*',
    requestLog(silentLogger, () => 'fresh-id', { tracer: tracing.tracer }),
  );
  app.get('/things/:id', async (c) => {
    await db.query('SELECT 1');
    await new Promise((r) => setTimeout(r, 1));
    await db.transaction((tx) => tx.query('UPDATE thing SET n = n + 1'));
    return c.json({ ok: true });
  });
  return { app, tracing, posted };
}

const spansOf = (p: Posted) => p.body.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));

describe('traces on Workers', () => {
  it('none without an endpoint, or with OTEL_SDK_DISABLED', () => {
    expect(workerTracing({})).toBeUndefined();
    expect(workerTracing({ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector.test:4318' })).toBeUndefined();
  });

  it('posts the request span (child of the caller’s traceparent) and its statements’ spans as OTLP JSON at the invocation’s end', async () => {
    const { app, tracing, posted } = tracedApp({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector.test:4318/',
      OTEL_SERVICE_NAME: 'fmar-test',
      OTEL_EXPORTER_OTLP_HEADERS: 'X-Api-Key=k%3D1',
    });
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const r = await app.request('/things/7', { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
    expect(r.status).toBe(200);
    expect(posted).toEqual([]);
    await tracing.flush();
    expect(posted).toHaveLength(1);
    expect(posted[0].url).toBe('http://collector.test:4318/v1/traces');
    expect(posted[0].headers).toEqual({ 'content-type': 'application/json', 'x-api-key': 'k=1' });
    expect(posted[0].body.resourceSpans[0].resource.attributes).toContainEqual({
      key: 'service.name',
      value: { stringValue: 'fmar-test' },
    });
    const spans = spansOf(posted[0]);
    const server = spans.find((s) => s.name === 'GET /things/:id')!;
    expect(server).toMatchObject({ traceId, parentSpanId: '00f067aa0ba902b7', kind: 2 });
    expect(
      spans
        .filter((s) => s !== server)
        .map((s) => [s.name, s.kind, s.traceId, s.parentSpanId])
        .sort(),
    ).toEqual([
      ['SELECT', 3, traceId, server.spanId],
      ['UPDATE', 3, traceId, server.spanId],
    ]);
    // Each span is posted once.
    await tracing.flush();
    expect(posted).toHaveLength(1);
  });

  it('a sampler from the settings: always_off keeps nothing; a bad sampler is a configuration error', async () => {
    const { app, tracing, posted } = tracedApp({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector.test:4318',
      OTEL_TRACES_SAMPLER: 'always_off',
    });
    expect((await app.request('/things/1')).status).toBe(200);
    await tracing.flush();
    expect(posted).toEqual([]);
    expect(samplerOf({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' }).toString()).toBe(
      'ParentBased{root=TraceIdRatioBased{0.1}, remoteParentSampled=AlwaysOnSampler, remoteParentNotSampled=AlwaysOffSampler, localParentSampled=AlwaysOnSampler, localParentNotSampled=AlwaysOffSampler}',
    );
    expect(() => samplerOf({ OTEL_TRACES_SAMPLER: 'jaeger_remote' })).toThrow(ConfigError);
    expect(() => samplerOf({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' })).toThrow(ConfigError);
  });
});
