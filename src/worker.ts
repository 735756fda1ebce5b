import { AsyncLocalStorage } from 'node:async_hooks';
import { OAUTH_ROUTES } from '../identity/index';
import { jwtTokenVerifier } from './access/tokens';
import { buildApp, type Ports } from './app';
import { consentVerifierFromConfig } from './consent/index';
import { ConfigError, loadConfig, type HubConfig } from './config';
import { Problem, problemResponse } from './http/problem';
import { ulidSource } from './ids';
import { workerPageAssets } from './worker-assets';
import { quietEventSink, systemClock } from './ports';
import type { Db, Row, Sql } from './storage/db';
import { postgresDb } from './storage/postgres';

/**
 * Cloudflare Workers entry (wrangler.toml, `nodejs_compat`): the same buildApp as Node, on
 * PostgreSQL through postgres.js over a Hyperdrive binding (or DATABASE_URL). Access tokens are
 * verified offline against FMAR_JWKS / FMAR_JWKS_URL. The Worker never migrates (the CLI does),
 * never signs tokens and hosts no OpenID provider (that is Node-only). See docs/workers.md.
 */

/** The bindings this Worker reads (declared here rather than pulling in @cloudflare/workers-types). */
export interface WorkerEnv {
  /** Hyperdrive binding: a pooled, edge-cached route to PostgreSQL. */
  HYPERDRIVE?: { connectionString: string };
  /** Direct PostgreSQL URL, used when there is no Hyperdrive binding. */
  DATABASE_URL?: string;
  FMAR_MODE?: string;
  FMAR_BASE_URL?: string;
  FMAR_ISSUER?: string;
  FMAR_AUDIENCE?: string;
  /** Inline JWKS JSON ({"keys":[…]}) or a URL to fetch it from (the identity provider's jwks_uri). */
  FMAR_JWKS?: string;
  FMAR_JWKS_URL?: string;
  FMAR_MAX_BODY_BYTES?: string;
  FMAR_MAX_BULK_BYTES?: string;
  [name: string]: unknown;
}

/** The part of the Workers ExecutionContext used here. */
export interface WorkerContext {
  waitUntil(promise: Promise<unknown>): void;
}

// Workers forbid using one request's I/O objects (sockets) in another request, so the app is built
// once per isolate over a Db that forwards to a postgres.js client created per request and held in
// AsyncLocalStorage; the client is closed (ctx.waitUntil) once the response body has been sent.
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

/** Plain-string settings from the environment (bindings such as HYPERDRIVE are left out). */
function settings(env: WorkerEnv): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) if (typeof v === 'string') out[k] = v;
  return out;
}

function databaseUrl(env: WorkerEnv): string {
  const url = env.HYPERDRIVE?.connectionString || (typeof env.DATABASE_URL === 'string' ? env.DATABASE_URL : '');
  if (!url) throw new ConfigError('no database: bind Hyperdrive as HYPERDRIVE or set DATABASE_URL');
  return url;
}

/** Configuration for the Worker: loadConfig's rules, plus a JWKS always (the Worker holds no signing key). */
export function workerConfig(env: WorkerEnv, origin: string): HubConfig {
  const vars = settings(env);
  let cfg = loadConfig(vars);
  // Without FMAR_BASE_URL (allowed in development only) the hub's public URL is where it was reached.
  if (!vars.FMAR_BASE_URL) cfg = loadConfig({ ...vars, FMAR_BASE_URL: origin });
  if (!cfg.jwks && !cfg.jwksUrl)
    throw new ConfigError('the Worker verifies access tokens offline: set FMAR_JWKS_URL (or FMAR_JWKS) and FMAR_ISSUER');
  databaseUrl(env);
  return cfg;
}

let app: ReturnType<typeof buildApp> | undefined;

function appFor(env: WorkerEnv, request: Request): ReturnType<typeof buildApp> {
  if (app) return app;
  const cfg = workerConfig(env, new URL(request.url).origin);
  const clock = systemClock;
  const ports: Ports = {
    db: scopedDb,
    clock,
    ids: ulidSource(clock),
    tokens: jwtTokenVerifier({
      issuer: cfg.issuer,
      audience: cfg.audience,
      jwks: cfg.jwksUrl ? new URL(cfg.jwksUrl) : JSON.parse(cfg.jwks!),
      now: () => clock.now(),
    }),
    events: quietEventSink,
    consent: consentVerifierFromConfig(cfg, scopedDb, clock),
    config: {
      baseUrl: cfg.baseUrl,
      issuer: cfg.issuer,
      audience: cfg.audience,
      mode: cfg.mode,
      maxBodyBytes: cfg.maxBodyBytes,
      maxBulkBytes: cfg.maxBulkBytes,
      rateLimit: cfg.rateLimit,
      authCacheMs: cfg.authCacheMs,
      switchNoticeDays: cfg.switchNoticeDays,
      analytics: cfg.analytics,
      // The provider is Node-only: OpenADR clients get their tokens from the issuer.
      tokenEndpoint: `${cfg.issuer}${OAUTH_ROUTES.token}`,
    },
    pageAssets: workerPageAssets,
  };
  app = buildApp(ports);
  return app;
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

export default {
  async fetch(request: Request, env: WorkerEnv, ctx: WorkerContext): Promise<Response> {
    let hub: ReturnType<typeof buildApp>;
    let db: Db;
    try {
      hub = appFor(env, request);
      db = postgresDb(databaseUrl(env), { max: 5 });
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      console.error(`[fmar] worker configuration: ${e.message}`);
      return problemResponse(new Problem('INTERNAL-ERROR', `The hub is misconfigured: ${e.message}.`));
    }
    let res: Response;
    try {
      res = await requestDb.run(db, () => hub.fetch(request));
    } catch (e) {
      ctx.waitUntil(db.close());
      throw e;
    }
    if (!res.body) {
      ctx.waitUntil(db.close());
      return res;
    }
    let finished!: () => void;
    ctx.waitUntil(
      new Promise<void>((resolve) => {
        finished = resolve;
      }).then(() => db.close()),
    );
    return new Response(
      heldBody(res.body, db, () => finished()),
      res,
    );
  },
};
