import { SignJWT, base64url, generateKeyPair, importJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO, batteryInput, expectRefused, invalid, testHub, type TestHub } from './harness';

/**
 * Errors that say what to do: an unknown code echoes the value and names where the allowed ones are;
 * a refused token says which claim failed and what was expected; a reused Idempotency-Key says to
 * use a new key. Each asserts the exact status, rule code and detail (404s: test/pages.test.ts).
 */
let hub: TestHub;
beforeAll(async () => {
  hub = await testHub();
});
afterAll(async () => {
  await hub?.close();
});

describe('an unknown code names the value and the catalogue that lists the allowed ones', () => {
  it('POST /assets with category NUCLEAR: 422 ASSET-CATEGORY-UNKNOWN, nothing written', async () => {
    const problem = await expectRefused(
      hub.db,
      ['asset', 'audit_log', 'event_outbox'],
      () => hub.call('POST', '/api/v1/assets', { as: 'fsp-a', body: batteryInput(1, { category: 'NUCLEAR' }) }),
      422,
      invalid('category', 'ASSET-CATEGORY-UNKNOWN'),
    );
    expect(problem.errors).toEqual([
      {
        field: 'category',
        code: 'ASSET-CATEGORY-UNKNOWN',
        detail:
          '"NUCLEAR" is not a code of the asset-categories catalogue; the codes are listed at GET /api/v1/catalogues/asset-categories.',
      },
    ]);
  });

  it('every asset code field does the same, with its own catalogue', async () => {
    const r = await hub.call('POST', '/api/v1/assets', {
      as: 'fsp-a',
      body: batteryInput(2, { connectionType: 'SOMETIMES', dno: 'NOPE' }),
    });
    expect(r.status).toBe(422);
    expect(r.json.errors).toEqual([
      {
        field: 'connectionType',
        code: 'ASSET-CONNECTION-TYPE-UNKNOWN',
        detail:
          '"SOMETIMES" is not a code of the connection-types catalogue; the codes are listed at GET /api/v1/catalogues/connection-types.',
      },
      {
        field: 'dno',
        code: 'ASSET-DNO-UNKNOWN',
        detail: '"NOPE" is not a code of the dno-codes catalogue; the codes are listed at GET /api/v1/catalogues/dno-codes.',
      },
    ]);
  });

  it('a list filter on an unknown code: 400 REQUEST-QUERY-INVALID naming the value and catalogue', async () => {
    const r = await hub.call('GET', '/api/v1/assets?category=NUCLEAR', { as: 'fsp-a' });
    expect(r.status).toBe(400);
    expect(r.json.code).toBe('REQUEST-QUERY-INVALID');
    expect(r.json.detail).toBe(
      'query.category: "NUCLEAR" is not a code of the asset-categories catalogue; the codes are listed at GET /api/v1/catalogues/asset-categories.',
    );
    expect(r.json.errors.map((e: { field: string; code: string }) => `${e.field} ${e.code}`)).toEqual([
      'query.category REQUEST-CODE-UNKNOWN',
    ]);
  });

  it('an overlong value is cut in the detail', async () => {
    const r = await hub.call('POST', '/api/v1/assets', { as: 'fsp-a', body: batteryInput(3, { category: 'X'.repeat(300) }) });
    expect(r.status).toBe(422);
    expect(r.json.errors[0].detail).toBe(
      `"${'X'.repeat(64)}…" is not a code of the asset-categories catalogue; the codes are listed at GET /api/v1/catalogues/asset-categories.`,
    );
  });
});

describe('a refused access token says which check failed and what was expected', () => {
  const PATH = '/api/v1/assets?identifier=mpan:1312345678907';
  const now = () => Math.floor(hub.clock.now().getTime() / 1000);
  const at = (sec: number) => new Date(sec * 1000).toISOString();

  async function claims(extra: Record<string, unknown> = {}) {
    await hub.signer.sign({ sub: 'x', org: DEMO['fsp-a'], roles: ['FSP'] }); // makes the dev client dev-<org> exist
    return {
      iss: hub.cfg.issuer,
      aud: hub.cfg.audience,
      sub: 'errors',
      org: DEMO['fsp-a'],
      scope: 'assets:read',
      client_id: `dev-${DEMO['fsp-a']}`,
      iat: now(),
      exp: now() + 300,
      ...extra,
    };
  }
  async function signed(c: Record<string, unknown>, header: Record<string, unknown> = {}) {
    const { kid, jwk } = hub.keys.current('ES256');
    return new SignJWT(c).setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt', ...header }).sign(await importJWK(jwk, 'ES256'));
  }
  async function refusal(token: string): Promise<string> {
    const r = await hub.call('GET', PATH, { headers: { authorization: `Bearer ${token}` } });
    expect([r.status, r.json.code], r.text).toEqual([401, 'AUTH-TOKEN-INVALID']);
    return r.json.detail;
  }

  it('the control token is accepted', async () => {
    expect((await hub.call('GET', PATH, { headers: { authorization: `Bearer ${await signed(await claims())}` } })).status).toBe(200);
  });

  it('expired: when, against the hub’s time', async () => {
    const exp = now() - 60;
    expect(await refusal(await signed(await claims({ iat: now() - 600, exp })))).toBe(
      `The access token expired at ${at(exp)} (the hub’s time is ${hub.clock.now().toISOString()}, tolerance 30 s): get a new access token from the token endpoint.`,
    );
  });

  it('issuer: the token’s and the expected one', async () => {
    expect(await refusal(await signed(await claims({ iss: 'https://evil.example' })))).toBe(
      `The access token’s issuer "https://evil.example" is not "${hub.cfg.issuer}": get a new access token from the token endpoint of ${hub.cfg.issuer}.`,
    );
  });

  it('audience: the token’s and the expected one', async () => {
    expect(await refusal(await signed(await claims({ aud: 'https://other-api.example' })))).toBe(
      `The access token’s audience "https://other-api.example" is not "${hub.cfg.audience}": ask the token endpoint for a token for this API (resource=${hub.cfg.audience}).`,
    );
  });

  it('not yet valid', async () => {
    const nbf = now() + 120;
    expect(await refusal(await signed(await claims({ nbf })))).toBe(
      `The access token is not valid before ${at(nbf)} (the hub’s time is ${hub.clock.now().toISOString()}); check the issuer’s clock.`,
    );
  });

  it('typ: an ID token or plain JWT is not an access token', async () => {
    expect(await refusal(await signed(await claims(), { typ: 'JWT' }))).toBe(
      'The token’s typ header is "JWT", not "at+jwt": send an access token (RFC 9068), not an ID token or another JWT.',
    );
  });

  it('a missing claim', async () => {
    const { sub: _sub, ...noSub } = await claims();
    expect(await refusal(await signed(noSub))).toBe(
      'The access token has no sub claim; an RFC 9068 access token of this hub has iss, aud, sub, exp and iat.',
    );
  });

  it('an algorithm outside the allow-list', async () => {
    const h = base64url.encode(JSON.stringify({ alg: 'none', typ: 'at+jwt' }));
    expect(await refusal(`${h}.${base64url.encode(JSON.stringify(await claims()))}.`)).toBe(
      'The access token is signed with "none"; the hub accepts ES256, EdDSA, RS256, PS256.',
    );
  });

  it('an unknown key ID, and a signature by another key under the hub’s key ID', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const c = await claims();
    expect(
      await refusal(await new SignJWT(c).setProtectedHeader({ alg: 'ES256', kid: 'attacker-key', typ: 'at+jwt' }).sign(privateKey)),
    ).toBe(
      `No key of the issuer ${hub.cfg.issuer} has the token’s key ID "attacker-key": the token was signed by another issuer or with a retired key; get a new access token from the token endpoint.`,
    );
    const { kid } = hub.keys.current('ES256');
    expect(await refusal(await new SignJWT(c).setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' }).sign(privateKey))).toBe(
      `The access token’s signature does not verify with the issuer’s key "${kid}": it was altered or signed by someone else; get a new access token from the token endpoint.`,
    );
  });

  it('not a JWT at all', async () => {
    expect(await refusal('not-a-jwt')).toBe(
      'The access token is not a well-formed signed JWT (three base64url parts: header, claims, signature): get a new access token from the token endpoint.',
    );
  });
});

describe('a reused Idempotency-Key', () => {
  it('with a different body: 422 REQUEST-IDEMPOTENCY-KEY-REUSED saying to use a new key, nothing written', async () => {
    const headers = { 'idempotency-key': 'errors-key-1' };
    const first = await hub.call('POST', '/api/v1/assets', { as: 'fsp-a', body: batteryInput(10), headers });
    expect(first.status, first.text).toBe(201);
    const problem = await expectRefused(
      hub.db,
      ['asset', 'audit_log', 'event_outbox', 'idempotency_record'],
      () => hub.call('POST', '/api/v1/assets', { as: 'fsp-a', body: batteryInput(11), headers }),
      422,
      'REQUEST-IDEMPOTENCY-KEY-REUSED',
    );
    expect(problem.detail).toBe(
      'Idempotency-Key "errors-key-1" was used in the last 24 hours for a different request (method, path, query or body). Send a new Idempotency-Key for a new request; resend the original request unchanged to get its answer again.',
    );
  });
});
