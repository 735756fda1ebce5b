import { importJWK, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { AlreadyConsumed, adapterFactory, type ClientRow } from '../identity/adapter';
import { endAccountSessions, ensureCookieKeys, forgetClients, loadKeyRing, signAccessToken, sqlReplayStore } from '../identity/index';
import { identityMigrations } from '../identity/migrations';
import { loadMigrations } from '../src/storage/load-migrations';
import { migrate } from '../src/storage/migrate';
import type { Db } from '../src/storage/db';
import { testDb } from './harness';

/** identity/ stands on its own: its tables come from its own migrations, clients from its host. */

const T0 = new Date('2026-06-01T09:00:00Z');
let n = 0;
const newId = () => `01JZ${String(++n).padStart(22, '0')}`;

const client: ClientRow = {
  client_id: 'c-1',
  organisation_id: 'org-1',
  name: 'Dispatch',
  kind: 'machine',
  auth_method: 'client_secret_basic',
  jwks: null,
  secret_hash: 'h',
  credential_expires_at: null,
  scopes: ['assets:read'],
  grant_types: ['client_credentials'],
  redirect_uris: [],
  status: 'ACTIVE',
};

async function shape(db: Db) {
  const columns = await db.query<{ t: string; c: string; ty: string; nul: string }>(
    `SELECT table_name AS t, column_name AS c, data_type AS ty, is_nullable AS nul FROM information_schema.columns
     WHERE table_schema = current_schema() AND table_name IN ('signing_key', 'oidc_payload', 'dpop_replay') ORDER BY 1, 2`,
  );
  const indexes = await db.query<{ i: string; d: string }>(
    `SELECT indexname AS i, indexdef AS d FROM pg_indexes WHERE schemaname = current_schema()
     AND tablename IN ('signing_key', 'oidc_payload', 'dpop_replay') ORDER BY 1`,
  );
  return { columns, indexes };
}

describe('the identity library on its own database', () => {
  it('creates its tables from its own migrations, and keys, provider storage and DPoP replay work on them alone', async () => {
    const { db, drop } = await testDb();
    try {
      expect(await migrate(db, identityMigrations(), () => T0)).toEqual(['identity/001_provider']);
      const tables = await db.query<{ t: string }>(
        `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1`,
      );
      expect(tables.map((r) => r.t)).toEqual(['dpop_replay', 'oidc_payload', 'schema_migration', 'signing_key']);

      const ring = await loadKeyRing(db, () => T0, { create: true, newId });
      const token = await signAccessToken(ring, { iss: 'https://id.example', aud: 'api', sub: 'c-1', ttlSec: 300, jti: 'j1' }, T0);
      const { kid, jwk } = ring.current('ES256');
      const verified = await jwtVerify(token, await importJWK(ring.publicJwks().keys.find((k) => k.kid === kid) ?? jwk, 'ES256'), {
        currentDate: T0,
      });
      expect(verified.payload.sub).toBe('c-1');
      const cookies = await ensureCookieKeys(db, T0, newId);
      expect(cookies).toHaveLength(1);
      expect(await ensureCookieKeys(db, T0, newId)).toEqual(cookies);

      const asked: string[] = [];
      const Adapter = adapterFactory(
        db,
        () => T0,
        async (id) => {
          asked.push(id);
          return id === 'c-1' ? client : undefined;
        },
      );
      const clients = new Adapter('Client');
      expect(await clients.find('c-1')).toMatchObject({
        client_id: 'c-1',
        token_endpoint_auth_method: 'client_secret_basic',
        scope: 'assets:read',
      });
      expect(await clients.find('c-2')).toBeUndefined();
      expect(asked).toEqual(['c-1', 'c-2']);

      const codes = new Adapter('AuthorizationCode');
      await codes.upsert('code-1', { accountId: 'u-1', clientId: 'c-1', grantId: 'g-1' }, 60);
      await codes.consume('code-1');
      await expect(codes.consume('code-1')).rejects.toBeInstanceOf(AlreadyConsumed);
      const sessions = new Adapter('Session');
      await sessions.upsert('s-1', { accountId: 'u-1' }, 60);
      await new Adapter('Grant').upsert('g-1', { accountId: 'u-1', clientId: 'c-1' }, 60);
      await new Adapter('AccessToken').upsert('t-2', { clientId: 'c-2', grantId: 'g-2' }, 60);
      await endAccountSessions(db, ['u-1']);
      expect(await db.query(`SELECT model, id FROM oidc_payload ORDER BY model, id`)).toEqual([{ model: 'AccessToken', id: 't-2' }]);
      await forgetClients(db, ['c-2']);
      expect(await db.query(`SELECT count(*)::int AS n FROM oidc_payload`)).toEqual([{ n: 0 }]);

      const replay = sqlReplayStore(db, () => T0);
      expect(await replay.seen('jti-1', T0.getTime() + 60_000)).toBe(false);
      expect(await replay.seen('jti-1', T0.getTime() + 60_000)).toBe(true);
    } finally {
      await db.close();
      await drop();
    }
  });

  it("on a hub database, whose released migrations made the same tables, the library's migration changes nothing", async () => {
    const { db, drop } = await testDb();
    try {
      const all = loadMigrations();
      const hubOnly = all.filter((m) => !m.version.startsWith('identity/'));
      expect(all.length - hubOnly.length).toBe(identityMigrations().length);
      await migrate(db, hubOnly, () => T0);
      const before = await shape(db);
      expect(before.columns.length).toBe(20);
      expect(await migrate(db, all, () => T0)).toEqual(['identity/001_provider']);
      expect(await shape(db)).toEqual(before);
    } finally {
      await db.close();
      await drop();
    }
  });
});
