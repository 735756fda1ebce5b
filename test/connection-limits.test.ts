import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrganisationRole } from '../src/access/roles';
import { limitErrors, mpanErrors, networkOf, profileErrors } from '../src/connection-limits/rules';
import { registerOrganisation } from '../src/organisations/service';
import { applyDueSwitches } from '../src/switching/switches';
import { deliverDue } from '../src/webhooks/delivery';
import { DEMO, batteryInput, expectRefused, mpanFor, testHub, type TestHub } from './harness';

/** UC-02.05: connection limits, from every party's side. */

let hub: TestHub;
const API = '/api/v1/connection-limits';
const TABLES = ['connection_limit', 'record_history', 'audit_log', 'event_outbox'];
const passport = { contacts: { primary: { firstName: 'Lee', lastName: 'Limits', email: 'lee@limits.example' } } };
/** Tokens of organisations beyond the demo ones: a DNO on another network, an IDNO, the regulator. */
let otherDno: string;
let idno: { id: string; token: string };
let regulator: string;

async function org(legalName: string, registrationNumber: string, roles: OrganisationRole[], dnoCodes: string[] = []) {
  const o = await registerOrganisation(hub.ctx, hub.system, {
    legalName,
    organisationType: 'PLC',
    registrationNumber,
    roles,
    status: 'ACTIVE',
    dnoCodes,
    passport,
  });
  return { id: o.id, token: await hub.token({ org: o.id, roles, sub: `limits-${registrationNumber}` }) };
}

beforeAll(async () => {
  hub = await testHub();
  otherDno = (await org('Eastern Wires plc', '09300001', ['DNO'], ['UKPN_EPN'])).token;
  idno = await org('Estate Networks plc', '09300002', ['IDNO'], ['IDNO_24']);
  regulator = (await org('Energy Regulator', '09300003', ['REGULATOR'])).token;
});
afterAll(async () => {
  await hub?.close();
});

let n = 0;
/** An asset of fsp-a (or another demo FSP) at its own MPAN, or at the MPAN given. */
async function asset(extra: Record<string, unknown> = {}, as: 'fsp-a' | 'fsp-b' = 'fsp-a') {
  const i = ++n;
  const r = await hub.call('POST', '/api/v1/assets', { as, body: batteryInput(9300 + i, { serialNumber: `CL-${i}`, ...extra }) });
  expect(r.status, r.text).toBe(201);
  return r.json as { id: string; importMpan: string };
}
const limitBody = (mpan: string, extra: Record<string, unknown> = {}) => ({
  mpan,
  exportLimitKw: 8,
  importLimitKw: 20,
  firmness: 'FIRM',
  ...extra,
});
const record = (as: string, body: unknown) => hub.call('POST', API, { as, body });
const refused = (req: () => Promise<{ status: number; json: any; text?: string }>, status: number, code: string) =>
  expectRefused(hub.db, TABLES, req, status, code);

describe('the rules, pure', () => {
  it('checks the MPAN as an asset MPAN is checked', () => {
    expect(mpanErrors(mpanFor(1)).map((e) => e.code)).toEqual([]);
    expect(mpanErrors('13000').map((e) => e.code)).toEqual(['CONNECTION-LIMIT-MPAN-FORMAT']);
    expect(mpanErrors(mpanFor(1).slice(0, 12) + ((Number(mpanFor(1)[12]) + 1) % 10)).map((e) => e.code)).toEqual([
      'CONNECTION-LIMIT-MPAN-CHECKDIGIT',
    ]);
    expect(mpanErrors(mpanFor(1, '99')).map((e) => e.code)).toEqual(['CONNECTION-LIMIT-MPAN-DISTRIBUTOR']);
  });

  it('finds the network by the distributor ID first, then by a registered asset’s dno', () => {
    expect(networkOf('SPEN_SPM', ['IDNO_24'], ['SPEN_SPM'])).toBe('SPEN_SPM');
    expect(networkOf('SPEN_SPM', ['IDNO_24'], ['IDNO_24'])).toBe('IDNO_24');
    expect(networkOf('SPEN_SPM', [], ['UKPN_EPN'])).toBeUndefined();
    expect(networkOf(undefined, [], [])).toBeUndefined();
  });

  it('profile bands: order, a limit, within the connection’s own, no overlap on a common day', () => {
    const own = { importLimitKw: 20, exportLimitKw: null };
    expect(profileErrors([{ from: '16:00', to: '19:00', importLimitKw: 10 }], own)).toEqual([]);
    expect(profileErrors([{ from: '19:00', to: '16:00', importLimitKw: 10 }], own).map((e) => e.field)).toEqual(['profile.0']);
    expect(profileErrors([{ from: '16:00', to: '19:00' }], own).map((e) => e.code)).toEqual(['CONNECTION-LIMIT-PROFILE-BAND']);
    expect(profileErrors([{ from: '16:00', to: '19:00', importLimitKw: 30 }], own)).toHaveLength(1);
    expect(profileErrors([{ from: '16:00', to: '19:00', exportLimitKw: 1 }], own)).toHaveLength(1);
    const overlapping = [
      { days: ['MON' as const], from: '16:00', to: '19:00', importLimitKw: 10 },
      { from: '18:00', to: '24:00', importLimitKw: 5 },
    ];
    expect(profileErrors(overlapping, own).map((e) => e.field)).toEqual(['profile.1']);
    expect(profileErrors([overlapping[0], { ...overlapping[1], days: ['TUE' as const] }], own)).toEqual([]);
  });

  it('cross-field: a limit, the period, the profile for TIMED only, the scheme for NON_FIRM and DYNAMIC only', () => {
    const base: Parameters<typeof limitErrors>[0] = {
      importLimitKw: 10,
      exportLimitKw: null,
      firmness: 'FIRM',
      validFrom: '2026-06-01T00:00:00.000Z',
      validTo: null,
      profile: null,
      schemeReference: null,
    };
    const codes = (x: Partial<typeof base>) => limitErrors({ ...base, ...x }).map((e) => e.code);
    expect(codes({})).toEqual([]);
    expect(codes({ importLimitKw: null })).toEqual(['CONNECTION-LIMIT-REQUIRED']);
    expect(codes({ validTo: '2026-05-01T00:00:00.000Z' })).toEqual(['CONNECTION-LIMIT-PERIOD']);
    expect(codes({ firmness: 'TIMED' })).toEqual(['CONNECTION-LIMIT-PROFILE']);
    expect(codes({ profile: [{ from: '00:00', to: '06:00', importLimitKw: 5 }] })).toEqual(['CONNECTION-LIMIT-PROFILE']);
    expect(codes({ firmness: 'DYNAMIC' })).toEqual(['CONNECTION-LIMIT-SCHEME']);
    expect(codes({ firmness: 'NON_FIRM', schemeReference: 'ANM-1' })).toEqual([]);
    expect(codes({ schemeReference: 'ANM-1' })).toEqual(['CONNECTION-LIMIT-SCHEME']);
  });
});

describe('recording (DNO/IDNO)', () => {
  it('the DNO records a limit at an MPAN on its network: 201, Location, ETag, audit and event', async () => {
    const a = await asset();
    const r = await record('dno', limitBody(a.importMpan, { siteReference: 'SPM-SITE-0042' }));
    expect(r.status, r.text).toBe(201);
    expect(r.headers.get('etag')).toBe('"1"');
    expect(r.headers.get('location')).toBe(`${API}/${r.json.id}`);
    expect(r.json).toEqual({
      id: r.json.id,
      mpan: a.importMpan,
      siteReference: 'SPM-SITE-0042',
      dnoOrganisationId: DEMO.dno,
      dno: 'SPEN_SPM',
      importLimitKw: 20,
      exportLimitKw: 8,
      firmness: 'FIRM',
      validFrom: '2026-06-01T09:00:00.000Z',
      validTo: null,
      profile: null,
      schemeReference: null,
      status: 'ACTIVE',
      withdrawnAt: null,
      version: 1,
      recordedAt: '2026-06-01T09:00:00.000Z',
      recordedBy: expect.any(String),
    });
    const audit = await hub.db.query(
      `SELECT action, organisation_id FROM audit_log WHERE record_type = 'connection_limit' AND record_id = $1`,
      [r.json.id],
    );
    expect(audit).toEqual([{ action: 'connection-limit.recorded', organisation_id: DEMO.dno }]);
  });

  it('an MPAN off the caller’s network is refused 403 CONNECTION-LIMIT-NOT-NETWORK, writing nothing', async () => {
    const a = await asset();
    await refused(() => record(otherDno, limitBody(a.importMpan)), 403, 'CONNECTION-LIMIT-NOT-NETWORK');
    // No asset, distributor 13 (SPEN_SPM): not the Eastern DNO's either.
    await refused(() => record(otherDno, limitBody(mpanFor(9399))), 403, 'CONNECTION-LIMIT-NOT-NETWORK');
  });

  it('an IDNO records at an MPAN whose registered asset is on its network, whatever the distributor ID', async () => {
    const a = await asset({ dno: 'IDNO_24', importMpan: mpanFor(9390) });
    await refused(() => record(idno.token, limitBody(mpanFor(9391))), 403, 'CONNECTION-LIMIT-NOT-NETWORK');
    const r = await record(idno.token, limitBody(a.importMpan));
    expect([r.status, r.json.dno, r.json.dnoOrganisationId]).toEqual([201, 'IDNO_24', idno.id]);
  });

  it('other roles may not record: FSP, operator, regulator tokens lack connection-limits:write → 403 AUTH-SCOPE-MISSING', async () => {
    const a = await asset();
    for (const as of ['fsp-a', 'operator', regulator]) await refused(() => record(as, limitBody(a.importMpan)), 403, 'AUTH-SCOPE-MISSING');
  });

  it('validation: each rule answers its own code and writes nothing', async () => {
    const mpan = (await asset()).importMpan;
    const check = mpanFor(9380);
    const cases: [Record<string, unknown>, number, string][] = [
      [limitBody('13000'), 422, 'CONNECTION-LIMIT-MPAN-FORMAT'],
      [limitBody('13000000000000000'), 422, 'REQUEST-VALIDATION mpan CONNECTION-LIMIT-MPAN-FORMAT'],
      [limitBody(check.slice(0, 12) + ((Number(check[12]) + 1) % 10)), 422, 'CONNECTION-LIMIT-MPAN-CHECKDIGIT'],
      [limitBody(mpanFor(9380, '99')), 422, 'CONNECTION-LIMIT-MPAN-DISTRIBUTOR'],
      [{ mpan, firmness: 'FIRM' }, 422, 'CONNECTION-LIMIT-REQUIRED'],
      [limitBody(mpan, { exportLimitKw: -1 }), 422, 'REQUEST-VALIDATION exportLimitKw CONNECTION-LIMIT-KW'],
      [limitBody(mpan, { exportLimitKw: 1.234 }), 422, 'REQUEST-VALIDATION exportLimitKw CONNECTION-LIMIT-KW'],
      [limitBody(mpan, { firmness: 'SOFT' }), 422, 'REQUEST-VALIDATION firmness CONNECTION-LIMIT-FIRMNESS-UNKNOWN'],
      [limitBody(mpan, { validFrom: '2026-07-01T00:00:00Z', validTo: '2026-06-01T00:00:00Z' }), 422, 'CONNECTION-LIMIT-PERIOD'],
      [limitBody(mpan, { validFrom: 'tomorrow' }), 422, 'REQUEST-VALIDATION validFrom CONNECTION-LIMIT-PERIOD'],
      [limitBody(mpan, { firmness: 'TIMED' }), 422, 'CONNECTION-LIMIT-PROFILE'],
      [limitBody(mpan, { profile: [{ from: '16:00', to: '19:00', exportLimitKw: 4 }] }), 422, 'CONNECTION-LIMIT-PROFILE'],
      [
        limitBody(mpan, {
          firmness: 'TIMED',
          profile: [
            { from: '16:00', to: '19:00', exportLimitKw: 4 },
            { from: '18:00', to: '20:00', exportLimitKw: 2 },
          ],
        }),
        422,
        'CONNECTION-LIMIT-PROFILE-BAND',
      ],
      [
        limitBody(mpan, { firmness: 'TIMED', profile: [{ from: '16:00', to: '25:00', exportLimitKw: 4 }] }),
        422,
        'REQUEST-VALIDATION profile.0.to CONNECTION-LIMIT-PROFILE-BAND',
      ],
      [limitBody(mpan, { firmness: 'DYNAMIC' }), 422, 'CONNECTION-LIMIT-SCHEME'],
      [limitBody(mpan, { schemeReference: 'ANM-ZONE-3' }), 422, 'CONNECTION-LIMIT-SCHEME'],
      [limitBody(mpan, { colour: 'red' }), 422, 'REQUEST-VALIDATION colour REQUEST-UNKNOWN-FIELD'],
    ];
    for (const [body, status, code] of cases) await refused(() => record('dno', body), status, code);
  });

  it('TIMED with a profile and DYNAMIC with a scheme are recorded as given', async () => {
    const timed = await record(
      'dno',
      limitBody((await asset()).importMpan, {
        firmness: 'TIMED',
        profile: [{ days: ['MON', 'TUE', 'WED', 'THU', 'FRI'], from: '16:00', to: '19:00', exportLimitKw: 4 }],
      }),
    );
    expect([timed.status, timed.json.profile]).toEqual([
      201,
      [{ days: ['MON', 'TUE', 'WED', 'THU', 'FRI'], from: '16:00', to: '19:00', exportLimitKw: 4 }],
    ]);
    const dynamic = await record('dno', limitBody((await asset()).importMpan, { firmness: 'DYNAMIC', schemeReference: 'ANM-ZONE-3' }));
    expect([dynamic.status, dynamic.json.schemeReference]).toEqual([201, 'ANM-ZONE-3']);
  });

  it('one limit in force per MPAN at a time: an overlapping period is 409 CONNECTION-LIMIT-OVERLAP naming it; a later one is recorded', async () => {
    const mpan = (await asset()).importMpan;
    const first = await record('dno', limitBody(mpan, { validTo: '2026-09-01T00:00:00Z' }));
    expect(first.status).toBe(201);
    const p = await refused(() => record('dno', limitBody(mpan, { validFrom: '2026-08-01T00:00:00Z' })), 409, 'CONNECTION-LIMIT-OVERLAP');
    expect(p.connectionLimitId).toBe(first.json.id);
    expect((await record('dno', limitBody(mpan, { validFrom: '2026-09-01T00:00:00Z' }))).status).toBe(201);
    // PostgreSQL keeps it too, whatever the application checked first (two writers at the same moment).
    const err = await hub.db
      .query(
        `INSERT INTO connection_limit (id, mpan, dno_organisation_id, dno, export_limit_kw, firmness, valid_from, status, recorded_at, recorded_by)
        VALUES ('01JF0000000000000000000RAC', $1, $2, 'SPEN_SPM', 1, 'FIRM', '2026-10-01T00:00:00Z', 'ACTIVE', now(), 'test')`,
        [mpan, DEMO.dno],
      )
      .then(
        () => undefined,
        (e: { code?: string; constraint_name?: string; constraint?: string }) => [e.code, e.constraint_name ?? e.constraint],
      );
    expect(err).toEqual(['23P01', 'connection_limit_no_overlap']);
  });
});

describe('reading, from every side', () => {
  let limitId: string;
  let assetId: string;
  let mpan: string;
  beforeAll(async () => {
    const a = await asset();
    assetId = a.id;
    mpan = a.importMpan;
    const r = await record('dno', limitBody(mpan));
    expect(r.status).toBe(201);
    limitId = r.json.id;
  });
  const read = (as: string) => hub.call('GET', `${API}/${limitId}`, { as });
  const listed = async (as: string) => {
    const r = await hub.call('GET', `${API}?mpan=${mpan}`, { as });
    expect(r.status, r.text).toBe(200);
    return r.json.items.map((x: { id: string }) => x.id);
  };

  it('the recording DNO, the operator, the regulator and the FSP controlling the asset read it; others do not', async () => {
    for (const as of ['dno', 'operator', regulator, 'fsp-a']) {
      const r = await read(as);
      expect([r.status, r.json.id, r.headers.get('etag')], String(as)).toEqual([200, limitId, '"1"']);
      expect(await listed(as), String(as)).toEqual([limitId]);
    }
    for (const as of ['fsp-b', otherDno, idno.token]) {
      const r = await read(as);
      expect([r.status, r.json.code]).toEqual([404, 'CONNECTION-LIMIT-NOT-FOUND']);
      expect(await listed(as)).toEqual([]);
    }
    // An installer's token carries no assets:read.
    const installer = await read('installer');
    expect([installer.status, installer.json.code]).toEqual([403, 'AUTH-SCOPE-MISSING']);
  });

  it('an unknown or malformed ID is 404', async () => {
    for (const id of ['01JD8X6N2Q7ZB4Y3W5V6T7S8R9', 'not-a-ulid']) {
      const r = await hub.call('GET', `${API}/${id}`, { as: 'operator' });
      expect([r.status, r.json.code]).toEqual([404, 'CONNECTION-LIMIT-NOT-FOUND']);
    }
  });

  it('filters: firmness, status, activeAt', async () => {
    const q = async (query: string) => (await hub.call('GET', `${API}?mpan=${mpan}&${query}`, { as: 'dno' })).json.items.length;
    expect(await q('firmness=FIRM')).toBe(1);
    expect(await q('firmness=DYNAMIC')).toBe(0);
    expect(await q('status=WITHDRAWN')).toBe(0);
    expect(await q('activeAt=2026-06-01T10:00:00Z')).toBe(1);
    expect(await q('activeAt=2026-06-01T08:00:00Z')).toBe(0);
  });

  it('a switch takes the reading with the asset: the losing FSP no longer reads it, the gaining FSP does', async () => {
    hub.clock.advance(3_600_000);
    const at = hub.clock.now().toISOString();
    const sid = hub.ports.ids.next();
    await hub.db.query(
      `INSERT INTO asset_switch (id, asset_id, losing_fsp_id, gaining_fsp_id, status, effective_date, effective_at, consent, consent_jti, consent_issuer, requested_at, requested_by)
      VALUES ($1, $2, $3, $4, 'PENDING', $5::date, $6::timestamptz, '{}'::jsonb, $1, 'test', $6::timestamptz, 'test')`,
      [sid, assetId, DEMO['fsp-a'], DEMO['fsp-b'], at.slice(0, 10), at],
    );
    expect((await applyDueSwitches(hub.ctx)).filter((x) => x.id === sid)).toEqual([{ id: sid, status: 'EFFECTIVE' }]);
    const losing = await read('fsp-a');
    expect([losing.status, losing.json.code]).toEqual([404, 'CONNECTION-LIMIT-NOT-FOUND']);
    expect(await listed('fsp-a')).toEqual([]);
    expect((await read('fsp-b')).status).toBe(200);
    expect(await listed('fsp-b')).toEqual([limitId]);
  });
});

describe('changing and withdrawing (If-Match, history)', () => {
  it('PATCH needs If-Match, refuses a stale one, changes with version + 1 and keeps the prior version; only the recording DNO', async () => {
    const r0 = await record('dno', limitBody((await asset()).importMpan));
    const id = r0.json.id;
    const patch = (as: string, body: unknown, headers: Record<string, string> = { 'if-match': '"1"' }) =>
      hub.call('PATCH', `${API}/${id}`, { as, body, headers });
    await refused(() => patch('dno', { exportLimitKw: 6 }, {}), 428, 'REQUEST-IF-MATCH-REQUIRED');
    const stale = await refused(() => patch('dno', { exportLimitKw: 6 }, { 'if-match': '"7"' }), 412, 'REQUEST-PRECONDITION-FAILED');
    expect(stale.currentVersion).toBe(1);
    await refused(() => patch(otherDno, { exportLimitKw: 6 }), 404, 'CONNECTION-LIMIT-NOT-FOUND');
    await refused(() => patch('fsp-a', { exportLimitKw: 6 }), 403, 'AUTH-SCOPE-MISSING');
    await refused(() => patch('dno', { firmness: 'DYNAMIC' }), 422, 'CONNECTION-LIMIT-SCHEME');
    await refused(() => patch('dno', { mpan: mpanFor(1) }), 422, 'REQUEST-VALIDATION mpan REQUEST-UNKNOWN-FIELD');
    const r = await patch('dno', { exportLimitKw: 6, firmness: 'NON_FIRM', schemeReference: 'ANM-ZONE-7' });
    expect([r.status, r.headers.get('etag'), r.json.version, r.json.exportLimitKw, r.json.firmness]).toEqual([
      200,
      '"2"',
      2,
      6,
      'NON_FIRM',
    ]);
    const h = await hub.call('GET', `${API}/${id}/history`, { as: 'dno' });
    expect(h.json.items.map((v: { version: number; exportLimitKw: number }) => [v.version, v.exportLimitKw])).toEqual([
      [2, 6],
      [1, 8],
    ]);
    const ev = await hub.db.query(`SELECT type, data->'changed' AS changed FROM event_outbox WHERE subject = $1 ORDER BY id`, [id]);
    expect(ev).toEqual([
      { type: 'fmar.connection-limit.recorded', changed: null },
      { type: 'fmar.connection-limit.updated', changed: ['exportLimitKw', 'firmness', 'schemeReference'] },
    ]);
    expect((await hub.call('GET', `${API}/${id}/history`, { as: 'fsp-b' })).status).toBe(404);
  });

  it('withdraw: If-Match, status WITHDRAWN, kept and readable; a second withdrawal or an update is 409 CONNECTION-LIMIT-WITHDRAWN', async () => {
    const r0 = await record('dno', limitBody((await asset()).importMpan));
    const id = r0.json.id;
    const del = (headers: Record<string, string>, as = 'dno') => hub.call('DELETE', `${API}/${id}?reason=re-surveyed`, { as, headers });
    await refused(() => del({}), 428, 'REQUEST-IF-MATCH-REQUIRED');
    await refused(() => del({ 'if-match': '"1"' }, otherDno), 404, 'CONNECTION-LIMIT-NOT-FOUND');
    const r = await del({ 'if-match': '"1"' });
    expect([r.status, r.json.status, r.json.version, r.json.withdrawnAt]).toEqual([200, 'WITHDRAWN', 2, hub.clock.now().toISOString()]);
    await refused(() => del({ 'if-match': '"2"' }), 409, 'CONNECTION-LIMIT-WITHDRAWN');
    await refused(
      () => hub.call('PATCH', `${API}/${id}`, { as: 'dno', body: { exportLimitKw: 1 }, headers: { 'if-match': '"2"' } }),
      409,
      'CONNECTION-LIMIT-WITHDRAWN',
    );
    expect((await hub.call('GET', `${API}/${id}`, { as: 'fsp-a' })).json.status).toBe('WITHDRAWN');
    // Withdrawn, it no longer holds the MPAN: a new limit there is recorded.
    expect((await record('dno', limitBody(r0.json.mpan))).status).toBe(201);
  });
});

describe('events and webhooks', () => {
  it('a change is an event for the recording DNO and the FSPs controlling assets at the MPAN; a webhook reaches the FSP, not a stranger', async () => {
    const urls: { url: string; type: string; subject: string }[] = [];
    const fetch = async (url: string | URL | Request, init?: RequestInit) => {
      const body = JSON.parse(String(init?.body)) as { type: string; subject: string };
      urls.push({ url: String(url), type: body.type, subject: body.subject });
      return new Response(null, { status: 204 });
    };
    const sub = async (as: string, path: string) => {
      const r = await hub.call('POST', '/api/v1/webhooks', {
        as,
        body: { url: `http://localhost/${path}`, eventTypes: ['fmar.connection-limit.*'] },
      });
      expect(r.status, r.text).toBe(201);
    };
    await sub('fsp-a', 'fsp-a');
    await sub('fsp-b', 'fsp-b');
    await sub('dno', 'dno');
    const a = await asset();
    const r = await record('dno', limitBody(a.importMpan));
    expect(r.status).toBe(201);
    const recipients = await hub.db.query(
      `SELECT rc.organisation_id, rc.reasons FROM event_recipient rc JOIN event_outbox e ON e.id = rc.event_id
        WHERE e.subject = $1 ORDER BY rc.organisation_id`,
      [r.json.id],
    );
    expect(recipients).toEqual(
      [
        { organisation_id: DEMO.dno, reasons: ['record-organisation'] },
        { organisation_id: DEMO['fsp-a'], reasons: ['connection-fsp'] },
      ].sort((x, y) => x.organisation_id.localeCompare(y.organisation_id)),
    );
    await deliverDue(hub.db, hub.clock, { source: 'http://hub.test', production: false, fetch: fetch as typeof globalThis.fetch });
    const mine = urls.filter((u) => u.subject === r.json.id);
    expect(mine.map((u) => [u.url, u.type]).sort()).toEqual([
      ['http://localhost/dno', 'fmar.connection-limit.recorded'],
      ['http://localhost/fsp-a', 'fmar.connection-limit.recorded'],
    ]);
    // The FSP's event feed carries it; the stranger's does not.
    const feed = async (as: string) =>
      (await hub.call('GET', '/api/v1/events?limit=1000', { as })).json.items.filter((e: { subject: string }) => e.subject === r.json.id)
        .length;
    expect([await feed('fsp-a'), await feed('fsp-b')]).toEqual([1, 0]);
  });
});

describe('data quality: a market unit over its connection’s limit', () => {
  it('opens DQ-UNIT-CONNECTION-LIMIT on the members at the connection, and resolves it when the cause goes', async () => {
    const mpan = mpanFor(9377);
    const a = await asset({ importMpan: mpan });
    const b = await asset({ importMpan: mpan });
    const open = async () =>
      (
        await hub.db.query<{ asset_id: string; detail: string }>(
          `SELECT asset_id, detail FROM dq_finding WHERE rule_code = 'DQ-UNIT-CONNECTION-LIMIT' AND resolved_at IS NULL AND asset_id = ANY($1::text[]) ORDER BY asset_id`,
          [[a.id, b.id]],
        )
      ).map((f) => f.asset_id);
    const both = [a.id, b.id].sort();
    // Two 5 kW batteries at one MPAN: 10 kW of export against 8 kW.
    const limit = await record('dno', limitBody(mpan, { exportLimitKw: 8 }));
    expect(limit.status).toBe(201);
    expect(await open()).toEqual([]);
    const unit = await hub.call('POST', '/api/v1/market-units', {
      as: 'fsp-a',
      body: { name: 'Limits unit', type: 'SPU', product: 'NESO-DFS', assetIds: [a.id, b.id] },
    });
    expect(unit.status, unit.text).toBe(201);
    expect(await open()).toEqual(both);
    const [f] = await hub.db.query<{ detail: string }>(
      `SELECT detail FROM dq_finding WHERE rule_code = 'DQ-UNIT-CONNECTION-LIMIT' AND asset_id = $1 AND resolved_at IS NULL`,
      [a.id],
    );
    expect(f.detail).toContain(`connection.marketUnitId=${unit.json.id}`);
    expect(f.detail).toContain('connection.unitCapacityKw=10');
    expect(f.detail).toContain('connection.limitKw=8');
    // The FSP sees it among its findings.
    const seen = await hub.call('GET', `/api/v1/data-quality/findings?assetId=${a.id}&ruleCode=DQ-UNIT-CONNECTION-LIMIT`, { as: 'fsp-a' });
    expect([seen.status, seen.json.items.length]).toEqual([200, 1]);
    // The DNO raises the limit: resolved.
    const up = await hub.call('PATCH', `/api/v1/connection-limits/${limit.json.id}`, {
      as: 'dno',
      body: { exportLimitKw: 12 },
      headers: { 'if-match': '"1"' },
    });
    expect(up.status, up.text).toBe(200);
    expect(await open()).toEqual([]);
    // A member grows (8 + 5 = 13 kW over 12): both members, the unchanged one too; shrinks back: resolved.
    const resize = async (kw: number) => {
      const cur = await hub.call('GET', `/api/v1/assets/${a.id}`, { as: 'fsp-a' });
      const r = await hub.call('PATCH', `/api/v1/assets/${a.id}`, {
        as: 'fsp-a',
        body: { ratedCapacityKw: kw },
        headers: { 'if-match': cur.headers.get('etag')! },
      });
      expect(r.status, r.text).toBe(200);
    };
    await resize(8);
    expect(await open()).toEqual(both);
    await resize(5);
    expect(await open()).toEqual([]);
    // Lowered again: open again; the unit de-registered: resolved.
    const down = await hub.call('PATCH', `/api/v1/connection-limits/${limit.json.id}`, {
      as: 'dno',
      body: { exportLimitKw: 9.5 },
      headers: { 'if-match': '"2"' },
    });
    expect(down.status).toBe(200);
    expect(await open()).toEqual(both);
    const gone = await hub.call('DELETE', `/api/v1/market-units/${unit.json.id}`, { as: 'fsp-a', headers: { 'if-match': '"1"' } });
    expect(gone.status, gone.text).toBe(200);
    expect(await open()).toEqual([]);
  });

  it('a withdrawn limit resolves the finding; the score is not moved by the rule (weight 0)', async () => {
    const mpan = mpanFor(9376);
    const a = await asset({ importMpan: mpan });
    const b = await asset({ importMpan: mpan });
    const score = async () =>
      (await hub.db.query<{ score: number }>(`SELECT score FROM dq_asset_score WHERE asset_id = $1`, [a.id]))[0].score;
    const before = await score();
    const unit = await hub.call('POST', '/api/v1/market-units', {
      as: 'fsp-a',
      body: { name: 'Limits unit 2', type: 'SPU', product: 'NESO-DFS', assetIds: [a.id, b.id] },
    });
    expect(unit.status).toBe(201);
    const limit = await record('dno', limitBody(mpan, { exportLimitKw: 4 }));
    const count = async () =>
      (
        await hub.db.query(
          `SELECT 1 FROM dq_finding WHERE rule_code = 'DQ-UNIT-CONNECTION-LIMIT' AND resolved_at IS NULL AND asset_id = ANY($1::text[])`,
          [[a.id, b.id]],
        )
      ).length;
    expect(await count()).toBe(2);
    expect(await score()).toBe(before);
    const w = await hub.call('DELETE', `/api/v1/connection-limits/${limit.json.id}`, { as: 'dno', headers: { 'if-match': '"1"' } });
    expect(w.status).toBe(200);
    expect(await count()).toBe(0);
  });
});

describe('the CIM export', () => {
  it('carries a limit as an OperationalLimitSet with an ActivePowerLimit per direction, to those who read the limit', async () => {
    const a = await asset({ dno: 'SPEN_SPM' });
    const r = await record('dno', limitBody(a.importMpan, { firmness: 'NON_FIRM', schemeReference: 'ANM-ZONE-9' }));
    expect(r.status).toBe(201);
    const exported = async (as: string) => {
      const x = await hub.call('GET', `/api/v1/cim/export?organisationId=${DEMO['fsp-a']}`, { as });
      expect(x.status, x.text).toBe(200);
      return x.text;
    };
    /** The document's objects: class, rdf:ID and body. */
    const objects = (xml: string) =>
      [...xml.matchAll(/<cim:(\w+) rdf:ID="_([^"]+)">([\s\S]*?)<\/cim:\1>/g)].map((m) => ({ cls: m[1], id: m[2], body: m[3] }));
    for (const as of ['dno', 'operator']) {
      const all = objects(await exported(as));
      const sets = all.filter((o) => o.cls === 'OperationalLimitSet' && o.body.includes(`<fmar:OperationalLimitSet.mpan>${a.importMpan}<`));
      expect(sets.length, as).toBe(1);
      const set = sets[0];
      expect(set.body).toContain('<fmar:OperationalLimitSet.firmness>NON_FIRM</fmar:OperationalLimitSet.firmness>');
      expect(set.body).toContain('<fmar:OperationalLimitSet.schemeReference>ANM-ZONE-9</fmar:OperationalLimitSet.schemeReference>');
      // No terminal is known (never enriched): the set is on the equipment.
      expect(set.body).toMatch(/<cim:OperationalLimitSet.Equipment rdf:resource="#_[0-9a-f-]{36}"\/>/);
      const types = new Map(all.filter((o) => o.cls === 'OperationalLimitType').map((o) => [o.id, /direction>(\w+)</.exec(o.body)![1]]));
      expect([...types.values()].sort()).toEqual(['export', 'import']);
      // 20 kW import, 8 kW export, in W, each typed by the shared OperationalLimitType.
      const limits = all
        .filter((o) => o.cls === 'ActivePowerLimit' && o.body.includes(`rdf:resource="#_${set.id}"`))
        .map((o) => [types.get(/OperationalLimitType rdf:resource="#_([^"]+)"/.exec(o.body)![1]), /value>(\d+)</.exec(o.body)![1]])
        .sort();
      expect(limits, as).toEqual([
        ['export', '8000'],
        ['import', '20000'],
      ]);
    }
    // A DNO of another network exports none of fsp-a's assets, and so none of their limits.
    const other = await hub.call('GET', `/api/v1/cim/export?organisationId=${DEMO['fsp-a']}`, { as: otherDno });
    expect([other.status, other.text.includes('OperationalLimitSet')]).toEqual([200, false]);
  });
});

describe('the CIM import: a DNO sets limits by enrich (export → import round trip: test/cim-export.test.ts)', () => {
  const importAs = (h: TestHub, as: string, xml: string, query = '') =>
    h.call('POST', `/api/v1/cim/import?mode=enrich${query}`, { as, text: xml, contentType: 'application/rdf+xml' });
  /** What a limit is, without what the hub that recorded it gives it (ID, version, times, recorder). */
  const essence = (l: any) => ({
    mpan: l.mpan,
    siteReference: l.siteReference,
    importLimitKw: l.importLimitKw,
    exportLimitKw: l.exportLimitKw,
    firmness: l.firmness,
    validFrom: l.validFrom,
    validTo: l.validTo,
    profile: l.profile,
    schemeReference: l.schemeReference,
    dno: l.dno,
  });
  const limitsAt = async (h: TestHub, mpans: string[], as = 'dno') =>
    (
      await Promise.all(
        mpans.map(async (m) => {
          const r = await h.call('GET', `${API}?mpan=${m}`, { as });
          expect(r.status).toBe(200);
          return r.json.items as any[];
        }),
      )
    ).flat();

  const NS = `xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:cim="http://iec.ch/TC57/CIM100#" xmlns:fmar="https://fmar.uk/ns/CIM/Extensions#"`;
  /** A DSO's model: a PV connection with a usage point of MPAN `mpan`, its terminal, and a limit set on the terminal. */
  const model = (i: number, mpan: string, set: string) => `
  <cim:PowerElectronicsConnection rdf:ID="_e${i}"><cim:IdentifiedObject.name>PV ${i}</cim:IdentifiedObject.name><cim:PowerElectronicsConnection.ratedS>5000</cim:PowerElectronicsConnection.ratedS></cim:PowerElectronicsConnection>
  <cim:PhotoVoltaicUnit rdf:ID="_u${i}"><cim:PowerElectronicsUnit.PowerElectronicsConnection rdf:resource="#_e${i}"/></cim:PhotoVoltaicUnit>
  <cim:UsagePoint rdf:ID="_up${i}"><cim:UsagePoint.Equipments rdf:resource="#_e${i}"/></cim:UsagePoint>
  <cim:Name rdf:ID="_n${i}"><cim:Name.name>${mpan}</cim:Name.name><cim:Name.NameType rdf:resource="#_ntMPAN"/><cim:Name.IdentifiedObject rdf:resource="#_up${i}"/></cim:Name>
  <cim:Terminal rdf:ID="_t${i}"><cim:ACDCTerminal.sequenceNumber>1</cim:ACDCTerminal.sequenceNumber><cim:Terminal.ConductingEquipment rdf:resource="#_e${i}"/></cim:Terminal>
  <cim:OperationalLimitSet rdf:ID="_s${i}"><cim:IdentifiedObject.name>Connection ${i}</cim:IdentifiedObject.name><cim:OperationalLimitSet.Terminal rdf:resource="#_t${i}"/></cim:OperationalLimitSet>
  ${set.replaceAll('SET', `_s${i}`)}`;
  /** An ActivePowerLimit of a type named (not fmar-typed): how a tool without the register's extensions writes one. */
  const apl = (id: string, watts: number, type: string) =>
    `<cim:ActivePowerLimit rdf:ID="_${id}"><cim:ActivePowerLimit.value>${watts}</cim:ActivePowerLimit.value><cim:OperationalLimit.OperationalLimitSet rdf:resource="#SET"/><cim:OperationalLimit.OperationalLimitType rdf:resource="#_${type}"/></cim:ActivePowerLimit>`;
  const doc = (body: string) => `<?xml version="1.0" encoding="UTF-8"?>
<rdf:RDF ${NS}>
  <cim:NameType rdf:ID="_ntMPAN"><cim:NameType.name>MPAN</cim:NameType.name></cim:NameType>
  <cim:OperationalLimitType rdf:ID="_imp"><cim:IdentifiedObject.name>Import</cim:IdentifiedObject.name></cim:OperationalLimitType>
  <cim:OperationalLimitType rdf:ID="_exp"><cim:IdentifiedObject.name>Export</cim:IdentifiedObject.name></cim:OperationalLimitType>
  <cim:OperationalLimitType rdf:ID="_patl"><cim:IdentifiedObject.name>PATL</cim:IdentifiedObject.name></cim:OperationalLimitType>
${body}
</rdf:RDF>`;

  it('a hand-written model: a limit on the terminal of the usage point’s MPAN is recorded (FIRM, from now); each other set is rejected with its rule code', async () => {
    const ok = mpanFor(9_400_001);
    const taken = mpanFor(9_400_002);
    const offNetwork = mpanFor(9_400_003, '19');
    expect((await record('dno', limitBody(taken, { validFrom: '2026-01-01T00:00:00Z' }))).status).toBe(201);
    const xml = doc(
      [
        model(1, ok, apl('a1', 12_000, 'imp') + apl('b1', 5_500, 'exp')),
        model(2, taken, apl('a2', 3_000, 'exp')),
        model(3, offNetwork, apl('a3', 3_000, 'exp')),
        model(4, mpanFor(9_400_004), apl('a4', 3_000, 'patl')),
        model(5, mpanFor(9_400_005), apl('a5', 3_000.5, 'exp')),
        model(6, mpanFor(9_400_007), apl('a6', 3_000, 'exp')).replace(
          '</cim:OperationalLimitSet>',
          '<fmar:OperationalLimitSet.validFrom>tomorrow</fmar:OperationalLimitSet.validFrom></cim:OperationalLimitSet>',
        ),
        // Two connections behind one MPAN whose sets disagree.
        model(7, mpanFor(9_400_008), apl('a7', 3_000, 'exp')),
        model(8, mpanFor(9_400_008), apl('a8', 4_000, 'exp')),
      ].join('\n'),
    );
    const r = await importAs(hub, 'dno', xml);
    expect(r.status, r.text).toBe(200);
    expect(r.json.limits.items.map((i: any) => [i.mrid, i.outcome, i.code ?? null])).toEqual([
      ['s4', 'rejected', 'CIM-LIMIT-UNREADABLE'],
      ['s1', 'recorded', null],
      ['s2', 'rejected', 'CONNECTION-LIMIT-OVERLAP'],
      ['s3', 'rejected', 'CONNECTION-LIMIT-NOT-NETWORK'],
      ['s5', 'rejected', 'CONNECTION-LIMIT-KW'],
      ['s6', 'rejected', 'CONNECTION-LIMIT-PERIOD'],
      ['s7', 'rejected', 'CIM-LIMIT-CONFLICT'],
    ]);
    expect(r.json.limits).toMatchObject({ read: 7, recorded: 1, rejected: 6 });
    expect(r.json.issueCounts).toMatchObject({
      'CIM-LIMIT-UNREADABLE': 1,
      'CONNECTION-LIMIT-OVERLAP': 1,
      'CONNECTION-LIMIT-NOT-NETWORK': 1,
      'CONNECTION-LIMIT-KW': 1,
      'CONNECTION-LIMIT-PERIOD': 1,
      'CIM-LIMIT-CONFLICT': 1,
    });
    expect(r.json.limits.items[0].detail).toBe(
      'ActivePowerLimit a4 is of no direction (its OperationalLimitType is neither import nor export).',
    );
    const [got] = await limitsAt(hub, [ok]);
    expect(essence(got)).toEqual({
      mpan: ok,
      siteReference: null,
      importLimitKw: 12,
      exportLimitKw: 5.5,
      firmness: 'FIRM',
      validFrom: hub.clock.now().toISOString(),
      validTo: null,
      profile: null,
      schemeReference: null,
      dno: 'SPEN_SPM',
    });
    // Nothing else was written at the rejected connection points.
    const [{ n }] = await hub.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM connection_limit WHERE mpan = ANY($1::text[])`, [
      [offNetwork, mpanFor(9_400_004), mpanFor(9_400_005), mpanFor(9_400_007), mpanFor(9_400_008)],
    ]);
    expect(n).toBe(0);

    // Only a DNO or IDNO sets limits (scope connection-limits:write): the operator's enrich of the same file reports each limit refused and writes none.
    const before = await hub.db.query(`SELECT count(*)::int AS n FROM connection_limit`);
    const op = await importAs(hub, 'operator', xml.replace(ok, mpanFor(9_400_006)));
    expect(op.status).toBe(200);
    expect(op.json.limits.items.filter((i: any) => i.code !== 'CIM-LIMIT-UNREADABLE').map((i: any) => i.code)).toEqual([
      'AUTH-SCOPE-MISSING',
      'AUTH-SCOPE-MISSING',
      'AUTH-SCOPE-MISSING',
      'AUTH-SCOPE-MISSING',
      'AUTH-SCOPE-MISSING',
      'CIM-LIMIT-CONFLICT',
    ]);
    expect(await hub.db.query(`SELECT count(*)::int AS n FROM connection_limit`)).toEqual(before);
  });
});
