import { randomSecret } from '../../identity/index';
import { systemPrincipal } from '../access/principal';
import type { Ctx } from '../context';
import { inviteUser, setDemoPassword } from '../identity/users';
import { DEMO_ORGANISATIONS } from './seed';

/** The demo FSP's admin, who signs in to the console (the FSP's primary contact in its passport). */
export const DEMO_PERSON = { organisation: 'fsp-a', email: 'ada@alpha.example', name: 'Ada Lovelace', userRole: 'ADMIN' } as const;

/**
 * Development only: the demo person, ACTIVE, with a new password at each start (written to
 * demo-credentials.json, like the demo clients' secrets); made on first start.
 */
export async function ensureDemoPerson(ctx: Ctx, baseUrl: string): Promise<typeof DEMO_PERSON & { password: string }> {
  const password = `demo-${randomSecret(12)}`;
  const system = systemPrincipal('seed');
  const org = DEMO_ORGANISATIONS.find((o) => o.key === DEMO_PERSON.organisation)!;
  const [person] = await ctx.db.query<{ id: string }>(`SELECT id FROM app_user WHERE lower(email) = lower($1)`, [DEMO_PERSON.email]);
  if (person) await setDemoPassword(ctx, system, person.id, password);
  else
    await inviteUser(ctx, system, org.id, { email: DEMO_PERSON.email, name: DEMO_PERSON.name, userRole: DEMO_PERSON.userRole }, baseUrl, {
      password,
    });
  return { ...DEMO_PERSON, password };
}
