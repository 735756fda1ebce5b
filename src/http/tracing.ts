import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  createTraceState,
  trace,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
} from '@opentelemetry/semantic-conventions';

/**
 * Traces (docs/operations.md, "Traces"): OpenTelemetry spans for requests, database statements
 * (src/storage/traced.ts) and background job runs (src/jobs.ts). The kernel sees only the
 * OpenTelemetry API and a `Tracer` it is given; the Node entry makes one (src/node/tracing.ts)
 * only when an OTLP endpoint is configured. Without one nothing here runs: no span, no wrapper.
 */

/** W3C trace context: version-traceid-parentid-flags (https://www.w3.org/TR/trace-context/#traceparent-header). */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export interface Traceparent {
  traceId: string;
  spanId: string;
  flags: number;
}

/** A `traceparent` header, or undefined when it is not valid (version ff, an all-zero trace or parent ID). */
export function parseTraceparent(value: string | undefined): Traceparent | undefined {
  const m = TRACEPARENT.exec(value?.trim().toLowerCase() ?? '');
  if (!m || m[1] === 'ff' || /^0+$/.test(m[2]) || /^0+$/.test(m[3])) return undefined;
  return { traceId: m[2], spanId: m[3], flags: parseInt(m[4], 16) };
}

/** The context a request's span starts in: the caller's span when it sent a valid `traceparent`, else none. */
export function remoteParent(traceparent: string | undefined, tracestate: string | undefined): Context {
  const p = parseTraceparent(traceparent);
  if (!p) return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: p.traceId,
    spanId: p.spanId,
    traceFlags: p.flags & TraceFlags.SAMPLED,
    isRemote: true,
    ...(tracestate ? { traceState: createTraceState(tracestate) } : {}),
  });
}

/** A request's server span, child of the caller's `traceparent`; the returned context makes it the active span. */
export function startRequestSpan(
  tracer: Tracer,
  method: string,
  header: (name: string) => string | undefined,
): { span: Span; context: Context } {
  const parent = remoteParent(header('traceparent'), header('tracestate'));
  const span = tracer.startSpan(method, { kind: SpanKind.SERVER, attributes: { [ATTR_HTTP_REQUEST_METHOD]: method } }, parent);
  return { span, context: trace.setSpan(parent, span) };
}

/** What a request's span carries once it is answered (the same facts as its log line). */
export interface RequestOutcome {
  route: string;
  status: number;
  requestId: string;
  code?: string;
  organisationId?: string;
  clientId?: string;
}

/** Name the span by its route template, set its attributes and end it; a 5xx is an error. */
export function endRequestSpan(span: Span, method: string, o: RequestOutcome): void {
  span.updateName(`${method} ${o.route}`);
  span.setAttributes({
    [ATTR_HTTP_ROUTE]: o.route,
    [ATTR_HTTP_RESPONSE_STATUS_CODE]: o.status,
    'fmar.request_id': o.requestId,
    ...(o.code ? { 'fmar.rule_code': o.code } : {}),
    ...(o.organisationId ? { 'fmar.organisation_id': o.organisationId } : {}),
    ...(o.clientId ? { 'fmar.client_id': o.clientId } : {}),
  });
  if (o.status >= 500) {
    span.setAttribute(ATTR_ERROR_TYPE, String(o.status));
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

/** The trace and span IDs a log line carries, so a line leads to its trace. */
export function traceFields(span: Span): { traceId: string; spanId: string } {
  const c = span.spanContext();
  return { traceId: c.traceId, spanId: c.spanId };
}

/** Record a thrown error on a span and mark it failed. */
export function spanFailed(span: Span, e: unknown): void {
  span.recordException(e instanceof Error ? e : String(e));
  span.setStatus({ code: SpanStatusCode.ERROR, message: e instanceof Error ? e.message : String(e) });
}
