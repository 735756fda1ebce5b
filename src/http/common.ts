import { z } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import type { Db } from '../storage/db';
import type { Clock } from '../ports';
import { Problem, fieldError } from './problem';
import { fieldErrorsFromZod, unstorableTextAt } from './validation';

/** What the HTTP middleware reads of the caller that `authenticate` (src/access/auth.ts) puts on the context. */
export interface Caller {
  organisationId: string;
  clientId?: string;
}
export type CallerEnv = { Variables: { principal: Caller } };

/** One offending field: where, which rule (docs/rules.md), what to do. */
export const FieldErrorSchema = z.object({ field: z.string(), code: z.string(), detail: z.string() }).openapi('FieldError');

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.string().openapi({ description: 'Stable rule code, listed in docs/rules.md' }),
    detail: z.string(),
    errors: z.array(FieldErrorSchema).optional(),
  })
  .passthrough()
  .openapi('Problem');

const problemContent = { 'application/problem+json': { schema: ProblemSchema } };
/** The problem responses every protected route can give, for the OpenAPI document. */
export const problemResponses = (...statuses: number[]) =>
  Object.fromEntries(
    [400, 401, 403, 422, 429, ...statuses].map((s) => [s, { description: PROBLEM_TEXT[s] ?? 'Problem', content: problemContent }]),
  );
const PROBLEM_TEXT: Record<number, string> = {
  400: 'Malformed request',
  401: 'Missing or invalid access token',
  403: 'Scope or role does not allow this',
  404: 'Not found or not visible to the caller',
  409: 'Conflict with a registered record',
  412: 'Stale If-Match',
  413: 'Body too large',
  415: 'Unsupported media type',
  422: 'Invalid fields (per-field rule codes)',
  428: 'If-Match required',
  429: 'Rate limited',
};

export const security = [{ bearerAuth: [] as string[] }];

/** A route's JSON content description (request body or response) for the OpenAPI document. */
export const json = <T extends z.ZodTypeAny>(schema: T) => ({ 'application/json': { schema } });

/** A keyset page of items: `{ items, nextCursor }` (see Page and encodeCursor). */
export const pageOf = <T extends z.ZodTypeAny>(item: T) => z.object({ items: z.array(item), nextCursor: z.string().nullable() });

/** Hook for @hono/zod-openapi validators: every validation failure is a problem with rule codes. */
export function validationHook(result: { success: boolean; error?: z.ZodError; data?: unknown; target?: string }) {
  // Checked first, valid or not, so that no detail echoes text the register cannot store.
  const bad = unstorableTextAt(result.data);
  if (bad !== undefined) {
    const e = fieldError(
      result.target === 'json' ? bad : bad === '(body)' ? `${result.target}` : `${result.target}.${bad}`,
      'REQUEST-TEXT-INVALID',
    );
    throw new Problem(result.target === 'json' ? 'REQUEST-TEXT-INVALID' : 'REQUEST-QUERY-INVALID', `${e.field}: ${e.detail}`, {}, [e]);
  }
  if (!result.success && result.error) {
    const target = result.target;
    const errors = fieldErrorsFromZod(result.error, result.data, target === 'json' ? '' : target);
    if (target === 'query' || target === 'param' || target === 'header') {
      throw new Problem('REQUEST-QUERY-INVALID', errors.map((e) => `${e.field}: ${e.detail}`).join('; '), {}, errors);
    }
    throw new Problem('REQUEST-VALIDATION', `${errors.length} field(s) invalid`, {}, errors);
  }
}

export const etag = (version: number) => `"${version}"`;

/** The version an If-Match names ("3", W/"3"); absent → 428, unparseable → 412. */
export function requireIfMatch(c: Context): number {
  const h = c.req.header('if-match');
  if (!h) throw new Problem('REQUEST-IF-MATCH-REQUIRED');
  return parseIfMatch(h);
}
export function parseIfMatch(h: string): number {
  const m = /^(?:W\/)?"?(\d{1,9})"?$/.exec(h.trim());
  if (!m) throw new Problem('REQUEST-PRECONDITION-FAILED', `If-Match ${h} is not an ETag this API issued.`);
  return Number(m[1]);
}

export const Page = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100).openapi({ description: 'Page size, 1–1000 (default 100)' }),
  cursor: z.string().max(200).optional().openapi({ description: 'nextCursor of the previous page' }),
});

export function encodeCursor(id: string | undefined): string | null {
  return id
    ? btoa(JSON.stringify({ after: id }))
        .replace(/=+$/, '')
        .replace(/\+/g, '-')
        .replace(/\//g, '_')
    : null;
}
export function decodeCursor(cursor: string | undefined): string | undefined {
  if (!cursor) return undefined;
  try {
    const s = atob(cursor.replace(/-/g, '+').replace(/_/g, '/'));
    const v = JSON.parse(s);
    // Visible ASCII only: a forged cursor cannot carry text the database refuses.
    if (typeof v?.after === 'string' && /^[\x21-\x7e]{1,64}$/.test(v.after)) return v.after;
  } catch {
    /* fall through */
  }
  throw new Problem('REQUEST-CURSOR-INVALID');
}

async function sha256Hex(s: string): Promise<string> {
  const d = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(s));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** What to do when a key comes back with another request: a new key for a new request, the same request to replay. */
export function keyReusedDetail(key: string): string {
  return `Idempotency-Key ${JSON.stringify(key)} was used in the last 24 hours for a different request (method, path, query or body). Send a new Idempotency-Key for a new request; resend the original request unchanged to get its answer again.`;
}

/**
 * Idempotency-Key on writes: the key is claimed before the request runs (so two concurrent requests
 * with one key cannot both run), the first response below 500 is kept for 24 h and replayed for the
 * same request; the same key with a different request is refused; a 5xx releases the key.
 */
export function idempotency(db: Db, clock: Clock): MiddlewareHandler<CallerEnv> {
  return async (c, next) => {
    const key = c.req.header('idempotency-key');
    if (key === undefined) return next();
    if (!/^[\x21-\x7e]{1,255}$/.test(key)) throw new Problem('REQUEST-IDEMPOTENCY-KEY-FORMAT');
    const org = c.get('principal').organisationId;
    const url = new URL(c.req.url);
    const hash = await sha256Hex(
      `${c.req.method} ${url.pathname}${url.search}\n${c.req.header('content-type') ?? ''}\n${await c.req.text()}`,
    );
    const now = clock.now();
    const expired = new Date(now.getTime() - 86_400_000).toISOString();
    const [claimed] = await db.query(
      `INSERT INTO idempotency_record (organisation_id, key, request_hash, status, body, created_at) VALUES ($1, $2, $3, 0, '{}'::jsonb, $4::timestamptz)
       ON CONFLICT (organisation_id, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, status = 0, body = '{}'::jsonb, created_at = EXCLUDED.created_at
         WHERE idempotency_record.created_at <= $5::timestamptz OR (idempotency_record.status = 0 AND idempotency_record.created_at <= $6::timestamptz)
       RETURNING 1 AS claimed`,
      // A claim left by a crashed request is taken over after 5 minutes.
      [org, key, hash, now.toISOString(), expired, new Date(now.getTime() - 300_000).toISOString()],
    );
    if (!claimed) {
      const [prior] = await db.query<{
        request_hash: string;
        status: number;
        body: { contentType: string; text: string; headers?: Record<string, string> };
      }>(`SELECT request_hash, status, body FROM idempotency_record WHERE organisation_id = $1 AND key = $2`, [org, key]);
      if (!prior) throw new Problem('REQUEST-IDEMPOTENCY-IN-PROGRESS');
      if (prior.request_hash !== hash) throw new Problem('REQUEST-IDEMPOTENCY-KEY-REUSED', keyReusedDetail(key));
      if (Number(prior.status) === 0) throw new Problem('REQUEST-IDEMPOTENCY-IN-PROGRESS', undefined, {}, [], 409);
      const body = prior.body;
      return new Response(body.text, {
        status: Number(prior.status),
        headers: { ...(body.headers ?? {}), 'content-type': body.contentType, 'idempotent-replayed': 'true' },
      });
    }
    try {
      await next();
    } catch (e) {
      await db.query(`DELETE FROM idempotency_record WHERE organisation_id = $1 AND key = $2 AND status = 0`, [org, key]);
      throw e;
    }
    if (c.res.status >= 500) {
      await db.query(`DELETE FROM idempotency_record WHERE organisation_id = $1 AND key = $2 AND status = 0`, [org, key]);
      return;
    }
    const res = c.res.clone();
    const headers: Record<string, string> = {};
    for (const h of ['location', 'etag']) {
      const v = res.headers.get(h);
      if (v) headers[h] = v;
    }
    await db.query(`UPDATE idempotency_record SET status = $3, body = $4::jsonb WHERE organisation_id = $1 AND key = $2`, [
      org,
      key,
      res.status,
      { contentType: res.headers.get('content-type') ?? 'application/json', text: await res.text(), headers },
    ]);
  };
}

/** A response body pulled from text chunks one at a time, so a slow reader holds back the producer. */
export function textStream(chunks: AsyncIterable<string>): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  const it = chunks[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { done, value } = await it.next();
        if (done) controller.close();
        else if (value) controller.enqueue(enc.encode(value));
      },
      async cancel() {
        await it.return?.();
      },
    },
    { highWaterMark: 1 },
  );
}
