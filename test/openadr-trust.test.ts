import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRegistrationDocument, writeCreatedPartyRegistration } from '../openadr/index';
import { registerOrganisation } from '../src/organisations/service';
import { loadMigrations } from '../src/storage/load-migrations';
import { migrate } from '../src/storage/migrate';
import { DEMO, expectRefused, testDb, testHub, type TestHub } from './harness';
import { oadr2bSchemaErrors } from './openadr-xsd';

/**
 * VEN registrations a dispatch platform can trust (docs/openadr.md, "Confirmation by the VTN's
 * operator", "OpenADR 2.0b documents", "Reverse lookups"): confirmation and rejection by the VTN's
 * operator, 2.0b documents checked against the 2.0b schema (the XSD itself, test/openadr-xsd.ts),
 * and reverse lookups that list live registrations unless asked for more.
 */

let hub: TestHub;
let imp: string; // operates SPEN (3.1) and NGED (2.0b): a registered dispatch platform
let so: string; // operates NESO
let impToken: string;
let soToken: string;
const TABLES = ['ven_registration', 'audit_log', 'event_outbox'] as const;
const fixture = readFileSync(new URL('./fixtures/oadrCreatedPartyRegistration.xml', import.meta.url), 'utf8');
const post = (path: string, as: string, body?: unknown) => hub.call('POST', path, { as, body });
const reg = (as: string, body: Record<string, unknown>) => post('/api/v1/ven-registrations', as, body);

beforeAll(async () => {
  hub = await testHub();
  const passport = { contacts: { primary: { firstName: 'Grid', lastName: 'Control', email: 'control@platform.example' } } };
  const org = async (legalName: string, registrationNumber: string, role: 'SYSTEM_OPERATOR' | 'INDEPENDENT_MARKET_PLATFORM') =>
    (
      await registerOrganisation(hub.ctx, hub.system, {
        legalName,
        organisationType: 'LTD',
        registrationNumber,
        roles: [role],
        status: 'ACTIVE',
        passport,
      })
    ).id;
  imp = await org('Trust Market Platform Ltd', '09800001', 'INDEPENDENT_MARKET_PLATFORM');
  so = await org('Trust System Operator Ltd', '09800002', 'SYSTEM_OPERATOR');
  impToken = await hub.token({ org: imp, roles: ['INDEPENDENT_MARKET_PLATFORM'] });
  soToken = await hub.token({ org: so, roles: ['SYSTEM_OPERATOR'] });
  const vtn = async (body: Record<string, unknown>) => {
    const r = await post('/api/v1/vtns', 'operator', body);
    expect(r.status, JSON.stringify(r.json)).toBe(201);
  };
  await vtn({ code: 'SPEN', name: 'SPEN flexibility', protocol: '3.1', baseUrl: 'https://spen.vtn.example/oadr3', operatorId: imp });
  await vtn({ code: 'NESO', name: 'NESO dispatch', protocol: '3.1', baseUrl: 'https://neso.vtn.example/oadr3', operatorId: so });
  // Recorded by the register's operator for a platform that is not itself registered: no registered operator.
  await vtn({ code: 'EXTV', name: 'An unregistered platform', protocol: '3.1', baseUrl: 'https://ext.vtn.example/oadr3' });
  await vtn({ code: 'NGED', name: 'NGED (2.0b)', protocol: '2.0b', vtnId: 'NGED-DSO-VTN-2B', operatorId: imp });
}, 60_000);
afterAll(async () => {
  await hub?.close();
});

describe('confirmation by the VTN’s operator', () => {
  let pending: any;

  it('a registration by another party on a registered operator’s VTN is UNCONFIRMED; the operator’s own is CONFIRMED; elsewhere SELF_DECLARED', async () => {
    const a = await reg('fsp-a', { vtn: 'SPEN', venId: 'spen-alpha-1', venName: 'alpha-1' });
    expect([a.status, a.json.confirmation, a.json.confirmationAt, a.json.inForce]).toEqual([201, 'UNCONFIRMED', null, true]);
    pending = a.json;
    const own = await reg(impToken, { vtn: 'SPEN', venId: 'spen-alpha-2', venName: 'alpha-2', organisationId: DEMO['fsp-a'] });
    expect([own.status, own.json.confirmation, own.json.confirmationAt]).toEqual([201, 'CONFIRMED', '2026-06-01T09:00:00.000Z']);
    const byOperator = await reg('operator', { vtn: 'SPEN', venId: 'spen-alpha-3', venName: 'alpha-3', organisationId: DEMO['fsp-a'] });
    expect(byOperator.json.confirmation).toBe('UNCONFIRMED');
    const ext = await reg('fsp-a', { vtn: 'EXTV', venId: 'ext-alpha-1', venName: 'alpha-ext' });
    expect(ext.json.confirmation).toBe('SELF_DECLARED');
    const [audit] = await hub.db.query<{ detail: any }>(
      `SELECT detail FROM audit_log WHERE record_id = $1 AND action = 'ven_registration.registered'`,
      [a.json.id],
    );
    expect(audit.detail.confirmation).toBe('UNCONFIRMED');
  });

  it('only the VTN’s operator confirms: others are refused or find nothing; the confirmation is versioned, audited and announced to both sides', async () => {
    const url = `/api/v1/ven-registrations/${pending.id}/confirm`;
    expect([(await post(url, 'fsp-a')).status, (await post(url, 'fsp-a')).json.code]).toEqual([403, 'AUTH-ROLE-FORBIDDEN']);
    expect((await post(url, 'operator')).json.code).toBe('AUTH-ROLE-FORBIDDEN');
    expect([(await post(url, soToken)).status, (await post(url, soToken)).json.code]).toEqual([404, 'OPENADR-VEN-NOT-FOUND']);
    const stale = await hub.call('POST', url, { as: impToken, headers: { 'if-match': '"2"' } });
    expect([stale.status, stale.json.code]).toEqual([412, 'REQUEST-PRECONDITION-FAILED']);
    hub.clock.advance(60_000);
    const ok = await hub.call('POST', url, { as: impToken, headers: { 'if-match': '"1"' } });
    expect([ok.status, ok.json.confirmation, ok.json.confirmationAt, ok.json.version, ok.headers.get('etag')]).toEqual([
      200,
      'CONFIRMED',
      '2026-06-01T09:01:00.000Z',
      2,
      '"2"',
    ]);
    const again = await post(url, impToken);
    expect([again.status, again.json.code]).toEqual([409, 'OPENADR-CONFIRMATION-STATE']);
    const audit = await hub.db.query<{ action: string; organisation_id: string; detail: any }>(
      `SELECT action, organisation_id, detail FROM audit_log WHERE record_id = $1 AND action = 'ven_registration.confirmed'`,
      [pending.id],
    );
    expect(audit.map((a) => [a.action, a.organisation_id, a.detail.before, a.detail.version])).toEqual([
      ['ven_registration.confirmed', DEMO['fsp-a'], 'UNCONFIRMED', 2],
    ]);
    const events = await hub.db.query<{ organisation_id: string; data: any }>(
      `SELECT organisation_id, data FROM event_outbox WHERE subject = $1 AND type = 'fmar.ven-registration.confirmed' ORDER BY organisation_id`,
      [pending.id],
    );
    expect(events.map((e) => [e.organisation_id, e.data.confirmation])).toEqual(
      [
        [DEMO['fsp-a'], 'CONFIRMED'],
        [imp, 'CONFIRMED'],
      ].sort(),
    );
  });

  it('a self-declared registration has nobody to confirm it', async () => {
    const [ext] = await hub.db.query<{ id: string }>(`SELECT id FROM ven_registration WHERE ven_id = 'ext-alpha-1'`);
    // The VTN is the register operator's: no dispatch platform operates it, so none reaches it.
    expect((await post(`/api/v1/ven-registrations/${ext.id}/confirm`, impToken)).json.code).toBe('OPENADR-VEN-NOT-FOUND');
  });

  it('the operator rejects with a reason: REJECTED and cancelled, its VEN ID released; audited and announced to both sides', async () => {
    const claim = await reg('fsp-b', { vtn: 'SPEN', venId: 'spen-contested', venName: 'beta-claim' });
    expect(claim.json.confirmation).toBe('UNCONFIRMED');
    const url = `/api/v1/ven-registrations/${claim.json.id}/reject`;
    await expectRefused(hub.db, TABLES, () => post(url, impToken), 422, 'REQUEST-VALIDATION reason OPENADR-REJECTION-REASON');
    await expectRefused(
      hub.db,
      TABLES,
      () => post(`${url}?reason=%20%20`, impToken),
      422,
      'REQUEST-VALIDATION reason OPENADR-REJECTION-REASON',
    );
    const r = await post(`${url}?reason=${encodeURIComponent('VEN ID issued to another FSP')}`, impToken);
    expect([r.status, r.json.confirmation, r.json.status, r.json.confirmationReason, r.json.inForce, r.json.version]).toEqual([
      200,
      'REJECTED',
      'CANCELLED',
      'VEN ID issued to another FSP',
      false,
      2,
    ]);
    expect((await post(url + '?reason=again', impToken)).json.code).toBe('OPENADR-REGISTRATION-CANCELLED');
    // Released: the VEN ID's real holder records it.
    const real = await reg('fsp-a', { vtn: 'SPEN', venId: 'spen-contested', venName: 'beta-claim' });
    expect([real.status, real.json.organisationId]).toEqual([201, DEMO['fsp-a']]);
    const [audit] = await hub.db.query<{ detail: any }>(
      `SELECT detail FROM audit_log WHERE record_id = $1 AND action = 'ven_registration.rejected'`,
      [claim.json.id],
    );
    expect([audit.detail.before, audit.detail.reason, audit.detail.releasedResources]).toEqual([
      'UNCONFIRMED',
      'VEN ID issued to another FSP',
      [],
    ]);
    const events = await hub.db.query<{ organisation_id: string; data: any }>(
      `SELECT organisation_id, data FROM event_outbox WHERE subject = $1 AND type = 'fmar.ven-registration.rejected' ORDER BY organisation_id`,
      [claim.json.id],
    );
    expect(events.map((e) => [e.organisation_id, e.data.reason])).toEqual(
      [
        [DEMO['fsp-b'], 'VEN ID issued to another FSP'],
        [imp, 'VEN ID issued to another FSP'],
      ].sort(),
    );
  });

  it('resolution shows the confirmation and can be asked for confirmed registrations only', async () => {
    const ask = (q: string) => hub.call('GET', `/api/v1/ven-registrations/resolve?vtn=SPEN&${q}`, { as: soToken });
    expect((await ask('venId=spen-alpha-1')).json.registration.confirmation).toBe('CONFIRMED');
    expect((await ask('venId=spen-alpha-1&confirmed=true')).status).toBe(200);
    expect((await ask('venId=spen-alpha-3')).json.registration.confirmation).toBe('UNCONFIRMED');
    const unconfirmed = await ask('venId=spen-alpha-3&confirmed=true');
    expect([unconfirmed.status, unconfirmed.json.code]).toEqual([404, 'OPENADR-VEN-NOT-FOUND']);
    const selfDeclared = await hub.call('GET', '/api/v1/ven-registrations/resolve?vtn=EXTV&venId=ext-alpha-1&confirmed=true', {
      as: soToken,
    });
    expect(selfDeclared.status).toBe(404);
    expect((await ask('venId=spen-alpha-3&confirmed=false')).status).toBe(200);
  });

  it('the OpenADR 3.1 ven shows the confirmation as a derived attribute, which a client cannot set', async () => {
    const r = await hub.call('GET', `/openadr/3.1/vens/${pending.id}`, { as: 'operator' });
    expect(r.json.attributes.find((a: any) => a.type === 'CONFIRMATION')).toEqual({ type: 'CONFIRMATION', values: ['CONFIRMED'] });
    const body = {
      objectType: 'VEN_VEN_REQUEST',
      venName: 'self-confirmed',
      attributes: [
        { type: 'VTN', values: ['SPEN'] },
        { type: 'VEN_ID', values: ['spen-self'] },
        { type: 'CONFIRMATION', values: ['CONFIRMED'] },
      ],
    };
    const refused = await hub.call('POST', '/openadr/3.1/vens', { as: 'fsp-a', body });
    expect([refused.status, refused.json.code]).toEqual([400, 'OPENADR-ATTRIBUTE-RESERVED']);
  });
});

describe('OpenADR 2.0b documents, checked against the 2.0b schema', () => {
  const oadr2b = (text: string, q = '', as = 'fsp-a') =>
    hub.call('POST', `/api/v1/ven-registrations/oadr2b${q}`, { as, text, contentType: 'application/xml' });
  const doc = (venId: string) => fixture.replace(/ven_alpha_glasgow_01/g, venId);
  const request = (o: { venId?: string; registrationId?: string; profile?: string; transport?: string; venName?: string } = {}) =>
    `<?xml version="1.0" encoding="UTF-8"?>
<oadr:oadrPayload xmlns:oadr="http://openadr.org/oadr-2.0b/2012/07" xmlns:ei="http://docs.oasis-open.org/ns/energyinterop/201110" xmlns:pyld="http://docs.oasis-open.org/ns/energyinterop/201110/payloads">
  <oadr:oadrSignedObject>
    <oadr:oadrCreatePartyRegistration ei:schemaVersion="2.0b">
      <pyld:requestID>req-0001</pyld:requestID>
${o.registrationId === '' ? '' : `      <ei:registrationID>${o.registrationId ?? 'REG-b41'}</ei:registrationID>\n`}${o.venId === '' ? '' : `      <ei:venID>${o.venId ?? 'ven_alpha_request_01'}</ei:venID>\n`}      <oadr:oadrProfileName>${o.profile ?? '2.0b'}</oadr:oadrProfileName>
      <oadr:oadrTransportName>${o.transport ?? 'simpleHttp'}</oadr:oadrTransportName>
      <oadr:oadrTransportAddress>https://ven.alpha.example/oadr</oadr:oadrTransportAddress>
      <oadr:oadrReportOnly>false</oadr:oadrReportOnly>
      <oadr:oadrXmlSignature>false</oadr:oadrXmlSignature>
      <oadr:oadrVenName>${o.venName ?? 'Alpha Glasgow batteries'}</oadr:oadrVenName>
      <oadr:oadrHttpPullModel>true</oadr:oadrHttpPullModel>
    </oadr:oadrCreatePartyRegistration>
  </oadr:oadrSignedObject>
</oadr:oadrPayload>
`;

  it('the test documents are what the 2.0b schema allows', async () => {
    expect(await oadr2bSchemaErrors(fixture)).toEqual([]);
    expect(await oadr2bSchemaErrors(request())).toEqual([]);
  });

  it('a VTN’s refusal (non-2xx responseCode) is never recorded; values the schema does not allow are refused, as the XSD refuses them', async () => {
    const refused = doc('ven_refused_01').replace('<ei:responseCode>200</ei:responseCode>', '<ei:responseCode>452</ei:responseCode>');
    expect(await oadr2bSchemaErrors(refused)).toEqual([]); // schema-valid: a refusal is a well-formed answer
    const body = await expectRefused(hub.db, TABLES, () => oadr2b(refused), 422, 'OPENADR-XML-REFUSED');
    expect(body.detail).toBe('The VTN refused this registration (responseCode 452: OK); nothing is recorded.');
    const invalid: [string, string][] = [
      [doc('v1').replace('<ei:responseCode>200</ei:responseCode>', '<ei:responseCode>OK</ei:responseCode>'), 'responseCode'],
      [
        doc('v2').replace('<oadr:oadrProfileName>2.0a</oadr:oadrProfileName>', '<oadr:oadrProfileName>3.0</oadr:oadrProfileName>'),
        'profile',
      ],
      [
        doc('v3').replace('<oadr:oadrTransportName>xmpp</oadr:oadrTransportName>', '<oadr:oadrTransportName>mqtt</oadr:oadrTransportName>'),
        'transport',
      ],
      [doc('v4').replace(/<oadr:oadrProfiles>[\s\S]*<\/oadr:oadrProfiles>/, '<oadr:oadrProfiles></oadr:oadrProfiles>'), 'no profile'],
      [doc('v5').replace(/<pyld:requestID>.*<\/pyld:requestID>/, ''), 'no requestID'],
      [request({ transport: 'mqtt' }), 'request transport'],
      [request({ profile: '2.0c' }), 'request profile'],
    ];
    for (const [text, what] of invalid) {
      expect((await oadr2bSchemaErrors(text)).length, `the XSD refuses: ${what}`).toBeGreaterThan(0);
      await expectRefused(hub.db, TABLES, () => oadr2b(text, '?vtn=NGED'), 422, 'OPENADR-XML-FIELD');
    }
  });

  it('accepts the VEN’s oadrCreatePartyRegistration carrying the IDs its VTN assigned: the venName is its oadrVenName', async () => {
    const r = await oadr2b(request(), '?vtn=NGED');
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    expect(r.json).toMatchObject({
      protocol: '2.0b',
      vtnCode: 'NGED',
      venId: 'ven_alpha_request_01',
      registrationId: 'REG-b41',
      venName: 'Alpha Glasgow batteries',
      confirmation: 'UNCONFIRMED',
    });
    const [row] = await hub.db.query<{ details: any }>(`SELECT details FROM ven_registration WHERE id = $1`, [r.json.id]);
    expect(row.details).toEqual({
      document: 'oadrCreatePartyRegistration',
      requestId: 'req-0001',
      profiles: [{ name: '2.0b', transports: ['simpleHttp'] }],
      transportAddress: 'https://ven.alpha.example/oadr',
      reportOnly: false,
      xmlSignature: false,
      httpPullModel: true,
    });
    // The request is not the VTN's answer: there is no response code to write back, and none is invented.
    const out = await hub.call('GET', `/api/v1/ven-registrations/${r.json.id}/oadr2b`, { as: 'fsp-a' });
    expect([out.status, out.json.code]).toEqual([409, 'OPENADR-EXPORT-NOT-ISSUED']);
    await expectRefused(hub.db, TABLES, () => oadr2b(request({ venId: 'ven_x' })), 422, 'REQUEST-VALIDATION vtn OPENADR-VTN-UNKNOWN');
    await expectRefused(
      hub.db,
      TABLES,
      () => oadr2b(request({ venId: 'ven_x' }), '?vtn=SPEN'),
      422,
      'REQUEST-VALIDATION vtn OPENADR-VTN-UNKNOWN',
    );
    await expectRefused(hub.db, TABLES, () => oadr2b(request({ venId: '' }), '?vtn=NGED'), 422, 'OPENADR-XML-FIELD');
    // The VTN's answer names its VTN itself; a `vtn` that says otherwise is refused.
    await expectRefused(hub.db, TABLES, () => oadr2b(doc('ven_z'), '?vtn=SPEN'), 422, 'REQUEST-VALIDATION vtn OPENADR-VTN-UNKNOWN');
    await expectRefused(
      hub.db,
      TABLES,
      () => oadr2b(request({ registrationId: '', venId: 'ven_y' }), '?vtn=NGED'),
      422,
      'OPENADR-XML-FIELD',
    );
  });

  it('exports only what the VTN issued, valid against the 2.0b schema; a natively recorded registration has no answer to export', async () => {
    const r = await oadr2b(doc('ven_alpha_export_01'), '?venName=alpha-export');
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    const out = await hub.call('GET', `/api/v1/ven-registrations/${r.json.id}/oadr2b`, { as: 'fsp-a' });
    expect(out.status).toBe(200);
    expect(await oadr2bSchemaErrors(out.text)).toEqual([]);
    expect(parseRegistrationDocument(out.text)).toEqual(parseRegistrationDocument(doc('ven_alpha_export_01')));
    const native = await reg('fsp-a', { vtn: 'NGED', venId: 'ven_native_01', venName: 'alpha-native', registrationId: 'REG-n1' });
    expect(native.status).toBe(201);
    const none = await hub.call('GET', `/api/v1/ven-registrations/${native.json.id}/oadr2b`, { as: 'fsp-a' });
    expect([none.status, none.json.code]).toEqual([409, 'OPENADR-EXPORT-NOT-ISSUED']);
  });

  it('the writer refuses values the schema does not allow, and writes no responseDescription it was not given', async () => {
    const base = {
      registrationId: 'R1',
      venId: 'V1',
      vtnId: 'T1',
      requestId: 'Q1',
      responseCode: '200',
      profiles: [{ name: '2.0b', transports: ['simpleHttp'] }],
    };
    const xml = writeCreatedPartyRegistration(base);
    expect(await oadr2bSchemaErrors(xml)).toEqual([]);
    expect(xml).not.toContain('responseDescription');
    expect(() => writeCreatedPartyRegistration({ ...base, responseCode: '2000' })).toThrow('responseCode 2000 is not three digits');
    expect(() => writeCreatedPartyRegistration({ ...base, profiles: [] })).toThrow('a created registration names at least one profile');
    expect(() => writeCreatedPartyRegistration({ ...base, profiles: [{ name: '2.0b', transports: ['mqtt'] }] })).toThrow(
      'oadrTransportName "mqtt" is not one the 2.0b schema allows (simpleHttp, xmpp).',
    );
  });
});

describe('reverse lookups: asset → VENs', () => {
  let asset: string;
  const names = async (q = '') =>
    ((await hub.call('GET', `/api/v1/assets/${asset}/ven-registrations${q}`, { as: soToken })).json.items as any[])
      .map((r) => r.venName)
      .sort();
  beforeAll(async () => {
    [{ id: asset }] = await hub.db.query<{ id: string }>(`SELECT id FROM asset WHERE friendly_code = 'ALPHA-BESS-1'`);
    // fsp-a's VENs on NESO: live, expired, not yet valid, suspended, refused, cancelled (none has resources: each stands for all fsp-a's assets).
    const on = (venId: string, venName: string, extra: Record<string, unknown> = {}) =>
      reg('fsp-a', { vtn: 'NESO', venId, venName, ...extra });
    expect((await on('neso-live', 'n-live')).status).toBe(201);
    expect((await on('neso-expired', 'n-expired', { validFrom: '2026-01-01T00:00:00Z', validTo: '2026-02-01T00:00:00Z' })).status).toBe(
      201,
    );
    expect((await on('neso-future', 'n-future', { validFrom: '2026-09-01T00:00:00Z' })).status).toBe(201);
    const suspended = await on('neso-suspended', 'n-suspended');
    expect(
      (
        await hub.call('PATCH', `/api/v1/ven-registrations/${suspended.json.id}`, {
          as: 'fsp-a',
          body: { status: 'SUSPENDED' },
          headers: { 'if-match': '"1"' },
        })
      ).status,
    ).toBe(200);
    const refused = await on('neso-refused', 'n-refused');
    expect((await post(`/api/v1/ven-registrations/${refused.json.id}/reject?reason=unknown`, soToken)).status).toBe(200);
    const cancelled = await on('neso-cancelled', 'n-cancelled');
    expect((await hub.call('DELETE', `/api/v1/ven-registrations/${cancelled.json.id}`, { as: 'fsp-a' })).status).toBe(200);
  });

  it('lists the live registrations by default; expired, suspended and refused ones only when asked; cancelled ones never', async () => {
    // fsp-a's live VENs on SPEN, EXTV and NGED (the earlier tests) and on NESO.
    const live = [
      'Alpha Glasgow batteries',
      'alpha-1',
      'alpha-2',
      'alpha-3',
      'alpha-export',
      'alpha-ext',
      'alpha-native',
      'beta-claim',
      'n-live',
    ];
    expect(await names()).toEqual(live);
    expect(await names('?include=expired')).toEqual([...live, 'n-expired', 'n-future'].sort());
    expect(await names('?include=suspended')).toEqual([...live, 'n-suspended'].sort());
    expect(await names('?include=refused')).toEqual([...live, 'n-refused'].sort());
    expect(await names('?include=expired&include=suspended&include=refused')).toEqual(
      [...live, 'n-expired', 'n-future', 'n-suspended', 'n-refused'].sort(),
    );
    const bad = await hub.call('GET', `/api/v1/assets/${asset}/ven-registrations?include=cancelled`, { as: soToken });
    expect([bad.status, bad.json.code]).toEqual([400, 'REQUEST-QUERY-INVALID']);
  });
});

describe('reverse lookups say how a VEN stands for the asset', () => {
  it('boundToAsset: true for a VEN whose resource binds the asset, false for one standing for all its organisation’s assets; a VEN bound to other assets is not listed', async () => {
    const [{ id: asset }] = await hub.db.query<{ id: string }>(`SELECT id FROM asset WHERE friendly_code = 'ALPHA-BESS-1'`);
    const [{ id: other }] = await hub.db.query<{ id: string }>(
      `SELECT id FROM asset WHERE fsp_id = $1 AND id <> $2 AND deregistered_at IS NULL ORDER BY id LIMIT 1`,
      [DEMO['fsp-a'], asset],
    );
    const bind = (venID: string, assetId: string) =>
      hub.call('POST', '/openadr/3.1/vtns/SPEN/resources', {
        as: impToken,
        body: {
          objectType: 'BL_RESOURCE_REQUEST',
          venID,
          clientID: DEMO['fsp-a'],
          attributes: [{ type: 'FMAR_ASSET_ID', values: [assetId] }],
        },
      });
    expect((await bind('spen-alpha-1', asset)).status).toBe(201);
    expect((await bind('spen-alpha-2', other)).status).toBe(201);
    const r = await hub.call('GET', `/api/v1/assets/${asset}/ven-registrations`, { as: soToken });
    const how = Object.fromEntries(r.json.items.filter((x: any) => x.vtnCode === 'SPEN').map((x: any) => [x.venId, x.boundToAsset]));
    expect(how).toEqual({ 'spen-alpha-1': true, 'spen-alpha-3': false, 'spen-contested': false });
  });
});

describe('migration 030 on registrations recorded before it', () => {
  it('live ones on a registered operator’s VTN await confirmation; refused 2.0b answers are cancelled as REJECTED; the rest are self-declared', async () => {
    const { db, drop } = await testDb();
    try {
      const all = loadMigrations();
      const at = all.findIndex((m) => m.version.startsWith('030_ven_confirmation'));
      const now = () => new Date('2026-06-01T00:00:00Z');
      await migrate(db, all.slice(0, at), now);
      const org = (id: string, role: string) =>
        db.query(
          `INSERT INTO organisation (id, legal_name, organisation_type, registration_number, roles, status, recorded_at, recorded_by)
           VALUES ($1, $1, 'LTD', $1, ARRAY[$2]::text[], 'ACTIVE', now(), 'test')`,
          [id, role],
        );
      await org('ORG-IMP', 'INDEPENDENT_MARKET_PLATFORM');
      await org('ORG-MF', 'MARKET_FACILITATOR');
      await org('ORG-FSP', 'FSP');
      const vtn = (id: string, operator: string, protocol: string) =>
        db.query(
          `INSERT INTO openadr_vtn (id, code, name, operator_id, protocol, vtn_id, base_url, status, created_at, recorded_at, recorded_by)
           VALUES ($1, $1, $1, $2, $3, CASE WHEN $3 = '2.0b' THEN $1 END, CASE WHEN $3 <> '2.0b' THEN 'https://' || lower($1) || '.example' END, 'ACTIVE', now(), now(), 'test')`,
          [id, operator, protocol],
        );
      await vtn('VIMP', 'ORG-IMP', '3.1');
      await vtn('VMF', 'ORG-MF', '3.1');
      await vtn('V2B', 'ORG-IMP', '2.0b');
      const reg = (id: string, vtnId: string, protocol: string, status: string, responseCode?: string) =>
        db.query(
          `INSERT INTO ven_registration (id, organisation_id, vtn, protocol, ven_id, ven_name, registration_id, details, status, valid_from, created_at, recorded_at, recorded_by)
           VALUES ($1, 'ORG-FSP', $2, $3, $1, $1, CASE WHEN $3 = '2.0b' THEN 'REG-' || $1 END, $4::jsonb, $5, now(), now(), '2026-05-01T00:00:00Z', 'test')`,
          [id, vtnId, protocol, responseCode ? { responseCode } : {}, status], // an object: each adapter sends it as JSON once
        );
      await reg('r-live', 'VIMP', '3.1', 'ACTIVE');
      await reg('r-self', 'VMF', '3.1', 'ACTIVE');
      await reg('r-cancelled', 'VIMP', '3.1', 'CANCELLED');
      await reg('r-refused', 'V2B', '2.0b', 'ACTIVE', '452');
      await reg('r-accepted', 'V2B', '2.0b', 'SUSPENDED', '200');
      await migrate(db, all, now);
      const rows = await db.query<{
        id: string;
        status: string;
        confirmation: string;
        confirmation_reason: string | null;
        confirmation_at: Date | null;
      }>(`SELECT id, status, confirmation, confirmation_reason, confirmation_at FROM ven_registration ORDER BY id`);
      expect(
        rows.map((r) => [
          r.id,
          r.status,
          r.confirmation,
          r.confirmation_reason,
          r.confirmation_at && new Date(r.confirmation_at).toISOString(),
        ]),
      ).toEqual([
        ['r-accepted', 'SUSPENDED', 'UNCONFIRMED', null, null],
        ['r-cancelled', 'CANCELLED', 'SELF_DECLARED', null, null],
        ['r-live', 'ACTIVE', 'UNCONFIRMED', null, null],
        ['r-refused', 'CANCELLED', 'REJECTED', 'the VTN refused it (2.0b responseCode 452)', '2026-05-01T00:00:00.000Z'],
        ['r-self', 'ACTIVE', 'SELF_DECLARED', null, null],
      ]);
    } finally {
      await db.close();
      await drop();
    }
  });
});
