import type { OrganisationRole } from '../catalogue/codes';

/**
 * The permission matrix: for each action, the scope a token must carry and the organisation
 * roles that may perform it. Enforcement (src/access/auth.ts) and docs/security.md both come from
 * this table; nothing else decides who may do what. Which records an allowed caller sees is the
 * object-level rule in `assetVisibility` / the organisation store.
 */
export interface Permission { scope: string; roles: readonly OrganisationRole[] | 'any'; description: string }

const FSP_LIKE = ['FSP', 'AGGREGATOR'] as const;
const OPERATOR = ['MARKET_FACILITATOR'] as const;

export const PERMISSIONS = {
  'organisations.read': { scope: 'organisations:read', roles: 'any', description: 'Read organisations (passport fields of other organisations only for the operator and regulator).' },
  'organisations.register': { scope: 'organisations:write', roles: OPERATOR, description: 'Register an organisation (UC-01.02).' },
  'organisations.update': { scope: 'organisations:write', roles: OPERATOR, description: 'Update any organisation, including its status (UC-01.03).' },
  'organisations.update-own': { scope: 'organisations:write', roles: 'any', description: 'Update one’s own passport and identifiers (UC-01.03); roles and status stay with the operator.' },
  'organisations.deregister': { scope: 'organisations:write', roles: OPERATOR, description: 'De-register an organisation (UC-01.04).' },
  'assets.read': { scope: 'assets:read', roles: [...OPERATOR, 'REGULATOR', ...FSP_LIKE, 'ASSET_OWNER', 'DNO', 'IDNO'], description: 'Read, look up and export assets: the operator and regulator all; FSPs those they control or own; DNOs/IDNOs those on their networks.' },
  'assets.write': { scope: 'assets:write', roles: [...OPERATOR, ...FSP_LIKE], description: 'Register, update and de-register assets (UC-02.01 to UC-02.03); FSPs only their own.' },
  'audit.read': { scope: 'audit:read', roles: [...OPERATOR, 'REGULATOR'], description: 'Read the audit trail and verify its chain (UC-05.06).' },
  'cim.export': { scope: 'cim:export', roles: [...OPERATOR, 'REGULATOR', 'DNO', 'IDNO'], description: 'Export assets as CIM RDF/XML (UC-02.04 for DSOs): the operator and regulator all; DNOs/IDNOs those on their networks.' },
  'cim.import': { scope: 'cim:import', roles: [...OPERATOR, 'DNO', 'IDNO'], description: 'Import CIM RDF/XML: enrich visible assets matched by MPAN with network references and DSO mRIDs; bulk-load also needs assets.write.' },
  'events.read': { scope: 'events:read', roles: [...OPERATOR, 'REGULATOR', 'SYSTEM_OPERATOR', 'INDEPENDENT_MARKET_PLATFORM', ...FSP_LIKE, 'DNO', 'IDNO'], description: 'Read the change event feed: the operator, regulator, SOs and IMPs all events; others those about their own records.' },
} as const satisfies Record<string, Permission>;

export type Action = keyof typeof PERMISSIONS;

/** Roles that see every record of every organisation. */
export const SEES_ALL: readonly OrganisationRole[] = ['MARKET_FACILITATOR', 'REGULATOR'];

/** Baseline scopes per role: what a token issued to an organisation with that role may carry. */
export function baselineScopes(roles: readonly OrganisationRole[]): string[] {
  const scopes = new Set<string>();
  for (const p of Object.values(PERMISSIONS) as Permission[]) {
    if (p.roles === 'any' || p.roles.some((r) => roles.includes(r))) scopes.add(p.scope);
  }
  return [...scopes].sort();
}
