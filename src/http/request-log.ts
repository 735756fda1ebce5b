import { context as otelContext, type Tracer } from '@opentelemetry/api';
import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { endRequestSpan, parseTraceparent, startRequestSpan, traceFields } from './tracing';

/**
 * Structured logs: one JSON line per request and per background job run, written by a Logger port
 * (Node: standard output; Workers: console.log, which Workers Logs reads as JSON). Each request gets
 * an ID: the caller's `X-Request-Id` when it is a sane token, else the trace ID of a W3C
 * `traceparent`, else a fresh one. It is returned in `X-Request-Id`, written as the `instance` of
 * every problem body (`urn:fmar:request:<id>`), and carried by the principal into the audit records
 * the request writes. A line never holds a token, secret, password or consent token: it names the
 * route template, never the query or the body. With tracing on (src/http/tracing.ts) the line also
 * carries the trace and span IDs of the request's span.
 */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Logger {
  /** Lines below this level are dropped. */
  readonly level: LogLevel;
  write(level: Exclude<LogLevel, 'silent'>, msg: string, fields: Record<string, unknown>): void;
}

/**
 * A logger writing one JSON object per line through `out` (standard output, console.log, a test's array).
 * The line is put together as a string, the fixed keys first, the given fields in their order with
 * undefined ones left out (as JSON.stringify would): the per-request line then costs one small
 * JSON.stringify per value rather than an object spread and a stringify of the whole (bench/observability.ts).
 */
export function jsonLogger(level: LogLevel, out: (line: string) => void, now: () => Date = () => new Date()): Logger {
  const min = LOG_LEVELS.indexOf(level);
  return {
    level,
    write(l, msg, fields) {
      if (LOG_LEVELS.indexOf(l) < min) return;
      let line = `{"time":"${now().toISOString()}","level":"${l}","msg":${JSON.stringify(msg)}`;
      for (const k in fields) {
        const v = fields[k];
        if (v === undefined || k === 'time' || k === 'level' || k === 'msg') continue;
        const j = typeof v === 'number' && Number.isFinite(v) ? String(v) : (JSON.stringify(v) as string | undefined);
        if (j !== undefined) line += `,${JSON.stringify(k)}:${j}`;
      }
      out(line + '}');
    },
  };
}
export const silentLogger: Logger = { level: 'silent', write: () => {} };

/** A caller's request ID is kept when it is 1–128 visible ASCII characters (no spaces, quotes or backslashes). */
const CALLER_ID = /^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/;
export function requestIdOf(header: (name: string) => string | undefined, fresh: () => string): string {
  const given = header('x-request-id')?.trim();
  if (given && CALLER_ID.test(given)) return given;
  return parseTraceparent(header('traceparent'))?.traceId ?? fresh();
}

export const requestInstance = (id: string) => `urn:fmar:request:${id}`;

export type RequestEnv = { Variables: { requestId: string } };

/** What the request log reads of the principal, when the request was authenticated. */
interface Who {
  organisationId?: string;
  clientId?: string;
}

/** What a request's end reports to the metrics (src/http/metrics.ts). */
export type RequestObservation = { route: string; method: string; status: number; seconds: number; code?: string };

export interface RequestLogOptions {
  observe?: (o: RequestObservation) => void;
  /** A span per request (src/http/tracing.ts); absent: no tracing at all. */
  tracer?: Tracer;
  now?: () => number;
}

/**
 * The outermost middleware: request ID in, `X-Request-Id` and problem `instance` out, one log line
 * and, with a tracer, one server span (child of the caller's `traceparent`) that is the active span
 * while the request runs, so its database statements are its children.
 * The line's `code` is the rule code of a refusal (from the problem body), `route` the template
 * that answered (`/api/v1/assets/:id`), or `(unmatched)`.
 */
export function requestLog(log: Logger, fresh: () => string, o: RequestLogOptions = {}): MiddlewareHandler {
  const now = o.now ?? (() => performance.now());
  return async (c: Context, next) => {
    const id = requestIdOf((n) => c.req.header(n), fresh);
    c.set('requestId', id);
    const t0 = now();
    const traced = o.tracer && startRequestSpan(o.tracer, c.req.method, (n) => c.req.header(n));
    // A span the sampler dropped is not made active: its request then pays nothing for context propagation.
    if (traced?.span.isRecording()) {
      try {
        await otelContext.with(traced.context, next);
      } catch (e) {
        // Hono answers a thrown error itself (onError); a throw reaching here still ends the span.
        traced.span.end();
        throw e;
      }
    } else await next();
    let code: string | undefined;
    if (c.res.headers.get('content-type')?.startsWith('application/problem+json')) {
      const body = (await c.res
        .clone()
        .json()
        .catch(() => undefined)) as Record<string, unknown> | undefined;
      if (body && typeof body === 'object') {
        code = typeof body.code === 'string' ? body.code : undefined;
        const { status, headers } = c.res;
        // Hono copies the old response's headers onto the new one: its length no longer holds.
        c.res = new Response(JSON.stringify({ ...body, instance: requestInstance(id) }), { status, headers });
        c.res.headers.delete('content-length');
      }
    }
    try {
      c.res.headers.set('x-request-id', id);
    } catch {
      // A response whose headers are immutable (one fetched from elsewhere, e.g. a Workers asset): answer a copy.
      c.res = new Response(c.res.body, c.res);
      c.res.headers.set('x-request-id', id);
    }
    const res = c.res;
    // The handler's own route (middlewares are registered for every method): its template, whether or not a middleware answered first.
    const route = matchedRoutes(c).findLast((r) => r.method !== 'ALL')?.path ?? '(unmatched)';
    const ms = now() - t0;
    o.observe?.({ route, method: c.req.method, status: res.status, seconds: ms / 1000, code });
    const who = (c.get('principal') as Who | undefined) ?? {};
    if (traced)
      endRequestSpan(traced.span, c.req.method, {
        route,
        status: res.status,
        requestId: id,
        code,
        organisationId: who.organisationId,
        clientId: who.clientId,
      });
    writeRequestLine(log, {
      requestId: id,
      method: c.req.method,
      route,
      status: res.status,
      ms,
      organisationId: who.organisationId,
      clientId: who.clientId,
      code,
      trace: traced ? traceFields(traced.span) : undefined,
    });
  };
}

/** One request's log line (the API's, written by requestLog; the OpenID provider's, by the Node server). */
export function writeRequestLine(
  log: Logger,
  l: {
    requestId: string;
    method: string;
    route: string;
    status: number;
    ms: number;
    organisationId?: string;
    clientId?: string;
    code?: string;
    trace?: { traceId: string; spanId: string };
  },
): void {
  if (log.level === 'silent') return;
  // Undefined fields are left out of the line (jsonLogger); no object spread per request.
  log.write(l.status >= 500 ? 'error' : 'info', 'request', {
    requestId: l.requestId,
    method: l.method,
    route: l.route,
    status: l.status,
    durationMs: Math.round(l.ms * 10) / 10,
    organisationId: l.organisationId || undefined,
    clientId: l.clientId || undefined,
    code: l.code || undefined,
    traceId: l.trace?.traceId,
    spanId: l.trace?.spanId,
  });
}
