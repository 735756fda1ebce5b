import { silentLogger, type Logger } from '../src/http/request-log';
import { expect } from 'vitest';
import type { OrganisationRole } from '../src/access/roles';
import { systemPrincipal, type Principal } from '../src/access/principal';
import { buildApp } from '../src/app';
import { loadConfig } from '../src/config';
import type { Ctx } from '../src/context';
import { DEMO_ORGANISATIONS, seedDemo } from '../src/demo/seed';
import { assemble, openDb } from '../src/node/setup';
import type { Clock } from '../src/ports';
import { postgresDb } from '../src/storage/postgres';
import type { Db } from '../src/storage/db';
import { ulidSource } from '../src/ids';
import { standardHooks } from '../src/hooks';

/** A clock the test moves by hand. */
export class TestClock implements Clock {
  constructor(public t = new Date('2026-06-01T09:00:00.000Z')) {}
  now() {
    return new Date(this.t);
  }
  advance(ms: number) {
    this.t = new Date(this.t.getTime() + ms);
  }
  set(iso: string) {
    this.t = new Date(iso);
  }
}

export const DEMO = Object.fromEntries(DEMO_ORGANISATIONS.map((o) => [o.key, o.id])) as Record<
  'operator' | 'fsp-a' | 'fsp-b' | 'dno' | 'installer',
  string
>;

/** A fresh database: in-memory PGlite, or a new database on the DATABASE_URL server (dropped on close). */
export async function testDb(clock: Clock = new TestClock()): Promise<{ db: Db; drop: () => Promise<void> }> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    const db = await openDb({ dataDir: '' }, { memory: true });
    return { db, drop: async () => {} };
  }
  const name = `fmar_test_${ulidSource(clock).next().toLowerCase()}`;
  const admin = postgresDb(serverUrl, { max: 1 });
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.close();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const db = postgresDb(url.toString(), { max: 4 });
  return {
    db,
    drop: async () => {
      const a = postgresDb(serverUrl, { max: 1 });
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.close();
    },
  };
}

/**
 * A fresh hub per test file: in-memory PGlite by default, or a new database on the PostgreSQL
 * server named by DATABASE_URL (CI runs the suite both ways). Demo organisations are seeded.
 */
export async function testHub(opts: { seed?: boolean; clock?: TestClock; log?: Logger; env?: Record<string, string> } = {}) {
  const clock = opts.clock ?? new TestClock();
  const { db, drop: dropDb } = await testDb(clock);
  const cfg = loadConfig({
    FMAR_MODE: 'development',
    FMAR_BASE_URL: 'http://hub.test',
    FMAR_RATE_LIMIT_CLIENT_PER_MINUTE: '0',
    FMAR_RATE_LIMIT_ORG_PER_MINUTE: '0',
    ...opts.env,
  });
  const hub = await assemble(cfg, db, clock);
  if (opts.log) hub.ports.log = opts.log;
  const app = buildApp(hub.ports);
  const ctx: Ctx = { db, clock, ids: hub.ports.ids, hooks: standardHooks() };
  if (opts.seed !== false) await seedDemo(ctx, systemPrincipal('seed'));

  /** An access token for a demo organisation (by key) or any organisation and roles. */
  async function token(
    who: keyof typeof DEMO | { org: string; roles: OrganisationRole[]; scope?: string; sub?: string; act?: { sub: string; org?: string } },
  ) {
    if (typeof who === 'string') {
      const o = DEMO_ORGANISATIONS.find((d) => d.key === who)!;
      return hub.signer!.sign({ sub: `test-${who}`, org: o.id, roles: o.roles as OrganisationRole[] });
    }
    return hub.signer!.sign({ sub: who.sub ?? 'test-user', org: who.org, roles: who.roles, scope: who.scope, act: who.act });
  }

  /** Call the app in-process with a JSON body (or raw text with its content type). */
  async function call(
    method: string,
    path: string,
    o: {
      as?: keyof typeof DEMO | string | null;
      body?: unknown;
      text?: string;
      contentType?: string;
      headers?: Record<string, string>;
    } = {},
  ) {
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    if (o.as !== null && o.as !== undefined)
      headers.authorization = `Bearer ${o.as in DEMO ? await token(o.as as keyof typeof DEMO) : o.as}`;
    let body: string | undefined;
    if (o.text !== undefined) {
      body = o.text;
      headers['content-type'] = o.contentType ?? 'application/json';
    } else if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers['content-type'] = o.contentType ?? 'application/json';
    }
    const res = await app.request(path, { method, headers, body });
    const type = res.headers.get('content-type') ?? '';
    const raw = await res.text();
    const json = type.includes('json') && !type.includes('ndjson') && raw ? JSON.parse(raw) : undefined;
    return { status: res.status, headers: res.headers, json, text: raw };
  }

  const system: Principal = systemPrincipal('test');
  return {
    app,
    ports: hub.ports,
    signer: hub.signer!,
    keys: hub.keys,
    cfg,
    db,
    clock,
    ctx,
    token,
    call,
    system,
    async close() {
      await db.close();
      await dropDb();
    },
  };
}
export type TestHub = Awaited<ReturnType<typeof testHub>>;

/** A valid registration body for the demo FSP's network (SPEN_SPM, distributor 13), varied by n. */
export function mpanFor(n: number, distributor = '13'): string {
  const base = distributor + String(n).padStart(10, '0');
  const w = [3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43];
  let s = 0;
  for (let i = 0; i < 12; i++) s += Number(base[i]) * w[i];
  return base + ((s % 11) % 10);
}

export function batteryInput(n: number, extra: Record<string, unknown> = {}) {
  return {
    name: `Battery ${n}`,
    category: 'BESS',
    ratedCapacityKw: 5,
    connectionStatus: 'CONNECTED',
    commissioningDate: '2025-01-01',
    dno: 'SPEN_SPM',
    importMpan: mpanFor(1_000_000 + n),
    serialNumber: `SN-${n}`,
    ...extra,
  };
}

/** A consent from the development consent service (the simulator) for this MPAN and FSP: a registration's consentReference. */
export async function consentFor(
  hub: TestHub,
  mpan: string,
  fsp: string,
  o: { validFrom?: string; validTo?: string; purpose?: string } = {},
): Promise<{ token: string; jti: string; tokenHash: string }> {
  return hub.ports.consentSimulator!.issueConsent({ mpan, fsp, ...o });
}

/** Tables a registration writes; a refused write must leave every count unchanged. */
export const WRITE_TABLES = ['asset', 'asset_alias', 'asset_natural_key', 'asset_fsp_link', 'audit_log', 'event_outbox'] as const;

/** Row counts of the given tables (default WRITE_TABLES), in one query. */
export async function rowCounts(db: Db, tables: readonly string[] = WRITE_TABLES): Promise<Record<string, number>> {
  const [row] = await db.query(`SELECT ${tables.map((t) => `(SELECT count(*) FROM ${t})::int AS ${t}`).join(', ')}`);
  return Object.fromEntries(tables.map((t) => [t, Number(row[t])]));
}

/**
 * The refusal of a request body that fails its schema: the problem is REQUEST-VALIDATION and
 * `errors` holds this rule on this field (and nothing else). For expectRefused.
 */
export const invalid = (field: string, code: string) => `REQUEST-VALIDATION ${field} ${code}`;

/**
 * Expect a request refused with this status and problem code, and nothing written to `tables`
 * (their row counts unchanged). `code` is the problem's own code, or invalid(field, rule) for a
 * schema refusal. Returns the problem body.
 */
export async function expectRefused(
  db: Db,
  tables: readonly string[],
  req: () => Promise<{ status: number; json: any; text?: string }>,
  status: number,
  code: string,
) {
  const before = await rowCounts(db, tables);
  const r = await req();
  const why = r.text ?? JSON.stringify(r.json);
  const [top, field, rule] = code.split(' ');
  if (field === undefined) expect([r.status, r.json.code], why).toEqual([status, code]);
  else
    expect([r.status, r.json.code, [...new Set((r.json.errors ?? []).map((e: any) => `${e.field} ${e.code}`))]], why).toEqual([
      status,
      top,
      [`${field} ${rule}`],
    ]);
  expect(await rowCounts(db, tables)).toEqual(before);
  return r.json;
}

/** A free TCP port on 127.0.0.1 (the issuer URL must be known before the server starts). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * The whole hub on a real HTTP port (Hono app + OpenID provider + sign-in screens), as `npm start`
 * runs it, for end-to-end tests with real OAuth clients. Demo organisations are seeded.
 */
export async function nodeTestHub(env: Record<string, string> = {}, opts: { dataDir?: string } = {}) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const cfg = loadConfig({
    FMAR_MODE: 'development',
    FMAR_BASE_URL: base,
    PORT: String(port),
    FMAR_RATE_LIMIT_CLIENT_PER_MINUTE: '0',
    FMAR_RATE_LIMIT_ORG_PER_MINUTE: '0',
    ...env,
  });
  // dataDir: the embedded database on disk, as `npm start` runs it (testDb's PGlite is in memory).
  const { db, drop } =
    opts.dataDir && !process.env.DATABASE_URL ? { db: await openDb({ dataDir: opts.dataDir }), drop: async () => {} } : await testDb();
  const { startNodeHub } = await import('../src/node/server');
  const node = await startNodeHub(cfg, db, { port, host: '127.0.0.1', log: silentLogger });
  const ctx: Ctx = { db, clock: node.hub.ports.clock, ids: node.hub.ports.ids, hooks: standardHooks() };
  await seedDemo(ctx, systemPrincipal('seed'));
  const devToken = (key: keyof typeof DEMO) => {
    const o = DEMO_ORGANISATIONS.find((d) => d.key === key)!;
    return node.hub.signer!.sign({ sub: `test-${key}`, org: o.id, roles: o.roles as OrganisationRole[] });
  };
  /** Call the API over HTTP with a JSON body. `as` is a demo key (dev token) or a raw Authorization header value. */
  async function api(
    method: string,
    path: string,
    o: { as?: keyof typeof DEMO; auth?: string; body?: unknown; headers?: Record<string, string> } = {},
  ) {
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    if (o.as) headers.authorization = `Bearer ${await devToken(o.as)}`;
    if (o.auth) headers.authorization = o.auth;
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${base}${path}`, { method, headers, body: o.body === undefined ? undefined : JSON.stringify(o.body) });
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, headers: res.headers, json, text };
  }
  return {
    base,
    cfg,
    db,
    ctx,
    node,
    api,
    devToken,
    async close() {
      await node.close();
      await db.close();
      await drop();
    },
  };
}
export type NodeTestHub = Awaited<ReturnType<typeof nodeTestHub>>;

/** Follow a browser through the provider's redirects and our HTML forms, keeping cookies. */
export class CookieBrowser {
  jar = new Map<string, string>();
  async go(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.jar.size) headers.set('cookie', [...this.jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      this.jar.set(pair.slice(0, i), pair.slice(i + 1));
    }
    return res;
  }
  /** Follow redirects until one leaves the hub (the client's redirect URI) or a page is shown. */
  async follow(url: string, base: string): Promise<{ res: Response; url: string }> {
    let current = url;
    for (let i = 0; i < 10; i++) {
      const res = await this.go(current);
      const loc = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !loc) return { res, url: current };
      current = new URL(loc, current).href;
      if (!current.startsWith(base)) return { res, url: current };
    }
    throw new Error('too many redirects');
  }
  form(url: string, fields: Record<string, string>) {
    return this.go(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields),
    });
  }
}
