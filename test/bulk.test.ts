import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSV_COLUMNS, csvToInputs } from '../src/assets/csv';
import { DESCRIBED_FIELDS } from '../src/assets/schema';
import { isRuleCode } from '../src/rules';
import { DEMO, WRITE_TABLES, batteryInput, consentFor, mpanFor, rowCounts, testHub, type TestHub } from './harness';

let hub: TestHub;
beforeAll(async () => {
  hub = await testHub();
});
afterAll(async () => {
  await hub?.close();
});

const ndjson = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
const bulk = (text: string, o: { as?: string; contentType?: string; query?: string; headers?: Record<string, string> } = {}) =>
  hub.call('POST', `/api/v1/assets/bulk${o.query ?? ''}`, {
    as: o.as ?? 'fsp-a',
    text,
    contentType: o.contentType ?? 'application/x-ndjson',
    headers: o.headers,
  });

/** CSV text from a header and rows of cells (quoted when needed), CRLF line ends. */
function csv(header: string[], rows: unknown[][]): string {
  const cell = (v: unknown) => {
    const s = v === undefined || v === null ? '' : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
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
    // Rows are numbered by the line of the body they are on (1-based).
    expect(r.json.results.map((x: any) => x.row)).toEqual(rows.map((_, i) => i + 1));
    expect(r.json.results.every((x: any) => x.status === 'registered' && /^[0-9A-HJKMNP-TV-Z]{26}$/.test(x.id))).toBe(true);
    expect(new Set(r.json.results.map((x: any) => x.id)).size).toBe(20);
    const after = await rowCounts(hub.db);
    expect(after.asset - before.asset).toBe(20);
    expect(after.asset_fsp_link - before.asset_fsp_link).toBe(0); // open links live on the asset row (migration 018)
    expect(after.audit_log - before.audit_log).toBe(20);
    expect(after.event_outbox - before.event_outbox).toBe(20);
    const one = await hub.call('GET', `/api/v1/assets/${r.json.results[7].id}`, { as: 'fsp-a' });
    expect(one.json).toMatchObject({
      name: rows[7].name,
      importMpan: rows[7].importMpan,
      fspId: DEMO['fsp-a'],
      status: 'PENDING_VALIDATION',
    });
    const links = await hub.call('GET', `/api/v1/assets/${r.json.results[7].id}/fsp-links`, { as: 'fsp-a' });
    expect(links.json.items).toEqual([expect.objectContaining({ fspId: DEMO['fsp-a'], validTo: null })]);
  });

  it('dry run: 200, every row valid, nothing written', async () => {
    const rows = Array.from({ length: 10 }, (_, i) => batteryInput(200 + i));
    const before = await rowCounts(hub.db, [
      'asset',
      'asset_alias',
      'asset_natural_key',
      'asset_fsp_link',
      'audit_log',
      'event_outbox',
      'idempotency_record',
    ]);
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
    expect(r.json.results[0]).toMatchObject({ row: 43, status: 'rejected' });
    expect(r.json.results[0].errors.map((e: any) => e.code).sort()).toEqual(['ASSET-CAPACITY-RATED']);
    expect(await rowCounts(hub.db)).toEqual(before);

    rows[42] = { ...batteryInput(342), importMpan: '1312345678900' };
    rows[77] = { ...rows[77], category: 'NUCLEAR' };
    const r2 = await bulk(ndjson(rows));
    expectProblem(r2, 422, 'BULK-ROWS-INVALID');
    expect(r2.json.results.map((x: any) => [x.row, x.errors.map((e: any) => e.code)])).toEqual([
      [43, ['ASSET-MPAN-CHECKDIGIT']],
      [78, ['ASSET-CATEGORY-UNKNOWN']],
    ]);
    expect(await rowCounts(hub.db)).toEqual(before);
  });

  it('two rows of one batch registering the same asset: BULK-DUPLICATE-IN-BATCH on the later row', async () => {
    const a = batteryInput(400);
    const before = await rowCounts(hub.db);
    const r = await bulk(ndjson([batteryInput(401), a, batteryInput(402), { ...a, name: 'Same battery again' }]));
    expectProblem(r, 422, 'BULK-ROWS-INVALID');
    expect(r.json.results).toHaveLength(1);
    expect(r.json.results[0].row).toBe(4);
    expect(r.json.results[0].errors.map((e: any) => e.code)).toEqual(['BULK-DUPLICATE-IN-BATCH']);
    expect(r.json.results[0].errors[0].detail).toBe('Same importMpan as row 2.');

    const fc = await bulk(ndjson([batteryInput(403, { friendlyCode: 'DUP-FC' }), batteryInput(404, { friendlyCode: 'DUP-FC' })]));
    expect(fc.json.results.map((x: any) => [x.row, x.errors[0].code, x.errors[0].field])).toEqual([
      [2, 'BULK-DUPLICATE-IN-BATCH', 'friendlyCode'],
    ]);
    const evse = { scheme: 'evse', value: 'GB*DUP*E00001*1' };
    const al = await bulk(
      ndjson([batteryInput(405, { aliases: [evse] }), batteryInput(406, { aliases: [{ scheme: 'evse', value: 'GBDUPE000011' }] })]),
    );
    expect(al.json.results.map((x: any) => [x.row, x.errors[0].code, x.errors[0].field])).toEqual([
      [2, 'BULK-DUPLICATE-IN-BATCH', 'aliases'],
    ]);
    expect(await rowCounts(hub.db)).toEqual(before);
  });

  it('a row duplicating a stored asset: ASSET-DUPLICATE with existingAssetId', async () => {
    const stored = await bulk(ndjson([batteryInput(500)]));
    expect(stored.status).toBe(201);
    const id = stored.json.results[0].id;
    const before = await rowCounts(hub.db);
    const r = await bulk(ndjson([batteryInput(501), { ...batteryInput(500), name: 'Re-registration' }]));
    expectProblem(r, 422, 'BULK-ROWS-INVALID');
    expect(r.json.results).toEqual([expect.objectContaining({ row: 2, status: 'rejected', existingAssetId: id })]);
    expect(r.json.results[0].errors.map((e: any) => e.code)).toEqual(['ASSET-DUPLICATE']);
    expect(await rowCounts(hub.db)).toEqual(before);
  });

  it('a malformed NDJSON line: 400 REQUEST-MALFORMED-JSON naming the line', async () => {
    const text = [
      JSON.stringify(batteryInput(600)),
      '',
      JSON.stringify(batteryInput(601)),
      '{"name": "broken",',
      JSON.stringify(batteryInput(602)),
    ].join('\n');
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
    expect(r.json.results.map((x: any) => x.row)).toEqual([2, 3, 4, 5]);
    expect(r.json.results.map((x: any) => [x.row, x.errors.map((e: any) => `${e.field} ${e.code}`)])).toEqual(
      [2, 3, 4, 5].map((row) => [row, ['(body) REQUEST-FIELD-TYPE']]),
    );
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
    expect(r.json.results.map((x: any) => [x.row, x.errors[0].code])).toEqual([[2, 'AUTH-ROLE-FORBIDDEN']]);
    expect(await rowCounts(hub.db)).toEqual(before);
    expectProblem(await bulk(ndjson([batteryInput(902)]), { as: 'dno' }), 403, 'AUTH-SCOPE-MISSING');
  });
});

describe('bulk registration (CSV)', () => {
  const header = [
    'name',
    'category',
    'ratedCapacityKw',
    'connectionStatus',
    'commissioningDate',
    'dno',
    'importMpan',
    'serialNumber',
    'manufacturer',
    'model',
    'consentReference',
    'aliases',
    'location.postcode',
    'location.latitude',
    'location.longitude',
  ];

  it('parses quotes, commas, CRLF inside fields and a byte order mark', async () => {
    const rows = [
      [
        'CSV battery 1',
        'BESS',
        '5',
        'CONNECTED',
        '2025-01-01',
        'SPEN_SPM',
        mpanFor(2_000_001),
        'CSV-1',
        'Acme, "Power" Ltd',
        'M1\r\nline two',
        (await consentFor(hub, mpanFor(2_000_001), DEMO['fsp-a'])).token,
        'evse:GB*CSV*E00001*1;fsp_ref:A-1',
        'G1 1AA',
        '55.86',
        '-4.25',
      ],
      [
        'CSV battery 2',
        'BESS',
        '7.5',
        'CONNECTED',
        '2025-02-01',
        'SPEN_SPM',
        mpanFor(2_000_002),
        'CSV-2',
        'Plain',
        '"quoted"',
        '',
        '',
        '',
        '',
        '',
      ],
    ];
    const r = await bulk('\ufeff' + csv(header, rows), { contentType: 'text/csv; charset=utf-8' });
    expect(r.status).toBe(201);
    const [a, b] = await Promise.all(r.json.results.map((x: any) => hub.call('GET', `/api/v1/assets/${x.id}`, { as: 'fsp-a' })));
    expect(a.json).toMatchObject({
      name: 'CSV battery 1',
      ratedCapacityKw: 5,
      manufacturer: 'Acme, "Power" Ltd',
      model: 'M1\r\nline two',
      location: { postcode: 'G1 1AA', latitude: 55.86, longitude: -4.25 },
    });
    expect(a.json.aliases).toEqual([
      { scheme: 'evse', value: 'GBCSVE000011' },
      { scheme: 'fsp_ref', value: 'A-1' },
    ]);
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
    const r = await bulk(
      csv([...header.slice(0, 7), 'colour'], [['X', 'BESS', '5', 'CONNECTED', '2025-01-01', 'SPEN_SPM', mpanFor(2_000_020), 'red']]),
      { contentType: 'text/csv' },
    );
    expectProblem(r, 422, 'REQUEST-UNKNOWN-FIELD');
    expect(r.json.detail).toMatch(/colour/);
  });

  it('a ragged row or a broken quote: 400 REQUEST-MALFORMED-CSV', async () => {
    const before = await rowCounts(hub.db);
    const ragged = `name,category,ratedCapacityKw,connectionStatus,commissioningDate,dno,importMpan\r\nA,BESS,5,CONNECTED,2025-01-01,SPEN_SPM,${mpanFor(2_000_030)}\r\nB,BESS,5,CONNECTED\r\n`;
    const r = await bulk(ragged, { contentType: 'text/csv' });
    expectProblem(r, 400, 'REQUEST-MALFORMED-CSV');
    expect(r.json.detail).toBe('Row 3 has 4 fields; the header has 7.');
    expect(r.json.line).toBe(3);
    expectProblem(await bulk('name,category\r\n"unterminated,BESS\r\n', { contentType: 'text/csv' }), 400, 'REQUEST-MALFORMED-CSV');
    expectProblem(await bulk('name,category\r\n"a"b,BESS\r\n', { contentType: 'text/csv' }), 400, 'REQUEST-MALFORMED-CSV');
    expectProblem(await bulk('name,category\r\na"b,BESS\r\n', { contentType: 'text/csv' }), 400, 'REQUEST-MALFORMED-CSV');
    expect(await rowCounts(hub.db)).toEqual(before);
  });

  it('a CSV row with a bad value is rejected per row with its rule code', async () => {
    const r = await bulk(
      csv(header.slice(0, 7), [
        ['Good', 'BESS', '5', 'CONNECTED', '2025-01-01', 'SPEN_SPM', mpanFor(2_000_040)],
        ['Bad', 'BESS', 'lots', 'CONNECTED', '2025-01-01', 'SPEN_SPM', mpanFor(2_000_041)],
      ]),
      { contentType: 'text/csv' },
    );
    expectProblem(r, 422, 'BULK-ROWS-INVALID');
    // The header is line 1: the bad row is the file's line 3.
    expect(r.json.results.map((x: any) => [x.row, x.errors.map((e: any) => e.code)])).toEqual([[3, ['ASSET-CAPACITY-RATED']]]);
  });
});

describe('CSV export loads back through bulk', () => {
  it('export → de-register → import gives the same described fields', async () => {
    // A varied set, in its own category and DNO so that the export filter selects exactly it.
    const inputs = [
      {
        name: 'Round trip EV (1)',
        category: 'EV_CHARGER',
        ratedCapacityKw: 7.4,
        demandCapacityKw: 7.4,
        connectionStatus: 'CONNECTED',
        commissioningDate: '2024-05-01',
        effectiveDate: '2024-06-01',
        connectionType: 'FIRM',
        dno: 'NGED_WALES',
        importMpan: mpanFor(3_000_001, '21'),
        serialNumber: 'RT-EV-1',
        manufacturer: 'Volt, "Amp" & Sons',
        model: 'Line1\nLine2',
        // A consent token on registration; the export shows its ID, which names it again on re-registration (src/assets/consent.ts).
        consentReference: (await consentFor(hub, mpanFor(3_000_001, '21'), DEMO['fsp-a'])).token,
        location: { postcode: 'CF10 1AA', gspGroup: '_K', latitude: 51.48, longitude: -3.18 },
        aliases: [
          { scheme: 'evse', value: 'GB*RTP*E00001*1' },
          { scheme: 'mcs', value: 'MCS-RT-1' },
          { scheme: 'fsp_ref', value: 'rt:1' },
        ],
      },
      {
        name: 'Round trip EV 2',
        category: 'EV_CHARGER',
        ratedCapacityKw: 22,
        connectionStatus: 'PENDING',
        dno: 'NGED_WALES',
        importMpan: mpanFor(3_000_002, '21'),
      },
      {
        name: 'Round trip EV 3',
        category: 'EV_CHARGER',
        ratedCapacityKw: 0.01,
        demandCapacityKw: 0,
        connectionStatus: 'DISCONNECTED',
        dno: 'NGED_WALES',
        importMpan: mpanFor(3_000_003, '21'),
        serialNumber: 'RT-EV-3',
        location: { postcode: 'SA1 1AA', latitude: 1e-7, longitude: -5e-7 },
      },
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

    // While the originals are live a straight re-import is a resumed one: every row is already
    // registered (by its natural key or, for the second with no serial number, by its id); nothing is written.
    const before = await rowCounts(hub.db);
    const again = await bulk(exp.text, { contentType: 'text/csv' });
    expect(again.status).toBe(200);
    expect(again.json.results.map((x: any) => [x.row, x.status, x.id])).toEqual([
      [2, 'existing', ids[0]],
      [4, 'existing', ids[1]],
      [5, 'existing', ids[2]],
    ]); // the first row's model holds a newline: rows 2–3
    expect(await rowCounts(hub.db)).toEqual(before);

    // De-registering archives them (natural keys and aliases are freed; IDs are never reused).
    for (const id of ids) expect((await hub.call('DELETE', `/api/v1/assets/${id}`, { as: 'fsp-a' })).status).toBe(200);
    const back = await bulk(exp.text, { contentType: 'text/csv' });
    expect(back.status).toBe(201);
    const newIds: string[] = back.json.results.map((x: any) => x.id);
    expect(newIds.filter((id) => ids.includes(id))).toEqual([]);
    const reloaded = await Promise.all(newIds.map(async (id) => (await hub.call('GET', `/api/v1/assets/${id}`, { as: 'fsp-a' })).json));
    // The export is ordered by ID, as the originals were issued.
    expect(reloaded.map(described)).toEqual(originals.map(described));
    expect(reloaded.map((a) => [a.organisationId, a.fspId, a.status, a.version])).toEqual(
      originals.map((a) => [a.organisationId, a.fspId, 'PENDING_VALIDATION', 1]),
    );
  });

  it('de-registration releases a friendly code: a round trip of coded assets registers them again', async () => {
    const reg = await bulk(
      ndjson([batteryInput(3_100, { friendlyCode: 'RT-CODE-1', dno: 'SSEN_SHEPD', importMpan: mpanFor(3_100, '17') })]),
    );
    expect(reg.status).toBe(201);
    const id = reg.json.results[0].id;
    const exp = await hub.call('GET', '/api/v1/assets/export?format=csv&dno=SSEN_SHEPD', { as: 'fsp-a' });
    // While the asset is live its code is taken by it: the unchanged row is the asset, another one clashes.
    const same = await bulk(exp.text, { contentType: 'text/csv' });
    expect(same.json.results.map((x: any) => [x.status, x.id])).toEqual([['existing', id]]);
    const clash = await bulk(exp.text.replace('Battery 3100', 'Battery 3100 renamed'), { contentType: 'text/csv' });
    expectProblem(clash, 422, 'BULK-ROWS-INVALID');
    expect(clash.json.results[0].errors.map((e: any) => e.code).sort()).toEqual(['ASSET-DUPLICATE', 'ASSET-FRIENDLY-CODE-TAKEN']);
    expect((await hub.call('DELETE', `/api/v1/assets/${id}`, { as: 'fsp-a' })).status).toBe(200);
    const back = await bulk(exp.text, { contentType: 'text/csv' });
    expect(back.status).toBe(201);
    const again = await hub.call('GET', `/api/v1/assets/${back.json.results[0].id}`, { as: 'fsp-a' });
    expect(again.json.friendlyCode).toBe('RT-CODE-1');
    expect(again.json.id).not.toBe(id);
    // The archived asset keeps its code in its record and still resolves.
    expect((await hub.call('GET', `/api/v1/assets/${id}`, { as: 'fsp-a' })).json).toMatchObject({
      friendlyCode: 'RT-CODE-1',
      status: 'DEREGISTERED',
    });
  });
});

describe('bulk import a data manager can live with', () => {
  it('onError=skip: the valid rows land, the invalid ones are listed by line with their rule codes', async () => {
    const rows: any[] = Array.from({ length: 6 }, (_, i) => batteryInput(4_000 + i));
    rows[1] = { ...rows[1], ratedCapacityKw: -1 };
    rows[4] = { ...rows[4], category: 'NUCLEAR' };
    const before = await rowCounts(hub.db);
    const r = await bulk(ndjson(rows), { query: '?onError=skip' });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({
      onError: 'skip',
      total: 6,
      registered: 4,
      existing: 0,
      rejected: 2,
      byRule: { 'ASSET-CAPACITY-RATED': 1, 'ASSET-CATEGORY-UNKNOWN': 1 },
    });
    expect(r.json.results.map((x: any) => [x.row, x.status])).toEqual([
      [1, 'registered'],
      [2, 'rejected'],
      [3, 'registered'],
      [4, 'registered'],
      [5, 'rejected'],
      [6, 'registered'],
    ]);
    const after = await rowCounts(hub.db);
    expect(after.asset - before.asset).toBe(4);
    expect(after.audit_log - before.audit_log).toBe(4);
    expect(after.event_outbox - before.event_outbox).toBe(4);
    // The default stays all-or-nothing: the same body with the fixed rows replaced by bad ones writes nothing.
    const stop = await bulk(ndjson([batteryInput(4_010), { ...batteryInput(4_011), ratedCapacityKw: -1 }]));
    expectProblem(stop, 422, 'BULK-ROWS-INVALID');
    expect(await rowCounts(hub.db)).toEqual(after);
  });

  it('onError=skip: a line that is not JSON is one rejected row; every row rejected writes nothing and answers 200', async () => {
    const text = [JSON.stringify(batteryInput(4_100)), '{"name": "broken",', JSON.stringify(batteryInput(4_101))].join('\n');
    const r = await bulk(text, { query: '?onError=skip' });
    expect(r.status).toBe(201);
    expect(r.json.results.map((x: any) => [x.row, x.status, x.errors?.[0].code])).toEqual([
      [1, 'registered', undefined],
      [2, 'rejected', 'REQUEST-MALFORMED-JSON'],
      [3, 'registered', undefined],
    ]);
    const before = await rowCounts(hub.db);
    const none = await bulk(ndjson([{ ...batteryInput(4_102), ratedCapacityKw: 0 }]), { query: '?onError=skip' });
    expect(none.status).toBe(200);
    expect(none.json).toMatchObject({ registered: 0, rejected: 1 });
    expect(await rowCounts(hub.db)).toEqual(before);
    expectProblem(await bulk(ndjson([batteryInput(4_103)]), { query: '?onError=maybe' }), 400, 'REQUEST-QUERY-INVALID');
  });

  it('a re-run after a partial import counts the registered rows as existing (with their IDs) and registers the rest', async () => {
    const rows = Array.from({ length: 5 }, (_, i) =>
      batteryInput(4_200 + i, { aliases: [{ scheme: 'fsp_ref', value: `resume-${i}` }], friendlyCode: `RESUME-${i}` }),
    );
    const first = await bulk(ndjson(rows.slice(0, 3)));
    expect(first.status).toBe(201);
    const before = await rowCounts(hub.db);
    const again = await bulk(ndjson(rows));
    expect(again.status).toBe(201);
    expect(again.json).toMatchObject({ registered: 2, existing: 3, rejected: 0 });
    expect(again.json.results.slice(0, 3).map((x: any) => [x.status, x.id])).toEqual(
      first.json.results.map((x: any) => ['existing', x.id]),
    );
    const after = await rowCounts(hub.db);
    expect(after.asset - before.asset).toBe(2);
    expect(after.audit_log - before.audit_log).toBe(2);
    // All done: a third run writes nothing and answers 200.
    const third = await bulk(ndjson(rows));
    expect(third.status).toBe(200);
    expect(third.json).toMatchObject({ registered: 0, existing: 5 });
    expect(await rowCounts(hub.db)).toEqual(after);
  });

  it('two concurrent runs of one import: each asset registered once, the other run counts it as existing', async () => {
    // Truly concurrent on PostgreSQL (the later transaction waits on the natural key, then checks again); serial on PGlite.
    const rows = Array.from({ length: 30 }, (_, i) => batteryInput(8_000 + i));
    const before = await rowCounts(hub.db);
    const [a, b] = await Promise.all([bulk(ndjson(rows)), bulk(ndjson(rows))]);
    const [won, lost] = a.status === 201 ? [a, b] : [b, a];
    expect([won.status, lost.status]).toEqual([201, 200]);
    expect(won.json).toMatchObject({ registered: 30, existing: 0 });
    expect(lost.json).toMatchObject({ registered: 0, existing: 30 });
    expect(lost.json.results.map((x: any) => x.id)).toEqual(won.json.results.map((x: any) => x.id));
    const after = await rowCounts(hub.db);
    expect(after.asset - before.asset).toBe(30);
    expect(after.audit_log - before.audit_log).toBe(30);
  });

  it('the same natural key with other content, or under another organisation, stays ASSET-DUPLICATE', async () => {
    const stored = await bulk(ndjson([batteryInput(4_300)]));
    const id = stored.json.results[0].id;
    const before = await rowCounts(hub.db);
    const changed = await bulk(ndjson([{ ...batteryInput(4_300), ratedCapacityKw: 6 }]));
    expectProblem(changed, 422, 'BULK-ROWS-INVALID');
    expect(changed.json.results.map((x: any) => [x.row, x.existingAssetId, x.errors.map((e: any) => e.code)])).toEqual([
      [1, id, ['ASSET-DUPLICATE']],
    ]);
    const other = await bulk(ndjson([batteryInput(4_300)]), { as: 'fsp-b' });
    expectProblem(other, 422, 'BULK-ROWS-INVALID');
    expect(other.json.results[0].errors.map((e: any) => e.code)).toContain('ASSET-DUPLICATE');
    expect(await rowCounts(hub.db)).toEqual(before);
  });

  it('a rejected row names the other row of an in-file duplicate by its line; a CSV header is line 1', async () => {
    const header = ['name', 'category', 'ratedCapacityKw', 'connectionStatus', 'commissioningDate', 'dno', 'importMpan', 'serialNumber'];
    const row = (n: number) => [`Dup ${n}`, 'BESS', '5', 'CONNECTED', '2025-01-01', 'SPEN_SPM', mpanFor(4_400), 'SN-DUP-4400'];
    const r = await bulk(
      csv(header, [['Other', 'BESS', '5', 'CONNECTED', '2025-01-01', 'SPEN_SPM', mpanFor(4_401), 'SN-4401'], row(1), row(2)]),
      { contentType: 'text/csv', query: '?dryRun=true' },
    );
    expectProblem(r, 422, 'BULK-ROWS-INVALID');
    expect(r.json.results.map((x: any) => [x.row, x.errors[0].code, x.errors[0].detail])).toEqual([
      [4, 'BULK-DUPLICATE-IN-BATCH', 'Same importMpan as row 3.'],
    ]);
  });
});

describe('an NDJSON export imports back unchanged', () => {
  const inputs = [
    batteryInput(4_500, {
      dno: 'ENWL',
      importMpan: mpanFor(4_500, '16'),
      friendlyCode: 'NDJ-1',
      location: { postcode: 'M1 1AA', latitude: 53.48, longitude: -2.24 },
      aliases: [{ scheme: 'fsp_ref', value: 'ndj-1' }],
    }),
    { name: 'No serial', category: 'BESS', ratedCapacityKw: 3, connectionStatus: 'PENDING', dno: 'ENWL', importMpan: mpanFor(4_501, '16') },
    batteryInput(4_502, { dno: 'ENWL', importMpan: mpanFor(4_502, '16'), manufacturer: 'Acme', model: 'M-2' }),
  ];

  it('into the same hub it is a resume: every row is existing, with its ID, and nothing is written', async () => {
    const reg = await bulk(ndjson(inputs));
    expect(reg.status).toBe(201);
    const exp = await hub.call('GET', '/api/v1/assets/export?dno=ENWL', { as: 'fsp-a' });
    const lines = exp.text.trim().split('\n');
    expect(lines).toHaveLength(3);
    // The export holds read-only fields and nulls for absent ones.
    expect(JSON.parse(lines[1])).toMatchObject({
      id: expect.any(String),
      status: 'PENDING_VALIDATION',
      version: 1,
      serialNumber: null,
      commissioningDate: null,
      deregisteredAt: null,
    });
    const before = await rowCounts(hub.db);
    const back = await bulk(exp.text);
    expect(back.status).toBe(200);
    expect(back.json.results.map((x: any) => [x.row, x.status, x.id])).toEqual(lines.map((l, i) => [i + 1, 'existing', JSON.parse(l).id]));
    expect(await rowCounts(hub.db)).toEqual(before);
  });

  it('into an empty hub it registers every row with the same described fields', async () => {
    const exp = await hub.call('GET', '/api/v1/assets/export?dno=ENWL', { as: 'fsp-a' });
    const originals = exp.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const fresh = await testHub();
    try {
      const r = await fresh.call('POST', '/api/v1/assets/bulk', { as: 'fsp-a', text: exp.text, contentType: 'application/x-ndjson' });
      expect(r.status).toBe(201);
      expect(r.json).toMatchObject({ registered: 3, existing: 0, rejected: 0 });
      const reloaded = await Promise.all(
        r.json.results.map(async (x: any) => (await fresh.call('GET', `/api/v1/assets/${x.id}`, { as: 'fsp-a' })).json),
      );
      expect(reloaded.map(described)).toEqual(originals.map(described));
      // A second run of the old hub's export into that hub: the rows with a natural key are existing,
      // but the row with no serial number has no natural key and the old hub's ID is unknown here: it
      // would be a second battery of the organisation on that MPAN that nothing tells apart, so it
      // needs a justification (ASSET-MPAN-SAME-CATEGORY) and the batch is refused.
      const again = await fresh.call('POST', '/api/v1/assets/bulk', { as: 'fsp-a', text: exp.text, contentType: 'application/x-ndjson' });
      expectProblem(again, 422, 'BULK-ROWS-INVALID');
      expect(again.json.results.map((x: any) => [x.row, x.errors.map((e: any) => e.code)])).toEqual([[2, ['ASSET-MPAN-SAME-CATEGORY']]]);
    } finally {
      await fresh.close();
    }
  });

  it('read-only fields are checked: a malformed one, or a de-registered asset, is a row error', async () => {
    const exp = await hub.call('GET', '/api/v1/assets/export?dno=ENWL', { as: 'fsp-a' });
    const [a, b, c] = exp.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const before = await rowCounts(hub.db);
    const r = await bulk(
      ndjson([
        { ...a, version: 'one' },
        { ...b, status: 'DEREGISTERED', deregisteredAt: '2026-01-01T00:00:00.000Z' },
        { ...c, id: 'not-an-id' },
      ]),
    );
    expectProblem(r, 422, 'BULK-ROWS-INVALID');
    expect(r.json.results.map((x: any) => [x.row, x.errors.map((e: any) => [e.field, e.code])])).toEqual([
      [1, [['version', 'REQUEST-FIELD-TYPE']]],
      [2, [['status', 'BULK-ROW-DEREGISTERED']]],
      [3, [['id', 'ASSET-ID-FORMAT']]],
    ]);
    // An ID of a live asset with other content (and no natural key to match) is a duplicate of that asset.
    const changed = await bulk(ndjson([{ ...b, ratedCapacityKw: 4 }]));
    expectProblem(changed, 422, 'BULK-ROWS-INVALID');
    expect(changed.json.results[0]).toMatchObject({
      row: 1,
      existingAssetId: b.id,
      errors: [expect.objectContaining({ field: 'id', code: 'ASSET-DUPLICATE' })],
    });
    expect(await rowCounts(hub.db)).toEqual(before);
  });
});

describe('a failed bulk request has a bounded body', () => {
  it('1,500 bad rows: the first 1,000 listed, counts per rule code, the full report for the submitting organisation only, for 7 days', async () => {
    const rows = Array.from({ length: 1_500 }, (_, i) => batteryInput(5_000 + i, { ratedCapacityKw: -1 }));
    const before = await rowCounts(hub.db, [...WRITE_TABLES, 'bulk_report']);
    const r = await bulk(ndjson(rows), { query: '?dryRun=true' });
    expectProblem(r, 422, 'BULK-ROWS-INVALID');
    expect(r.json).toMatchObject({ total: 1_500, rejected: 1_500, byRule: { 'ASSET-CAPACITY-RATED': 1_500 }, resultsTruncated: true });
    expect(r.json.results).toHaveLength(1_000);
    expect(r.json.results[999].row).toBe(1_000);
    expect(r.json.report).toMatch(/^\/api\/v1\/assets\/bulk\/reports\/[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(r.json.detail).toContain(r.json.report);
    // Only the report was written, in its own transaction.
    const after = await rowCounts(hub.db, [...WRITE_TABLES, 'bulk_report']);
    expect(after).toEqual({ ...before, bulk_report: before.bulk_report + 1 });

    const report = await hub.call('GET', r.json.report, { as: 'fsp-a' });
    expect(report.status).toBe(200);
    expect(report.json).toMatchObject({
      dryRun: true,
      onError: 'stop',
      status: 422,
      total: 1_500,
      rejected: 1_500,
      byRule: { 'ASSET-CAPACITY-RATED': 1_500 },
    });
    expect(report.json.results.map((x: any) => x.row)).toEqual(rows.map((_, i) => i + 1));
    expectProblem(await hub.call('GET', r.json.report, { as: 'fsp-b' }), 404, 'BULK-REPORT-NOT-FOUND');
    expectProblem(await hub.call('GET', r.json.report, { as: 'operator' }), 404, 'BULK-REPORT-NOT-FOUND');
    expectProblem(await hub.call('GET', r.json.report, { as: 'dno' }), 403, 'AUTH-SCOPE-MISSING');
    hub.clock.advance(7 * 24 * 3600 * 1000);
    expectProblem(await hub.call('GET', r.json.report, { as: 'fsp-a' }), 404, 'BULK-REPORT-NOT-FOUND');
  });

  it('at most 1,000 rejected rows listed with onError=skip too; the registered rows are all listed', async () => {
    const rows = Array.from({ length: 1_010 }, (_, i) => batteryInput(20_000 + i, i < 1_005 ? { ratedCapacityKw: -1 } : {}));
    const r = await bulk(ndjson(rows), { query: '?onError=skip' });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ registered: 5, rejected: 1_005, resultsTruncated: true });
    expect(r.json.results.filter((x: any) => x.status === 'rejected')).toHaveLength(1_000);
    expect(r.json.results.filter((x: any) => x.status === 'registered').map((x: any) => x.row)).toEqual([
      1_006, 1_007, 1_008, 1_009, 1_010,
    ]);
  });
});
