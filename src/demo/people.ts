import { randomSecret } from '../../identity/index';
import { systemPrincipal } from '../access/principal';
import type { Ctx } from '../context';
import { inviteUser, setDemoPassword } from '../identity/users';
import { DEMO_SYSTEM_OPERATOR } from './market';
import { DEMO_ORGANISATIONS } from './seed';

/** The demo FSP's admin, who signs in to the console (the FSP's primary contact in its passport). */
export const DEMO_PERSON = { organisation: 'fsp-a', email: 'ada@alpha.example', name: 'Ada Lovelace', userRole: 'ADMIN' } as const;

/**
 * The demo operator's admin, also a MEMBER of the demo DNO and of the demo System Operator
 * (src/demo/market.ts): a person in three organisations, who switches between them in the console
 * (docs/identity.md, "A person in several organisations"). As the System Operator's member they
 * record qualifications for its products (docs/console.md, "Qualify market units").
 */
export const DEMO_OPERATOR_PERSON = {
  organisation: 'operator',
  email: 'grace@operator.example',
  name: 'Grace Hopper',
  userRole: 'ADMIN',
  memberOf: [
    { organisation: 'dno', userRole: 'MEMBER' },
    { organisation: 'so', userRole: 'MEMBER' },
  ],
} as const;

type DemoPerson = {
  organisation: string;
  email: string;
  name: string;
  userRole: 'ADMIN' | 'MEMBER' | 'VIEWER';
  memberOf?: readonly { organisation: string; userRole: 'ADMIN' | 'MEMBER' | 'VIEWER' }[];
};

/** A demo organisation's ID by its key: the seed's, and the demo market's System Operator (seeded before the people). */
const orgId = (key: string) => [...DEMO_ORGANISATIONS, DEMO_SYSTEM_OPERATOR].find((o) => o.key === key)!.id;

/**
 * Development only: a demo person, ACTIVE, with a new password at each start (written to
 * demo-credentials.json, like the demo clients' secrets), and their memberships of further
 * organisations; made on first start.
 */
async function ensure<P extends DemoPerson>(ctx: Ctx, baseUrl: string, who: P): Promise<P & { password: string }> {
  const password = `demo-${randomSecret(12)}`;
  const system = systemPrincipal('seed');
  const [person] = await ctx.db.query<{ id: string }>(`SELECT id FROM app_user WHERE lower(email) = lower($1) AND person_id IS NULL`, [
    who.email,
  ]);
  if (person) await setDemoPassword(ctx, system, person.id, password);
  else
    await inviteUser(ctx, system, orgId(who.organisation), { email: who.email, name: who.name, userRole: who.userRole }, baseUrl, {
      password,
    });
  for (const m of who.memberOf ?? []) {
    const [held] = await ctx.db.query(`SELECT 1 FROM app_user WHERE lower(email) = lower($1) AND organisation_id = $2`, [
      who.email,
      orgId(m.organisation),
    ]);
    if (!held) await inviteUser(ctx, system, orgId(m.organisation), { email: who.email, name: who.name, userRole: m.userRole }, baseUrl);
  }
  return { ...who, password };
}

export const ensureDemoPerson = (ctx: Ctx, baseUrl: string) => ensure(ctx, baseUrl, DEMO_PERSON);
export const ensureDemoOperatorPerson = (ctx: Ctx, baseUrl: string) => ensure(ctx, baseUrl, DEMO_OPERATOR_PERSON);
