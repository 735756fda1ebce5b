/**
 * In-process signal that a credential changed (client revoked or rotated, person deactivated,
 * delegation revoked, organisation status changed): the authentication layer drops its short-lived
 * caches so this instance refuses at once. Other instances refuse within their cache lifetime
 * (FMAR_AUTH_CACHE_MS, default 5 s; docs/security.md).
 *
 * A counter, not a list of listeners: a cache remembers the generation it was filled at and drops
 * itself when the counter has moved (as the catalogue snapshot cache does). Nothing registers, so
 * an app that is built and dropped (tests build many in one process) leaves nothing behind.
 */
let generation = 0;
export const revocations = {
  /** After the commit of a change that may revoke a credential. */
  emit(): void {
    generation++;
  },
  /** Moves on every emit: a cache filled at another generation is stale. */
  generation(): number {
    return generation;
  },
};
