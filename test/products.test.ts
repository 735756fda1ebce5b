import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerOrganisation } from '../src/organisations/service';
import { opportunities, productIdErrors, qualificationRecorder, relatedProducts } from '../src/products/rules';
import { applySwitchToUnits } from '../src/units/service';
import { DEMO, batteryInput, testHub, type TestHub, expectRefused, invalid } from './harness';

/** UC-04.01 to UC-04.03: the product catalogue, qualification of market units, equivalences and opportunities. */

let hub: TestHub;
/** NESO as a System Operator, a second SO, and a DNO that acts as DSO (it holds SYSTEM_OPERATOR too). */
let neso: { id: string; token: string };
let otherSo: { id: string; token: string };
let dso: { id: string; token: string };

const TABLES = ['product', 'record_history', 'product_equivalence', 'qualification', 'market_unit', 'audit_log', 'event_outbox'];
const passport = { contacts: { primary: { firstName: 'Sam', lastName: 'Operator', email: 'sam@so.example' } } };

beforeAll(async () => {
  hub = await testHub();
  const so = async (legalName: string, registrationNumber: string, roles: ('SYSTEM_OPERATOR' | 'DNO')[]) => {
    const o = await registerOrganisation(hub.ctx, hub.system, {
      legalName,
      organisationType: 'PLC',
      registrationNumber,
      roles,
      status: 'ACTIVE',
      passport,
    });
    return { id: o.id, token: await hub.token({ org: o.id, roles, sub: `so-${registrationNumber}` }) };
  };
  neso = await so('Demo System Operator plc', '09100001', ['SYSTEM_OPERATOR']);
  otherSo = await so('Other System Operator plc', '09100002', ['SYSTEM_OPERATOR']);
  dso = await so('Demo DSO plc', '09100003', ['DNO', 'SYSTEM_OPERATOR']);
  // The operator records the owners of two seeded products (a fresh register has none).
  for (const [id, owner] of [
    ['NESO-DFS', neso.id],
    ['DSO-SUSTAIN-PEAK', dso.id],
    ['NESO-LCM', neso.id],
  ] as const) {
    const r = await hub.call('PATCH', `/api/v1/products/${id}`, {
      as: 'operator',
      body: { ownerOrganisationId: owner },
      headers: { 'if-match': '"1"' },
    });
    expect(r.status, r.text).toBe(200);
  }
});
afterAll(async () => {
  await hub?.close();
});

let n = 0;
async function asset(as: 'fsp-a' | 'fsp-b' = 'fsp-a'): Promise<string> {
  const i = ++n;
  const r = await hub.call('POST', '/api/v1/assets', { as, body: batteryInput(8000 + i, { serialNumber: `PQ-${i}` }) });
  expect(r.status, r.text).toBe(201);
  return r.json.id;
}
async function unit(product = 'NESO-DFS', as: 'fsp-a' | 'fsp-b' = 'fsp-a', size = 2) {
  const ids: string[] = [];
  for (let i = 0; i < size; i++) ids.push(await asset(as));
  const r = await hub.call('POST', '/api/v1/market-units', {
    as,
    body: { name: `Unit ${++n}`, type: size === 1 ? 'SPU' : 'SPG', product, assetIds: ids },
  });
  expect(r.status, r.text).toBe(201);
  return r.json;
}
const qualify = (unitId: string, as: string, body: Record<string, unknown>) =>
  hub.call('POST', `/api/v1/market-units/${unitId}/qualifications`, { as, body });
const QUALIFIED = { outcome: 'QUALIFIED', validFrom: '2026-06-01T00:00:00Z' };

/** The request is refused with this status and rule code, and nothing is written (test/harness.ts). */
const refused = (req: () => Promise<{ status: number; json: any; text?: string }>, status: number, code: string) =>
  expectRefused(hub.db, TABLES, req, status, code);

async function recipients(type: string, subject: string): Promise<Record<string, string[]>> {
  const rows = await hub.db.query(
    `SELECT r.organisation_id, r.reasons FROM event_recipient r JOIN event_outbox e ON e.id = r.event_id WHERE e.type = $1 AND e.subject = $2`,
    [type, subject],
  );
  return Object.fromEntries(rows.map((r) => [r.organisation_id, r.reasons]));
}

describe('the product catalogue (UC-04.01)', () => {
  it('holds the seeded NESO and DSO products, readable by every authenticated role', async () => {
    const ids = async (as: string, q = '') =>
      (await hub.call('GET', `/api/v1/products?limit=100${q}`, { as })).json.items.map((p: any) => p.id);
    const all = await ids('installer');
    for (const id of [
      'NESO-SFFR',
      'NESO-DC',
      'NESO-DM',
      'NESO-DR',
      'NESO-QR',
      'NESO-SR',
      'NESO-BR',
      'NESO-LCM',
      'NESO-MW-DISPATCH',
      'NESO-DFS',
      'DSO-SUSTAIN-PEAK',
      'DSO-SUSTAIN',
      'DSO-SECURE',
      'DSO-DYNAMIC',
      'DSO-RESTORE',
    ])
      expect(all).toContain(id);
    expect(await ids('fsp-b', '&market=DSO')).toEqual(['DSO-DYNAMIC', 'DSO-RESTORE', 'DSO-SECURE', 'DSO-SUSTAIN', 'DSO-SUSTAIN-PEAK']);
    const r = await hub.call('GET', '/api/v1/products/NESO-DFS', { as: 'dno' });
    expect(r.json).toMatchObject({
      id: 'NESO-DFS',
      market: 'NESO',
      serviceType: 'DEMAND_FLEXIBILITY',
      status: 'ACTIVE',
      ownerOrganisationId: neso.id,
      version: 2,
    });
    expect(r.headers.get('etag')).toBe('"2"');
    expect((await hub.call('GET', '/api/v1/products/NESO-DC', { as: 'dno' })).json.ownerOrganisationId).toBeNull();
    const missing = await hub.call('GET', '/api/v1/products/NESO-NOPE', { as: 'fsp-a' });
    expect([missing.status, missing.json.code]).toEqual([404, 'PRODUCT-NOT-FOUND']);
    expect((await hub.call('GET', '/api/v1/products', {})).status).toBe(401);
  });

  it('creates a product (the operator), with audit and event to its owner', async () => {
    const r = await hub.call('POST', '/api/v1/products', {
      as: 'operator',
      body: {
        id: 'DSO-LOCAL-PEAK-2',
        market: 'DSO',
        name: 'Local peak 2',
        serviceType: 'CONSTRAINT_MANAGEMENT',
        ownerOrganisationId: dso.id,
        validFrom: '2026-07-01T00:00:00Z',
      },
    });
    expect(r.status, r.text).toBe(201);
    expect(r.json).toMatchObject({
      id: 'DSO-LOCAL-PEAK-2',
      status: 'ACTIVE',
      ownerOrganisationId: dso.id,
      validFrom: '2026-07-01T00:00:00.000Z',
      validTo: null,
      version: 1,
    });
    expect(r.headers.get('location')).toBe('/api/v1/products/DSO-LOCAL-PEAK-2');
    const [audit] = await hub.db.query(`SELECT action FROM audit_log WHERE record_type = 'product' AND record_id = 'DSO-LOCAL-PEAK-2'`);
    expect(audit.action).toBe('product.created');
    expect(Object.keys(await recipients('fmar.product.created', 'DSO-LOCAL-PEAK-2'))).toEqual([dso.id]);
  });

  it('refuses each bad product with its rule code, writing nothing', async () => {
    const body = (extra: Record<string, unknown>) => ({ id: 'NESO-NEW-1', market: 'NESO', name: 'New', serviceType: 'RESERVE', ...extra });
    const post =
      (b: unknown, as = 'operator') =>
      () =>
        hub.call('POST', '/api/v1/products', { as, body: b });
    for (const id of [
      'neso-dfs',
      'NESO',
      'NESO-',
      'NESO--DFS',
      'NESO-DFS-',
      'ELEXON-DFS',
      'NESO_DFS',
      'NESO-DFS X',
      `NESO-${'A'.repeat(28)}`,
    ]) {
      await refused(post(body({ id })), 422, invalid('id', 'PRODUCT-ID-FORMAT'));
    }
    await refused(post(body({ id: 'DSO-NEW-1' })), 422, 'PRODUCT-ID-MARKET');
    await refused(post(body({ id: 'NESO-DFS' })), 409, 'PRODUCT-ID-TAKEN');
    await refused(post(body({ market: 'ELEXON' })), 422, invalid('market', 'PRODUCT-MARKET-UNKNOWN'));
    await refused(post(body({ serviceType: 'MAGIC' })), 422, invalid('serviceType', 'PRODUCT-SERVICE-TYPE-UNKNOWN'));
    await refused(post(body({ name: '' })), 422, invalid('name', 'PRODUCT-NAME-FORMAT'));
    await refused(post(body({ validFrom: '2026-07-01T00:00:00Z', validTo: '2026-06-01T00:00:00Z' })), 422, 'PRODUCT-PERIOD');
    await refused(post(body({ validFrom: 'tomorrow' })), 422, invalid('validFrom', 'PRODUCT-PERIOD'));
    // A DNO without the SYSTEM_OPERATOR role does not own products; nor does an unknown organisation.
    await refused(post(body({ ownerOrganisationId: DEMO.dno })), 422, 'PRODUCT-OWNER-INVALID');
    await refused(post(body({ ownerOrganisationId: '01JD8X6N2Q7ZB4Y3W5V6T7S8R9' })), 422, 'PRODUCT-OWNER-INVALID');
    await refused(post(body({}), 'fsp-a'), 403, 'AUTH-SCOPE-MISSING');
    await refused(post(body({}), await hub.token({ org: neso.id, roles: ['SYSTEM_OPERATOR'] })), 403, 'AUTH-SCOPE-MISSING');
  });

  it('updates with If-Match, keeps every version, and retires (INACTIVE, never deleted)', async () => {
    await hub.call('POST', '/api/v1/products', {
      as: 'operator',
      body: { id: 'NESO-TRIAL-X', market: 'NESO', name: 'Trial X', serviceType: 'OTHER', validFrom: '2026-01-01T00:00:00Z' },
    });
    const patch =
      (b: unknown, headers: Record<string, string> = { 'if-match': '"1"' }, as = 'operator') =>
      () =>
        hub.call('PATCH', '/api/v1/products/NESO-TRIAL-X', { as, body: b, headers });
    await refused(patch({ name: 'No ETag' }, {}), 428, 'REQUEST-IF-MATCH-REQUIRED');
    await refused(patch({ name: 'Stale' }, { 'if-match': '"9"' }), 412, 'REQUEST-PRECONDITION-FAILED');
    await refused(patch({ id: 'NESO-TRIAL-Y' }), 422, invalid('id', 'REQUEST-UNKNOWN-FIELD'));
    await refused(patch({ status: 'DELETED' }), 422, invalid('status', 'PRODUCT-STATUS-UNKNOWN'));
    await refused(patch({ validTo: '2025-01-01T00:00:00Z' }), 422, 'PRODUCT-PERIOD');
    await refused(patch({ ownerOrganisationId: DEMO['fsp-a'] }), 422, 'PRODUCT-OWNER-INVALID');
    await refused(patch({ name: 'Mine' }, { 'if-match': '"1"' }, 'fsp-a'), 403, 'AUTH-SCOPE-MISSING');
    await refused(
      () => hub.call('PATCH', '/api/v1/products/NESO-NOPE', { as: 'operator', body: { name: 'x' }, headers: { 'if-match': '"1"' } }),
      404,
      'PRODUCT-NOT-FOUND',
    );
    const renamed = await patch({ name: 'Trial X renamed' })();
    expect(renamed.json).toMatchObject({ name: 'Trial X renamed', version: 2 });
    // A market unit may name it while it is offered…
    await unit('NESO-TRIAL-X');
    const retired = await patch({ status: 'INACTIVE' }, { 'if-match': '"2"' })();
    expect(retired.status, retired.text).toBe(200);
    expect(retired.json).toMatchObject({ status: 'INACTIVE', validTo: hub.clock.now().toISOString(), version: 3 });
    const h = await hub.call('GET', '/api/v1/products/NESO-TRIAL-X/history', { as: 'fsp-a' });
    expect(h.json.items.map((p: any) => [p.version, p.name, p.status])).toEqual([
      [3, 'Trial X renamed', 'INACTIVE'],
      [2, 'Trial X renamed', 'ACTIVE'],
      [1, 'Trial X', 'ACTIVE'],
    ]);
    const [ev] = await hub.db.query(`SELECT data FROM event_outbox WHERE type = 'fmar.product.retired' AND subject = 'NESO-TRIAL-X'`);
    expect(ev.data).toMatchObject({ productId: 'NESO-TRIAL-X', status: 'INACTIVE', changed: ['validTo', 'status'] });
    // …and not once it is retired; it still reads, and its ID stays taken.
    expect((await hub.call('GET', '/api/v1/products/NESO-TRIAL-X', { as: 'fsp-a' })).json.status).toBe('INACTIVE');
    await refused(
      () =>
        hub.call('POST', '/api/v1/products', {
          as: 'operator',
          body: { id: 'NESO-TRIAL-X', market: 'NESO', name: 'Again', serviceType: 'OTHER' },
        }),
      409,
      'PRODUCT-ID-TAKEN',
    );
  });
});

describe('market units name catalogue products', () => {
  it('refuses an unknown or retired product with UNIT-PRODUCT-UNKNOWN, and a malformed one with UNIT-PRODUCT-FORMAT', async () => {
    const ids = [await asset(), await asset()];
    const post = (product: string) => () =>
      hub.call('POST', '/api/v1/market-units', { as: 'fsp-a', body: { name: 'Unit p', type: 'SPG', product, assetIds: ids } });
    const p = await refused(post('NESO-NOPE'), 422, 'UNIT-PRODUCT-UNKNOWN');
    expect(p.errors[0].field).toBe('product');
    await refused(post('NESO-TRIAL-X'), 422, 'UNIT-PRODUCT-UNKNOWN');
    await refused(post('neso dfs'), 422, invalid('product', 'UNIT-PRODUCT-FORMAT'));
    const u = await unit('DSO-SUSTAIN-PEAK');
    expect(u).toMatchObject({ product: 'DSO-SUSTAIN-PEAK', qualifications: [], reassessmentRequired: false });
  });
});

describe('qualification (UC-04.02)', () => {
  it('is recorded by the product’s System Operator only, with precise refusals for everyone else', async () => {
    const u = await unit();
    const nesoToken = neso.token;
    await refused(() => qualify(u.id, 'fsp-a', QUALIFIED), 403, 'AUTH-SCOPE-MISSING');
    await refused(() => qualify(u.id, 'operator', QUALIFIED), 403, 'AUTH-SCOPE-MISSING');
    await refused(() => qualify(u.id, 'dno', QUALIFIED), 403, 'AUTH-SCOPE-MISSING');
    const wrong = await refused(() => qualify(u.id, otherSo.token, QUALIFIED), 403, 'QUALIFICATION-NOT-PRODUCT-OWNER');
    expect(wrong.ownerOrganisationId).toBe(neso.id);
    // The DSO owns DSO-SUSTAIN-PEAK, not the unit's NESO-DFS.
    await refused(() => qualify(u.id, dso.token, QUALIFIED), 403, 'QUALIFICATION-NOT-PRODUCT-OWNER');
    await refused(() => qualify(u.id, nesoToken, { ...QUALIFIED, productId: 'NESO-DC' }), 409, 'QUALIFICATION-PRODUCT-UNOWNED');
    await refused(() => qualify(u.id, nesoToken, { ...QUALIFIED, productId: 'NESO-NOPE' }), 422, 'QUALIFICATION-PRODUCT-UNKNOWN');
    await refused(() => qualify(u.id, nesoToken, { ...QUALIFIED, productId: 'NESO-TRIAL-X' }), 422, 'QUALIFICATION-PRODUCT-UNKNOWN');
    await refused(() => qualify(u.id, nesoToken, { ...QUALIFIED, productId: 'dfs' }), 422, invalid('productId', 'PRODUCT-ID-FORMAT'));
    await refused(
      () => qualify(u.id, nesoToken, { ...QUALIFIED, outcome: 'PASSED' }),
      422,
      invalid('outcome', 'QUALIFICATION-OUTCOME-UNKNOWN'),
    );
    await refused(() => qualify(u.id, nesoToken, { ...QUALIFIED, validTo: '2026-05-01T00:00:00Z' }), 422, 'QUALIFICATION-PERIOD');
    await refused(
      () => qualify(u.id, nesoToken, { ...QUALIFIED, validFrom: '2026-13-01' }),
      422,
      invalid('validFrom', 'QUALIFICATION-PERIOD'),
    );
    await refused(() => qualify(u.id, nesoToken, { validFrom: '2026-06-01T00:00:00Z' }), 422, invalid('outcome', 'REQUEST-FIELD-REQUIRED'));
    await refused(() => qualify('01JD8X6N2Q7ZB4Y3W5V6T7S8R9', nesoToken, QUALIFIED), 404, 'UNIT-NOT-FOUND');
    await refused(() => qualify('not-a-unit', nesoToken, QUALIFIED), 404, 'UNIT-NOT-FOUND');
  });

  it('records outcomes as history (a new record supersedes, nothing is overwritten) and shows the current one on the unit', async () => {
    const u = await unit();
    const first = await qualify(u.id, neso.token, { ...QUALIFIED, validTo: '2027-06-01T00:00:00Z', reference: 'NESO-PQ-1' });
    expect(first.status, first.text).toBe(201);
    expect(first.json).toMatchObject({
      marketUnitId: u.id,
      productId: 'NESO-DFS',
      outcome: 'QUALIFIED',
      systemOperatorId: neso.id,
      supersedes: null,
      current: true,
      reference: 'NESO-PQ-1',
      reassessmentCleared: false,
    });
    const read = await hub.call('GET', `/api/v1/market-units/${u.id}`, { as: 'fsp-a' });
    expect(read.json.qualifications).toEqual([
      {
        qualificationId: first.json.id,
        productId: 'NESO-DFS',
        outcome: 'QUALIFIED',
        validFrom: '2026-06-01T00:00:00.000Z',
        validTo: '2027-06-01T00:00:00.000Z',
        recordedAt: hub.clock.now().toISOString(),
      },
    ]);
    // The unit's FSP and the product owner receive the event (and, by the standing rule, every SO).
    const to = await recipients('fmar.qualification.recorded', first.json.id);
    expect(to[DEMO['fsp-a']]).toContain('unit-fsp');
    expect(to[neso.id]).toContain('product-owner');
    expect(to[DEMO['fsp-b']]).toBeUndefined();
    const [audit] = await hub.db.query(
      `SELECT action, organisation_id FROM audit_log WHERE record_type = 'qualification' AND record_id = $1`,
      [first.json.id],
    );
    expect(audit).toEqual({ action: 'qualification.recorded', organisation_id: DEMO['fsp-a'] });

    const second = await qualify(u.id, neso.token, { outcome: 'FAILED', validFrom: '2026-06-02T00:00:00Z', notes: 'telemetry missing' });
    expect(second.json).toMatchObject({ outcome: 'FAILED', supersedes: first.json.id, current: true });
    const list = await hub.call('GET', `/api/v1/market-units/${u.id}/qualifications`, { as: 'fsp-a' });
    expect(list.json.items.map((q: any) => [q.id, q.outcome, q.current])).toEqual([
      [second.json.id, 'FAILED', true],
      [first.json.id, 'QUALIFIED', false],
    ]);
    expect((await hub.call('GET', `/api/v1/market-units/${u.id}`, { as: 'fsp-a' })).json.qualifications.map((q: any) => q.outcome)).toEqual(
      ['FAILED'],
    );
    const [row] = await hub.db.query(`SELECT outcome FROM qualification WHERE id = $1`, [first.json.id]);
    expect(row.outcome).toBe('QUALIFIED');

    // The register-wide list, filtered; out-of-reach units are absent or 404.
    const current = await hub.call('GET', `/api/v1/qualifications?marketUnitId=${u.id}&current=true`, { as: neso.token });
    expect(current.json.items.map((q: any) => q.id)).toEqual([second.json.id]);
    const failed = await hub.call('GET', `/api/v1/qualifications?outcome=FAILED&limit=1000`, { as: 'operator' });
    expect(failed.json.items.map((q: any) => q.id)).toContain(second.json.id);
    expect((await hub.call('GET', `/api/v1/qualifications?marketUnitId=${u.id}`, { as: 'fsp-b' })).json.items).toEqual([]);
    const hidden = await hub.call('GET', `/api/v1/market-units/${u.id}/qualifications`, { as: 'fsp-b' });
    expect([hidden.status, hidden.json.code]).toEqual([404, 'UNIT-NOT-FOUND']);
    expect((await hub.call('GET', `/api/v1/market-units/${u.id}/qualifications`, { as: 'dno' })).status).toBe(200);
  });
});

describe('concurrent and retried writes', () => {
  it('concurrent records for one unit and product form one chain: exactly one is current', async () => {
    const u = await unit();
    const rs = await Promise.all(Array.from({ length: 8 }, (_, i) => qualify(u.id, neso.token, { ...QUALIFIED, reference: `race-${i}` })));
    expect(rs.map((r) => r.status)).toEqual(Array(8).fill(201));
    const items = (await hub.call('GET', `/api/v1/market-units/${u.id}/qualifications`, { as: 'fsp-a' })).json.items;
    expect(items).toHaveLength(8);
    expect(items.filter((q: any) => q.current)).toHaveLength(1);
    // Every record but the first supersedes a different one: no fork in the chain.
    const superseded = items.map((q: any) => q.supersedes).filter(Boolean);
    expect(new Set(superseded).size).toBe(7);
  });

  it('honours Idempotency-Key on recording a qualification: the retry replays, one record is kept', async () => {
    const u = await unit();
    const send = () =>
      hub.call('POST', `/api/v1/market-units/${u.id}/qualifications`, {
        as: neso.token,
        body: QUALIFIED,
        headers: { 'idempotency-key': `pq-${u.id}` },
      });
    const first = await send();
    const retry = await send();
    expect([first.status, retry.status]).toEqual([201, 201]);
    expect(retry.json.id).toBe(first.json.id);
    expect((await hub.call('GET', `/api/v1/market-units/${u.id}/qualifications`, { as: 'fsp-a' })).json.items).toHaveLength(1);
  });
});

describe('re-assessment after a material change (UC-04.02 with UC-03.03)', () => {
  it('flags a qualified unit on a change of composition or type, notifies the product’s SO, and QUALIFIED clears it', async () => {
    const u = await unit();
    const extra = await asset();
    expect((await qualify(u.id, neso.token, QUALIFIED)).status).toBe(201);
    const patch = (body: unknown, version: number) =>
      hub.call('PATCH', `/api/v1/market-units/${u.id}`, { as: 'fsp-a', body, headers: { 'if-match': `"${version}"` } });
    // A rename is not material.
    expect((await patch({ name: 'Renamed only' }, 1)).json.reassessmentRequired).toBe(false);
    const changed = await patch({ assetIds: [...u.assetIds, extra] }, 2);
    expect(changed.status, changed.text).toBe(200);
    expect(changed.json).toMatchObject({ reassessmentRequired: true, version: 3 });
    expect(changed.json.reassessmentReason).toContain('composition');
    const to = await recipients('fmar.market-unit.reassessment-required', u.id);
    expect(to).toEqual({ [DEMO['fsp-a']]: ['record-organisation', 'unit-fsp'], [neso.id]: ['product-owner'] });
    const [audit] = await hub.db.query<{ detail: any }>(
      `SELECT detail FROM audit_log WHERE record_type = 'market_unit' AND record_id = $1 AND action = 'market-unit.reassessment-required'`,
      [u.id],
    );
    expect(audit.detail.qualificationIds).toHaveLength(1);

    const again = await qualify(u.id, neso.token, { ...QUALIFIED, reference: 'PQ after change' });
    expect(again.json.reassessmentCleared).toBe(true);
    const read = await hub.call('GET', `/api/v1/market-units/${u.id}`, { as: 'fsp-a' });
    expect(read.json).toMatchObject({ reassessmentRequired: false, reassessmentReason: null, version: 4 });
    const h = await hub.call('GET', `/api/v1/market-units/${u.id}/history`, { as: 'fsp-a' });
    expect(h.json.items.map((x: any) => [x.version, x.reassessmentRequired])).toEqual([
      [4, false],
      [3, true],
      [2, false],
      [1, false],
    ]);
  });

  it('a switch that takes a member away flags the unit (as before) and now notifies the product owner too', async () => {
    const u = await unit();
    expect((await qualify(u.id, neso.token, QUALIFIED)).status).toBe(201);
    const leaving = u.assetIds[0];
    // As a switch that has taken effect: the asset is already the gaining FSP's (docs/switching.md).
    await hub.db.transaction(async (tx) => {
      await tx.query(`UPDATE asset SET fsp_id = $2 WHERE id = $1`, [leaving, DEMO['fsp-b']]);
      const out = await applySwitchToUnits(tx, hub.ctx, hub.system, {
        assetId: leaving,
        gainingFspId: DEMO['fsp-b'],
        switchId: 'SWITCH-TEST',
        now: hub.clock.now(),
      });
      expect(out).toEqual({ moved: [], flagged: [u.id] });
    });
    const to = await recipients('fmar.market-unit.reassessment-required', u.id);
    expect(to).toEqual({ [DEMO['fsp-a']]: ['record-organisation', 'unit-fsp'], [neso.id]: ['product-owner'] });
    const [ev] = await hub.db.query(
      `SELECT data FROM event_outbox WHERE type = 'fmar.market-unit.reassessment-required' AND subject = $1`,
      [u.id],
    );
    expect(ev.data).toMatchObject({ removedAssetId: leaving, switchId: 'SWITCH-TEST', productOwnerIds: [neso.id] });
  });

  it('flags a change of type (SPU to SPG) too', async () => {
    const u = await unit('NESO-DFS', 'fsp-a', 1);
    expect((await qualify(u.id, neso.token, QUALIFIED)).status).toBe(201);
    const r = await hub.call('PATCH', `/api/v1/market-units/${u.id}`, {
      as: 'fsp-a',
      body: { type: 'SPG', assetIds: [...u.assetIds, await asset()] },
      headers: { 'if-match': '"1"' },
    });
    expect(r.status, r.text).toBe(200);
    expect(r.json).toMatchObject({ type: 'SPG', reassessmentRequired: true });
    expect(r.json.reassessmentReason).toContain('type changed');
  });

  it('does not flag a unit that holds no active qualification', async () => {
    const u = await unit();
    const extra = await asset();
    expect((await qualify(u.id, neso.token, { outcome: 'FAILED', validFrom: '2026-06-01T00:00:00Z' })).status).toBe(201);
    const r = await hub.call('PATCH', `/api/v1/market-units/${u.id}`, {
      as: 'fsp-a',
      body: { assetIds: [...u.assetIds, extra] },
      headers: { 'if-match': '"1"' },
    });
    expect(r.json).toMatchObject({ reassessmentRequired: false, version: 2 });
    expect(await recipients('fmar.market-unit.reassessment-required', u.id)).toEqual({});
  });
});

describe('de-registration while qualified (UC-03.04)', () => {
  it('is refused while a current QUALIFIED record is valid, and allowed once it has ended', async () => {
    const u = await unit();
    const q = await qualify(u.id, neso.token, { ...QUALIFIED, validTo: '2026-09-01T00:00:00Z' });
    const p = await refused(() => hub.call('DELETE', `/api/v1/market-units/${u.id}`, { as: 'fsp-a' }), 409, 'UNIT-QUALIFIED');
    expect(p.qualificationIds).toEqual([q.json.id]);
    expect(p.detail).toContain('NESO-DFS');
    // Once the validity has passed the unit may go (and the assets stay registered).
    hub.clock.set('2026-09-02T00:00:00.000Z');
    try {
      const r = await hub.call('DELETE', `/api/v1/market-units/${u.id}`, { as: 'fsp-a' });
      expect(r.status, r.text).toBe(200);
      expect(r.json.status).toBe('DEREGISTERED');
      // A de-registered unit is not qualified any more.
      const fresh = await hub.token({ org: neso.id, roles: ['SYSTEM_OPERATOR'] });
      await refused(() => qualify(u.id, fresh, QUALIFIED), 409, 'UNIT-DEREGISTERED');
    } finally {
      hub.clock.set('2026-06-01T09:00:00.000Z');
    }
  });

  it('is allowed after the SO records FAILED', async () => {
    const u = await unit();
    await qualify(u.id, neso.token, QUALIFIED);
    await refused(() => hub.call('DELETE', `/api/v1/market-units/${u.id}`, { as: 'operator' }), 409, 'UNIT-QUALIFIED');
    await qualify(u.id, neso.token, { outcome: 'FAILED', validFrom: '2026-06-01T00:00:00Z' });
    expect((await hub.call('DELETE', `/api/v1/market-units/${u.id}`, { as: 'operator' })).status).toBe(200);
  });
});

describe('equivalences and opportunities (UC-04.03)', () => {
  it('the operator maintains the table; bad entries are refused with their codes', async () => {
    const post =
      (body: unknown, as = 'operator') =>
      () =>
        hub.call('POST', '/api/v1/product-equivalences', { as, body });
    const eq = await post({ productA: 'NESO-DFS', productB: 'DSO-SUSTAIN-PEAK', kind: 'EQUIVALENT', notes: 'same turn-down' })();
    expect(eq.status, eq.text).toBe(201);
    expect(eq.json).toMatchObject({ productA: 'NESO-DFS', productB: 'DSO-SUSTAIN-PEAK', kind: 'EQUIVALENT', status: 'ACTIVE', version: 1 });
    const to = await recipients('fmar.product-equivalence.recorded', eq.json.id);
    expect(Object.keys(to).sort()).toEqual([neso.id, dso.id].sort());
    await refused(post({ productA: 'NESO-DFS', productB: 'NESO-DFS', kind: 'EQUIVALENT' }), 422, 'EQUIVALENCE-SELF');
    await refused(post({ productA: 'NESO-DFS', productB: 'NESO-NOPE', kind: 'EQUIVALENT' }), 422, 'EQUIVALENCE-PRODUCT-UNKNOWN');
    await refused(post({ productA: 'NESO-DFS', productB: 'NESO-LCM', kind: 'SIMILAR' }), 422, invalid('kind', 'EQUIVALENCE-KIND-UNKNOWN'));
    const dup = await refused(
      post({ productA: 'DSO-SUSTAIN-PEAK', productB: 'NESO-DFS', kind: 'SUBSTITUTABLE' }),
      409,
      'EQUIVALENCE-EXISTS',
    );
    expect(dup.equivalenceId).toBe(eq.json.id);
    await refused(post({ productA: 'NESO-DFS', productB: 'NESO-LCM', kind: 'EQUIVALENT' }, 'fsp-a'), 403, 'AUTH-SCOPE-MISSING');
    await refused(post({ productA: 'NESO-DFS', productB: 'NESO-LCM', kind: 'EQUIVALENT' }, neso.token), 403, 'AUTH-SCOPE-MISSING');

    const equivalents = await hub.call('GET', '/api/v1/products/DSO-SUSTAIN-PEAK/equivalents', { as: 'installer' });
    expect(equivalents.json.items.map((e: any) => [e.product.id, e.kind, e.direction])).toEqual([['NESO-DFS', 'EQUIVALENT', 'both']]);
    expect((await hub.call('GET', '/api/v1/products/NESO-NOPE/equivalents', { as: 'installer' })).json.code).toBe('PRODUCT-NOT-FOUND');
    const table = await hub.call('GET', '/api/v1/product-equivalences?productId=NESO-DFS', { as: 'fsp-b' });
    expect(table.json.items.map((e: any) => e.id)).toContain(eq.json.id);
  });

  it('lists, for a unit, the products equivalent to those it is qualified for that it is not yet qualified for', async () => {
    const op = (body: unknown) => hub.call('POST', '/api/v1/product-equivalences', { as: 'operator', body });
    // NESO-DFS ~ DSO-SUSTAIN-PEAK exists; add DFS → LCM (substitutable) and BR → DFS (the other way: no opportunity from DFS).
    const lcm = await op({ productA: 'NESO-DFS', productB: 'NESO-LCM', kind: 'SUBSTITUTABLE' });
    expect(lcm.status, lcm.text).toBe(201);
    expect((await op({ productA: 'NESO-BR', productB: 'NESO-DFS', kind: 'SUBSTITUTABLE' })).status).toBe(201);
    const u = await unit();
    const opps = async () =>
      (await hub.call('GET', `/api/v1/market-units/${u.id}/opportunities`, { as: 'fsp-a' })).json.items.map((o: any) => [
        o.product.id,
        o.viaProductId,
        o.kind,
      ]);
    expect(await opps()).toEqual([]);
    await qualify(u.id, neso.token, QUALIFIED);
    expect(await opps()).toEqual([
      ['DSO-SUSTAIN-PEAK', 'NESO-DFS', 'EQUIVALENT'],
      ['NESO-LCM', 'NESO-DFS', 'SUBSTITUTABLE'],
    ]);
    // Qualified for DSO-SUSTAIN-PEAK by its own SO (the DSO): no longer an opportunity.
    const dsoQ = await qualify(u.id, dso.token, { ...QUALIFIED, productId: 'DSO-SUSTAIN-PEAK' });
    expect(dsoQ.status, dsoQ.text).toBe(201);
    expect(await opps()).toEqual([['NESO-LCM', 'NESO-DFS', 'SUBSTITUTABLE']]);
    expect(
      (await hub.call('GET', `/api/v1/market-units/${u.id}`, { as: 'fsp-a' })).json.qualifications.map((q: any) => q.productId),
    ).toEqual(['DSO-SUSTAIN-PEAK', 'NESO-DFS']);
    // A withdrawn equivalence offers nothing; it stays readable.
    const w = await hub.call('DELETE', `/api/v1/product-equivalences/${lcm.json.id}?reason=ended`, {
      as: 'operator',
      headers: { 'if-match': '"1"' },
    });
    expect(w.json).toMatchObject({ status: 'WITHDRAWN', version: 2 });
    expect(await opps()).toEqual([]);
    await refused(
      () => hub.call('DELETE', `/api/v1/product-equivalences/${lcm.json.id}`, { as: 'operator' }),
      409,
      'EQUIVALENCE-WITHDRAWN',
    );
    await refused(
      () => hub.call('DELETE', '/api/v1/product-equivalences/01JD8X6N2Q7ZB4Y3W5V6T7S8R9', { as: 'operator' }),
      404,
      'EQUIVALENCE-NOT-FOUND',
    );
    expect(
      (await hub.call('GET', '/api/v1/product-equivalences?status=WITHDRAWN', { as: 'fsp-a' })).json.items.map((e: any) => e.id),
    ).toContain(lcm.json.id);
    expect((await hub.call('GET', `/api/v1/market-units/${u.id}/opportunities`, { as: 'fsp-b' })).status).toBe(404);
  });
});

describe('the pure rules', () => {
  it('product IDs', () => {
    expect(productIdErrors('NESO-DFS', 'NESO')).toEqual([]);
    expect(productIdErrors('DSO-SUSTAIN-PEAK', 'DSO')).toEqual([]);
    expect(productIdErrors('DSO-SUSTAIN-PEAK', 'NESO').map((e) => e.code)).toEqual(['PRODUCT-ID-MARKET']);
    expect(productIdErrors('NESO-dfs', 'NESO').map((e) => e.code)).toEqual(['PRODUCT-ID-FORMAT']);
  });

  it('who records, and what an equivalence offers', () => {
    expect(qualificationRecorder({ ownerOrganisationId: null }, 'X')).toBe('QUALIFICATION-PRODUCT-UNOWNED');
    expect(qualificationRecorder({ ownerOrganisationId: 'Y' }, 'X')).toBe('QUALIFICATION-NOT-PRODUCT-OWNER');
    expect(qualificationRecorder({ ownerOrganisationId: 'X' }, 'X')).toBeUndefined();
    const eqs = [
      { id: '1', productA: 'A', productB: 'B', kind: 'SUBSTITUTABLE' as const, status: 'ACTIVE' as const },
      { id: '2', productA: 'C', productB: 'A', kind: 'EQUIVALENT' as const, status: 'ACTIVE' as const },
      { id: '3', productA: 'D', productB: 'A', kind: 'SUBSTITUTABLE' as const, status: 'ACTIVE' as const },
      { id: '4', productA: 'A', productB: 'E', kind: 'EQUIVALENT' as const, status: 'WITHDRAWN' as const },
    ];
    expect(relatedProducts('A', eqs).map((r) => [r.productId, r.direction])).toEqual([
      ['B', 'to'],
      ['C', 'both'],
      ['D', 'from'],
    ]);
    expect(opportunities(['A'], eqs).map((o) => o.productId)).toEqual(['B', 'C']);
    expect(opportunities(['A', 'C'], eqs).map((o) => o.productId)).toEqual(['B']);
  });
});
