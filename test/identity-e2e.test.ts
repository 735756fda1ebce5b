import { SignJWT, calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieBrowser, DEMO, batteryInput, nodeTestHub, type NodeTestHub } from './harness';

/**
 * End to end with a certified OAuth client library (openid-client) over real HTTP: discovery,
 * client credentials (private_key_jwt, client secret, DPoP), authorization code + PKCE through the
 * real sign-in and consent pages, refresh, introspection and revocation, RFC 8693 token exchange.
 */
let hub: NodeTestHub;
const insecure = { execute: [client.allowInsecureRequests] };
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const AT = 'urn:ietf:params:oauth:token-type:access_token';

beforeAll(async () => {
  hub = await nodeTestHub();
}, 120_000);
afterAll(async () => {
  await hub?.close();
});

async function keyClient(as: keyof typeof DEMO, extra: Record<string, unknown> = {}) {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  const res = await hub.api('POST', '/api/v1/clients', {
    as,
    body: { name: `${as} platform`, authMethod: 'private_key_jwt', jwks: { keys: [jwk] }, ...extra },
  });
  expect(res.status, res.text).toBe(201);
  return { clientId: res.json.clientId as string, privateKey, res };
}

async function secretClient(as: keyof typeof DEMO, extra: Record<string, unknown> = {}) {
  const res = await hub.api('POST', '/api/v1/clients', {
    as,
    body: { name: `${as} dev client`, authMethod: 'client_secret_basic', ...extra },
  });
  expect(res.status, res.text).toBe(201);
  return { clientId: res.json.clientId as string, secret: res.json.clientSecret as string, res };
}

const discover = (clientId: string, auth: client.ClientAuth, metadata: Partial<client.ClientMetadata> = {}) =>
  client.discovery(new URL(hub.base), clientId, metadata, auth, insecure);

/** The OAuth error code of a refused grant (a body error, or a WWW-Authenticate challenge on 401). */
async function oauthError(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e: any) {
    return e.error ?? e.cause?.[0]?.parameters?.error ?? `unexpected: ${e.message}`;
  }
  return 'no error';
}

const lookup = (auth: string) => hub.api('GET', '/api/v1/assets?identifier=mpan:1312345678907', { auth });

describe('discovery and keys', () => {
  it('publishes the provider metadata and its JWKS', async () => {
    const meta = await (await fetch(`${hub.base}/.well-known/openid-configuration`)).json();
    expect(meta.issuer).toBe(hub.base);
    expect(meta.token_endpoint).toBe(`${hub.base}/oauth/token`);
    expect(meta.grant_types_supported).toEqual(
      expect.arrayContaining(['client_credentials', 'authorization_code', 'refresh_token', TOKEN_EXCHANGE]),
    );
    expect(meta.code_challenge_methods_supported).toEqual(['S256']);
    expect(meta.dpop_signing_alg_values_supported).toContain('ES256');
    const jwks = await (await fetch(meta.jwks_uri)).json();
    expect(jwks.keys.map((k: { alg: string }) => k.alg).sort()).toEqual(['ES256', 'RS256']);
    for (const k of jwks.keys) expect(k.d).toBeUndefined();
  });
});

describe('client credentials', () => {
  it('private_key_jwt: a 5-minute RFC 9068 token the API accepts', async () => {
    const { clientId, privateKey, res } = await keyClient('fsp-a');
    expect(res.json.clientSecret).toBeUndefined();
    expect(res.json.tokenEndpoint).toBe(`${hub.base}/oauth/token`);
    const config = await discover(clientId, client.PrivateKeyJwt(privateKey));
    const tokens = await client.clientCredentialsGrant(config, {});
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(decodeProtectedHeader(tokens.access_token).typ).toBe('at+jwt');
    const claims = decodeJwt(tokens.access_token);
    expect(claims).toMatchObject({ iss: hub.base, aud: hub.cfg.audience, client_id: clientId, sub: clientId, org: DEMO['fsp-a'] });
    expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(300);
    expect(String(claims.scope).split(' ')).toEqual(expect.arrayContaining(['assets:read', 'assets:write']));
    const r = await lookup(`Bearer ${tokens.access_token}`);
    expect(r.status, r.text).toBe(200);
    expect(r.json.items[0].friendlyCode).toBe('ALPHA-BESS-1');
    // Scopes asked for are what the token carries.
    const narrow = await client.clientCredentialsGrant(config, { scope: 'assets:read' });
    expect(decodeJwt(narrow.access_token).scope).toBe('assets:read');
    const write = await hub.api('POST', '/api/v1/assets', { auth: `Bearer ${narrow.access_token}`, body: batteryInput(501) });
    expect(write.status).toBe(403);
    expect(write.json.code).toBe('AUTH-SCOPE-MISSING');
  });

  it('refuses a replayed client assertion jti', async () => {
    const { clientId, privateKey } = await keyClient('fsp-b');
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(hub.base)
      .setJti('once-only-1')
      .setIssuedAt()
      .setExpirationTime('2m')
      .sign(privateKey);
    const post = () =>
      fetch(`${hub.base}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: assertion,
        }),
      });
    const first = await post();
    expect(first.status, await first.clone().text()).toBe(200);
    const again = await post();
    expect(again.status).toBe(401);
    expect((await again.json()).error).toBe('invalid_client');
  });

  it('client secret (shown once, stored hashed), rotation and revocation', async () => {
    const { clientId, secret } = await secretClient('fsp-b');
    expect(secret.length).toBeGreaterThanOrEqual(40);
    const [row] = await hub.db.query(`SELECT secret_hash FROM api_client WHERE client_id = $1`, [clientId]);
    expect(row.secret_hash).toMatch(/^sha256:/);
    expect(row.secret_hash).not.toContain(secret);
    const listed = await hub.api('GET', `/api/v1/clients/${clientId}`, { as: 'fsp-b' });
    expect(listed.json.clientSecret).toBeUndefined();
    const config = await discover(clientId, client.ClientSecretBasic(secret));
    const t1 = await client.clientCredentialsGrant(config, {});
    expect((await lookup(`Bearer ${t1.access_token}`)).status).toBe(200); // FSP B sees no such asset: empty list, not an error

    const rotated = await hub.api('POST', `/api/v1/clients/${clientId}/rotate`, { as: 'fsp-b' });
    expect(rotated.status, rotated.text).toBe(200);
    const newSecret = rotated.json.clientSecret as string;
    expect(newSecret).not.toBe(secret);
    expect(await oauthError(client.clientCredentialsGrant(config, {}))).toBe('invalid_client');
    const config2 = await discover(clientId, client.ClientSecretBasic(newSecret));
    const t2 = await client.clientCredentialsGrant(config2, {});

    const revoked = await hub.api('DELETE', `/api/v1/clients/${clientId}`, { as: 'fsp-b' });
    expect(revoked.json.status).toBe('REVOKED');
    const refused = await lookup(`Bearer ${t2.access_token}`);
    expect(refused.status).toBe(401);
    expect(refused.json.code).toBe('AUTH-CLIENT-REVOKED');
    expect(await oauthError(client.clientCredentialsGrant(config2, {}))).toBe('invalid_client');
  });

  it('locks a client out after repeated failed authentication', async () => {
    const { clientId } = await secretClient('fsp-b');
    const attempt = () =>
      fetch(`${hub.base}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${btoa(`${clientId}:wrong`)}` },
        body: 'grant_type=client_credentials',
      });
    for (let i = 0; i < 5; i++) expect((await attempt()).status).toBe(401);
    const locked = await attempt();
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await locked.json()).error).toBe('invalid_client');
  });

  it('DPoP: a bound token works with a proof and is refused as a plain Bearer', async () => {
    const { clientId, privateKey } = await keyClient('fsp-a');
    const config = await discover(clientId, client.PrivateKeyJwt(privateKey));
    const dpopKey = await client.randomDPoPKeyPair('ES256');
    const DPoP = client.getDPoPHandle(config, dpopKey);
    const tokens = await client.clientCredentialsGrant(config, {}, { DPoP });
    expect(tokens.token_type.toLowerCase()).toBe('dpop');
    // Bound to the DPoP key the client proved (RFC 9449 §6.1: the key's JWK SHA-256 thumbprint).
    expect((decodeJwt(tokens.access_token).cnf as { jkt: string }).jkt).toBe(
      await calculateJwkThumbprint(await exportJWK(dpopKey.publicKey)),
    );
    const url = new URL(`${hub.base}/api/v1/assets?identifier=mpan:1312345678907`);
    const ok = await client.fetchProtectedResource(config, tokens.access_token, url, 'GET', null, new Headers(), { DPoP });
    expect(ok.status, await ok.clone().text()).toBe(200);
    expect((await ok.json()).items).toHaveLength(1);
    const plain = await lookup(`Bearer ${tokens.access_token}`);
    expect(plain.status).toBe(401);
    expect(plain.json.code).toBe('AUTH-DPOP-REQUIRED');
    const noProof = await lookup(`DPoP ${tokens.access_token}`);
    expect(noProof.status).toBe(401);
    expect(noProof.json.code).toBe('AUTH-DPOP-INVALID');
  });
});

describe('people: invitation, authorization code + PKCE, refresh, introspection, revocation', () => {
  it('runs the whole flow through the real sign-in page', async () => {
    // An admin of FSP A invites a person; the person sets a password on the invitation page.
    const invited = await hub.api('POST', `/api/v1/organisations/${DEMO['fsp-a']}/users`, {
      as: 'fsp-a',
      body: { email: 'grace@alpha.example', name: 'Grace Hopper', userRole: 'MEMBER' },
    });
    expect(invited.status, invited.text).toBe(201);
    expect(invited.json.status).toBe('INVITED');
    const invitationUrl = invited.json.invitation.url as string;
    expect(invitationUrl.startsWith(`${hub.base}/invitations/`)).toBe(true);
    const page = await fetch(invitationUrl);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Choose a password');
    const weak = await fetch(invitationUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'password=short',
    });
    expect(weak.status).toBe(422);
    const password = 'correct horse battery staple';
    const accepted = await fetch(invitationUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ password }),
    });
    expect(accepted.status).toBe(200);
    expect((await fetch(invitationUrl)).status).toBe(404); // used once

    // FSP A registers a public web app (PKCE, no secret).
    const redirect = 'http://127.0.0.1:9/callback';
    const app = await hub.api('POST', '/api/v1/clients', {
      as: 'fsp-a',
      body: { name: 'Alpha console', kind: 'web', authMethod: 'none', redirectUris: [redirect] },
    });
    expect(app.status, app.text).toBe(201);
    const config = await discover(app.json.clientId, client.None(), { redirect_uris: [redirect], response_types: ['code'] });
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const authUrl = client.buildAuthorizationUrl(config, {
      redirect_uri: redirect,
      scope: 'openid email offline_access assets:read assets:write users:write',
      state,
      prompt: 'consent',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      resource: hub.cfg.audience,
    });

    const browser = new CookieBrowser();
    let step = await browser.follow(authUrl.href, hub.base);
    expect(step.url).toMatch(/\/interaction\//);
    const loginHtml = await step.res.text();
    expect(loginHtml).toContain('Sign in');
    expect(loginHtml).toContain('Alpha console');
    // Beside the organisation sign-in, the household's route through the consumer consent service (docs/consumers.md).
    expect(loginHtml).toContain('href="/auth/consumer/sign-in?return_to=%2Fconsole%2F"');
    const uid = /\/interaction\/([^/"]+)\/login/.exec(loginHtml)![1];
    const bad = await browser.form(`${hub.base}/interaction/${uid}/login`, {
      email: 'grace@alpha.example',
      password: 'wrong password here',
    });
    expect(bad.status).toBe(401);
    expect(await bad.text()).toContain('not right');
    const login = await browser.form(`${hub.base}/interaction/${uid}/login`, { email: 'grace@alpha.example', password });
    expect(login.status).toBe(303);
    step = await browser.follow(new URL(login.headers.get('location')!, hub.base).href, hub.base);
    const consentHtml = await step.res.text();
    expect(consentHtml).toContain('Allow access');
    expect(consentHtml).toContain('assets:write');
    expect(consentHtml).toMatch(/Not granted[\s\S]*users:write/); // a MEMBER cannot manage people
    const confirm = await browser.form(`${hub.base}/interaction/${/\/interaction\/([^/"]+)\/confirm/.exec(consentHtml)![1]}/confirm`, {});
    expect(confirm.status).toBe(303);
    step = await browser.follow(new URL(confirm.headers.get('location')!, hub.base).href, hub.base);
    expect(step.url.startsWith(redirect), `${step.url} ${step.res.status} ${await step.res.clone().text()}`).toBe(true);

    const tokens = await client.authorizationCodeGrant(
      config,
      new URL(step.url),
      { pkceCodeVerifier: verifier, expectedState: state },
      { resource: hub.cfg.audience },
    );
    const at = decodeJwt(tokens.access_token);
    expect(at).toMatchObject({ org: DEMO['fsp-a'], user_role: 'MEMBER', aud: hub.cfg.audience });
    expect(String(at.scope).split(' ').sort()).toEqual(['assets:read', 'assets:write']);
    expect(tokens.claims()!.email).toBe('grace@alpha.example');
    expect((await lookup(`Bearer ${tokens.access_token}`)).status).toBe(200);
    expect(tokens.refresh_token).toBeTruthy();

    // Refresh (rotated), then introspect and revoke the opaque refresh token.
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!, { resource: hub.cfg.audience });
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    const intro = await client.tokenIntrospection(config, refreshed.refresh_token!);
    expect(intro.active).toBe(true);
    expect(intro.sub).toBe(invited.json.id);
    await client.tokenRevocation(config, refreshed.refresh_token!);
    expect((await client.tokenIntrospection(config, refreshed.refresh_token!)).active).toBe(false);
    expect(await oauthError(client.refreshTokenGrant(config, refreshed.refresh_token!))).toBe('invalid_grant');

    // Deactivating the person refuses their live access token and ends their grants.
    const off = await hub.api('POST', `/api/v1/organisations/${DEMO['fsp-a']}/users/${invited.json.id}/deactivate`, { as: 'fsp-a' });
    expect(off.status, off.text).toBe(200);
    const refused = await lookup(`Bearer ${refreshed.access_token}`);
    expect(refused.status).toBe(401);
    expect(refused.json.code).toBe('AUTH-USER-INACTIVE');
    const [{ n }] = await hub.db.query(`SELECT count(*)::int AS n FROM oidc_payload WHERE account_id = $1`, [invited.json.id]);
    expect(n).toBe(0);
  });
});

describe('delegation by token exchange (RFC 8693)', () => {
  it('an installer acts for the FSP within the delegation, until it is revoked', async () => {
    const { clientId, secret } = await secretClient('installer');
    const config = await discover(clientId, client.ClientSecretBasic(secret));
    const own = await client.clientCredentialsGrant(config, {});
    // Without a delegation the installer cannot register for FSP A.
    const before = await hub.api('POST', '/api/v1/assets', {
      auth: `Bearer ${own.access_token}`,
      body: { ...batteryInput(601), organisationId: DEMO['fsp-a'] },
    });
    expect(before.status).toBe(403);

    const granted = await hub.api('POST', '/api/v1/delegations', {
      as: 'fsp-a',
      body: {
        delegateId: DEMO.installer,
        scopes: ['assets:read', 'assets:write'],
        validTo: new Date(Date.now() + 86_400_000).toISOString(),
        reason: 'commissioning',
      },
    });
    expect(granted.status, granted.text).toBe(201);
    const delegationId = granted.json.id as string;

    // Asking for a scope that was not delegated.
    expect(
      await oauthError(
        client.genericGrantRequest(config, TOKEN_EXCHANGE, {
          subject_token: own.access_token,
          subject_token_type: AT,
          delegation_id: delegationId,
          scope: 'assets:read events:read',
        }),
      ),
    ).toBe('invalid_scope');

    const exchanged = await client
      .genericGrantRequest(config, TOKEN_EXCHANGE, { subject_token: own.access_token, subject_token_type: AT, delegation_id: delegationId })
      .catch((e) => {
        throw new Error(`${e.error}: ${e.error_description}`);
      });
    expect(exchanged.issued_token_type).toBe(AT);
    const claims = decodeJwt(exchanged.access_token);
    expect(claims).toMatchObject({
      sub: DEMO['fsp-a'],
      org: DEMO['fsp-a'],
      act: { sub: clientId, org: DEMO.installer },
      delegation_id: delegationId,
    });
    expect(String(claims.scope).split(' ').sort()).toEqual(['assets:read', 'assets:write']);

    const made = await hub.api('POST', '/api/v1/assets', { auth: `Bearer ${exchanged.access_token}`, body: batteryInput(602) });
    expect(made.status, made.text).toBe(201);
    expect(made.json.organisationId).toBe(DEMO['fsp-a']);
    const [audit] = await hub.db.query(`SELECT actor FROM audit_log WHERE record_id = $1 AND action LIKE 'asset.%' ORDER BY id LIMIT 1`, [
      made.json.id,
    ]);
    expect(audit.actor).toMatchObject({ sub: DEMO['fsp-a'], act: { sub: clientId, org: DEMO.installer } });

    const revoked = await hub.api('POST', `/api/v1/delegations/${delegationId}/revoke`, { as: 'fsp-a', body: { reason: 'job done' } });
    expect(revoked.status, revoked.text).toBe(200);
    const after = await lookup(`Bearer ${exchanged.access_token}`);
    expect(after.status).toBe(401);
    expect(after.json.code).toBe('AUTH-DELEGATION-INACTIVE');
    expect(
      await oauthError(
        client.genericGrantRequest(config, TOKEN_EXCHANGE, {
          subject_token: own.access_token,
          subject_token_type: AT,
          delegation_id: delegationId,
        }),
      ),
    ).toBe('invalid_grant');
  });

  it('an asset-limited delegation reaches only its assets and cannot register', async () => {
    const { clientId, secret } = await secretClient('fsp-b');
    const config = await discover(clientId, client.ClientSecretBasic(secret));
    const own = await client.clientCredentialsGrant(config, {});
    const [battery, ev] = await hub.db.query(
      `SELECT id FROM asset WHERE friendly_code IN ('ALPHA-BESS-1', 'ALPHA-EV-1') ORDER BY friendly_code`,
    );
    const granted = await hub.api('POST', '/api/v1/delegations', {
      as: 'fsp-a',
      body: {
        delegateId: DEMO['fsp-b'],
        scopes: ['assets:read'],
        assetIds: [battery.id],
        validTo: new Date(Date.now() + 3_600_000).toISOString(),
      },
    });
    expect(granted.status, granted.text).toBe(201);
    const ex = await client.genericGrantRequest(config, TOKEN_EXCHANGE, {
      subject_token: own.access_token,
      subject_token_type: AT,
      delegation_id: granted.json.id,
    });
    expect((await hub.api('GET', `/api/v1/assets/${battery.id}`, { auth: `Bearer ${ex.access_token}` })).status).toBe(200);
    const hidden = await hub.api('GET', `/api/v1/assets/${ev.id}`, { auth: `Bearer ${ex.access_token}` });
    expect(hidden.status).toBe(404);
    // A delegation cannot give what the delegator lacks, nor the right to manage credentials.
    const tooMuch = await hub.api('POST', '/api/v1/delegations', {
      as: 'fsp-a',
      body: { delegateId: DEMO['fsp-b'], scopes: ['clients:write'], validTo: new Date(Date.now() + 3_600_000).toISOString() },
    });
    expect(tooMuch.status).toBe(422);
    expect(tooMuch.json.errors[0].code).toBe('DELEGATION-SCOPE-NOT-DELEGABLE');
  });
});

describe('de-registering an organisation (UC-01.04)', () => {
  it('revokes its clients and delegations and deactivates its people', async () => {
    const org = await hub.api('POST', '/api/v1/organisations', {
      as: 'operator',
      body: {
        legalName: 'Short Lived Flex Ltd',
        organisationType: 'LTD',
        registrationNumber: '09000777',
        roles: ['FSP'],
        status: 'ACTIVE',
      },
    });
    expect(org.status, org.text).toBe(201);
    const orgId = org.json.id as string;
    const c = await hub.api('POST', '/api/v1/clients', {
      as: 'operator',
      body: { name: 'their platform', authMethod: 'client_secret_basic', organisationId: orgId },
    });
    expect(c.status, c.text).toBe(201);
    const config = await discover(c.json.clientId, client.ClientSecretBasic(c.json.clientSecret));
    const t = await client.clientCredentialsGrant(config, {});
    expect((await lookup(`Bearer ${t.access_token}`)).status).toBe(200);
    const u = await hub.api('POST', `/api/v1/organisations/${orgId}/users`, {
      as: 'operator',
      body: { email: 'ops@short.example', name: 'Ops', userRole: 'ADMIN' },
    });
    expect(u.status).toBe(201);
    const d = await hub.api('DELETE', `/api/v1/organisations/${orgId}`, { as: 'operator' });
    expect(d.status, d.text).toBe(200);
    const refused = await lookup(`Bearer ${t.access_token}`);
    expect(refused.status).toBe(403);
    expect(refused.json.code).toBe('AUTH-ORGANISATION-INACTIVE');
    const [client_] = await hub.db.query(`SELECT status FROM api_client WHERE client_id = $1`, [c.json.clientId]);
    expect(client_.status).toBe('REVOKED');
    const [user] = await hub.db.query(`SELECT status FROM app_user WHERE id = $1`, [u.json.id]);
    expect(user.status).toBe('DEACTIVATED');
    expect(await oauthError(client.clientCredentialsGrant(config, {}))).toBe('invalid_client');
  });
});

describe('a platform pulls shared data with its own client credentials (UC-05.01)', () => {
  it('NESO’s platform takes a client_credentials token and pulls what FSP A shares with it, until FSP A revokes the share', async () => {
    const org = await hub.api('POST', '/api/v1/organisations', {
      as: 'operator',
      body: {
        legalName: 'Single Markets Platform plc',
        organisationType: 'PLC',
        registrationNumber: '09000888',
        roles: ['SYSTEM_OPERATOR'],
        status: 'ACTIVE',
      },
    });
    expect(org.status, org.text).toBe(201);
    const platform = org.json.id as string;
    const c = await hub.api('POST', '/api/v1/clients', {
      as: 'operator',
      body: { name: 'SMP puller', authMethod: 'client_secret_basic', organisationId: platform },
    });
    expect(c.status, c.text).toBe(201);
    const a = await hub.api('POST', '/api/v1/assets', { as: 'fsp-a', body: batteryInput(9499, { serialNumber: 'SHARE-E2E' }) });
    expect(a.status, a.text).toBe(201);
    const s = await hub.api('POST', '/api/v1/data-shares', {
      as: 'fsp-a',
      body: {
        recipientId: platform,
        assets: 'LISTED',
        assetIds: [a.json.id],
        validTo: new Date(Date.now() + 7 * 86_400_000).toISOString(),
      },
    });
    expect(s.status, s.text).toBe(201);
    const config = await discover(c.json.clientId, client.ClientSecretBasic(c.json.clientSecret));
    const t = await client.clientCredentialsGrant(config, {});
    const auth = `Bearer ${t.access_token}`;
    const assets = await hub.api('GET', `/api/v1/data-shares/${s.json.id}/assets`, { auth });
    expect([assets.status, assets.json.items.map((x: any) => x.id)]).toEqual([200, [a.json.id]]);
    const pulls = await hub.api('GET', `/api/v1/data-shares/${s.json.id}/pulls`, { as: 'fsp-a' });
    expect(pulls.json.items.map((x: any) => [x.reader.organisationId, x.reader.clientId, x.recordIds])).toEqual([
      [platform, c.json.clientId, [a.json.id]],
    ]);
    const revoked = await hub.api('DELETE', `/api/v1/data-shares/${s.json.id}`, { as: 'fsp-a', headers: { 'if-match': '"1"' } });
    expect(revoked.status, revoked.text).toBe(200);
    const after = await hub.api('GET', `/api/v1/data-shares/${s.json.id}/passport`, { auth });
    expect([after.status, after.json.code, after.json.state]).toEqual([403, 'DATA-SHARE-NOT-LIVE', 'REVOKED']);
  });
});
