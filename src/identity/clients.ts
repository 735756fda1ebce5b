import { z } from '@hono/zod-openapi';
import { TOKEN_EXCHANGE, forgetClients, hashClientSecret, randomSecret, type ClientRow as ProviderClient } from '../../identity/index';
import { PERMISSIONS, baselineScopes, reach } from '../access/permissions';
import { NEVER_DELEGATED } from './delegations';
import { recordedBy, type Principal } from '../access/principal';
// OpenADR 3.1's scopes for a client's roles (docs/openadr.md, "Scopes").
import { openadrScopes } from '../access/permissions';
import { writeAudit } from '../audit/audit';
import type { OrganisationRole } from '../access/roles';
import type { Ctx } from '../context';
import { writeEvents } from '../events/outbox';
import { Problem, fieldError, validationProblem } from '../http/problem';
import { changeVersioned } from '../kernel/versioned';
import type { Sql } from '../storage/db';
import { revocations } from './revocations';

/**
 * API clients (issue: identity, machine clients): an organisation registers, lists, rotates and
 * revokes the OAuth clients its platforms and apps use at the hub's token endpoint.
 */

export const CLIENT_KINDS = ['machine', 'web', 'native'] as const;
export const CLIENT_AUTH_METHODS = ['private_key_jwt', 'client_secret_basic', 'client_secret_post', 'none'] as const;

const Jwk = z.record(z.string(), z.unknown());
export const ClientInput = z
  .object({
    name: z.string().min(1).max(120),
    kind: z.enum(CLIENT_KINDS).default('machine'),
    authMethod: z.enum(CLIENT_AUTH_METHODS, 'CLIENT-AUTH-METHOD').default('private_key_jwt'),
    jwks: z
      .object({ keys: z.array(Jwk) })
      .optional()
      .openapi({ description: 'Public keys for private_key_jwt (RFC 7523 client assertions). Exactly one of jwks and jwksUri.' }),
    jwksUri: z.string().max(2000).optional().openapi({
      description:
        'Where the client publishes its public keys for private_key_jwt (a JWKS): https (http only for a loopback host, in development). Exactly one of jwks and jwksUri. The provider fetches it when it needs the keys and keeps them 60 s to 5 min (docs/identity.md, "Keys at a URL").',
    }),
    redirectUris: z.array(z.string().max(2000)).max(10).optional(),
    scopes: z
      .array(z.string().max(64))
      .max(40)
      .optional()
      .openapi({ description: 'Default: every baseline scope of the organisation’s roles.' }),
    credentialExpiresAt: z.iso
      .datetime({ offset: true })
      .optional()
      .openapi({ description: 'When the secret or keys must be rotated; default 90 days for secrets. An event is raised 14 days before.' }),
    organisationId: z.string().max(64).optional().openapi({ description: 'Operator only: register for another organisation.' }),
  })
  .strict()
  .openapi('ApiClientInput');

export const ApiClient = z
  .object({
    clientId: z.string(),
    organisationId: z.string(),
    name: z.string(),
    kind: z.enum(CLIENT_KINDS),
    authMethod: z.enum(CLIENT_AUTH_METHODS),
    jwks: z.object({ keys: z.array(Jwk) }).nullable(),
    jwksUri: z.string().nullable(),
    scopes: z.array(z.string()),
    grantTypes: z.array(z.string()),
    redirectUris: z.array(z.string()),
    status: z.enum(['ACTIVE', 'REVOKED']),
    credentialExpiresAt: z.string().nullable(),
    demo: z.boolean(),
    version: z.number().int(),
    recordedAt: z.string(),
    recordedBy: z.string(),
    revokedAt: z.string().nullable(),
    clientSecret: z.string().optional().openapi({ description: 'Shown once, at creation and rotation; the hub keeps only its hash.' }),
    tokenEndpoint: z.string().optional(),
  })
  .openapi('ApiClient');
export type ApiClient = z.infer<typeof ApiClient>;

const SECRET_LIFETIME_DAYS = 90;
export const EXPIRY_WARNING_DAYS = 14;

/** A row of api_client (003_identity.sql). */
interface ClientRow {
  client_id: string;
  organisation_id: string;
  name: string;
  kind: ApiClient['kind'];
  auth_method: ApiClient['authMethod'];
  jwks: { keys: Record<string, unknown>[] } | null;
  jwks_uri: string | null;
  secret_hash: string | null;
  credential_expires_at: Date | null;
  expiry_notified_at: Date | null;
  scopes: string[];
  grant_types: string[];
  redirect_uris: string[];
  status: ApiClient['status'];
  demo: boolean;
  version: number;
  recorded_at: Date;
  recorded_by: string;
  revoked_at: Date | null;
}

function toClient(r: ClientRow): ApiClient {
  const iso = (v: unknown) => (v ? new Date(v as string).toISOString() : null);
  return {
    clientId: r.client_id,
    organisationId: r.organisation_id,
    name: r.name,
    kind: r.kind,
    authMethod: r.auth_method,
    jwks: r.jwks ?? null,
    jwksUri: r.jwks_uri ?? null,
    scopes: r.scopes,
    grantTypes: r.grant_types,
    redirectUris: r.redirect_uris,
    status: r.status,
    credentialExpiresAt: iso(r.credential_expires_at),
    demo: r.demo,
    version: r.version,
    recordedAt: iso(r.recorded_at)!,
    recordedBy: r.recorded_by,
    revokedAt: iso(r.revoked_at),
  };
}

const ALLOWED_KEY = (k: Record<string, unknown>) =>
  typeof k.kid === 'string' &&
  k.kid.length > 0 &&
  k.kid.length <= 128 &&
  !['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'].some((m) => m in k) &&
  ((k.kty === 'EC' && k.crv === 'P-256' && typeof k.x === 'string' && typeof k.y === 'string') ||
    (k.kty === 'OKP' && k.crv === 'Ed25519' && typeof k.x === 'string') ||
    (k.kty === 'RSA' && typeof k.n === 'string' && typeof k.e === 'string' && (k.n as string).length >= 342)) &&
  (k.use === undefined || k.use === 'sig');

type Keys = { jwks?: { keys: Record<string, unknown>[] }; jwksUri?: string };

const LOOPBACK = ['localhost', '127.0.0.1', '[::1]'];

/**
 * A private_key_jwt client's keys: exactly one of a JWKS and a JWKS URI (CLIENT-JWKS-ONE-OF). The
 * URI is https; http only for a loopback host and only in development (CLIENT-JWKS-URI-INVALID). Its
 * keys are not fetched here: the provider fetches them when a client assertion needs them.
 */
function checkKeys(input: Keys, production: boolean) {
  if ((input.jwks === undefined) === (input.jwksUri === undefined))
    throw validationProblem([fieldError(input.jwks ? 'jwksUri' : 'jwks', 'CLIENT-JWKS-ONE-OF')]);
  if (input.jwks) {
    const { keys } = input.jwks;
    if (keys.length < 1 || keys.length > 5 || !keys.every(ALLOWED_KEY))
      throw validationProblem([fieldError('jwks', 'CLIENT-JWKS-INVALID')]);
    return;
  }
  const bad = (why: string) => validationProblem([fieldError('jwksUri', 'CLIENT-JWKS-URI-INVALID', why)]);
  let url: URL;
  try {
    url = new URL(input.jwksUri!);
  } catch {
    throw bad(`${input.jwksUri} is not a URL.`);
  }
  if (url.username || url.password || url.hash) throw bad('A JWKS URI has no user, password or fragment.');
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && LOOPBACK.includes(url.hostname) && !production) return;
  throw bad(
    production ? 'A JWKS URI must be https.' : 'A JWKS URI must be https; http only for localhost, 127.0.0.1 or [::1] in development.',
  );
}

function noKeys(input: Keys) {
  if (input.jwks) throw validationProblem([fieldError('jwks', 'CLIENT-AUTH-METHOD', 'A JWKS is only for private_key_jwt.')]);
  if (input.jwksUri) throw validationProblem([fieldError('jwksUri', 'CLIENT-AUTH-METHOD', 'A JWKS URI is only for private_key_jwt.')]);
}

function checkRedirects(kind: string, uris: string[] | undefined) {
  if (kind === 'machine') {
    if (uris?.length)
      throw validationProblem([fieldError('redirectUris', 'CLIENT-REDIRECT-URI', 'Machine clients have no redirect URIs.')]);
    return;
  }
  if (!uris?.length) throw validationProblem([fieldError('redirectUris', 'CLIENT-REDIRECT-URI')]);
  for (const u of uris) {
    let url: URL;
    try {
      url = new URL(u);
    } catch {
      throw validationProblem([fieldError('redirectUris', 'CLIENT-REDIRECT-URI', `${u} is not a URL.`)]);
    }
    const local = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
    if (url.hash || !(url.protocol === 'https:' || (url.protocol === 'http:' && local)))
      throw validationProblem([
        fieldError('redirectUris', 'CLIENT-REDIRECT-URI', `${u} must be https (http only for localhost) without a fragment.`),
      ]);
  }
}

/**
 * What a client of an organisation may be registered for: its roles' baseline, plus every scope
 * that can be delegated, which it can only use when acting for another organisation under a
 * delegation (its own tokens are cut to the baseline at the token endpoint, and the API checks
 * roles as well), plus the OpenADR 3.1 scopes of its roles (docs/openadr.md, "Scopes").
 */
export function clientScopesFor(roles: readonly OrganisationRole[]): string[] {
  // A household's scopes are no client's (docs/consumers.md): only the household sign-in issues them.
  const delegable = [
    ...new Set((Object.values(PERMISSIONS) as { scope: string; consumer?: true }[]).filter((p) => !p.consumer).map((p) => p.scope)),
  ].filter((s) => !NEVER_DELEGATED.has(s));
  return [...new Set([...baselineScopes(roles), ...delegable, ...openadrScopes(roles)])].sort();
}

async function organisationRoles(tx: Sql, id: string): Promise<OrganisationRole[]> {
  const [o] = await tx.query<{ roles: OrganisationRole[] }>(
    `SELECT to_jsonb(roles) AS roles FROM organisation WHERE id = $1 AND status = 'ACTIVE'`,
    [id],
  );
  if (!o) throw new Problem('ORG-NOT-FOUND', `No active organisation ${id}.`);
  return o.roles;
}

/** Register an API client; a secret client gets its secret back once. */
export async function createClient(
  ctx: Ctx,
  p: Principal,
  input: z.infer<typeof ClientInput>,
  opts: { clientId?: string; secret?: string; demo?: boolean; production?: boolean } = {},
): Promise<ApiClient> {
  const orgId = input.organisationId && reach('clients.write', p.roles).all ? input.organisationId : p.organisationId;
  if (input.organisationId && input.organisationId !== p.organisationId && !reach('clients.write', p.roles).all)
    throw new Problem('ORG-NOT-FOUND', `No organisation ${input.organisationId}.`);
  if (opts.demo && opts.production) throw new Problem('CLIENT-DEMO-REFUSED');
  const kind = input.kind ?? 'machine';
  const method = input.authMethod ?? 'private_key_jwt';
  if (kind === 'machine' && method === 'none') throw validationProblem([fieldError('authMethod', 'CLIENT-AUTH-METHOD')]);
  if (method === 'private_key_jwt') checkKeys(input, opts.production ?? false);
  else noKeys(input);
  checkRedirects(kind, input.redirectUris);
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const allowed = clientScopesFor(await organisationRoles(tx, orgId));
    const scopes = input.scopes ?? allowed;
    const extra = scopes.filter((s) => !allowed.includes(s));
    if (extra.length)
      throw validationProblem([
        fieldError('scopes', 'CLIENT-SCOPE-NOT-ALLOWED', `Not allowed for this organisation: ${extra.join(', ')}.`),
      ]);
    const people = kind !== 'machine';
    const apiScopes = [...new Set(scopes)].sort();
    const allScopes = people ? ['openid', 'offline_access', 'email', 'profile', ...apiScopes] : apiScopes;
    const secret = method.startsWith('client_secret') ? (opts.secret ?? randomSecret()) : undefined;
    const expires = input.credentialExpiresAt
      ? new Date(input.credentialExpiresAt)
      : secret && !opts.demo
        ? new Date(now.getTime() + SECRET_LIFETIME_DAYS * 86_400_000)
        : null;
    const clientId = opts.clientId ?? `fmar-${ctx.ids.next().toLowerCase()}`;
    const [row] = await tx.query<ClientRow>(
      `INSERT INTO api_client (client_id, organisation_id, name, kind, auth_method, jwks, secret_hash, credential_expires_at, scopes, grant_types, redirect_uris, status, demo, recorded_at, recorded_by, jwks_uri)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8::timestamptz, $9::text[], $10::text[], $11::text[], 'ACTIVE', $12, $13::timestamptz, $14, $15) RETURNING *`,
      [
        clientId,
        orgId,
        input.name,
        kind,
        method,
        input.jwks ?? null,
        secret ? await hashClientSecret(secret) : null,
        expires?.toISOString() ?? null,
        allScopes,
        people ? ['authorization_code', 'refresh_token'] : ['client_credentials', TOKEN_EXCHANGE],
        input.redirectUris ?? [],
        opts.demo ?? false,
        now.toISOString(),
        recordedBy(p),
        input.jwksUri ?? null,
      ],
    );
    await writeAudit(tx, p, now, [
      {
        action: 'client.created',
        recordType: 'api_client',
        recordId: clientId,
        organisationId: orgId,
        detail: { name: input.name, kind, authMethod: method, scopes: allScopes, ...(input.jwksUri ? { jwksUri: input.jwksUri } : {}) },
      },
    ]);
    await writeEvents(tx, ctx.ids, now, [
      {
        type: 'fmar.client.created',
        subject: clientId,
        organisationId: orgId,
        data: { clientId, organisationId: orgId, kind, authMethod: method },
      },
    ]);
    return { ...toClient(row), ...(secret ? { clientSecret: secret } : {}) };
  });
}

function visible(p: Principal, params: unknown[]): string {
  // The hub's own console client (no organisation, migration 031) is the hub's, not managed through this API.
  if (reach('clients.read', p.roles).all) return 'organisation_id IS NOT NULL';
  params.push(p.organisationId);
  return `organisation_id = $${params.length}`;
}

export async function listClients(ctx: Ctx, p: Principal, organisationId?: string): Promise<ApiClient[]> {
  const params: unknown[] = [];
  let where = visible(p, params);
  if (organisationId) {
    params.push(organisationId);
    where += ` AND organisation_id = $${params.length}`;
  }
  return (await ctx.db.query<ClientRow>(`SELECT * FROM api_client WHERE ${where} ORDER BY recorded_at, client_id LIMIT 500`, params)).map(
    toClient,
  );
}

async function clientRow(tx: Sql, p: Principal, id: string, lock = false) {
  const params: unknown[] = [id];
  const [row] = await tx.query<ClientRow>(
    `SELECT * FROM api_client WHERE client_id = $1 AND ${visible(p, params)}${lock ? ' FOR UPDATE' : ''}`,
    params,
  );
  if (!row) throw new Problem('CLIENT-NOT-FOUND', `No API client ${id}.`);
  return row;
}

/** An API client as a versioned record (src/kernel/versioned.ts): no history is kept, the audit trail has each change. */
function clientRecord(p: Principal, id: string) {
  return {
    table: 'api_client',
    key: { client_id: id },
    label: `Client ${id}`,
    returning: '*',
    toRecord: (r: ClientRow) => r,
    lock: (t: Sql) => clientRow(t, p, id, true),
    notFound: () => new Problem('CLIENT-NOT-FOUND', `No API client ${id}.`),
  };
}

export async function getClient(ctx: Ctx, p: Principal, id: string): Promise<ApiClient> {
  return toClient(await clientRow(ctx.db, p, id));
}

/** Rotate: a new secret (returned once) or a new JWKS; the old credential stops working at once. */
export async function rotateClient(
  ctx: Ctx,
  p: Principal,
  id: string,
  input: Keys & { credentialExpiresAt?: string },
  opts: { production?: boolean } = {},
): Promise<ApiClient> {
  const now = ctx.clock.now();
  const out = await ctx.db.transaction(async (tx) => {
    let secret: string | undefined;
    const { after } = await changeVersioned(tx, ctx, p, now, {
      ...clientRecord(p, id),
      guard: (row) => {
        if (row.status !== 'ACTIVE') throw new Problem('CLIENT-REVOKED');
      },
      set: async (row) => {
        let jwks = row.jwks;
        let jwksUri = row.jwks_uri;
        if (row.auth_method === 'private_key_jwt') {
          checkKeys(input, opts.production ?? false);
          jwks = input.jwks ?? null;
          jwksUri = input.jwksUri ?? null;
        } else {
          noKeys(input);
          if (row.auth_method !== 'none') secret = randomSecret();
        }
        const expires = input.credentialExpiresAt
          ? new Date(input.credentialExpiresAt)
          : secret
            ? new Date(now.getTime() + SECRET_LIFETIME_DAYS * 86_400_000)
            : null;
        return {
          sql: `jwks = $1::jsonb, secret_hash = COALESCE($2, secret_hash), credential_expires_at = $3::timestamptz, expiry_notified_at = NULL, jwks_uri = $4`,
          params: [jwks, secret ? await hashClientSecret(secret) : null, expires?.toISOString() ?? null, jwksUri],
        };
      },
      audit: (row) => [
        {
          action: 'client.rotated',
          recordType: 'api_client',
          recordId: id,
          organisationId: row.organisation_id,
          detail: { authMethod: row.auth_method },
        },
      ],
      events: (row) => [{ type: 'fmar.client.rotated', subject: id, organisationId: row.organisation_id, data: { clientId: id } }],
    });
    return { ...toClient(after), ...(secret ? { clientSecret: secret } : {}) };
  });
  revocations.emit();
  return out;
}

/** Revoke: the client can no longer obtain tokens, and the API refuses the tokens it holds. */
export async function revokeClient(ctx: Ctx, p: Principal, id: string): Promise<ApiClient> {
  const now = ctx.clock.now();
  const out = await ctx.db.transaction(async (tx) => {
    const { after } = await changeVersioned(tx, ctx, p, now, {
      ...clientRecord(p, id),
      guard: (row) => {
        if (row.status === 'REVOKED') throw new Problem('CLIENT-REVOKED');
      },
      set: () => ({ sql: `status = 'REVOKED', revoked_at = $1::timestamptz`, params: [now.toISOString()] }),
      afterWrite: async () => {
        await forgetClients(tx, [id]);
      },
      audit: (row) => [{ action: 'client.revoked', recordType: 'api_client', recordId: id, organisationId: row.organisation_id }],
      events: (row) => [{ type: 'fmar.client.revoked', subject: id, organisationId: row.organisation_id, data: { clientId: id } }],
    });
    return toClient(after);
  });
  revocations.emit();
  return out;
}

/**
 * Raise `fmar.client.credential-expiring` once for every active client whose secret or keys expire
 * within EXPIRY_WARNING_DAYS (the Node entry runs this hourly). Returns the client IDs warned.
 */
export async function warnExpiringCredentials(ctx: Ctx, p: Principal): Promise<string[]> {
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const rows = await tx.query<{ client_id: string; organisation_id: string; credential_expires_at: Date }>(
      `UPDATE api_client SET expiry_notified_at = $1::timestamptz
        WHERE status = 'ACTIVE' AND expiry_notified_at IS NULL AND credential_expires_at IS NOT NULL AND credential_expires_at <= $2::timestamptz
        RETURNING client_id, organisation_id, credential_expires_at`,
      [now.toISOString(), new Date(now.getTime() + EXPIRY_WARNING_DAYS * 86_400_000).toISOString()],
    );
    await writeEvents(
      tx,
      ctx.ids,
      now,
      rows.map((r) => ({
        type: 'fmar.client.credential-expiring',
        subject: r.client_id,
        organisationId: r.organisation_id,
        data: { clientId: r.client_id, expiresAt: new Date(r.credential_expires_at).toISOString() },
      })),
    );
    if (rows.length)
      await writeAudit(
        tx,
        p,
        now,
        rows.map((r) => ({
          action: 'client.credential-expiring',
          recordType: 'api_client',
          recordId: r.client_id,
          organisationId: r.organisation_id,
        })),
      );
    return rows.map((r) => r.client_id);
  });
}

/**
 * The development client an organisation's development tokens name (`dev-<org>`, src/access/dev-keys.ts):
 * no grant types, so it never obtains tokens at the token endpoint; made once, if the organisation exists.
 */
export async function ensureDevelopmentClient(
  db: Sql,
  now: Date,
  clientId: string,
  organisationId: string,
  scopes: string[],
): Promise<void> {
  await db.query(
    `INSERT INTO api_client (client_id, organisation_id, name, kind, auth_method, scopes, grant_types, status, demo, recorded_at, recorded_by)
     SELECT $1, $2, 'Development tokens', 'machine', 'none', $3::text[], '{}', 'ACTIVE', true, $4::timestamptz, 'system' WHERE EXISTS (SELECT 1 FROM organisation WHERE id = $2)
     ON CONFLICT (client_id) DO NOTHING`,
    [clientId, organisationId, scopes, now.toISOString()],
  );
}

/** The active client with this ID of an active organisation, as the OpenID provider reads it (IdentityHost.findClient). */
export async function activeClientRow(db: Sql, clientId: string): Promise<ProviderClient | undefined> {
  const [r] = await db.query<ClientRow>(
    `SELECT c.* FROM api_client c LEFT JOIN organisation o ON o.id = c.organisation_id
    WHERE c.client_id = $1 AND c.status = 'ACTIVE' AND (o.status = 'ACTIVE' OR c.organisation_id IS NULL)`,
    [clientId],
  );
  return r;
}

/** The console's client (migration 031): a public client for people of every organisation. */
export const CONSOLE_CLIENT_ID = 'fmar-console';

/**
 * Point the console's client at this hub: its redirect URI (and where sign-out returns) is
 * `<FMAR_BASE_URL>/console/`, its scopes every scope of the permission matrix but the households' (a person is granted
 * only what their organisation and user role allow). Run at each start of a hub with the provider;
 * the row changes only when the base URL or the matrix did. Configuration from the environment, not
 * anyone's change of a record: no version, audit or event.
 */
export async function ensureConsoleClient(db: Sql, baseUrl: string): Promise<void> {
  const redirectUris = [`${baseUrl.replace(/\/+$/, '')}/console/`];
  // A household's scopes are no client's (docs/consumers.md): the provider would refuse a client holding them.
  const api = [
    ...new Set((Object.values(PERMISSIONS) as { scope: string; consumer?: true }[]).filter((p) => !p.consumer).map((p) => p.scope)),
  ].sort();
  const scopes = ['openid', 'offline_access', 'email', 'profile', ...api];
  await db.query(
    `UPDATE api_client SET redirect_uris = $2::text[], scopes = $3::text[]
      WHERE client_id = $1 AND organisation_id IS NULL AND (redirect_uris <> $2::text[] OR scopes <> $3::text[])`,
    [CONSOLE_CLIENT_ID, redirectUris, scopes],
  );
}

/** An active client whose secret or keys expire soon or have expired (src/notices/). */
export interface ExpiringCredentialFacts {
  client_id: string;
  name: string;
  credential_expires_at: Date;
}

/** The organisation's active clients whose credential expires by `until`, soonest first. */
export async function credentialsExpiringBy(db: Sql, organisationId: string, until: string): Promise<ExpiringCredentialFacts[]> {
  return db.query<ExpiringCredentialFacts>(
    `SELECT client_id, name, credential_expires_at FROM api_client
      WHERE organisation_id = $1 AND status = 'ACTIVE' AND credential_expires_at IS NOT NULL AND credential_expires_at <= $2::timestamptz
      ORDER BY credential_expires_at, client_id`,
    [organisationId, until],
  );
}
