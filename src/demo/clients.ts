import { systemPrincipal } from '../access/principal';
import type { Ctx } from '../context';
import { createClient, rotateClient } from '../identity/clients';
import type { DemoOrganisation } from './seed';

export interface DemoClient {
  key: string;
  organisationId: string;
  clientId: string;
  clientSecret: string;
}

/**
 * One machine client per demo organisation (`demo-<key>`, client_secret_basic). Secrets are kept
 * only as hashes, so each development start rotates them and hands back the new ones for
 * demo-credentials.json. Production refuses demo clients (CLIENT-DEMO-REFUSED).
 */
export async function ensureDemoClients(ctx: Ctx, orgs: DemoOrganisation[], production = false): Promise<DemoClient[]> {
  const system = systemPrincipal('seed');
  const out: DemoClient[] = [];
  for (const o of orgs) {
    const clientId = `demo-${o.key}`;
    const [exists] = await ctx.db.query(`SELECT status FROM api_client WHERE client_id = $1`, [clientId]);
    const c = exists
      ? await rotateClient(ctx, system, clientId, {})
      : await createClient(
          ctx,
          system,
          { name: `Demo client (${o.key})`, kind: 'machine', authMethod: 'client_secret_basic', organisationId: o.id },
          { clientId, demo: true, production },
        );
    out.push({ key: o.key, organisationId: o.id, clientId, clientSecret: c.clientSecret! });
  }
  return out;
}
