import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { devSigner, type DevSigner } from '../access/dev-keys';
import { jwtTokenVerifier, type TokenVerifier } from '../access/tokens';
import type { HubConfig } from '../config';
import { ulidSource } from '../ids';
import { quietEventSink, systemClock, type Clock, type Ports } from '../ports';
import type { Db } from '../storage/db';
import { migrate } from '../storage/migrate';
import { loadMigrations } from '../storage/load-migrations';
import { pgliteDb } from '../storage/pglite';
import { postgresDb } from '../storage/postgres';

/** Open the configured database: PostgreSQL when DATABASE_URL is set, else PGlite in the data folder. */
export async function openDb(cfg: Pick<HubConfig, 'databaseUrl' | 'dataDir'>, opts: { memory?: boolean } = {}): Promise<Db> {
  if (cfg.databaseUrl) return postgresDb(cfg.databaseUrl);
  if (opts.memory) return pgliteDb();
  const dir = resolve(cfg.dataDir, 'pgdata');
  mkdirSync(dir, { recursive: true });
  return pgliteDb(dir);
}

export interface Hub { ports: Ports; signer?: DevSigner }

/** Migrate, then assemble the ports: the dev signer in development, the configured JWKS always. */
export async function assemble(cfg: HubConfig, db: Db, clock: Clock = systemClock): Promise<Hub> {
  await migrate(db, loadMigrations(), () => clock.now());
  const ids = ulidSource(clock);
  let signer: DevSigner | undefined;
  let tokens: TokenVerifier;
  if (cfg.mode === 'development' && !cfg.jwksUrl && !cfg.jwks) {
    signer = await devSigner(db, clock, ids, cfg.issuer, cfg.audience);
    tokens = jwtTokenVerifier({ issuer: cfg.issuer, audience: cfg.audience, jwks: { keys: [signer.publicJwk] }, now: () => clock.now() });
  } else {
    tokens = jwtTokenVerifier({ issuer: cfg.issuer, audience: cfg.audience, jwks: cfg.jwksUrl ? new URL(cfg.jwksUrl) : JSON.parse(cfg.jwks!), now: () => clock.now() });
  }
  const ports: Ports = {
    db, clock, ids, tokens, events: quietEventSink,
    config: { baseUrl: cfg.baseUrl, audience: cfg.audience, mode: cfg.mode, maxBodyBytes: cfg.maxBodyBytes, maxBulkBytes: cfg.maxBulkBytes },
    publishedJwks: signer ? async () => ({ keys: [signer!.publicJwk] }) : undefined,
  };
  return { ports, signer };
}
