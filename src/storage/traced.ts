import { SpanKind, SpanStatusCode, context, trace, type Tracer } from '@opentelemetry/api';
import { ATTR_DB_OPERATION_NAME, ATTR_DB_QUERY_TEXT, ATTR_DB_SYSTEM_NAME } from '@opentelemetry/semantic-conventions';
import type { Db, Sql } from './db';

/** Statements longer than this are cut in the span (bulk statements carry their JSON as a parameter, never in the text). */
const MAX_TEXT = 2_000;

/**
 * The database port with a client span per statement (docs/operations.md, "Traces"), child of the
 * active span (a request's or a job run's). The span carries the statement's text with its `$n`
 * placeholders, never the parameters' values. A statement outside any request or job run (migrations
 * and demo data at start-up) makes no span. Used only when tracing is on (src/node.ts).
 */
export function tracedDb(db: Db, tracer: Tracer): Db {
  const wrap = (s: Sql, inTransaction: boolean): Sql => ({
    async query<T extends object>(text: string, params?: unknown[]): Promise<T[]> {
      if (!trace.getSpan(context.active())) return s.query<T>(text, params);
      const operation = /^\s*([A-Za-z]+)/.exec(text)?.[1]?.toUpperCase() ?? 'SQL';
      const span = tracer.startSpan(operation, {
        kind: SpanKind.CLIENT,
        attributes: {
          [ATTR_DB_SYSTEM_NAME]: 'postgresql',
          [ATTR_DB_OPERATION_NAME]: operation,
          [ATTR_DB_QUERY_TEXT]: text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text,
          'fmar.db.engine': db.engine,
          ...(inTransaction ? { 'fmar.db.in_transaction': true } : {}),
        },
      });
      try {
        const rows = await s.query<T>(text, params);
        span.setAttribute('db.response.returned_rows', rows.length);
        return rows;
      } catch (e) {
        // The error's message and SQLSTATE, never the parameters.
        span.recordException(e instanceof Error ? e : String(e));
        span.setStatus({ code: SpanStatusCode.ERROR, message: e instanceof Error ? e.message : String(e) });
        throw e;
      } finally {
        span.end();
      }
    },
  });
  const top = wrap(db, false);
  return {
    engine: db.engine,
    query: (text, params) => top.query(text, params),
    close: () => db.close(),
    ...(db.use ? { use: () => db.use!() } : {}),
    transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
      // The driver may call fn from its own callbacks (a connection came free): keep the caller's span active inside.
      const active = context.active();
      return db.transaction((tx) => context.with(active, () => fn(wrap(tx, true))));
    },
  };
}
