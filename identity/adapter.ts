import type { AdapterPayload } from 'oidc-provider';
import type { Now, SqlPort } from './types';

/**
 * oidc-provider storage on the host's database (table oidc_payload, created by identity/migrations),
 * one class per model name. Clients are not stored here: the `Client` model asks the host
 * (`findClient`, the hub reads its organisation-managed api_client table), so a revoked client
 * stops authenticating at once.
 */
export interface ClientRow {
  client_id: string;
  /** null: a client of the host itself, for people of every organisation (the hub's console). */
  organisation_id: string | null;
  name: string;
  kind: string;
  auth_method: string;
  jwks: { keys: unknown[] } | null;
  /** Where a private_key_jwt client publishes its keys instead (the provider fetches them: provider.ts, jwksFetch). */
  jwks_uri?: string | null;
  secret_hash: string | null;
  credential_expires_at: Date | string | null;
  scopes: string[];
  grant_types: string[];
  redirect_uris: string[];
  status: string;
}

/** The oidc-provider client metadata for an api_client row (secret = its hash; see compareClientSecret). */
export function clientMetadata(r: ClientRow): Record<string, unknown> {
  const people = r.kind !== 'machine';
  return {
    client_id: r.client_id,
    client_name: r.name,
    token_endpoint_auth_method: r.auth_method,
    ...(r.jwks ? { jwks: r.jwks } : {}),
    ...(r.jwks_uri ? { jwks_uri: r.jwks_uri } : {}),
    ...(r.secret_hash ? { client_secret: r.secret_hash } : {}),
    ...(r.secret_hash && r.credential_expires_at
      ? { client_secret_expires_at: Math.floor(new Date(r.credential_expires_at).getTime() / 1000) }
      : {}),
    grant_types: r.grant_types,
    response_types: people ? ['code'] : [],
    redirect_uris: people ? r.redirect_uris : [],
    // Sign-out (RP-initiated logout) may return to where sign-in does.
    post_logout_redirect_uris: people ? r.redirect_uris : [],
    application_type: r.kind === 'native' ? 'native' : 'web',
    scope: r.scopes.join(' '),
    ...(r.organisation_id ? { organisation_id: r.organisation_id } : {}),
    ...(r.auth_method === 'private_key_jwt' ? { token_endpoint_auth_signing_alg: undefined } : {}),
  };
}

/** A code or token was already consumed (by a concurrent request): the redemption lost the race. */
export class AlreadyConsumed extends Error {
  override readonly name = 'AlreadyConsumed';
  constructor(readonly model: string) {
    super(`${model} already consumed`);
  }
}

/** The host's active client with this ID (of an active organisation), or undefined. */
export type FindClient = (clientId: string) => Promise<ClientRow | undefined>;

export function adapterFactory(db: SqlPort, now: Now, findClient: FindClient) {
  const iso = (d: Date) => d.toISOString();
  return class PgAdapter {
    constructor(public name: string) {}

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number) {
      if (this.name === 'Client') throw new Error('clients are managed through /api/v1/clients');
      const expiresAt = expiresIn ? new Date(now().getTime() + expiresIn * 1000) : null;
      await db.query(
        `INSERT INTO oidc_payload (model, id, payload, grant_id, uid, user_code, account_id, expires_at, created_at)
         VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8::timestamptz, $9::timestamptz)
         ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id, uid = excluded.uid,
           user_code = excluded.user_code, account_id = excluded.account_id, expires_at = excluded.expires_at`,
        [
          this.name,
          id,
          payload,
          payload.grantId ?? null,
          payload.uid ?? null,
          payload.userCode ?? null,
          payload.accountId ?? null,
          expiresAt ? iso(expiresAt) : null,
          iso(now()),
        ],
      );
    }

    async find(id: string) {
      if (this.name === 'Client') {
        const r = await findClient(id);
        return r ? clientMetadata(r) : undefined;
      }
      return this.#one(`id = $2`, id);
    }

    async findByUid(uid: string) {
      return this.#one(`uid = $2`, uid);
    }
    async findByUserCode(code: string) {
      return this.#one(`user_code = $2`, code);
    }

    async #one(where: string, value: string) {
      const [r] = await db.query<{ payload: AdapterPayload; consumed_at: Date | null }>(
        `SELECT payload, consumed_at FROM oidc_payload WHERE model = $1 AND ${where}
        AND (expires_at IS NULL OR expires_at > $3::timestamptz)`,
        [this.name, value, iso(now())],
      );
      if (!r) return undefined;
      return r.consumed_at ? { ...r.payload, consumed: Math.floor(new Date(r.consumed_at).getTime() / 1000) } : r.payload;
    }

    /**
     * Mark a code or token used, in one conditional statement: of concurrent redemptions exactly
     * one finds it unconsumed; the others get AlreadyConsumed (the provider checked `consumed` in
     * an earlier read, which every concurrent request passed).
     */
    async consume(id: string) {
      const won = await db.query(
        `UPDATE oidc_payload SET consumed_at = $3::timestamptz WHERE model = $1 AND id = $2 AND consumed_at IS NULL RETURNING 1`,
        [this.name, id, iso(now())],
      );
      if (!won.length) throw new AlreadyConsumed(this.name);
    }

    /**
     * Record a one-time value (a replay record) unless an unexpired one exists, in one statement:
     * true for the one caller that recorded it, false for every other, concurrent or later.
     */
    async insertOnce(id: string, payload: Record<string, unknown>, expiresAt: Date): Promise<boolean> {
      const rows = await db.query(
        `INSERT INTO oidc_payload (model, id, payload, expires_at, created_at) VALUES ($1, $2, $3::jsonb, $4::timestamptz, $5::timestamptz)
         ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, expires_at = excluded.expires_at, created_at = excluded.created_at, consumed_at = NULL
           WHERE oidc_payload.expires_at IS NOT NULL AND oidc_payload.expires_at <= $5::timestamptz
         RETURNING 1`,
        [this.name, id, payload, iso(expiresAt), iso(now())],
      );
      return rows.length === 1;
    }

    async destroy(id: string) {
      await db.query(`DELETE FROM oidc_payload WHERE model = $1 AND id = $2`, [this.name, id]);
    }

    async revokeByGrantId(grantId: string) {
      await db.query(`DELETE FROM oidc_payload WHERE grant_id = $1`, [grantId]);
    }
  };
}

/** Delete expired provider rows (sessions, codes, tokens, replay records). Returns how many. */
export async function sweepOidc(db: SqlPort, at: Date): Promise<number> {
  const rows = await db.query(`DELETE FROM oidc_payload WHERE expires_at <= $1::timestamptz RETURNING 1`, [at.toISOString()]);
  return rows.length;
}

/**
 * Keep at most `max` sessions per account: the oldest beyond the limit are ended (their grants
 * stay; the person signs in again there). Called after each successful sign-in.
 */
export async function limitSessions(db: SqlPort, accountId: string, max: number): Promise<number> {
  const rows = await db.query(
    `DELETE FROM oidc_payload WHERE model = 'Session' AND account_id = $1 AND id IN (
       SELECT id FROM oidc_payload WHERE model = 'Session' AND account_id = $1 ORDER BY created_at DESC, id OFFSET $2)
     RETURNING 1`,
    [accountId, max],
  );
  return rows.length;
}

/** End the provider's grants, sessions, codes and tokens of these accounts (people deactivated). */
export async function endAccountSessions(db: SqlPort, accountIds: string[]): Promise<void> {
  if (!accountIds.length) return;
  const grants = await db.query<{ id: string }>(`SELECT id FROM oidc_payload WHERE model = 'Grant' AND account_id = ANY($1::text[])`, [
    accountIds,
  ]);
  await db.query(`DELETE FROM oidc_payload WHERE account_id = ANY($1::text[]) OR grant_id = ANY($2::text[])`, [
    accountIds,
    grants.map((g) => g.id),
  ]);
}

/** Forget everything the provider holds for these clients (revoked): their grants, codes and tokens. */
export async function forgetClients(db: SqlPort, clientIds: string[]): Promise<void> {
  if (!clientIds.length) return;
  await db.query(`DELETE FROM oidc_payload WHERE payload->>'clientId' = ANY($1::text[])`, [clientIds]);
}
