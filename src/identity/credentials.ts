import type { CredentialFacts, Credentials } from '../access/auth';
import type { OrganisationRole } from '../access/roles';
import type { Sql } from '../storage/db';
import { revocations } from './revocations';

/**
 * The credential facts behind a token, read from the register for authentication
 * (src/access/auth.ts) in one query: the organisation's status, roles and DNO areas, the API
 * client (of the organisation, or of the delegate for a delegated token), the person and the
 * delegation; the generation moves with every revocation on this instance.
 */
export function registerCredentials(db: Sql): Credentials {
  return {
    async facts(q) {
      const [row] = await db.query<{
        status: string;
        roles: OrganisationRole[];
        dno_codes: string[];
        client_status: string | null;
        user_status: string | null;
        delegation: CredentialFacts['delegation'];
      }>(
        `SELECT o.status, to_jsonb(o.roles) AS roles, to_jsonb(o.dno_codes) AS dno_codes,
                (SELECT status FROM api_client WHERE client_id = $2 AND (organisation_id = COALESCE($5, o.id) OR (organisation_id IS NULL AND $3::text IS NOT NULL))) AS client_status,
                (SELECT status FROM app_user WHERE id = $3 AND organisation_id = o.id) AS user_status,
                (SELECT to_jsonb(d) FROM (SELECT status, delegator_id, delegate_id, valid_from, valid_to, asset_ids FROM delegation WHERE id = $4) d) AS delegation
           FROM organisation o WHERE o.id = $1`,
        [q.organisationId, q.clientId, q.userId, q.delegationId, q.actorOrganisationId],
      );
      if (!row) return undefined;
      return {
        status: row.status,
        roles: row.roles,
        dnoCodes: row.dno_codes,
        clientStatus: row.client_status,
        userStatus: row.user_status,
        delegation: row.delegation,
      };
    },
    generation: () => revocations.generation(),
  };
}
