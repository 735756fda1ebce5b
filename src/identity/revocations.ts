/**
 * In-process signal that a credential changed (client revoked or rotated, person deactivated,
 * delegation revoked, organisation status changed): the authentication layer drops its short-lived
 * caches so this instance refuses at once. Other instances refuse within their cache lifetime
 * (FMAR_AUTH_CACHE_MS, default 5 s; docs/security.md).
 */
const listeners = new Set<() => void>();
export const revocations = {
  on(fn: () => void): () => void { listeners.add(fn); return () => listeners.delete(fn); },
  emit(): void { for (const fn of listeners) fn(); },
};
