import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limitSessions, sweepOidc } from '../identity/node';
import { rotateSigningKeys } from '../identity/index';
import { createClient, warnExpiringCredentials } from '../src/identity/clients';
import type { Principal } from '../src/access/principal';
import { DEMO, testHub, type TestHub } from './harness';

let hub: TestHub;
beforeAll(async () => {
  hub = await testHub();
});
afterAll(async () => {
  await hub?.close();
});

const PATH = '/api/v1/assets?identifier=mpan:1312345678907';
const get = (token: string) => hub.call('GET', PATH, { headers: { authorization: `Bearer ${token}` } });

describe('signing keys in the database', () => {
  it('rotation: new tokens use the new key, old tokens verify until the old key expires', async () => {
    const before = hub.keys.current('ES256').kid;
    const old = await hub.signer.sign({ sub: 'rot', org: DEMO['fsp-a'], roles: ['FSP'], ttlSec: 3 * 86_400 });
    const r = await rotateSigningKeys(hub.db, hub.clock.now(), () => hub.ports.ids.next(), 3600);
    expect(r.retired).toContain(before);
    expect(r.created).toHaveLength(2);
    expect(await hub.keys.refresh()).toBe(true);
    expect(hub.keys.current('ES256').kid).not.toBe(before);
    expect(hub.keys.publicJwks().keys.map((k) => k.kid)).toContain(before);
    const fresh = await hub.signer.sign({ sub: 'rot', org: DEMO['fsp-a'], roles: ['FSP'] });
    expect((await get(fresh)).status).toBe(200);
    expect((await get(old)).status).toBe(200);
    hub.clock.advance(2 * 3600_000);
    expect(await hub.keys.refresh()).toBe(true);
    expect(hub.keys.publicJwks().keys.map((k) => k.kid)).not.toContain(before);
    const refused = await get(old);
    expect(refused.status).toBe(401);
    expect(refused.json.code).toBe('AUTH-TOKEN-INVALID');
  });
});

describe('API clients', () => {
  it('validates the credential and the scopes', async () => {
    const noKeys = await hub.call('POST', '/api/v1/clients', { as: 'fsp-a', body: { name: 'x', authMethod: 'private_key_jwt' } });
    expect(noKeys.status).toBe(422);
    expect(noKeys.json.errors[0]).toMatchObject({ field: 'jwks', code: 'CLIENT-JWKS-ONE-OF' });
    const privateKey = await hub.call('POST', '/api/v1/clients', {
      as: 'fsp-a',
      body: {
        name: 'x',
        authMethod: 'private_key_jwt',
        jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'a', y: 'b', d: 'secret', kid: 'k' }] },
      },
    });
    expect(privateKey.json.errors[0].code).toBe('CLIENT-JWKS-INVALID');
    const publicMachine = await hub.call('POST', '/api/v1/clients', {
      as: 'fsp-a',
      body: { name: 'x', kind: 'machine', authMethod: 'none' },
    });
    expect(publicMachine.json.errors[0].code).toBe('CLIENT-AUTH-METHOD');
    const httpRedirect = await hub.call('POST', '/api/v1/clients', {
      as: 'fsp-a',
      body: { name: 'x', kind: 'web', authMethod: 'none', redirectUris: ['http://app.example/cb'] },
    });
    expect(httpRedirect.json.errors[0].code).toBe('CLIENT-REDIRECT-URI');
    const audit = await hub.call('POST', '/api/v1/clients', {
      as: 'fsp-a',
      body: { name: 'x', authMethod: 'client_secret_basic', scopes: ['audit:read'] },
    });
    expect(audit.status).toBe(422);
    expect(audit.json.errors[0].code).toBe('CLIENT-SCOPE-NOT-ALLOWED');
    const other = await hub.call('POST', '/api/v1/clients', {
      as: 'fsp-a',
      body: { name: 'x', authMethod: 'client_secret_basic', organisationId: DEMO['fsp-b'] },
    });
    expect(other.status).toBe(404);
    const [{ n }] = await hub.db.query(`SELECT count(*)::int AS n FROM api_client WHERE name = 'x'`);
    expect(n).toBe(0);
  });

  it('a JWKS URI: exactly one of jwks and jwksUri, https (http for loopback in development only)', async () => {
    const key = { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo', kid: 'k' };
    const post = (body: Record<string, unknown>) =>
      hub.call('POST', '/api/v1/clients', { as: 'fsp-a', body: { name: 'uri', authMethod: 'private_key_jwt', ...body } });
    const refused = async (body: Record<string, unknown>, field: string, code: string) => {
      const r = await post(body);
      expect(r.status, r.text).toBe(422);
      expect(r.json.errors).toEqual([expect.objectContaining({ field, code })]);
    };
    await refused({ jwks: { keys: [key] }, jwksUri: 'https://keys.example/jwks.json' }, 'jwksUri', 'CLIENT-JWKS-ONE-OF');
    await refused({ jwksUri: 'http://keys.example/jwks.json' }, 'jwksUri', 'CLIENT-JWKS-URI-INVALID');
    await refused({ jwksUri: 'not a url' }, 'jwksUri', 'CLIENT-JWKS-URI-INVALID');
    await refused({ jwksUri: 'https://user:pw@keys.example/jwks.json' }, 'jwksUri', 'CLIENT-JWKS-URI-INVALID');
    await refused({ jwksUri: 'ftp://keys.example/jwks.json' }, 'jwksUri', 'CLIENT-JWKS-URI-INVALID');
    const secret = await hub.call('POST', '/api/v1/clients', {
      as: 'fsp-a',
      body: { name: 'uri', authMethod: 'client_secret_basic', jwksUri: 'https://keys.example/jwks.json' },
    });
    expect(secret.json.errors).toEqual([expect.objectContaining({ field: 'jwksUri', code: 'CLIENT-AUTH-METHOD' })]);
    expect(await hub.db.query(`SELECT 1 FROM api_client WHERE name = 'uri'`)).toEqual([]);
    // Development: https anywhere, http on a loopback host.
    const ok = await post({ jwksUri: 'https://keys.example/jwks.json' });
    expect(ok.status, ok.text).toBe(201);
    expect(ok.json).toMatchObject({ jwks: null, jwksUri: 'https://keys.example/jwks.json' });
    const local = await post({ jwksUri: 'http://127.0.0.1:45999/jwks.json' });
    expect(local.status, local.text).toBe(201);
    // Production: https only, loopback included.
    const fspA: Principal = { subject: 'admin', organisationId: DEMO['fsp-a'], roles: ['FSP'], scopes: ['clients:write'], dnoCodes: [] };
    const inProduction = createClient(
      hub.ctx,
      fspA,
      { name: 'prod', kind: 'machine', authMethod: 'private_key_jwt', jwksUri: 'http://127.0.0.1:45999/jwks.json' },
      { production: true },
    );
    await expect(inProduction).rejects.toMatchObject({
      code: 'REQUEST-VALIDATION',
      errors: [expect.objectContaining({ field: 'jwksUri', code: 'CLIENT-JWKS-URI-INVALID' })],
    });
    // Rotation moves the keys to a URL (or back); the stored row holds exactly one of the two.
    const rotated = await hub.call('POST', `/api/v1/clients/${ok.json.clientId}/rotate`, { as: 'fsp-a', body: { jwks: { keys: [key] } } });
    expect(rotated.status, rotated.text).toBe(200);
    expect(rotated.json).toMatchObject({ jwksUri: null, jwks: { keys: [key] } });
    const [row] = await hub.db.query(`SELECT jwks_uri FROM api_client WHERE client_id = $1`, [ok.json.clientId]);
    expect(row.jwks_uri).toBeNull();
  });

  it('an organisation sees only its own clients; the operator sees all', async () => {
    const a = await hub.call('POST', '/api/v1/clients', { as: 'fsp-a', body: { name: 'alpha only', authMethod: 'client_secret_basic' } });
    expect(a.status).toBe(201);
    expect((await hub.call('GET', `/api/v1/clients/${a.json.clientId}`, { as: 'fsp-b' })).status).toBe(404);
    expect((await hub.call('DELETE', `/api/v1/clients/${a.json.clientId}`, { as: 'fsp-b' })).status).toBe(404);
    const listB = await hub.call('GET', '/api/v1/clients', { as: 'fsp-b' });
    expect(listB.json.items.map((c: { clientId: string; organisationId: string }) => [c.clientId, c.organisationId])).toEqual([
      [`dev-${DEMO['fsp-b']}`, DEMO['fsp-b']],
    ]);
    const listOp = await hub.call('GET', `/api/v1/clients?organisationId=${DEMO['fsp-a']}`, { as: 'operator' });
    expect(listOp.json.items.map((c: { clientId: string }) => c.clientId)).toContain(a.json.clientId);
  });

  it('raises one credential-expiring event 14 days ahead', async () => {
    const soon = new Date(hub.clock.now().getTime() + 10 * 86_400_000).toISOString();
    const later = new Date(hub.clock.now().getTime() + 60 * 86_400_000).toISOString();
    const c1 = await hub.call('POST', '/api/v1/clients', {
      as: 'fsp-a',
      body: { name: 'expiring', authMethod: 'client_secret_basic', credentialExpiresAt: soon },
    });
    const c2 = await hub.call('POST', '/api/v1/clients', {
      as: 'fsp-a',
      body: { name: 'not yet', authMethod: 'client_secret_basic', credentialExpiresAt: later },
    });
    const warned = await warnExpiringCredentials(hub.ctx, hub.system);
    expect(warned).toContain(c1.json.clientId);
    expect(warned).not.toContain(c2.json.clientId);
    expect(await warnExpiringCredentials(hub.ctx, hub.system)).not.toContain(c1.json.clientId);
    const [ev] = await hub.db.query<{ organisation_id: string; data: any }>(
      `SELECT organisation_id, data FROM event_outbox WHERE type = 'fmar.client.credential-expiring' AND subject = $1`,
      [c1.json.clientId],
    );
    expect(ev.organisation_id).toBe(DEMO['fsp-a']);
    expect(ev.data.expiresAt).toBe(soon.replace(/\.\d+Z$/, '.000Z').replace(/Z$/, 'Z'));
  });
});

describe('people', () => {
  it('only the operator or the organisation itself manages its people', async () => {
    const other = await hub.call('POST', `/api/v1/organisations/${DEMO['fsp-b']}/users`, {
      as: 'fsp-a',
      body: { email: 'x@b.example', name: 'X' },
    });
    expect(other.status).toBe(404);
    const own = await hub.call('POST', `/api/v1/organisations/${DEMO['fsp-b']}/users`, {
      as: 'fsp-b',
      body: { email: 'ops@beta.example', name: 'Ops' },
    });
    expect(own.status, own.text).toBe(201);
    const dup = await hub.call('POST', `/api/v1/organisations/${DEMO['fsp-b']}/users`, {
      as: 'operator',
      body: { email: 'OPS@beta.example', name: 'Ops again' },
    });
    expect(dup.status).toBe(409);
    expect(dup.json.code).toBe('USER-EMAIL-TAKEN');
    expect(JSON.stringify((await hub.call('GET', `/api/v1/organisations/${DEMO['fsp-b']}/users`, { as: 'fsp-b' })).json)).not.toContain(
      'invitation',
    );
  });

  it('keeps at most the configured number of sessions per person, newest first', async () => {
    for (let i = 0; i < 4; i++) {
      await hub.db.query(
        `INSERT INTO oidc_payload (model, id, payload, account_id, expires_at, created_at) VALUES ('Session', $1, '{}'::jsonb, 'person-1', now() + interval '1 day', $2::timestamptz)`,
        [`s${i}`, new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString()],
      );
    }
    expect(await limitSessions(hub.db, 'person-1', 2)).toBe(2);
    const left = await hub.db.query(`SELECT id FROM oidc_payload WHERE model = 'Session' AND account_id = 'person-1' ORDER BY id`);
    expect(left.map((r) => r.id)).toEqual(['s2', 's3']);
    await hub.db.query(`UPDATE oidc_payload SET expires_at = '2000-01-01' WHERE id = 's2'`);
    expect(await sweepOidc(hub.db, new Date())).toBe(1); // s2, expired
  });
});
