import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO, batteryInput, mpanFor, rowCounts, testHub, type TestHub, expectRefused, invalid } from './harness';

/** UC-03.01 to UC-03.04: create, read, change, re-assign and de-register market units over the API. */

let hub: TestHub;
beforeAll(async () => {
  hub = await testHub();
});
afterAll(async () => {
  await hub?.close();
});

const API = '/api/v1/market-units';
const TABLES = ['market_unit', 'market_unit_member', 'record_history', 'audit_log', 'event_outbox'];
let n = 0;

/** Register an asset over the API and return its ID. */
async function asset(as: 'fsp-a' | 'fsp-b', extra: Record<string, unknown> = {}): Promise<string> {
  const i = ++n;
  const r = await hub.call('POST', '/api/v1/assets', { as, body: batteryInput(5000 + i, { serialNumber: `MU-${i}`, ...extra }) });
  expect(r.status, JSON.stringify(r.json)).toBe(201);
  return r.json.id;
}
const unitBody = (assetIds: string[], extra: Record<string, unknown> = {}) => ({
  name: `Unit ${++n}`,
  type: 'SPG',
  product: 'NESO-DFS',
  assetIds,
  ...extra,
});
async function create(as: string, body: unknown) {
  const r = await hub.call('POST', API, { as, body });
  expect(r.status, JSON.stringify(r.json)).toBe(201);
  return r.json;
}

/** The request is refused with this status and rule code, and nothing is written (test/harness.ts). */
const refused = (req: () => Promise<{ status: number; json: any; text?: string }>, status: number, code: string) =>
  expectRefused(hub.db, TABLES, req, status, code);

describe('creating a market unit', () => {
  it('creates an SPG for the calling FSP, with ETag, Location, audit and event', async () => {
    const ids = [await asset('fsp-a'), await asset('fsp-a')].sort();
    const r = await hub.call('POST', API, { as: 'fsp-a', body: unitBody(ids) });
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    expect(r.json).toMatchObject({
      type: 'SPG',
      product: 'NESO-DFS',
      fspId: DEMO['fsp-a'],
      status: 'ACTIVE',
      assetIds: ids,
      version: 1,
      warnings: [],
      deregisteredAt: null,
    });
    expect(r.headers.get('etag')).toBe('"1"');
    expect(r.headers.get('location')).toBe(`${API}/${r.json.id}`);
    const [audit] = await hub.db.query(
      `SELECT action, organisation_id FROM audit_log WHERE record_type = 'market_unit' AND record_id = $1`,
      [r.json.id],
    );
    expect(audit).toMatchObject({ action: 'market-unit.created', organisation_id: DEMO['fsp-a'] });
    const [ev] = await hub.db.query(`SELECT type, data FROM event_outbox WHERE subject = $1`, [r.json.id]);
    expect(ev).toMatchObject({ type: 'fmar.market-unit.created', data: { marketUnitId: r.json.id, fspId: DEMO['fsp-a'], assetIds: ids } });
  });

  it('creates an SPU when every asset is behind one import MPAN', async () => {
    const mpan = mpanFor(5900);
    const ids = [await asset('fsp-a', { importMpan: mpan }), await asset('fsp-a', { importMpan: mpan })];
    expect((await create('fsp-a', unitBody(ids, { type: 'SPU' }))).type).toBe('SPU');
  });

  it('warns, without refusing, when members lie in more than one GSP group', async () => {
    const ids = [await asset('fsp-a', { location: { gspGroup: '_N' } }), await asset('fsp-a', { location: { gspGroup: '_P' } })];
    const u = await create('fsp-a', unitBody(ids));
    expect(u.warnings).toEqual([expect.objectContaining({ code: 'UNIT-GEOGRAPHY-GSP-GROUP', field: 'assetIds' })]);
  });

  it('refuses each bad input with its rule code, writing nothing', async () => {
    const a1 = await asset('fsp-a');
    const a2 = await asset('fsp-a');
    const b1 = await asset('fsp-b');
    const post =
      (body: unknown, as = 'fsp-a') =>
      () =>
        hub.call('POST', API, { as, body });
    await refused(post(unitBody([])), 422, invalid('assetIds', 'UNIT-EMPTY'));
    await refused(post(unitBody([a1, a2], { product: 'dfs!' })), 422, invalid('product', 'UNIT-PRODUCT-FORMAT'));
    await refused(post(unitBody([a1, a2], { type: 'VPP' })), 422, invalid('type', 'UNIT-TYPE-UNKNOWN'));
    await refused(post(unitBody([a1, a2], { name: '' })), 422, invalid('name', 'UNIT-NAME-FORMAT'));
    await refused(post(unitBody([a1, '01JD8X6N2Q7ZB4Y3W5V6T7S8R9'])), 422, 'UNIT-ASSET-UNKNOWN');
    // Another FSP's asset is not one fsp-a may write: unknown, without saying whose it is.
    const other = await refused(post(unitBody([a1, b1])), 422, 'UNIT-ASSET-UNKNOWN');
    expect(other.detail).toContain(b1);
    // The operator sees both: the unit would mix FSPs.
    const mixed = await refused(post(unitBody([a1, b1], { fspId: DEMO['fsp-a'] }), 'operator'), 422, 'UNIT-MIXED-FSP');
    expect(mixed.code).toBe('UNIT-MIXED-FSP');
    expect(mixed.detail).toContain(b1);
    await refused(post(unitBody([a1, a2], { type: 'SPU' })), 422, 'UNIT-SPU-ACCOUNTING-POINT');
    await refused(post(unitBody([a1], { type: 'SPG' })), 422, 'UNIT-SPG-ACCOUNTING-POINTS');
    const east = await asset('fsp-a', { dno: 'UKPN_EPN', importMpan: mpanFor(5901, '10') });
    await refused(post(unitBody([a1, east])), 422, 'UNIT-GEOGRAPHY-DNO');
    await refused(post(unitBody([a1, a2], { fspId: DEMO['fsp-b'] })), 403, 'AUTH-ROLE-FORBIDDEN');
    const gone = await asset('fsp-a');
    expect((await hub.call('DELETE', `/api/v1/assets/${gone}`, { as: 'fsp-a' })).status).toBe(200);
    await refused(post(unitBody([a1, gone])), 422, 'UNIT-ASSET-NOT-REGISTERED');
  });

  it('keeps an asset in at most one active unit per product, naming the other unit', async () => {
    const ids = [await asset('fsp-a'), await asset('fsp-a')];
    const first = await create('fsp-a', unitBody(ids));
    const p = await refused(
      () => hub.call('POST', API, { as: 'fsp-a', body: unitBody([ids[0], ids[1]]) }),
      409,
      'UNIT-ASSET-IN-OTHER-UNIT',
    );
    expect(p.detail).toContain(first.id);
    expect(p.otherMarketUnits).toContainEqual({ assetId: ids[0], marketUnitId: first.id });
    // Another product is another market.
    expect((await create('fsp-a', unitBody(ids, { product: 'NESO-LCM' }))).product).toBe('NESO-LCM');
  });
});

describe('reading market units', () => {
  it('shows a unit to its FSP, the operator and the DNO of its network, and to nobody else', async () => {
    const u = await create('fsp-a', unitBody([await asset('fsp-a'), await asset('fsp-a')]));
    for (const who of ['fsp-a', 'operator', 'dno'] as const)
      expect((await hub.call('GET', `${API}/${u.id}`, { as: who })).status, who).toBe(200);
    const hidden = await hub.call('GET', `${API}/${u.id}`, { as: 'fsp-b' });
    expect([hidden.status, hidden.json.code]).toEqual([404, 'UNIT-NOT-FOUND']);
    expect((await hub.call('GET', `${API}/${u.id}/history`, { as: 'fsp-b' })).status).toBe(404);
    const ids = async (who: string) => (await hub.call('GET', `${API}?limit=1000`, { as: who })).json.items.map((x: any) => x.id);
    expect(await ids('fsp-a')).toContain(u.id);
    expect(await ids('fsp-b')).not.toContain(u.id);
    expect(await ids('dno')).toContain(u.id);
    expect((await hub.call('GET', `${API}/not-an-id`, { as: 'fsp-a' })).status).toBe(404);
  });
});

describe('changing a market unit', () => {
  it('updates name and composition with If-Match, keeps every version, and refuses stale or foreign writes', async () => {
    const [a1, a2, a3] = [await asset('fsp-a'), await asset('fsp-a'), await asset('fsp-a')];
    const u = await create('fsp-a', unitBody([a1, a2]));
    const patch =
      (body: unknown, as = 'fsp-a', headers: Record<string, string> = { 'if-match': '"1"' }) =>
      () =>
        hub.call('PATCH', `${API}/${u.id}`, { as, body, headers });
    await refused(patch({ name: 'No ETag' }, 'fsp-a', {}), 428, 'REQUEST-IF-MATCH-REQUIRED');
    await refused(patch({ name: 'Stale' }, 'fsp-a', { 'if-match': '"7"' }), 412, 'REQUEST-PRECONDITION-FAILED');
    await refused(patch({ name: 'Not mine' }, 'fsp-b'), 404, 'UNIT-NOT-FOUND');
    await refused(patch({ assetIds: [] }), 422, invalid('assetIds', 'UNIT-EMPTY'));
    await refused(patch({ product: 'NESO-LCM' }), 422, invalid('product', 'REQUEST-UNKNOWN-FIELD'));
    const r = await patch({ name: 'Renamed unit', assetIds: [a1, a3] })();
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.json).toMatchObject({ name: 'Renamed unit', version: 2, assetIds: [a1, a3].sort() });
    expect(r.headers.get('etag')).toBe('"2"');
    // The same ETag again is stale now.
    await refused(patch({ name: 'Again' }), 412, 'REQUEST-PRECONDITION-FAILED');
    const h = await hub.call('GET', `${API}/${u.id}/history`, { as: 'fsp-a' });
    expect(h.json.items.map((x: any) => [x.version, x.name, x.assetIds])).toEqual([
      [2, 'Renamed unit', [a1, a3].sort()],
      [1, u.name, [a1, a2].sort()],
    ]);
    const [ev] = await hub.db.query(`SELECT data FROM event_outbox WHERE subject = $1 AND type = 'fmar.market-unit.updated'`, [u.id]);
    expect(ev.data).toMatchObject({ marketUnitId: u.id, fspId: DEMO['fsp-a'], changed: ['name', 'assetIds'] });
    // a2 left the unit, so it may be de-registered; a1 is still in it.
    expect((await hub.call('DELETE', `/api/v1/assets/${a2}`, { as: 'fsp-a' })).status).toBe(200);
  });
});

describe('de-registering', () => {
  it('refuses to de-register an asset that is in an active unit', async () => {
    const [a1, a2] = [await asset('fsp-a'), await asset('fsp-a')];
    const u = await create('fsp-a', unitBody([a1, a2]));
    const before = await rowCounts(hub.db, ['record_history', 'audit_log', 'event_outbox']);
    const r = await hub.call('DELETE', `/api/v1/assets/${a1}`, { as: 'fsp-a' });
    expect([r.status, r.json.code, r.json.marketUnitIds]).toEqual([409, 'ASSET-IN-MARKET-UNIT', [u.id]]);
    expect(await rowCounts(hub.db, ['record_history', 'audit_log', 'event_outbox'])).toEqual(before);
  });

  it('refuses to de-register a unit under a CONFIRMED contract, allows it once TERMINATED, and leaves its assets registered', async () => {
    const [a1, a2] = [await asset('fsp-a'), await asset('fsp-a')];
    const u = await create('fsp-a', unitBody([a1, a2]));
    const k = await hub.call('POST', '/api/v1/contracts', {
      as: 'operator',
      body: {
        assetId: a2,
        fspId: DEMO['fsp-a'],
        product: 'NESO-DFS',
        validFrom: '2026-06-01T00:00:00Z',
        validTo: '2026-09-01T00:00:00Z',
        status: 'CONFIRMED',
      },
    });
    expect(k.status, JSON.stringify(k.json)).toBe(201);
    const p = await refused(() => hub.call('DELETE', `${API}/${u.id}`, { as: 'fsp-a' }), 409, 'UNIT-CONTRACT-AWARDED');
    expect(p.contractIds).toEqual([k.json.id]);
    expect(
      (await hub.call('POST', `/api/v1/contracts/${k.json.id}/status`, { as: 'operator', body: { status: 'TERMINATED' } })).status,
    ).toBe(200);
    await refused(() => hub.call('DELETE', `${API}/${u.id}`, { as: 'fsp-b' }), 404, 'UNIT-NOT-FOUND');
    const r = await hub.call('DELETE', `${API}/${u.id}?reason=closing`, { as: 'fsp-a', headers: { 'if-match': '"1"' } });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.json).toMatchObject({ status: 'DEREGISTERED', version: 2, assetIds: [a1, a2].sort() });
    expect(r.json.deregisteredAt).not.toBeNull();
    for (const id of [a1, a2]) expect((await hub.call('GET', `/api/v1/assets/${id}`, { as: 'fsp-a' })).json.deregisteredAt).toBeNull();
    await refused(
      () => hub.call('PATCH', `${API}/${u.id}`, { as: 'fsp-a', body: { name: 'Too late' }, headers: { 'if-match': '"2"' } }),
      409,
      'UNIT-DEREGISTERED',
    );
    // Its assets are free again: for a new unit, and for de-registration.
    await create('fsp-a', unitBody([a1, a2]));
    const [ev] = await hub.db.query(`SELECT data FROM event_outbox WHERE subject = $1 AND type = 'fmar.market-unit.deregistered'`, [u.id]);
    expect(ev.data).toMatchObject({ marketUnitId: u.id, fspId: DEMO['fsp-a'] });
  });

  it('counts a CONFIRMED contract that names the unit itself', async () => {
    const u = await create('fsp-a', unitBody([await asset('fsp-a'), await asset('fsp-a')]));
    const id = hub.ports.ids.next();
    await hub.db.query(
      `INSERT INTO contract (id, system_operator_id, fsp_id, market_unit_id, product, period, status, recorded_at, recorded_by)
      VALUES ($1, $2, $3, $4, 'NESO-DFS', tstzrange('2026-06-01', '2026-12-01'), 'CONFIRMED', now(), 'test')`,
      [id, DEMO.operator, DEMO['fsp-a'], u.id],
    );
    const p = await refused(() => hub.call('DELETE', `${API}/${u.id}`, { as: 'operator' }), 409, 'UNIT-CONTRACT-AWARDED');
    expect(p.contractIds).toEqual([id]);
  });
});

describe('re-assigning a market unit (UC-03.02)', () => {
  it('moves a unit to the FSP that now controls its assets; only the operator', async () => {
    const a1 = await asset('fsp-a');
    const u = await create('fsp-a', unitBody([a1], { type: 'SPU' }));
    const reassign =
      (fspId: string, as = 'operator') =>
      () =>
        hub.call('POST', `${API}/${u.id}/reassign`, { as, body: { fspId } });
    await refused(reassign(DEMO['fsp-b'], 'fsp-a'), 403, 'AUTH-ROLE-FORBIDDEN');
    await refused(reassign(DEMO['fsp-b']), 422, 'UNIT-MIXED-FSP');
    await refused(reassign(DEMO['fsp-a']), 409, 'UNIT-REASSIGN-SAME-FSP');
    await refused(reassign(DEMO.dno), 422, 'UNIT-FSP-INVALID');
    // As a switch would: the asset is now fsp-b's.
    await hub.db.query(`UPDATE asset SET fsp_id = $2 WHERE id = $1`, [a1, DEMO['fsp-b']]);
    const r = await reassign(DEMO['fsp-b'])();
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.json).toMatchObject({ fspId: DEMO['fsp-b'], version: 2, assetIds: [a1] });
    expect((await hub.call('GET', `${API}/${u.id}`, { as: 'fsp-a' })).status).toBe(404);
    expect((await hub.call('GET', `${API}/${u.id}`, { as: 'fsp-b' })).status).toBe(200);
    const recipients = await hub.db.query(
      `SELECT r.organisation_id FROM event_recipient r JOIN event_outbox e ON e.id = r.event_id WHERE e.subject = $1 AND e.type = 'fmar.market-unit.reassigned' ORDER BY 1`,
      [u.id],
    );
    expect(recipients.map((x) => x.organisation_id).sort()).toEqual([DEMO['fsp-a'], DEMO['fsp-b']].sort());
    const h = await hub.call('GET', `${API}/${u.id}/history`, { as: 'operator' });
    expect(h.json.items.map((x: any) => x.fspId)).toEqual([DEMO['fsp-b'], DEMO['fsp-a']]);
  });
});
