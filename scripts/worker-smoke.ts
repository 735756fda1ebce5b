/**
 * The Worker smoke test (docs/workers.md, "How CI proves it"), run by scripts/worker-smoke.sh.
 *
 * 1. The Worker alone: a fresh database beside DATABASE_URL's, migrated and given its provider keys
 *    by the CLI (`fmar migrate`, `fmar keys rotate`: the production way, no inline keys), demo data
 *    from `fmar seed`. `wrangler dev --test-scheduled` runs src/worker.ts with no Node hub anywhere.
 *    Tokens come from the Worker's own token endpoint (client secret and private_key_jwt) and are
 *    verified against the database key ring. Writes leave audit records unsealed, a webhook
 *    delivery pending, a switch due and a CIM import job queued; one run of the every-minute Cron
 *    Trigger must seal, deliver, apply and run them.
 * 2. The Node hub on the same database: a fixed list of GET routes must answer the same on both.
 * 3. The bundle: `wrangler deploy --dry-run --outdir` within the budget in docs/workers.md.
 *
 * One `PASS worker: …` / `FAIL worker: …` line per check and a closing `PASS worker smoke: …` or
 * `FAIL worker smoke: …` line; exit 1 on any failure. Every process it starts is stopped, and its database dropped, at the end.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as netServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createHash, randomBytes } from 'node:crypto';
import { SignJWT, decodeJwt, exportJWK, generateKeyPair } from 'jose';
import postgres from 'postgres';

const ROOT = new URL('..', import.meta.url).pathname;
/**
 * Every request of the smoke on a connection of its own. A CI run stopped once with "fetch failed"
 * on the first request after a CLI call of several seconds: a kept-alive connection that the dev
 * server closed while idle, reused at that moment. A fresh connection per request cannot meet a
 * closed one, and the smoke is about the Worker's answers, not connection reuse.
 */
const fetch: typeof globalThis.fetch = (input, init = {}) => {
  const headers = new Headers(init.headers);
  headers.set('connection', 'close');
  return globalThis.fetch(input, { ...init, headers });
};
const LIMIT_S = Number(process.env.FMAR_WORKER_SMOKE_TIMEOUT ?? 300);
const started = Date.now();
/** Budget for the gzipped Worker bundle (docs/workers.md, "Bundle budget"). */
export const BUNDLE_BUDGET_GZIP_BYTES = 2_400_000;
const ADMIN_URL = process.env.DATABASE_URL;
if (!ADMIN_URL) {
  console.error('DATABASE_URL must point at a PostgreSQL server (see scripts/pg-start.sh)');
  process.exit(2);
}

let passed = 0;
let failed = 0;
const pass = (what: string) => {
  passed++;
  console.log(`PASS worker: ${what}`);
};
const fail = (what: string) => {
  failed++;
  console.log(`FAIL worker: ${what}`);
};
const check = (ok: boolean, what: string, why = '') => (ok ? pass(what) : fail(why ? `${what} (${why})` : what));

const children: ChildProcess[] = [];
const servers: Server[] = [];
const work = mkdtempSync(join(tmpdir(), 'fmar-worker-smoke-'));
const dbName = `fmar_worker_smoke_${process.pid}`;
const dbUrl = (() => {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${dbName}`;
  return u.href;
})();
const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
let sql: postgres.Sql | undefined;

async function cleanup() {
  for (const c of children) stop(c);
  await Promise.all(
    children.map((c) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r())))),
  );
  for (const s of servers) s.close();
  await sql?.end({ timeout: 5 });
  await admin.unsafe(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => {});
  await admin.end({ timeout: 5 });
  rmSync(work, { recursive: true, force: true });
}
function stop(c: ChildProcess) {
  // Each child leads its own process group (wrangler starts workerd; npx starts tsx).
  try {
    if (c.pid && c.exitCode === null) process.kill(-c.pid, 'SIGTERM');
  } catch {
    /* gone already */
  }
  setTimeout(() => {
    try {
      if (c.pid && c.exitCode === null) process.kill(-c.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }, 5000).unref();
}
const timer = setTimeout(() => {
  fail(`timed out after ${LIMIT_S}s (FMAR_WORKER_SMOKE_TIMEOUT)`);
  void cleanup().finally(() => process.exit(1));
}, LIMIT_S * 1000);

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = netServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function cli(args: string[], env: Record<string, string>): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli.ts'), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`fmar ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout.trim();
}

function startProcess(cmd: string, args: string[], env: Record<string, string>, log: string): ChildProcess {
  const c = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  c.stdout!.on('data', (d) => (out += d));
  c.stderr!.on('data', (d) => (out += d));
  Object.defineProperty(c, 'log', { get: () => out });
  children.push(c);
  void log;
  return c;
}
const logOf = (c: ChildProcess) => (c as ChildProcess & { log: string }).log;

async function waitFor(url: string, c: ChildProcess, seconds: number, status = 200): Promise<boolean> {
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until && c.exitCode === null) {
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(3000) });
      if (r.status === status) return true;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  return false;
}

interface Answer {
  status: number;
  type: string;
  text: string;
  headers: Record<string, string>;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}
async function call(
  base: string,
  method: string,
  path: string,
  o: { token?: string; body?: unknown; form?: Record<string, string>; basic?: string; requestId?: string; traceparent?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (o.traceparent) headers.traceparent = o.traceparent;
  if (o.requestId) headers['x-request-id'] = o.requestId;
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  if (o.basic) headers.authorization = `Basic ${Buffer.from(o.basic).toString('base64')}`;
  let body: string | undefined;
  if (o.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(o.form).toString();
  } else if (typeof o.body === 'string') {
    headers['content-type'] = 'application/rdf+xml';
    body = o.body;
  } else if (o.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(o.body);
  }
  const r = await fetch(`${base}${path}`, { method, headers, body, signal: AbortSignal.timeout(30_000) });
  const text = await r.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.status, type: r.headers.get('content-type') ?? '', text, json, headers: Object.fromEntries(r.headers) };
}

/** What the smoke reads of an OTLP/HTTP JSON export (opentelemetry-proto, JSON encoding). */
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: { key: string; value: { stringValue?: string } }[];
  service?: string;
}
interface OtlpRequest {
  resourceSpans?: { resource?: { attributes?: OtlpSpan['attributes'] }; scopeSpans?: { spans?: OtlpSpan[] }[] }[];
}

/** Poll `f` every 100 ms for up to `seconds` until it gives something. */
async function until<T>(f: () => T | undefined, seconds: number): Promise<T | undefined> {
  for (const end = Date.now() + seconds * 1000; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
    const v = f();
    if (v !== undefined) return v;
  }
  return f();
}

const DEMO = {
  'fsp-a': '01JDEM0000000000000000FSPA',
  'fsp-b': '01JDEM0000000000000000FSPB',
  dno: '01JDEM0000000000000000DN0S',
  installer: '01JDEM0000000000000000NSTR',
};

/** Cookies across redirects, as a browser keeps them (the sign-in screens). */
class CookieBrowser {
  jar = new Map<string, string>();
  async go(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.jar.size) headers.set('cookie', [...this.jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(url, { ...init, headers, redirect: 'manual', signal: AbortSignal.timeout(30_000) });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      this.jar.set(pair.slice(0, i), pair.slice(i + 1));
    }
    return res;
  }
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
const MPAN = '1312345678907';

function cimFile(mpan: string): string {
  const mrid = 'C0FFEE00-0000-4000-8000-0000000000C1';
  return `<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:c="http://iec.ch/TC57/CIM100#">
<c:Substation rdf:about="urn:uuid:5B000000-0000-4000-8000-000000000002"/>
<c:Feeder rdf:about="urn:uuid:F0000000-0000-4000-8000-000000000002"><c:Feeder.NormalEnergizingSubstation rdf:resource="urn:uuid:5B000000-0000-4000-8000-000000000002"/></c:Feeder>
<c:PowerElectronicsConnection rdf:about="urn:uuid:${mrid}"><c:IdentifiedObject.mRID>${mrid}</c:IdentifiedObject.mRID><c:Equipment.EquipmentContainer rdf:resource="urn:uuid:F0000000-0000-4000-8000-000000000002"/></c:PowerElectronicsConnection>
<c:UsagePoint rdf:about="urn:uuid:0B000000-0000-4000-8000-000000000002"><c:UsagePoint.Equipments rdf:resource="urn:uuid:${mrid}"/></c:UsagePoint>
<c:NameType rdf:about="urn:uuid:0E000000-0000-4000-8000-000000000002"><c:NameType.name>MPAN</c:NameType.name></c:NameType>
<c:Name rdf:about="urn:uuid:0A000000-0000-4000-8000-000000000002"><c:Name.name>${mpan}</c:Name.name><c:Name.NameType rdf:resource="urn:uuid:0E000000-0000-4000-8000-000000000002"/><c:Name.IdentifiedObject rdf:resource="urn:uuid:0B000000-0000-4000-8000-000000000002"/></c:Name>
</rdf:RDF>`;
}

/** The GET routes both runtimes must answer alike (same token, same database). */
const COMPARED_ROUTES = [
  '/openapi.json',
  '/.well-known/openid-configuration',
  '/oauth/jwks',
  '/.well-known/jwks.json',
  '/contexts/cim.jsonld',
  '/api/v1/assets?identifier=mpan:1312345678907',
  '/api/v1/assets?limit=5',
  '/api/v1/organisations',
  `/api/v1/organisations/${DEMO['fsp-a']}`,
  '/api/v1/clients',
  '/api/v1/switches',
  '/api/v1/webhooks',
  '/api/v1/events?limit=20',
  '/api/v1/cim/import-jobs',
  '/api/v1/audit?limit=10',
  '/api/v1/catalogues',
  '/api/v1/products',
  '/api/v1/data-quality/rules',
  '/api/v1/delegations',
  '/api/v1/assets/does-not-exist',
  '/api/v1/no-such-route',
];

async function main() {
  await admin.unsafe(`CREATE DATABASE ${dbName}`);
  sql = postgres(dbUrl, { max: 2, onnotice: () => {} });
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const cliEnv = { DATABASE_URL: dbUrl, FMAR_MODE: 'development', FMAR_BASE_URL: base, FMAR_ISSUER: base, FMAR_DEMO: 'false' };
  // A webhook receiver on loopback (the Worker runs in development mode, which may deliver to localhost).
  const received: { type: string; signature: string }[] = [];
  const hookPort = await freePort();
  const hooks = createServer((req, res) => {
    let b = '';
    req.on('data', (d) => (b += d));
    req.on('end', () => {
      received.push({ type: (JSON.parse(b) as { type: string }).type, signature: String(req.headers['webhook-signature'] ?? '') });
      res.writeHead(204).end();
    });
  }).listen(hookPort, '127.0.0.1');
  servers.push(hooks);
  // An OTLP/HTTP receiver on loopback (docs/workers.md, "Traces"): keeps every span the Worker posts.
  const spans: OtlpSpan[] = [];
  const otlpPort = await freePort();
  const otlp = createServer((req, res) => {
    let b = '';
    req.on('data', (d) => (b += d));
    req.on('end', () => {
      if (req.url === '/v1/traces' && req.headers['content-type'] === 'application/json')
        for (const rs of (JSON.parse(b) as OtlpRequest).resourceSpans ?? [])
          for (const ss of rs.scopeSpans ?? [])
            for (const s of ss.spans ?? [])
              spans.push({ ...s, service: rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value?.stringValue });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  }).listen(otlpPort, '127.0.0.1');
  servers.push(otlp);

  const wrangler = startProcess(
    'npx',
    [
      'wrangler',
      'dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--inspector-port',
      String(await freePort()),
      '--test-scheduled',
      '--persist-to',
      join(work, 'state'),
      '--show-interactive-dev-session=false',
      '--var',
      'FMAR_MODE:development',
      '--var',
      `FMAR_BASE_URL:${base}`,
      '--var',
      `FMAR_ISSUER:${base}`,
      '--var',
      'FMAR_SWITCH_NOTICE_DAYS:0',
      '--var',
      `OTEL_EXPORTER_OTLP_ENDPOINT:http://127.0.0.1:${otlpPort}`,
      '--var',
      'OTEL_SERVICE_NAME:fmar-worker-smoke',
    ],
    { CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE: dbUrl, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1', CI: 'true' },
    'wrangler',
  );
  // Started on an empty database: it must say what is missing (503), not fail every route with 500.
  if (!(await waitFor(`${base}/healthz`, wrangler, 60, 503))) {
    console.log(logOf(wrangler));
    throw new Error('wrangler dev did not answer /healthz');
  }
  pass(`wrangler dev (workerd) answers on ${base} after ${((Date.now() - started) / 1000).toFixed(1)}s, no Node hub running`);
  const empty = await call(base, 'GET', '/healthz');
  check(
    empty.status === 503 &&
      empty.json?.status === 'misconfigured' &&
      empty.json?.detail ===
        'The hub is misconfigured: the database has no schema: run `npx fmar keys rotate` against it (it applies the migrations, then creates the keys). See docs/workers.md, "Settings".',
    'on an empty database: GET /healthz -> 503 misconfigured, naming the command',
    empty.text.slice(0, 300),
  );
  const emptyApi = await call(base, 'GET', `/api/v1/assets?identifier=mpan:${MPAN}`);
  check(
    emptyApi.status === 503 && emptyApi.json?.code === 'HUB-MISCONFIGURED',
    'and the API -> 503 HUB-MISCONFIGURED',
    emptyApi.text.slice(0, 200),
  );
  // The production way: `fmar keys rotate` (production mode) applies the migrations and creates the keys.
  cli(['keys', 'rotate'], { ...cliEnv, FMAR_MODE: 'production' });
  cli(['migrate'], cliEnv);
  cli(['seed'], cliEnv);
  const kids = (await sql`SELECT kid FROM signing_key WHERE purpose = 'oidc' ORDER BY kid`).map((r) => r.kid as string);
  const [current] =
    await sql`SELECT string_agg(alg, ',' ORDER BY alg) AS algs FROM signing_key WHERE purpose = 'oidc' AND retired_at IS NULL`;
  check(
    current.algs === 'ES256,RS256' && kids.length === 2,
    'fmar keys rotate (production mode), migrate, seed: two provider keys in signing_key, ES256 and RS256, current',
    String(current.algs),
  );

  const ready = await call(base, 'GET', '/healthz');
  check(
    ready.status === 200 && ready.json?.database === 'postgres',
    'once the CLI made the database ready: GET /healthz -> 200, no redeploy',
    ready.text.slice(0, 200),
  );

  // ---- tokens from the Worker, verified against the database key ring
  const disc = await call(base, 'GET', '/.well-known/openid-configuration');
  check(
    disc.status === 200 &&
      disc.json.issuer === base &&
      disc.json.token_endpoint === `${base}/oauth/token` &&
      disc.json.jwks_uri === `${base}/oauth/jwks`,
    'discovery from the Worker: issuer, token_endpoint and jwks_uri on the Worker',
    disc.text.slice(0, 200),
  );
  check(
    disc.json?.grant_types_supported?.includes('client_credentials') &&
      disc.json?.grant_types_supported?.includes('urn:ietf:params:oauth:grant-type:token-exchange') &&
      disc.json?.token_endpoint_auth_methods_supported?.includes('private_key_jwt'),
    'discovery lists client_credentials, token exchange and private_key_jwt',
  );
  const jwks = await call(base, 'GET', '/oauth/jwks');
  const published = ((jwks.json?.keys ?? []) as { kid: string }[]).map((k) => k.kid).sort();
  check(
    jwks.status === 200 && JSON.stringify(published) === JSON.stringify(kids),
    'JWKS from the Worker = the key ring in signing_key',
    JSON.stringify(published),
  );

  const bootstrap = cli(['token', 'fsp-a'], cliEnv).split('\n').pop()!;
  const secretClient = await call(base, 'POST', '/api/v1/clients', {
    token: bootstrap,
    body: { name: 'smoke (secret)', kind: 'machine', authMethod: 'client_secret_basic' },
  });
  check(
    secretClient.status === 201 && typeof secretClient.json.clientSecret === 'string',
    'POST /api/v1/clients (client_secret_basic) -> 201 with a secret',
    String(secretClient.status),
  );
  const cc = await call(base, 'POST', '/oauth/token', {
    basic: `${secretClient.json.clientId}:${secretClient.json.clientSecret}`,
    form: { grant_type: 'client_credentials', resource: `${base}/api` },
  });
  check(
    cc.status === 200 && cc.json.token_type === 'Bearer' && cc.json.expires_in === 300,
    'client_credentials with a secret at the Worker -> 200, Bearer, 300 s',
    cc.text.slice(0, 200),
  );
  const token = cc.json.access_token as string;
  const wrong = await call(base, 'POST', '/oauth/token', {
    basic: `${secretClient.json.clientId}:not-the-secret`,
    form: { grant_type: 'client_credentials', resource: `${base}/api` },
  });
  check(wrong.status === 401 && wrong.json.error === 'invalid_client', 'a wrong secret -> 401 invalid_client', wrong.text.slice(0, 200));

  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'smoke-1', alg: 'ES256', use: 'sig' };
  const keyClient = await call(base, 'POST', '/api/v1/clients', {
    token,
    body: { name: 'smoke (key)', kind: 'machine', authMethod: 'private_key_jwt', jwks: { keys: [jwk] } },
  });
  check(
    keyClient.status === 201 && keyClient.json.authMethod === 'private_key_jwt',
    'POST /api/v1/clients (private_key_jwt) -> 201',
    keyClient.text.slice(0, 200),
  );
  const assertion = await new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: 'smoke-1' })
    .setIssuer(keyClient.json.clientId)
    .setSubject(keyClient.json.clientId)
    .setAudience(`${base}/oauth/token`)
    .setJti(`smoke-${Date.now()}`)
    .setIssuedAt()
    .setExpirationTime('60s')
    .sign(privateKey);
  const pk = await call(base, 'POST', '/oauth/token', {
    form: {
      grant_type: 'client_credentials',
      resource: `${base}/api`,
      client_id: keyClient.json.clientId,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    },
  });
  check(
    pk.status === 200 && typeof pk.json.access_token === 'string',
    'client_credentials with private_key_jwt at the Worker -> 200',
    pk.text.slice(0, 200),
  );

  const lookup = await call(base, 'GET', `/api/v1/assets?identifier=mpan:${MPAN}`, { token: pk.json.access_token });
  check(
    lookup.status === 200 && lookup.json.items?.length === 1 && lookup.json.items[0].friendlyCode === 'ALPHA-BESS-1',
    'the Worker accepts its own token: MPAN lookup -> one item ALPHA-BESS-1',
    lookup.text.slice(0, 200),
  );
  // Traces: the caller's traceparent is the parent of the request's span; its statements are the span's children.
  const traceId = randomBytes(16).toString('hex');
  const callerSpan = randomBytes(8).toString('hex');
  const traced = await call(base, 'GET', `/api/v1/assets?identifier=mpan:${MPAN}`, {
    token: pk.json.access_token,
    traceparent: `00-${traceId}-${callerSpan}-01`,
  });
  const inTrace = await until(() => {
    const t = spans.filter((s) => s.traceId === traceId);
    return t.some((s) => s.parentSpanId === callerSpan) && t.length > 1 ? t : undefined;
  }, 10);
  const server = inTrace?.find((s) => s.parentSpanId === callerSpan);
  const statements = inTrace?.filter((s) => s.parentSpanId === server?.spanId) ?? [];
  check(
    traced.status === 200 &&
      server?.name === 'GET /api/v1/assets' &&
      server.kind === 2 &&
      server.service === 'fmar-worker-smoke' &&
      traced.headers['x-request-id'] === traceId &&
      statements.length > 0 &&
      statements.every((s) => s.kind === 3 && s.attributes?.some((a) => a.key === 'db.query.text')),
    `traces over OTLP/HTTP: the lookup's span (child of the caller's traceparent) and ${statements.length} statement spans under it reach the receiver`,
    JSON.stringify(inTrace?.map((s) => [s.name, s.parentSpanId]) ?? spans.length),
  );
  const anon = await call(base, 'GET', `/api/v1/assets?identifier=mpan:${MPAN}`);
  check(
    anon.status === 401 && anon.type.startsWith('application/problem+json') && anon.json.code === 'AUTH-TOKEN-MISSING',
    'without a token -> 401 AUTH-TOKEN-MISSING',
  );

  // The Worker's bulk limit (4 MiB unless FMAR_MAX_BULK_BYTES says otherwise; docs/workers.md, "Memory").
  const big = await fetch(`${base}/api/v1/assets/bulk?dryRun=true`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
    body: ' '.repeat(4 * 1_048_576 + 1),
    signal: AbortSignal.timeout(30_000),
  });
  const bigBody = (await big.json().catch(() => ({}))) as { code?: string };
  check(
    big.status === 413 && bigBody.code === 'REQUEST-TOO-LARGE',
    "a bulk body of 4 MiB + 1 byte -> 413 REQUEST-TOO-LARGE (the Worker's limit)",
    `${big.status} ${bigBody.code}`,
  );

  // Token exchange (RFC 8693): the installer acts for fsp-a under a delegation.
  const installerClient = await call(base, 'POST', '/api/v1/clients', {
    token: cli(['token', 'installer'], cliEnv).split('\n').pop()!,
    body: { name: 'smoke (installer)', kind: 'machine', authMethod: 'client_secret_basic' },
  });
  const installerBasic = `${installerClient.json?.clientId}:${installerClient.json?.clientSecret}`;
  const own = await call(base, 'POST', '/oauth/token', {
    basic: installerBasic,
    form: { grant_type: 'client_credentials', resource: `${base}/api` },
  });
  const delegation = await call(base, 'POST', '/api/v1/delegations', {
    token,
    body: {
      delegateId: DEMO.installer,
      scopes: ['assets:read', 'assets:write'],
      validTo: new Date(Date.now() + 86_400_000).toISOString(),
      reason: 'smoke',
    },
  });
  const exchanged = await call(base, 'POST', '/oauth/token', {
    basic: installerBasic,
    form: {
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: own.json?.access_token ?? '',
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      delegation_id: delegation.json?.id ?? '',
    },
  });
  const actClaims = exchanged.json?.access_token ? decodeJwt(exchanged.json.access_token as string) : {};
  check(
    own.status === 200 &&
      delegation.status === 201 &&
      exchanged.status === 200 &&
      actClaims.org === DEMO['fsp-a'] &&
      (actClaims.act as { sub?: string })?.sub === installerClient.json?.clientId,
    'token exchange at the Worker: the installer acts for fsp-a (org fsp-a, act = the installer client)',
    `${own.status} ${delegation.status} ${exchanged.status} ${exchanged.text.slice(0, 200)}`,
  );

  // A person signs in through the Worker's sign-in screens (authorization code with PKCE).
  const invited = await call(base, 'POST', `/api/v1/organisations/${DEMO['fsp-a']}/users`, {
    token,
    body: { email: 'grace@alpha.example', name: 'Grace Hopper', userRole: 'MEMBER' },
  });
  const password = 'correct horse battery staple';
  const accepted = invited.json?.invitation?.url
    ? await fetch(invited.json.invitation.url as string, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ password }),
      })
    : undefined;
  const redirect = 'http://127.0.0.1:9/callback';
  const web = await call(base, 'POST', '/api/v1/clients', {
    token,
    body: { name: 'smoke console', kind: 'web', authMethod: 'none', redirectUris: [redirect] },
  });
  const verifier = randomBytes(32).toString('base64url');
  const auth = new URL(`${base}/oauth/authorize`);
  for (const [k, v] of Object.entries({
    client_id: web.json?.clientId ?? '',
    redirect_uri: redirect,
    response_type: 'code',
    scope: 'openid assets:read',
    state: 'smoke-state',
    prompt: 'consent',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    resource: `${base}/api`,
  }))
    auth.searchParams.set(k, v);
  const browser = new CookieBrowser();
  let step = await browser.follow(auth.href, base);
  const loginHtml = await step.res.text();
  const uid = /\/interaction\/([^/"]+)\/login/.exec(loginHtml)?.[1];
  check(
    invited.status === 201 && accepted?.status === 200 && step.res.status === 200 && loginHtml.includes('Sign in') && !!uid,
    'GET /oauth/authorize -> the sign-in page, served by the Worker',
  );
  const login = await browser.form(`${base}/interaction/${uid}/login`, { email: 'grace@alpha.example', password });
  step = await browser.follow(new URL(login.headers.get('location') ?? '/', base).href, base);
  const consentHtml = await step.res.text();
  const confirmUid = /\/interaction\/([^/"]+)\/confirm/.exec(consentHtml)?.[1];
  const confirm = await browser.form(`${base}/interaction/${confirmUid}/confirm`, {});
  step = await browser.follow(new URL(confirm.headers.get('location') ?? '/', base).href, base);
  const code = step.url.startsWith(redirect) ? new URL(step.url).searchParams.get('code') : null;
  const codeToken = await call(base, 'POST', '/oauth/token', {
    form: {
      grant_type: 'authorization_code',
      code: code ?? '',
      redirect_uri: redirect,
      client_id: web.json?.clientId ?? '',
      code_verifier: verifier,
      resource: `${base}/api`,
    },
  });
  const personLookup = codeToken.json?.access_token
    ? await call(base, 'GET', `/api/v1/assets?identifier=mpan:${MPAN}`, { token: codeToken.json.access_token as string })
    : undefined;
  check(
    login.status === 303 && confirm.status === 303 && !!code && codeToken.status === 200 && personLookup?.status === 200,
    "sign-in, consent, authorization code + PKCE at the Worker -> a person's token the Worker accepts",
    `${login.status} ${confirm.status} ${step.url} ${codeToken.status} ${codeToken.text.slice(0, 200)}`,
  );

  // ---- the console (/console) from the Worker's static assets, signing in at the Worker
  const shell = await call(base, 'GET', '/console/');
  const script = /<script[^>]+src="(\/console\/assets\/[^"]+\.js)"/.exec(shell.text)?.[1];
  check(
    shell.status === 200 &&
      shell.type.startsWith('text/html') &&
      !!script &&
      /script-src 'self'/.test(shell.headers['content-security-policy'] ?? '') &&
      shell.headers['cache-control'] === 'no-cache',
    "GET /console/ -> the console's page from the Worker's static assets, with the console's policy, no-cache",
    `${shell.status} ${shell.type} ${script} ${shell.headers['content-security-policy']}`,
  );
  const bundle = script ? await fetch(`${base}${script}`, { signal: AbortSignal.timeout(30_000) }) : undefined;
  const built = script ? readFileSync(join(ROOT, 'console/dist', script.slice('/console/'.length))) : Buffer.alloc(0);
  const served = bundle ? Buffer.from(await bundle.arrayBuffer()) : Buffer.alloc(0);
  check(
    bundle?.status === 200 &&
      bundle.headers.get('cache-control') === 'public, max-age=31536000, immutable' &&
      (bundle.headers.get('content-type') ?? '').startsWith('text/javascript') &&
      served.equals(built),
    `GET ${script ?? '/console/assets/<script>'} -> the built file byte for byte, immutable for a year`,
    `${bundle?.status} ${bundle?.headers.get('cache-control')} ${served.length} of ${built.length} bytes`,
  );
  const consoleVerifier = randomBytes(32).toString('base64url');
  const consoleAuth = new URL(`${base}/oauth/authorize`);
  for (const [k, v] of Object.entries({
    client_id: 'fmar-console',
    redirect_uri: `${base}/console/`,
    response_type: 'code',
    scope: 'openid offline_access assets:read',
    state: 'console-state',
    code_challenge: createHash('sha256').update(consoleVerifier).digest('base64url'),
    code_challenge_method: 'S256',
  }))
    consoleAuth.searchParams.set(k, v);
  // Grace is signed in already (the session cookie above): the console's client asks her consent, then returns a code.
  step = await browser.follow(consoleAuth.href, base);
  const consoleConsent = /\/interaction\/([^/"]+)\/confirm/.exec(await step.res.text())?.[1];
  if (consoleConsent) {
    const ok = await browser.form(`${base}/interaction/${consoleConsent}/confirm`, {});
    step = await browser.follow(new URL(ok.headers.get('location') ?? '/', base).href, base);
  }
  const consoleCode = step.url.startsWith(`${base}/console/?`) ? new URL(step.url).searchParams.get('code') : null;
  const consoleToken = await call(base, 'POST', '/oauth/token', {
    form: {
      grant_type: 'authorization_code',
      code: consoleCode ?? '',
      redirect_uri: `${base}/console/`,
      client_id: 'fmar-console',
      code_verifier: consoleVerifier,
    },
  });
  const consoleLookup = consoleToken.json?.access_token
    ? await call(base, 'GET', `/api/v1/assets?identifier=mpan:${MPAN}`, { token: consoleToken.json.access_token as string })
    : undefined;
  check(
    !!consoleCode && consoleToken.status === 200 && typeof consoleToken.json.refresh_token === 'string' && consoleLookup?.status === 200,
    "the console's client (fmar-console) signs in at the Worker and returns to the Worker's /console/: code, tokens, an API answer",
    `${step.url} ${consoleToken.status} ${consoleToken.text.slice(0, 200)}`,
  );

  // ---- background work left for the Cron Trigger
  const sub = await call(base, 'POST', '/api/v1/webhooks', {
    token,
    body: { url: `http://127.0.0.1:${hookPort}/hook`, eventTypes: ['*'] },
  });
  check(sub.status === 201, 'webhook subscription to a loopback receiver -> 201', sub.text.slice(0, 200));
  const consent = await call(base, 'POST', '/dev/consent-service/consents', { body: { mpan: MPAN, fsp: DEMO['fsp-b'] } });
  const fspB = cli(['token', 'fsp-b'], cliEnv).split('\n').pop()!;
  const sw = await call(base, 'POST', '/api/v1/switches', {
    token: fspB,
    body: { asset: `mpan:${MPAN}`, consent: consent.json?.token, reason: 'smoke' },
  });
  check(sw.status === 201 && sw.json.status === 'PENDING', 'switch requested by fsp-b -> 201 PENDING', sw.text.slice(0, 300));
  // Time travel for the test only: the switch's instant moved to now (its day is today: no notice), so it is due.
  await sql`UPDATE asset_switch SET effective_at = now() WHERE id = ${sw.json.id}`;
  const dno = cli(['token', 'dno'], cliEnv).split('\n').pop()!;
  const job = await call(base, 'POST', '/api/v1/cim/import-jobs?mode=enrich', { token: dno, body: cimFile(MPAN) });
  check(job.status === 202 && job.json.status === 'QUEUED', 'CIM import job queued by the DNO -> 202 QUEUED', job.text.slice(0, 300));

  const state = async () => {
    const [r] = await sql!`SELECT
      (SELECT count(*)::int FROM audit_log WHERE seq IS NULL) AS unsealed,
      (SELECT count(*)::int FROM audit_log WHERE seq IS NOT NULL) AS sealed,
      (SELECT count(*)::int FROM webhook_delivery WHERE status = 'PENDING') AS pending,
      (SELECT count(*)::int FROM webhook_delivery WHERE status = 'DELIVERED') AS delivered,
      (SELECT status FROM asset_switch WHERE id = ${sw.json.id ?? ''}) AS switch,
      (SELECT status FROM cim_import_job WHERE id = ${job.json.id ?? ''}) AS job`;
    return r as { unsealed: number; sealed: number; pending: number; delivered: number; switch: string; job: string };
  };
  const before = await state();
  check(
    before.unsealed > 0 && before.pending > 0 && before.delivered === 0 && before.switch === 'PENDING' && before.job === 'QUEUED',
    `before the Cron Trigger: ${before.unsealed} audit records unsealed, ${before.pending} deliveries pending, switch PENDING, job QUEUED`,
    JSON.stringify(before),
  );
  const cron = await fetch(`${base}/__scheduled?cron=${encodeURIComponent('* * * * *')}`, { signal: AbortSignal.timeout(60_000) });
  check(cron.status === 200, `GET /__scheduled?cron=* * * * * -> 200 (${await cron.text()})`);
  const after = await state();
  check(after.unsealed === 0, 'after one every-minute run: every audit record sealed', `${after.unsealed} unsealed`);
  // The run's own writes (the switch, the import) add events; the delivery job runs after them.
  check(
    after.pending === 0 && after.delivered > before.pending && received.length === after.delivered,
    `every webhook delivery made: ${after.delivered} delivered, ${received.length} received, none pending`,
    JSON.stringify(after),
  );
  check(
    received.every((r) => r.signature.startsWith('v1,')),
    'each delivery signed (webhook-signature v1,…)',
  );
  check(after.switch === 'EFFECTIVE', 'the due switch -> EFFECTIVE', after.switch);
  check(after.job === 'SUCCEEDED', 'the CIM import job -> SUCCEEDED', after.job);
  const verify = await call(base, 'POST', '/api/v1/audit/verify', { token: cli(['token', 'operator'], cliEnv).split('\n').pop()! });
  check(
    verify.status === 200 && verify.json.ok === true && verify.json.unsealed === 0,
    'the sealed chain verifies (POST /api/v1/audit/verify)',
    verify.text.slice(0, 200),
  );
  const jobSpans = await until(() => {
    const j = spans.filter((s) => s.name === 'job audit-seal' && !s.parentSpanId);
    return j.length ? j : undefined;
  }, 10);
  check(
    !!jobSpans && spans.some((s) => s.traceId === jobSpans[0].traceId && s.parentSpanId === jobSpans[0].spanId),
    'the Cron Trigger run is traced too: a root span `job audit-seal` with its statements under it',
  );
  for (const c of ['*/5 * * * *', '*/15 * * * *', '0 * * * *']) {
    const r = await fetch(`${base}/__scheduled?cron=${encodeURIComponent(c)}`, { signal: AbortSignal.timeout(60_000) });
    check(r.status === 200, `GET /__scheduled?cron=${c} -> 200`);
  }
  const line = logOf(wrangler)
    .split('\n')
    .find((l) => l.startsWith('[fmar] scheduled * * * * *: '));
  const report = line ? (JSON.parse(line.slice('[fmar] scheduled * * * * *: '.length)) as Record<string, unknown>) : {};
  check(
    report['due-switches'] === 1 &&
      report['cim-import-jobs'] === 1 &&
      report['webhook-delivery'] === after.delivered &&
      report['data-quality-validation'] === 'disabled' &&
      report['audit-seal'] === after.sealed - before.sealed,
    `the Worker logged the run: ${line ?? '(no line)'}`,
  );

  // ---- the Node hub on the same database: the same answers to the same GETs
  const nodePort = await freePort();
  const node = startProcess(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'src/node.ts')],
    { ...cliEnv, PORT: String(nodePort), HOST: '127.0.0.1' },
    'node',
  );
  const nodeBase = `http://127.0.0.1:${nodePort}`;
  if (!(await waitFor(`${nodeBase}/healthz`, node, 60))) {
    console.log(logOf(node));
    throw new Error('the Node hub did not answer /healthz');
  }
  for (const [i, route] of COMPARED_ROUTES.entries()) {
    // One request ID for both: a problem names its request (`instance`), and the two answers must be byte-equal.
    const requestId = `smoke-compare-${i}`;
    const [w, n] = [await call(base, 'GET', route, { token, requestId }), await call(nodeBase, 'GET', route, { token, requestId })];
    check(
      w.status === n.status && w.type === n.type && w.text === n.text,
      `GET ${route}: Worker = Node (${w.status})`,
      `Worker ${w.status} ${w.text.slice(0, 120)} / Node ${n.status} ${n.text.slice(0, 120)}`,
    );
  }
  stop(node);

  // ---- the bundle
  const out = join(work, 'bundle');
  const dry = spawnSync('npx', ['wrangler', 'deploy', '--dry-run', '--env', 'production', '--outdir', out], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
  });
  if (dry.status !== 0) fail(`wrangler deploy --dry-run exited ${dry.status}: ${dry.stderr.slice(-500)}`);
  else {
    let raw = 0;
    let gz = 0;
    for (const f of readdirSync(out)) {
      if (f.endsWith('.map') || f === 'README.md') continue;
      raw += statSync(join(out, f)).size;
      gz += gzipSync(readFileSync(join(out, f)), { level: 9 }).length;
    }
    check(
      gz <= BUNDLE_BUDGET_GZIP_BYTES,
      `bundle ${(raw / 1024).toFixed(0)} KiB, ${(gz / 1024).toFixed(0)} KiB gzipped, within the budget of ${(BUNDLE_BUDGET_GZIP_BYTES / 1024).toFixed(0)} KiB`,
    );
  }
}

main()
  .catch((e: Error) => {
    fail(`stopped: ${e.message}${e.cause ? ` (${String((e.cause as Error).message ?? e.cause)})` : ''}`);
    // What the runtimes said last: a stop is otherwise only "fetch failed".
    for (const c of children)
      console.log(`--- ${c.spawnargs.slice(0, 3).join(' ')} (exit ${c.exitCode ?? c.signalCode ?? 'running'})\n${logOf(c).slice(-4000)}`);
  })
  .finally(async () => {
    clearTimeout(timer);
    await cleanup();
    // Not in the 'N passed, N failed' form: CI reads that line as the test suites' total.
    const took = ((Date.now() - started) / 1000).toFixed(1);
    console.log(
      failed
        ? `FAIL worker smoke: ${failed} of ${passed + failed} checks failed (${took}s)`
        : `PASS worker smoke: all ${passed} checks passed in ${took}s`,
    );
    process.exit(failed ? 1 : 0);
  });
