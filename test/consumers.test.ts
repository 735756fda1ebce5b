import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signAccessToken } from '../identity/index';
import { createMarketUnit } from '../src/units/service';
import { DEMO_HOUSEHOLDS } from '../src/demo/households';
import { ConfigError, loadConfig } from '../src/config';
import { DEMO, consentFor, testHub, type TestHub } from './harness';

/**
 * A household's view and controls (docs/consumers.md): sign-in end to end through the
 * development consent-service stand-in as an OpenID provider, with openid-client as the hub's
 * relying party (every request between them goes through the app itself); then the consumer API
 * from the household's side and from others' side.
 */

let hub: TestHub;
const BESS_MPAN = '1312345678907';
const EMPTY_MPAN = '1300000000099';
let bessId: string;
let evId: string;

/** The whole sign-in as a browser does it: hub → stand-in's page → choose a household → callback → the hub's token. */
async function signIn(household: string, o: { deny?: boolean; returnTo?: string } = {}) {
  const start = await hub.app.request(`/auth/consumer/sign-in${o.returnTo ? `?return_to=${encodeURIComponent(o.returnTo)}` : ''}`);
  expect(start.status).toBe(302);
  const cookie = (start.headers.get('set-cookie') ?? '').split(';')[0];
  const authorize = start.headers.get('location')!;
  expect(authorize.startsWith('http://hub.test/dev/consent-service/authorize?')).toBe(true);
  const page = await hub.app.request(authorize);
  expect(page.status).toBe(200);
  const html = await page.text();
  const form = new URLSearchParams();
  for (const m of html.split('<form')[1].matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g))
    form.set(
      m[1],
      m[2]
        .replace(/&amp;/g, '&')
        .replace(/&quot;/g, '"')
        .replace(/&#39;/g, "'"),
    );
  if (o.deny) form.set('deny', '1');
  else form.set('household', household);
  const chosen = await hub.app.request('/dev/consent-service/authorize', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  });
  expect(chosen.status).toBe(303);
  const callback = chosen.headers.get('location')!;
  expect(callback.startsWith('http://hub.test/auth/consumer/callback?')).toBe(true);
  return hub.app.request(callback, { headers: { cookie } });
}

async function tokenOf(household: string): Promise<string> {
  const r = await signIn(household);
  expect(r.status, await r.clone().text()).toBe(200);
  return ((await r.json()) as { access_token: string }).access_token;
}

const get = (path: string, token: string) => hub.call('GET', `/api/v1${path}`, { as: token });
const post = (path: string, token: string, body?: unknown) => hub.call('POST', `/api/v1${path}`, { as: token, body });

beforeAll(async () => {
  hub = await testHub();
  // openid-client reaches the stand-in through the app itself: nothing leaves the process.
  hub.ports.consumerSignIn!.fetch = ((url: string, init?: RequestInit) => hub.app.request(url, init)) as typeof fetch;
  const ids = await hub.db.query<{ id: string; friendly_code: string }>(
    `SELECT id, friendly_code FROM asset WHERE friendly_code IN ('ALPHA-BESS-1', 'ALPHA-EV-1')`,
  );
  bessId = ids.find((r) => r.friendly_code === 'ALPHA-BESS-1')!.id;
  evId = ids.find((r) => r.friendly_code === 'ALPHA-EV-1')!.id;
  await createMarketUnit(hub.ctx, hub.system, { name: 'Glasgow battery unit', type: 'SPU', product: 'NESO-DFS', assetIds: [bessId] });
});
afterAll(async () => {
  await hub?.close();
});

describe('household sign-in through the consumer consent service (stand-in provider, openid-client)', () => {
  it('issues a short-lived hub token bound to the household’s meter points, and audits the sign-in under a pseudonym only', async () => {
    const r = await signIn('household-driveway');
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toBe('no-store');
    const body = (await r.json()) as { access_token: string; expires_in: number; scope: string; mpans: string[] };
    expect(body.expires_in).toBe(900);
    expect(body.scope).toBe('consumer:read consumer:write');
    expect(body.mpans).toEqual(['1300000000016', '1300000000025']);
    const me = await get('/consumer/me', body.access_token);
    expect(me.status).toBe(200);
    expect(me.json.mpans).toEqual(['1300000000016', '1300000000025']);
    expect(me.json.subject).toMatch(/^consumer:[A-Za-z0-9_-]{32}$/);
    // The same person signs in as the same pseudonym.
    const again = await get('/consumer/me', await tokenOf('household-driveway'));
    expect(again.json.subject).toBe(me.json.subject);
    const audit = await hub.db.query<{ actor: Record<string, unknown>; detail: Record<string, unknown> }>(
      `SELECT actor, detail FROM audit_log WHERE action = 'consumer.signed-in' AND record_id = $1`,
      [me.json.subject],
    );
    expect(audit).toHaveLength(2);
    expect(Object.keys(audit[0].actor).sort()).toEqual(['org', 'request_id', 'sub']);
    expect(audit[0].actor).toMatchObject({ sub: me.json.subject, org: null });
    expect(audit[0].detail).toEqual({ provider: 'http://hub.test/dev/consent-service', mpans: ['1300000000016', '1300000000025'] });
    // Nothing of the provider's own identifier is kept anywhere.
    const leaks = await hub.db.query(
      `SELECT 1 FROM audit_log WHERE actor::text LIKE '%household-driveway%' OR detail::text LIKE '%household-driveway%'`,
    );
    expect(leaks).toHaveLength(0);
  });

  it('goes back to a path on the hub with the token in the fragment; another site is refused', async () => {
    const r = await signIn('household-glasgow', { returnTo: '/console/#/home' });
    expect(r.status).toBe(303);
    const loc = r.headers.get('location')!;
    expect(loc.startsWith('/console/#access_token=')).toBe(true);
    const bad = await hub.app.request('/auth/consumer/sign-in?return_to=//evil.example/');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { code: string }).code).toBe('CONSUMER-SIGN-IN-FAILED');
  });

  it('a cancelled sign-in, or a callback without the browser’s sign-in cookie, is CONSUMER-SIGN-IN-FAILED', async () => {
    const denied = await signIn('household-glasgow', { deny: true });
    expect(denied.status).toBe(400);
    expect(((await denied.json()) as { code: string }).code).toBe('CONSUMER-SIGN-IN-FAILED');
    const bare = await hub.app.request('/auth/consumer/callback?code=x&state=y');
    expect(bare.status).toBe(400);
    expect(((await bare.json()) as { code: string }).code).toBe('CONSUMER-SIGN-IN-FAILED');
  });

  it('configuration: an issuer needs the hub’s client credentials, https outside development', () => {
    const base = { FMAR_MODE: 'development', FMAR_BASE_URL: 'http://hub.test' };
    expect(() => loadConfig({ ...base, FMAR_CONSUMER_OIDC_ISSUER: 'https://ccs.example' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, FMAR_CONSUMER_OIDC_CLIENT_ID: 'hub' })).toThrow(ConfigError);
    const prod = { FMAR_MODE: 'production', FMAR_BASE_URL: 'https://hub.example', FMAR_ISSUER: 'https://hub.example' };
    const creds = { FMAR_CONSUMER_OIDC_CLIENT_ID: 'hub', FMAR_CONSUMER_OIDC_CLIENT_SECRET: 's' };
    expect(() => loadConfig({ ...prod, ...creds, FMAR_CONSUMER_OIDC_ISSUER: 'http://ccs.example' })).toThrow(ConfigError);
    expect(loadConfig({ ...prod, ...creds, FMAR_CONSUMER_OIDC_ISSUER: 'https://ccs.example/' }).consumer).toEqual({
      issuer: 'https://ccs.example',
      clientId: 'hub',
      clientSecret: 's',
      mpansClaim: 'mpans',
      tokenTtlSec: 900,
      revocationUrl: undefined,
    });
  });

  it('a token that claims to be a household’s and an organisation’s at once is refused', async () => {
    const forged = await signAccessToken(
      hub.keys,
      {
        iss: hub.cfg.issuer,
        aud: hub.cfg.audience,
        sub: 'consumer:x',
        ttlSec: 60,
        jti: 'forged-1',
        consumer: { mpans: [BESS_MPAN] },
        org: DEMO['fsp-a'],
        scope: 'consumer:read assets:read',
      },
      hub.clock.now(),
    );
    const r = await get('/consumer/me', forged);
    expect(r.status).toBe(401);
    expect(r.json.code).toBe('AUTH-TOKEN-INVALID');
  });
});

describe('what a household sees', () => {
  it('its live assets: category, capacity, status, controlling FSP and since when, market units and products by name, FSP links', async () => {
    const t = await tokenOf('household-glasgow');
    const r = await get('/consumer/assets', t);
    expect(r.status).toBe(200);
    expect(r.json.items).toHaveLength(1);
    const a = r.json.items[0];
    expect(a).toMatchObject({
      id: bessId,
      category: 'BESS',
      ratedCapacityKw: 5,
      importMpan: BESS_MPAN,
      controllingFsp: { id: DEMO['fsp-a'] },
      marketUnits: [{ name: 'Glasgow battery unit', product: expect.any(String) }],
    });
    expect(a.fspHistory).toHaveLength(1);
    expect(a.fspHistory[0]).toMatchObject({ fsp: { id: DEMO['fsp-a'] }, to: null });
    // No organisation's private data: no serial number, manufacturer, location or owner's passport.
    expect(Object.keys(a).sort()).toEqual(
      [
        'category',
        'connectionStatus',
        'controllingFsp',
        'demandCapacityKw',
        'exportMpan',
        'fspHistory',
        'generationCapacityKw',
        'id',
        'importMpan',
        'marketUnits',
        'name',
        'ratedCapacityKw',
        'status',
      ].sort(),
    );
    const one = await get(`/consumer/assets/${bessId}`, t);
    expect(one.status).toBe(200);
    expect(one.json.id).toBe(bessId);
  });

  it('another household’s meter point is refused with CONSUMER-MPAN-NOT-BOUND, its asset is ASSET-NOT-FOUND', async () => {
    const t = await tokenOf('household-glasgow');
    const byMpan = await get('/consumer/assets?mpan=1300000000016', t);
    expect(byMpan.status).toBe(403);
    expect(byMpan.json.code).toBe('CONSUMER-MPAN-NOT-BOUND');
    const consents = await get('/consumer/consents?mpan=1300000000016', t);
    expect(consents.status).toBe(403);
    expect(consents.json.code).toBe('CONSUMER-MPAN-NOT-BOUND');
    const other = await get(`/consumer/assets/${evId}`, t);
    expect(other.status).toBe(404);
    expect(other.json.code).toBe('ASSET-NOT-FOUND');
  });

  it('reaches nothing else: the organisations’ API refuses its token, and an organisation’s token is refused here', async () => {
    const t = await tokenOf('household-glasgow');
    const assets = await get(`/assets/${bessId}`, t);
    expect(assets.status).toBe(403);
    expect(assets.json.code).toBe('AUTH-SCOPE-MISSING');
    const orgs = await get('/organisations', t);
    expect(orgs.status).toBe(403);
    expect(orgs.json.code).toBe('AUTH-SCOPE-MISSING');
    const fsp = await hub.call('GET', '/api/v1/consumer/assets', { as: 'fsp-a' });
    expect(fsp.status).toBe(403);
    expect(fsp.json.code).toBe('AUTH-SCOPE-MISSING');
    const operator = await hub.call('GET', '/api/v1/consumer/export', { as: 'operator' });
    expect(operator.status).toBe(403);
    expect(operator.json.code).toBe('AUTH-SCOPE-MISSING');
  });
});

describe('consents and revocation', () => {
  let switchId: string;
  let switchConsent: string;
  let registeredId: string;
  let registrationConsent: string;

  beforeAll(async () => {
    // A switch to FSP B under the Glasgow household's consent, pending through the notice period.
    const c = await consentFor(hub, BESS_MPAN, DEMO['fsp-b']);
    switchConsent = c.jti;
    const s = await hub.call('POST', '/api/v1/switches', {
      as: 'fsp-b',
      body: { asset: `mpan:${BESS_MPAN}`, consent: c.token },
      headers: { 'idempotency-key': 'household-switch-1' },
    });
    expect(s.status, s.text).toBe(201);
    switchId = s.json.id;
    // A battery registered by FSP A at the third household's meter under its consent.
    const rc = await consentFor(hub, EMPTY_MPAN, DEMO['fsp-a']);
    registrationConsent = rc.jti;
    const a = await hub.call('POST', '/api/v1/assets', {
      as: 'fsp-a',
      body: {
        name: 'Garage battery',
        category: 'BESS',
        ratedCapacityKw: 3,
        connectionStatus: 'CONNECTED',
        commissioningDate: '2025-01-01',
        dno: 'SPEN_SPM',
        importMpan: EMPTY_MPAN,
        serialNumber: 'HH-EMPTY-1',
        consentReference: rc.token,
      },
    });
    expect(a.status, a.text).toBe(201);
    registeredId = a.json.id;
  });

  it('lists the consents for its meter point with who, purpose, validity, state and the switches made under them', async () => {
    const t = await tokenOf('household-glasgow');
    const r = await get('/consumer/consents', t);
    expect(r.status).toBe(200);
    expect(r.json.items).toHaveLength(1);
    expect(r.json.items[0]).toMatchObject({
      id: switchConsent,
      mpan: BESS_MPAN,
      fsp: { id: DEMO['fsp-b'] },
      purpose: 'flexibility-services',
      state: 'ACTIVE',
      revokedAt: null,
      registeredAssets: [],
      switches: [{ id: switchId, assetId: bessId, status: 'PENDING', losingFspId: DEMO['fsp-a'], gainingFspId: DEMO['fsp-b'] }],
    });
  });

  it('another household cannot see or revoke it: CONSUMER-CONSENT-NOT-FOUND, nothing written', async () => {
    const t = await tokenOf('household-driveway');
    expect((await get('/consumer/consents', t)).json.items).toEqual([]);
    const before = Number((await hub.db.query(`SELECT count(*)::int AS n FROM consent_revocation`))[0].n);
    const r = await post(`/consumer/consents/${switchConsent}/revoke`, t, {});
    expect(r.status).toBe(404);
    expect(r.json.code).toBe('CONSUMER-CONSENT-NOT-FOUND');
    expect(Number((await hub.db.query(`SELECT count(*)::int AS n FROM consent_revocation`))[0].n)).toBe(before);
  });

  it('revoking the switch consent cancels the pending switch; the FSP sees it cancelled; a second revocation is CONSUMER-CONSENT-REVOKED', async () => {
    const t = await tokenOf('household-glasgow');
    const r = await post(`/consumer/consents/${switchConsent}/revoke`, t, { reason: 'changed my mind' });
    expect(r.status, r.text).toBe(200);
    expect(r.json.cancelledSwitches).toEqual([switchId]);
    expect(r.json.suspendedAssets).toEqual([]);
    expect(r.json.consent).toMatchObject({ state: 'REVOKED', switches: [{ id: switchId, status: 'CANCELLED' }] });
    const seen = await hub.call('GET', `/api/v1/switches/${switchId}`, { as: 'fsp-b' });
    expect(seen.json.status).toBe('CANCELLED');
    const again = await post(`/consumer/consents/${switchConsent}/revoke`, t, {});
    expect(again.status).toBe(409);
    expect(again.json.code).toBe('CONSUMER-CONSENT-REVOKED');
  });

  it('revoking the registration consent suspends the asset: the FSP reads it Suspended – Consent Revoked and gets the event', async () => {
    const t = await tokenOf('household-empty');
    const mine = await get('/consumer/consents', t);
    expect(mine.json.items).toHaveLength(1);
    expect(mine.json.items[0]).toMatchObject({ id: registrationConsent, registeredAssets: [registeredId], state: 'ACTIVE' });
    const r = await post(`/consumer/consents/${registrationConsent}/revoke`, t);
    expect(r.status, r.text).toBe(200);
    expect(r.json.suspendedAssets).toEqual([registeredId]);
    const fsp = await hub.call('GET', `/api/v1/assets/${registeredId}`, { as: 'fsp-a' });
    expect(fsp.json.status).toBe('SUSPENDED_CONSENT_REVOKED');
    const events = await hub.db.query<{ organisation_id: string }>(
      `SELECT organisation_id FROM event_outbox WHERE type = 'fmar.asset.consent-revoked' AND subject = $1`,
      [registeredId],
    );
    expect(events).toEqual([{ organisation_id: DEMO['fsp-a'] }]);
    const own = await get(`/consumer/assets/${registeredId}`, t);
    expect(own.json.status).toBe('SUSPENDED_CONSENT_REVOKED');
  });
});

describe('disputes and the portability export', () => {
  it('raises a dispute on its asset and follows it; the FSP sees it; another household does not; another’s asset is ASSET-NOT-FOUND', async () => {
    const t = await tokenOf('household-glasgow');
    const r = await post('/consumer/disputes', t, {
      assetId: bessId,
      fields: ['ratedCapacityKw'],
      claim: { summary: 'My battery is 10 kW, not 5', proposedValues: { ratedCapacityKw: 10 } },
      evidence: [{ description: 'The installer’s certificate says 10 kW.', url: 'https://evidence.example.com/certificate.pdf' }],
    });
    expect(r.status, r.text).toBe(201);
    expect(r.json.raisedBy.organisationId).toBeNull();
    expect(r.json.raisedBy.actor).toMatch(/^consumer:/);
    const id = r.json.id as string;
    const comment = await post(`/consumer/disputes/${id}/comments`, t, { body: 'Photo of the label to follow.' });
    expect(comment.status, comment.text).toBe(201);
    expect(comment.json.organisationId).toBeNull();
    const followed = await get(`/consumer/disputes/${id}`, t);
    expect(followed.status).toBe(200);
    expect(followed.json.comments).toHaveLength(1);
    expect((await get('/consumer/disputes', t)).json.items.map((d: { id: string }) => d.id)).toEqual([id]);
    const fsp = await hub.call('GET', `/api/v1/disputes/${id}`, { as: 'fsp-a' });
    expect(fsp.status).toBe(200);
    const other = await tokenOf('household-driveway');
    const hidden = await get(`/consumer/disputes/${id}`, other);
    expect(hidden.status).toBe(404);
    expect(hidden.json.code).toBe('DISPUTE-NOT-FOUND');
    const foreign = await post('/consumer/disputes', other, {
      assetId: bessId,
      fields: ['ratedCapacityKw'],
      claim: { summary: 'not mine' },
      evidence: [{ description: 'x', url: 'https://evidence.example.com/x.pdf' }],
    });
    expect(foreign.status).toBe(404);
    expect(foreign.json.code).toBe('ASSET-NOT-FOUND');
  });

  it('exports everything held about its meter points, with who read it, as JSON and as CSV', async () => {
    // The DNO reads FSP A's battery: a read of private data, logged.
    const read = await hub.call('GET', `/api/v1/assets/${bessId}`, { as: 'dno' });
    expect(read.status).toBe(200);
    const t = await tokenOf('household-glasgow');
    const r = await get('/consumer/export', t);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-disposition')).toMatch(/^attachment; filename="fmar-household-\d{4}-\d{2}-\d{2}\.json"$/);
    expect(r.json.meterPoints).toEqual([BESS_MPAN]);
    expect(r.json.assets.map((a: { id: string }) => a.id)).toEqual([bessId]);
    expect(r.json.consents).toHaveLength(1);
    expect(r.json.disputes).toHaveLength(1);
    const byDno = r.json.reads.filter((x: { reader: { organisationId: string } }) => x.reader.organisationId === DEMO.dno);
    expect(byDno).toHaveLength(1);
    expect(byDno[0]).toMatchObject({ action: 'asset.read', route: 'GET /api/v1/assets/{id}', reader: { kind: 'organisation' } });
    // Its own reads (this test's and the ones before) are not listed; another household's are, with no name.
    expect(r.json.reads.filter((x: { reader: { kind: string } }) => x.reader.kind === 'household')).toEqual([]);
    const csv = await hub.call('GET', '/api/v1/consumer/export?format=csv', { as: t });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const lines = csv.text.split('\r\n');
    expect(lines[0]).toBe('section,record,field,value');
    expect(lines).toContain(`assets,${bessId},importMpan,${BESS_MPAN}`);
    expect(lines).toContain(`meterPoints,,0,${BESS_MPAN}`);
  });

  it('a household’s reads are private reads: the FSP sees them; its export lists another household’s, not its own', async () => {
    const t = await tokenOf('household-glasgow');
    const me = (await get('/consumer/me', t)).json.subject as string;
    const since = Number((await hub.db.query(`SELECT coalesce(max(id), 0)::int AS n FROM audit_log`))[0].n);
    expect((await get('/consumer/assets', t)).status).toBe(200);
    expect((await get('/consumer/consents', t)).status).toBe(200);
    const logged = await hub.db.query<{ action: string; record_id: string; actor: unknown; detail: any }>(
      `SELECT action, record_id, actor, detail FROM audit_log WHERE id > $1 ORDER BY id`,
      [since],
    );
    const switches = (await get('/consumer/consents', t)).json.items.flatMap((c: any) => c.switches.map((x: any) => x.id));
    expect(logged.map((l) => [l.action, l.record_id, l.actor, l.detail.route, l.detail.organisations])).toEqual([
      ['asset.read', 'list', { sub: me, org: null, request_id: expect.any(String) }, 'GET /api/v1/consumer/assets', [DEMO['fsp-a']]],
      [
        'switch.consent-read',
        'list',
        { sub: me, org: null, request_id: expect.any(String) },
        'GET /api/v1/consumer/consents',
        [DEMO['fsp-a'], DEMO['fsp-b']].sort(),
      ],
    ]);
    expect(logged[0].detail.read).toEqual({ [DEMO['fsp-a']]: { records: 1, ids: [bessId] } });
    expect(logged[1].detail.read[DEMO['fsp-b']]).toEqual({ records: switches.length, ids: switches });
    // FSP A, whose battery it is, sees the household's read under its pseudonym, with no organisation.
    const fspReads = await hub.call('GET', `/api/v1/organisations/${DEMO['fsp-a']}/reads?limit=1000`, { as: 'fsp-a' });
    expect(fspReads.status).toBe(200);
    const byHousehold = fspReads.json.items.filter((x: any) => x.reader.subject === me && x.route === 'GET /api/v1/consumer/assets');
    expect(byHousehold.at(-1)).toMatchObject({ action: 'asset.read', reader: { organisationId: null }, recordIds: [bessId] });
    // Another person who signed in for the same meter point (a second pseudonym) reads the battery: listed in the export.
    const other = await signAccessToken(
      hub.keys,
      {
        iss: hub.cfg.issuer,
        aud: hub.cfg.audience,
        sub: 'consumer:another-person-at-this-meter-00',
        ttlSec: 60,
        jti: 'household-other-1',
        consumer: { mpans: [BESS_MPAN] },
        scope: 'consumer:read consumer:write',
      },
      hub.clock.now(),
    );
    expect((await get(`/consumer/assets/${bessId}`, other)).status).toBe(200);
    const reads = (await get('/consumer/export', t)).json.reads as { route: string; reader: { kind: string } }[];
    expect(reads.filter((x) => x.reader.kind === 'household')).toEqual([
      {
        at: expect.any(String),
        action: 'asset.read',
        route: 'GET /api/v1/consumer/assets/{id}',
        reader: { kind: 'household', organisationId: null, name: null, actingFor: null },
      },
    ]);
  });

  it('the test households are the stand-in’s choices', () => {
    expect(DEMO_HOUSEHOLDS.map((h) => h.id)).toEqual(['household-glasgow', 'household-driveway', 'household-empty']);
  });
});
