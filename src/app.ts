import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { routeActions } from './access/api-route';
import { authenticate, authorize, type AuthEnv } from './access/auth';
import { assetRoutes } from './assets/routes';
import { submissionRoutes } from './assets/submission-routes';
import { analyticsRoutes } from './analytics/routes';
import { passportReads } from './audit/reads';
import { auditRoutes, dataReadRoutes } from './audit/routes';
import { cimRoutes } from './cim/routes';
import { RATE_LIMIT_DEFAULTS } from './config';
import { jsonLdContext } from '../cim/index';
import type { Ctx } from './context';
import { signallingCommits } from './events/outbox';
import { eventRoutes } from './events/routes';
import { webhookRoutes } from './webhooks/routes';
import { Problem, problemResponse } from './http/problem';
import { pageRoutes, routeNotFoundDetail } from './http/pages';
import { consoleRoutes, type ConsoleFiles } from './http/console-routes';
import { rateLimit, rateLimiter } from './http/rate-limit';
import { organisationRoutes } from './organisations/routes';
import { identityRoutes } from './identity/routes';
import { switchingRoutes } from './switching/routes';
import { marketUnitRoutes } from './units/routes';
import { catalogueRoutes } from './catalogue/routes';
import { productRoutes } from './products/routes';
import { connectionLimitRoutes } from './connection-limits/routes';
import { sharingRoutes } from './sharing/routes';
import { qualificationRoutes } from './qualifications/routes';
import { disputeRoutes } from './disputes/routes';
import { qualityRoutes } from './quality/routes';
import { consentRoutes } from './switching/consent-routes';
import { consentSimulatorRoutes } from './consent/index';
import { standInProviderRoutes, type StandInClient, type TestHousehold } from './consent/stand-in-provider';
import type { ConsentRevoker } from './consent/revoker';
import { consumerRoutes } from './consumers/routes';
import { consumerSignInRoutes, type ConsumerSignIn } from './consumers/sign-in-routes';
import { invitationPages } from './identity/pages';
import { openadr31Routes } from './openadr/oadr31';
import { noticeRoutes } from './notices/routes';
import { onboardingRoutes, organisationDecisionRoutes } from './onboarding/routes';
import { openadrRoutes } from './openadr/routes';
import { venResourceRoutes } from './openadr/resource-routes';
import { OPENADR_BASE } from '../openadr/index';
import { OAUTH_ROUTES } from '../identity/index';
import type { TokenVerifier } from './access/tokens';
import type { ConsentService, ConsentSimulator } from './consent/index';
import type { PageAssets } from './http/pages';
import { registerCredentials } from './identity/credentials';
import type { AppConfig, CimParser, Clock, EventSink, IdSource, LocalCli } from './ports';
import type { ExternalRegistries } from './quality/registries';
import { pgErrorCode, type Db } from './storage/db';
import { localCliRoutes } from './access/local-cli';
import { jsonLogger, requestLog, silentLogger, type Logger } from './http/request-log';
import { hubMetrics, type HubMetrics } from './http/metrics';
import { metricsRoutes } from './operations/routes';
import type { Tracer } from '@opentelemetry/api';

/** Where unhandled errors go when the app was given no logger. */
const consoleErrors = jsonLogger('error', (line) => console.error(line));
import { standardHooks } from './hooks';

/** Where the native API lives; every route under it declares its action (src/access/api-route.ts). */
export const API_BASE = '/api/v1';

/**
 * The whole HTTP app, built from its ports. Nothing below this function imports a Node module,
 * so the same app runs under @hono/node-server and on Workers.
 */
export function buildApp(ports: Ports) {
  // Transactions that wrote events tell the event sink once committed (a webhook deliverer wakes early).
  const ctx: Ctx = {
    db: signallingCommits(ports.db, ports.events),
    clock: ports.clock,
    ids: ports.ids,
    consent: ports.consent,
    hooks: standardHooks(),
  };
  const app = new OpenAPIHono<AuthEnv>();
  // Outermost: a request ID for every request (answered in X-Request-Id, in problem bodies and audit records), its log line and span.
  const metrics = ports.metrics ?? hubMetrics(ports.db, () => ports.clock.now(), { requests: ports.config.requestMetrics });
  // Data quality counts its evaluations (src/http/metrics.ts).
  ctx.metrics = metrics;
  app.use(
    '*',
    requestLog(ports.log ?? silentLogger, () => ports.ids.next(), {
      observe: metrics.countsRequests ? (o) => metrics.request(o) : undefined,
      tracer: ports.tracer,
    }),
  );

  app.onError((err, c) => {
    if (err instanceof Problem) {
      const headers: Record<string, string> =
        err.status === 401 ? { 'www-authenticate': `Bearer realm="fmar", error="invalid_token"` } : {};
      if (typeof err.extra.retryAfterSec === 'number') headers['retry-after'] = String(err.extra.retryAfterSec);
      return problemResponse(err, headers);
    }
    if (err instanceof HTTPException) {
      if (err.status === 400 && /JSON/i.test(err.message)) return problemResponse(new Problem('REQUEST-MALFORMED-JSON', err.message));
      if (err.status === 413) return problemResponse(new Problem('REQUEST-TOO-LARGE'));
      // The JSON validator's answer to a bodyless request of another Content-Type.
      if (err.status === 415) return problemResponse(new Problem('REQUEST-UNSUPPORTED-MEDIA-TYPE', 'Send application/json.'));
      // Any other framework refusal of the request keeps the rule's own status, so code and status agree.
      if (err.status < 500) return problemResponse(new Problem('REQUEST-QUERY-INVALID', err.message));
    }
    // Two transactions that locked the same rows in opposite orders (PostgreSQL chose this one to
    // undo, 40P01) or a serialization failure (40001): nothing was written; the same request again succeeds.
    const code = pgErrorCode(err);
    if (code === '40P01' || code === '40001')
      return problemResponse(new Problem('REQUEST-CONCURRENT-RETRY', undefined, { retryAfterSec: 1 }), { 'retry-after': '1' });
    (ports.log ?? consoleErrors).write('error', 'unhandled error', {
      requestId: c.get('requestId'),
      method: c.req.method,
      path: c.req.path,
      error: err instanceof Error ? (err.stack ?? err.message) : String(err),
    });
    return problemResponse(new Problem('INTERNAL-ERROR'));
  });
  app.notFound((c) => problemResponse(new Problem('ROUTE-NOT-FOUND', routeNotFoundDetail(c.req.method, c.req.path))));

  app.get('/healthz', async (c) => {
    // Healthy only once start-up is complete (a script that waits on /healthz then reads fresh credentials), and not while stopping.
    if (ports.stopping?.()) return c.json({ status: 'stopping', time: ports.clock.now().toISOString() }, 503);
    if (ports.ready && !ports.ready())
      return c.json({ status: 'starting', time: ports.clock.now().toISOString() }, 503, { 'retry-after': '1' });
    await ports.db.query('SELECT 1');
    return c.json({ status: 'ok', database: ports.db.engine, time: ports.clock.now().toISOString() });
  });
  // Readiness for an orchestrator (docs/operations.md, "Health"): ready to serve only when the database answers,
  // every migration this code knows is applied, signing keys are loaded and the background job loop runs.
  app.get('/readyz', async (c) => {
    const checks: Record<string, string> = {};
    if (ports.stopping?.()) checks.shutdown = 'stopping';
    else if (ports.ready && !ports.ready()) checks.startup = 'starting';
    try {
      const applied = new Set((await ports.db.query<{ version: string }>(`SELECT version FROM schema_migration`)).map((r) => r.version));
      checks.database = 'ok';
      if (ports.expectedMigrations) {
        const pending = ports.expectedMigrations.filter((v) => !applied.has(v));
        checks.migrations = pending.length ? `pending: ${pending.join(', ')} (run npx fmar migrate)` : 'ok';
      }
    } catch (e) {
      checks.database = `unreachable: ${e instanceof Error ? e.message.slice(0, 200) : 'error'}`;
    }
    if (ports.publishedJwks) {
      const n = (await ports.publishedJwks().catch(() => ({ keys: [] }))).keys.length;
      checks.signingKeys = n > 0 ? 'ok' : 'none loaded (run npx fmar keys rotate)';
    }
    if (ports.stalledJobs) {
      const stalled = ports.stalledJobs();
      checks.jobs = stalled.length ? `stalled: ${stalled.join(', ')}` : 'ok';
    }
    const ready = Object.entries(checks).every(([k, v]) => k !== 'startup' && v === 'ok');
    return c.json({ status: ready ? 'ready' : 'not-ready', checks, time: ports.clock.now().toISOString() }, ready ? 200 : 503);
  });
  app.openapi(
    createRoute({
      method: 'get',
      path: '/contexts/cim.jsonld',
      tags: ['CIM'],
      summary: 'JSON-LD @context mapping the native JSON resources to the CIM terms of the profile (public)',
      responses: {
        200: {
          description: 'JSON-LD context',
          content: { 'application/ld+json': { schema: z.object({ '@context': z.record(z.string(), z.unknown()) }) } },
        },
      },
      // Sent as written (indented, application/ld+json), not through c.json: the typed-JSON response check cannot see it.
    }),
    (c) => c.body(JSON.stringify(jsonLdContext(), null, 2), 200, { 'content-type': 'application/ld+json' }) as never,
  );
  app.get('/.well-known/jwks.json', async (c) => c.json(ports.publishedJwks ? await ports.publishedJwks() : { keys: [] }));

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'RFC 9068 JWT access token from the hub’s issuer',
  });

  // Every route under /api/v1, each declared with the action of the permission matrix it needs (apiRoute).
  const routes = new OpenAPIHono<AuthEnv>();
  routes.route('/catalogues', catalogueRoutes(ctx));
  routes.route('/organisations', organisationRoutes(ctx));
  routes.route('/assets', assetRoutes(ctx, { maxBulkBytes: ports.config.maxBulkBytes }));
  routes.route('/', submissionRoutes(ctx));
  routes.route('/market-units', marketUnitRoutes(ctx));
  routes.route('/', productRoutes(ctx));
  routes.route('/', qualificationRoutes(ctx));
  routes.route('/', connectionLimitRoutes(ctx));
  routes.route('/', sharingRoutes(ctx));
  routes.route('/disputes', disputeRoutes(ctx));
  routes.route('/audit', auditRoutes(ctx));
  routes.route('/', metricsRoutes(metrics));
  routes.route('/', dataReadRoutes(ctx));
  routes.route(
    '/cim',
    cimRoutes(ctx, {
      baseUrl: ports.config.baseUrl,
      maxBytes: ports.config.maxCimBytes ?? ports.config.maxBulkBytes,
      maxJobBytes: ports.config.maxCimJobBytes ?? ports.config.maxCimBytes ?? ports.config.maxBulkBytes,
      parser: ports.cimParser,
    }),
  );
  routes.route('/events', eventRoutes(ctx, ports.config.baseUrl));
  routes.route('/webhooks', webhookRoutes(ctx, { production: ports.config.mode === 'production', source: ports.config.baseUrl }));
  routes.route('/', identityRoutes(ctx, { baseUrl: ports.config.baseUrl, production: ports.config.mode === 'production' }));
  routes.route(
    '/',
    switchingRoutes(ctx, () => ({ verifier: ports.consent, noticeDays: ports.config.switchNoticeDays ?? 5 })),
  );
  routes.route('/', openadrRoutes(ctx));
  routes.route('/', venResourceRoutes(ctx));
  routes.route('/', noticeRoutes(ctx));
  routes.route('/', organisationDecisionRoutes(ctx));
  // A household's own view and controls (docs/consumers.md): consumer tokens only.
  routes.route(
    '/consumer',
    consumerRoutes(ctx, () => ({ service: ports.consent, revoker: ports.consentRevoker })),
  );
  routes.route(
    '/',
    qualityRoutes(ctx, () => ports.registries ?? {}),
  );
  const { actions, missing } = routeActions(routes, { prefix: API_BASE });
  if (missing.length)
    throw new Error(
      `Routes under ${API_BASE} declared without an action of the permission matrix (apiRoute, src/access/api-route.ts): ${missing.join(', ')}`,
    );

  const api = new OpenAPIHono<AuthEnv>();
  api.use('*', async (c, next) => {
    // A GET or HEAD body is never read: no media type or size to check. Not touching c.req.raw.body
    // also keeps @hono/node-server's lightweight request from being turned into a full Request (an
    // AbortController, the headers copied) on every read (docs/performance.md, "Lookup by MPAN").
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const type = (c.req.header('content-type') ?? '').split(';')[0].trim().toLowerCase();
    const bulk =
      c.req.path.endsWith('/assets/bulk') ||
      c.req.path.endsWith('/cim/import') ||
      c.req.path.endsWith('/cim/import-jobs') ||
      c.req.path.endsWith('/ven-registrations/oadr2b');
    // A bodyless POST (e.g. /audit/verify) needs no Content-Type; a route that wants a body refuses its absence.
    const bodyless = c.req.raw.body === null || c.req.header('content-length') === '0';
    if (
      ['POST', 'PUT', 'PATCH'].includes(c.req.method) &&
      !bulk &&
      !bodyless &&
      type !== 'application/json' &&
      type !== 'application/merge-patch+json'
    ) {
      throw new Problem('REQUEST-UNSUPPORTED-MEDIA-TYPE', 'Send application/json.');
    }
    // A CIM import job's one-document body has its own limit, counted as it is streamed to the database
    // (src/cim/routes.ts): bodyLimit would gather a body without Content-Length in memory first.
    if (
      c.req.method === 'POST' &&
      c.req.path.endsWith('/cim/import-jobs') &&
      ['application/rdf+xml', 'application/xml', 'text/xml'].includes(type)
    )
      return next();
    return bodyLimit({
      maxSize: bulk ? ports.config.maxBulkBytes : ports.config.maxBodyBytes,
      onError: () => {
        throw new Problem('REQUEST-TOO-LARGE');
      },
    })(c, next);
  });
  const auth = authenticate(ports, registerCredentials(ports.db), ports.config.authCacheMs);
  api.use('*', auth);
  const limiter = rateLimit<AuthEnv>(rateLimiter(ports.db, ports.clock, ports.config.rateLimit ?? RATE_LIMIT_DEFAULTS));
  api.use('*', limiter);
  // The permission matrix for every route below: the action each route declares; unmapped ones are refused.
  api.use('*', authorize(actions));
  // Reads of another organisation's passport are audited (UC-05.06, docs/audit.md).
  api.use('/organisations/*', passportReads(ctx));
  api.route('/', routes);
  app.route(API_BASE, api);
  // Public statistics, no token (UC-05.02, docs/analytics.md).
  app.route('/public/analytics', analyticsRoutes(ctx, ports.config.analytics));
  // OpenADR 3.1 (docs/openadr.md): its own problem shape and BL/VEN roles; the same tokens and rate limits.
  app.route(
    OPENADR_BASE,
    openadr31Routes(ctx, {
      tokenUrl: ports.config.tokenEndpoint ?? `${ports.config.baseUrl}${OPENADR_BASE}/auth/token`,
      issuerTokenUrl: ports.config.tokenEndpoint ?? `${ports.config.baseUrl}${OAUTH_ROUTES.token}`,
      authenticate: auth,
      rateLimit: limiter,
      maxBodyBytes: ports.config.maxBodyBytes,
    }),
  );
  // Self-service onboarding (docs/organisations.md): public, so one rate-limit bucket for all applicants, and the usual body limit.
  const onboarding = new OpenAPIHono<AuthEnv>();
  onboarding.use('*', async (c, next) => {
    if (c.req.method === 'POST' && (c.req.header('content-type') ?? '').split(';')[0].trim().toLowerCase() !== 'application/json')
      throw new Problem('REQUEST-UNSUPPORTED-MEDIA-TYPE', 'Send application/json.');
    c.set('principal', { subject: 'onboarding', organisationId: 'onboarding', roles: [], scopes: [], dnoCodes: [] });
    return bodyLimit({
      maxSize: ports.config.maxBodyBytes,
      onError: () => {
        throw new Problem('REQUEST-TOO-LARGE');
      },
    })(c, next);
  });
  onboarding.use('*', limiter);
  onboarding.route(
    '/',
    onboardingRoutes(ctx, () => ports.registries ?? {}),
  );
  app.route('/onboarding', onboarding);
  app.route('/', invitationPages(ctx));
  app.route(
    '/',
    consentRoutes(ctx, () => ports.consent),
  );
  // The local CLI channel (docs/operations.md, "The data folder lock"): `fmar token` through the running hub.
  if (ports.localCli) app.route('/local', localCliRoutes(ports.localCli));
  // A household signs in through the consumer consent service (docs/consumers.md) and gets a consumer token.
  app.route('/', consumerSignInRoutes(ctx, { baseUrl: ports.config.baseUrl, signIn: () => ports.consumerSignIn }));
  // Development only: a stand-in Consumer Consent Service (docs/consent.md), so a switch can be tried end to end;
  // it is also the households' OpenID provider (docs/consumers.md).
  if (ports.consentSimulator && ports.config.mode === 'development') {
    app.route('/dev/consent-service', consentSimulatorRoutes(ports.consentSimulator, { mode: 'development' }));
    if (ports.standInProvider)
      app.route(
        '/dev/consent-service',
        standInProviderRoutes(ports.consentSimulator, { clock: ports.clock, mode: 'development', ...ports.standInProvider }),
      );
  }

  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'FMAR hub API',
      version: '1.0.0',
      description:
        'Flexibility Market Asset Register: organisations, assets, audit and events. Errors are RFC 9457 problems with stable rule codes (docs/rules.md).',
    },
    servers: [{ url: ports.config.baseUrl }],
  });
  // The console (docs/console.md): its built files, where the runtime has them.
  const issuer = ports.config.issuer ?? ports.config.baseUrl;
  if (ports.console) app.route('/', consoleRoutes({ files: ports.console, baseUrl: ports.config.baseUrl, issuer }));
  // GET / (landing page), /docs and the assets they load, all served by the hub itself (docs/api-guide.md).
  app.route('/', pageRoutes({ assets: ports.pageAssets, baseUrl: ports.config.baseUrl, issuer, console: Boolean(ports.console) }));
  return app;
}

/**
 * What the app is built from: the kernel's ports (src/ports.ts) and the adapters of the domains
 * that the runtime's entry (src/node/setup.ts, src/worker.ts) configures.
 */
export interface Ports {
  db: Db;
  clock: Clock;
  ids: IdSource;
  tokens: TokenVerifier;
  events: EventSink;
  /** Consumer consent verification (src/consent/); absent when no consent service is configured. */
  consent?: ConsentService;
  /** Development only: the stand-in consent service mounted at /dev/consent-service. */
  consentSimulator?: ConsentSimulator;
  /** Development only: the stand-in as the households' OpenID provider: its test households and its client (the hub). */
  standInProvider?: { households: TestHousehold[]; clients: StandInClient[] };
  /** Household sign-in through the consumer consent service (src/consumers/sign-in-routes.ts); absent: none. */
  consumerSignIn?: ConsumerSignIn;
  /** Where a household's revocation of a consent goes (src/consent/revoker.ts); absent: refused. */
  consentRevoker?: ConsentRevoker;
  config: AppConfig;
  /** JWKS that the hub publishes at /.well-known/jwks.json (development signing key). */
  publishedJwks?: () => Promise<{ keys: unknown[] }>;
  /** External registries the data quality validation asks (src/quality/registries.ts); absent ones fail closed. */
  registries?: ExternalRegistries;
  /** The static assets of the hub's pages (/docs), read from installed packages (src/http/pages.ts). */
  pageAssets: PageAssets;
  /** The console's built files (src/http/console-routes.ts); absent: no /console (Workers, for now). */
  console?: ConsoleFiles;
  /** CIM import parsing; absent: in process (src/cim/parsing.ts). */
  cimParser?: CimParser;
  /** Structured logs (src/http/request-log.ts): a line per request; absent: none (unhandled errors still go to stderr). */
  log?: Logger;
  /** Every migration version this code ships (Node); /readyz says which are not applied. Absent: not checked (Workers). */
  expectedMigrations?: string[];
  /** The background job loop of this process: the jobs that stalled (none: alive). Absent: no loop here (Workers run Cron Triggers). */
  stalledJobs?: () => string[];
  /** Traces (src/http/tracing.ts): a span per request; absent (no OTLP endpoint configured): no tracing at all. */
  tracer?: Tracer;
  /** Metrics (src/http/metrics.ts); absent: the app makes its own. Node shares one with its OpenID provider (tokens issued). */
  metrics?: HubMetrics;
  /** False while the process is still starting (demo data, credentials): /healthz answers 503 until then. */
  ready?: () => boolean;
  /** True once the process has begun to stop (SIGTERM): /healthz and /readyz answer 503 `stopping`. */
  stopping?: () => boolean;
  /**
   * The local CLI channel of a hub on the embedded database (src/node/lock.ts): the secret in the data
   * folder's lock file authenticates `fmar` commands run beside the hub, as actor `cli`.
   */
  localCli?: LocalCli;
}
