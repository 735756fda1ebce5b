import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { OAUTH_ROUTES } from '../identity/index';
import { systemPrincipal } from './access/principal';
import { sealAudit } from './audit/audit';
import { ConfigError, loadConfig } from './config';
import { ensureDemoClients } from './demo/clients';
import { isRevoked, purgeConsentReplays, recordConsentRevocation } from './consent/index';
import { applyDueSwitches, checkConsentStatusLists } from './switching/switches';
import { seedDemo } from './demo/seed';
import { seedDemoMarket } from './demo/market';
import { ensureDemoPerson } from './demo/people';
import { warnExpiringCredentials } from './identity/clients';
import { pruneDeliveries, startDeliveryWorker, type DeliveryWorker } from './webhooks/delivery';
import { DEFAULT_LEASE_MS, startCimJobWorker } from './cim/jobs';
import { hostname } from 'node:os';
import { sweepRateLimits } from './http/rate-limit';
import { evaluateStaleness, registriesConfigured, startValidationWorker } from './quality/service';
import { openDb } from './node/setup';
import { ensureConsoleBuilt } from './node/console-build';
import { startNodeHub } from './node/server';
import { MigrationChanged } from './storage/migrate';
import { acquireLock, DataFolderHeld, type DataLock } from './node/lock';
import { standardHooks } from './hooks';

/** Node entry: `npm start`. Development mode seeds demo data and prints how to call the API. */
async function main() {
  let cfg;
  try {
    cfg = loadConfig(process.env);
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
  const db = await openDb(cfg);
  let node;
  // Webhook deliveries start once the hub is up; a commit that wrote events wakes them at once.
  let deliveries: DeliveryWorker | undefined;
  try {
    node = await startNodeHub(cfg, db, {
      ready: () => ready,
      localSecret: lock?.info.localSecret,
      events: { written: () => deliveries?.wake() },
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
  const ctx = { db, clock: hub.ports.clock, ids: hub.ports.ids, hooks: standardHooks() };
  const tokenEndpoint = `${cfg.baseUrl}${OAUTH_ROUTES.token}`;

  let credentialsFile: string | undefined;
  let fsp: { clientId: string; clientSecret: string } | undefined;
  let person: { email: string; password: string } | undefined;
  if (cfg.mode === 'development' && process.env.FMAR_DEMO !== 'false') {
    const orgs = await seedDemo(ctx, systemPrincipal('seed'));
    // A System Operator owning the NESO products, and a qualified demo market unit (src/demo/market.ts).
    orgs.push(await seedDemoMarket(ctx, systemPrincipal('seed')));
    const clients = await ensureDemoClients(ctx, orgs);
    // A person of the demo FSP, to sign in to the console with (src/demo/people.ts).
    person = await ensureDemoPerson(ctx, cfg.baseUrl);
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
          people: person ? [person] : [],
        },
        null,
        2,
      ),
      { mode: 0o600 },
    );
  }

  // Background work: seal the audit chain, sweep expired provider rows and rate-limit windows,
  // pick up key rotations made by the CLI, warn of expiring client credentials.
  const timers = [
    setInterval(() => {
      sealAudit(db).catch((e) => console.error('[fmar] audit sealer:', e));
    }, 2000),
    setInterval(() => {
      identity.refreshKeys().catch((e) => console.error('[fmar] key refresh:', e));
    }, 60_000),
    setInterval(() => {
      identity.sweep().catch((e) => console.error('[fmar] oidc sweep:', e));
      sweepRateLimits(db, hub.ports.clock.now()).catch((e) => console.error('[fmar] rate-limit sweep:', e));
    }, 300_000),
    setInterval(() => {
      warnExpiringCredentials(ctx, systemPrincipal('credential-expiry')).catch((e) => console.error('[fmar] credential expiry:', e));
    }, 3_600_000),
    // Switches whose effective instant has come move their FSP link (state in the database, so a restart resumes).
    setInterval(() => {
      runSwitches().catch((e) => console.error('[fmar] switch scheduler:', e));
    }, 60_000),
    setInterval(() => {
      purgeConsentReplays(db, hub.ports.clock.now()).catch((e) => console.error('[fmar] consent replay purge:', e));
    }, 3_600_000),
    // Data quality (docs/data-quality.md): records that time alone made stale get their finding.
    setInterval(() => {
      evaluateStaleness(ctx).catch((e) => console.error('[fmar] data quality staleness:', e));
    }, 3_600_000),
  ];
  // Authenticity checks run by themselves (UC-02.01 step 6): Pending Validation assets (registered, or
  // changed in a checked field) are validated every 30 seconds; one a registry could not answer for is
  // asked again after 15 minutes. One run at a time per hub.
  const validation = registriesConfigured(hub.ports.registries)
    ? startValidationWorker(ctx, hub.ports.registries!, { intervalMs: 30_000, retryAfterMs: 15 * 60_000 })
    : undefined;
  // Consents whose tokens carry a status-list reference are re-checked every 15 minutes.
  if (hub.ports.consent?.methods.jwt) {
    const consent = hub.ports.consent;
    timers.push(
      setInterval(() => {
        checkConsentStatusLists(ctx, {
          statusOf: (ref) => consent.statusOf(ref),
          record: (r) =>
            recordConsentRevocation(
              db,
              {
                issuer: r.issuer,
                jti: r.jti,
                tokenHash: r.tokenHash,
                revokedAt: hub.ports.clock.now(),
                reason: `status list: ${r.status === 2 ? 'suspended' : 'invalid'}`,
                source: 'status-list',
                recordedBy: 'consent-status-list',
              },
              hub.ports.clock.now(),
            ),
        }).catch((e) => console.error('[fmar] consent status lists:', e));
      }, 15 * 60_000),
    );
  }
  function runSwitches() {
    return applyDueSwitches(ctx, { isRevoked: (tx, issuer, jti, tokenHash) => isRevoked(tx, { issuer, jti, tokenHash }) });
  }
  runSwitches().catch((e) => console.error('[fmar] switch scheduler:', e));
  warnExpiringCredentials(ctx, systemPrincipal('credential-expiry')).catch((e) => console.error('[fmar] credential expiry:', e));
  // Webhooks (docs/events.md): deliver due events every second; keep delivered rows 30 days.
  deliveries = startDeliveryWorker(db, hub.ports.clock, { source: cfg.baseUrl, production: cfg.mode === 'production', intervalMs: 1000 });
  // CIM import jobs (docs/cim-profile.md): claimed from the shared queue every 2 seconds, one at a time.
  const cimJobs = startCimJobWorker(ctx, {
    worker: `${hostname()}:${process.pid}`,
    leaseMs: DEFAULT_LEASE_MS,
    intervalMs: 2000,
    maxBytes: cfg.maxBulkBytes,
  });
  timers.push(
    setInterval(() => {
      pruneDeliveries(db, new Date(hub.ports.clock.now().getTime() - 30 * 86_400_000)).catch((e) =>
        console.error('[fmar] delivery prune:', e),
      );
    }, 3_600_000),
  );

  const lines = [
    `FMAR hub (${cfg.mode}) on ${db.engine === 'pglite' ? `embedded PostgreSQL (PGlite) in ${resolve(cfg.dataDir)}` : 'PostgreSQL'}`,
    `  API            ${cfg.baseUrl}/api/v1`,
    `  API reference  ${cfg.baseUrl}/docs`,
    `  OpenAPI        ${cfg.baseUrl}/openapi.json`,
    `  OpenID         ${cfg.issuer}/.well-known/openid-configuration`,
    `  Token endpoint ${tokenEndpoint}`,
    `  Health         ${cfg.baseUrl}/healthz`,
    `  Console        ${cfg.baseUrl}/console${person ? `  (sign in as ${person.email}, password ${person.password})` : ''}`,
  ];
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

  const stop = async () => {
    for (const t of timers) clearInterval(t);
    await deliveries.stop();
    await cimJobs.stop();
    await validation?.stop();
    await node.close();
    await sealAudit(db).catch(() => {});
    await db.close();
    lock?.release();
    process.exit(0);
  };
  // stop() ends the process itself (process.exit): nothing waits on it.
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
