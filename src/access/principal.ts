import type { OrganisationRole } from './roles';
import { SEES_ALL } from './permissions';

/** Who is calling: taken from a verified access token, completed with the organisation's record. */
export interface Principal {
  subject: string;
  organisationId: string;
  roles: OrganisationRole[];
  scopes: string[];
  /** RFC 8693 actor: the party acting for the organisation under a delegation. */
  act?: { sub: string; org?: string };
  /** DNO licence areas the organisation operates (for DNO/IDNO network visibility). */
  dnoCodes: string[];
  clientId?: string;
  /** The delegation a delegated token acts under; `assetIds` null = all the delegator's assets. */
  delegation?: { id: string; assetIds: string[] | null };
  /** The HTTP request acting (src/http/request-log.ts): audit records written for it carry it. */
  requestId?: string;
  /**
   * A household signed in through the consumer consent service (docs/consumers.md): no organisation,
   * no roles; it reaches only the consumer actions, and only what is at these meter points (MPANs).
   * `subject` and `organisationId` are then its pseudonym (`consumer:…`), which matches no organisation.
   */
  consumer?: { mpans: string[] };
}

/** The principal used by the CLI, seeding and internal jobs: recorded as such in the audit trail. */
export function systemPrincipal(subject = 'system'): Principal {
  return { subject, organisationId: 'system', roles: ['MARKET_FACILITATOR'], scopes: ['*'], dnoCodes: [] };
}

/** A household's principal: bound to the meter points its sign-in vouched for, nothing else about the person. */
export function consumerPrincipal(subject: string, mpans: string[], scopes: string[], requestId?: string): Principal {
  return {
    subject,
    organisationId: subject,
    roles: [],
    scopes,
    dnoCodes: [],
    consumer: { mpans: [...new Set(mpans)].sort() },
    ...(requestId ? { requestId } : {}),
  };
}

export function seesAll(p: Principal): boolean {
  return p.roles.some((r) => SEES_ALL.includes(r));
}

/** The string stored in recorded_by: the subject, and the actor when one acts for it. */
export function recordedBy(p: Principal): string {
  return p.act ? `${p.subject} (act: ${p.act.sub})` : p.subject;
}
