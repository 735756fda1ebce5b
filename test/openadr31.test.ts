import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPENADR_BASE } from '../openadr/index';
import type { OrganisationRole } from '../src/access/roles';
import { createClient } from '../src/identity/clients';
import { registerVen } from '../src/openadr/registrations';
import { registerVtn } from '../src/openadr/vtns';
import { registerOrganisation } from '../src/organisations/service';
import { DEMO, batteryInput, mpanFor, nodeTestHub, testHub, type TestHub } from './harness';
import { openadrContract, type Answer } from './openadr-conformance';

/**
 * The OpenADR 3.1 endpoints against the official OpenAPI document: every answer in this file,
 * success or refusal, is checked for its declared status, content type and body schema
 * (test/openadr-conformance.ts, with the documented overlay of test/openadr-overlay.ts).
 */

const contract = openadrContract();
let hub: TestHub;
let checked = 0;
const tokens: Record<string, string> = {};
const clients: Record<string, string> = {};
const vens: Record<string, string> = {};

/** Call `METHOD /openadr/3.1<url>` and check the answer against the document's `METHOD specPath`. */
async function oadr(
  method: string,
  specPath: string,
  url: string,
  o: { as?: string | null; body?: unknown; text?: string; contentType?: string } = {},
) {
  const r = await hub.call(method, `${OPENADR_BASE}${url}`, { ...o, as: o.as === undefined ? tokens.operator : o.as });
  const answer: Answer = {
    status: r.status,
    contentType: r.headers.get('content-type'),
    body: r.json ?? (r.text === '' ? undefined : r.text),
  };
  expect(contract.check(method, specPath, answer), `${method} ${url} → ${r.status} ${r.text.slice(0, 300)}`).toEqual([]);
  checked++;
  return r;
}
const ids = (xs: { id: string }[]) => xs.map((x) => x.id);
const attr = (o: any, type: string) => o.attributes.find((a: any) => a.type === type)?.values;

beforeAll(async () => {
  hub = await testHub();
  const sys = hub.system;
  const passport = { contacts: { primary: { firstName: 'Grid', lastName: 'Control', email: 'control@so.example' } } };
  const org = async (name: string, n: string, role: OrganisationRole) =>
    (
      await registerOrganisation(hub.ctx, sys, {
        legalName: name,
        organisationType: 'LTD',
        registrationNumber: n,
        roles: [role],
        status: 'ACTIVE',
        passport,
      })
    ).id;
  const so = await org('Demo System Operator Ltd', '09600001', 'SYSTEM_OPERATOR');
  const imp = await org('Demo Market Platform Ltd', '09600002', 'INDEPENDENT_MARKET_PLATFORM');
  const regulator = await org('Demo Regulator Ltd', '09600003', 'REGULATOR');
  await registerVtn(hub.ctx, sys, {
    code: 'SPEN',
    name: 'SPEN flexibility',
    protocol: '3.1',
    baseUrl: 'https://spen.vtn.example/openadr3',
    operatorId: imp,
  });
  await registerVtn(hub.ctx, sys, {
    code: 'NESO',
    name: 'NESO dispatch',
    protocol: '3.1',
    baseUrl: 'https://neso.vtn.example/openadr3',
    operatorId: so,
  });
  // VEN clients: API clients of the FSPs; a VEN token names its client in client_id.
  for (const [key, orgId] of [
    ['alpha', DEMO['fsp-a']],
    ['alpha2', DEMO['fsp-a']],
    ['beta', DEMO['fsp-b']],
  ] as const) {
    clients[key] = (
      await createClient(hub.ctx, sys, { name: `${key} VEN`, kind: 'machine', authMethod: 'client_secret_post', organisationId: orgId })
    ).clientId;
    tokens[key] = await hub.signer.sign({
      sub: `${key}-ven`,
      org: orgId,
      roles: orgId === DEMO['fsp-a'] ? ['FSP', 'AGGREGATOR'] : ['FSP'],
      clientId: clients[key],
    });
  }
  tokens.operator = await hub.token('operator');
  tokens.so = await hub.token({ org: so, roles: ['SYSTEM_OPERATOR'] });
  tokens.regulator = await hub.token({ org: regulator, roles: ['REGULATOR'] });
  tokens.dno = await hub.token('dno');
  tokens.noScope = await hub.token({ org: so, roles: ['SYSTEM_OPERATOR'], scope: 'assets:read' });
  const reg = async (key: string, orgId: string, vtn: string, venId: string, venName: string, targets: string[]) => {
    vens[key] = (
      await registerVen(hub.ctx, sys, { vtn, venId, venName, clientId: clients[key.replace(/-.*/, '')], targets, organisationId: orgId })
    ).id;
  };
  await reg('alpha', DEMO['fsp-a'], 'SPEN', 'SPEN-ven-alpha', 'alpha-spen', ['group-1', 'zone-a']);
  await reg('alpha2', DEMO['fsp-a'], 'NESO', 'NESO-ven-alpha', 'alpha-neso', ['group-1']);
  await reg('beta', DEMO['fsp-b'], 'SPEN', 'SPEN-ven-beta', 'beta-spen', ['group-2']);
}, 60_000);
afterAll(async () => {
  await hub?.close();
  expect(checked).toBeGreaterThan(60);
});

describe('authentication', () => {
  it('GET /auth/server names the token endpoint; POST /auth/token in this process points to the issuer (501)', async () => {
    const s = await oadr('GET', '/auth/server', '/auth/server', { as: null });
    expect(s.json).toEqual({ tokenURL: `http://hub.test${OPENADR_BASE}/auth/token` });
    const t = await oadr('POST', '/auth/token', '/auth/token', {
      as: null,
      text: 'grant_type=client_credentials&client_id=x&client_secret=y',
      contentType: 'application/x-www-form-urlencoded',
    });
    expect([t.status, t.json.code]).toEqual([501, 'OPENADR-TOKEN-ENDPOINT']);
    expect(t.json.detail).toContain('http://hub.test/oauth/token');
  });

  it('401 with WWW-Authenticate without or with a bad token; 403 without the role or the scope', async () => {
    const none = await oadr('GET', '/vens', '/vens', { as: null });
    expect([none.status, none.json.code, none.headers.get('www-authenticate')]).toEqual([401, 'AUTH-TOKEN-MISSING', 'Bearer realm="fmar"']);
    const bad = await oadr('GET', '/vens', '/vens', { as: 'not.a.token' });
    expect([bad.status, bad.json.code, bad.headers.get('www-authenticate')]).toEqual([
      401,
      'AUTH-TOKEN-INVALID',
      'Bearer realm="fmar", error="invalid_token"',
    ]);
    expect((await oadr('GET', '/resources', '/resources', { as: tokens.dno })).json).toMatchObject({
      status: 403,
      code: 'AUTH-ROLE-FORBIDDEN',
    });
    expect((await oadr('GET', '/vens/{venID}', `/vens/${vens.alpha}`, { as: tokens.noScope })).json).toMatchObject({
      status: 403,
      code: 'AUTH-SCOPE-MISSING',
    });
    // The regulator reads as BL but writes nothing: its roles carry no openadr:write.
    expect(
      (await oadr('POST', '/vens', '/vens', { as: tokens.regulator, body: { objectType: 'VEN_VEN_REQUEST', venName: 'x' } })).json,
    ).toMatchObject({ status: 403, code: 'AUTH-SCOPE-MISSING' });
    expect((await oadr('GET', '/vens', '/vens', { as: tokens.regulator })).json.length).toBe(3);
  });
});

describe('vens, as BL (the operator, SOs and IMPs)', () => {
  it('lists every live ven in object ID order, as the spec’s ven objects', async () => {
    const r = await oadr('GET', '/vens', '/vens');
    expect(ids(r.json)).toEqual([vens.alpha, vens.alpha2, vens.beta].sort());
    const alpha = r.json.find((v: any) => v.id === vens.alpha);
    expect(alpha).toMatchObject({ objectType: 'VEN', venName: 'alpha-spen', clientID: clients.alpha, targets: ['group-1', 'zone-a'] });
    expect(attr(alpha, 'VTN')).toEqual(['SPEN']);
    expect(attr(alpha, 'VEN_ID')).toEqual(['SPEN-ven-alpha']);
    expect(attr(alpha, 'FMAR_ORGANISATION_ID')).toEqual([DEMO['fsp-a']]);
    expect(ids((await oadr('GET', '/vens', '/vens', { as: tokens.so })).json)).toEqual(ids(r.json));
  });

  it('pages with skip and limit within the spec’s bounds and refuses the rest', async () => {
    const all = ids((await oadr('GET', '/vens', '/vens?limit=50')).json);
    const paged: string[] = [];
    for (let skip = 0; skip < all.length + 1; skip++) paged.push(...ids((await oadr('GET', '/vens', `/vens?skip=${skip}&limit=1`)).json));
    expect(paged).toEqual(all);
    expect((await oadr('GET', '/vens', '/vens?limit=0')).json).toEqual([]);
    expect((await oadr('GET', '/vens', '/vens?skip=100000')).json).toEqual([]);
    for (const [q, code] of [
      ['limit=51', 'OPENADR-QUERY-LIMIT'],
      ['limit=-1', 'OPENADR-QUERY-LIMIT'],
      ['limit=2.5', 'OPENADR-QUERY-LIMIT'],
      ['limit=ten', 'OPENADR-QUERY-LIMIT'],
      ['skip=-1', 'OPENADR-QUERY-SKIP'],
      ['skip=100001', 'OPENADR-QUERY-SKIP'],
    ]) {
      expect((await oadr('GET', '/vens', `/vens?${q}`)).json, q).toMatchObject({ status: 400, code });
    }
    expect((await oadr('GET', '/resources', '/resources?limit=51')).json).toMatchObject({ status: 400, code: 'OPENADR-QUERY-LIMIT' });
  });

  it('filters: venName, and targets (an object carrying any of them); filters of different kinds narrow together', async () => {
    expect(ids((await oadr('GET', '/vens', '/vens?venName=alpha-spen')).json)).toEqual([vens.alpha]);
    expect(ids((await oadr('GET', '/vens', '/vens?targets=group-1')).json)).toEqual([vens.alpha, vens.alpha2].sort());
    expect(ids((await oadr('GET', '/vens', '/vens?targets=zone-a&targets=group-2')).json)).toEqual([vens.alpha, vens.beta].sort());
    expect(ids((await oadr('GET', '/vens', '/vens?venName=beta-spen&targets=group-1')).json)).toEqual([]);
    expect(ids((await oadr('GET', '/vens', '/vens?venName=beta-spen&targets=group-2')).json)).toEqual([vens.beta]);
    expect((await oadr('GET', '/vens', `/vens?targets=${'t'.repeat(129)}`)).json).toMatchObject({
      status: 400,
      code: 'OPENADR-TARGET-FORMAT',
    });
    expect((await oadr('GET', '/vens', `/vens?venName=${'n'.repeat(129)}`)).json).toMatchObject({
      status: 400,
      code: 'OPENADR-VEN-NAME-FORMAT',
    });
  });

  it('reads one ven; IDs outside the pattern or over 128 characters are a 400, an unknown one a 404', async () => {
    expect((await oadr('GET', '/vens/{venID}', `/vens/${vens.beta}`)).json.venName).toBe('beta-spen');
    expect((await oadr('GET', '/vens/{venID}', '/vens/not.an.id')).json).toMatchObject({ status: 400 });
    expect((await oadr('GET', '/vens/{venID}', `/vens/${'a'.repeat(129)}`)).json).toMatchObject({ status: 400 });
    expect((await oadr('GET', '/vens/{venID}', '/vens/01JD8X6N2Q7ZB4Y3W5V6T7S8R9')).json).toMatchObject({
      status: 404,
      code: 'OPENADR-VEN-NOT-FOUND',
    });
  });

  it('creates, updates and deletes vens; conflicts and bad input are the spec’s 4xx with the rule code', async () => {
    const body = (extra: Record<string, unknown> = {}, attrs: { type: string; values: unknown[] }[] = []) => ({
      objectType: 'BL_VEN_REQUEST',
      clientID: 'beta-neso-client',
      venName: 'beta-neso',
      targets: ['group-2'],
      attributes: [
        { type: 'VTN', values: ['NESO'] },
        { type: 'VEN_ID', values: ['NESO-ven-beta'] },
        { type: 'FMAR_ORGANISATION_ID', values: [DEMO['fsp-b']] },
        ...attrs,
      ],
      ...extra,
    });
    const refused: [unknown, string][] = [
      [body({ venName: 'alpha-neso' }), 'OPENADR-VEN-NAME-TAKEN'],
      [
        body({
          attributes: [
            { type: 'VTN', values: ['NOPE'] },
            { type: 'VEN_ID', values: ['x'] },
            { type: 'FMAR_ORGANISATION_ID', values: [DEMO['fsp-b']] },
          ],
        }),
        'REQUEST-VALIDATION',
      ],
      [
        body({
          attributes: [
            { type: 'VTN', values: ['NESO'] },
            { type: 'VEN_ID', values: ['not an id'] },
            { type: 'FMAR_ORGANISATION_ID', values: [DEMO['fsp-b']] },
          ],
        }),
        'REQUEST-VALIDATION',
      ],
      [
        body({
          attributes: [
            { type: 'VTN', values: ['NESO'] },
            { type: 'VEN_ID', values: ['v'.repeat(129)] },
            { type: 'FMAR_ORGANISATION_ID', values: [DEMO['fsp-b']] },
          ],
        }),
        'REQUEST-VALIDATION',
      ],
      [body({ attributes: [{ type: 'VEN_ID', values: ['NESO-ven-x'] }] }), 'OPENADR-VTN-UNKNOWN'],
      [body({}, [{ type: 'REGISTRATION_STATUS', values: ['ACTIVE'] }]), 'OPENADR-ATTRIBUTE-RESERVED'],
      [body({ venName: '' }), 'REQUEST-VALIDATION'],
      [{ ...body(), objectType: 'VEN' }, 'REQUEST-VALIDATION'],
    ];
    for (const [b, code] of refused)
      expect((await oadr('POST', '/vens', '/vens', { body: b })).json, JSON.stringify(b)).toMatchObject({ status: 400, code });
    expect((await oadr('POST', '/vens', '/vens', { text: '{"objectType":', contentType: 'application/json' })).json).toMatchObject({
      status: 400,
      code: 'REQUEST-MALFORMED-JSON',
    });
    expect(
      (await oadr('POST', '/vens', '/vens', { text: 'venName=x', contentType: 'application/x-www-form-urlencoded' })).json,
    ).toMatchObject({ status: 400, code: 'REQUEST-UNSUPPORTED-MEDIA-TYPE' });

    const created = await oadr('POST', '/vens', '/vens', { body: body() });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ objectType: 'VEN', clientID: 'beta-neso-client', venName: 'beta-neso', targets: ['group-2'] });
    const id = created.json.id;
    // PUT what was read, changed: the derived attributes come back as they were.
    const put = await oadr('PUT', '/vens/{venID}', `/vens/${id}`, {
      body: { ...created.json, objectType: 'BL_VEN_REQUEST', targets: ['group-2', 'zone-b'], venName: 'beta-neso-1' },
    });
    expect(put.json).toMatchObject({ venName: 'beta-neso-1', targets: ['group-2', 'zone-b'] });
    expect((await oadr('PUT', '/vens/{venID}', `/vens/${id}`, { body: { ...body(), venName: 'alpha-neso' } })).json).toMatchObject({
      status: 409,
      code: 'OPENADR-VEN-NAME-TAKEN',
    });
    expect((await oadr('PUT', '/vens/{venID}', `/vens/${id}`, { body: body({}, []) })).json.venName).toBe('beta-neso');
    expect(
      (await oadr('PUT', '/vens/{venID}', `/vens/${id}`, { body: body({ attributes: [{ type: 'VEN_ID', values: ['NESO-other'] }] }) }))
        .json,
    ).toMatchObject({ status: 400, code: 'OPENADR-ATTRIBUTE-RESERVED' });
    expect((await oadr('PUT', '/vens/{venID}', '/vens/01JD8X6N2Q7ZB4Y3W5V6T7S8R9', { body: body() })).json).toMatchObject({ status: 404 });
    // A dispatch platform writes only on the VTNs it operates (the SO operates NESO, not SPEN).
    expect(
      (
        await oadr('PUT', '/vens/{venID}', `/vens/${vens.beta}`, {
          as: tokens.so,
          body: { objectType: 'VEN_VEN_REQUEST', venName: 'renamed' },
        })
      ).json,
    ).toMatchObject({ status: 404 });
    expect(
      (
        await oadr('PUT', '/vens/{venID}', `/vens/${id}`, {
          as: tokens.so,
          body: { objectType: 'VEN_VEN_REQUEST', venName: 'beta-neso-2' },
        })
      ).json.venName,
    ).toBe('beta-neso-2');

    const del = await oadr('DELETE', '/vens/{venID}', `/vens/${id}`);
    expect(attr(del.json, 'REGISTRATION_STATUS')).toEqual(['CANCELLED']);
    expect((await oadr('GET', '/vens/{venID}', `/vens/${id}`)).json).toMatchObject({ status: 404 });
    expect((await oadr('DELETE', '/vens/{venID}', `/vens/${id}`)).json).toMatchObject({ status: 404 });
    const [audit] = await hub.db.query<{ detail: any }>(
      `SELECT detail FROM audit_log WHERE record_id = $1 AND action = 'ven_registration.registered'`,
      [id],
    );
    expect(audit.detail.source).toBe('openadr3.1');
  });
});

describe('vens, as a VEN (an FSP’s client): only its own objects', () => {
  it('lists and reads only the vens of its own client: an empty list, never a 403, for the rest', async () => {
    expect(ids((await oadr('GET', '/vens', '/vens', { as: tokens.alpha })).json)).toEqual([vens.alpha]);
    expect(ids((await oadr('GET', '/vens', '/vens', { as: tokens.alpha2 })).json)).toEqual([vens.alpha2]);
    expect((await oadr('GET', '/vens', '/vens?venName=beta-spen', { as: tokens.alpha })).json).toEqual([]);
    expect((await oadr('GET', '/vens/{venID}', `/vens/${vens.beta}`, { as: tokens.alpha })).json).toMatchObject({
      status: 404,
      code: 'OPENADR-VEN-NOT-FOUND',
    });
    expect((await oadr('GET', '/vens/{venID}', `/vens/${vens.alpha2}`, { as: tokens.alpha })).json).toMatchObject({ status: 404 });
    expect((await oadr('GET', '/resources', `/resources?venID=${vens.beta}`, { as: tokens.alpha })).json).toEqual([]);
    const own = (await oadr('GET', '/resources', '/resources', { as: tokens.alpha })).json;
    expect(own.length).toBeGreaterThan(0);
    expect(new Set(own.map((r: any) => r.venID))).toEqual(new Set([vens.alpha]));
    const betas = (await oadr('GET', '/resources', '/resources', { as: tokens.beta })).json;
    expect(betas).toEqual([]); // fsp-b controls no assets
  });

  it('writes its own ven (venName, attributes) and nothing else: targets, clientID or another organisation are a 403', async () => {
    const mine = {
      objectType: 'VEN_VEN_REQUEST',
      venName: 'alpha-self',
      attributes: [
        { type: 'VTN', values: ['NESO'] },
        { type: 'VEN_ID', values: ['NESO-ven-alpha-self'] },
        { type: 'BATTERY_FLEET', values: ['glasgow'] },
      ],
    };
    const refused: [unknown][] = [
      [{ ...mine, targets: ['group-1'] }],
      [{ ...mine, objectType: 'BL_VEN_REQUEST', clientID: clients.alpha }],
      [{ ...mine, clientID: 'other' }],
      [{ ...mine, attributes: [...mine.attributes, { type: 'FMAR_ORGANISATION_ID', values: [DEMO['fsp-b']] }] }],
    ];
    for (const [b] of refused)
      expect((await oadr('POST', '/vens', '/vens', { as: tokens.alpha, body: b })).json, JSON.stringify(b)).toMatchObject({
        status: 403,
        code: 'OPENADR-VEN-ROLE-FORBIDDEN',
      });
    const c = await oadr('POST', '/vens', '/vens', { as: tokens.alpha, body: mine });
    expect(c.json).toMatchObject({ objectType: 'VEN', clientID: clients.alpha, venName: 'alpha-self', targets: [] });
    expect(attr(c.json, 'BATTERY_FLEET')).toEqual(['glasgow']);
    const u = await oadr('PUT', '/vens/{venID}', `/vens/${c.json.id}`, {
      as: tokens.alpha,
      body: { objectType: 'VEN_VEN_REQUEST', venName: 'alpha-self-2' },
    });
    expect([u.json.venName, attr(u.json, 'BATTERY_FLEET')]).toEqual(['alpha-self-2', undefined]);
    expect(
      (
        await oadr('PUT', '/vens/{venID}', `/vens/${c.json.id}`, {
          as: tokens.alpha,
          body: { objectType: 'VEN_VEN_REQUEST', venName: 'x', targets: ['t'] },
        })
      ).json,
    ).toMatchObject({ status: 403, code: 'OPENADR-VEN-ROLE-FORBIDDEN' });
    expect(
      (
        await oadr('PUT', '/vens/{venID}', `/vens/${vens.beta}`, {
          as: tokens.alpha,
          body: { objectType: 'VEN_VEN_REQUEST', venName: 'x' },
        })
      ).json,
    ).toMatchObject({ status: 404 });
    expect((await oadr('DELETE', '/vens/{venID}', `/vens/${vens.beta}`, { as: tokens.alpha })).json).toMatchObject({ status: 404 });
    expect((await oadr('DELETE', '/vens/{venID}', `/vens/${c.json.id}`, { as: tokens.alpha })).status).toBe(200);
  });
});

describe('resources: the assets controlled by each VEN’s organisation', () => {
  it('maps assets to resources: resourceName = asset ID, the attributes and targets of docs/openadr.md', async () => {
    const r = await oadr('GET', '/resources', `/resources?venID=${vens.alpha}`);
    const [{ id: assetId }] = await hub.db.query(`SELECT id FROM asset WHERE friendly_code = 'ALPHA-BESS-1'`);
    const battery = r.json.find((x: any) => x.resourceName === assetId);
    expect(battery).toMatchObject({
      objectType: 'RESOURCE',
      venID: vens.alpha,
      clientID: clients.alpha,
      id: `${vens.alpha}_${assetId}`,
      targets: ['DNO:SPEN_SPM', 'GSP_GROUP:_N'],
    });
    expect(Object.fromEntries(battery.attributes.map((a: any) => [a.type, a.values]))).toEqual({
      DESCRIPTION: ['BESS: Home battery (Glasgow)'],
      MAX_POWER_EXPORT: [5],
      MAX_POWER_CONSUMPTION: [5],
      FMAR_ASSET_ID: [assetId],
      MPAN: ['1312345678907'],
      DNO: ['SPEN_SPM'],
      GSP_GROUP: ['_N'],
    });
    // Ordered by VEN then asset ID, which is the object ID's order.
    const all = (await oadr('GET', '/resources', '/resources')).json;
    expect(ids(all)).toEqual([...ids(all)].sort());
    expect(new Set(all.map((x: any) => x.venID))).toEqual(new Set([vens.alpha, vens.alpha2]));
  });

  it('LOCATION is one point, x = longitude and y = latitude', async () => {
    const out = await hub.call('POST', '/api/v1/assets', {
      as: 'fsp-a',
      body: {
        name: 'Located battery',
        category: 'BESS',
        ratedCapacityKw: 3,
        connectionStatus: 'PENDING',
        dno: 'SPEN_SPM',
        importMpan: '1300000000034',
        location: { gspGroup: '_N', latitude: 55.86, longitude: -4.25 },
      },
    });
    expect(out.status, JSON.stringify(out.json)).toBe(201);
    const [r] = (await oadr('GET', '/resources', `/resources?venID=${vens.alpha}&resourceName=${out.json.id}`)).json;
    expect(attr(r, 'LOCATION')).toEqual([{ x: -4.25, y: 55.86 }]);
  });

  it('filters by venID, resourceName and targets (any of them); reads one; refuses what it cannot be', async () => {
    const alphaOnes = (await oadr('GET', '/resources', `/resources?venID=${vens.alpha}`)).json;
    const first = alphaOnes[0];
    expect(ids((await oadr('GET', '/resources', `/resources?resourceName=${first.resourceName}`)).json)).toEqual(
      [first.id, `${vens.alpha2}_${first.resourceName}`].sort(),
    );
    const inN = ids(alphaOnes.filter((x: any) => x.targets.includes('GSP_GROUP:_N')));
    expect(inN).toHaveLength(2);
    expect(ids((await oadr('GET', '/resources', `/resources?venID=${vens.alpha}&targets=GSP_GROUP:_N`)).json)).toEqual(inN);
    expect((await oadr('GET', '/resources', `/resources?venID=${vens.alpha}&targets=DNO:SPEN_SPM&targets=DNO:UKPN_EPN`)).json.length).toBe(
      alphaOnes.length,
    );
    expect((await oadr('GET', '/resources', `/resources?venID=${vens.alpha}&targets=DNO:UKPN_EPN`)).json).toEqual([]);
    expect((await oadr('GET', '/resources', `/resources?venID=${vens.alpha}&targets=group-1`)).json).toEqual([]);
    expect(ids((await oadr('GET', '/resources', `/resources?venID=${vens.alpha}&skip=1&limit=1`)).json)).toEqual([alphaOnes[1].id]);
    expect((await oadr('GET', '/resources', '/resources?venID=not.an.id')).json).toMatchObject({ status: 400 });
    expect((await oadr('GET', '/resources/{resourceID}', `/resources/${first.id}`)).json).toEqual(first);
    expect((await oadr('GET', '/resources/{resourceID}', `/resources/${first.id}`, { as: tokens.beta })).json).toMatchObject({
      status: 404,
      code: 'OPENADR-RESOURCE-NOT-FOUND',
    });
    expect((await oadr('GET', '/resources/{resourceID}', '/resources/no_such')).json).toMatchObject({ status: 404 });
    expect((await oadr('GET', '/resources/{resourceID}', '/resources/bad%20id')).json).toMatchObject({ status: 400 });
    // Without bindings a resource is implied: it cannot be changed or deleted until it is bound.
    const put = { ...first, objectType: 'BL_RESOURCE_REQUEST', resourceName: 'renamed' };
    expect((await oadr('PUT', '/resources/{resourceID}', `/resources/${first.id}`, { body: put })).json).toMatchObject({
      status: 409,
      code: 'OPENADR-RESOURCE-IMPLICIT',
    });
    expect((await oadr('DELETE', '/resources/{resourceID}', `/resources/${first.id}`)).json).toMatchObject({
      status: 400,
      code: 'OPENADR-RESOURCE-IMPLICIT',
    });
  });
});

describe('resource writes: binding assets to a VEN', () => {
  const bl = (venID: string, clientID: string, extra: Record<string, unknown> = {}) => ({
    objectType: 'BL_RESOURCE_REQUEST',
    venID,
    clientID,
    ...extra,
  });
  const listOf = async (venID: string, as = tokens.operator) => (await oadr('GET', '/resources', `/resources?venID=${venID}`, { as })).json;
  let battery: string; // fsp-a's Glasgow battery
  let located: string; // fsp-a's located battery (MPAN 1300000000034)
  let foreign: string; // an asset fsp-b controls
  let bound: any;
  let fallback: string[]; // the resources of vens.alpha before any binding: its organisation's assets
  beforeAll(async () => {
    [{ id: battery }] = await hub.db.query(`SELECT id FROM asset WHERE friendly_code = 'ALPHA-BESS-1'`);
    [{ id: located }] = await hub.db.query(`SELECT id FROM asset WHERE import_mpan = '1300000000034'`);
    const out = await hub.call('POST', '/api/v1/assets', { as: 'fsp-b', body: batteryInput(7301) });
    expect(out.status, JSON.stringify(out.json)).toBe(201);
    foreign = out.json.id;
  });

  it('BL binds an asset named by FMAR_ASSET_ID: the VEN then stands for exactly its bound assets, audited and announced', async () => {
    const before = await listOf(vens.alpha);
    expect(before.length).toBeGreaterThan(2);
    fallback = ids(before);
    const r = await oadr('POST', '/resources', '/resources', {
      body: bl(vens.alpha, clients.alpha, {
        resourceName: 'glasgow-battery',
        targets: ['group-1', 'DNO:SPEN_SPM'],
        attributes: [
          { type: 'FMAR_ASSET_ID', values: [battery] },
          { type: 'FLEET', values: ['north'] },
        ],
      }),
    });
    expect(r.status).toBe(201);
    bound = r.json;
    expect(bound).toMatchObject({
      id: `${vens.alpha}_${battery}`,
      objectType: 'RESOURCE',
      resourceName: 'glasgow-battery',
      venID: vens.alpha,
      clientID: clients.alpha,
      targets: ['DNO:SPEN_SPM', 'GSP_GROUP:_N', 'group-1'],
    });
    expect([attr(bound, 'FMAR_ASSET_ID'), attr(bound, 'FLEET'), attr(bound, 'MAX_POWER_EXPORT')]).toEqual([[battery], ['north'], [5]]);
    expect(await listOf(vens.alpha)).toEqual([bound]);
    expect((await oadr('GET', '/resources/{resourceID}', `/resources/${bound.id}`)).json).toEqual(bound);
    expect(ids(await listOf(vens.alpha2)).length).toBe(before.length); // alpha2 has no bindings: the fallback
    expect(ids((await oadr('GET', '/resources', `/resources?venID=${vens.alpha}&resourceName=glasgow-battery`)).json)).toEqual([bound.id]);
    expect(ids((await oadr('GET', '/resources', `/resources?venID=${vens.alpha}&targets=group-1`)).json)).toEqual([bound.id]);
    // Resolution answers the bound assets; the asset's reverse view drops a VEN that no longer stands for it.
    const res = await hub.call('GET', '/api/v1/ven-registrations/resolve?vtn=SPEN&venId=SPEN-ven-alpha', { as: tokens.so });
    expect([res.status, res.json.assets.items.map((a: any) => a.id), res.json.assets.items[0].resource]).toEqual([200, [battery], bound]);
    const other = before.find((x: any) => x.resourceName !== battery).resourceName;
    expect(
      (await hub.call('GET', `/api/v1/assets/${other}/ven-registrations`, { as: tokens.so })).json.items.map((x: any) => x.id),
    ).toEqual([vens.alpha2]);
    const [binding] = await hub.db.query(`SELECT id FROM ven_resource WHERE registration_id = $1 AND asset_id = $2`, [vens.alpha, battery]);
    const audit = await hub.db.query<{ action: string; detail: any }>(`SELECT action, detail FROM audit_log WHERE record_id = $1`, [
      binding.id,
    ]);
    expect(audit.map((a) => [a.action, a.detail.assetId, a.detail.source])).toEqual([['ven_resource.created', battery, 'openadr3.1']]);
    const events = await hub.db.query(`SELECT type, organisation_id FROM event_outbox WHERE subject = $1 ORDER BY organisation_id`, [
      binding.id,
    ]);
    expect(events.map((e) => e.type)).toEqual(['fmar.ven-resource.created', 'fmar.ven-resource.created']); // the FSP and the VTN's operator
  });

  it('names the asset by MPAN (resourceName defaults to the asset ID) or by resourceName = asset ID; one VEN per asset per VTN', async () => {
    const byMpan = await oadr('POST', '/resources', '/resources', {
      body: bl(vens.alpha, clients.alpha, { attributes: [{ type: 'MPAN', values: ['1300000000034'] }] }),
    });
    expect([byMpan.status, byMpan.json.resourceName, byMpan.json.id]).toEqual([201, located, `${vens.alpha}_${located}`]);
    // Another VTN, another VEN of the same organisation: the same asset may be bound there.
    const neso = await oadr('POST', '/resources', '/resources', {
      as: tokens.so,
      body: bl(vens.alpha2, clients.alpha2, { resourceName: battery }),
    });
    expect([neso.status, neso.json.resourceName, neso.json.targets]).toEqual([201, battery, ['DNO:SPEN_SPM', 'GSP_GROUP:_N']]);
    expect(ids(await listOf(vens.alpha2))).toEqual([neso.json.id]);
  });

  it('refuses what a binding cannot be, with the spec’s statuses and the rule codes', async () => {
    const [{ id: spare }] = await hub.db.query(
      `SELECT id FROM asset WHERE fsp_id = $1 AND id NOT IN ($2, $3) AND deregistered_at IS NULL LIMIT 1`,
      [DEMO['fsp-a'], battery, located],
    );
    const refused: [unknown, number, string][] = [
      [
        bl(vens.alpha, clients.alpha, { resourceName: 'glasgow-battery', attributes: [{ type: 'FMAR_ASSET_ID', values: [spare] }] }),
        409,
        'OPENADR-RESOURCE-NAME-TAKEN',
      ],
      [
        bl(vens.alpha, clients.alpha, { resourceName: 'again', attributes: [{ type: 'FMAR_ASSET_ID', values: [battery] }] }),
        409,
        'OPENADR-RESOURCE-ASSET-BOUND',
      ],
      [bl(vens.alpha, clients.alpha, { resourceName: foreign }), 400, 'OPENADR-RESOURCE-ASSET'],
      [bl(vens.beta, clients.beta, { resourceName: spare }), 400, 'OPENADR-RESOURCE-ASSET'],
      [bl(vens.alpha, clients.alpha, { resourceName: '01JD8X6N2Q7ZB4Y3W5V6T7S8R9' }), 400, 'OPENADR-RESOURCE-ASSET'],
      [bl(vens.alpha, clients.alpha, { attributes: [{ type: 'MPAN', values: [mpanFor(99_999)] }] }), 400, 'OPENADR-RESOURCE-ASSET'],
      [
        bl(vens.alpha, clients.alpha, { resourceName: spare, attributes: [{ type: 'MAX_POWER_EXPORT', values: [99] }] }),
        400,
        'OPENADR-RESOURCE-ATTRIBUTE-RESERVED',
      ],
      [bl(vens.alpha, clients.alpha, { resourceName: spare, targets: ['DNO:UKPN_EPN'] }), 400, 'OPENADR-RESOURCE-ATTRIBUTE-RESERVED'],
      [bl(vens.alpha, 'someone-else', { resourceName: spare }), 400, 'OPENADR-RESOURCE-VEN-FIXED'],
      [bl('01JD8X6N2Q7ZB4Y3W5V6T7S8R9', clients.alpha, { resourceName: spare }), 404, 'OPENADR-VEN-NOT-FOUND'],
      [{ objectType: 'RESOURCE', venID: vens.alpha, resourceName: spare }, 400, 'REQUEST-VALIDATION'],
    ];
    for (const [b, status, code] of refused)
      expect((await oadr('POST', '/resources', '/resources', { body: b })).json, JSON.stringify(b)).toMatchObject({ status, code });
    expect(
      (
        await oadr('POST', '/resources', '/resources', {
          as: tokens.regulator,
          body: bl(vens.alpha, clients.alpha, { resourceName: spare }),
        })
      ).json,
    ).toMatchObject({ status: 403, code: 'AUTH-SCOPE-MISSING' });
    // A dispatch platform writes only on the VTNs it operates (the SO operates NESO, not SPEN).
    expect(
      (await oadr('POST', '/resources', '/resources', { as: tokens.so, body: bl(vens.alpha, clients.alpha, { resourceName: spare }) }))
        .json,
    ).toMatchObject({ status: 404 });
    expect(ids(await listOf(vens.alpha))).toEqual([`${vens.alpha}_${battery}`, `${vens.alpha}_${located}`].sort());
  });

  it('BL updates resourceName, targets and further attributes; the register’s attributes and the ven stay fixed', async () => {
    const sent = {
      ...bound,
      objectType: 'BL_RESOURCE_REQUEST',
      resourceName: 'glasgow-bess',
      targets: [...bound.targets, 'zone-a'],
      attributes: [...bound.attributes.filter((a: any) => a.type !== 'FLEET'), { type: 'FLEET', values: ['south'] }],
    };
    const r = await oadr('PUT', '/resources/{resourceID}', `/resources/${bound.id}`, { body: sent });
    expect(r.json).toMatchObject({
      id: bound.id,
      resourceName: 'glasgow-bess',
      targets: ['DNO:SPEN_SPM', 'GSP_GROUP:_N', 'group-1', 'zone-a'],
      createdDateTime: bound.createdDateTime,
    });
    expect(attr(r.json, 'FLEET')).toEqual(['south']);
    bound = r.json;
    const url = `/resources/${bound.id}`;
    const with1 = (patch: Record<string, unknown>) => ({ ...sent, resourceName: 'glasgow-bess', ...patch });
    expect(
      (await oadr('PUT', '/resources/{resourceID}', url, { body: with1({ attributes: [{ type: 'MAX_POWER_EXPORT', values: [50] }] }) }))
        .json,
    ).toMatchObject({ status: 400, code: 'OPENADR-RESOURCE-ATTRIBUTE-RESERVED' });
    expect(
      (await oadr('PUT', '/resources/{resourceID}', url, { body: with1({ attributes: [{ type: 'FMAR_ASSET_ID', values: [located] }] }) }))
        .json,
    ).toMatchObject({ status: 400, code: 'OPENADR-RESOURCE-ATTRIBUTE-RESERVED' });
    expect((await oadr('PUT', '/resources/{resourceID}', url, { body: with1({ venID: vens.beta }) })).json).toMatchObject({
      status: 400,
      code: 'OPENADR-RESOURCE-VEN-FIXED',
    });
    expect((await oadr('PUT', '/resources/{resourceID}', url, { body: with1({ resourceName: located }) })).json).toMatchObject({
      status: 409,
      code: 'OPENADR-RESOURCE-NAME-TAKEN',
    });
    expect((await oadr('PUT', '/resources/{resourceID}', `/resources/${vens.beta}_${battery}`, { body: with1({}) })).json).toMatchObject({
      status: 404,
      code: 'OPENADR-RESOURCE-NOT-FOUND',
    });
    const [binding] = await hub.db.query(`SELECT id FROM ven_resource WHERE registration_id = $1 AND asset_id = $2`, [vens.alpha, battery]);
    const [audit] = await hub.db.query<{ detail: any }>(
      `SELECT detail FROM audit_log WHERE record_id = $1 AND action = 'ven_resource.updated'`,
      [binding.id],
    );
    expect(audit.detail.before).toMatchObject({ resourceName: 'glasgow-battery', targets: ['group-1'] });
  });

  it('a VEN client reads only its own ven’s resources and writes them as VEN_RESOURCE_REQUEST only: no targets, no clientID', async () => {
    expect(ids((await oadr('GET', '/resources', '/resources', { as: tokens.alpha })).json)).toEqual(ids(await listOf(vens.alpha)));
    expect((await oadr('GET', '/resources', `/resources?venID=${vens.alpha}`, { as: tokens.beta })).json).toEqual([]);
    expect((await oadr('GET', '/resources', `/resources?venID=${vens.alpha}`, { as: tokens.alpha2 })).json).toEqual([]);
    expect((await oadr('GET', '/resources/{resourceID}', `/resources/${bound.id}`, { as: tokens.beta })).json).toMatchObject({
      status: 404,
      code: 'OPENADR-RESOURCE-NOT-FOUND',
    });
    const url = `/resources/${bound.id}`;
    const mine = { objectType: 'VEN_RESOURCE_REQUEST', venID: vens.alpha, resourceName: 'my-battery' };
    for (const b of [
      { ...mine, targets: ['group-9'] },
      { ...mine, clientID: clients.alpha },
      bl(vens.alpha, clients.alpha, { resourceName: 'x' }),
    ]) {
      expect((await oadr('PUT', '/resources/{resourceID}', url, { as: tokens.alpha, body: b })).json, JSON.stringify(b)).toMatchObject({
        status: 403,
        code: 'OPENADR-VEN-ROLE-FORBIDDEN',
      });
    }
    expect(
      (await oadr('POST', '/resources', '/resources', { as: tokens.alpha, body: { ...mine, targets: ['group-9'] } })).json,
    ).toMatchObject({ status: 403, code: 'OPENADR-VEN-ROLE-FORBIDDEN' });
    expect((await oadr('POST', '/resources', '/resources', { as: tokens.beta, body: mine })).json).toMatchObject({
      status: 404,
      code: 'OPENADR-VEN-NOT-FOUND',
    });
    expect((await oadr('DELETE', '/resources/{resourceID}', url, { as: tokens.beta })).json).toMatchObject({ status: 404 });
    const r = await oadr('PUT', '/resources/{resourceID}', url, { as: tokens.alpha, body: mine });
    expect([r.status, r.json.resourceName, r.json.targets, attr(r.json, 'FLEET')]).toEqual([200, 'my-battery', bound.targets, undefined]);
  });

  it('deleting a binding leaves the asset registered; the last one gone, the VEN stands for its organisation’s assets again', async () => {
    const url = `/resources/${vens.alpha}_${located}`;
    const d = await oadr('DELETE', '/resources/{resourceID}', url);
    expect([d.status, d.json.resourceName]).toEqual([200, located]);
    expect((await oadr('GET', '/resources/{resourceID}', url)).json).toMatchObject({ status: 404 });
    const [asset] = await hub.db.query(`SELECT deregistered_at FROM asset WHERE id = $1`, [located]);
    expect(asset.deregistered_at).toBeNull();
    expect((await hub.call('GET', `/api/v1/assets/${located}`, { as: 'fsp-a' })).status).toBe(200);
    expect((await oadr('DELETE', '/resources/{resourceID}', `/resources/${vens.alpha}_${battery}`, { as: tokens.alpha })).status).toBe(200);
    // The fallback again: the same resources as before the first binding, the battery among them.
    expect(ids(await listOf(vens.alpha))).toEqual(fallback);
    expect(fallback).toContain(`${vens.alpha}_${battery}`);
    const actions = await hub.db.query(
      `SELECT a.action FROM audit_log a JOIN ven_resource b ON b.id = a.record_id WHERE b.registration_id = $1 ORDER BY a.id`,
      [vens.alpha],
    );
    expect(actions.map((a) => a.action).filter((a) => a === 'ven_resource.deleted')).toHaveLength(2);
  });

  it('a binding whose asset left the VEN’s organisation (a switch) gives way to the new FSP’s VEN on the VTN', async () => {
    const b = await oadr('POST', '/resources', '/resources', {
      as: tokens.beta,
      body: { objectType: 'VEN_RESOURCE_REQUEST', venID: vens.beta, resourceName: foreign },
    });
    expect([b.status, b.json.clientID]).toEqual([201, clients.beta]);
    await hub.db.query(`UPDATE asset SET fsp_id = $2 WHERE id = $1`, [foreign, DEMO['fsp-a']]); // as a switch to fsp-a would
    expect(await listOf(vens.beta)).toEqual([]); // hidden: fsp-b no longer controls it
    const a = await oadr('POST', '/resources', '/resources', { body: bl(vens.alpha, clients.alpha, { resourceName: foreign }) });
    expect([a.status, a.json.venID]).toEqual([201, vens.alpha]);
    const [old] = await hub.db.query<{ id: string; deleted_at: Date | null; detail: any }>(
      `SELECT b.id, b.deleted_at, (SELECT detail FROM audit_log WHERE record_id = b.id AND action = 'ven_resource.deleted') AS detail FROM ven_resource b WHERE registration_id = $1`,
      [vens.beta],
    );
    expect([old.deleted_at !== null, old.detail.reason]).toEqual([true, 'the asset is no longer controlled by the VEN’s organisation']);
  });

  it('cancelling a ven releases its bindings', async () => {
    expect((await oadr('DELETE', '/vens/{venID}', `/vens/${vens.alpha2}`, { as: tokens.so })).status).toBe(200);
    expect((await hub.db.query(`SELECT 1 FROM ven_resource WHERE registration_id = $1 AND deleted_at IS NULL`, [vens.alpha2])).length).toBe(
      0,
    );
    const [audit] = await hub.db.query<{ detail: any }>(
      `SELECT detail FROM audit_log WHERE record_id = $1 AND action = 'ven_registration.cancelled'`,
      [vens.alpha2],
    );
    expect(audit.detail.releasedResources).toEqual([battery]);
  });
});

describe('programs and events', () => {
  it('answer an empty list to BL and VEN clients, so generic VEN clients start cleanly', async () => {
    for (const as of [tokens.operator, tokens.alpha]) {
      expect((await oadr('GET', '/programs', '/programs', { as })).json).toEqual([]);
      expect((await oadr('GET', '/events', '/events?active=true', { as })).json).toEqual([]);
    }
    expect((await oadr('GET', '/events', '/events?limit=51')).json).toMatchObject({ status: 400, code: 'OPENADR-QUERY-LIMIT' });
  });
});

describe('the conformance overlay', () => {
  it('is needed: the published document refuses a real ven object, the overlaid one accepts it', async () => {
    const [ven] = (await hub.call('GET', `${OPENADR_BASE}/vens?limit=1`, { as: tokens.operator })).json;
    const answer = { status: 200, contentType: 'application/json', body: [ven] };
    expect(openadrContract({ overlay: false }).check('GET', '/vens', answer).join('\n')).toMatch(/objectType/);
    expect(contract.check('GET', '/vens', answer)).toEqual([]);
  });
});

describe('POST /auth/token on Node', () => {
  it('is the hub’s token endpoint: client credentials give a token the 3.1 endpoints take', async () => {
    const node = await nodeTestHub();
    try {
      const c = await createClient(
        node.ctx,
        { ...hub.system },
        { name: 'SO dispatch', kind: 'machine', authMethod: 'client_secret_post', organisationId: DEMO.operator },
      );
      const server = (await (await fetch(`${node.base}${OPENADR_BASE}/auth/server`)).json()) as { tokenURL: string };
      expect(server.tokenURL).toBe(`${node.base}${OPENADR_BASE}/auth/token`);
      const form = (secret: string) =>
        new URLSearchParams({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: secret, scope: 'openadr:read' });
      const ok = await fetch(server.tokenURL, {
        method: 'POST',
        body: form(c.clientSecret!),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      const token = (await ok.json()) as any;
      expect(
        contract.check('POST', '/auth/token', { status: ok.status, contentType: ok.headers.get('content-type'), body: token }),
      ).toEqual([]);
      expect([ok.status, token.token_type, token.scope]).toEqual([200, 'Bearer', 'openadr:read']);
      const vensRes = await fetch(`${node.base}${OPENADR_BASE}/vens`, { headers: { authorization: `Bearer ${token.access_token}` } });
      expect(
        contract.check('GET', '/vens', {
          status: vensRes.status,
          contentType: vensRes.headers.get('content-type'),
          body: await vensRes.json(),
        }),
      ).toEqual([]);
      expect(vensRes.status).toBe(200);
      const bad = await fetch(server.tokenURL, {
        method: 'POST',
        body: form('wrong'),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(
        contract.check('POST', '/auth/token', { status: bad.status, contentType: bad.headers.get('content-type'), body: await bad.json() }),
      ).toEqual([]);
      expect(bad.status).toBe(401);
    } finally {
      await node.close();
    }
  }, 60_000);
});
