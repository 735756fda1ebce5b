import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSV_COLUMNS, csvToInputs } from '../src/assets/csv';
import { DESCRIBED_FIELDS } from '../src/assets/schema';
import { isRuleCode } from '../src/rules';
import { DEMO, batteryInput, mpanFor, rowCounts, testHub, type TestHub } from './harness';

let hub: TestHub;
beforeAll(async () => { hub = await testHub(); });
afterAll(async () => { await hub?.close(); });

const ndjson = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
const bulk = (text: string, o: { as?: string; contentType?: string; query?: string; headers?: Record<string, string> } = {}) =>
  hub.call('POST', `/api/v1/assets/bulk${o.query ?? ''}`, { as: o.as ?? 'fsp-a', text, contentType: o.contentType ?? 'application/x-ndjson', headers: o.headers });

/** CSV text from a header and rows of cells (quoted when needed), CRLF line ends. */
function csv(header: string[], rows: unknown[][]): string {
  const cell = (v: unknown) => { const s = v === undefined || v === null ? '' : String(v); return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s; };
  return [header, ...rows].map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}

function expectProblem(r: { status: number; headers: Headers; json: any }, status: number, code: string) {
  expect(r.headers.get('content-type')).toBe('application/problem+json');
  expect({ status: r.status, code: r.json?.code }).toEqual({ status, code });
  expect(isRuleCode(r.json.code)).toBe(true);
}

/** The described fields of an asset as the API returns it (what a registration sets). */
const described = (a: any) => Object.fromEntries(DESCRIBED_FIELDS.map((k) => [k, a[k] ?? null]));

describe('bulk registration (NDJSON)', () => {
  it('registers an all-valid batch: 201 with one result and ID per row, in order', async () => {
    const rows = Array.from({ length: 20 }, (_, i) => batteryInput(100 + i));
    const before = await rowCounts(hub.db);
    const r = await bulk(ndjson(rows));
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ dryRun: false, total: 20, registered: 20, rejected: 0 });
    expect(r.json.results.map((x: any) => x.row)).toEqual(rows.map((_, i) => i));
    expect(r.json.results.every((x: any) => x.status === 'registered' && /^[0-9A-HJKMNP-TV-Z]{26}$/.test(x.id))).toBe(true);
    expect(new Set(r.json.results.map((x: any) => x.id)).size).toBe(20);
    const after = await rowCounts(hub.db);
    expect(after.asset - before.asset).toBe(20);
    expect(after.asset_fsp_link - before.asset_fsp_link).toBe(0); // open links live on the asset row (migration 018)
    expect(after.audit_log - before.audit_log).toBe(20);
    expect(after.event_outbox - before.event_outbox).toBe(20);
    const one = await hub.call('GET', `/api/v1/assets/${r.json.results[7].id}`, { as: 'fsp-a' });
    expect(one.json).toMatchObject({ name: rows[7].name, importMpan: rows[7].importMpan, fspId: DEMO['fsp-a'], status: 'PENDING_VALIDATION' });
    const links = await hub.call('GET', `/api/v1/assets/${r.json.results[7].id}/fsp-links`, { as: 'fsp-a' });
    expect(links.json.items).toEqual([expect.objectContaining({ fspId: DEMO['fsp-a'], validTo: null })]);
  });

  it('dry run: 200, every row valid, nothing written', async () => {
    const rows = Array.from({ length: 10 }, (_, i) => batteryInput(200 + i));
    const before = await rowCounts(hub.db, ['asset', 'asset_alias', 'asset_natural_key', 'asset_fsp_link', 'audit_log', 'event_outbox', 'idempotency_record']);
    const r = await bulk(ndjson(rows), { query: '?dryRun=true' });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ dryRun: true, total: 10, registered: 0, rejected: 0 });
    expect(r.json.results.every((x: any) => x.status === 'valid')).toBe(true);
    expect(await rowCounts(hub.db, Object.keys(before))).toEqual(before);
    // The same rows then register for real.
    expect((await bulk(ndjson(rows))).status).toBe(201);
  });

  it('one bad row in 100: 422 BULK-ROWS-INVALID naming only that row and its rule codes; nothing written', async () => {
    const rows: any[] = Array.from({ length: 100 }, (_, i) => batteryInput(300 + i));
    rows[42] = { ...rows[42], ratedCapacityKw: -1, importMpan: '1312345678900' };
    const before = await rowCounts(hub.db);
    const r = await bulk(ndjson(rows));
    expectProblem(r, 422, 'BULK-ROWS-INVALID');
    expect(r.json).toMatchObject({ total: 100, registered: 0, rejected: 1 });
    expect(r.json.results).toHaveLength(1);
    expect(r.json.results[0]).toMatchObject({ row: 42, status: 'rejected' });
    expect(r.json.results[0].errors.map((e: any) => e.code).sort()).toEqual(['ASSET-CAPACITY-RATED']);
    expect(await rowCounts(hub.db)).toEqual(before);

    rows[42] = { ...batteryInput(342), importMpan: '1312345678900' };
    rows[77] = { ...rows[77], category: 'NUCLEAR' };
    const r2 = await bulk(ndjson(rows));
    expectProblem(r2, 422, 'BULK-ROWS-INVALID');
    expect(r2.json.results.map((x: any) => [x.row, x.errors.map((e: any) => e.code)])).toEqual([[42, ['ASSET-MPAN-CHECKDIGIT']], [77, ['ASSET-CATEGORY-UNKNOWN']]]);
    expect(await rowCounts(hub.db)).toEqual(before);
  });

  it('two rows of one batch registering the same asset: BULK-DUPLICATE-IN-BATCH on the later row', async () => {
    const a = batteryInput(400);
    const before = await rowCounts(hub.db);
    const r = await bulk(ndjson([batteryInput(401), a, batteryInput(402), { ...a, name: 'Same battery again' }]));
    expectProblem(r, 422, 'BULK-ROWS-INVALID');
    expect(r.json.results).toHaveLength(1);
    expect(r.json.results[0].row).toBe(3);
    expect(r.json.results[0].errors.map((e: any) => e.code)).toEqual(['BULK-DUPLICATE-IN-BATCH']);
    expect(r.json.results[0].errors[0].detail).toMatch(/row 1/);

    const fc = await bulk(ndjson([batteryInput(403, { friendlyCode: 'DUP-FC' }), batteryInput(404, { friendlyCode: 'DUP-FC' })]));
    expect(fc.json.results.map((x: any) => [x.row, x.errors[0].code, x.errors[0].field])).toEqual([[1, 'BULK-DUPLICATE-IN-BATCH', 'friendlyCode']]);
    const evse = { scheme: 'evse', value: 'GB*DUP*E00001*1' };
    const al = await bulk(ndjson([batteryInput(405, { aliases: [evse] }), batteryInput(406, { aliases: [{ scheme: 'evse', value: 'GBDUPE000011' }] })]));
    expect(al.json.results.map((x: any) => [x.row, x.errors[0].code, x.errors[0].field])).toEqual([[1, 'BULK-DUPLICATE-IN-BATCH', 'aliases']]);
    expect(await rowCounts(hub.db)).toEqual(before);
  });

  it('a row duplicating a stored asset: ASSET-DUPLICATE with existingAssetId', async () => {
    const stored = await bulk(ndjson([batteryInput(500)]));
    expect(stored.status).toBe(201);
    const id = stored.json.results[0].id;
    const before = await rowCounts(hub.db);
    const r = await bulk(ndjson([batteryInput(501), { ...batteryInput(500), name: 'Re-registration' }]));
    expectProblem(r, 422, 'BULK-ROWS-INVALID');
    expect(r.json.results).toEqual([expect.objectContaining({ row: 1, status: 'rejected', existingAssetId: id })]);
    expect(r.json.results[0].errors.map((e: any) => e.code)).toEqual(['ASSET-DUPLICATE']);
    expect(await rowCounts(hub.db)).toEqual(before);
  });

  it('a malformed NDJSON line: 400 REQUEST-MALFORMED-JSON naming the line', async () => {
    const text = [JSON.stringify(batteryInput(600)), '', JSON.stringify(batteryInput(601)), '{"name": "broken",', JSON.stringify(batteryInput(602))].join('\n');
    const before = await rowCounts(hub.db);
    const r = await bulk(text);
    expectProblem(r, 400, 'REQUEST-MALFORMED-JSON');
    expect(r.json.line).toBe(4);
    expect(r.json.detail).toMatch(/Line 4/);
    expect(await rowCounts(hub.db)).toEqual(before);
  });

  it('rows that are not objects are rejected per row, not with a 500', async () => {
    const r = await bulk(ndjson([batteryInput(650), 42, 'text', null, [1, 2]]));
    expectProblem(r, 422, 'BULK-ROWS-INVALID');
    expect(r.json.results.map((x: any) => x.row)).toEqual([1, 2, 3, 4]);
    for (const x of r.json.results) for (const e of x.errors) expect(isRuleCode(e.code)).toBe(true);
  });

  it('an empty body or a body of blank lines: 422 BULK-EMPTY', async () => {
    expectProblem(await bulk(''), 422, 'BULK-EMPTY');
    expectProblem(await bulk('\n  \n\r\n'), 422, 'BULK-EMPTY');
    expectProblem(await bulk('', { contentType: 'text/csv' }), 422, 'BULK-EMPTY');
    expectProblem(await bulk(CSV_COLUMNS.join(',') + '\r\n', { contentType: 'text/csv' }), 422, 'BULK-EMPTY');
  });

  it('a content type other than NDJSON or CSV: 415', async () => {
    const body = ndjson([batteryInput(700)]);
    for (const type of ['application/json', 'text/plain', 'application/xml', 'multipart/form-data; boundary=x']) {
      expectProblem(await bulk(body, { contentType: type }), 415, 'REQUEST-UNSUPPORTED-MEDIA-TYPE');
    }
    const none = await hub.call('POST', '/api/v1/assets/bulk', { as: 'fsp-a' });
    expectProblem(none, 415, 'REQUEST-UNSUPPORTED-MEDIA-TYPE');
    // Parameters and case do not matter.
    expect((await bulk(body, { contentType: 'Application/X-NDJSON; charset=utf-8' })).status).toBe(201);
  });

  it('replays an Idempotency-Key with the same IDs and writes nothing the second time', async () => {
    const body = ndjson([batteryInput(800), batteryInput(801), batteryInput(802)]);
    const headers = { 'idempotency-key': 'bulk-test-800' };
    const first = await bulk(body, { headers });
    expect(first.status).toBe(201);
    const before = await rowCounts(hub.db);
    const again = await bulk(body, { headers });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.json.results.map((x: any) => x.id)).toEqual(first.json.results.map((x: any) => x.id));
    expect(await rowCounts(hub.db)).toEqual(before);
    // The same key with another body is refused; another organisation's key space is its own.
    expectProblem(await bulk(ndjson([batteryInput(803)]), { headers }), 422, 'REQUEST-IDEMPOTENCY-KEY-REUSED');
    expectProblem(await bulk(body, { headers: { 'idempotency-key': 'bad key with spaces' } }), 400, 'REQUEST-IDEMPOTENCY-KEY-FORMAT');
  });

  it('an FSP cannot register for another organisation in bulk', async () => {
    const before = await rowCounts(hub.db);
    const r = await bulk(ndjson([batteryInput(900), batteryInput(901, { organisationId: DEMO['fsp-b'] })]));
    expectProblem(r, 422, 'BULK-ROWS-INVALID');
    expect(r.json.results.map((x: any) => [x.row, x.errors[0].code])).toEqual([[1, 'AUTH-ROLE-FORBIDDEN']]);
    expect(await rowCounts(hub.db)).toEqual(before);
    expectProblem(await bulk(ndjson([batteryInput(902)]), { as: 'dno' }), 403, 'AUTH-SCOPE-MISSING');
  });
});

describe('bulk registration (CSV)', () => {
  const header = ['name', 'category', 'ratedCapacityKw', 'connectionStatus', 'commissioningDate', 'dno', 'importMpan', 'serialNumber', 'manufacturer', 'model', 'consentReference', 'aliases', 'location.postcode', 'location.latitude', 'location.longitude'];

  it('parses quotes, commas, CRLF inside fields and a byte order mark', async () => {
    const rows = [
      ['CSV battery 1', 'BESS', '5', 'CONNECTED', '2025-01-01', 'SPEN_SPM', mpanFor(2_000_001), 'CSV-1', 'Acme, "Power" Ltd', 'M1', 'consent\r\nline two', 'evse:GB*CSV*E00001*1;fsp_ref:A-1', 'G1 1AA', '55.86', '-4.25'],
      ['CSV battery 2', 'BESS', '7.5', 'CONNECTED', '2025-02-01', 'SPEN_SPM', mpanFor(2_000_002), 'CSV-2', 'Plain', '"quoted"', '', '', '', '', ''],
    ];
    const r = await bulk('\ufeff' + csv(header, rows), { contentType: 'text/csv; charset=utf-8' });
    expect(r.status).toBe(201);
    const [a, b] = await Promise.all(r.json.results.map((x: any) => hub.call('GET', `/api/v1/assets/${x.id}`, { as: 'fsp-a' })));
    expect(a.json).toMatchObject({
      name: 'CSV battery 1', ratedCapacityKw: 5, manufacturer: 'Acme, "Power" Ltd', consentReference: 'consent\r\nline two',
      location: { postcode: 'G1 1AA', latitude: 55.86, longitude: -4.25 },
    });
    expect(a.json.aliases).toEqual([{ scheme: 'evse', value: 'GBCSVE000011' }, { scheme: 'fsp_ref', value: 'A-1' }]);
    expect(b.json).toMatchObject({ ratedCapacityKw: 7.5, model: '"quoted"', consentReference: null, location: null, aliases: [] });
  });

  it('LF line ends and a header with spaces around names parse too', async () => {
    const text = ` name , category,ratedCapacityKw,connectionStatus,commissioningDate,dno,importMpan\nLF battery,BESS,3,CONNECTED,2025-01-01,SPEN_SPM,${mpanFor(2_000_010)}\n`;
    expect((await bulk(text, { contentType: 'text/csv' })).status).toBe(201);
  });

  it('an FSP reference cannot hold `;`, the CSV alias separator (else its export would not load back)', async () => {
    const r = await bulk(ndjson([batteryInput(2_000_005, { aliases: [{ scheme: 'fsp_ref', value: 'a;b' }] })]));
    expectProblem(r, 422, 'BULK-ROWS-INVALID');
    expect(r.json.results[0].errors.map((e: any) => [e.field, e.code])).toEqual([['aliases.0.value', 'ASSET-ALIAS-FORMAT']]);
  });

  it('an unknown column: 422 REQUEST-UNKNOWN-FIELD naming it', async () => {
    const r = await bulk(csv([...header.slice(0, 7), 'colour'], [['X', 'BESS', '5', 'CONNECTED', '2025-01-01', 'SPEN_SPM', mpanFor(2_000_020), 'red']]), { contentType: 'text/csv' });
    expectProblem(r, 422, 'REQUEST-UNKNOWN-FIELD');
    expect(r.json.detail).toMatch(/colour/);
  });

  it('a ragged row or a broken quote: 400 REQUEST-MALFORMED-CSV', async () => {
    const before = await rowCounts(hub.db);
    const ragged = `name,category,ratedCapacityKw,connectionStatus,commissioningDate,dno,importMpan\r\nA,BESS,5,CONNECTED,2025-01-01,SPEN_SPM,${mpanFor(2_000_030)}\r\nB,BESS,5,CONNECTED\r\n`;
    const r = await bulk(ragged, { contentType: 'text/csv' });
    expectProblem(r, 400, 'REQUEST-MALFORMED-CSV');
    expect(r.json.detail).toMatch(/row 2/);
    expectProblem(await bulk('name,category\r\n"unterminated,BESS\r\n', { contentType: 'text/csv' }), 400, 'REQUEST-MALFORMED-CSV');
    expectProblem(await bulk('name,category\r\n"a"b,BESS\r\n', { contentType: 'text/csv' }), 400, 'REQUEST-MALFORMED-CSV');
    expectProblem(await bulk('name,category\r\na"b,BESS\r\n', { contentType: 'text/csv' }), 400, 'REQUEST-MALFORMED-CSV');
    expect(await rowCounts(hub.db)).toEqual(before);
  });

  it('a CSV row with a bad value is rejected per row with its rule code', async () => {
    const r = await bulk(csv(header.slice(0, 7), [
      ['Good', 'BESS', '5', 'CONNECTED', '2025-01-01', 'SPEN_SPM', mpanFor(2_000_040)],
      ['Bad', 'BESS', 'lots', 'CONNECTED', '2025-01-01', 'SPEN_SPM', mpanFor(2_000_041)],
    ]), { contentType: 'text/csv' });
    expectProblem(r, 422, 'BULK-ROWS-INVALID');
    expect(r.json.results.map((x: any) => [x.row, x.errors.map((e: any) => e.code)])).toEqual([[1, ['ASSET-CAPACITY-RATED']]]);
  });
});

describe('CSV export loads back through bulk', () => {
  it('export → de-register → import gives the same described fields', async () => {
    // A varied set, in its own category and DNO so that the export filter selects exactly it.
    const inputs = [
      { name: 'Round trip EV (1)', category: 'EV_CHARGER', ratedCapacityKw: 7.4, demandCapacityKw: 7.4, connectionStatus: 'CONNECTED', commissioningDate: '2024-05-01', effectiveDate: '2024-06-01',
        connectionType: 'FIRM', dno: 'NGED_WALES', importMpan: mpanFor(3_000_001, '21'), serialNumber: 'RT-EV-1', manufacturer: 'Volt, "Amp" & Sons', model: 'Line1\nLine2',
        consentReference: 'CCS;token,with "odd" chars', location: { postcode: 'CF10 1AA', gspGroup: '_K', latitude: 51.48, longitude: -3.18 },
        aliases: [{ scheme: 'evse', value: 'GB*RTP*E00001*1' }, { scheme: 'mcs', value: 'MCS-RT-1' }, { scheme: 'fsp_ref', value: 'rt:1' }] },
      { name: 'Round trip EV 2', category: 'EV_CHARGER', ratedCapacityKw: 22, connectionStatus: 'PENDING', dno: 'NGED_WALES', importMpan: mpanFor(3_000_002, '21') },
      { name: 'Round trip EV 3', category: 'EV_CHARGER', ratedCapacityKw: 0.01, demandCapacityKw: 0, connectionStatus: 'DISCONNECTED', dno: 'NGED_WALES', importMpan: mpanFor(3_000_003, '21'),
        serialNumber: 'RT-EV-3', location: { postcode: 'SA1 1AA', latitude: 1e-7, longitude: -5e-7 } },
    ];
    const reg = await bulk(ndjson(inputs));
    expect(reg.status).toBe(201);
    const ids: string[] = reg.json.results.map((x: any) => x.id);
    const originals = await Promise.all(ids.map(async (id) => (await hub.call('GET', `/api/v1/assets/${id}`, { as: 'fsp-a' })).json));

    const exp = await hub.call('GET', '/api/v1/assets/export?format=csv&dno=NGED_WALES&category=EV_CHARGER', { as: 'fsp-a' });
    expect(exp.status).toBe(200);
    expect(exp.headers.get('content-type')).toMatch(/^text\/csv/);
    const exported = csvToInputs(exp.text);
    expect(exported).toHaveLength(3);

    // The originals still hold their natural keys and unique aliases: a straight re-import is refused.
    const clash = await bulk(exp.text, { contentType: 'text/csv' });
    expectProblem(clash, 422, 'BULK-ROWS-INVALID');
    // (The second has no serial number, so no natural key: it is the same category on the same MPAN, which needs a justification.)
    expect(clash.json.results.map((x: any) => [x.row, x.existingAssetId])).toEqual([[0, ids[0]], [1, undefined], [2, ids[2]]]);
    expect(clash.json.results[1].errors.map((e: any) => e.code)).toEqual(['ASSET-MPAN-SAME-CATEGORY']);
    expect(clash.json.results[0].errors.map((e: any) => e.code).sort()).toEqual(['ASSET-ALIAS-TAKEN', 'ASSET-ALIAS-TAKEN', 'ASSET-DUPLICATE']);

    // De-registering archives them (natural keys and aliases are freed; IDs are never reused).
    for (const id of ids) expect((await hub.call('DELETE', `/api/v1/assets/${id}`, { as: 'fsp-a' })).status).toBe(200);
    const back = await bulk(exp.text, { contentType: 'text/csv' });
    expect(back.status).toBe(201);
    const newIds: string[] = back.json.results.map((x: any) => x.id);
    expect(newIds.filter((id) => ids.includes(id))).toEqual([]);
    const reloaded = await Promise.all(newIds.map(async (id) => (await hub.call('GET', `/api/v1/assets/${id}`, { as: 'fsp-a' })).json));
    // The export is ordered by ID, as the originals were issued.
    expect(reloaded.map(described)).toEqual(originals.map(described));
    expect(reloaded.map((a) => [a.organisationId, a.fspId, a.status, a.version])).toEqual(originals.map((a) => [a.organisationId, a.fspId, 'PENDING_VALIDATION', 1]));
  });

  it('de-registration releases a friendly code: a round trip of coded assets registers them again', async () => {
    const reg = await bulk(ndjson([batteryInput(3_100, { friendlyCode: 'RT-CODE-1', dno: 'SSEN_SHEPD', importMpan: mpanFor(3_100, '17') })]));
    expect(reg.status).toBe(201);
    const id = reg.json.results[0].id;
    const exp = await hub.call('GET', '/api/v1/assets/export?format=csv&dno=SSEN_SHEPD', { as: 'fsp-a' });
    // While the asset is live its code is taken.
    const clash = await bulk(exp.text, { contentType: 'text/csv' });
    expectProblem(clash, 422, 'BULK-ROWS-INVALID');
    expect(clash.json.results[0].errors.map((e: any) => e.code)).toContain('ASSET-FRIENDLY-CODE-TAKEN');
    expect((await hub.call('DELETE', `/api/v1/assets/${id}`, { as: 'fsp-a' })).status).toBe(200);
    const back = await bulk(exp.text, { contentType: 'text/csv' });
    expect(back.status).toBe(201);
    const again = await hub.call('GET', `/api/v1/assets/${back.json.results[0].id}`, { as: 'fsp-a' });
    expect(again.json.friendlyCode).toBe('RT-CODE-1');
    expect(again.json.id).not.toBe(id);
    // The archived asset keeps its code in its record and still resolves.
    expect((await hub.call('GET', `/api/v1/assets/${id}`, { as: 'fsp-a' })).json).toMatchObject({ friendlyCode: 'RT-CODE-1', status: 'DEREGISTERED' });
  });
});
