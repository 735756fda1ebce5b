import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSV_COLUMNS } from '../src/assets/csv';
import { DESCRIBED_FIELDS } from '../src/assets/schema';
import { RULES, isRuleCode } from '../src/rules';
import { WRITE_TABLES, mpanFor, rowCounts, testHub, type TestHub } from './harness';

/**
 * Garbage in, problems out: generated bodies, keys, values and content types against the write
 * endpoints. Whatever arrives, the hub answers 2xx (the input happened to be valid) or a 4xx
 * problem whose every code is a rule of src/rules.ts, never a 5xx, and a 4xx writes nothing.
 */

let hub: TestHub;
const tokens: Record<string, string> = {};
let assetId = '';
let assetVersion = 1;
const TABLES = [...WRITE_TABLES, 'record_history', 'organisation'];
let counts: Record<string, number>;
let n = 0;
const RUNS = Number(process.env.FMAR_PROPERTY_RUNS ?? 200);

beforeAll(async () => {
  hub = await testHub();
  for (const who of ['fsp-a', 'operator'] as const) tokens[who] = await hub.token(who);
  const r = await hub.call('POST', '/api/v1/assets', { as: 'fsp-a', body: solarInput(999_999) });
  expect(r.status).toBe(201);
  assetId = r.json.id;
  counts = await rowCounts(hub.db, TABLES);
});
afterAll(async () => {
  if (process.env.FMAR_PROPERTY_STATS)
    console.log(
      [...stats]
        .sort()
        .map(([k, v]) => `${String(v).padStart(5)} ${k}`)
        .join('\n'),
    );
  await hub?.close();
});
const stats = new Map<string, number>();

// ---------------------------------------------------------------------------------------------
// Sending and checking

type Body = string | Uint8Array | undefined;
interface Sent {
  method: string;
  path: string;
  contentType?: string;
  body: Body;
  headers?: Record<string, string>;
  as?: 'fsp-a' | 'operator';
}

async function send(s: Sent) {
  const headers: Record<string, string> = { authorization: `Bearer ${tokens[s.as ?? 'fsp-a']}`, ...(s.headers ?? {}) };
  if (s.contentType !== undefined) headers['content-type'] = s.contentType;
  const res = await hub.app.request(s.path, { method: s.method, headers, body: s.body as BodyInit | undefined });
  return { status: res.status, type: res.headers.get('content-type') ?? '', etag: res.headers.get('etag'), text: await res.text() };
}

/** Every rule code a problem carries: its own, per-field, per-row, warnings. */
function codesIn(v: unknown, out: string[] = []): string[] {
  if (Array.isArray(v)) {
    for (const x of v) codesIn(x, out);
    return out;
  }
  if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if ((k === 'code' || k === 'conflict') && typeof x === 'string') out.push(x);
      else if (k === 'errors' || k === 'results' || k === 'warnings') codesIn(x, out);
    }
  }
  return out;
}

/** Send, then check the answer and that a refusal wrote nothing. Returns the response. */
async function exchange(s: Sent) {
  const r = await send(s);
  if (process.env.FMAR_PROPERTY_STATS) {
    const k = `${s.method} ${s.path.split('?')[0].replace(/[0-9A-Z]{26}$/, '{id}')} ${r.status} ${r.status >= 400 ? JSON.parse(r.text).code : ''}`;
    stats.set(k, (stats.get(k) ?? 0) + 1);
  }
  const where = `${s.method} ${s.path} [${s.contentType}] → ${r.status} ${r.text.slice(0, 500)}`;
  expect(r.status, where).toBeLessThan(500);
  const after = await rowCounts(hub.db, TABLES);
  if (r.status >= 400) {
    expect(r.type, where).toBe('application/problem+json');
    const body = JSON.parse(r.text);
    expect(isRuleCode(body.code), where).toBe(true);
    expect(body.status, where).toBe(r.status);
    expect(RULES[body.code as keyof typeof RULES].status, where).toBe(r.status);
    const bad = codesIn(body).filter((c) => !isRuleCode(c));
    expect(bad, where).toEqual([]);
    expect(after, where).toEqual(counts);
  } else {
    expect(r.status, where).toBeGreaterThanOrEqual(200);
  }
  counts = after;
  return r;
}

// ---------------------------------------------------------------------------------------------
// Arbitraries

const nasty = fc.constantFrom(
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff\ud800',
  '💡',
  'é',
  '\u202e',
  '1e999',
  '-0',
  'NaN',
  'null',
  'true',
  '[]',
  '{}',
  "'; DROP TABLE asset; --",
  '$1',
  '%00',
  '\\',
  '"',
  ',',
  ';',
  '\r\n',
  'x'.repeat(300),
  '9'.repeat(40),
  '2025-02-30',
  '1312345678907',
  'GB*ABC*E12345*1',
);
/** Short strings of the characters that break things: NUL, lone surrogates, quotes, separators. */
const hostile = fc.string({
  unit: fc.constantFrom(
    '\u0000',
    '\ud800',
    '\udc00',
    '\udbff\udfff',
    'a',
    'Z',
    '0',
    ' ',
    '"',
    ',',
    ';',
    ':',
    '\n',
    '\r',
    '\\',
    '*',
    'é',
    '💡',
  ),
  minLength: 1,
  maxLength: 12,
});
const anyString = fc.oneof(
  { weight: 2, arbitrary: fc.string() },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: nasty },
  { weight: 2, arbitrary: fc.tuple(fc.string({ maxLength: 5 }), nasty, fc.string({ maxLength: 5 })).map((p) => p.join('')) },
  { weight: 2, arbitrary: hostile },
);
const anyNumber = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(0, -0, -1, 0.001, 1.005, 1e21, 9_999_999_999.99, 10_000_000_000, 1_000_000.01, Number.MAX_SAFE_INTEGER + 2),
);
const anyJson = fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' });
const anyValue = fc.oneof(
  { weight: 3, arbitrary: anyString },
  { weight: 2, arbitrary: anyJson },
  { weight: 1, arbitrary: anyNumber },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}) },
);
const anyKey = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', ...DESCRIBED_FIELDS),
);
const randomObject = fc.dictionary(anyKey, anyValue, { maxKeys: 8 });
const bytes = fc.uint8Array({ maxLength: 200 });
const contentType = (preferred: string[]) =>
  fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom(...preferred) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        'application/json',
        'application/merge-patch+json',
        'application/x-ndjson',
        'text/csv',
        'text/plain',
        'application/xml',
        'multipart/form-data',
        'application/json; charset=utf-16',
        'APPLICATION/JSON',
        '*/*',
      ),
    },
    { weight: 1, arbitrary: fc.stringMatching(/^[\x21-\x7e]{0,30}$/) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );

/** Nesting deep enough to overflow any recursive walk. */
const DEEP_ARRAY = '['.repeat(30_000) + ']'.repeat(30_000);
const DEEP_OBJECT = '{"a":'.repeat(30_000) + '1' + '}'.repeat(30_000);
const wellFormed = (s: string) => new TextDecoder().decode(new TextEncoder().encode(s));

const DELETE = Symbol('delete');
/** Replace with a value of the same JSON type as the one there (a string by a string, …), to get past type checks. */
const TYPED = Symbol('typed');
type Mutation = { path: string; value: unknown; str?: string; num?: number };
/** Set (or delete) a dotted path; `__proto__` and friends become own keys, as JSON.parse makes them. */
function mutate(base: Record<string, any>, m: Mutation): Record<string, any> {
  const copy = structuredClone(base);
  const keys = m.path.split('.');
  let o: any = copy;
  for (const k of keys.slice(0, -1)) {
    if (o[k] === null || typeof o[k] !== 'object')
      Object.defineProperty(o, k, { value: {}, enumerable: true, writable: true, configurable: true });
    o = o[k];
  }
  const last = keys[keys.length - 1];
  const value = m.value === TYPED ? (typeof o[last] === 'number' ? m.num : m.str) : m.value;
  if (value === DELETE) delete o[last];
  else Object.defineProperty(o, last, { value, enumerable: true, writable: true, configurable: true });
  return copy;
}
const mutation = (paths: string[]) =>
  fc.record({
    path: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...paths) }, { weight: 1, arbitrary: anyKey }),
    value: fc.oneof(
      { weight: 1, arbitrary: fc.constant<unknown>(DELETE) },
      { weight: 3, arbitrary: anyValue },
      { weight: 3, arbitrary: fc.constant<unknown>(TYPED) },
    ),
    str: anyString,
    num: anyNumber,
  });
/** Every dotted path of an object that holds a string. */
function stringPaths(o: unknown, at = ''): string[] {
  if (typeof o === 'string') return [at];
  if (o === null || typeof o !== 'object') return [];
  return Object.entries(o).flatMap(([k, v]) => stringPaths(v, at ? `${at}.${k}` : k));
}
/** One string field of a valid record set to hostile text. */
const hostileText = (paths: string[]) => fc.record({ path: fc.constantFrom(...paths), value: hostile });

function solarInput(i: number) {
  return {
    name: `Solar roof ${i}`,
    friendlyCode: `PV-${i}`,
    category: 'SOLAR_PV',
    ratedCapacityKw: 4,
    generationCapacityKw: 4,
    energySource: 'SOLAR',
    connectionStatus: 'CONNECTED',
    commissioningDate: '2025-01-01',
    effectiveDate: '2025-02-01',
    connectionType: 'FIRM',
    dno: 'SPEN_SPM',
    exportMpan: mpanFor(7_000_000 + i),
    serialNumber: `PV-${i}`,
    manufacturer: 'Sunny',
    model: 'S-4',
    location: { postcode: 'G1 1AA', gspGroup: '_N', latitude: 55.8, longitude: -4.2 },
    aliases: [
      { scheme: 'fsp_ref', value: `PV-${i}` },
      { scheme: 'mcs', value: `MCS-${i}` },
    ],
  };
}
const ASSET_PATHS = [
  ...DESCRIBED_FIELDS,
  'organisationId',
  'fspId',
  'justification',
  'importMpan',
  'location.postcode',
  'location.gspGroup',
  'location.latitude',
  'location.longitude',
  'location.extra',
  'aliases.0',
  'aliases.0.scheme',
  'aliases.0.value',
  'aliases.1.value',
  'aliases.5',
];

function orgInput(i: number) {
  return {
    legalName: `Property Org ${i} Ltd`,
    tradingName: `Prop ${i}`,
    organisationType: 'LTD',
    registrationNumber: String(20_000_000 + i),
    roles: ['FSP'],
    identifiers: [{ scheme: 'VAT', value: 'GB980780684' }],
    passport: {
      contacts: { primary: { firstName: 'Grace', lastName: 'Hopper', email: `g${i}@prop.example`, mobile: '+447700900123' } },
      registeredAddress: { lines: ['1 Flex Street'], town: 'London', postcode: 'EC1A 1BB', country: 'GB' },
      countryOfIncorporation: 'GB',
      website: 'https://prop.example',
      yearOfRegistration: 2001,
    },
  };
}
const ORG_PATHS = [
  'legalName',
  'tradingName',
  'organisationType',
  'organisationTypeDescription',
  'registrationNumber',
  'roles',
  'roles.0',
  'roles.1',
  'identifiers',
  'identifiers.0.scheme',
  'identifiers.0.value',
  'passport',
  'passport.contacts.primary.email',
  'passport.contacts.primary.mobile',
  'passport.contacts.secondary',
  'passport.registeredAddress.postcode',
  'passport.registeredAddress.country',
  'passport.registeredAddress.lines',
  'passport.countryOfIncorporation',
  'passport.website',
  'passport.yearOfRegistration',
  'dnoCodes',
  'status',
  'id',
];

/** A JSON body: arbitrary JSON, an object of random keys, a valid record with one field changed, raw text or bytes. */
function jsonBody(valid: () => Record<string, any>, paths: string[], texts = stringPaths(valid())): fc.Arbitrary<Body> {
  return fc.oneof(
    { weight: 2, arbitrary: anyJson.map((v) => JSON.stringify(v)) },
    { weight: 2, arbitrary: randomObject.map((v) => JSON.stringify(v)) },
    { weight: 5, arbitrary: mutation(paths).map((m) => JSON.stringify(mutate(valid(), m))) },
    {
      weight: 2,
      arbitrary: fc.array(mutation(paths), { minLength: 2, maxLength: 4 }).map((ms) => JSON.stringify(ms.reduce(mutate, valid()))),
    },
    { weight: 3, arbitrary: hostileText(texts).map((m) => JSON.stringify(mutate(valid(), m))) },
    { weight: 1, arbitrary: anyString },
    { weight: 1, arbitrary: bytes },
    { weight: 1, arbitrary: fc.constantFrom(undefined, DEEP_ARRAY, DEEP_OBJECT) },
  );
}

function csvCell(v: unknown): string {
  const s = v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
/** A row of the CSV layout from a registration object (location flattened, aliases joined). */
function csvCells(o: Record<string, any>, header: readonly string[]): string[] {
  return header
    .map((h) => {
      if (h === 'aliases')
        return Array.isArray(o.aliases) ? o.aliases.map((a: any) => `${a?.scheme}:${a?.value}`).join(';') : csvCell(o.aliases);
      if (h.startsWith('location.')) return o.location?.[h.slice(9)];
      return o[h];
    })
    .map(csvCell);
}
const INPUT_COLUMNS = CSV_COLUMNS.filter((c) => !['id', 'status', 'version', 'recordedAt', 'recordedBy', 'deregisteredAt'].includes(c));

// ---------------------------------------------------------------------------------------------

describe('generated garbage never causes a 5xx or a partial write', () => {
  it('POST /api/v1/assets', async () => {
    await fc.assert(
      fc.asyncProperty(
        jsonBody(() => solarInput(n++), ASSET_PATHS),
        contentType(['application/json']),
        async (body, type) => {
          await exchange({ method: 'POST', path: '/api/v1/assets', contentType: type, body });
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('PATCH /api/v1/assets/{id}', async () => {
    const id = fc.oneof(
      { weight: 8, arbitrary: fc.constant('') },
      { weight: 1, arbitrary: anyString },
      { weight: 1, arbitrary: fc.constant('01JD8X6N2Q7ZB4Y3W5V6T7S8R9') },
    );
    const ifMatch = fc.oneof(
      { weight: 8, arbitrary: fc.constant('') },
      { weight: 1, arbitrary: fc.stringMatching(/^[\x21-\x7e]{0,20}$/) },
      { weight: 1, arbitrary: fc.constant(undefined) },
    );
    const patchBody = fc.oneof(
      { weight: 3, arbitrary: jsonBody(() => ({}), ASSET_PATHS, stringPaths(solarInput(0))) },
      {
        weight: 2,
        arbitrary: fc
          .array(mutation(ASSET_PATHS), { maxLength: 3 })
          .map((ms) => JSON.stringify(ms.reduce((o, m) => mutate(o, m), {} as Record<string, any>))),
      },
    );
    await fc.assert(
      fc.asyncProperty(
        patchBody,
        contentType(['application/json', 'application/merge-patch+json']),
        id,
        ifMatch,
        async (body, type, otherId, match) => {
          const target = otherId === '' ? assetId : encodeURIComponent(wellFormed(otherId));
          const headers: Record<string, string> = match === undefined ? {} : { 'if-match': match === '' ? `"${assetVersion}"` : match };
          const r = await exchange({ method: 'PATCH', path: `/api/v1/assets/${target}`, contentType: type, body, headers });
          if (r.status === 200 && target === assetId) assetVersion = Number(r.etag!.replace(/"/g, ''));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('POST /api/v1/organisations', async () => {
    await fc.assert(
      fc.asyncProperty(
        jsonBody(() => orgInput(n++), ORG_PATHS),
        contentType(['application/json']),
        async (body, type) => {
          await exchange({ method: 'POST', path: '/api/v1/organisations', contentType: type, body, as: 'operator' });
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('POST /api/v1/assets/bulk (NDJSON)', async () => {
    const line = fc.oneof(
      { weight: 4, arbitrary: mutation(ASSET_PATHS).map((m) => JSON.stringify(mutate(solarInput(n++), m))) },
      { weight: 2, arbitrary: hostileText(stringPaths(solarInput(0))).map((m) => JSON.stringify(mutate(solarInput(n++), m))) },
      { weight: 2, arbitrary: fc.constant(null).map(() => JSON.stringify(solarInput(n++))) },
      { weight: 1, arbitrary: anyJson.map((v) => JSON.stringify(v)) },
      { weight: 1, arbitrary: randomObject.map((v) => JSON.stringify(v)) },
      { weight: 1, arbitrary: anyString },
      { weight: 1, arbitrary: fc.constantFrom(DEEP_ARRAY, DEEP_OBJECT) },
    );
    // Valid rows around one changed row: the batch reaches the database when that row passes.
    const oneChanged = fc
      .tuple(fc.nat(4), fc.nat(4), line)
      .map(([before, after, l]) =>
        [
          ...Array.from({ length: before }, () => JSON.stringify(solarInput(n++))),
          l,
          ...Array.from({ length: after }, () => JSON.stringify(solarInput(n++))),
        ].join('\n'),
      );
    const body = fc.oneof(
      { weight: 4, arbitrary: fc.tuple(fc.array(line, { maxLength: 6 }), fc.constantFrom('\n', '\r\n')).map(([ls, sep]) => ls.join(sep)) },
      { weight: 4, arbitrary: oneChanged },
      { weight: 1, arbitrary: bytes },
      { weight: 1, arbitrary: anyString },
    );
    await fc.assert(
      fc.asyncProperty(
        body,
        contentType(['application/x-ndjson', 'application/ndjson']),
        fc.constantFrom('', '', '', '?dryRun=true', '?dryRun=false', '?dryRun=maybe'),
        async (b, type, q) => {
          await exchange({ method: 'POST', path: `/api/v1/assets/bulk${q}`, contentType: type, body: b });
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('POST /api/v1/assets/bulk (CSV)', async () => {
    const header = fc
      .tuple(
        fc.shuffledSubarray([...INPUT_COLUMNS], { minLength: 1 }),
        fc.array(fc.oneof(fc.constantFrom(...CSV_COLUMNS), anyKey), { maxLength: 2 }),
      )
      .map(([h, extra]) => [...h, ...extra]);
    const validCsv = fc
      .tuple(fc.integer({ min: 1, max: 4 }), fc.option(fc.record({ row: fc.nat(3), col: fc.nat(40), value: fc.oneof(anyString, hostile) })))
      .map(([rows, edit]) => {
        const lines = Array.from({ length: rows }, () => csvCells(solarInput(n++), INPUT_COLUMNS));
        if (edit) lines[edit.row % rows][edit.col % INPUT_COLUMNS.length] = csvCell(edit.value);
        return [INPUT_COLUMNS.join(','), ...lines.map((l) => l.join(','))].join('\r\n') + '\r\n';
      });
    const randomCsv = fc
      .tuple(header, fc.array(fc.array(anyString.map(csvCell), { maxLength: 8 }), { maxLength: 4 }), fc.constantFrom('\n', '\r\n', '\r'))
      .map(([h, rows, sep]) => [h.map(csvCell).join(','), ...rows.map((r) => r.join(','))].join(sep));
    const body = fc.oneof(
      { weight: 4, arbitrary: validCsv },
      { weight: 4, arbitrary: randomCsv },
      { weight: 1, arbitrary: anyString.map((s) => '\ufeff' + s) },
      { weight: 1, arbitrary: bytes },
    );
    await fc.assert(
      fc.asyncProperty(
        body,
        contentType(['text/csv', 'text/csv; charset=utf-8']),
        fc.constantFrom('', '?dryRun=true'),
        async (b, type, q) => {
          await exchange({ method: 'POST', path: `/api/v1/assets/bulk${q}`, contentType: type, body: b });
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('GET lists, lookups and exports with random query strings', async () => {
    const param = fc.tuple(
      fc.constantFrom(
        'limit',
        'cursor',
        'identifier',
        'organisationId',
        'fspId',
        'dno',
        'category',
        'status',
        'format',
        'includeDeregistered',
        'asOf',
        'role',
      ),
      anyString,
    );
    const path = fc.constantFrom(
      '/api/v1/assets',
      '/api/v1/assets/export',
      '/api/v1/organisations',
      `/api/v1/assets/{id}`,
      '/api/v1/assets/{id}/history',
    );
    await fc.assert(
      fc.asyncProperty(path, fc.array(param, { maxLength: 3 }), async (p, params) => {
        const qs = params.map(([k, v]) => `${k}=${encodeURIComponent(wellFormed(v))}`).join('&');
        await exchange({ method: 'GET', path: `${p.replace('{id}', assetId)}?${qs}`, body: undefined });
      }),
      { numRuns: Math.ceil(RUNS / 2) },
    );
  });
});

describe('text the register cannot store (found by the properties above)', () => {
  const ok = (s: { status: number; type: string; text: string }) => ({ status: s.status, type: s.type, body: JSON.parse(s.text) });

  it('U+0000 or a lone surrogate in a JSON body is a 422 REQUEST-TEXT-INVALID naming the field', async () => {
    for (const [field, value] of [
      ['manufacturer', 'a\u0000b'],
      ['consentReference', '\ud800'],
      ['model', '\udc00x'],
    ] as const) {
      const r = ok(
        await exchange({
          method: 'POST',
          path: '/api/v1/assets',
          contentType: 'application/json',
          body: JSON.stringify({ ...solarInput(n++), [field]: value }),
        }),
      );
      expect(r.status).toBe(422);
      expect(r.body.code).toBe('REQUEST-TEXT-INVALID');
      expect(r.body.errors).toEqual([expect.objectContaining({ field, code: 'REQUEST-TEXT-INVALID' })]);
    }
    const key = ok(
      await exchange({
        method: 'POST',
        path: '/api/v1/assets',
        contentType: 'application/json',
        body: JSON.stringify({ ...solarInput(n++), location: { 'x\u0000': 1 } }),
      }),
    );
    expect(key.body.errors).toEqual([expect.objectContaining({ field: 'location', code: 'REQUEST-TEXT-INVALID' })]);
    const org = ok(
      await exchange({
        method: 'POST',
        path: '/api/v1/organisations',
        contentType: 'application/json',
        body: JSON.stringify({ ...orgInput(n++), legalName: 'Nul\u0000 Ltd' }),
        as: 'operator',
      }),
    );
    expect([org.status, org.body.code]).toEqual([422, 'REQUEST-TEXT-INVALID']);
    const patch = ok(
      await exchange({
        method: 'PATCH',
        path: `/api/v1/assets/${assetId}`,
        contentType: 'application/json',
        body: JSON.stringify({ manufacturer: '\u0000' }),
        headers: { 'if-match': `"${assetVersion}"` },
      }),
    );
    expect([patch.status, patch.body.code]).toEqual([422, 'REQUEST-TEXT-INVALID']);
  });

  it('in a bulk row (NDJSON escape or raw CSV byte) the row is rejected with REQUEST-TEXT-INVALID', async () => {
    const nd = ok(
      await exchange({
        method: 'POST',
        path: '/api/v1/assets/bulk',
        contentType: 'application/x-ndjson',
        body: [solarInput(n++), { ...solarInput(n++), model: 'M\u0000' }].map((x) => JSON.stringify(x)).join('\n'),
      }),
    );
    expect(nd.body.results.map((x: any) => [x.row, x.errors])).toEqual([
      [2, [expect.objectContaining({ field: 'model', code: 'REQUEST-TEXT-INVALID' })]],
    ]); // rows are body lines
    const csv = [INPUT_COLUMNS.join(','), csvCells({ ...solarInput(n++), manufacturer: 'Nul\u0000' }, INPUT_COLUMNS).join(',')].join(
      '\r\n',
    );
    const c = ok(await exchange({ method: 'POST', path: '/api/v1/assets/bulk', contentType: 'text/csv', body: csv }));
    expect(c.body.results[0].errors).toEqual([expect.objectContaining({ field: 'manufacturer', code: 'REQUEST-TEXT-INVALID' })]);
  });

  it('in a query, a path or a cursor it is a 400, not a database error', async () => {
    const q = ok(await exchange({ method: 'GET', path: '/api/v1/assets?organisationId=a%00', body: undefined }));
    expect([q.status, q.body.code, q.body.errors[0].code, q.body.errors[0].field]).toEqual([
      400,
      'REQUEST-QUERY-INVALID',
      'REQUEST-TEXT-INVALID',
      'query.organisationId',
    ]);
    const p = ok(await exchange({ method: 'GET', path: '/api/v1/organisations/a%00', body: undefined }));
    expect([p.status, p.body.errors[0].code]).toEqual([400, 'REQUEST-TEXT-INVALID']);
    const cursor = btoa(JSON.stringify({ after: 'a\u0000' }));
    expect(
      ok(await exchange({ method: 'GET', path: `/api/v1/assets?cursor=${encodeURIComponent(cursor)}`, body: undefined })).body.code,
    ).toBe('REQUEST-CURSOR-INVALID');
  });

  it('a bodyless write with a non-JSON Content-Type is a 415 REQUEST-UNSUPPORTED-MEDIA-TYPE', async () => {
    const r = ok(await exchange({ method: 'POST', path: '/api/v1/assets', contentType: 'text/plain', body: undefined }));
    expect([r.status, r.body.code]).toEqual([415, 'REQUEST-UNSUPPORTED-MEDIA-TYPE']);
  });
});
