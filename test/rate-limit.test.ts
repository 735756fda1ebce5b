import { Hono } from 'hono';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AuthEnv } from '../src/access/auth';
import type { Principal } from '../src/access/principal';
import { buildApp } from '../src/app';
import { ConfigError, loadConfig } from '../src/config';
import { failureLimiter, rateLimit, rateLimiter, sweepRateLimits, type RateLimiter } from '../src/http/rate-limit';
import type { Sql } from '../src/storage/db';
import { DEMO, batteryInput, rowCounts, testHub, type TestHub } from './harness';

let hub: TestHub;
beforeAll(async () => {
  hub = await testHub();
});
afterAll(async () => {
  await hub?.close();
});
// Each test starts in a fresh minute, so no test sees another's counts.
beforeEach(() => {
  hub.clock.advance(60_000 - (hub.clock.now().getTime() % 60_000));
});

const principal = (clientId: string | undefined, organisationId = 'ORG-A'): Principal => ({
  subject: 'u',
  organisationId,
  roles: ['FSP'],
  scopes: ['*'],
  dnoCodes: [],
  clientId,
});

/** A small app behind the middleware, as one hub instance; `executed` counts handler runs. */
function instance(limiter: RateLimiter) {
  let executed = 0;
  const app = new Hono<AuthEnv>();
  app.use('*', async (c, next) => {
    c.set('principal', JSON.parse(c.req.header('x-principal')!));
    await next();
  });
  app.use('*', rateLimit(limiter));
  app.get('/', (c) => {
    executed++;
    return c.json({ ok: true });
  });
  const call = async (p: Principal) => {
    const res = await app.request('/', { headers: { 'x-principal': JSON.stringify(p) } });
    return { status: res.status, headers: res.headers, json: (await res.json()) as any };
  };
  return { call, executed: () => executed };
}

describe('rate limits per client and organisation', () => {
  it('admits exactly the limit, counting down in RateLimit, then answers 429 RATE-LIMITED with Retry-After and runs nothing', async () => {
    hub.clock.advance(18_000); // 42 s left in the window
    const a = instance(rateLimiter(hub.db, hub.clock, { clientPerMinute: 5, orgPerMinute: 0 }));
    const remaining: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await a.call(principal('c1'));
      expect(r.status).toBe(200);
      expect(r.headers.get('ratelimit-policy')).toBe('"client";q=5;w=60');
      remaining.push(r.headers.get('ratelimit')!);
    }
    expect(remaining).toEqual([4, 3, 2, 1, 0].map((r) => `"client";r=${r};t=42`));
    const refused = await a.call(principal('c1'));
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    expect(refused.json.code).toBe('RATE-LIMITED');
    expect(refused.json.violatedPolicies).toEqual(['client']);
    expect(refused.headers.get('retry-after')).toBe('42');
    expect(refused.headers.get('ratelimit')).toBe('"client";r=0;t=42');
    expect(a.executed()).toBe(5);
    // Another client of the same organisation has its own count.
    expect((await a.call(principal('c2'))).status).toBe(200);
  });

  it('opens a new window when the clock moves past the old one', async () => {
    const a = instance(rateLimiter(hub.db, hub.clock, { clientPerMinute: 2, orgPerMinute: 0 }));
    await a.call(principal('c1'));
    await a.call(principal('c1'));
    expect((await a.call(principal('c1'))).status).toBe(429);
    hub.clock.advance(59_000);
    expect((await a.call(principal('c1'))).status).toBe(429);
    hub.clock.advance(1_000);
    const r = await a.call(principal('c1'));
    expect(r.status).toBe(200);
    expect(r.headers.get('ratelimit')).toBe('"client";r=1;t=60');
  });

  it('shares one count between two hub instances on the same database', async () => {
    // L = 100: far from the edge each instance counts locally and syncs every 10 requests or 250 ms.
    const a = rateLimiter(hub.db, hub.clock, { clientPerMinute: 100, orgPerMinute: 0 });
    const b = rateLimiter(hub.db, hub.clock, { clientPerMinute: 100, orgPerMinute: 0 });
    for (let i = 0; i < 60; i++) expect((await a.take(principal('shared'))).allowed).toBe(true);
    await a.flush();
    let admitted = 0;
    while ((await b.take(principal('shared'))).allowed) admitted++;
    expect(admitted).toBe(40);
    // A has not synced since B spent the quota: it may admit (within the bound below) until its next sync, 250 ms on.
    hub.clock.advance(250);
    const late = await a.take(principal('shared'));
    expect(late.allowed).toBe(false);
    expect(late.standings).toEqual([{ policy: 'client', limit: 100, remaining: 0, resetSec: 60, allowed: false }]);
  });

  it('asks PostgreSQL once per m = 10% of the limit far from the edge, not once per request', async () => {
    let queries = 0;
    const counting: Sql = {
      query: (text, params) => {
        queries++;
        return hub.db.query(text, params);
      },
    };
    const l = rateLimiter(counting, hub.clock, { clientPerMinute: 1200, orgPerMinute: 0 });
    for (let i = 0; i < 600; i++) expect((await l.take(principal('busy'))).allowed).toBe(true);
    expect(queries).toBe(5); // requests 1, 121, 241, 361 and 481 carry the counts before them
    hub.clock.advance(250);
    await l.take(principal('busy'));
    expect(queries).toBe(6);
    expect(Number((await hub.db.query(`SELECT count FROM rate_limit_counter WHERE key = 'client:busy'`))[0].count)).toBe(601);
  });

  it('refuses a client past its limit without asking PostgreSQL again this window', async () => {
    let queries = 0;
    const counting: Sql = {
      query: (text, params) => {
        queries++;
        return hub.db.query(text, params);
      },
    };
    const l = rateLimiter(counting, hub.clock, { clientPerMinute: 3, orgPerMinute: 0 });
    for (let i = 0; i < 3; i++) expect((await l.take(principal('hammer'))).allowed).toBe(true);
    for (let i = 0; i < 100; i++) expect((await l.take(principal('hammer'))).allowed).toBe(false);
    expect(queries).toBe(3);
    hub.clock.advance(60_000);
    expect((await l.take(principal('hammer'))).allowed).toBe(true);
  });

  it('keeps the overshoot of instances that sync late within L + N·(m − 1)', async () => {
    // L = 20, so m = 2: each instance holds at most one request PostgreSQL has not seen.
    const instances = [1, 2, 3].map(() => rateLimiter(hub.db, hub.clock, { clientPerMinute: 20, orgPerMinute: 0 }));
    let admitted = 0;
    for (let round = 0; round < 20; round++) for (const l of instances) if ((await l.take(principal('burst'))).allowed) admitted++;
    expect(admitted).toBeGreaterThanOrEqual(20);
    expect(admitted).toBeLessThanOrEqual(20 + 3 * 1);
    // Once every instance has synced, nothing more gets through this window.
    hub.clock.advance(250);
    for (const l of instances) expect((await l.take(principal('burst'))).allowed).toBe(false);
  });

  it('applies the organisation limit across its clients, without spending it on requests a client limit refused', async () => {
    const a = instance(rateLimiter(hub.db, hub.clock, { clientPerMinute: 3, orgPerMinute: 5 }));
    for (let i = 0; i < 3; i++) expect((await a.call(principal('x', 'ORG-B'))).status).toBe(200);
    const overClient = await a.call(principal('x', 'ORG-B'));
    expect(overClient.status).toBe(429);
    expect(overClient.json.violatedPolicies).toEqual(['client']);
    expect(overClient.headers.get('ratelimit-policy')).toBe('"client";q=3;w=60, "org";q=5;w=60');
    expect(overClient.headers.get('ratelimit')).toMatch(/^"client";r=0;t=\d+, "org";r=2;t=\d+$/);
    expect((await a.call(principal('y', 'ORG-B'))).status).toBe(200);
    expect((await a.call(principal('y', 'ORG-B'))).status).toBe(200);
    const overOrg = await a.call(principal('y', 'ORG-B'));
    expect(overOrg.status).toBe(429);
    expect(overOrg.json.violatedPolicies).toEqual(['org']);
    expect(a.executed()).toBe(5);
  });

  it('counts only the organisation when the token names no client, and nothing when both limits are 0', async () => {
    const a = instance(rateLimiter(hub.db, hub.clock, { clientPerMinute: 3, orgPerMinute: 4 }));
    const r = await a.call(principal(undefined, 'ORG-C'));
    expect(r.headers.get('ratelimit-policy')).toBe('"org";q=4;w=60');
    expect(r.headers.get('ratelimit')).toMatch(/^"org";r=3;t=\d+$/);
    const off = instance(rateLimiter(hub.db, hub.clock, { clientPerMinute: 0, orgPerMinute: 0 }));
    for (let i = 0; i < 20; i++) expect((await off.call(principal('z', 'ORG-C'))).status).toBe(200);
    expect((await off.call(principal('z', 'ORG-C'))).headers.get('ratelimit')).toBeNull();
  });

  it('sweeps windows that have ended', async () => {
    const l = rateLimiter(hub.db, hub.clock, { clientPerMinute: 5, orgPerMinute: 0 });
    await l.take(principal('sweep-me'));
    const rows = async () =>
      Number((await hub.db.query(`SELECT count(*)::int AS n FROM rate_limit_counter WHERE key = 'client:sweep-me'`))[0].n);
    expect(await rows()).toBe(1);
    await sweepRateLimits(hub.db, hub.clock.now());
    expect(await rows()).toBe(1);
    hub.clock.advance(60_000);
    expect(await sweepRateLimits(hub.db, hub.clock.now())).toBe(1); // the one counter of the past window
    expect(await rows()).toBe(0);
  });
});

describe('the hub applies the limits after authentication', () => {
  it('answers 429 on the API once the client limit is spent, writes nothing, and says so in the headers', async () => {
    const app = buildApp({ ...hub.ports, config: { ...hub.ports.config, rateLimit: { clientPerMinute: 2, orgPerMinute: 0 } } });
    const headers = { authorization: `Bearer ${await hub.token('fsp-a')}` };
    const first = await app.request('/api/v1/organisations', { headers });
    expect(first.status).toBe(200);
    expect(first.headers.get('ratelimit-policy')).toBe('"client";q=2;w=60');
    expect(first.headers.get('ratelimit')).toMatch(/^"client";r=1;t=\d+$/);
    expect((await app.request(`/api/v1/organisations/${DEMO['fsp-a']}`, { headers })).status).toBe(200);
    const before = await rowCounts(hub.db);
    const refused = await app.request('/api/v1/assets', {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify(batteryInput(1)),
    });
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as any).code).toBe('RATE-LIMITED');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await rowCounts(hub.db)).toEqual(before);
    // Unauthenticated requests are refused before the limiter and count against nobody.
    expect((await app.request('/api/v1/organisations')).status).toBe(401);
  });

  it('puts the headers on error responses too', async () => {
    const app = buildApp({ ...hub.ports, config: { ...hub.ports.config, rateLimit: { clientPerMinute: 10, orgPerMinute: 0 } } });
    const r = await app.request('/api/v1/assets/01JD8X6N2Q7ZB4Y3W5V6T7S8R9', {
      headers: { authorization: `Bearer ${await hub.token('fsp-a')}` },
    });
    expect(r.status).toBe(404);
    expect(r.headers.get('ratelimit')).toMatch(/^"client";r=9;t=\d+$/);
  });

  it('reads its limits from FMAR_RATE_LIMIT_CLIENT_PER_MINUTE and FMAR_RATE_LIMIT_ORG_PER_MINUTE', () => {
    expect(loadConfig({}).rateLimit).toEqual({ clientPerMinute: 1200, orgPerMinute: 6000 });
    expect(loadConfig({ FMAR_RATE_LIMIT_CLIENT_PER_MINUTE: '0', FMAR_RATE_LIMIT_ORG_PER_MINUTE: '90' }).rateLimit).toEqual({
      clientPerMinute: 0,
      orgPerMinute: 90,
    });
    expect(() => loadConfig({ FMAR_RATE_LIMIT_CLIENT_PER_MINUTE: '-1' })).toThrow(ConfigError);
    expect(() => loadConfig({ FMAR_RATE_LIMIT_ORG_PER_MINUTE: 'lots' })).toThrow(ConfigError);
  });
});

describe('lockout after failed client authentication', () => {
  it('locks after 5 failures, reports Retry-After, unlocks when the time has passed, and doubles on the next lock', async () => {
    const f = failureLimiter(hub.db, hub.clock);
    const key = 'client:guessed';
    for (let i = 0; i < 4; i++) expect(await f.fail(key)).toEqual({ locked: false, retryAfterSec: 0 });
    expect(await f.check('client:never-failed')).toEqual({ locked: false, retryAfterSec: 0, hasRecord: false });
    expect(await f.check(key)).toMatchObject({ locked: false, retryAfterSec: 0 });
    expect(await f.fail(key)).toEqual({ locked: true, retryAfterSec: 30 });
    hub.clock.advance(10_000);
    expect(await f.check(key)).toMatchObject({ locked: true, retryAfterSec: 20 });
    // Attempts during the lock neither count nor extend it.
    expect(await f.fail(key)).toEqual({ locked: true, retryAfterSec: 20 });
    hub.clock.advance(20_000);
    expect(await f.check(key)).toMatchObject({ locked: false, retryAfterSec: 0 });
    for (let i = 0; i < 4; i++) expect((await f.fail(key)).locked).toBe(false);
    expect(await f.fail(key)).toEqual({ locked: true, retryAfterSec: 60 });
    hub.clock.advance(60_000);
    for (let i = 0; i < 5; i++) await f.fail(key);
    expect(await f.check(key)).toMatchObject({ locked: true, retryAfterSec: 120 });
  });

  it('doubles up to 15 minutes, and a success forgets failures and lock history', async () => {
    const f = failureLimiter(hub.db, hub.clock);
    const key = 'client:persistent';
    const locks: number[] = [];
    for (let lock = 0; lock < 7; lock++) {
      for (let i = 0; i < 4; i++) await f.fail(key);
      const s = await f.fail(key);
      locks.push(s.retryAfterSec);
      hub.clock.advance(s.retryAfterSec * 1000);
    }
    expect(locks).toEqual([30, 60, 120, 240, 480, 900, 900]);
    await f.succeed(key);
    for (let i = 0; i < 4; i++) await f.fail(key);
    expect(await f.check(key)).toMatchObject({ locked: false, retryAfterSec: 0 });
    expect(await f.fail(key)).toEqual({ locked: true, retryAfterSec: 30 });
  });

  it('counts only failures within 10 minutes, and keys apart', async () => {
    const f = failureLimiter(hub.db, hub.clock);
    for (let i = 0; i < 4; i++) await f.fail('client:slow');
    hub.clock.advance(10 * 60_000);
    expect((await f.fail('client:slow')).locked).toBe(false);
    for (let i = 0; i < 4; i++) await f.fail('client:other');
    expect(await f.check('client:slow')).toMatchObject({ locked: false, retryAfterSec: 0 });
    expect((await f.fail('client:other')).locked).toBe(true);
  });

  it('holds a lock on every instance and is swept once forgotten', async () => {
    const key = 'client:shared-lock';
    for (let i = 0; i < 5; i++) await failureLimiter(hub.db, hub.clock).fail(key);
    expect((await failureLimiter(hub.db, hub.clock).check(key)).locked).toBe(true);
    hub.clock.advance(24 * 3_600_000 + 30_000);
    await sweepRateLimits(hub.db, hub.clock.now());
    expect(await hub.db.query(`SELECT 1 FROM rate_limit_lockout WHERE key = $1`, [key])).toEqual([]);
  });
});
