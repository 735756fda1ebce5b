import { signAccessToken, type KeyRing } from '../../identity/index';
import type { OrganisationRole } from './roles';
import type { Clock, IdSource } from '../ports';
import type { Db } from '../storage/db';
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

export function devSigner(db: Db, clock: Clock, ids: IdSource, keys: KeyRing, issuer: string, audience: string): DevSigner {
  const ensured = new Set<string>();
  async function ensureClient(clientId: string, org: string, roles: readonly OrganisationRole[]) {
    if (ensured.has(clientId)) return;
    await db.query(
      `INSERT INTO api_client (client_id, organisation_id, name, kind, auth_method, scopes, grant_types, status, demo, recorded_at, recorded_by)
       SELECT $1, $2, 'Development tokens', 'machine', 'none', $3::text[], '{}', 'ACTIVE', true, $4::timestamptz, 'system' WHERE EXISTS (SELECT 1 FROM organisation WHERE id = $2)
       ON CONFLICT (client_id) DO NOTHING`,
      [clientId, org, baselineScopes(roles), clock.now().toISOString()],
    );
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
