import type { ConsentVerifier } from './kernel/consent-port';
import type { Hooks } from './kernel/hooks';
import type { Clock, IdSource } from './ports';
import type { Db } from './storage/db';
import type { DomainMetrics } from './http/metrics';

/** What the domain modules need: the database, time and identifiers. Shared by the API, CLI and jobs. */
export interface Ctx {
  db: Db;
  clock: Clock;
  ids: IdSource;
  /** The consent port (src/consent), when configured: registrations verify their consentReference with it. */
  consent?: ConsentVerifier;
  /** Cross-domain effects run in a change's transaction (src/kernel/hooks.ts), registered by standardHooks (src/hooks.ts). */
  hooks: Hooks;
  /** Counters the domains report to (src/http/metrics.ts: data-quality evaluations); absent: nothing is counted. */
  metrics?: DomainMetrics;
}
