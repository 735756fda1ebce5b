import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSV_COLUMNS, parseCsv } from '../src/assets/csv';
import { isRuleCode } from '../src/rules';
import { DEMO, mpanFor, testHub, type TestHub } from './harness';

/**
 * UC-02.04 export: streamed in keyset pages of 1000, filtered, and only what the caller may see.
 * The expectations come from a model of the stored rows, filtered here in plain code.
 */

let hub: TestHub;
interface Row {
  id: string;
  organisationId: string;
  fspId: string;
  category: string;
  dno: string | null;
  status: string;
  deregistered: boolean;
}
let model: Row[] = [];
const FSP_A_ROWS = 2_500;

const ndjson = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

function input(n: number, distributor: '13' | '18' | '11', category: 'BESS' | 'EV_CHARGER') {
  const dno = { '13': 'SPEN_SPM', '18': 'SPEN_SPD', '11': 'NGED_EMID' }[distributor];
  return {
    name: `Export ${n}`,
    category,
    ratedCapacityKw: 5,
    connectionStatus: 'CONNECTED',
    commissioningDate: '2025-01-01',
    dno,
    importMpan: mpanFor(5_000_000 + n, distributor),
    serialNumber: `EXP-${n}`,
  };
}

beforeAll(async () => {
  hub = await testHub();
  const a = Array.from({ length: FSP_A_ROWS }, (_, i) => input(i, i % 2 ? '18' : '13', i % 5 === 0 ? 'EV_CHARGER' : 'BESS'));
  const ra = await hub.call('POST', '/api/v1/assets/bulk', { as: 'fsp-a', text: ndjson(a), contentType: 'application/x-ndjson' });
  expect(ra.status).toBe(201);
  const b = Array.from({ length: 40 }, (_, i) => input(10_000 + i, i < 5 ? '13' : '11', 'BESS'));
  const rb = await hub.call('POST', '/api/v1/assets/bulk', { as: 'fsp-b', text: ndjson(b), contentType: 'application/x-ndjson' });
  expect(rb.status).toBe(201);
  for (const x of [ra.json.results[3], ra.json.results[1000], rb.json.results[0]]) {
    expect((await hub.call('DELETE', `/api/v1/assets/${x.id}`, { as: x === rb.json.results[0] ? 'fsp-b' : 'fsp-a' })).status).toBe(200);
  }
  const rows = await hub.db.query<{
    id: string;
    organisation_id: string;
    fsp_id: string;
    category: string;
    dno: string | null;
    status: string;
    deregistered_at: Date | null;
  }>(`SELECT id, organisation_id, fsp_id, category, dno, status, deregistered_at FROM asset`);
  model = rows.map((r) => ({
    id: r.id,
    organisationId: r.organisation_id,
    fspId: r.fsp_id,
    category: r.category,
    dno: r.dno,
    status: r.status,
    deregistered: !!r.deregistered_at,
  }));
  model.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
}, 180_000);
afterAll(async () => {
  await hub?.close();
});

async function exportIds(as: string, query = '') {
  const r = await hub.call('GET', `/api/v1/assets/export?format=ndjson${query}`, { as });
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toBe('application/x-ndjson');
  const items = r.text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  return { items, ids: items.map((a: any) => a.id as string) };
}

const live = (r: Row) => !r.deregistered;
const ofFsp = (org: string) => (r: Row) => r.fspId === org || r.organisationId === org;
const ids = (rows: Row[]) => rows.map((r) => r.id);

describe('export', () => {
  it('streams every visible live asset in more than one page, ordered by ID', async () => {
    const res = await hub.app.request('/api/v1/assets/export?format=ndjson', {
      headers: { authorization: `Bearer ${await hub.token('fsp-a')}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="assets.ndjson"');
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let text = '';
    let chunks = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks++;
      text += dec.decode(value, { stream: true });
    }
    const got = text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l).id);
    const expected = ids(model.filter(live).filter(ofFsp(DEMO['fsp-a'])));
    expect(expected.length).toBe(FSP_A_ROWS + 3 - 2);
    expect(got).toEqual(expected);
    expect([...got].sort()).toEqual(got);
    expect(chunks).toBeGreaterThanOrEqual(3);
  });

  it('includeDeregistered adds the archived assets; status=DEREGISTERED selects only them', async () => {
    const all = await exportIds('fsp-a', '&includeDeregistered=true');
    expect(all.ids).toEqual(ids(model.filter(ofFsp(DEMO['fsp-a']))));
    const gone = await exportIds('fsp-a', '&status=DEREGISTERED');
    expect(gone.ids).toEqual(ids(model.filter(ofFsp(DEMO['fsp-a'])).filter((r) => r.deregistered)));
    expect(gone.ids).toHaveLength(2);
    expect(gone.items.every((a: any) => a.status === 'DEREGISTERED' && a.deregisteredAt)).toBe(true);
  });

  it('filters by DNO, category and status, alone and together', async () => {
    const a = model.filter(live).filter(ofFsp(DEMO['fsp-a']));
    expect((await exportIds('fsp-a', '&dno=SPEN_SPD')).ids).toEqual(ids(a.filter((r) => r.dno === 'SPEN_SPD')));
    expect((await exportIds('fsp-a', '&category=EV_CHARGER')).ids).toEqual(ids(a.filter((r) => r.category === 'EV_CHARGER')));
    const both = await exportIds('fsp-a', '&category=EV_CHARGER&dno=SPEN_SPM&status=PENDING_VALIDATION');
    expect(both.ids).toEqual(
      ids(a.filter((r) => r.category === 'EV_CHARGER' && r.dno === 'SPEN_SPM' && r.status === 'PENDING_VALIDATION')),
    );
    expect(both.ids.length).toBeGreaterThan(200);
    expect((await exportIds('fsp-a', '&status=VERIFIED')).ids).toEqual([]);
  });

  it('an FSP never sees another FSP’s assets, whatever it asks for', async () => {
    const b = await exportIds('fsp-b', '&includeDeregistered=true');
    expect(b.ids).toEqual(ids(model.filter(ofFsp(DEMO['fsp-b']))));
    expect(b.items.every((x: any) => x.fspId === DEMO['fsp-b'] || x.organisationId === DEMO['fsp-b'])).toBe(true);
    expect((await exportIds('fsp-b', `&organisationId=${DEMO['fsp-a']}`)).ids).toEqual([]);
    const csv = await hub.call('GET', `/api/v1/assets/export?format=csv&organisationId=${DEMO['fsp-a']}`, { as: 'fsp-b' });
    expect(parseCsv(csv.text)).toEqual([[...CSV_COLUMNS]]);
  });

  it('the operator sees every organisation and filters by organisationId; a DNO sees its networks', async () => {
    expect((await exportIds('operator', '&includeDeregistered=true')).ids).toEqual(ids(model));
    expect((await exportIds('operator', `&organisationId=${DEMO['fsp-b']}`)).ids).toEqual(
      ids(model.filter(live).filter((r) => r.organisationId === DEMO['fsp-b'])),
    );
    const dno = await exportIds('dno');
    expect(dno.ids).toEqual(ids(model.filter(live).filter((r) => r.dno === 'SPEN_SPM' || r.dno === 'SPEN_SPD')));
    expect(new Set(dno.items.map((a: any) => a.fspId))).toEqual(new Set([DEMO['fsp-a'], DEMO['fsp-b']]));
  });

  it('CSV: the header is CSV_COLUMNS and the rows follow the NDJSON order', async () => {
    const r = await hub.call('GET', '/api/v1/assets/export?format=csv', { as: 'fsp-a' });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(r.text.split('\r\n')[0]).toBe(CSV_COLUMNS.join(','));
    const [header, ...rows] = parseCsv(r.text);
    expect(header).toEqual([...CSV_COLUMNS]);
    expect(rows.every((x) => x.length === CSV_COLUMNS.length)).toBe(true);
    expect(rows.map((x) => x[0])).toEqual(ids(model.filter(live).filter(ofFsp(DEMO['fsp-a']))));
    const nd = await exportIds('fsp-a');
    const col = (c: string) => CSV_COLUMNS.indexOf(c as any);
    expect(rows.map((x) => [x[col('importMpan')], x[col('category')], Number(x[col('ratedCapacityKw')])])).toEqual(
      nd.items.map((a: any) => [a.importMpan, a.category, a.ratedCapacityKw]),
    );
  });

  it('an export with nothing to send is empty (CSV: the header only)', async () => {
    const r = await hub.call('GET', '/api/v1/assets/export?format=ndjson&category=WIND_TURBINE', { as: 'fsp-a' });
    expect(r.status).toBe(200);
    expect(r.text).toBe('');
    const c = await hub.call('GET', '/api/v1/assets/export?format=csv&category=WIND_TURBINE', { as: 'fsp-a' });
    expect(c.text).toBe(CSV_COLUMNS.join(',') + '\r\n');
  });

  it('refuses bad parameters and callers without assets:read, as problems with rule codes', async () => {
    for (const [q, field] of [
      ['format=xml', 'format'],
      ['format=csv&dno=NOWHERE', 'dno'],
      ['category=NUCLEAR', 'category'],
      ['status=GONE', 'status'],
      ['includeDeregistered=yes', 'includeDeregistered'],
    ]) {
      const r = await hub.call('GET', `/api/v1/assets/export?${q}`, { as: 'fsp-a' });
      expect(r.status).toBe(400);
      expect(r.headers.get('content-type')).toBe('application/problem+json');
      expect(r.json.code).toBe('REQUEST-QUERY-INVALID');
      expect(
        r.json.errors.map((e: any) => e.field),
        q,
      ).toEqual([`query.${field}`]);
      for (const e of r.json.errors) expect(isRuleCode(e.code)).toBe(true);
    }
    const installer = await hub.call('GET', '/api/v1/assets/export', { as: 'installer' });
    expect(installer.status).toBe(403);
    expect(installer.json.code).toBe('AUTH-SCOPE-MISSING');
    expect((await hub.call('GET', '/api/v1/assets/export')).json.code).toBe('AUTH-TOKEN-MISSING');
  });
});
