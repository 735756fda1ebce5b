import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrganisationRole } from '../src/access/roles';
import { registerOrganisation } from '../src/organisations/service';
import { registerVtn } from '../src/openadr/vtns';
import { DEMO, batteryInput, consentFor, mpanFor, testHub, type TestHub } from './harness';

/**
 * Notices (docs/notices.md): each kind seen from the side of the organisation it is for, with the
 * exact notice; its cause resolved, it is gone; another organisation never sees it.
 */

let hub: TestHub;
let so: { id: string; token: string };
const passport = { contacts: { primary: { firstName: 'Nia', lastName: 'Notice', email: 'nia@notice.example' } } };

beforeAll(async () => {
  hub = await testHub();
  const o = await registerOrganisation(hub.ctx, hub.system, {
    legalName: 'Notice System Operator plc',
    organisationType: 'PLC',
    registrationNumber: '09300001',
    roles: ['SYSTEM_OPERATOR'],
    status: 'ACTIVE',
    passport,
  });
  so = { id: o.id, token: await hub.token({ org: o.id, roles: ['SYSTEM_OPERATOR'] as OrganisationRole[], sub: 'so-notice' }) };
  const r = await hub.call('PATCH', '/api/v1/products/NESO-DFS', {
    as: 'operator',
    body: { ownerOrganisationId: so.id },
    headers: { 'if-match': '"1"' },
  });
  expect(r.status, r.text).toBe(200);
});
afterAll(async () => {
  await hub?.close();
});

type Who = keyof typeof DEMO | 'so';
const as = (who: Who) => (who === 'so' ? so.token : who);
async function notices(who: Who, query = '') {
  const r = await hub.call('GET', `/api/v1/notices${query}`, { as: as(who) });
  expect(r.status, r.text).toBe(200);
  return r.json as { organisationId: string; items: any[]; counts: Record<string, number>; truncated: boolean };
}
/** The notices of one kind about one record, for this organisation. */
async function about(who: Who, kind: string, recordId: string) {
  return (await notices(who, `?kind=${kind}&recordId=${recordId}`)).items;
}

let n = 0;
async function battery(who: 'fsp-a' | 'fsp-b' = 'fsp-a', extra: Record<string, unknown> = {}) {
  const i = ++n;
  const r = await hub.call('POST', '/api/v1/assets', {
    as: who,
    body: batteryInput(9300 + i, { serialNumber: `NT-${i}`, importMpan: mpanFor(9300 + i), ...extra }),
  });
  expect(r.status, r.text).toBe(201);
  return r.json as { id: string; importMpan: string; version: number };
}

describe('GET /api/v1/notices', () => {
  it('a switch that will take an asset away: the losing FSP sees it, the gaining one does not; withdrawn, it is gone', async () => {
    const a = await battery();
    const consent = await consentFor(hub, mpanFor(9300 + n), DEMO['fsp-b']);
    const s = await hub.call('POST', '/api/v1/switches', { as: 'fsp-b', body: { asset: a.id, consent: consent.token } });
    expect(s.status, s.text).toBe(201);
    const seen = await about('fsp-a', 'SWITCH_TAKES_ASSET', s.json.id);
    expect(seen).toEqual([
      {
        id: `SWITCH_TAKES_ASSET:${s.json.id}`,
        kind: 'SWITCH_TAKES_ASSET',
        severity: 'WARNING',
        organisationId: DEMO['fsp-a'],
        record: { type: 'switch', id: s.json.id, href: `/api/v1/switches/${s.json.id}` },
        related: [{ type: 'asset', id: a.id, href: `/api/v1/assets/${a.id}` }],
        summary: `Asset ${a.id} moves to FSP ${DEMO['fsp-b']} on ${s.json.effectiveAt}, with the consumer's consent.`,
        resolution: expect.stringContaining('raise a dispute on the asset'),
        since: s.json.requestedAt,
        dueAt: s.json.effectiveAt,
      },
    ]);
    // Found by the asset it names too.
    expect((await notices('fsp-a', `?recordType=asset&recordId=${a.id}&kind=SWITCH_TAKES_ASSET`)).items).toHaveLength(1);
    expect(await about('fsp-b', 'SWITCH_TAKES_ASSET', s.json.id)).toEqual([]);
    const w = await hub.call('POST', `/api/v1/switches/${s.json.id}/withdraw`, { as: 'fsp-b', body: { reason: 'changed mind' } });
    expect(w.status, w.text).toBe(200);
    expect(await about('fsp-a', 'SWITCH_TAKES_ASSET', s.json.id)).toEqual([]);
  });

  it('a submitted asset to accept: the named FSP sees it, the installer does not; rejected, it is gone', async () => {
    const body = { fspId: DEMO['fsp-a'], asset: batteryInput(9390, { serialNumber: 'NT-SUB', importMpan: mpanFor(9390) }) };
    delete (body.asset as Record<string, unknown>).organisationId;
    const s = await hub.call('POST', '/api/v1/asset-submissions', { as: 'installer', body });
    expect(s.status, s.text).toBe(201);
    const seen = await about('fsp-a', 'SUBMISSION_TO_ACCEPT', s.json.id);
    expect(seen.map((x) => [x.id, x.severity, x.record.href])).toEqual([
      [`SUBMISSION_TO_ACCEPT:${s.json.id}`, 'WARNING', `/api/v1/asset-submissions/${s.json.id}`],
    ]);
    expect(await about('installer', 'SUBMISSION_TO_ACCEPT', s.json.id)).toEqual([]);
    expect(await about('fsp-b', 'SUBMISSION_TO_ACCEPT', s.json.id)).toEqual([]);
    const r = await hub.call('POST', `/api/v1/asset-submissions/${s.json.id}/reject`, { as: 'fsp-a', body: { reason: 'not ours' } });
    expect(r.status, r.text).toBe(200);
    expect(await about('fsp-a', 'SUBMISSION_TO_ACCEPT', s.json.id)).toEqual([]);
  });

  it('an open data quality finding above INFO: the controlling FSP sees it; the asset corrected, it is gone', async () => {
    // Generation capacity without an export MPAN: a WARNING finding (DQ-BESS-EXPORT-MPAN); the INFO rules give advisories, never notices.
    const a = await battery('fsp-a', { generationCapacityKw: 2 });
    const seen = (await notices('fsp-a', `?kind=DATA_QUALITY_FINDING&recordId=${a.id}`)).items;
    expect(seen.map((x) => [x.kind, x.severity, x.record.type, x.summary.split(':')[0]])).toEqual([
      ['DATA_QUALITY_FINDING', 'WARNING', 'asset', 'DQ-BESS-EXPORT-MPAN'],
    ]);
    expect((await notices('fsp-a', `?severity=ERROR&recordId=${a.id}`)).items).toEqual([]);
    expect((await notices('fsp-b', `?recordId=${a.id}`)).items).toEqual([]);
    expect((await notices('dno', `?recordId=${a.id}`)).items).toEqual([]);
    const fixed = await hub.call('PATCH', `/api/v1/assets/${a.id}`, {
      as: 'fsp-a',
      body: { exportMpan: mpanFor(9380) },
      headers: { 'if-match': `"${a.version}"` },
    });
    expect(fixed.status, fixed.text).toBe(200);
    expect((await notices('fsp-a', `?kind=DATA_QUALITY_FINDING&recordId=${a.id}`)).items).toEqual([]);
  });

  it('a qualification about to expire and a re-assessment: the FSP and the product’s System Operator; a new outcome clears both', async () => {
    const a = await battery();
    const u = await hub.call('POST', '/api/v1/market-units', {
      as: 'fsp-a',
      body: { name: 'Notice unit', type: 'SPU', product: 'NESO-DFS', assetIds: [a.id] },
    });
    expect(u.status, u.text).toBe(201);
    const unitId = u.json.id as string;
    // Valid for 20 days: within the 30-day notice window.
    const q = await hub.call('POST', `/api/v1/market-units/${unitId}/qualifications`, {
      as: so.token,
      body: { outcome: 'QUALIFIED', validFrom: '2026-06-01T00:00:00Z', validTo: '2026-06-21T00:00:00Z' },
    });
    expect(q.status, q.text).toBe(201);
    expect((await about('fsp-a', 'QUALIFICATION_EXPIRING', unitId)).map((x) => [x.id, x.dueAt])).toEqual([
      [`QUALIFICATION_EXPIRING:${q.json.id}`, '2026-06-21T00:00:00.000Z'],
    ]);
    expect(await about('fsp-b', 'QUALIFICATION_EXPIRING', unitId)).toEqual([]);
    expect(await about('so', 'REASSESSMENT_REQUIRED', unitId)).toEqual([]);
    // A member's capacity changes: the unit is flagged Re-assessment Required (src/units/).
    const patched = await hub.call('PATCH', `/api/v1/assets/${a.id}`, {
      as: 'fsp-a',
      body: { ratedCapacityKw: 7 },
      headers: { 'if-match': `"${a.version}"` },
    });
    expect(patched.status, patched.text).toBe(200);
    for (const who of ['fsp-a', 'so'] as const)
      expect((await about(who, 'REASSESSMENT_REQUIRED', unitId)).map((x) => [x.organisationId, x.record.href])).toEqual([
        [who === 'so' ? so.id : DEMO['fsp-a'], `/api/v1/market-units/${unitId}`],
      ]);
    expect(await about('fsp-b', 'REASSESSMENT_REQUIRED', unitId)).toEqual([]);
    const again = await hub.call('POST', `/api/v1/market-units/${unitId}/qualifications`, {
      as: so.token,
      body: { outcome: 'QUALIFIED', validFrom: '2026-06-01T00:00:00Z', validTo: '2027-06-01T00:00:00Z' },
    });
    expect(again.status, again.text).toBe(201);
    expect((await notices('fsp-a', `?recordId=${unitId}`)).items).toEqual([]);
    expect((await notices('so', `?recordId=${unitId}`)).items).toEqual([]);
  });

  it('an unconfirmed VEN registration: the VTN’s operator sees it, the registering FSP does not; confirmed, it is gone', async () => {
    const vtn = await registerVtn(hub.ctx, hub.system, {
      code: 'NOTICEVTN',
      name: 'Notice VTN',
      protocol: '3.1',
      baseUrl: 'https://vtn.notice.example',
      operatorId: so.id,
    });
    const v = await hub.call('POST', '/api/v1/ven-registrations', {
      as: 'fsp-a',
      body: { vtn: vtn.id, venId: 'notice-ven', venName: 'Notice VEN' },
    });
    expect(v.status, v.text).toBe(201);
    expect(v.json.confirmation).toBe('UNCONFIRMED');
    expect((await about('so', 'VEN_REGISTRATION_UNCONFIRMED', v.json.id)).map((x) => [x.severity, x.record.href])).toEqual([
      ['WARNING', `/api/v1/ven-registrations/${v.json.id}`],
    ]);
    expect(await about('fsp-a', 'VEN_REGISTRATION_UNCONFIRMED', v.json.id)).toEqual([]);
    const c = await hub.call('POST', `/api/v1/ven-registrations/${v.json.id}/confirm`, { as: so.token });
    expect(c.status, c.text).toBe(200);
    expect(await about('so', 'VEN_REGISTRATION_UNCONFIRMED', v.json.id)).toEqual([]);
  });

  it('a client secret about to expire: its organisation sees it; rotated, it is gone', async () => {
    const c = await hub.call('POST', '/api/v1/clients', {
      as: 'fsp-b',
      body: { name: 'Expiring', authMethod: 'client_secret_basic', credentialExpiresAt: '2026-06-10T09:00:00Z' },
    });
    expect(c.status, c.text).toBe(201);
    const id = c.json.clientId as string;
    expect((await about('fsp-b', 'CLIENT_CREDENTIAL_EXPIRING', id)).map((x) => [x.severity, x.dueAt, x.record.href])).toEqual([
      ['WARNING', '2026-06-10T09:00:00.000Z', `/api/v1/clients/${id}`],
    ]);
    expect(await about('fsp-a', 'CLIENT_CREDENTIAL_EXPIRING', id)).toEqual([]);
    const r = await hub.call('POST', `/api/v1/clients/${id}/rotate`, { as: 'fsp-b', body: {} });
    expect(r.status, r.text).toBe(200);
    expect(await about('fsp-b', 'CLIENT_CREDENTIAL_EXPIRING', id)).toEqual([]);
  });

  it('a dispute: the record’s FSP until it answers, the operator until it reviews; the raiser never', async () => {
    const a = await battery();
    const d = await hub.call('POST', '/api/v1/disputes', {
      as: 'dno',
      body: {
        recordType: 'asset',
        recordId: a.id,
        fields: ['ratedCapacityKw'],
        claim: { summary: 'The connection offer says 3 kW' },
        evidence: [{ description: 'Connection offer', url: 'https://evidence.example.com/offer.pdf' }],
      },
    });
    expect(d.status, d.text).toBe(201);
    const id = d.json.id as string;
    expect((await about('fsp-a', 'DISPUTE_AWAITING_ANSWER', id)).map((x) => [x.record.href, x.related])).toEqual([
      [`/api/v1/disputes/${id}`, [{ type: 'asset', id: a.id, href: `/api/v1/assets/${a.id}` }]],
    ]);
    expect((await about('operator', 'DISPUTE_AWAITING_REVIEW', id)).map((x) => x.id)).toEqual([`DISPUTE_AWAITING_REVIEW:${id}`]);
    expect((await notices('dno', `?recordId=${id}`)).items).toEqual([]);
    expect((await notices('fsp-b', `?recordId=${id}`)).items).toEqual([]);
    const answer = await hub.call('POST', `/api/v1/disputes/${id}/comments`, { as: 'fsp-a', body: { body: 'The inverter is 5 kW.' } });
    expect(answer.status, answer.text).toBe(201);
    expect(await about('fsp-a', 'DISPUTE_AWAITING_ANSWER', id)).toEqual([]);
    expect((await about('operator', 'DISPUTE_AWAITING_REVIEW', id)).length).toBe(1);
    const review = await hub.call('POST', `/api/v1/disputes/${id}/review`, { as: 'operator' });
    expect(review.status, review.text).toBe(200);
    expect(await about('operator', 'DISPUTE_AWAITING_REVIEW', id)).toEqual([]);
  });

  it('the operator reads another organisation’s notices; an FSP asking for another’s is told it does not exist', async () => {
    const a = await battery('fsp-a', { generationCapacityKw: 3 });
    const mine = await notices('fsp-a', `?recordId=${a.id}`);
    const theirs = await notices('operator', `?organisationId=${DEMO['fsp-a']}&recordId=${a.id}`);
    expect(theirs.organisationId).toBe(DEMO['fsp-a']);
    expect(theirs.items).toEqual(mine.items);
    expect(theirs.items).toHaveLength(1);
    expect(theirs.counts).toEqual({ DATA_QUALITY_FINDING: 1 });
    const refused = await hub.call('GET', `/api/v1/notices?organisationId=${DEMO['fsp-a']}`, { as: 'fsp-b' });
    expect([refused.status, refused.json.code]).toEqual([404, 'ORG-NOT-FOUND']);
    const bad = await hub.call('GET', '/api/v1/notices?kind=NOT_A_KIND', { as: 'fsp-a' });
    expect([bad.status, bad.json.code]).toEqual([400, 'REQUEST-QUERY-INVALID']);
  });
});
