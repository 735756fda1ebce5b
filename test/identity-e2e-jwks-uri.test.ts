import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import * as client from 'openid-client';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { jwksFetch } from '../identity/jwks-uri';
import { DEMO, nodeTestHub, type NodeTestHub } from './harness';

/**
 * A private_key_jwt client whose keys are at its JWKS URI (docs/identity.md, "Keys at a URL"), end
 * to end: the hub's provider fetches the JWKS from an HTTP server of this test (loopback, allowed in
 * development), a client credentials token is issued with a real client assertion (openid-client),
 * and a key the client removes from its JWKS stops working once the provider's cache of it has
 * expired (at most 5 minutes, whatever the JWKS server's Cache-Control says).
 */
let hub: NodeTestHub;
let server: Server;
let served: { keys: Record<string, unknown>[] } = { keys: [] };
let fetches = 0;
const insecure = { execute: [client.allowInsecureRequests] };

beforeAll(async () => {
  hub = await nodeTestHub();
  server = createServer((req, res) => {
    fetches += 1;
    // A day's max-age: the hub caps what the provider keeps at 5 minutes.
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=86400' });
    res.end(JSON.stringify(served));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
}, 120_000);
afterEach(() => {
  vi.useRealTimers();
});
afterAll(async () => {
  await new Promise((ok) => server?.close(ok));
  await hub?.close();
});

async function key(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
}

/** A client credentials token, the assertion signed with this key; the OAuth error code if refused. */
async function token(clientId: string, privateKey: CryptoKey, kid: string): Promise<{ token?: string; error?: string }> {
  const config = await client.discovery(new URL(hub.base), clientId, {}, client.PrivateKeyJwt({ key: privateKey, kid }), insecure);
  try {
    return { token: (await client.clientCredentialsGrant(config, {})).access_token };
  } catch (e: any) {
    return { error: e.error ?? e.cause?.[0]?.parameters?.error ?? `unexpected: ${e.message}` };
  }
}

describe('a private_key_jwt client with a JWKS URI', () => {
  it('gets tokens with the keys served there; a key removed stops working when the cache expires', async () => {
    const k1 = await key('k1');
    const k2 = await key('k2');
    served = { keys: [k1.jwk, k2.jwk] };
    const uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
    const reg = await hub.api('POST', '/api/v1/clients', {
      as: 'fsp-a',
      body: { name: 'Platform with a key URL', authMethod: 'private_key_jwt', jwksUri: uri },
    });
    expect(reg.status, reg.text).toBe(201);
    expect(reg.json).toMatchObject({ jwks: null, jwksUri: uri, authMethod: 'private_key_jwt' });
    const clientId = reg.json.clientId as string;
    const read = await hub.api('GET', `/api/v1/clients/${clientId}`, { as: 'fsp-a' });
    expect(read.json.jwksUri).toBe(uri);
    expect(fetches).toBe(0); // registration does not fetch: the provider does, when an assertion needs the keys

    const first = await token(clientId, k1.privateKey, 'k1');
    expect(first.error).toBeUndefined();
    expect(decodeJwt(first.token!)).toMatchObject({ sub: clientId, org: DEMO['fsp-a'] });
    const lookup = await hub.api('GET', '/api/v1/assets?identifier=mpan:1312345678907', { auth: `Bearer ${first.token}` });
    expect(lookup.status, lookup.text).toBe(200);
    expect(lookup.json.items[0].friendlyCode).toBe('ALPHA-BESS-1');
    expect((await token(clientId, k2.privateKey, 'k2')).error).toBeUndefined();
    expect(fetches).toBe(1);

    // The client removes k1 from its JWKS. Until the provider's copy expires, k1 still works.
    served = { keys: [k2.jwk] };
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    vi.setSystemTime(Date.now() + 120_000); // beyond the provider's 60 s floor, within the hub's 5-minute cap
    expect((await token(clientId, k1.privateKey, 'k1')).error).toBeUndefined();
    expect(fetches).toBe(1);
    vi.setSystemTime(Date.now() + 181_000); // 301 s after the fetch: the day the server asked for is cut to 5 minutes
    expect(await token(clientId, k1.privateKey, 'k1')).toEqual({ error: 'invalid_client' });
    expect(fetches).toBe(2);
    const still = await token(clientId, k2.privateKey, 'k2');
    expect(still.error).toBeUndefined();
    expect((await hub.api('GET', '/api/v1/assets?identifier=mpan:1312345678907', { auth: `Bearer ${still.token}` })).status).toBe(200);

    // A JWKS URI that does not answer: no token (the provider refuses the client), never a 5xx.
    server.closeAllConnections();
    await new Promise((ok) => server.close(ok));
    vi.setSystemTime(Date.now() + 301_000);
    expect(await token(clientId, k2.privateKey, 'k2')).toEqual({ error: 'invalid_client' });
  });
});

describe('the provider fetches a JWKS URI', () => {
  it('over https only, and http to a loopback host in development only', async () => {
    await expect(jwksFetch(false)('http://127.0.0.1:45999/jwks.json')).rejects.toThrow(/https only/);
    await expect(jwksFetch(true)('http://keys.example/jwks.json')).rejects.toThrow(/https only/);
    await expect(jwksFetch(true)('file:///etc/passwd')).rejects.toThrow(/https only/);
  });
});
