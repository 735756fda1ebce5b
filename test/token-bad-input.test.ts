import { SignJWT, base64url, exportJWK, generateKeyPair, importJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO, testHub, type TestHub } from './harness';

/**
 * Forged and mismatched access tokens (issue: identity, "Bad input"): each gets a 401/403 problem
 * with its rule code, and nothing else.
 */
let hub: TestHub;
beforeAll(async () => {
  hub = await testHub();
});
afterAll(async () => {
  await hub?.close();
});

const PATH = '/api/v1/assets?identifier=mpan:1312345678907';
const now = () => Math.floor(hub.clock.now().getTime() / 1000);

/** Claims of a valid FSP A token, before tampering. */
async function baseClaims(extra: Record<string, unknown> = {}) {
  await hub.signer.sign({ sub: 'x', org: DEMO['fsp-a'], roles: ['FSP'] }); // makes the dev client dev-<org> exist
  return {
    iss: hub.cfg.issuer,
    aud: hub.cfg.audience,
    sub: 'bad-input',
    org: DEMO['fsp-a'],
    scope: 'assets:read',
    client_id: `dev-${DEMO['fsp-a']}`,
    iat: now(),
    exp: now() + 300,
    jti: `j-${Math.random()}`,
    ...extra,
  };
}

async function signWithHub(claims: Record<string, unknown>, header: Record<string, unknown> = {}) {
  const { kid, jwk } = hub.keys.current('ES256');
  return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt', ...header }).sign(await importJWK(jwk, 'ES256'));
}

async function expectRefused(token: string, status: number, code: string, scheme = 'Bearer') {
  const r = await hub.call('GET', PATH, { headers: { authorization: `${scheme} ${token}` } });
  expect(r.status, r.text).toBe(status);
  expect(r.json.code).toBe(code);
  expect(r.json.items).toBeUndefined();
  return r;
}

describe('forged access tokens', () => {
  it('the untampered control token works (so the refusals below are about the tampering)', async () => {
    const r = await hub.call('GET', PATH, { headers: { authorization: `Bearer ${await signWithHub(await baseClaims())}` } });
    expect(r.status).toBe(200);
    expect(r.json.items).toHaveLength(1);
  });

  it('alg none', async () => {
    const h = base64url.encode(JSON.stringify({ alg: 'none', typ: 'at+jwt' }));
    const p = base64url.encode(JSON.stringify(await baseClaims()));
    await expectRefused(`${h}.${p}.`, 401, 'AUTH-TOKEN-INVALID');
  });

  it('HS256 signed with the public key as the secret', async () => {
    const { kid } = hub.keys.current('ES256');
    const pub = hub.keys.publicJwks().keys.find((k) => k.kid === kid)!;
    for (const secret of [JSON.stringify(pub), String(pub.x)]) {
      const t = await new SignJWT(await baseClaims())
        .setProtectedHeader({ alg: 'HS256', kid, typ: 'at+jwt' })
        .sign(new TextEncoder().encode(secret));
      await expectRefused(t, 401, 'AUTH-TOKEN-INVALID');
    }
  });

  it('wrong iss, aud or typ', async () => {
    await expectRefused(await signWithHub(await baseClaims({ iss: 'https://evil.example' })), 401, 'AUTH-TOKEN-INVALID');
    await expectRefused(await signWithHub(await baseClaims({ aud: 'https://other-api.example' })), 401, 'AUTH-TOKEN-INVALID');
    await expectRefused(await signWithHub(await baseClaims(), { typ: 'JWT' }), 401, 'AUTH-TOKEN-INVALID');
  });

  it('expired or not yet valid (beyond the 30 s tolerance)', async () => {
    await expectRefused(await signWithHub(await baseClaims({ iat: now() - 600, exp: now() - 60 })), 401, 'AUTH-TOKEN-INVALID');
    await expectRefused(await signWithHub(await baseClaims({ nbf: now() + 120 })), 401, 'AUTH-TOKEN-INVALID');
  });

  it('an unknown kid, and keys offered by the token itself (jku, jwk) are never used', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const claims = await baseClaims();
    const unknown = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'attacker-key', typ: 'at+jwt' }).sign(privateKey);
    await expectRefused(unknown, 401, 'AUTH-TOKEN-INVALID');
    const { kid } = hub.keys.current('ES256');
    const sameKid = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt', jku: 'https://evil.example/jwks', jwk: await exportJWK(publicKey) })
      .sign(privateKey);
    await expectRefused(sameKid, 401, 'AUTH-TOKEN-INVALID');
  });

  it('an oversized token', async () => {
    const t = await signWithHub(await baseClaims({ pad: 'x'.repeat(9000) }));
    await expectRefused(t, 401, 'AUTH-TOKEN-INVALID');
  });

  it('a token of an unknown or revoked client', async () => {
    await expectRefused(await signWithHub(await baseClaims({ client_id: 'no-such-client' })), 401, 'AUTH-CLIENT-REVOKED');
    const created = await hub.call('POST', '/api/v1/clients', {
      as: 'fsp-a',
      body: { name: 'soon revoked', authMethod: 'client_secret_basic' },
    });
    expect(created.status, created.text).toBe(201);
    const token = await signWithHub(await baseClaims({ client_id: created.json.clientId }));
    expect((await hub.call('GET', PATH, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    expect((await hub.call('DELETE', `/api/v1/clients/${created.json.clientId}`, { as: 'fsp-a' })).status).toBe(200);
    await expectRefused(token, 401, 'AUTH-CLIENT-REVOKED');
  });

  it('a client of one organisation cannot carry another organisation’s org claim', async () => {
    const created = await hub.call('POST', '/api/v1/clients', {
      as: 'fsp-b',
      body: { name: 'fsp-b client', authMethod: 'client_secret_basic' },
    });
    await expectRefused(await signWithHub(await baseClaims({ client_id: created.json.clientId })), 401, 'AUTH-CLIENT-REVOKED');
  });

  it('a token of a revoked delegation, and an actor without a delegation', async () => {
    const d = await hub.call('POST', '/api/v1/delegations', {
      as: 'fsp-a',
      body: { delegateId: DEMO.installer, scopes: ['assets:read'], validTo: new Date(hub.clock.now().getTime() + 3_600_000).toISOString() },
    });
    expect(d.status, d.text).toBe(201);
    await hub.signer.sign({ sub: 'x', org: DEMO.installer, roles: ['INSTALLER'] });
    const delegated = await signWithHub(
      await baseClaims({
        sub: DEMO['fsp-a'],
        client_id: `dev-${DEMO.installer}`,
        act: { sub: `dev-${DEMO.installer}`, org: DEMO.installer },
        delegation_id: d.json.id,
      }),
    );
    expect((await hub.call('GET', PATH, { headers: { authorization: `Bearer ${delegated}` } })).status).toBe(200);
    // The delegation names the installer: another delegate presenting it is refused.
    const wrongActor = await signWithHub(
      await baseClaims({
        sub: DEMO['fsp-a'],
        client_id: `dev-${DEMO['fsp-a']}`,
        act: { sub: 'someone', org: DEMO['fsp-b'] },
        delegation_id: d.json.id,
      }),
    );
    await expectRefused(wrongActor, 401, 'AUTH-CLIENT-REVOKED');
    expect((await hub.call('POST', `/api/v1/delegations/${d.json.id}/revoke`, { as: 'fsp-a' })).status).toBe(200);
    await expectRefused(delegated, 401, 'AUTH-DELEGATION-INACTIVE');
    await expectRefused(await signWithHub(await baseClaims({ act: { sub: 'ghost' } })), 401, 'AUTH-TOKEN-INVALID');
  });

  it('a DPoP-bound token sent as a plain Bearer, or as DPoP without a proof', async () => {
    const t = await signWithHub(await baseClaims({ cnf: { jkt: 'n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg' } }));
    await expectRefused(t, 401, 'AUTH-DPOP-REQUIRED');
    await expectRefused(t, 401, 'AUTH-DPOP-INVALID', 'DPoP');
  });

  it('an FSP reading another FSP’s asset by ID gets 404, not a hint that it exists', async () => {
    const [a] = await hub.db.query(`SELECT id FROM asset WHERE friendly_code = 'ALPHA-BESS-1'`);
    const other = await hub.call('GET', `/api/v1/assets/${a.id}`, { as: 'fsp-b' });
    expect(other.status).toBe(404);
    const missing = await hub.call('GET', '/api/v1/assets/01JZZZZZZZZZZZZZZZZZZZZZZZ', { as: 'fsp-b' });
    expect(missing.status).toBe(404);
    expect(other.json.code).toBe(missing.json.code);
    expect(other.json.detail?.replace(a.id, '')).toBe(missing.json.detail?.replace('01JZZZZZZZZZZZZZZZZZZZZZZZ', ''));
  });
});
