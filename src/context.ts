import type { ConsentVerifier } from './kernel/consent-port';
import type { Clock, IdSource } from './ports';
import type { Db } from './storage/db';

/** What the domain modules need: the database, time and identifiers. Shared by the API, CLI and jobs. */
export interface Ctx {
  db: Db; clock: Clock; ids: IdSource;
  /** The consent port (src/consent), when configured: registrations verify their consentReference with it. */
  consent?: ConsentVerifier;
}
