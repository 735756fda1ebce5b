import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { OAUTH_ROUTES } from '../identity/index';
import { systemPrincipal } from './access/principal';
import { ConfigError, loadConfig } from './config';
import { ensureDemoClients } from './demo/clients';
import { seedDemo } from './demo/seed';
import { seedDemoMarket } from './demo/market';
import { ensureDemoOperatorPerson, ensureDemoPerson } from './demo/people';
import { hostname } from 'node:os';
import { openDb } from './node/setup';
import { ensureConsoleBuilt } from './node/console-build';
import { startNodeHub } from './node/server';
import { MigrationChanged } from './storage/migrate';
import { acquireLock, DataFolderHeld, type DataLock } from './node/lock';
import { sealAudit } from './audit/audit';
import { standardHooks } from './hooks';
import { startJobTimers, type JobTimers } from './jobs';
import { releaseCimLeases } from './cim/jobs';
import { startTracing, type Tracing } from './node/tracing';
import { tracedDb } from './storage/traced';

/** Node entry: `npm start`. Development mode seeds demo data and prints how to call the API. */
async function main() {
  let cfg;
  let tracing: Tracing | undefined;
  try {
    cfg = loadConfig(process.env);
    // Traces only when an OTLP endpoint is configured (docs/operations.md, "Traces"); otherwise no provider at all.
    tracing = startTracing(process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`fmar: ${e.message}`);
      process.exit(2);
    }
    throw e;
  }
  // The embedded database is opened by one process only (src/node/lock.ts): a second hub or a CLI
  // command on the same folder is refused, or works through this hub's API.
  let lock: DataLock | undefined;
  if (!cfg.databaseUrl) {
    try {
      lock = acquireLock(cfg.dataDir, 'hub', { withSecret: true });
    } catch (e) {
      if (e instanceof DataFolderHeld) {
        console.error(
          `fmar: ${e.message}. Stop it first${e.info.holder === 'hub' ? ' (Ctrl-C in its terminal)' : ''}, or start this hub on another folder: FMAR_DATA_DIR=other-folder npm start`,
        );
        process.exit(2);
      }
      throw e;
    }
  }
  // The console's files (console/dist): built here when missing or older than their sources.
  try {
    await ensureConsoleBuilt();
  } catch (e) {
    console.error(`fmar: the console could not be built; /console serves what was built before: ${(e as Error).message}`);
  }
  let ready = false;
  // Set on SIGTERM/SIGINT (below): /healthz and /readyz then say the hub is stopping.
  let stopping = false;
  const opened = await openDb(cfg);
  const db = tracing ? tracedDb(opened, tracing.tracer) : opened;
  let node;
  // The background jobs start once the hub is up; a commit that wrote events wakes webhook delivery at once.
  let jobs: JobTimers | undefined;
  try {
    node = await startNodeHub(cfg, db, {
      ready: () => ready,
      stopping: () => stopping,
      localSecret: lock?.info.localSecret,
      events: { written: () => jobs?.wake('webhook-delivery') },
      tracer: tracing?.tracer,
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES') {
      console.error(
        `fmar: port ${cfg.port} ${code === 'EADDRINUSE' ? 'is already in use (another hub or program listens on it)' : 'may not be opened by this user'}. Stop that program, or choose another port: PORT=${cfg.port + 1} npm start`,
      );
      await db.close();
      lock?.release();
      process.exit(2);
    }
    if (e instanceof MigrationChanged || /signing key/.test((e as Error).message)) {
      console.error(`fmar: ${(e as Error).message}`);
      await db.close();
      lock?.release();
      process.exit(2);
    }
    throw e;
  }
  lock?.update({ baseUrl: cfg.baseUrl, url: node.url });
  const { hub, identity } = node;
  const ctx = { db, clock: hub.ports.clock, ids: hub.ports.ids, hooks: standardHooks(), metrics: hub.ports.metrics };
  const tokenEndpoint = `${cfg.baseUrl}${OAUTH_ROUTES.token}`;

  let credentialsFile: string | undefined;
  let fsp: { clientId: string; clientSecret: string } | undefined;
  let person: { email: string; password: string } | undefined;
  let operatorPerson: { email: string; password: string } | undefined;
  if (cfg.mode === 'development' && process.env.FMAR_DEMO !== 'false') {
    const orgs = await seedDemo(ctx, systemPrincipal('seed'));
    // A System Operator owning the NESO products, and a qualified demo market unit (src/demo/market.ts).
    orgs.push(await seedDemoMarket(ctx, systemPrincipal('seed')));
    const clients = await ensureDemoClients(ctx, orgs);
    // A person of the demo FSP, to sign in to the console with (src/demo/people.ts).
    person = await ensureDemoPerson(ctx, cfg.baseUrl);
    // The operator's admin, also a member of the demo DNO and System Operator: the console's organisation switcher.
    operatorPerson = await ensureDemoOperatorPerson(ctx, cfg.baseUrl);
    const credentials = await Promise.all(
      orgs.map(async (o) => {
        const c = clients.find((x) => x.key === o.key)!;
        return {
          key: o.key,
          organisationId: o.id,
          roles: o.roles,
          clientId: c.clientId,
          clientSecret: c.clientSecret,
          // A ready-made 12-hour development token, for trying the API without the OAuth step.
          accessToken: await hub.signer!.sign({ sub: `demo-${o.key}`, org: o.id, roles: o.roles }),
        };
      }),
    );
    fsp = credentials.find((c) => c.key === 'fsp-a');
    mkdirSync(resolve(cfg.dataDir), { recursive: true });
    credentialsFile = resolve(cfg.dataDir, 'demo-credentials.json');
    writeFileSync(
      credentialsFile,
      JSON.stringify(
        {
          baseUrl: cfg.baseUrl,
          issuer: cfg.issuer,
          tokenEndpoint,
          discovery: `${cfg.issuer}/.well-known/openid-configuration`,
          audience: cfg.audience,
          clientAuthentication: 'client_secret_basic; grant_type=client_credentials; tokens live 5 minutes',
          organisations: credentials,
          // Sign in to the console (/console) as this person; the password changes at each start.
          people: [person, operatorPerson].filter(Boolean),
        },
        null,
        2,
      ),
      { mode: 0o600 },
    );
  }

  // Background work: the hub's jobs (src/jobs.ts, the same list a Worker runs from Cron Triggers),
  // each on its own timer; a commit that wrote events wakes webhook delivery at once.
  node.hub.ports.stalledJobs = () => jobs?.stalled() ?? ['(not started)'];
  const worker = `${hostname()}:${process.pid}`;
  jobs = startJobTimers({
    ctx,
    source: cfg.baseUrl,
    production: cfg.mode === 'production',
    maxCimBytes: cfg.maxCimJobBytes,
    worker,
    cimParser: hub.ports.cimParser,
    registries: hub.ports.registries,
    consent: hub.ports.consent,
    log: hub.ports.log,
    tracer: tracing?.tracer,
  });
  // Per process, not per deployment: pick up key rotations made by the CLI (another process).
  const timers = [
    setInterval(() => {
      identity.refreshKeys().catch((e) => console.error('[fmar] key refresh:', e));
    }, 60_000),
  ];

  const lines = [
    `FMAR hub (${cfg.mode}) on ${db.engine === 'pglite' ? `embedded PostgreSQL (PGlite) in ${resolve(cfg.dataDir)}` : 'PostgreSQL'}`,
    `  API            ${cfg.baseUrl}/api/v1`,
    `  API reference  ${cfg.baseUrl}/docs`,
    `  OpenAPI        ${cfg.baseUrl}/openapi.json`,
    `  OpenID         ${cfg.issuer}/.well-known/openid-configuration`,
    `  Token endpoint ${tokenEndpoint}`,
    `  Health         ${cfg.baseUrl}/healthz`,
    `  Console        ${cfg.baseUrl}/console${person ? `  (sign in as ${person.email}, password ${person.password})` : ''}`,
    ...(operatorPerson
      ? [`                 operator, DNO and System Operator: ${operatorPerson.email}, password ${operatorPerson.password}`]
      : []),
  ];
  if (tracing) lines.push(`  Traces         OTLP/HTTP to ${tracing.url}`);
  if (credentialsFile && fsp) {
    lines.push(
      `  Credentials    ${credentialsFile}`,
      '',
      'Try it as the demo FSP (Demo Flex Alpha Ltd): get a 5-minute token, then look up its battery by MPAN:',
      `  TOKEN=$(curl -s -u ${fsp.clientId}:${fsp.clientSecret} -d grant_type=client_credentials ${tokenEndpoint} | node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token')`,
      `  curl -H "Authorization: Bearer $TOKEN" '${cfg.baseUrl}/api/v1/assets?identifier=mpan:1312345678907'`,
    );
  }
  ready = true;
  lock?.update({ ready: true });
  console.log(lines.join('\n'));

  // Graceful shutdown (docs/operations.md, "Shutdown"): stop accepting, let requests in flight and
  // running jobs finish within FMAR_SHUTDOWN_GRACE_MS, give back job leases, seal, close the database.
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    ready = false;
    const t0 = Date.now();
    const log = node.hub.ports.log;
    log?.write('info', 'shutdown', { signal, graceMs: cfg.shutdownGraceMs });
    for (const t of timers) clearInterval(t);
    const left = () => Math.max(0, cfg.shutdownGraceMs - (Date.now() - t0));
    const within = (p: Promise<unknown>) => Promise.race([p, new Promise((r) => setTimeout(r, left()).unref())]);
    await Promise.all([node.close(cfg.shutdownGraceMs), within(jobs?.stop() ?? Promise.resolve())]);
    const released = await releaseCimLeases(db, worker, new Date()).catch(() => []);
    await sealAudit(db).catch(() => {});
    await db.close();
    lock?.release();
    // The last spans go out before the process ends (bounded: the exporter's own timeout).
    await tracing?.shutdown().catch(() => {});
    log?.write('info', 'stopped', { signal, durationMs: Date.now() - t0, leasesReleased: released.length });
    process.exit(0);
  };
  // stop() ends the process itself (process.exit): nothing waits on it.
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
