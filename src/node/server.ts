import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { context, type Tracer } from '@opentelemetry/api';
import { asyncStdout } from './log-output';
import { jsonLogger, requestIdOf, writeRequestLine, type Logger } from '../http/request-log';
import { hubMetrics, type HubMetrics } from '../http/metrics';
import { endRequestSpan, startRequestSpan, traceFields } from '../http/tracing';
import { INTERACTION_PATH } from '../../identity/node';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { OAUTH_ROUTES } from '../../identity/index';
import { OPENADR_BASE } from '../../openadr/index';
import { buildApp } from '../app';
import type { HubConfig } from '../config';
import type { Clock } from '../ports';
import { systemClock } from '../ports';
import type { Db } from '../storage/db';
import { startIdentity, type IdentityServer } from './identity';
import { assemble, type Hub } from './setup';
import { sameSecret } from '../access/local-cli';
import type { OrganisationRole } from '../access/roles';
import { DEMO_ORGANISATIONS } from '../demo/seed';
import type { EventSink, LocalCli } from '../ports';

/** OpenADR 3.1's token path: the register-wide base URL's and each VTN's (`<base>/vtns/{vtn}/auth/token`). */
const OPENADR_TOKEN_PATH = new RegExp(`^${OPENADR_BASE.replaceAll('.', '\\.')}(/vtns/[^/]+)?/auth/token$`);

export interface NodeHub {
  hub: Hub;
  app: ReturnType<typeof buildApp>;
  identity: IdentityServer;
  server: Server;
  /** The listening address, e.g. http://127.0.0.1:8080 */
  url: string;
  /**
   * Stop accepting connections and end idle ones at once; requests in flight may finish within
   * `graceMs` (default 0), then their connections are cut. Resolves when every connection has ended.
   */
  close(graceMs?: number): Promise<void>;
}

/**
 * The hub on Node: the Hono app and, beside it, the OpenID provider and its sign-in screens on one
 * HTTP server. `npm start` and the end-to-end tests both use this.
 */
export async function startNodeHub(
  cfg: HubConfig,
  db: Db,
  opts: {
    clock?: Clock;
    port?: number;
    host?: string;
    ready?: () => boolean;
    stopping?: () => boolean;
    localSecret?: string;
    events?: EventSink;
    log?: Logger;
    /** Traces (src/node/tracing.ts); absent: none. The database given is then traced too (src/storage/traced.ts). */
    tracer?: Tracer;
  } = {},
): Promise<NodeHub> {
  const hub = await assemble(cfg, db, opts.clock ?? systemClock);
  if (opts.ready) hub.ports.ready = opts.ready;
  if (opts.stopping) hub.ports.stopping = opts.stopping;
  if (opts.events) hub.ports.events = opts.events;
  if (opts.localSecret) hub.ports.localCli = localCli(opts.localSecret, hub, db);
  // A JSON line per request on standard output (FMAR_LOG_LEVEL; docs/operations.md, "Logs").
  hub.ports.log = opts.log ?? jsonLogger(cfg.logLevel, asyncStdout());
  // One set of metrics for the API and the OpenID provider beside it (tokens issued by grant type).
  hub.ports.metrics ??= hubMetrics(db, () => hub.ports.clock.now(), { requests: hub.ports.config.requestMetrics });
  if (opts.tracer) hub.ports.tracer = opts.tracer;
  const app = buildApp(hub.ports);
  const identity = await startIdentity(cfg, hub);
  // The provider's requests never reach the app: they get their request ID, log line, metrics and span here.
  const listener = observeIdentity(identity.listener(getRequestListener(app.fetch)), {
    log: hub.ports.log,
    metrics: hub.ports.metrics,
    tracer: hub.ports.tracer,
    fresh: () => hub.ports.ids.next(),
  });
  // OpenADR 3.1's optional POST /auth/token is the hub's own token endpoint (docs/openadr.md).
  const server = createServer((req, res) => {
    if (req.method === 'POST' && OPENADR_TOKEN_PATH.test((req.url ?? '').split('?')[0])) req.url = OAUTH_ROUTES.token;
    return listener(req, res);
  });
  // Headers and body limits: the API's own limits apply per route; this bounds slow clients.
  server.headersTimeout = 20_000;
  server.requestTimeout = 300_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Development listens on loopback only (the consent stand-in needs no token); HOST opens it up.
    server.listen(opts.port ?? cfg.port, opts.host ?? process.env.HOST ?? (cfg.mode === 'development' ? '127.0.0.1' : '0.0.0.0'), () =>
      resolve(),
    );
  });
  const addr = server.address() as AddressInfo;
  const url = `http://${addr.address === '0.0.0.0' || addr.address === '::' ? '127.0.0.1' : addr.address}:${addr.port}`;
  return {
    hub,
    app,
    identity,
    server,
    url,
    close: (graceMs = 0) =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), graceMs).unref();
      }),
  };
}

/** The local CLI channel of this hub (src/access/local-cli.ts): the lock file's secret, tokens from this issuer. */
function localCli(secret: string, hub: Hub, db: Db): LocalCli {
  return {
    accepts: (presented) => sameSecret(presented, secret),
    mintToken:
      hub.signer &&
      (async (organisation, scope) => {
        const demo = DEMO_ORGANISATIONS.find((d) => d.key === organisation);
        const [org] = await db.query<{ id: string; roles: OrganisationRole[] }>(
          `SELECT id, to_jsonb(roles) AS roles FROM organisation WHERE id = $1`,
          [demo?.id ?? organisation],
        );
        if (!org) return undefined;
        return hub.signer!.sign({ sub: `cli-${org.id}`, org: org.id, roles: org.roles, scope });
      }),
  };
}

type Listener = (req: IncomingMessage, res: ServerResponse) => unknown;

/** The OpenID provider's exact endpoints (their own templates) and the paths below them that carry an ID. */
const PROVIDER_ROUTES = new Set<string>([
  ...Object.values(OAUTH_ROUTES),
  `${OAUTH_ROUTES.end_session}/confirm`,
  `${OAUTH_ROUTES.end_session}/success`,
]);

/**
 * The route template of a request the OpenID provider or its sign-in screens answer (src/node/identity.ts),
 * or undefined for one the app answers. IDs never enter a template: `/interaction/:uid/login`.
 */
export function identityRoute(path: string): string | undefined {
  if (path === '/.well-known/openid-configuration' || PROVIDER_ROUTES.has(path)) return path;
  if (path.startsWith(`${OAUTH_ROUTES.authorization}/`)) return `${OAUTH_ROUTES.authorization}/:uid`;
  if (path.startsWith('/oauth/')) return '/oauth/(other)';
  const m = INTERACTION_PATH.exec(path);
  return m ? `/interaction/:uid${m[2] ? `/${m[2]}` : ''}` : undefined;
}

/**
 * Requests answered beside the app (the OpenID provider's endpoints, discovery, the sign-in screens)
 * get what the app's requestLog gives its own: a request ID in `X-Request-Id`, a log line, the
 * request metrics and, with a tracer, a server span that is active while the provider works. A
 * 429 from the token endpoint is a client lockout: its rule code is AUTH-CLIENT-LOCKED.
 */
function observeIdentity(listener: Listener, o: { log?: Logger; metrics?: HubMetrics; tracer?: Tracer; fresh: () => string }): Listener {
  return (req, res) => {
    const route = identityRoute((req.url ?? '/').split('?')[0]);
    if (!route) return listener(req, res);
    const method = req.method ?? 'GET';
    const header = (name: string) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    const id = requestIdOf(header, o.fresh);
    res.setHeader('x-request-id', id);
    const t0 = performance.now();
    const traced = o.tracer && startRequestSpan(o.tracer, method, header);
    res.once('close', () => {
      const ms = performance.now() - t0;
      const status = res.statusCode;
      const code = route === OAUTH_ROUTES.token && status === 429 ? 'AUTH-CLIENT-LOCKED' : undefined;
      if (o.metrics?.countsRequests) o.metrics.request({ route, method, status, seconds: ms / 1000, code });
      if (traced) endRequestSpan(traced.span, method, { route, status, requestId: id, code });
      if (o.log)
        writeRequestLine(o.log, { requestId: id, method, route, status, ms, code, trace: traced ? traceFields(traced.span) : undefined });
    });
    return traced?.span.isRecording() ? context.with(traced.context, () => listener(req, res)) : listener(req, res);
  };
}
