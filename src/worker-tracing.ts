import { TraceFlags, context, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type ReadableSpan,
  type Sampler,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { ConfigError, tracesUrl } from './config';

/**
 * Traces on Workers (docs/workers.md, "Traces"): the same spans as on Node (a request, its database
 * statements, a Cron Trigger's job runs), posted as OTLP/HTTP JSON with fetch when an endpoint is
 * configured (the same OTEL_* variables as on Node), and nothing at all when none is. An isolate has
 * no timer that outlives an invocation, so spans are held as they end and each invocation posts the
 * ones ended so far at its end, in `waitUntil`. No runtime imports here: the tests load it under Node.
 */
export interface WorkerTracing {
  tracer: Tracer;
  /** Where spans go. */
  url: string;
  /** Post the spans ended so far (none: no request). */
  flush(): Promise<void>;
}

/** Spans held from their end until the invocation's flush; one not sampled is never held. */
class HeldSpans implements SpanProcessor {
  private held: ReadableSpan[] = [];
  onStart(): void {}
  onEnd(span: ReadableSpan): void {
    if (span.spanContext().traceFlags & TraceFlags.SAMPLED) this.held.push(span);
  }
  take(): ReadableSpan[] {
    const spans = this.held;
    this.held = [];
    return spans;
  }
  async forceFlush(): Promise<void> {}
  async shutdown(): Promise<void> {}
}

/** OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG, read from the Worker's settings (not process.env). */
export function samplerOf(env: Record<string, string | undefined>): Sampler {
  const name = (env.OTEL_TRACES_SAMPLER ?? 'parentbased_always_on').trim().toLowerCase();
  const arg = env.OTEL_TRACES_SAMPLER_ARG?.trim();
  const ratio = arg ? Number(arg) : 1;
  if (!(ratio >= 0 && ratio <= 1)) throw new ConfigError(`OTEL_TRACES_SAMPLER_ARG must be a ratio from 0 to 1, not ${arg}`);
  const root: Record<string, () => Sampler> = {
    always_on: () => new AlwaysOnSampler(),
    always_off: () => new AlwaysOffSampler(),
    traceidratio: () => new TraceIdRatioBasedSampler(ratio),
  };
  const base = name.replace(/^parentbased_/, '');
  if (!root[base])
    throw new ConfigError(`OTEL_TRACES_SAMPLER must be one of ${Object.keys(root).join(', ')} (or parentbased_ of one), not ${name}`);
  return name.startsWith('parentbased_') ? new ParentBasedSampler({ root: root[base]() }) : root[base]();
}

/** OTEL_EXPORTER_OTLP_TRACES_HEADERS, else OTEL_EXPORTER_OTLP_HEADERS: `key=value,key=value` (values URL-encoded), e.g. a collector's API key. */
export function otlpHeaders(env: Record<string, string | undefined>): Record<string, string> {
  const raw = env.OTEL_EXPORTER_OTLP_TRACES_HEADERS ?? env.OTEL_EXPORTER_OTLP_HEADERS ?? '';
  const out: Record<string, string> = {};
  for (const pair of raw.split(',')) {
    const i = pair.indexOf('=');
    if (i > 0) out[pair.slice(0, i).trim().toLowerCase()] = decodeURIComponent(pair.slice(i + 1).trim());
  }
  return out;
}

let contextManagerSet = false;

/** Tracing for this isolate when the settings name an OTLP endpoint; undefined otherwise (no provider, no span, no cost). */
export function workerTracing(
  env: Record<string, string | undefined>,
  post: typeof fetch = (input, init) => fetch(input, init),
): WorkerTracing | undefined {
  const url = tracesUrl(env);
  if (!url) return undefined;
  const held = new HeldSpans();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: env.OTEL_SERVICE_NAME?.trim() || 'fmar-hub' }),
    sampler: samplerOf(env),
    spanProcessors: [held],
  });
  // The active span follows a request through its awaits (AsyncLocalStorage, nodejs_compat), so its statements are its children.
  if (!contextManagerSet) contextManagerSet = context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const headers = { 'content-type': 'application/json', ...otlpHeaders(env) };
  return {
    tracer: provider.getTracer('fmar-hub'),
    url,
    async flush() {
      const spans = held.take();
      if (!spans.length) return;
      const body = JsonTraceSerializer.serializeRequest(spans) as Uint8Array<ArrayBuffer> | undefined;
      if (!body) return;
      try {
        const r = await post(url, { method: 'POST', headers, body });
        await r.body?.cancel();
        if (!r.ok) console.error(`[fmar] OTLP export of ${spans.length} spans to ${url}: HTTP ${r.status}`);
      } catch (e) {
        // A collector that is down loses these spans, never a request.
        console.error(`[fmar] OTLP export of ${spans.length} spans to ${url}: ${(e as Error).message}`);
      }
    },
  };
}
