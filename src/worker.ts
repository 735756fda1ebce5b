import { AsyncLocalStorage } from 'node:async_hooks';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { handleAsNodeRequest } from 'cloudflare:node';
import { OAUTH_ROUTES, loadKeyRing, type KeyRing } from '../identity/index';
import { OPENADR_BASE } from '../openadr/index';
import { jwtTokenVerifier } from './access/tokens';
import { buildApp, type Ports } from './app';
import { jsonLogger } from './http/request-log';
import { consentSimulator, consentVerifierFromConfig } from './consent/index';
import { ConfigError, type HubConfig } from './config';
import { consumerPorts } from './consumers/ports';
import { DEMO_HOUSEHOLDS } from './demo/households';
import { standardHooks } from './hooks';
import { Problem } from './http/problem';
import { routeNotFoundDetail } from './http/pages';
import { ulidSource } from './ids';
import { runScheduledJobs, type JobHost } from './jobs';
import { startIdentity, type IdentityServer } from './node/identity';
import { quietEventSink, systemClock } from './ports';
import { registriesFromEnv } from './quality/registries';
import { pgErrorCode, type Db, type Row, type Sql } from './storage/db';
import { postgresDb } from './storage/postgres';
import { tracedDb } from './storage/traced';
import { workerTracing, type WorkerTracing } from './worker-tracing';
import { workerConsoleFiles, workerPageAssets, type AssetsBinding } from './worker-assets';
import { databaseUrl, misconfiguredResponse, workerConfig, workerSettings, type WorkerEnv } from './worker-config';

/**
 * Cloudflare Workers entry (wrangler.toml, `nodejs_compat`): the same buildApp as Node, on
 * PostgreSQL through postgres.js over a Hyperdrive binding (or DATABASE_URL); the same OpenID
 * provider (oidc-provider, served through workerd's node:http server support) over the same
 * tables and the database key ring; and the hub's background jobs (src/jobs.ts) from Cron
 * Triggers. It stands alone: no Node hub is needed beside it. The Worker never migrates and never
 * creates keys (the CLI does both). See docs/workers.md.
 */

export type { WorkerEnv } from './worker-config';

/** The part of the Workers ExecutionContext used here. */
export interface WorkerContext {
  waitUntil(promise: Promise<unknown>): void;
}

/** A Cron Trigger's event (the part used here). */
export interface ScheduledController {
  cron: string;
  scheduledTime: number;
}

// Workers forbid using one request's I/O objects (sockets) in another request, so the app is built
// once per isolate over a Db that forwards to a postgres.js client created per request (or per
// scheduled run) and held in AsyncLocalStorage; the client is closed once the response is sent.
const requestDb = new AsyncLocalStorage<Db>();

function currentDb(): Db {
  const db = requestDb.getStore();
  if (!db) throw new Error('fmar worker: database used outside a request');
  return db;
}

const scopedDb: Db = {
  engine: 'postgres',
  query<T extends object = Row>(text: string, params?: unknown[]): Promise<T[]> {
    return currentDb().query<T>(text, params);
  },
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    return currentDb().transaction(fn);
  },
  async close() {},
};

/** The provider's paths, as on Node (src/node/server.ts): discovery, /oauth/*, the sign-in screens. */
const OPENADR_TOKEN_PATH = `${OPENADR_BASE}/auth/token`;
const providerPath = (path: string) =>
  path === '/.well-known/openid-configuration' || path.startsWith('/oauth/') || path.startsWith('/interaction/');
/** The port of the in-isolate node:http server the provider listens on (workerd's virtual port, never a socket). */
const PROVIDER_PORT = 8788;
/** Re-read the key ring this often per isolate, as the Node hub does: a rotation by the CLI is picked up within it. */
const KEY_REFRESH_MS = 60_000;
/** How long one scheduled invocation keeps starting new batches (the next minute's run takes over after it). */
const JOB_BUDGET_MS = 50_000;

interface Runtime {
  cfg: HubConfig;
  app: ReturnType<typeof buildApp>;
  keys: KeyRing;
  identity: IdentityServer;
  keysReadAt: number;
}

let runtime: Promise<Runtime> | undefined;

/** This isolate's tracing (src/worker-tracing.ts): null once the settings were read and name no OTLP endpoint. */
let tracing: WorkerTracing | null | undefined;
function tracingFor(env: WorkerEnv): WorkerTracing | undefined {
  if (tracing === undefined) tracing = workerTracing(workerSettings(env)) ?? null;
  return tracing ?? undefined;
}

/** Build the app and the provider once per isolate, inside the first request's database scope. */
async function build(env: WorkerEnv, cfg: HubConfig): Promise<Runtime> {
  const clock = systemClock;
  const ids = ulidSource(clock);
  // Production keys come from `fmar keys rotate` (the CLI, against the database); the Worker never makes them.
  const keys = await loadKeyRing(scopedDb, () => clock.now(), { create: false, newId: () => ids.next() }).catch((e: Error) => {
    // An empty database (42P01: no such table) or one without keys: say which command makes it ready.
    if (pgErrorCode(e) === '42P01')
      throw new ConfigError(
        'the database has no schema: run `npx fmar keys rotate` against it (it applies the migrations, then creates the keys)',
      );
    if (/signing key/.test(e.message)) throw new ConfigError(e.message);
    throw e;
  });
  const external = cfg.jwksUrl ? new URL(cfg.jwksUrl) : cfg.jwks ? (JSON.parse(cfg.jwks) as { keys: [] }) : undefined;
  // With tracing, a span per statement under the request's span (src/storage/traced.ts), as on Node.
  const traces = tracingFor(env);
  const ports: Ports = {
    db: traces ? tracedDb(scopedDb, traces.tracer) : scopedDb,
    tracer: traces?.tracer,
    clock,
    ids,
    tokens: jwtTokenVerifier({
      issuer: cfg.issuer,
      audience: cfg.audience,
      jwks: external ?? (() => keys.publicJwks()),
      now: () => clock.now(),
      cacheMs: cfg.tokenCacheMs,
    }),
    events: quietEventSink,
    config: {
      baseUrl: cfg.baseUrl,
      issuer: cfg.issuer,
      audience: cfg.audience,
      mode: cfg.mode,
      maxBodyBytes: cfg.maxBodyBytes,
      maxBulkBytes: cfg.maxBulkBytes,
      maxCimBytes: cfg.maxCimBytes,
      maxCimJobBytes: cfg.maxCimJobBytes,
      rateLimit: cfg.rateLimit,
      authCacheMs: cfg.authCacheMs,
      switchNoticeDays: cfg.switchNoticeDays,
      analytics: cfg.analytics,
      requestMetrics: cfg.requestMetrics,
    },
    publishedJwks: async () => keys.publicJwks(),
    pageAssets: workerPageAssets,
    // The console (/console) from the Worker's static assets, when they are bound (wrangler.toml `[assets]`).
    console: env.ASSETS ? workerConsoleFiles(env.ASSETS as AssetsBinding) : undefined,
    registries: registriesFromEnv(workerSettings(env)),
    // A JSON line per request through console.log, which Workers Logs reads as JSON (FMAR_LOG_LEVEL).
    log: jsonLogger(cfg.logLevel, (line) => console.log(line)),
  };
  if (cfg.mode === 'development' && !cfg.consent.issuer)
    ports.consentSimulator = consentSimulator({
      issuer: `${cfg.baseUrl}/dev/consent-service`,
      audience: cfg.consent.audience,
      clock,
      mode: cfg.mode,
    });
  ports.consent = consentVerifierFromConfig(cfg, scopedDb, clock, { simulator: ports.consentSimulator });
  // Households sign in through the consumer consent service (docs/consumers.md); in development the stand-in's test households.
  Object.assign(
    ports,
    consumerPorts(cfg, ports.consentSimulator, keys, clock, () => ids.next(), DEMO_HOUSEHOLDS),
  );
  const identity = await startIdentity(cfg, { ports, keys });
  const notFound = (req: IncomingMessage, res: ServerResponse) => {
    const p = new Problem('ROUTE-NOT-FOUND', routeNotFoundDetail(req.method ?? 'GET', (req.url ?? '/').split('?')[0]));
    res.writeHead(p.status, { 'content-type': 'application/problem+json' }).end(JSON.stringify(p.toJSON()));
  };
  createServer(identity.listener(notFound)).listen(PROVIDER_PORT);
  return { cfg, app: buildApp(ports), keys, identity, keysReadAt: Date.now() };
}

function runtimeFor(env: WorkerEnv, cfg: HubConfig): Promise<Runtime> {
  runtime ??= build(env, cfg).catch((e) => {
    runtime = undefined; // not cached: the next request tries again (keys may have been made meanwhile)
    throw e;
  });
  return runtime;
}

/**
 * Pass the body through unchanged, reading it inside the request's database scope (streamed
 * exports query page by page while the client reads), and call done when it ends or is cancelled.
 */
function heldBody(body: ReadableStream<Uint8Array>, db: Db, done: () => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>(
    {
      pull: (controller) =>
        requestDb.run(db, async () => {
          try {
            const { done: end, value } = await reader.read();
            if (end) {
              controller.close();
              done();
            } else controller.enqueue(value);
          } catch (e) {
            controller.error(e);
            done();
          }
        }),
      cancel: (reason) => requestDb.run(db, () => reader.cancel(reason)).finally(done),
    },
    { highWaterMark: 0 },
  );
}

async function serve(request: Request, env: WorkerEnv, ctx: WorkerContext, cfg: HubConfig): Promise<Response> {
  const rt = await runtimeFor(env, cfg);
  if (Date.now() - rt.keysReadAt > KEY_REFRESH_MS) {
    rt.keysReadAt = Date.now();
    await rt.identity.refreshKeys();
  }
  const url = new URL(request.url);
  // OpenADR 3.1's optional POST /auth/token is the hub's own token endpoint (docs/openadr.md), as on Node.
  if (request.method === 'POST' && url.pathname === OPENADR_TOKEN_PATH) {
    url.pathname = OAUTH_ROUTES.token;
    request = new Request(url, request);
  }
  if (providerPath(url.pathname)) return handleAsNodeRequest(PROVIDER_PORT, request, env, ctx);
  return rt.app.fetch(request);
}

export default {
  async fetch(request: Request, env: WorkerEnv, ctx: WorkerContext): Promise<Response> {
    const path = new URL(request.url).pathname;
    let cfg: HubConfig;
    let db: Db;
    try {
      cfg = workerConfig(env, new URL(request.url).origin);
      tracingFor(env);
      db = postgresDb(databaseUrl(env), { max: 5 });
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      console.error(`[fmar] worker configuration: ${e.message}`);
      return misconfiguredResponse(path, e.message, new Date());
    }
    // Once the answer is sent: close the database client, then post the spans ended meanwhile (none without tracing).
    const after = (p: Promise<unknown>) => ctx.waitUntil(p.then(() => tracing?.flush()));
    let res: Response;
    try {
      res = await requestDb.run(db, () => serve(request, env, ctx, cfg));
    } catch (e) {
      after(db.close());
      if (!(e instanceof ConfigError)) throw e;
      console.error(`[fmar] worker configuration: ${e.message}`);
      return misconfiguredResponse(path, e.message, new Date());
    }
    if (!res.body) {
      after(db.close());
      return res;
    }
    let finished!: () => void;
    after(
      new Promise<void>((resolve) => {
        finished = resolve;
      }).then(() => db.close()),
    );
    return new Response(
      heldBody(res.body, db, () => finished()),
      res,
    );
  },

  /**
   * Cron Triggers (wrangler.toml `[triggers] crons`): run the background jobs of that cron
   * (src/jobs.ts) on a database client of this invocation; batch loops stop after JOB_BUDGET_MS.
   */
  async scheduled(controller: ScheduledController, env: WorkerEnv): Promise<void> {
    const vars = workerSettings(env);
    const cfg = workerConfig(env, vars.FMAR_BASE_URL ?? 'http://localhost:8787');
    const traces = tracingFor(env);
    const opened = postgresDb(databaseUrl(env), { max: 3 });
    // A job run is a trace of its own (src/jobs.ts), its statements its children.
    const db = traces ? tracedDb(opened, traces.tracer) : opened;
    const clock = systemClock;
    try {
      const host: JobHost = {
        ctx: { db, clock, ids: ulidSource(clock), hooks: standardHooks() },
        source: cfg.baseUrl,
        production: cfg.mode === 'production',
        maxCimBytes: cfg.maxCimJobBytes,
        worker: `worker:${controller.cron}:${new Date(controller.scheduledTime).toISOString()}`,
        registries: registriesFromEnv(vars),
        consent: consentVerifierFromConfig(cfg, db, clock),
        deadline: Date.now() + JOB_BUDGET_MS,
        log: jsonLogger(cfg.logLevel, (line) => console.log(line)),
        tracer: traces?.tracer,
      };
      const report = await requestDb.run(db, () => runScheduledJobs(controller.cron, host));
      console.log(`[fmar] scheduled ${controller.cron}: ${JSON.stringify(report)}`);
    } finally {
      await db.close();
      await traces?.flush();
    }
  },
};
