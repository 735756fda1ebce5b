/**
 * Benchmark: switching and event delivery, in one process. (1) Consent-verified switch requests per
 * second at POST /api/v1/switches, each for a different asset with its own consent token signed by
 * an independent consent service (its own ES256 key, a JWKS over HTTP), against a bare node:http
 * server that verifies the same tokens with jose's jwtVerify and inserts one row into a table of
 * asset_switch's shape on the same database. (2) Webhook deliveries per second by `deliverDue` to
 * a local receiver that checks every Standard Webhooks signature, against a plain loop of signed
 * POSTs of the same events to the same receiver, as many in flight as the worker's batch.
 *
 *   npm run bench:switching   (BENCH_ASSETS=20000 BENCH_EVENTS=5000 BENCH_REPS=3 BENCH_DURATION=5 BENCH_WARMUP=2
 *                              BENCH_CONNECTIONS=10 BENCH_DELIVERY_BATCH=20 BENCH_SEQUENTIAL=100; DATABASE_URL=… adds a
 *                              PostgreSQL run, with its CPU when FMAR_PG_DIR names it; BENCH_ENGINES=pglite,postgres picks the engines)
 *   BENCH_PROFILE_DIR=/tmp/prof BENCH_REPS=1 npm run bench:switching   (main-thread CPU profiles; bench/cpuprofile.ts)
 *
 * The hub (assemble + buildApp, served by @hono/node-server on node:http) and the baseline server
 * run in this process's main thread; the load comes from autocannon in a worker thread and the
 * webhook receiver runs in another, so neither competes with the hub's event loop. Servers
 * alternate round by round, order reversed every other round; medians of the rounds.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type RequestListener } from 'node:http';
import { Session } from 'node:inspector/promises';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { getRequestListener } from '@hono/node-server';
import { SignJWT, createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, type JWK } from 'jose';
import type { OrganisationRole } from '../src/access/roles';
import { systemPrincipal, type Principal } from '../src/access/principal';
import { buildApp } from '../src/app';
import { registerAssets } from '../src/assets/service';
import { loadConfig } from '../src/config';
import { CONSENT_ALGORITHMS, CONSENT_DEFAULTS, CONSENT_TOKEN_TYPE } from '../src/consent/index';
import { DEMO_ORGANISATIONS, seedDemo } from '../src/demo/seed';
import { DELIVERY_DEFAULTS, deliverDue, signWebhook } from '../src/webhooks/delivery';
import { toCloudEvent, type OutboxRow } from '../src/events/outbox';
import { assemble } from '../src/node/setup';
import { systemClock } from '../src/ports';
import type { Db, Row, Sql } from '../src/storage/db';
import { assetInput, envInt, fmt, log, machine, median, pgCpuMs, table } from './lib';
import { close, listen, openEngine, opsPerSec, processCpuMs, threadCpuMs } from './in-process';
import { standardHooks } from '../src/hooks';

const ASSETS = envInt('BENCH_ASSETS', 20_000);
const EVENTS = envInt('BENCH_EVENTS', 5_000);
const REPS = envInt('BENCH_REPS', 3);
const DURATION = envInt('BENCH_DURATION', 5);
const WARMUP = envInt('BENCH_WARMUP', 2);
const CONNECTIONS = envInt('BENCH_CONNECTIONS', 10);
const BATCH = envInt('BENCH_DELIVERY_BATCH', DELIVERY_DEFAULTS.batchSize);
/** Switch requests sent one at a time, each statement timed. */
const SEQUENTIAL = envInt('BENCH_SEQUENTIAL', 100);
/** When set, the main thread is profiled during the first round of each (those numbers are then not clean). */
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR;
const ORG = Object.fromEntries(DEMO_ORGANISATIONS.map((o) => [o.key, o]));
const DAY_MS = 86_400_000;

// ---------------------------------------------------------------------------------------------
// CPU per thread (Linux /proc)

// ---------------------------------------------------------------------------------------------
// Worker threads: the load generator (autocannon; the request bodies are sent once and each run
// takes them from an offset, or cycles through them) and the webhook receiver.

const LOAD = `
const { parentPort } = require('node:worker_threads');
const autocannon = require('autocannon');
let bodies = [];
parentPort.postMessage({ tid: Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop()) });
parentPort.on('message', async (job) => {
  if (job.bodies) { bodies = job.bodies; parentPort.postMessage({ ok: true }); return; }
  const lat = []; let bad = 0; let next = job.start; let exhausted = false; const statuses = {};
  const inst = autocannon({ url: job.url, connections: job.connections, duration: job.seconds,
    requests: [{ method: 'POST', path: job.path, headers: job.headers, setupRequest: (req) => {
      if (job.cycle) return { ...req, body: bodies[next++ % bodies.length] };
      if (next >= bodies.length) { if (!exhausted) { exhausted = true; inst.stop(); } return { ...req, body: bodies[bodies.length - 1] }; }
      return { ...req, body: bodies[next++] };
    } }] });
  inst.on('response', (_c, status, _b, ms) => { if (status >= 200 && status < 300) lat.push(ms); else { bad++; statuses[status] = (statuses[status] || 0) + 1; } });
  const r = await inst;
  lat.sort((a, b) => a - b);
  const pct = (p) => lat.length ? lat[Math.min(lat.length - 1, Math.ceil(p / 100 * lat.length) - 1)] : NaN;
  parentPort.postMessage({ ok: lat.length, bad: bad + r.errors + r.timeouts, statuses, seconds: r.duration, p50: pct(50), p99: pct(99), exhausted, used: next - job.start });
});`;

/** Standard Webhooks 1.0 check with node:crypto (as test/webhooks.test.ts): HMAC-SHA256 of id.timestamp.body, timestamp within 5 minutes. */
const RECEIVER = `
const { parentPort } = require('node:worker_threads');
const { createHmac, timingSafeEqual } = require('node:crypto');
const http = require('node:http');
let key = Buffer.alloc(0); const seen = { verified: 0, refused: 0, ids: new Set() };
function verify(h, body) {
  const id = h['webhook-id'], ts = h['webhook-timestamp'], sig = h['webhook-signature'];
  if (!id || !ts || !sig || !/^\\d+$/.test(ts) || Math.abs(Date.now() / 1000 - Number(ts)) > 300) return false;
  const mac = createHmac('sha256', key).update(id + '.' + ts + '.' + body).digest();
  return sig.split(' ').some((e) => { const [v, val] = e.split(','); const got = Buffer.from(val || '', 'base64'); return v === 'v1' && got.length === mac.length && timingSafeEqual(got, mac); });
}
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const raw = Buffer.concat(chunks).toString('utf8');
    if (req.method !== 'POST' || !verify(req.headers, raw) || JSON.parse(raw).id !== req.headers['webhook-id']) { seen.refused++; res.writeHead(401).end(); return; }
    seen.verified++; seen.ids.add(req.headers['webhook-id']);
    res.writeHead(204).end();
  });
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port, tid: Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop()) }));
parentPort.on('message', (m) => {
  if (m.secret) key = Buffer.from(m.secret.replace(/^whsec_/, ''), 'base64');
  const out = { verified: seen.verified, refused: seen.refused, distinct: seen.ids.size };
  if (m.reset) { seen.verified = 0; seen.refused = 0; seen.ids = new Set(); }
  parentPort.postMessage(out);
});`;

interface Job {
  url: string;
  path: string;
  headers: Record<string, string>;
  start: number;
  cycle: boolean;
  seconds: number;
}
interface Run {
  rps: number;
  p50: number;
  p99: number;
  used: number;
  queries: number;
  mainUs: number;
  otherUs: number;
  pgUs: number;
  exhausted: boolean;
}
/** CPU milliseconds of the PostgreSQL cluster so far, when it is the throwaway one of scripts/pg-start.sh (FMAR_PG_DIR); else undefined. */
type PgCpu = (() => number) | undefined;

async function startWorker(code: string) {
  const w = new Worker(code, { eval: true });
  const first = await new Promise<any>((res, rej) => {
    w.once('message', res);
    w.once('error', rej);
  });
  const ask = (m: unknown) => {
    const r = new Promise<any>((res) => w.once('message', res));
    w.postMessage(m);
    return r;
  };
  return { w, first, ask };
}

/** Run f, profiling the main thread into PROFILE_DIR/<name>.cpuprofile when a name is given and BENCH_PROFILE_DIR is set. */
async function profiled<T>(name: string | undefined, f: () => Promise<T>): Promise<T> {
  if (!PROFILE_DIR || !name) return f();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await f();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    mkdirSync(PROFILE_DIR, { recursive: true });
    writeFileSync(`${PROFILE_DIR}/${name}.cpuprofile`, JSON.stringify(profile));
    session.disconnect();
  }
}

async function loadGenerator(seen: { n: number }, pgCpu: PgCpu) {
  const { w, first, ask } = await startWorker(LOAD);
  const tid: number = first.tid;
  return {
    setBodies: (bodies: string[]) => ask({ bodies }),
    async drive(job: Job, profile?: string): Promise<Run> {
      const q0 = seen.n;
      const [m0, p0, g0, pg0] = [threadCpuMs(process.pid), processCpuMs(), threadCpuMs(tid), pgCpu?.() ?? NaN];
      const r = await profiled(profile, () => ask({ ...job, connections: CONNECTIONS }));
      const main = threadCpuMs(process.pid) - m0,
        gen = threadCpuMs(tid) - g0,
        all = processCpuMs() - p0,
        pg = (pgCpu?.() ?? NaN) - pg0;
      const n = Math.max(1, r.ok + r.bad);
      if (r.bad) log(`  POST ${job.path}: ${r.bad} non-2xx or errors ${JSON.stringify(r.statuses)}`);
      return {
        rps: r.ok / r.seconds,
        p50: r.p50,
        p99: r.p99,
        used: r.used,
        exhausted: r.exhausted,
        queries: (seen.n - q0) / n,
        mainUs: (1000 * main) / n,
        otherUs: (1000 * Math.max(0, all - main - gen)) / n,
        pgUs: (1000 * pg) / n,
      };
    },
    stop: () => w.terminate(),
  };
}

type Ops = Awaited<ReturnType<typeof opsPerSec>>;
/** In-process operations per second, `inFlight` at a time, and CPU per operation. */

// ---------------------------------------------------------------------------------------------
// The database, counting statements

const TX = '(the transaction, BEGIN to COMMIT)';
const CONSENT = '(the consent verifier, whole call)';

/** The hub's database port, counting statements (BEGIN and COMMIT included) and, while `timing` is set, adding up each statement's milliseconds. */
function counting(db: Db) {
  const seen = { n: 0, capture: undefined as string[] | undefined, timing: undefined as Map<string, number> | undefined };
  const add = (key: string, t0: number) => seen.timing?.set(key, (seen.timing.get(key) ?? 0) + performance.now() - t0);
  const wrap = (s: Sql): Sql => ({
    async query<T extends object = Row>(text: string, params?: unknown[]) {
      seen.n++;
      const flat = text.replace(/\s+/g, ' ').trim();
      seen.capture?.push(flat);
      const t0 = performance.now();
      try {
        return await s.query<T>(text, params);
      } finally {
        add(flat, t0);
      }
    },
  });
  const counted: Db = {
    engine: db.engine,
    ...wrap(db),
    close: () => db.close(),
    async transaction(fn) {
      seen.n += 2;
      const t0 = performance.now();
      try {
        return await db.transaction((tx) => fn(wrap(tx)));
      } finally {
        add(TX, t0);
      }
    },
  };
  return { db: counted, seen, add };
}

// ---------------------------------------------------------------------------------------------
// The consent service (its own key and JWKS server) and the hub

async function consentService() {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const kid = 'bench-ccs-1';
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] as JWK[] };
  const s = await listen((req, res) => {
    res
      .writeHead(req.url === '/jwks' ? 200 : 404, { 'content-type': 'application/json' })
      .end(JSON.stringify(req.url === '/jwks' ? jwks : {}));
  });
  const iss = `${s.url}/ccs`;
  const sign = (claims: Record<string, unknown>) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid, typ: CONSENT_TOKEN_TYPE }).sign(privateKey);
  return { ...s, iss, jwksUrl: `${s.url}/jwks`, jwks, sign };
}

async function startHub(raw: Db, ccs: Awaited<ReturnType<typeof consentService>>) {
  const { db, seen, add } = counting(raw);
  const probe = await listen(() => {});
  const base = probe.url;
  await close(probe.server);
  // A consent issuer in the configuration: assemble sets ports.consent = consentVerifierFromConfig(…), no simulator.
  const cfg = loadConfig({
    FMAR_MODE: 'development',
    FMAR_BASE_URL: base,
    FMAR_RATE_LIMIT_CLIENT_PER_MINUTE: '0',
    FMAR_RATE_LIMIT_ORG_PER_MINUTE: '0',
    FMAR_CONSENT_ISSUER: ccs.iss,
    FMAR_CONSENT_JWKS_URL: ccs.jwksUrl,
  });
  const hub = await assemble(cfg, db, systemClock);
  // The same verifier, timed while `seen.timing` is set (the switch routes read ports.consent per request).
  const consent = hub.ports.consent!;
  hub.ports.consent = {
    ...consent,
    async verify(check, tx) {
      const t0 = performance.now();
      try {
        return await consent.verify(check, tx);
      } finally {
        add(CONSENT, t0);
      }
    },
  };
  const ctx = { db, clock: hub.ports.clock, ids: hub.ports.ids, hooks: standardHooks() };
  await seedDemo(ctx, systemPrincipal('seed'));
  const app = buildApp(hub.ports);
  const server = createServer(getRequestListener(app.fetch));
  await new Promise<void>((res) => server.listen(Number(new URL(base).port), '127.0.0.1', res));
  const token = (key: 'fsp-a' | 'fsp-b') =>
    hub.signer!.sign({ sub: `bench-${key}`, org: ORG[key].id, roles: ORG[key].roles as OrganisationRole[], ttlSec: 3600 });
  const principal = (key: 'fsp-a'): Principal => ({
    subject: `bench-${key}`,
    organisationId: ORG[key].id,
    roles: ORG[key].roles as OrganisationRole[],
    scopes: ['*'],
    dnoCodes: [],
  });
  return { cfg, hub, ctx, db, seen, base, server, token, principal };
}
type BenchHub = Awaited<ReturnType<typeof startHub>>;

/** Register rows as Demo Flex Alpha in batches; returns each asset's first MPAN, in row order. */
async function register(h: BenchHub, rows: Record<string, unknown>[], batch: number): Promise<string[]> {
  const mpans: string[] = [];
  for (let i = 0; i < rows.length; i += batch) {
    const part = rows.slice(i, i + batch);
    const r = await registerAssets(h.ctx, h.principal('fsp-a'), part);
    if (!r.ok) throw new Error(`registerAssets: ${JSON.stringify(r.results.find((x) => x.status === 'rejected'))}`);
    for (const a of part) mpans.push((a.importMpan ?? a.exportMpan) as string);
  }
  return mpans;
}

// ---------------------------------------------------------------------------------------------
// (1) Switch requests

/** The baseline: read the body, jose jwtVerify of the consent token with a local key set, one INSERT into a table shaped like asset_switch. */
function verifyAndInsert(raw: Db, h: BenchHub, ccs: Awaited<ReturnType<typeof consentService>>): RequestListener {
  const keys = createLocalJWKSet(ccs.jwks);
  const opts = {
    algorithms: CONSENT_ALGORITHMS,
    typ: CONSENT_TOKEN_TYPE,
    issuer: ccs.iss,
    audience: h.cfg.consent.audience,
    clockTolerance: CONSENT_DEFAULTS.skewSec,
    maxTokenAge: CONSENT_DEFAULTS.maxAgeDays * 86_400,
    requiredClaims: ['exp', 'iat', 'jti'],
  };
  const once = async (text: string) => {
    const body = JSON.parse(text) as { asset: string; consent: string; reason?: string };
    const { payload } = await jwtVerify(body.consent, keys, opts);
    const now = new Date();
    const day = new Date(now.getTime() + 5 * DAY_MS).toISOString().slice(0, 10);
    const [row] = await raw.query(
      `INSERT INTO bench_switch (id, asset_id, losing_fsp_id, gaining_fsp_id, status, effective_date, effective_at, consent, consent_jti, consent_issuer, reason, requested_at, requested_by)
       VALUES ($1, $2, $3, $4, 'PENDING', $5::date, $6::timestamptz, $7::jsonb, $8, $9, $10, $11::timestamptz, $12) RETURNING *`,
      [
        h.hub.ports.ids.next(),
        body.asset,
        ORG['fsp-a'].id,
        payload.fsp,
        day,
        `${day}T00:00:00Z`,
        payload,
        payload.jti,
        payload.iss,
        body.reason ?? null,
        now.toISOString(),
        'bench',
      ],
    );
    return row;
  };
  return async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    try {
      const row = await once(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify(row));
    } catch (e) {
      res.writeHead(422, { 'content-type': 'application/json' }).end(JSON.stringify({ error: String(e) }));
    }
  };
}

async function switching(engine: string, raw: Db, h: BenchHub, ccs: Awaited<ReturnType<typeof consentService>>, pgCpu: PgCpu) {
  const t0 = performance.now();
  const rows = Array.from({ length: ASSETS }, (_, n) => assetInput(n, 'SW'));
  const mpans = await register(h, rows, 2_000);
  log(`${engine}: ${fmt(ASSETS)} assets registered for Demo Flex Alpha in ${fmt((performance.now() - t0) / 1000, 1)} s`);

  // One consent per asset for Demo Flex Beta, valid from today for a year.
  const now = Math.floor(Date.now() / 1000);
  const today = new Date().toISOString().slice(0, 10);
  const to = new Date(Date.now() + 365 * DAY_MS).toISOString().slice(0, 10);
  const t1 = performance.now();
  const bodies: string[] = [];
  for (let i = 0; i < mpans.length; i += 500) {
    bodies.push(
      ...(await Promise.all(
        mpans.slice(i, i + 500).map(async (mpan, j) =>
          JSON.stringify({
            asset: `mpan:${mpan}`,
            reason: 'bench: consumer chose Beta',
            consent: await ccs.sign({
              iss: ccs.iss,
              aud: h.cfg.consent.audience,
              iat: now - 60,
              exp: now + 30 * 86_400,
              jti: `bench-consent-${i + j}`,
              sub: `consumer-${i + j}`,
              mpan,
              fsp: ORG['fsp-b'].id,
              purpose: 'flexibility-services',
              consent_from: today,
              consent_to: to,
            }),
          }),
        ),
      )),
    );
  }
  log(
    `${engine}: ${fmt(bodies.length)} consent tokens signed in ${fmt((performance.now() - t1) / 1000, 1)} s (${fmt(bodies[0].length)} bytes per request body)`,
  );

  await raw.query(`CREATE TABLE bench_switch (LIKE asset_switch INCLUDING DEFAULTS INCLUDING CONSTRAINTS, PRIMARY KEY (id))`);
  const baseline = await listen(verifyAndInsert(raw, h, ccs));
  const gen = await loadGenerator(h.seen, pgCpu);
  await gen.setBodies(bodies);
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${await h.token('fsp-b')}` };
  let cursor = 0;
  const drive = async (who: 'hub' | 'baseline', seconds: number, profile?: string) => {
    const r = await gen.drive(
      who === 'hub'
        ? { url: h.base, path: '/api/v1/switches', headers, start: cursor, cycle: false, seconds }
        : { url: baseline.url, path: '/switches', headers: { 'content-type': 'application/json' }, start: 0, cycle: true, seconds },
      profile,
    );
    if (who === 'hub') cursor += r.used;
    if (r.exhausted) log('  ran out of assets: that run stopped early (raise BENCH_ASSETS)');
    return r;
  };

  // The statements of one switch request, then warm-up.
  h.seen.capture = [];
  const one = await fetch(`${h.base}/api/v1/switches`, { method: 'POST', headers, body: bodies[cursor++] });
  const statements = h.seen.capture;
  h.seen.capture = undefined;
  if (one.status !== 201) throw new Error(`POST /api/v1/switches: ${one.status} ${await one.text()}`);
  const evidence = (await one.json()).consent;
  log(`${engine}: switch accepted, consent ${evidence.method} ${evidence.jti}; ${statements.length} statements`);
  // One request at a time, each statement timed: where a request's time goes, without queueing.
  h.seen.timing = new Map();
  const s0 = performance.now();
  for (let i = 0; i < SEQUENTIAL; i++) {
    const r = await fetch(`${h.base}/api/v1/switches`, { method: 'POST', headers, body: bodies[cursor++] });
    if (r.status !== 201) throw new Error(`POST /api/v1/switches: ${r.status} ${await r.text()}`);
    await r.arrayBuffer();
  }
  const sequential = {
    requestMs: (performance.now() - s0) / SEQUENTIAL,
    statements: [...h.seen.timing].map(([text, ms]) => ({ text, ms: ms / SEQUENTIAL })),
  };
  h.seen.timing = undefined;
  log(`${engine}: ${SEQUENTIAL} requests one at a time: ${fmt(sequential.requestMs, 2)} ms each`);
  log('switching warm-up …');
  await drive('hub', WARMUP);
  await drive('baseline', WARMUP);

  const runs = { hub: [] as Run[], baseline: [] as Run[] };
  const alone = { verify: [] as Ops[], insert: [] as Ops[] };
  const sample = JSON.parse(bodies[0]).consent as string;
  const keys = createLocalJWKSet(ccs.jwks);
  for (let rep = 1; rep <= REPS; rep++) {
    const order: ('hub' | 'baseline')[] = rep % 2 ? ['hub', 'baseline'] : ['baseline', 'hub'];
    for (const who of order) {
      const r = await drive(who, DURATION, rep === 1 ? `${engine}-switch-${who}` : undefined);
      runs[who].push(r);
      log(
        `switching rep ${rep} ${who.padEnd(8)}: ${fmt(r.rps)} req/s, p50 ${fmt(r.p50, 2)} ms, p99 ${fmt(r.p99, 2)} ms; CPU/request main ${fmt(r.mainUs)} µs, other threads ${fmt(r.otherUs)} µs${pgCpu ? `, PostgreSQL ${fmt(r.pgUs)} µs` : ''}; ${fmt(r.queries, 1)} statements/request`,
      );
    }
    alone.verify.push(
      await opsPerSec(
        () =>
          jwtVerify(sample, keys, {
            issuer: ccs.iss,
            audience: h.cfg.consent.audience,
            algorithms: CONSENT_ALGORITHMS,
            typ: CONSENT_TOKEN_TYPE,
          }),
        CONNECTIONS,
      ),
    );
    alone.insert.push(
      await opsPerSec(
        () =>
          raw.query(
            `INSERT INTO bench_switch (id, asset_id, losing_fsp_id, gaining_fsp_id, status, effective_date, effective_at, consent, consent_jti, consent_issuer, requested_at, requested_by)
      VALUES ($1, 'x', 'a', 'b', 'PENDING', '2026-01-01', now(), '{}'::jsonb, 'j', 'i', now(), 'bench')`,
            [h.hub.ports.ids.next()],
          ),
        CONNECTIONS,
      ),
    );
    log(
      `switching rep ${rep} in-process, ${CONNECTIONS} in flight: jose jwtVerify ${fmt(alone.verify.at(-1)!.ops)} /s, INSERT alone ${fmt(alone.insert.at(-1)!.ops)} /s`,
    );
  }
  const [{ n: switches }] = await raw.query(`SELECT count(*)::int AS n FROM asset_switch WHERE status = 'PENDING'`);
  const [{ n: replays }] = await raw.query(`SELECT count(*)::int AS n FROM consent_replay`);
  if (Number(switches) !== cursor || Number(replays) !== cursor)
    log(`  check: ${switches} pending switches and ${replays} consent uses for ${cursor} requests sent`);
  await gen.stop();
  await close(baseline.server);
  return { runs, alone, statements, sequential, requests: cursor };
}

// ---------------------------------------------------------------------------------------------
// (2) Webhook delivery

interface Delivery {
  perSec: number;
  seconds: number;
  n: number;
  mainUs: number;
  passes?: number;
  queries?: number;
  pgUs?: number;
  claimMs?: number;
  recordMs?: number;
}

async function delivery(engine: string, raw: Db, h: BenchHub, pgCpu: PgCpu) {
  const { w, first, ask } = await startWorker(RECEIVER);
  const url = `http://127.0.0.1:${first.port}/hook`;
  const sub = await fetch(`${h.base}/api/v1/webhooks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await h.token('fsp-a')}` },
    body: JSON.stringify({ url, eventTypes: ['fmar.*'], description: 'bench receiver' }),
  });
  const s: any = await sub.json();
  if (sub.status !== 201) throw new Error(`POST /api/v1/webhooks: ${sub.status} ${JSON.stringify(s)}`);
  await ask({ secret: s.secret, reset: true });
  const opts = { source: h.base, production: false, batchSize: BATCH };
  const runs = { hub: [] as Delivery[], baseline: [] as Delivery[] };
  const registerSeconds: number[] = [];

  const hubRun = async (): Promise<Delivery> => {
    h.seen.timing = new Map();
    const q0 = h.seen.n,
      m0 = threadCpuMs(process.pid),
      pg0 = pgCpu?.() ?? NaN,
      t0 = performance.now();
    let n = 0,
      passes = 0;
    for (;;) {
      const r = await deliverDue(h.db, h.ctx.clock, opts);
      passes++;
      if (r.retrying || r.dead) throw new Error(`deliverDue: ${JSON.stringify(r)}`);
      n += r.delivered;
      if (r.claimed === 0) break;
    }
    const seconds = (performance.now() - t0) / 1000;
    const timing = [...h.seen.timing];
    h.seen.timing = undefined;
    const ms = (re: RegExp) => timing.filter(([k]) => re.test(k)).reduce((a, [, v]) => a + v, 0) / passes;
    return {
      perSec: n / seconds,
      seconds,
      n,
      passes,
      queries: (h.seen.n - q0) / n,
      mainUs: (1000 * (threadCpuMs(process.pid) - m0)) / n,
      pgUs: (1000 * ((pgCpu?.() ?? NaN) - pg0)) / n,
      claimMs: ms(/^WITH due AS/),
      recordMs: ms(/^UPDATE webhook_delivery/),
    };
  };
  /** The same events, as the worker would send them, posted by BATCH loops; signing is inside the loop, as in the worker. */
  const baselineRun = async (events: OutboxRow[]): Promise<Delivery> => {
    const m0 = threadCpuMs(process.pid),
      t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: BATCH }, async () => {
        while (next < events.length) {
          const e = events[next++];
          const body = JSON.stringify(toCloudEvent(e, h.base));
          const ts = Math.floor(Date.now() / 1000);
          const res = await fetch(url, {
            method: 'POST',
            body,
            redirect: 'manual',
            headers: {
              'content-type': 'application/cloudevents+json; charset=utf-8',
              'webhook-id': e.id,
              'webhook-timestamp': String(ts),
              'webhook-signature': await signWebhook(s.secret, e.id, ts, body),
              'user-agent': 'bench',
            },
          });
          await res.body?.cancel().catch(() => {});
          if (res.status !== 204) throw new Error(`receiver answered ${res.status}`);
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    return { perSec: events.length / seconds, seconds, n: events.length, mainUs: (1000 * (threadCpuMs(process.pid) - m0)) / events.length };
  };

  /** K new events (K assets registered in one batch), each with a pending delivery to the receiver. */
  const newEvents = async (k: number, tag: string) => {
    const t0 = performance.now();
    const [{ last }] = await raw.query(`SELECT coalesce(max(id), '') AS last FROM event_outbox`);
    await register(
      h,
      Array.from({ length: k }, (_, n) => assetInput(n, tag)),
      k,
    );
    const seconds = (performance.now() - t0) / 1000;
    const events = await raw.query<OutboxRow>(`SELECT id, type, subject, data, occurred_at FROM event_outbox WHERE id > $1 ORDER BY id`, [
      last,
    ]);
    const [{ n: pending }] = await raw.query(
      `SELECT count(*)::int AS n FROM webhook_delivery WHERE subscription_id = $1 AND status = 'PENDING'`,
      [s.id],
    );
    if (Number(pending) !== events.length || events.length !== k)
      throw new Error(`${pending} pending deliveries for ${events.length} events`);
    return { events, seconds };
  };
  const checked = async (who: string, n: number) => {
    const got = await ask({ reset: true });
    if (got.verified !== n || got.distinct !== n || got.refused)
      throw new Error(`${who}: the receiver verified ${got.verified} (${got.distinct} distinct) and refused ${got.refused} of ${n}`);
  };

  log('delivery warm-up …');
  const warm = await newEvents(Math.min(1_000, EVENTS), 'WH0');
  await hubRun();
  await checked('hub', warm.events.length);
  await baselineRun(warm.events);
  await checked('baseline', warm.events.length);
  for (let rep = 1; rep <= REPS; rep++) {
    const { events, seconds } = await newEvents(EVENTS, `WH${rep}`);
    registerSeconds.push(seconds);
    const order: ('hub' | 'baseline')[] = rep % 2 ? ['hub', 'baseline'] : ['baseline', 'hub'];
    for (const who of order) {
      const r = await profiled(rep === 1 ? `${engine}-delivery-${who}` : undefined, () => (who === 'hub' ? hubRun() : baselineRun(events)));
      await checked(who, events.length);
      runs[who].push(r);
      log(
        `delivery rep ${rep} ${who.padEnd(8)}: ${fmt(r.n)} in ${fmt(r.seconds, 2)} s = ${fmt(r.perSec)} /s; main-thread CPU ${fmt(r.mainUs)} µs/delivery${
          r.passes
            ? `${pgCpu ? `, PostgreSQL ${fmt(r.pgUs!)} µs` : ''}; ${r.passes} passes of ${fmt((1000 * r.seconds) / r.passes, 1)} ms: claim ${fmt(r.claimMs!, 2)} ms, record ${fmt(r.recordMs!, 2)} ms; ${fmt(r.queries!, 2)} statements/delivery`
            : ''
        }`,
      );
    }
  }
  const [{ n: delivered }] = await raw.query(
    `SELECT count(*)::int AS n FROM webhook_delivery WHERE subscription_id = $1 AND status = 'DELIVERED'`,
    [s.id],
  );
  log(
    `${engine}: ${delivered} deliveries DELIVERED; registering ${fmt(EVENTS)} assets took ${registerSeconds.map((x) => fmt(x, 1)).join(', ')} s`,
  );
  await w.terminate();
  return { runs, registerSeconds };
}

// ---------------------------------------------------------------------------------------------
// Report

const med = (xs: { [k: string]: any }[], k: string, d = 0) => fmt(median(xs.map((x) => x[k] as number)), d);
const pct = (x: number) => `${fmt(100 * x, 1)}%`;

function report(engine: string, sw: Awaited<ReturnType<typeof switching>>, dl: Awaited<ReturnType<typeof delivery>>, pg: boolean) {
  const ratio = median(sw.runs.hub.map((r, i) => r.rps / sw.runs.baseline[i].rps));
  const cpu = (rs: Run[]) => `${med(rs, 'mainUs')} + ${med(rs, 'otherUs')}${pg ? ` + ${med(rs, 'pgUs')}` : ''}`;
  console.log(`\n### ${engine}: POST /api/v1/switches (${CONNECTIONS} connections, ${REPS} × ${DURATION} s, medians)\n`);
  table(
    [
      'what',
      'per second',
      'p50 / p99 ms',
      'vs baseline',
      `CPU µs per request: main thread + other threads${pg ? ' + PostgreSQL' : ''}`,
      'statements per request',
    ],
    [
      [
        'hub: consent-verified switch request',
        med(sw.runs.hub, 'rps'),
        `${med(sw.runs.hub, 'p50', 2)} / ${med(sw.runs.hub, 'p99', 2)}`,
        pct(ratio),
        cpu(sw.runs.hub),
        med(sw.runs.hub, 'queries', 1),
      ],
      [
        'baseline: bare node:http + jose jwtVerify + one INSERT',
        med(sw.runs.baseline, 'rps'),
        `${med(sw.runs.baseline, 'p50', 2)} / ${med(sw.runs.baseline, 'p99', 2)}`,
        '100%',
        cpu(sw.runs.baseline),
        '1',
      ],
      [
        `jose jwtVerify alone, in-process, ${CONNECTIONS} in flight`,
        med(sw.alone.verify, 'ops'),
        '–',
        '–',
        `${med(sw.alone.verify, 'cpuUs')} (process)`,
        '0',
      ],
      [
        `the INSERT alone, in-process, ${CONNECTIONS} in flight`,
        med(sw.alone.insert, 'ops'),
        '–',
        '–',
        `${med(sw.alone.insert, 'cpuUs')} (process)`,
        '1',
      ],
    ],
  );
  console.log(
    `\nPer round, hub / baseline req/s: ${sw.runs.hub.map((r, i) => `${fmt(r.rps)} / ${fmt(sw.runs.baseline[i].rps)}`).join(', ')}; ${fmt(sw.requests)} switch requests in all.`,
  );
  const q = sw.sequential;
  console.log(
    `\n${SEQUENTIAL} switch requests one at a time: ${fmt(q.requestMs, 2)} ms each (the client's view). Where a request's time goes:\n`,
  );
  const ms = (k: string) => q.statements.find((x) => x.text === k)?.ms ?? 0;
  const stmts = q.statements.filter((x) => x.text !== TX && x.text !== CONSENT).sort((a, b) => b.ms - a.ms);
  const inTx = stmts.filter((x) => !/^SELECT o\.status/.test(x.text)); // the organisation's facts are read by auth, outside
  const sum = (xs: { ms: number }[]) => xs.reduce((a, x) => a + x.ms, 0);
  const consentOwn = ms(CONSENT) - sum(stmts.filter((x) => /consent_revocation|consent_replay/.test(x.text)));
  const row = (label: string, v: number) => [label, fmt(v, 3), pct(v / q.requestMs)];
  table(
    ['where', 'ms per request', 'share of the request'],
    [
      ...stmts.map((x) => row(`\`${x.text.length > 90 ? `${x.text.slice(0, 90)}…` : x.text}\``, x.ms)),
      row('**all statements** (BEGIN and COMMIT not included)', sum(stmts)),
      row('the consent verifier without its two statements (jose jwtVerify, SHA-256 of the token, claims)', consentOwn),
      row('the rest of the transaction (BEGIN, COMMIT, code between statements)', ms(TX) - sum(inTx) - consentOwn),
      row('outside the transaction (HTTP, routing, auth, zod, response)', q.requestMs - ms(TX)),
    ],
  );
  console.log(
    `\nThe first switch request ran ${sw.statements.length} statements besides BEGIN and COMMIT; later ones find the organisation's facts cached.`,
  );

  const dratio = median(dl.runs.hub.map((r, i) => r.perSec / dl.runs.baseline[i].perSec));
  console.log(`\n### ${engine}: webhook delivery of ${fmt(EVENTS)} events (${BATCH} in flight, ${REPS} rounds, medians)\n`);
  table(
    [
      'what',
      'deliveries/s',
      'seconds',
      'vs baseline',
      `CPU µs per delivery: main thread${pg ? ' + PostgreSQL' : ''}`,
      'ms per pass: all / claim / record',
    ],
    [
      [
        `hub: deliverDue in a loop (batchSize ${BATCH})`,
        med(dl.runs.hub, 'perSec'),
        med(dl.runs.hub, 'seconds', 2),
        pct(dratio),
        `${med(dl.runs.hub, 'mainUs')}${pg ? ` + ${med(dl.runs.hub, 'pgUs')}` : ''}`,
        `${fmt(median(dl.runs.hub.map((r) => (1000 * r.seconds) / r.passes!)), 1)} / ${med(dl.runs.hub, 'claimMs', 2)} / ${med(dl.runs.hub, 'recordMs', 2)}`,
      ],
      [
        `baseline: ${BATCH} loops of signed POSTs (fetch)`,
        med(dl.runs.baseline, 'perSec'),
        med(dl.runs.baseline, 'seconds', 2),
        '100%',
        med(dl.runs.baseline, 'mainUs'),
        '–',
      ],
    ],
  );
  console.log(
    `\nPer round, hub / baseline deliveries/s: ${dl.runs.hub.map((r, i) => `${fmt(r.perSec)} / ${fmt(dl.runs.baseline[i].perSec)}`).join(', ')}. Registering ${fmt(EVENTS)} assets (the events' source) took ${dl.registerSeconds.map((x) => fmt(x, 1)).join(', ')} s.`,
  );
}

async function main() {
  const engines = (process.env.BENCH_ENGINES?.split(',') ?? ['pglite', ...(process.env.DATABASE_URL ? ['postgres'] : [])]) as (
    'pglite' | 'postgres'
  )[];
  if (engines.some((e) => e !== 'pglite' && e !== 'postgres') || (engines.includes('postgres') && !process.env.DATABASE_URL))
    throw new Error('BENCH_ENGINES: pglite and/or postgres (postgres needs DATABASE_URL)');
  log(
    `switching benchmark: ${engines.join(', ')}; ${fmt(ASSETS)} assets, ${REPS} rounds × ${DURATION} s per server (warm-up ${WARMUP} s), ${CONNECTIONS} connections; ${fmt(EVENTS)} events per delivery round, ${BATCH} in flight; load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  console.log('machine', JSON.stringify(machine()));
  const ccs = await consentService();
  const results: [string, Awaited<ReturnType<typeof switching>>, Awaited<ReturnType<typeof delivery>>, boolean][] = [];
  for (const engine of engines) {
    const t0 = performance.now();
    const { db, drop } = await openEngine(engine, 'switching');
    const h = await startHub(db, ccs);
    log(`${engine}: hub on ${h.base}`);
    const pgCpu: PgCpu = engine === 'postgres' && process.env.FMAR_PG_DIR ? () => pgCpuMs(process.env.FMAR_PG_DIR!) : undefined;
    const sw = await switching(engine, db, h, ccs, pgCpu);
    const dl = await delivery(engine, db, h, pgCpu);
    await close(h.server);
    await db.close();
    await drop();
    results.push([engine === 'pglite' ? 'PGlite (in memory)' : 'PostgreSQL', sw, dl, !!pgCpu]);
    log(
      `${engine}: done in ${fmt((performance.now() - t0) / 1000)} s; load average ${loadavg()
        .map((x) => x.toFixed(1))
        .join(' ')}`,
    );
  }
  await close(ccs.server);
  for (const [engine, sw, dl, pg] of results) report(engine, sw, dl, pg);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
