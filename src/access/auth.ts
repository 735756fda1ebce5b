import type { MiddlewareHandler } from 'hono';
import type { OrganisationRole } from '../catalogue/codes';
import { Problem } from '../http/problem';
import type { Ports } from '../ports';
import { PERMISSIONS, type Action, type Permission } from './permissions';
import type { Principal } from './principal';

export type AuthEnv = { Variables: { principal: Principal } };

interface OrgFacts { status: string; roles: OrganisationRole[]; dnoCodes: string[]; at: number }

/**
 * Bearer authentication: verify the JWT access token (jose, configured issuer's keys), then
 * complete the principal from the organisation's record (cached briefly) so that a suspended or
 * withdrawn organisation is refused within seconds whatever its tokens say.
 */
export function authenticate(ports: Ports, cacheMs = 15_000): MiddlewareHandler<AuthEnv> {
  const cache = new Map<string, OrgFacts>();
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const m = /^Bearer ([A-Za-z0-9._~+/=-]+)$/i.exec(header.trim());
    if (!m) throw new Problem('AUTH-TOKEN-MISSING', header ? 'Authorization must be "Bearer <access token>".' : undefined, {}, [], 401);
    let claims;
    try {
      claims = await ports.tokens.verify(m[1]);
    } catch (e) {
      throw new Problem('AUTH-TOKEN-INVALID', `The access token was refused (${(e as { code?: string }).code ?? 'invalid'}).`);
    }
    const now = ports.clock.now().getTime();
    let org = cache.get(claims.org);
    if (!org || now - org.at > cacheMs) {
      const [row] = await ports.db.query(`SELECT status, to_jsonb(roles) AS roles, to_jsonb(dno_codes) AS dno_codes FROM organisation WHERE id = $1`, [claims.org]);
      if (!row) throw new Problem('AUTH-TOKEN-INVALID', 'The token names an organisation the register does not hold.');
      org = { status: row.status, roles: row.roles, dnoCodes: row.dno_codes, at: now };
      if (cache.size > 10_000) cache.clear();
      cache.set(claims.org, org);
    }
    if (org.status !== 'ACTIVE') throw new Problem('AUTH-ORGANISATION-INACTIVE', `Organisation ${claims.org} is ${org.status}.`);
    c.set('principal', {
      subject: claims.sub,
      organisationId: claims.org,
      roles: org.roles,
      scopes: (claims.scope ?? '').split(' ').filter(Boolean),
      act: claims.act,
      dnoCodes: org.dnoCodes,
      clientId: claims.client_id,
    });
    await next();
  };
}

/** Check the permission matrix for one action: the token's scope and one of the organisation's roles. */
export function checkPermission(p: Principal, action: Action): void {
  const perm: Permission = PERMISSIONS[action];
  if (!p.scopes.includes(perm.scope) && !p.scopes.includes('*')) throw new Problem('AUTH-SCOPE-MISSING', `This action needs the scope ${perm.scope}.`, { requiredScope: perm.scope });
  if (perm.roles !== 'any' && !p.roles.some((r) => (perm.roles as readonly string[]).includes(r))) {
    throw new Problem('AUTH-ROLE-FORBIDDEN', `No role of organisation ${p.organisationId} (${p.roles.join(', ')}) may ${action}.`);
  }
}

export function permit(action: Action): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    checkPermission(c.get('principal'), action);
    await next();
  };
}
