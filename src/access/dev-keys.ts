import { signAccessToken, type KeyRing } from '../../identity/index';
import type { OrganisationRole } from './roles';
import type { Clock, IdSource } from '../ports';
import { baselineScopes } from './permissions';

/**
 * Development tokens minted without the OAuth flow (`fmar token`, the test harness), signed with
 * the provider's current key. They name a development client `dev-<org>` that has no grant types,
 * so it can never obtain tokens at the token endpoint; the API treats it like any active client.
 * Development mode only: production has no signer.
 */
export interface DevSigner {
  kid: string;
  sign(claims: {
    sub: string;
    org: string;
    roles: readonly OrganisationRole[];
    scope?: string;
    act?: { sub: string; org?: string };
    ttlSec?: number;
    clientId?: string;
    extra?: Record<string, unknown>;
  }): Promise<string>;
}

/** Makes the development client `clientId` of an organisation with these scopes if it is not there (the identity module's, src/identity/clients.ts). */
export type EnsureDevelopmentClient = (clientId: string, organisationId: string, scopes: string[]) => Promise<void>;

export function devSigner(
  ensureDevelopmentClient: EnsureDevelopmentClient,
  clock: Clock,
  ids: IdSource,
  keys: KeyRing,
  issuer: string,
  audience: string,
): DevSigner {
  const ensured = new Set<string>();
  async function ensureClient(clientId: string, org: string, roles: readonly OrganisationRole[]) {
    if (ensured.has(clientId)) return;
    await ensureDevelopmentClient(clientId, org, baselineScopes(roles));
    ensured.add(clientId);
  }
  return {
    get kid() {
      return keys.current('ES256').kid;
    },
    async sign(c) {
      const clientId = c.clientId ?? `dev-${c.org}`;
      if (!c.clientId) await ensureClient(clientId, c.org, c.roles);
      return signAccessToken(
        keys,
        {
          iss: issuer,
          aud: audience,
          sub: c.sub,
          ttlSec: c.ttlSec ?? 12 * 3600,
          jti: ids.next(),
          org: c.org,
          scope: c.scope ?? baselineScopes(c.roles).join(' '),
          client_id: clientId,
          ...(c.act ? { act: c.act } : {}),
          ...(c.extra ?? {}),
        },
        clock.now(),
      );
    },
  };
}
