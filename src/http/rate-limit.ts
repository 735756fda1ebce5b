import type { MiddlewareHandler } from 'hono';
import type { RateLimitSettings } from '../config';
import type { Clock } from '../ports';
import type { Db, Sql } from '../storage/db';
import type { Caller, CallerEnv } from './common';
import { Problem, problemResponse } from './problem';

/**
 * Abuse limits held in PostgreSQL, so that they hold across every hub instance (Node processes,
 * Worker isolates): requests per minute per API client and per organisation, and lockout after
 * repeated failed client authentication. This module owns rate_limit_counter and rate_limit_lockout.
 *
 * Counting. Fixed windows aligned to the clock (a burst across a boundary can see up to 2·L in 60 s).
 * Each instance counts locally and adds its pending count to the shared row
 * (INSERT … ON CONFLICT DO UPDATE SET count = count + excluded.count RETURNING count) only when
 *  - the key has not been synced for SYNC_INTERVAL_MS (250 ms), or
 *  - m − 1 requests are pending, where m = ceil(10% of L) (this is what bounds the overshoot), or
 *  - the locally known total is within m of the limit L: then every request is its own upsert and
 *    is admitted only if the total it returns is ≤ L, so the limit is exact near the edge.
 * Far from the edge most requests cost no round trip. The request that triggers a sync waits for it
 * rather than leaving it to run after the response: on Workers the connection is the request's.
 *
 * Worst-case overshoot across N instances: an instance holds at most m − 1 admitted requests that
 * PostgreSQL has not seen, and once a sync shows it the shared total is within m of L it asks
 * PostgreSQL for every request. So one window admits at most L + N·(m − 1) requests per key
 * (1200 + 3·119 = 1557 for three instances, all bursting at one instant); a single instance is exact.
 * A window's count never falls, so once an instance has seen it reach L it refuses that key locally
 * until the window ends: a client hammering past its limit costs the database nothing. A request the
 * organisation's limit refuses has already counted against its client; one its client's limit
 * refuses does not touch the organisation's.
 *
 * Headers: draft-ietf-httpapi-ratelimit-headers-11 (May 2026, https://datatracker.ietf.org/doc/
 * draft-ietf-httpapi-ratelimit-headers/), §3 and §4: `RateLimit-Policy` is a
 * structured-field List of quota policies (`"client";q=1200;w=60`), `RateLimit` the service limit per
 * policy: `r` the available quota, `t` the seconds until it is restored (`"client";r=1187;t=42`).
 */

export const SYNC_INTERVAL_MS = 250;
const WINDOW_SEC = 60;

/** One policy's standing after a request: what RateLimit and RateLimit-Policy report. */
export interface PolicyStanding {
  policy: 'client' | 'org';
  limit: number;
  remaining: number;
  /** Seconds until the window ends and the quota is restored. */
  resetSec: number;
  allowed: boolean;
}

export interface RateVerdict {
  allowed: boolean;
  /** The policies that apply to the principal (none when both limits are 0). */
  standings: PolicyStanding[];
  /** On refusal: seconds until every violated policy's window ends. */
  retryAfterSec: number;
}

export interface RateLimiter {
  readonly windowSec: number;
  /** Count one request of this principal against its client's and its organisation's limits. */
  take(p: Caller): Promise<RateVerdict>;
  /** Push every pending count to PostgreSQL (at shutdown, or in tests). */
  flush(): Promise<void>;
}

interface LocalCount {
  windowStart: number;
  known: number;
  pending: number;
  lastSync: number;
}

/** Per-client and per-organisation request limits, counted locally and shared through PostgreSQL. */
export function rateLimiter(db: Sql, clock: Clock, opts: RateLimitSettings & { syncIntervalMs?: number; windowSec?: number }): RateLimiter {
  const windowSec = opts.windowSec ?? WINDOW_SEC;
  const windowMs = windowSec * 1000;
  const syncMs = opts.syncIntervalMs ?? SYNC_INTERVAL_MS;
  const local = new Map<string, LocalCount>();
  let lastSweep = clock.now().getTime();
  const margin = (limit: number) => Math.max(1, Math.ceil(limit / 10));

  async function add(key: string, windowStart: number, n: number): Promise<number> {
    const [row] = await db.query<{ count: number }>(
      `INSERT INTO rate_limit_counter (key, window_start, window_end, count) VALUES ($1, $2::timestamptz, $3::timestamptz, $4)
       ON CONFLICT (key, window_start) DO UPDATE SET count = rate_limit_counter.count + excluded.count RETURNING count`,
      [key, new Date(windowStart).toISOString(), new Date(windowStart + windowMs).toISOString(), n],
    );
    return Number(row.count);
  }

  function current(key: string, windowStart: number): LocalCount {
    let s = local.get(key);
    if (!s || s.windowStart !== windowStart) {
      s = { windowStart, known: 0, pending: 0, lastSync: -Infinity };
      local.set(key, s);
    }
    return s;
  }

  /** Count one request against key; the answer is the total it sees, including itself. */
  async function hit(key: string, limit: number, now: number, windowStart: number): Promise<{ allowed: boolean; used: number }> {
    const s = current(key, windowStart);
    if (s.known >= limit) return { allowed: false, used: s.known + s.pending };
    const m = margin(limit);
    const nearEdge = s.known + s.pending + 1 > limit - m;
    if (!nearEdge && s.pending + 1 < m && now - s.lastSync < syncMs) {
      s.pending += 1;
      return { allowed: true, used: s.known + s.pending };
    }
    const n = s.pending + 1;
    s.pending = 0;
    s.lastSync = now;
    let total: number;
    try {
      total = await add(key, windowStart, n);
    } catch (e) {
      s.pending += n - 1;
      throw e;
    }
    s.known = Math.max(s.known, total);
    return { allowed: total <= limit, used: Math.max(total, s.known) + s.pending };
  }

  function peek(key: string, windowStart: number): number {
    const s = local.get(key);
    return s && s.windowStart === windowStart ? s.known + s.pending : 0;
  }

  return {
    windowSec,
    async take(p) {
      const now = clock.now().getTime();
      const windowStart = Math.floor(now / windowMs) * windowMs;
      const resetSec = Math.ceil((windowStart + windowMs - now) / 1000);
      // Once a window, drop expired rows here too: Workers run no timers.
      if (now - lastSweep >= windowMs) {
        lastSweep = now;
        for (const [k, s] of local) if (s.windowStart < windowStart) local.delete(k);
        await sweepRateLimits(db, new Date(now));
      }
      const policies: { policy: PolicyStanding['policy']; key: string; limit: number }[] = [];
      if (opts.clientPerMinute > 0 && p.clientId !== undefined)
        policies.push({ policy: 'client', key: `client:${p.clientId}`, limit: opts.clientPerMinute });
      if (opts.orgPerMinute > 0) policies.push({ policy: 'org', key: `org:${p.organisationId}`, limit: opts.orgPerMinute });
      const standings: PolicyStanding[] = [];
      let refused = false;
      for (const { policy, key, limit } of policies) {
        // A request one policy refused is not counted against the next (a client over its own limit
        // must not use up its organisation's quota), but the next is still reported.
        const r = refused ? { allowed: true, used: peek(key, windowStart) } : await hit(key, limit, now, windowStart);
        if (!r.allowed) refused = true;
        standings.push({ policy, limit, remaining: Math.max(0, limit - r.used), resetSec, allowed: r.allowed });
      }
      return { allowed: !refused, standings, retryAfterSec: refused ? resetSec : 0 };
    },
    async flush() {
      for (const [key, s] of local) {
        if (s.pending === 0) continue;
        const n = s.pending;
        s.pending = 0;
        s.known = Math.max(s.known, await add(key, s.windowStart, n));
      }
    },
  };
}

/** Delete rate-limit windows and lockout records that have expired; answers how many rows went. */
export async function sweepRateLimits(db: Sql, now: Date): Promise<number> {
  const [row] = await db.query<{ n: number }>(
    `WITH c AS (DELETE FROM rate_limit_counter WHERE window_end <= $1::timestamptz RETURNING 1),
          l AS (DELETE FROM rate_limit_lockout WHERE expires_at <= $1::timestamptz RETURNING 1)
     SELECT ((SELECT count(*) FROM c) + (SELECT count(*) FROM l))::int AS n`,
    [now.toISOString()],
  );
  return Number(row.n);
}

/** RateLimit-Policy and RateLimit header values (draft-ietf-httpapi-ratelimit-headers-11 §3, §4). */
export function rateLimitHeaders(v: RateVerdict, windowSec: number): Record<string, string> {
  if (!v.standings.length) return {};
  return {
    'RateLimit-Policy': v.standings.map((s) => `"${s.policy}";q=${s.limit};w=${windowSec}`).join(', '),
    RateLimit: v.standings.map((s) => `"${s.policy}";r=${s.remaining};t=${s.resetSec}`).join(', '),
  };
}

/**
 * Middleware after `authenticate`: counts the request, answers a 429 RATE-LIMITED problem with
 * Retry-After before anything runs when a limit is spent, and puts the RateLimit headers on every
 * response, refusals and errors included.
 */
export function rateLimit<E extends CallerEnv = CallerEnv>(limiter: RateLimiter): MiddlewareHandler<E> {
  return async (c, next) => {
    const principal: Caller = c.get('principal');
    const verdict = await limiter.take(principal);
    const headers = rateLimitHeaders(verdict, limiter.windowSec);
    if (!verdict.allowed) {
      const violated = verdict.standings.filter((s) => !s.allowed);
      const who = violated
        .map((s) => (s.policy === 'client' ? `client ${principal.clientId}` : `organisation ${principal.organisationId}`))
        .join(' and ');
      const p = new Problem(
        'RATE-LIMITED',
        `${who} sent more than ${violated[0].limit} requests in ${limiter.windowSec} s; retry in ${verdict.retryAfterSec} s.`,
        { violatedPolicies: violated.map((s) => s.policy) },
      );
      return problemResponse(p, { ...headers, 'Retry-After': String(verdict.retryAfterSec) });
    }
    // Set before the route answers, so that its response is created with them: set on a finished
    // response, each c.header() call copies it (Hono re-creates it to change a header), turning
    // @hono/node-server's cached response into a streamed one (docs/performance.md, "Lookup by
    // MPAN"). A response the error handler built itself lacks them and gets them after.
    for (const [name, value] of Object.entries(headers)) c.header(name, value);
    await next();
    if (headers.RateLimit && !c.res.headers.has('ratelimit')) for (const [name, value] of Object.entries(headers)) c.header(name, value);
  };
}

// ---------------------------------------------------------------------------------------------
// Lockout after failed client authentication

export interface LockoutOptions {
  /** Failures within `windowMs` that lock the key (default 5 in 10 minutes). */
  maxFailures?: number;
  windowMs?: number;
  /** First lock (30 s), doubled by each further lock up to `maxLockMs` (15 minutes). */
  baseLockMs?: number;
  maxLockMs?: number;
  /** A key that stays clean this long after its last lock starts again at the first lock (24 h). */
  forgetMs?: number;
}

export interface LockoutState {
  locked: boolean;
  retryAfterSec: number;
  /** check() only: the key has failures on record (else a success has nothing to forget). */ hasRecord?: boolean;
}

export interface FailureLimiter {
  /** Is the key locked now, and for how many more seconds? */
  check(key: string): Promise<LockoutState>;
  /** Record one failed authentication; answers the state after it (locked on the Nth). */
  fail(key: string): Promise<LockoutState>;
  /** A successful authentication forgets the key's failures and its lock history. */
  succeed(key: string): Promise<void>;
}

interface LockoutRow {
  failures: number;
  windowStart: number;
  lockedUntil: number | null;
  lockouts: number;
}

/** The state after one more failure at `now` (pure, so the backoff schedule reads in one place). */
export function afterFailure(s: LockoutRow, now: number, o: Required<LockoutOptions>): LockoutRow {
  if (s.lockedUntil !== null && s.lockedUntil > now) return s; // attempts during a lock neither count nor extend it
  const fresh = now - s.windowStart >= o.windowMs;
  const failures = (fresh ? 0 : s.failures) + 1;
  if (failures < o.maxFailures) return { ...s, failures, windowStart: fresh ? now : s.windowStart };
  const lockouts = s.lockouts + 1;
  const lockMs = Math.min(o.baseLockMs * 2 ** (lockouts - 1), o.maxLockMs);
  return { failures: 0, windowStart: now, lockedUntil: now + lockMs, lockouts };
}

/**
 * Lockout with exponential backoff for repeated failed client authentication (for the OAuth token
 * endpoint). State lives in PostgreSQL, so a lock holds on every instance. Use:
 *
 *   const lock = await failures.check(`client:${clientId}`);
 *   if (lock.locked) refuse with AUTH-CLIENT-LOCKED (429) and `Retry-After: lock.retryAfterSec`;
 *   authenticate; then `await failures.fail(key)` or `await failures.succeed(key)`.
 *
 * After `maxFailures` failures within `windowMs` the key is locked for 30 s, then 60 s, 120 s, …
 * up to 15 minutes on each further lock. Anyone who knows a client ID can lock it out: key by
 * client ID and source address (`client:<id>@<ip>`) where that matters more than a slow guesser.
 */
export function failureLimiter(db: Db, clock: Clock, opts: LockoutOptions = {}): FailureLimiter {
  const o: Required<LockoutOptions> = {
    maxFailures: opts.maxFailures ?? 5,
    windowMs: opts.windowMs ?? 10 * 60_000,
    baseLockMs: opts.baseLockMs ?? 30_000,
    maxLockMs: opts.maxLockMs ?? 15 * 60_000,
    forgetMs: opts.forgetMs ?? 24 * 3_600_000,
  };
  const state = (lockedUntil: number | null, now: number): LockoutState =>
    lockedUntil !== null && lockedUntil > now
      ? { locked: true, retryAfterSec: Math.ceil((lockedUntil - now) / 1000) }
      : { locked: false, retryAfterSec: 0 };
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

  return {
    async check(key) {
      const now = clock.now().getTime();
      const [row] = await db.query<{ locked_until: Date | null }>(
        `SELECT locked_until FROM rate_limit_lockout WHERE key = $1 AND expires_at > $2::timestamptz`,
        [key, iso(now)],
      );
      return { ...state(row?.locked_until ? new Date(row.locked_until).getTime() : null, now), hasRecord: row !== undefined };
    },
    async fail(key) {
      const now = clock.now().getTime();
      return db.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO rate_limit_lockout (key, failures, window_start, lockouts, expires_at) VALUES ($1, 0, $2::timestamptz, 0, $2::timestamptz) ON CONFLICT (key) DO NOTHING`,
          [key, iso(now)],
        );
        const [row] = await tx.query<{
          failures: number;
          window_start: Date;
          locked_until: Date | null;
          lockouts: number;
          expires_at: Date;
        }>(`SELECT failures, window_start, locked_until, lockouts, expires_at FROM rate_limit_lockout WHERE key = $1 FOR UPDATE`, [key]);
        const expired = new Date(row.expires_at).getTime() <= now;
        const before: LockoutRow = expired
          ? { failures: 0, windowStart: now, lockedUntil: null, lockouts: 0 }
          : {
              failures: row.failures,
              windowStart: new Date(row.window_start).getTime(),
              lockedUntil: row.locked_until ? new Date(row.locked_until).getTime() : null,
              lockouts: row.lockouts,
            };
        const next = afterFailure(before, now, o);
        const expiresAt = Math.max(next.windowStart + o.windowMs, next.lockedUntil === null ? 0 : next.lockedUntil + o.forgetMs);
        await tx.query(
          `UPDATE rate_limit_lockout SET failures = $2, window_start = $3::timestamptz, locked_until = $4::timestamptz, lockouts = $5, expires_at = $6::timestamptz WHERE key = $1`,
          [key, next.failures, iso(next.windowStart), iso(next.lockedUntil), next.lockouts, iso(expiresAt)],
        );
        return state(next.lockedUntil, now);
      });
    },
    async succeed(key) {
      await db.query(`DELETE FROM rate_limit_lockout WHERE key = $1`, [key]);
    },
  };
}
