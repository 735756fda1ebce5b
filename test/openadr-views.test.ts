import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPENADR_BASE } from '../openadr/index';
import type { OrganisationRole } from '../src/access/roles';
import { createClient } from '../src/identity/clients';
import { registerVen } from '../src/openadr/registrations';
import { registerVtn } from '../src/openadr/vtns';
import { registerOrganisation } from '../src/organisations/service';
import { DEMO, testHub, type TestHub } from './harness';
import { openadrContract, type Answer } from './openadr-conformance';

/**
 * OpenADR 3.1 per VTN (docs/openadr.md, "One VTN's view"), OpenADR's own scopes ("Scopes") and the
 * operations a register does not serve ("Operations the register does not serve"). Every answer is
 * checked against the official document, as in test/openadr31.test.ts.
 */

const contract = openadrContract();
let hub: TestHub;
let so: string;
let regulator: string;
const tokens: Record<string, string> = {};
const clients: Record<string, string> = {};
const regs: Record<string, string> = {};
let spenRecordId: string;
let battery: string;

async function oadr(method: string, specPath: string, url: string, o: { as?: string | null; body?: unknown } = {}) {
  const r = await hub.call(method, `${OPENADR_BASE}${url}`, { ...o, as: o.as === undefined ? tokens.operator : o.as });
  const answer: Answer = {
    status: r.status,
    contentType: r.headers.get('content-type'),
    body: r.json ?? (r.text === '' ? undefined : r.text),
  };
  expect(contract.check(method, specPath, answer), `${method} ${url} → ${r.status} ${r.text.slice(0, 300)}`).toEqual([]);
  return r;
}
const ids = (xs: { id: string }[]) => xs.map((x) => x.id);
const attr = (o: any, type: string) => o.attributes.find((a: any) => a.type === type)?.values;
const sign = (org: string, roles: OrganisationRole[], scope: string, clientId?: string) =>
  hub.signer.sign({ sub: `${org}-${scope}`, org, roles, scope, clientId });

beforeAll(async () => {
  hub = await testHub();
  const sys = hub.system;
  const passport = { contacts: { primary: { firstName: 'Grid', lastName: 'Control', email: 'control@views.example' } } };
  const org = async (legalName: string, n: string, role: OrganisationRole) =>
    (
      await registerOrganisation(hub.ctx, sys, {
        legalName,
        organisationType: 'LTD',
        registrationNumber: n,
        roles: [role],
        status: 'ACTIVE',
        passport,
      })
    ).id;
  so = await org('Views System Operator Ltd', '09900001', 'SYSTEM_OPERATOR');
  const imp = await org('Views Market Platform Ltd', '09900002', 'INDEPENDENT_MARKET_PLATFORM');
  regulator = await org('Views Regulator Ltd', '09900003', 'REGULATOR');
  spenRecordId = (
    await registerVtn(hub.ctx, sys, { code: 'SPEN', name: 'SPEN', protocol: '3.1', baseUrl: 'https://spen.example/oadr3', operatorId: imp })
  ).id;
  await registerVtn(hub.ctx, sys, { code: 'NESO', name: 'NESO', protocol: '3.1', baseUrl: 'https://neso.example/oadr3', operatorId: so });
  await registerVtn(hub.ctx, sys, { code: 'NGED', name: 'NGED (2.0b)', protocol: '2.0b', vtnId: 'NGED-VTN', operatorId: imp });
  for (const [key, orgId] of [
    ['alpha', DEMO['fsp-a']],
    ['beta', DEMO['fsp-b']],
  ] as const) {
    clients[key] = (
      await createClient(hub.ctx, sys, { name: `${key} VEN`, kind: 'machine', authMethod: 'client_secret_post', organisationId: orgId })
    ).clientId;
    tokens[key] = await hub.signer.sign({ sub: `${key}-ven`, org: orgId, roles: ['FSP'], clientId: clients[key] });
  }
  clients.so = (
    await createClient(hub.ctx, sys, { name: 'SO client', kind: 'machine', authMethod: 'client_secret_post', organisationId: so })
  ).clientId;
  tokens.operator = await hub.token('operator');
  // The same venName on two VTNs: allowed, names are unique per VTN.
  const reg = async (key: string, org: string, vtn: string, venId: string, venName: string, clientId: string) =>
    (regs[key] = (await registerVen(hub.ctx, sys, { vtn, venId, venName, clientId, organisationId: org })).id);
  await reg('alpha-spen', DEMO['fsp-a'], 'SPEN', 'SPEN-ven-alpha', 'alpha', clients.alpha);
  await reg('alpha-neso', DEMO['fsp-a'], 'NESO', 'NESO-ven-alpha', 'alpha', clients.alpha);
  await reg('beta-spen', DEMO['fsp-b'], 'SPEN', 'SPEN-ven-beta', 'beta', clients.beta);
  [{ id: battery }] = await hub.db.query<{ id: string }>(`SELECT id FROM asset WHERE friendly_code = 'ALPHA-BESS-1'`);
}, 60_000);
afterAll(async () => {
  await hub?.close();
});

describe('one VTN’s view at /openadr/3.1/vtns/{vtn}', () => {
  it('ven.id is the VEN ID that VTN assigned; only that VTN’s vens; names unique there (the merged view repeats them)', async () => {
    const spen = await oadr('GET', '/vens', '/vtns/SPEN/vens');
    expect(ids(spen.json)).toEqual(['SPEN-ven-alpha', 'SPEN-ven-beta']);
    expect(spen.json.map((v: any) => v.venName)).toEqual(['alpha', 'beta']);
    expect(ids((await oadr('GET', '/vens', `/vtns/${spenRecordId}/vens`)).json)).toEqual(['SPEN-ven-alpha', 'SPEN-ven-beta']);
    const merged = await oadr('GET', '/vens', '/vens?venName=alpha');
    expect(ids(merged.json)).toEqual([regs['alpha-spen'], regs['alpha-neso']].sort());
    expect(ids((await oadr('GET', '/vens', '/vtns/SPEN/vens?venName=alpha')).json)).toEqual(['SPEN-ven-alpha']);
  });

  it('finds a VEN by the ID its VTN assigned, there and nowhere else', async () => {
    const r = await oadr('GET', '/vens/{venID}', '/vtns/SPEN/vens/SPEN-ven-alpha');
    expect([r.json.id, r.json.venName, r.json.clientID, attr(r.json, 'VTN'), attr(r.json, 'VEN_ID')]).toEqual([
      'SPEN-ven-alpha',
      'alpha',
      clients.alpha,
      ['SPEN'],
      ['SPEN-ven-alpha'],
    ]);
    expect((await oadr('GET', '/vens/{venID}', '/vens/SPEN-ven-alpha')).json).toMatchObject({ status: 404, code: 'OPENADR-VEN-NOT-FOUND' });
    expect((await oadr('GET', '/vens/{venID}', '/vtns/NESO/vens/SPEN-ven-alpha')).json).toMatchObject({
      status: 404,
      code: 'OPENADR-VEN-NOT-FOUND',
    });
    expect((await oadr('GET', '/vens/{venID}', `/vtns/SPEN/vens/${regs['alpha-spen']}`)).json).toMatchObject({ status: 404 });
    // VEN privacy holds per VTN: beta's client sees only its own.
    expect(ids((await oadr('GET', '/vens', '/vtns/SPEN/vens', { as: tokens.beta })).json)).toEqual(['SPEN-ven-beta']);
    expect((await oadr('GET', '/vens/{venID}', '/vtns/SPEN/vens/SPEN-ven-alpha', { as: tokens.beta })).json).toMatchObject({ status: 404 });
  });

  it('an unknown VTN, or a 2.0b one, has no view: 404 where the document declares it, else 400, with OPENADR-VTN-NOT-FOUND', async () => {
    expect((await oadr('GET', '/vens/{venID}', '/vtns/NOPE/vens/x')).json).toMatchObject({ status: 404, code: 'OPENADR-VTN-NOT-FOUND' });
    expect((await oadr('GET', '/vens', '/vtns/NOPE/vens')).json).toMatchObject({ status: 400, code: 'OPENADR-VTN-NOT-FOUND' });
    expect((await oadr('GET', '/vens', '/vtns/NGED/vens')).json).toMatchObject({ status: 400, code: 'OPENADR-VTN-NOT-FOUND' });
  });

  it('a VEN records, renames and deletes its ven with the VTN implied by the base URL', async () => {
    const body = { objectType: 'VEN_VEN_REQUEST', venName: 'alpha-2', attributes: [{ type: 'VEN_ID', values: ['SPEN-ven-alpha-2'] }] };
    const c = await oadr('POST', '/vens', '/vtns/SPEN/vens', { as: tokens.alpha, body });
    expect([c.status, c.json.id, c.json.clientID, attr(c.json, 'VTN'), attr(c.json, 'CONFIRMATION')]).toEqual([
      201,
      'SPEN-ven-alpha-2',
      clients.alpha,
      ['SPEN'],
      ['UNCONFIRMED'],
    ]);
    const wrongVtn = { ...body, attributes: [...body.attributes, { type: 'VTN', values: ['NESO'] }] };
    expect((await oadr('POST', '/vens', '/vtns/SPEN/vens', { as: tokens.alpha, body: wrongVtn })).json).toMatchObject({
      status: 400,
      code: 'OPENADR-ATTRIBUTE-RESERVED',
    });
    const sameName = { ...body, attributes: [{ type: 'VEN_ID', values: ['SPEN-ven-alpha-3'] }] };
    expect((await oadr('POST', '/vens', '/vtns/SPEN/vens', { as: tokens.alpha, body: sameName })).json).toMatchObject({
      status: 400,
      code: 'OPENADR-VEN-NAME-TAKEN',
    });
    const u = await oadr('PUT', '/vens/{venID}', '/vtns/SPEN/vens/SPEN-ven-alpha-2', {
      as: tokens.alpha,
      body: { objectType: 'VEN_VEN_REQUEST', venName: 'alpha-2b' },
    });
    expect([u.status, u.json.id, u.json.venName]).toEqual([200, 'SPEN-ven-alpha-2', 'alpha-2b']);
    const d = await oadr('DELETE', '/vens/{venID}', '/vtns/SPEN/vens/SPEN-ven-alpha-2', { as: tokens.alpha });
    expect([d.status, d.json.id, attr(d.json, 'REGISTRATION_STATUS')]).toEqual([200, 'SPEN-ven-alpha-2', ['CANCELLED']]);
    expect((await oadr('GET', '/vens/{venID}', '/vtns/SPEN/vens/SPEN-ven-alpha-2', { as: tokens.alpha })).json).toMatchObject({
      status: 404,
    });
  });

  it('resources carry the view’s venID; bound there by the VEN ID; another VTN’s view does not show them', async () => {
    const list = await oadr('GET', '/resources', '/vtns/SPEN/resources?venID=SPEN-ven-alpha');
    expect(list.json.length).toBeGreaterThan(0);
    expect(new Set(list.json.map((r: any) => r.venID))).toEqual(new Set(['SPEN-ven-alpha']));
    expect(list.json.find((r: any) => r.resourceName === battery).id).toBe(`${regs['alpha-spen']}_${battery}`);
    const b = await oadr('POST', '/resources', '/vtns/SPEN/resources', {
      as: tokens.alpha,
      body: { objectType: 'VEN_RESOURCE_REQUEST', venID: 'SPEN-ven-alpha', resourceName: battery },
    });
    expect([b.status, b.json.venID, b.json.id]).toEqual([201, 'SPEN-ven-alpha', `${regs['alpha-spen']}_${battery}`]);
    expect(ids((await oadr('GET', '/resources', '/vtns/SPEN/resources?venID=SPEN-ven-alpha')).json)).toEqual([b.json.id]);
    expect((await oadr('GET', '/resources/{resourceID}', `/vtns/SPEN/resources/${b.json.id}`)).json).toEqual(b.json);
    expect((await oadr('GET', '/resources/{resourceID}', `/vtns/NESO/resources/${b.json.id}`)).json).toMatchObject({
      status: 404,
      code: 'OPENADR-RESOURCE-NOT-FOUND',
    });
    // The merged view shows the same binding under the register's ven ID.
    expect((await oadr('GET', '/resources/{resourceID}', `/resources/${b.json.id}`)).json.venID).toBe(regs['alpha-spen']);
    const put = await oadr('PUT', '/resources/{resourceID}', `/vtns/SPEN/resources/${b.json.id}`, {
      as: tokens.alpha,
      body: { objectType: 'VEN_RESOURCE_REQUEST', venID: 'SPEN-ven-alpha', resourceName: 'glasgow' },
    });
    expect([put.status, put.json.resourceName, put.json.venID]).toEqual([200, 'glasgow', 'SPEN-ven-alpha']);
    const moved = await oadr('PUT', '/resources/{resourceID}', `/vtns/SPEN/resources/${b.json.id}`, {
      as: tokens.alpha,
      body: { objectType: 'VEN_RESOURCE_REQUEST', venID: regs['alpha-spen'], resourceName: 'glasgow' },
    });
    expect(moved.json).toMatchObject({ status: 400, code: 'OPENADR-RESOURCE-VEN-FIXED' });
    const del = await oadr('DELETE', '/resources/{resourceID}', `/vtns/SPEN/resources/${b.json.id}`, { as: tokens.alpha });
    expect([del.status, del.json.resourceName]).toEqual([200, 'glasgow']);
  });

  it('discovers its token endpoint at <base>/auth/server: the hub’s one', async () => {
    const s = await oadr('GET', '/auth/server', '/vtns/SPEN/auth/server', { as: null });
    expect(s.json).toEqual({ tokenURL: `http://hub.test${OPENADR_BASE}/auth/token` });
  });
});

describe('OpenADR’s own scopes', () => {
  it('read_all makes a BL reader; without it a BL organisation’s token is a VEN; the hub’s scopes keep working', async () => {
    const bl = await sign(so, ['SYSTEM_OPERATOR'], 'read_all write_vens');
    expect(ids((await oadr('GET', '/vens', '/vtns/SPEN/vens', { as: bl })).json)).toEqual(['SPEN-ven-alpha', 'SPEN-ven-beta']);
    const venLike = await sign(so, ['SYSTEM_OPERATOR'], 'read_ven_objects', clients.so);
    expect((await oadr('GET', '/vens', '/vtns/SPEN/vens', { as: venLike })).json).toEqual([]);
    const reg = await sign(regulator, ['REGULATOR'], 'read_all');
    expect((await oadr('GET', '/vens', '/vtns/SPEN/vens', { as: reg })).json.length).toBe(2);
    const hubScopes = await hub.token({ org: so, roles: ['SYSTEM_OPERATOR'] });
    expect((await oadr('GET', '/vens', '/vtns/SPEN/vens', { as: hubScopes })).json.length).toBe(2);
  });

  it('each operation needs the scope the document names: read_ven_objects (or read_all) to read vens, write_vens to write them', async () => {
    const writeOnly = await sign(so, ['SYSTEM_OPERATOR'], 'write_vens');
    expect((await oadr('GET', '/vens', '/vens', { as: writeOnly })).json).toMatchObject({ status: 403, code: 'AUTH-SCOPE-MISSING' });
    const reader = await sign(regulator, ['REGULATOR'], 'read_all');
    const body = { objectType: 'VEN_VEN_REQUEST', venName: 'x', attributes: [{ type: 'VEN_ID', values: ['x'] }] };
    expect((await oadr('POST', '/vens', '/vtns/SPEN/vens', { as: reader, body })).json).toMatchObject({
      status: 403,
      code: 'AUTH-SCOPE-MISSING',
      detail: 'This operation needs the OpenADR scope write_vens.',
    });
    const venReader = await sign(DEMO['fsp-a'], ['FSP'], 'read_ven_objects', clients.alpha);
    expect(ids((await oadr('GET', '/vens', '/vtns/SPEN/vens', { as: venReader })).json)).toEqual(['SPEN-ven-alpha']);
    expect((await oadr('POST', '/vens', '/vtns/SPEN/vens', { as: venReader, body })).json).toMatchObject({
      status: 403,
      code: 'AUTH-SCOPE-MISSING',
    });
    expect((await oadr('GET', '/programs', '/programs', { as: venReader })).json).toMatchObject({
      status: 403,
      code: 'AUTH-SCOPE-MISSING',
    });
    expect(
      (await oadr('GET', '/programs', '/programs', { as: await sign(DEMO['fsp-a'], ['FSP'], 'read_targets', clients.alpha) })).json,
    ).toEqual([]);
  });

  it('the roles still decide: an OpenADR scope never widens what the matrix gives', async () => {
    // Tokens the provider would not issue (it issues the scopes of the organisation's roles), to show the routes check roles too.
    const dno = await sign(DEMO.dno, ['DNO'], 'read_all');
    expect((await oadr('GET', '/vens', '/vens', { as: dno })).json).toMatchObject({ status: 403, code: 'AUTH-ROLE-FORBIDDEN' });
    const fspReadAll = await sign(DEMO['fsp-a'], ['FSP'], 'read_all', clients.alpha);
    expect(ids((await oadr('GET', '/vens', '/vtns/SPEN/vens', { as: fspReadAll })).json)).toEqual(['SPEN-ven-alpha']);
  });
});

describe('operations the register does not serve', () => {
  it('lists are empty; one object is a 404; writes are a 403 naming the VTN; no notifier; in both views', async () => {
    for (const base of ['', '/vtns/SPEN']) {
      for (const kind of ['programs', 'events', 'reports', 'subscriptions']) {
        expect((await oadr('GET', `/${kind}`, `${base}/${kind}`)).json).toEqual([]);
        const id = { programs: 'programID', events: 'eventID', reports: 'reportID', subscriptions: 'subscriptionID' }[kind];
        expect((await oadr('GET', `/${kind}/{${id}}`, `${base}/${kind}/p1`)).json).toMatchObject({
          status: 404,
          code: 'OPENADR-OBJECT-NOT-FOUND',
        });
        expect((await oadr('POST', `/${kind}`, `${base}/${kind}`, { body: {} })).json).toMatchObject({
          status: 403,
          code: 'OPENADR-NOT-SERVED',
        });
        expect((await oadr('PUT', `/${kind}/{${id}}`, `${base}/${kind}/p1`, { body: {} })).json).toMatchObject({
          status: 403,
          code: 'OPENADR-NOT-SERVED',
        });
        expect((await oadr('DELETE', `/${kind}/{${id}}`, `${base}/${kind}/p1`)).json).toMatchObject({
          status: 403,
          code: 'OPENADR-NOT-SERVED',
        });
      }
      expect((await oadr('GET', '/notifiers', `${base}/notifiers`)).json).toEqual({ WEBHOOK: false });
      expect(
        (await oadr('GET', '/notifiers/mqtt/topics/vens/{venID}', `${base}/notifiers/mqtt/topics/vens/SPEN-ven-alpha`)).json,
      ).toMatchObject({
        status: 404,
        code: 'OPENADR-MQTT-NOT-SERVED',
      });
    }
    const none = await oadr('POST', '/programs', '/programs', { as: null, body: {} });
    expect([none.status, none.json.code]).toEqual([401, 'AUTH-TOKEN-MISSING']);
  });
});
