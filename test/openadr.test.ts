import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCreatedPartyRegistration } from '../openadr/index';
import { registerAssets } from '../src/assets/service';
import { registerOrganisation } from '../src/organisations/service';
import { DEMO, batteryInput, mpanFor, rowCounts, testHub, type TestHub } from './harness';

/**
 * The native OpenADR resources (docs/openadr.md): VTN records, VEN registrations with their rules,
 * audit and events, VEN ID resolution and its reverse, and 2.0b oadrCreatedPartyRegistration import
 * and export. The OpenADR 3.1 endpoints are in test/openadr31.test.ts.
 */

let hub: TestHub;
let so: string; // a System Operator organisation
let imp: string; // an Independent Market Platform organisation
let soToken: string;
let impToken: string;
const fixture = readFileSync(new URL('./fixtures/oadrCreatedPartyRegistration.xml', import.meta.url), 'utf8');
const uuid = (n: number) => `26ecf048-3f1d-4a5e-9b0c-${String(n).padStart(12, '0')}`;
const TABLES = ['openadr_vtn', 'ven_registration', 'audit_log', 'event_outbox'] as const;

beforeAll(async () => {
  hub = await testHub();
  const passport = { contacts: { primary: { firstName: 'Grid', lastName: 'Control', email: 'control@so.example' } } };
  so = (
    await registerOrganisation(hub.ctx, hub.system, {
      legalName: 'Demo System Operator plc',
      organisationType: 'PLC',
      registrationNumber: '09700001',
      roles: ['SYSTEM_OPERATOR'],
      status: 'ACTIVE',
      passport,
    })
  ).id;
  imp = (
    await registerOrganisation(hub.ctx, hub.system, {
      legalName: 'Demo Flex Market Ltd',
      organisationType: 'LTD',
      registrationNumber: '09700002',
      roles: ['INDEPENDENT_MARKET_PLATFORM'],
      status: 'ACTIVE',
      passport,
    })
  ).id;
  soToken = await hub.token({ org: so, roles: ['SYSTEM_OPERATOR'] });
  impToken = await hub.token({ org: imp, roles: ['INDEPENDENT_MARKET_PLATFORM'] });
}, 60_000);
afterAll(async () => {
  await hub?.close();
});

const vtn = (code: string, extra: Record<string, unknown> = {}) => ({
  code,
  name: `${code} flexibility VTN`,
  protocol: '3.1',
  baseUrl: `https://${code.toLowerCase()}.vtn.example/openadr3`,
  ...extra,
});

describe('VTN records', () => {
  it('the operator registers a VTN for any organisation; a dispatch platform for itself; both read it by ID or code', async () => {
    const a = await hub.call('POST', '/api/v1/vtns', { as: 'operator', body: vtn('SPEN', { operatorId: imp }) });
    expect(a.status, JSON.stringify(a.json)).toBe(201);
    expect(a.json).toMatchObject({
      code: 'SPEN',
      protocol: '3.1',
      operatorId: imp,
      vtnId: null,
      baseUrl: 'https://spen.vtn.example/openadr3',
      status: 'ACTIVE',
      version: 1,
    });
    const b = await hub.call('POST', '/api/v1/vtns', {
      as: soToken,
      body: { code: 'NESO', name: 'NESO dispatch', protocol: '2.0b', vtnId: 'NESO-VTN-01' },
    });
    expect(b.status, JSON.stringify(b.json)).toBe(201);
    expect(b.json).toMatchObject({ operatorId: so, vtnId: 'NESO-VTN-01', baseUrl: null });
    for (const ref of [a.json.id, 'spen']) expect((await hub.call('GET', `/api/v1/vtns/${ref}`, { as: 'fsp-b' })).json.id).toBe(a.json.id);
    const list = await hub.call('GET', '/api/v1/vtns?protocol=2.0b', { as: 'installer' });
    expect(list.json.items.map((v: any) => v.code)).toEqual(['NESO']);
  });

  it('refuses bad VTN records with their rule codes, writing nothing', async () => {
    const before = await rowCounts(hub.db, TABLES);
    const bad: [unknown, string, number, string?][] = [
      [vtn('spen-x'), 'REQUEST-VALIDATION', 422, 'OPENADR-VTN-CODE-FORMAT'],
      [vtn('ABCDEFGHI'), 'REQUEST-VALIDATION', 422, 'OPENADR-VTN-CODE-FORMAT'],
      [vtn('XA', { protocol: '2.1' }), 'REQUEST-VALIDATION', 422, 'OPENADR-PROTOCOL-UNKNOWN'],
      [{ code: 'XB', name: 'no id', protocol: '2.0b' }, 'REQUEST-VALIDATION', 422, 'OPENADR-VTN-REFERENCE'],
      [vtn('XC', { vtnId: 'VTN-1' }), 'REQUEST-VALIDATION', 422, 'OPENADR-VTN-REFERENCE'],
      [{ code: 'XD', name: 'no url', protocol: '3.0' }, 'REQUEST-VALIDATION', 422, 'OPENADR-VTN-REFERENCE'],
      [vtn('XE', { baseUrl: 'http://vtn.example/oadr' }), 'REQUEST-VALIDATION', 422, 'OPENADR-VTN-REFERENCE'],
      [vtn('spen'.toUpperCase(), { baseUrl: 'https://other.example/oadr3' }), 'OPENADR-VTN-CODE-TAKEN', 409],
      [vtn('XF', { baseUrl: 'https://spen.vtn.example/openadr3/' }), 'OPENADR-VTN-DUPLICATE', 409],
      [{ code: 'XG', name: 'dup vtnID', protocol: '2.0b', vtnId: 'NESO-VTN-01' }, 'OPENADR-VTN-DUPLICATE', 409],
    ];
    for (const [body, code, status, field] of bad) {
      const r = await hub.call('POST', '/api/v1/vtns', { as: 'operator', body: { operatorId: imp, ...(body as object) } });
      expect([r.status, r.json.code], JSON.stringify(body)).toEqual([status, code]);
      if (field)
        expect(
          r.json.errors.map((e: any) => e.code),
          JSON.stringify(body),
        ).toContain(field);
    }
    expect(await rowCounts(hub.db, TABLES)).toEqual(before);
  });

  it('only the operator and dispatch platforms write VTN records, a platform only its own', async () => {
    expect((await hub.call('POST', '/api/v1/vtns', { as: 'fsp-a', body: vtn('FSPV') })).json.code).toBe('AUTH-ROLE-FORBIDDEN');
    expect((await hub.call('POST', '/api/v1/vtns', { as: impToken, body: vtn('IMPX', { operatorId: so }) })).json.code).toBe(
      'AUTH-ROLE-FORBIDDEN',
    );
    const spen = (await hub.call('GET', '/api/v1/vtns/SPEN', { as: impToken })).json;
    const other = await hub.call('PATCH', `/api/v1/vtns/${spen.id}`, {
      as: soToken,
      body: { name: 'hijack' },
      headers: { 'if-match': '"1"' },
    });
    expect([other.status, other.json.code]).toEqual([404, 'OPENADR-VTN-NOT-FOUND']);
    expect((await hub.call('PATCH', `/api/v1/vtns/${spen.id}`, { as: impToken, body: { name: 'x' } })).status).toBe(428);
    const ok = await hub.call('PATCH', `/api/v1/vtns/${spen.id}`, {
      as: impToken,
      body: { name: 'SPEN Flexibility' },
      headers: { 'if-match': '"1"' },
    });
    expect([ok.status, ok.json.name, ok.json.version, ok.headers.get('etag')]).toEqual([200, 'SPEN Flexibility', 2, '"2"']);
    expect(
      (await hub.call('PATCH', `/api/v1/vtns/${spen.id}`, { as: impToken, body: { protocol: '2.0b' }, headers: { 'if-match': '"2"' } }))
        .json.errors[0].code,
    ).toBe('REQUEST-UNKNOWN-FIELD');
    const [audit] = await hub.db.query<{ action: string; detail: any }>(
      `SELECT action, detail FROM audit_log WHERE record_id = $1 AND action = 'vtn.updated'`,
      [spen.id],
    );
    expect(audit.detail.changed).toEqual(['name']);
  });
});

describe('VEN registrations', () => {
  let spen: string;
  let neso: string;
  beforeAll(async () => {
    spen = (await hub.call('GET', '/api/v1/vtns/SPEN', { as: 'operator' })).json.id;
    neso = (await hub.call('GET', '/api/v1/vtns/NESO', { as: 'operator' })).json.id;
  });

  it('an FSP records its own VEN ID on a VTN; the change is audited and announced to it and to the VTN’s operator', async () => {
    const r = await hub.call('POST', '/api/v1/ven-registrations', {
      as: 'fsp-a',
      body: { vtn: 'SPEN', venId: `SPEN-${uuid(1)}`, venName: 'alpha-spen', clientId: 'alpha-client-1', targets: ['group-1'] },
    });
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    expect(r.json).toMatchObject({
      organisationId: DEMO['fsp-a'],
      vtn: spen,
      vtnCode: 'SPEN',
      protocol: '3.1',
      venId: `SPEN-${uuid(1)}`,
      venName: 'alpha-spen',
      clientId: 'alpha-client-1',
      registrationId: null,
      status: 'ACTIVE',
      inForce: true,
      version: 1,
    });
    const audit = await hub.db.query(
      `SELECT action, organisation_id, detail FROM audit_log WHERE record_type = 'ven_registration' AND record_id = $1`,
      [r.json.id],
    );
    expect(audit).toEqual([expect.objectContaining({ action: 'ven_registration.registered', organisation_id: DEMO['fsp-a'] })]);
    const events = await hub.db.query(`SELECT type, organisation_id FROM event_outbox WHERE subject = $1 ORDER BY organisation_id`, [
      r.json.id,
    ]);
    expect(events.map((e) => [e.type, e.organisation_id]).sort()).toEqual(
      [
        ['fmar.ven-registration.registered', DEMO['fsp-a']],
        ['fmar.ven-registration.registered', imp],
      ].sort(),
    );
  });

  it('refuses bad registrations with their rule codes, writing nothing', async () => {
    const ok = { vtn: 'SPEN', venId: `SPEN-${uuid(2)}`, venName: 'alpha-2' };
    const before = await rowCounts(hub.db, TABLES);
    const bad: [Record<string, unknown>, string, number, string?][] = [
      [{ venId: 'has space' }, 'REQUEST-VALIDATION', 422, 'OPENADR-VEN-ID-FORMAT'],
      [{ venId: 'ven.with.dots' }, 'REQUEST-VALIDATION', 422, 'OPENADR-VEN-ID-FORMAT'],
      [{ venId: 'a'.repeat(129) }, 'REQUEST-VALIDATION', 422, 'OPENADR-VEN-ID-FORMAT'],
      [{ venName: 'n'.repeat(129) }, 'REQUEST-VALIDATION', 422, 'OPENADR-VEN-NAME-FORMAT'],
      [{ venName: '' }, 'REQUEST-VALIDATION', 422, 'OPENADR-VEN-NAME-FORMAT'],
      [{ targets: ['t'.repeat(129)] }, 'REQUEST-VALIDATION', 422, 'OPENADR-TARGET-FORMAT'],
      [{ registrationId: 'REG-1' }, 'REQUEST-VALIDATION', 422, 'OPENADR-REGISTRATION-ID'],
      [{ vtn: 'NOPE' }, 'REQUEST-VALIDATION', 422, 'OPENADR-VTN-UNKNOWN'],
      [{ vtn: 'NESO', venId: 'ven 1', registrationId: 'R1' }, 'REQUEST-VALIDATION', 422, 'OPENADR-VEN-ID-FORMAT'],
      [{ vtn: 'NESO', venId: 'ven-1' }, 'REQUEST-VALIDATION', 422, 'OPENADR-REGISTRATION-ID'],
      [{ vtn: 'NESO', venId: 'ven-1', registrationId: 'R1', clientId: 'c' }, 'REQUEST-VALIDATION', 422, 'OPENADR-CLIENT-ID-FORMAT'],
      [{ validFrom: '2026-06-02T00:00:00Z', validTo: '2026-06-01T00:00:00Z' }, 'REQUEST-VALIDATION', 422, 'OPENADR-VALIDITY'],
      [{ venId: `SPEN-${uuid(1)}` }, 'OPENADR-VEN-ID-TAKEN', 409],
      [{ venName: 'alpha-spen' }, 'OPENADR-VEN-NAME-TAKEN', 409],
      [{ organisationId: DEMO['fsp-b'] }, 'AUTH-ROLE-FORBIDDEN', 403],
    ];
    for (const [change, code, status, field] of bad) {
      const r = await hub.call('POST', '/api/v1/ven-registrations', { as: 'fsp-a', body: { ...ok, ...change } });
      expect([r.status, r.json.code], JSON.stringify(change)).toEqual([status, code]);
      if (field)
        expect(
          r.json.errors.map((e: any) => e.code),
          JSON.stringify(change),
        ).toContain(field);
    }
    // The operator and dispatch platforms name the organisation; it must be an FSP or aggregator.
    expect((await hub.call('POST', '/api/v1/ven-registrations', { as: 'operator', body: ok })).json.errors[0].code).toBe(
      'OPENADR-ORGANISATION-REQUIRED',
    );
    expect(
      (await hub.call('POST', '/api/v1/ven-registrations', { as: 'operator', body: { ...ok, organisationId: DEMO.dno } })).json.errors[0]
        .code,
    ).toBe('ORG-NOT-FSP');
    // A dispatch platform records registrations only on the VTNs it operates.
    expect(
      (await hub.call('POST', '/api/v1/ven-registrations', { as: soToken, body: { ...ok, organisationId: DEMO['fsp-b'] } })).json.code,
    ).toBe('AUTH-ROLE-FORBIDDEN');
    expect(await rowCounts(hub.db, TABLES)).toEqual(before);
  });

  it('a dispatch platform records VEN IDs on its own VTN; 2.0b IDs may carry what 3.x object IDs may not', async () => {
    const r = await hub.call('POST', '/api/v1/ven-registrations', {
      as: soToken,
      body: { vtn: neso, venId: 'ven:alpha/01', venName: 'alpha-neso', registrationId: 'REG-A1', organisationId: DEMO['fsp-a'] },
    });
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    expect(r.json).toMatchObject({ protocol: '2.0b', venId: 'ven:alpha/01', registrationId: 'REG-A1', clientId: null });
    // The same venName on another VTN is another registration (venName is unique per VTN).
    const again = await hub.call('POST', '/api/v1/ven-registrations', {
      as: 'fsp-b',
      body: { vtn: 'SPEN', venId: `SPEN-${uuid(3)}`, venName: 'alpha-neso' },
    });
    expect(again.status).toBe(201);
  });

  it('updates with If-Match, suspends, and cancels; a cancelled registration releases its VEN ID and stays read-only', async () => {
    const created = await hub.call('POST', '/api/v1/ven-registrations', {
      as: 'fsp-a',
      body: { vtn: 'SPEN', venId: `SPEN-${uuid(4)}`, venName: 'alpha-4' },
    });
    const id = created.json.id;
    expect((await hub.call('PATCH', `/api/v1/ven-registrations/${id}`, { as: 'fsp-a', body: { status: 'SUSPENDED' } })).status).toBe(428);
    expect(
      (
        await hub.call('PATCH', `/api/v1/ven-registrations/${id}`, {
          as: 'fsp-a',
          body: { venName: 'alpha-spen' },
          headers: { 'if-match': '"1"' },
        })
      ).json.code,
    ).toBe('OPENADR-VEN-NAME-TAKEN');
    const s = await hub.call('PATCH', `/api/v1/ven-registrations/${id}`, {
      as: 'fsp-a',
      body: { status: 'SUSPENDED', targets: ['zone-9'] },
      headers: { 'if-match': '"1"' },
    });
    expect(s.json).toMatchObject({ status: 'SUSPENDED', inForce: false, targets: ['zone-9'], version: 2 });
    expect(
      (
        await hub.call('PATCH', `/api/v1/ven-registrations/${id}`, {
          as: 'fsp-b',
          body: { status: 'ACTIVE' },
          headers: { 'if-match': '"2"' },
        })
      ).json.code,
    ).toBe('OPENADR-VEN-NOT-FOUND');
    expect((await hub.call('DELETE', `/api/v1/ven-registrations/${id}`, { as: 'fsp-a', headers: { 'if-match': '"1"' } })).status).toBe(412);
    const c = await hub.call('DELETE', `/api/v1/ven-registrations/${id}?reason=moved`, { as: 'fsp-a' });
    expect(c.json).toMatchObject({ status: 'CANCELLED', version: 3 });
    expect(
      (
        await hub.call('PATCH', `/api/v1/ven-registrations/${id}`, {
          as: 'fsp-a',
          body: { status: 'ACTIVE' },
          headers: { 'if-match': '"3"' },
        })
      ).json.code,
    ).toBe('OPENADR-REGISTRATION-CANCELLED');
    const reuse = await hub.call('POST', '/api/v1/ven-registrations', {
      as: 'fsp-b',
      body: { vtn: 'SPEN', venId: `SPEN-${uuid(4)}`, venName: 'alpha-4' },
    });
    expect(reuse.status).toBe(201);
    const actions = (await hub.db.query(`SELECT action FROM audit_log WHERE record_id = $1 ORDER BY id`, [id])).map((r) => r.action);
    expect(actions).toEqual(['ven_registration.registered', 'ven_registration.updated', 'ven_registration.cancelled']);
  });

  it('each party sees what the matrix gives it: FSPs their own, dispatch platforms and the operator all', async () => {
    const ids = async (as: string, q = '') =>
      (await hub.call('GET', `/api/v1/ven-registrations${q}`, { as })).json.items.map((r: any) => r.organisationId);
    expect(new Set(await ids('fsp-a'))).toEqual(new Set([DEMO['fsp-a']]));
    expect(new Set(await ids('fsp-b'))).toEqual(new Set([DEMO['fsp-b']]));
    expect(new Set(await ids(soToken))).toEqual(new Set([DEMO['fsp-a'], DEMO['fsp-b']]));
    expect(await ids(impToken, `?organisationId=${DEMO['fsp-b']}&status=ACTIVE`)).toEqual([DEMO['fsp-b'], DEMO['fsp-b']]);
    expect((await hub.call('GET', '/api/v1/ven-registrations', { as: 'dno' })).json.code).toBe('AUTH-ROLE-FORBIDDEN');
  });
});

describe('VEN ID resolution', () => {
  let fspAAssets: string[];
  beforeAll(async () => {
    // More assets under FSP A's control (one de-registered), so that paging and the live filter show.
    const out = await registerAssets(
      hub.ctx,
      hub.system,
      Array.from({ length: 4 }, (_, i) =>
        batteryInput(300 + i, {
          organisationId: DEMO['fsp-a'],
          importMpan: mpanFor(300 + i),
          location: { gspGroup: '_N', latitude: 55.8642, longitude: -4.2518 },
        }),
      ),
      { source: 'test' },
    );
    expect(out.ok).toBe(true);
    await hub.call('DELETE', `/api/v1/assets/${out.assets[3].id}`, { as: 'fsp-a' });
    fspAAssets = (
      await hub.db.query<{ id: string }>(`SELECT id FROM asset WHERE fsp_id = $1 AND deregistered_at IS NULL ORDER BY id`, [DEMO['fsp-a']])
    ).map((r) => r.id);
  });

  it('a dispatch platform resolves a VEN ID on a VTN to the organisation, its roles and a page of its live assets', async () => {
    const r = await hub.call('GET', `/api/v1/ven-registrations/resolve?vtn=SPEN&venId=SPEN-${uuid(1)}&limit=2`, { as: soToken });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.json.organisation).toMatchObject({
      id: DEMO['fsp-a'],
      legalName: 'Demo Flex Alpha Ltd',
      roles: ['FSP', 'AGGREGATOR'],
      status: 'ACTIVE',
    });
    expect(r.json.vtn).toMatchObject({ code: 'SPEN', protocol: '3.1' });
    expect(r.json.registration).toMatchObject({ venName: 'alpha-spen', inForce: true });
    const seen = r.json.assets.items.map((a: any) => a.id);
    let cursor = r.json.assets.nextCursor;
    while (cursor) {
      const next = await hub.call('GET', `/api/v1/ven-registrations/resolve?vtn=SPEN&venId=SPEN-${uuid(1)}&limit=2&cursor=${cursor}`, {
        as: soToken,
      });
      seen.push(...next.json.assets.items.map((a: any) => a.id));
      cursor = next.json.assets.nextCursor;
    }
    expect(seen).toEqual(fspAAssets);
    const battery = r.json.assets.items[0];
    expect(battery.resource).toMatchObject({
      objectType: 'RESOURCE',
      resourceName: battery.id,
      venID: r.json.registration.id,
      clientID: 'alpha-client-1',
    });
  });

  it('resolves by venName, by a namespaced VEN ID alone, by a 3.x base URL and by a 2.0b vtnID', async () => {
    const org = async (q: string) => {
      const r = await hub.call('GET', `/api/v1/ven-registrations/resolve?${q}`, { as: impToken });
      expect(r.status, `${q}: ${JSON.stringify(r.json)}`).toBe(200);
      return r.json.registration.venId;
    };
    expect(await org('vtn=spen&venName=alpha-spen')).toBe(`SPEN-${uuid(1)}`);
    expect(await org(`venId=SPEN-${uuid(1)}`)).toBe(`SPEN-${uuid(1)}`);
    expect(await org(`vtnUrl=${encodeURIComponent('https://spen.vtn.example/openadr3/')}&venId=SPEN-${uuid(1)}`)).toBe(`SPEN-${uuid(1)}`);
    expect(await org(`vtnId=NESO-VTN-01&venId=${encodeURIComponent('ven:alpha/01')}`)).toBe('ven:alpha/01');
  });

  it('refuses unclear questions and answers 404 for what it does not know or the caller may not see', async () => {
    const ask = async (q: string, as: string = soToken) => {
      const r = await hub.call('GET', `/api/v1/ven-registrations/resolve?${q}`, { as });
      return [r.status, r.json.code];
    };
    expect(await ask('vtn=SPEN')).toEqual([400, 'OPENADR-RESOLVE-QUERY']);
    expect(await ask(`vtn=SPEN&venId=x&venName=y`)).toEqual([400, 'OPENADR-RESOLVE-QUERY']);
    expect(await ask('venId=plain-id')).toEqual([400, 'OPENADR-RESOLVE-QUERY']);
    expect(await ask('vtn=SPEN&vtnId=NESO-VTN-01&venId=x')).toEqual([400, 'OPENADR-RESOLVE-QUERY']);
    expect(await ask('vtn=NOPE&venId=x')).toEqual([404, 'OPENADR-VTN-NOT-FOUND']);
    expect(await ask('vtn=SPEN&venId=unknown')).toEqual([404, 'OPENADR-VEN-NOT-FOUND']);
    expect(await ask(`vtn=SPEN&venId=SPEN-${uuid(1)}`, 'fsp-b')).toEqual([404, 'OPENADR-VEN-NOT-FOUND']);
    expect(await ask(`vtn=SPEN&venId=SPEN-${uuid(1)}`, 'fsp-a')).toEqual([200, undefined]);
    expect(await ask(`vtn=SPEN&venId=SPEN-${uuid(1)}`, 'dno')).toEqual([403, 'AUTH-ROLE-FORBIDDEN']);
    expect(await ask('vtn=SPEN&venName=alpha-4')).toEqual([200, undefined]); // fsp-b's live one, not the cancelled one
  });

  it('the reverse: the registrations behind an organisation and behind an asset', async () => {
    const byOrg = await hub.call('GET', `/api/v1/organisations/${DEMO['fsp-a']}/ven-registrations`, { as: soToken });
    expect(byOrg.json.items.map((r: any) => r.venName).sort()).toEqual(['alpha-4', 'alpha-neso', 'alpha-spen']);
    expect((await hub.call('GET', `/api/v1/organisations/${DEMO['fsp-a']}/ven-registrations`, { as: 'fsp-b' })).json.code).toBe(
      'ORG-NOT-FOUND',
    );
    const byAsset = await hub.call('GET', `/api/v1/assets/${fspAAssets[0]}/ven-registrations`, { as: impToken });
    expect(byAsset.json).toMatchObject({ assetId: fspAAssets[0], fspId: DEMO['fsp-a'] });
    expect(byAsset.json.items.map((r: any) => r.venName).sort()).toEqual(['alpha-neso', 'alpha-spen']);
    expect((await hub.call('GET', `/api/v1/assets/${fspAAssets[0]}/ven-registrations`, { as: 'fsp-b' })).json.code).toBe('ASSET-NOT-FOUND');
  });
});

describe('OpenADR 2.0b oadrCreatedPartyRegistration', () => {
  beforeAll(async () => {
    const r = await hub.call('POST', '/api/v1/vtns', {
      as: 'operator',
      body: {
        code: 'NGED',
        name: 'NGED DSO flexibility (2.0b)',
        protocol: '2.0b',
        vtnId: 'NGED-DSO-VTN-2B',
        baseUrl: 'https://nged.vtn.example/OpenADR2/Simple/2.0b',
        operatorId: imp,
      },
    });
    expect(r.status, JSON.stringify(r.json)).toBe(201);
  });
  const post = (text: string, q = '', as = 'fsp-a', contentType = 'application/xml') =>
    hub.call('POST', `/api/v1/ven-registrations/oadr2b${q}`, { as, text, contentType });

  it('records the registration as the VTN issued it, and exports the same document back', async () => {
    const r = await post(fixture, '?venName=alpha-nged');
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    expect(r.json).toMatchObject({
      protocol: '2.0b',
      vtnCode: 'NGED',
      venId: 'ven_alpha_glasgow_01',
      registrationId: 'REG-7f3c2a91',
      venName: 'alpha-nged',
      organisationId: DEMO['fsp-a'],
    });
    const [audit] = await hub.db.query<{ detail: any }>(`SELECT detail FROM audit_log WHERE record_id = $1`, [r.json.id]);
    expect(audit.detail.source).toBe('oadr2b');
    const out = await hub.call('GET', `/api/v1/ven-registrations/${r.json.id}/oadr2b`, { as: impToken });
    expect([out.status, out.headers.get('content-type')]).toEqual([200, 'application/xml; charset=utf-8']);
    expect(parseCreatedPartyRegistration(out.text)).toEqual(parseCreatedPartyRegistration(fixture));
    expect(parseCreatedPartyRegistration(fixture)).toMatchObject({
      registrationId: 'REG-7f3c2a91',
      venId: 'ven_alpha_glasgow_01',
      vtnId: 'NGED-DSO-VTN-2B',
      pollFreq: 'PT10S',
      requestId: 'b0d5e1f2-7c3a-4d9e-8f10-2a3b4c5d6e7f',
    });
    // The same document twice is the same VEN ID on the same VTN.
    expect((await post(fixture, '?venName=alpha-nged-2')).json.code).toBe('OPENADR-VEN-ID-TAKEN');
  });

  it('refuses hostile, foreign and incomplete documents with their rule codes, writing nothing', async () => {
    const before = await rowCounts(hub.db, TABLES);
    const bare = fixture.replace(/ven_alpha_glasgow_01/g, 'ven_other_01');
    const cases: [string, string, number, string?][] = [
      ['<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>', 'OPENADR-XML-DOCTYPE', 400],
      ['<oadr:oadrPayload xmlns:oadr="http://openadr.org/oadr-2.0b/2012/07"><unclosed></oadr:oadrPayload>', 'OPENADR-XML-MALFORMED', 400],
      [`<a>${'<b>'.repeat(20)}${'</b>'.repeat(20)}</a>`, 'OPENADR-XML-TOO-DEEP', 400],
      [`<a>${'x'.repeat(300 * 1024)}</a>`, 'OPENADR-XML-TOO-LARGE', 413],
      [
        bare.replace(/http:\/\/openadr\.org\/oadr-2\.0b\/2012\/07/g, 'http://openadr.org/oadr-2.0a/2012/07'),
        'OPENADR-XML-NOT-REGISTRATION',
        422,
      ],
      [bare.replace(/<ei:venID>.*<\/ei:venID>/, ''), 'OPENADR-XML-FIELD', 422],
      [
        bare.replace(/<ei:registrationID>.*<\/ei:registrationID>/, '<ei:registrationID>has space</ei:registrationID>'),
        'OPENADR-XML-FIELD',
        422,
      ],
      [bare.replace(/NGED-DSO-VTN-2B/, 'UNKNOWN-VTN'), 'REQUEST-VALIDATION', 422, 'OPENADR-VTN-UNKNOWN'],
    ];
    for (const [text, code, status, field] of cases) {
      const r = await post(text);
      expect([r.status, r.json.code], text.slice(0, 120)).toEqual([status, code]);
      if (field) expect(r.json.errors[0].code).toBe(field);
    }
    expect((await post(bare, '', 'fsp-a', 'application/json')).json.code).toBe('REQUEST-UNSUPPORTED-MEDIA-TYPE');
    expect(await rowCounts(hub.db, TABLES)).toEqual(before);
  });

  it('exports only 2.0b registrations', async () => {
    const [reg] = await hub.db.query(`SELECT id FROM ven_registration WHERE protocol = '3.1' LIMIT 1`);
    expect((await hub.call('GET', `/api/v1/ven-registrations/${reg.id}/oadr2b`, { as: 'operator' })).json.code).toBe(
      'OPENADR-EXPORT-PROTOCOL',
    );
  });
});
