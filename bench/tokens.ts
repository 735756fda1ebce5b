/**
 * Benchmark: the identity side of the hub, in one process. (1) Client-credentials tokens issued per
 * second at the provider's token endpoint, with client_secret_basic and with private_key_jwt,
 * against a bare node:http server that only signs a token of the same shape with jose (and jose's
 * SignJWT in-process). (2) API requests per second to GET /api/v1/assets?identifier=mpan:… with a
 * provider-issued token, verified on every request (cacheMs 0), through the verified-token cache
 * (the default 15 s) and not verified at all (a token port that hands back the decoded claims),
 * with jose's jwtVerify of the same token in-process as the floor.
 *
 *   npm run bench:tokens     (BENCH_REPS=3 BENCH_DURATION=5 BENCH_WARMUP=2 BENCH_CONNECTIONS=10; DATABASE_URL=… adds a PostgreSQL run;
 *                             BENCH_ENGINES=pglite,postgres picks the engines)
 *   BENCH_PROFILE_DIR=/tmp/prof BENCH_REPS=1 npm run bench:tokens   (a CPU profile of the main thread per server; bench/cpuprofile.ts)
 *
 * The hub runs in this process's main thread (startNodeHub on PGlite in memory, or on a fresh
 * database of the DATABASE_URL server); the load comes from autocannon in a worker thread, so the
 * main thread is the hub's alone. Servers alternate round by round; medians of the rounds.
 */
import { silentLogger } from '../src/http/request-log';
import { createPublicKey, randomBytes, verify as verifySignature } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { RequestListener } from 'node:http';
import { Session } from 'node:inspector/promises';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { getRequestListener } from '@hono/node-server';
import {
  SignJWT,
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
  type JWTPayload,
} from 'jose';
import { systemPrincipal } from '../src/access/principal';
import { ACCESS_TOKEN_ALGORITHMS, jwtTokenVerifier, type AccessClaims, type TokenVerifier } from '../src/access/tokens';
import { buildApp } from '../src/app';
import { loadConfig } from '../src/config';
import { DEMO_ORGANISATIONS, seedDemo } from '../src/demo/seed';
import { startNodeHub, type NodeHub } from '../src/node/server';
import type { Db, Row, Sql } from '../src/storage/db';
import { envInt, fmt, log, machine, median, table } from './lib';
import { close, listen, openEngine, opsPerSec, processCpuMs, threadCpuMs } from './in-process';
import { standardHooks } from '../src/hooks';

const REPS = envInt('BENCH_REPS', 3);
const DURATION = envInt('BENCH_DURATION', 5);
const WARMUP = envInt('BENCH_WARMUP', 2);
const CONNECTIONS = envInt('BENCH_CONNECTIONS', 10);
/** When set, the main thread is profiled during each server's first round (those numbers are then not clean). */
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR;
const LOOKUP = '/api/v1/assets?identifier=mpan:1312345678907';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

// ---------------------------------------------------------------------------------------------
// CPU per thread (Linux /proc): the hub's main thread, the load generator's thread, the rest
// (libuv threadpool, where WebCrypto signs and verifies; GC helpers).

// ---------------------------------------------------------------------------------------------
// Load generator: autocannon in a worker thread. `bodies`, when given, are sent one per request
// (each private_key_jwt assertion is good once).

const WORKER = `
const { parentPort } = require('node:worker_threads');
const autocannon = require('autocannon');
parentPort.postMessage({ tid: Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop()) });
parentPort.on('message', async (job) => {
  const lat = []; let bad = 0; let next = 0; let exhausted = false; const statuses = {};
  const bodies = job.bodies;
  const inst = autocannon({ url: job.url, connections: job.connections, duration: job.seconds,
    requests: [{ method: job.method, path: job.path, headers: job.headers, body: job.body,
      ...(bodies ? { setupRequest: (req) => {
        if (next >= bodies.length) { if (!exhausted) { exhausted = true; inst.stop(); } return { ...req, body: bodies[bodies.length - 1] }; }
        return { ...req, body: bodies[next++] };
      } } : {}) }] });
  inst.on('response', (_c, status, _b, ms) => { if (status === 200) lat.push(ms); else { bad++; statuses[status] = (statuses[status] || 0) + 1; } });
  const r = await inst;
  lat.sort((a, b) => a - b);
  const pct = (p) => lat.length ? lat[Math.min(lat.length - 1, Math.ceil(p / 100 * lat.length) - 1)] : NaN;
  parentPort.postMessage({ ok: lat.length, bad: bad + r.errors + r.timeouts, statuses, seconds: r.duration, p50: pct(50), p99: pct(99), exhausted, used: next });
});`;

interface Job {
  url: string;
  path: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  bodies?: string[];
  seconds: number;
}
interface Run {
  queries: number;
  rps: number;
  p50: number;
  p99: number;
  bad: number;
  mainUs: number;
  genUs: number;
  otherUs: number;
  elu: number;
  exhausted: boolean;
}

async function loadGenerator() {
  const w = new Worker(WORKER, { eval: true });
  const tid = await new Promise<number>((res, rej) => {
    w.once('message', (m) => res(m.tid));
    w.once('error', rej);
  });
  return {
    async drive(job: Job, seen: { n: number }, profile?: string): Promise<Run> {
      const session = PROFILE_DIR && profile ? new Session() : undefined;
      if (session) {
        session.connect();
        await session.post('Profiler.enable');
        await session.post('Profiler.start');
      }
      const q0 = seen.n;
      const [m0, p0, g0, e0] = [threadCpuMs(process.pid), processCpuMs(), threadCpuMs(tid), performance.eventLoopUtilization()];
      w.postMessage({ ...job, connections: CONNECTIONS });
      const r = await new Promise<any>((res) => w.once('message', res));
      if (session) {
        const { profile: p } = await session.post('Profiler.stop');
        mkdirSync(PROFILE_DIR!, { recursive: true });
        writeFileSync(`${PROFILE_DIR}/${profile}.cpuprofile`, JSON.stringify(p));
        session.disconnect();
      }
      const n = Math.max(1, r.ok + r.bad);
      const main = threadCpuMs(process.pid) - m0,
        gen = threadCpuMs(tid) - g0,
        all = processCpuMs() - p0;
      if (r.bad) log(`  ${job.method} ${job.path}: ${r.bad} non-200 or errors ${JSON.stringify(r.statuses)}`);
      return {
        queries: (seen.n - q0) / n,
        rps: r.ok / r.seconds,
        p50: r.p50,
        p99: r.p99,
        bad: r.bad,
        exhausted: r.exhausted,
        elu: performance.eventLoopUtilization(e0).utilization,
        mainUs: (1000 * main) / n,
        genUs: (1000 * gen) / n,
        otherUs: (1000 * Math.max(0, all - main - gen)) / n,
      };
    },
    stop: () => w.terminate(),
  };
}

type Ops = Awaited<ReturnType<typeof opsPerSec>>;
/** In-process operations per second, `inFlight` at a time, and CPU per operation (process, main thread). */

// ---------------------------------------------------------------------------------------------
// Servers

/**
 * Sign a token shaped like `sample` (same header, same claims, fresh iat/exp/jti) with the hub's
 * current ES256 key: the baseline of issuance.
 */
async function tokenSigner(node: NodeHub, sample: string) {
  const { kid, jwk } = node.hub.keys.current('ES256');
  const key = await importJWK(jwk, 'ES256');
  const header = decodeProtectedHeader(sample);
  const { iat, exp, jti, ...claims } = decodeJwt(sample) as JWTPayload & Record<string, unknown>;
  const ttl = (exp ?? 0) - (iat ?? 0);
  if (header.kid !== kid || header.alg !== 'ES256')
    throw new Error(`provider token header ${JSON.stringify(header)} is not the ring's ES256 key ${kid}`);
  return () => {
    const t = Math.floor(Date.now() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader(header as any)
      .setIssuedAt(t)
      .setExpirationTime(t + ttl)
      .setJti(randomBytes(32).toString('base64url'))
      .sign(key);
  };
}

/** The bare HTTP baseline: read the form body, sign, answer like a token endpoint. */
function signServer(sign: () => Promise<string>, scope: string): RequestListener {
  return async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    if (form.get('grant_type') !== 'client_credentials') {
      res.writeHead(400).end();
      return;
    }
    const body = JSON.stringify({ access_token: await sign(), expires_in: 300, token_type: 'Bearer', scope });
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(body);
  };
}

// ---------------------------------------------------------------------------------------------
// The hub, its clients and their tokens

/** The hub's database port, counting statements (and, while `capture` is set, recording them). */
function counting(db: Db) {
  const seen = { n: 0, capture: undefined as string[] | undefined };
  const wrap = (s: Sql): Sql => ({
    query<T extends object = Row>(text: string, params?: unknown[]) {
      seen.n++;
      seen.capture?.push(text.replace(/\s+/g, ' ').trim());
      return s.query<T>(text, params);
    },
  });
  const counted: Db = {
    engine: db.engine,
    ...wrap(db),
    transaction: (fn) => db.transaction((tx) => fn(wrap(tx))),
    close: () => db.close(),
  };
  return { db: counted, seen };
}

async function startHubInProcess(engine: string, raw: Db) {
  const { db, seen } = counting(raw);
  const probe = await listen(() => {});
  const port = Number(new URL(probe.url).port);
  await close(probe.server);
  const base = `http://127.0.0.1:${port}`;
  const cfg = loadConfig({
    FMAR_MODE: 'development',
    FMAR_BASE_URL: base,
    PORT: String(port),
    FMAR_RATE_LIMIT_CLIENT_PER_MINUTE: '0',
    FMAR_RATE_LIMIT_ORG_PER_MINUTE: '0',
  });
  const node = await startNodeHub(cfg, db, { port, host: '127.0.0.1', log: silentLogger });
  await seedDemo({ db, clock: node.hub.ports.clock, ids: node.hub.ports.ids, hooks: standardHooks() }, systemPrincipal('seed'));
  const fspA = DEMO_ORGANISATIONS.find((o) => o.key === 'fsp-a')!;
  const dev = await node.hub.signer!.sign({ sub: 'bench-fsp-a', org: fspA.id, roles: fspA.roles });
  const newClient = async (body: Record<string, unknown>) => {
    const r = await fetch(`${base}/api/v1/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${dev}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (r.status !== 201) throw new Error(`POST /api/v1/clients: ${r.status} ${await r.text()}`);
    return r.json() as Promise<{ clientId: string; clientSecret?: string }>;
  };
  const secret = await newClient({ name: 'bench secret client', authMethod: 'client_secret_basic' });
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const keyed = await newClient({
    name: 'bench key client',
    authMethod: 'private_key_jwt',
    jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'bench-1', alg: 'ES256', use: 'sig' }] },
  });
  const basic = `Basic ${Buffer.from(`${encodeURIComponent(secret.clientId)}:${encodeURIComponent(secret.clientSecret!)}`).toString('base64')}`;
  const assertionBody = async () => {
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'bench-1' })
      .setIssuer(keyed.clientId)
      .setSubject(keyed.clientId)
      .setAudience(cfg.issuer)
      .setJti(randomBytes(16).toString('base64url'))
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(privateKey);
    return new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: jwt,
    }).toString();
  };
  const assertions = async (n: number) => {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(await assertionBody());
    return out;
  };
  /** A fresh client_secret_basic token (they live 5 minutes). */
  const token = async () => {
    const r = await fetch(`${base}/oauth/token`, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    const j: any = await r.json();
    if (r.status !== 200) throw new Error(`token endpoint: ${r.status} ${JSON.stringify(j)}`);
    return j as { access_token: string; scope: string };
  };
  /** The statements one request runs (sent after a pause, so that nothing else runs meanwhile). */
  const statements = async (send: () => Promise<Response>) => {
    await new Promise((r) => setTimeout(r, 100));
    seen.capture = [];
    const r = await send();
    await r.arrayBuffer();
    const out = seen.capture;
    seen.capture = undefined;
    if (r.status !== 200) throw new Error(`statements: ${r.status}`);
    return out;
  };
  return { engine, node, cfg, base, basic, assertions, token, seen, statements };
}
type BenchHub = Awaited<ReturnType<typeof startHubInProcess>>;

// ---------------------------------------------------------------------------------------------
// Phases

const form = { 'content-type': 'application/x-www-form-urlencoded' };

async function issuance(h: BenchHub, gen: Awaited<ReturnType<typeof loadGenerator>>) {
  const first = await h.token();
  const sign = await tokenSigner(h.node, first.access_token);
  const baseline = await listen(signServer(sign, first.scope));
  // A private_key_jwt warm-up tells how many assertions a timed run needs.
  let keyRate = 1000;
  const jobs = {
    secret: async (s: number): Promise<Job> => ({
      url: h.base,
      path: '/oauth/token',
      method: 'POST',
      headers: { ...form, authorization: h.basic },
      body: 'grant_type=client_credentials',
      seconds: s,
    }),
    keyJwt: async (s: number): Promise<Job> => ({
      url: h.base,
      path: '/oauth/token',
      method: 'POST',
      headers: form,
      bodies: await h.assertions(Math.ceil(2 * keyRate * s + 500)),
      seconds: s,
    }),
    sign: async (s: number): Promise<Job> => ({
      url: baseline.url,
      path: '/oauth/token',
      method: 'POST',
      headers: form,
      body: 'grant_type=client_credentials',
      seconds: s,
    }),
  };
  const post = (headers: Record<string, string>, body: string) =>
    fetch(`${h.base}/oauth/token`, { method: 'POST', headers: { ...form, ...headers }, body });
  const statements = {
    secret: await h.statements(() => post({ authorization: h.basic }, 'grant_type=client_credentials')),
    keyJwt: await h.statements(async () => post({}, (await h.assertions(1))[0])),
  };
  log('issuance warm-up …');
  await gen.drive(await jobs.secret(WARMUP), h.seen);
  keyRate = (await gen.drive(await jobs.keyJwt(WARMUP), h.seen)).rps;
  await gen.drive(await jobs.sign(WARMUP), h.seen);
  const runs: Record<keyof typeof jobs, Run[]> = { secret: [], keyJwt: [], sign: [] };
  const inProcess = { one: [] as Ops[], many: [] as Ops[] };
  for (let rep = 1; rep <= REPS; rep++) {
    const order = (['secret', 'keyJwt', 'sign'] as const).slice();
    if (rep % 2 === 0) order.reverse();
    for (const who of order) {
      const r = await gen.drive(await jobs[who](DURATION), h.seen, rep === 1 ? `${h.engine}-issue-${who}` : undefined);
      if (who === 'keyJwt') keyRate = Math.max(keyRate, r.rps);
      if (r.exhausted) log('  ran out of pre-signed assertions: that run stopped early');
      runs[who].push(r);
      log(
        `issuance rep ${rep} ${who.padEnd(6)}: ${fmt(r.rps)} tokens/s, p50 ${fmt(r.p50, 2)} ms, p99 ${fmt(r.p99, 2)} ms; CPU/request main ${fmt(r.mainUs)} µs, other threads ${fmt(r.otherUs)} µs, load generator ${fmt(r.genUs)} µs; ${fmt(r.queries, 1)} statements/request`,
      );
    }
    inProcess.one.push(await opsPerSec(sign, 1));
    inProcess.many.push(await opsPerSec(sign, CONNECTIONS));
    log(
      `issuance rep ${rep} jose SignJWT in-process: ${fmt(inProcess.one.at(-1)!.ops)} /s (1 in flight), ${fmt(inProcess.many.at(-1)!.ops)} /s (${CONNECTIONS} in flight)`,
    );
  }
  await close(baseline.server);
  return { runs, inProcess, statements };
}

async function verification(h: BenchHub, gen: Awaited<ReturnType<typeof loadGenerator>>) {
  const { cfg, node } = h;
  const jwks = () => node.hub.keys.publicJwks();
  const decoded: { claims?: AccessClaims } = {};
  const variants: Record<'none' | 'cached' | 'every', TokenVerifier> = {
    none: { verify: async () => decoded.claims! },
    cached: jwtTokenVerifier({ issuer: cfg.issuer, audience: cfg.audience, jwks }),
    every: jwtTokenVerifier({ issuer: cfg.issuer, audience: cfg.audience, jwks, cacheMs: 0 }),
  };
  const servers = Object.fromEntries(
    await Promise.all(
      Object.entries(variants).map(async ([k, tokens]) => [
        k,
        await listen(getRequestListener(buildApp({ ...node.hub.ports, tokens }).fetch)),
      ]),
    ),
  ) as Record<keyof typeof variants, Awaited<ReturnType<typeof listen>>>;
  let token = '';
  const refresh = async () => {
    token = (await h.token()).access_token;
    decoded.claims = decodeJwt(token) as AccessClaims;
    for (const [k, s] of Object.entries(servers)) {
      const r = await fetch(`${s.url}${LOOKUP}`, { headers: { authorization: `Bearer ${token}` } });
      const j: any = await r.json();
      if (r.status !== 200 || j.items?.length !== 1) throw new Error(`${k}: ${r.status} ${JSON.stringify(j).slice(0, 300)}`);
    }
  };
  const job = (k: keyof typeof variants, s: number): Job => ({
    url: servers[k].url,
    path: LOOKUP,
    method: 'GET',
    headers: { authorization: `Bearer ${token}` },
    seconds: s,
  });
  await refresh();
  log('verification warm-up …');
  for (const k of Object.keys(servers) as (keyof typeof variants)[]) await gen.drive(job(k, WARMUP), h.seen);

  const keySet = createLocalJWKSet(jwks());
  const opts = {
    issuer: cfg.issuer,
    audience: cfg.audience,
    algorithms: ACCESS_TOKEN_ALGORITHMS,
    typ: 'at+jwt',
    clockTolerance: 30,
    requiredClaims: ['sub', 'exp', 'iat'],
  };
  const runs: Record<keyof typeof variants, Run[]> = { none: [], cached: [], every: [] };
  const inProcess = { one: [] as Ops[], many: [] as Ops[], hit: [] as Ops[], raw: [] as Ops[] };
  // The bare ECDSA P-256 check of the same signature with node:crypto (synchronous, no WebCrypto job).
  const rawCheck = () => {
    const [h64, p64, s64] = token.split('.');
    const kid = decodeProtectedHeader(token).kid;
    const key = createPublicKey({ key: jwks().keys.find((k) => k.kid === kid) as any, format: 'jwk' });
    const input = Buffer.from(`${h64}.${p64}`),
      sig = Buffer.from(s64, 'base64url');
    return async () => {
      if (!verifySignature('sha256', input, { key, dsaEncoding: 'ieee-p1363' }, sig)) throw new Error('signature');
    };
  };
  for (let rep = 1; rep <= REPS; rep++) {
    await refresh();
    const order = (['none', 'cached', 'every'] as const).slice();
    if (rep % 2 === 0) order.reverse();
    for (const who of order) {
      const r = await gen.drive(job(who, DURATION), h.seen, rep === 1 ? `${h.engine}-api-${who}` : undefined);
      runs[who].push(r);
      log(
        `verification rep ${rep} ${who.padEnd(6)}: ${fmt(r.rps)} req/s, p50 ${fmt(r.p50, 2)} ms, p99 ${fmt(r.p99, 2)} ms; CPU/request main ${fmt(r.mainUs)} µs, other threads ${fmt(r.otherUs)} µs; ${fmt(r.queries, 2)} statements/request; main thread busy ${fmt(100 * r.elu)}%`,
      );
    }
    inProcess.one.push(await opsPerSec(() => jwtVerify(token, keySet, opts), 1));
    inProcess.many.push(await opsPerSec(() => jwtVerify(token, keySet, opts), CONNECTIONS));
    inProcess.hit.push(await opsPerSec(() => variants.cached.verify(token), 1));
    inProcess.raw.push(await opsPerSec(rawCheck(), 1));
    log(
      `verification rep ${rep} jose jwtVerify in-process: ${fmt(inProcess.one.at(-1)!.ops)} /s (1 in flight), ${fmt(inProcess.many.at(-1)!.ops)} /s (${CONNECTIONS} in flight); cache hit ${fmt(inProcess.hit.at(-1)!.ops)} /s; node:crypto ECDSA verify ${fmt(inProcess.raw.at(-1)!.ops)} /s`,
    );
  }
  const lookup = () => fetch(`${servers.every.url}${LOOKUP}`, { headers: { authorization: `Bearer ${token}` } });
  await (await lookup()).arrayBuffer(); // the credential facts are now cached (5 s), as in a timed run
  const statements = await h.statements(lookup);
  for (const s of Object.values(servers)) await close(s.server);
  return { runs, inProcess, statements };
}

// ---------------------------------------------------------------------------------------------
// Report

const med = (xs: { [k: string]: any }[], k: string, d = 0) => fmt(median(xs.map((x) => x[k] as number)), d);
const pct = (x: number) => `${fmt(100 * x, 1)}%`;
/** Median over rounds of a / b, round by round. */
const ratio = (a: Run[], b: Run[]) => median(a.map((r, i) => r.rps / b[i].rps));
const httpRow = (label: string, rs: Run[], vs: string) => [
  label,
  med(rs, 'rps'),
  `${med(rs, 'p50', 2)} / ${med(rs, 'p99', 2)}`,
  vs,
  med(rs, 'mainUs'),
  med(rs, 'otherUs'),
];
const opsRow = (label: string, xs: Ops[]) => [
  label,
  med(xs, 'ops'),
  '–',
  '–',
  med(xs, 'mainUs'),
  fmt(Math.max(0, median(xs.map((x) => x.cpuUs - x.mainUs)))),
];
const HEAD = ['what', 'per second', 'p50 / p99 ms', 'vs baseline', 'CPU µs per request, main thread', 'other threads'];

function report(engine: string, iss: Awaited<ReturnType<typeof issuance>>, ver: Awaited<ReturnType<typeof verification>>) {
  console.log(`\n### ${engine}: client-credentials tokens issued (${CONNECTIONS} connections, ${REPS} × ${DURATION} s, medians)\n`);
  table(HEAD, [
    httpRow('token endpoint, client_secret_basic', iss.runs.secret, pct(ratio(iss.runs.secret, iss.runs.sign))),
    httpRow('token endpoint, private_key_jwt', iss.runs.keyJwt, pct(ratio(iss.runs.keyJwt, iss.runs.sign))),
    httpRow('baseline: bare node:http + jose SignJWT', iss.runs.sign, '100%'),
    opsRow('jose SignJWT in-process, 1 in flight', iss.inProcess.one),
    opsRow(`jose SignJWT in-process, ${CONNECTIONS} in flight`, iss.inProcess.many),
  ]);
  const every = ratio(ver.runs.every, ver.runs.none),
    cached = ratio(ver.runs.cached, ver.runs.none);
  console.log(`\n### ${engine}: GET ${LOOKUP} (${CONNECTIONS} connections, ${REPS} × ${DURATION} s, medians)\n`);
  table(HEAD, [
    httpRow('API, token not verified (decoded claims)', ver.runs.none, '100%'),
    httpRow('API, verified-token cache (15 s, the default)', ver.runs.cached, pct(cached)),
    httpRow('API, every request verified (cacheMs 0)', ver.runs.every, pct(every)),
    opsRow('jose jwtVerify in-process, 1 in flight', ver.inProcess.one),
    opsRow(`jose jwtVerify in-process, ${CONNECTIONS} in flight`, ver.inProcess.many),
    opsRow('jwtTokenVerifier cache hit, in-process', ver.inProcess.hit),
    opsRow('node:crypto ECDSA P-256 verify of the same signature (synchronous), in-process', ver.inProcess.raw),
  ]);
  const list = (title: string, xs: string[]) =>
    console.log(`\n${title}: ${xs.length} statements\n${xs.map((x) => `  ${x.length > 110 ? `${x.slice(0, 110)}…` : x}`).join('\n')}`);
  list('One token request, client_secret_basic', iss.statements.secret);
  list('One token request, private_key_jwt', iss.statements.keyJwt);
  list('One API request (credential facts cached, as during a timed run)', ver.statements);
  const verdict = (cost: number) => `${pct(cost)} of throughput (${cost <= 0.2 ? 'met' : 'not met'})`;
  console.log(
    `\nTarget: verification costs the API ≤ 20% of its throughput on a cached key set. Every request verified: ${verdict(1 - every)}; with the 15 s cache: ${verdict(1 - cached)}.`,
  );
}

async function main() {
  const engines = (process.env.BENCH_ENGINES?.split(',') ?? ['pglite', ...(process.env.DATABASE_URL ? ['postgres'] : [])]) as (
    'pglite' | 'postgres'
  )[];
  if (engines.some((e) => e !== 'pglite' && e !== 'postgres') || (engines.includes('postgres') && !process.env.DATABASE_URL))
    throw new Error('BENCH_ENGINES: pglite and/or postgres (postgres needs DATABASE_URL)');
  log(
    `tokens benchmark: ${engines.join(', ')}; ${REPS} rounds × ${DURATION} s per server (warm-up ${WARMUP} s); ${CONNECTIONS} connections; load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  const gen = await loadGenerator();
  console.log('machine', JSON.stringify(machine()));
  for (const engine of engines) {
    const { db, drop } = await openEngine(engine, 'tokens');
    const h = await startHubInProcess(engine, db);
    log(`${engine}: hub on ${h.base}`);
    const iss = await issuance(h, gen);
    const ver = await verification(h, gen);
    await h.node.close();
    await db.close();
    await drop();
    console.log(
      `\n## Identity: tokens, results on ${engine === 'pglite' ? 'PGlite (in memory)' : 'PostgreSQL'} (load average now ${loadavg()
        .map((x) => x.toFixed(1))
        .join(' ')})\n`,
    );
    console.log(
      "CPU per request: the hub's main thread (HTTP, provider or Hono app, PGlite) and the other threads of this process except the load generator (libuv threadpool, where WebCrypto signs and verifies; GC).",
    );
    report(engine === 'pglite' ? 'PGlite (in memory)' : 'PostgreSQL', iss, ver);
  }
  await gen.stop();
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
