import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadKeyRing, type KeyRing } from '../../identity/index';
import { devSigner, type DevSigner } from '../access/dev-keys';
import { ensureDevelopmentClient } from '../identity/clients';
import { jwtTokenVerifier, type TokenVerifier } from '../access/tokens';
import { consentSimulator, consentVerifierFromConfig } from '../consent/index';
import type { HubConfig } from '../config';
import { ulidSource } from '../ids';
import { nodeConsoleFiles } from './console-files';
import { nodePageAssets } from './page-assets';
import type { Ports } from '../app';
import { quietEventSink, systemClock, type Clock } from '../ports';
import type { Db } from '../storage/db';
import { migrate } from '../storage/migrate';
import { loadMigrations } from '../storage/load-migrations';
import { pgliteDb } from '../storage/pglite';
import { postgresDb } from '../storage/postgres';
import { registriesFromEnv } from '../quality/registries';
import { nodeCimParser } from './cim-parser';
import { consumerPorts } from '../consumers/ports';
import { DEMO_HOUSEHOLDS } from '../demo/households';

/** Open the configured database: PostgreSQL when DATABASE_URL is set, else PGlite in the data folder. */
export async function openDb(cfg: Pick<HubConfig, 'databaseUrl' | 'dataDir'>, opts: { memory?: boolean } = {}): Promise<Db> {
  if (cfg.databaseUrl) return postgresDb(cfg.databaseUrl);
  if (opts.memory) return pgliteDb();
  const dir = resolve(cfg.dataDir, 'pgdata');
  mkdirSync(dir, { recursive: true });
  return pgliteDb(dir);
}

export interface Hub {
  ports: Ports;
  keys: KeyRing;
  signer?: DevSigner;
}

/**
 * Migrate, then assemble the ports. The provider's signing keys live in the database: development
 * creates them on first start; production refuses to start without them (`fmar keys rotate`
 * creates them), so no generated default key ever signs production tokens. The API verifies
 * tokens against the hub's own key ring, or against FMAR_JWKS_URL / FMAR_JWKS when an external
 * issuer is configured.
 */
export async function assemble(cfg: HubConfig, db: Db, clock: Clock = systemClock): Promise<Hub> {
  await migrate(db, loadMigrations(), () => clock.now());
  const ids = ulidSource(clock);
  const keys = await loadKeyRing(db, () => clock.now(), { create: cfg.mode === 'development', newId: () => ids.next() });
  const external = cfg.jwksUrl ? new URL(cfg.jwksUrl) : cfg.jwks ? JSON.parse(cfg.jwks) : undefined;
  const tokens: TokenVerifier = jwtTokenVerifier({
    issuer: cfg.issuer,
    audience: cfg.audience,
    jwks: external ?? (() => keys.publicJwks()),
    now: () => clock.now(),
    cacheMs: cfg.tokenCacheMs,
  });
  const ports: Ports = {
    db,
    clock,
    ids,
    tokens,
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
    expectedMigrations: loadMigrations().map((m) => m.version),
    pageAssets: nodePageAssets(),
    console: nodeConsoleFiles(),
  };
  const signer =
    cfg.mode === 'development'
      ? devSigner(
          (clientId, org, scopes) => ensureDevelopmentClient(db, clock.now(), clientId, org, scopes),
          clock,
          ids,
          keys,
          cfg.issuer,
          cfg.audience,
        )
      : undefined;
  // Development without a configured Consumer Consent Service: the simulator stands in for it.
  if (cfg.mode === 'development' && !cfg.consent.issuer) {
    ports.consentSimulator = consentSimulator({
      issuer: `${cfg.baseUrl}/dev/consent-service`,
      audience: cfg.consent.audience,
      clock,
      mode: cfg.mode,
    });
  }
  ports.consent = consentVerifierFromConfig(cfg, db, clock, { simulator: ports.consentSimulator });
  // Households sign in through the consumer consent service (docs/consumers.md); in development the stand-in's test households.
  Object.assign(
    ports,
    consumerPorts(cfg, ports.consentSimulator, keys, clock, () => ids.next(), DEMO_HOUSEHOLDS),
  );
  // External registries for data quality validation (FMAR_METER_POINT_URL, FMAR_MCS_URL, …); absent ones fail closed.
  ports.registries = registriesFromEnv(process.env);
  // Large CIM imports are parsed in a worker thread under a memory bound, off the event loop.
  ports.cimParser = nodeCimParser(cfg.parser);
  return { ports, keys, signer };
}
