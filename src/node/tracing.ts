import type { Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { tracesUrl } from '../config';

export { tracesUrl };

/**
 * Traces on Node (docs/operations.md, "Traces"): a tracer provider exporting over OTLP/HTTP (JSON
 * bodies) in batches, made only when an endpoint is configured with the standard variables
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (the traces URL, as given) or OTEL_EXPORTER_OTLP_ENDPOINT (a
 * base URL, `/v1/traces` appended). Without one, or with OTEL_SDK_DISABLED=true, there is no provider
 * and nothing in the hub makes a span.
 */
export interface Tracing {
  tracer: Tracer;
  /** Where spans go. */
  url: string;
  /** Send the spans ended so far. */
  flush(): Promise<void>;
  /** Send what is left and stop (on shutdown). */
  shutdown(): Promise<void>;
}

/** Start tracing when the environment names an endpoint; undefined otherwise (no provider, no cost). */
export function startTracing(env: Record<string, string | undefined>): Tracing | undefined {
  const url = tracesUrl(env);
  if (!url) return undefined;
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: env.OTEL_SERVICE_NAME?.trim() || 'fmar-hub' }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }))],
  });
  // The context manager (AsyncLocalStorage) that makes a request's span the parent of its database statements.
  provider.register();
  return {
    tracer: provider.getTracer('fmar-hub'),
    url,
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}
