import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO, batteryInput, testHub, type TestHub } from './harness';
import type { Organisation } from '../src/organisations/schema';

/** UC-01.02 / UC-01.03 / UC-01.04: register, update and de-register organisations over the API. */

let hub: TestHub;
beforeAll(async () => {
  hub = await testHub();
});
afterAll(async () => {
  await hub?.close();
});

let n = 0;
/** A valid organisation registration body with a fresh Companies House number. */
function orgInput(extra: Record<string, unknown> = {}) {
  n++;
  return {
    legalName: `Test Organisation ${n} Ltd`,
    organisationType: 'LTD',
    registrationNumber: String(12_000_000 + n),
    roles: ['FSP'],
    ...extra,
  };
}

const passport = (extra: Record<string, unknown> = {}) => ({
  contacts: { primary: { firstName: 'Grace', lastName: 'Hopper', email: 'grace@example.org', mobile: '+447700900123' } },
  registeredAddress: { lines: ['2 Grid Road'], town: 'Leeds', postcode: 'LS1 4AP', country: 'GB' },
  countryOfIncorporation: 'GB',
  ...extra,
});

async function register(body: Record<string, unknown>) {
  const r = await hub.call('POST', '/api/v1/organisations', { as: 'operator', body });
  expect(r.status, JSON.stringify(r.json)).toBe(201);
  return r.json;
}

/** The field errors of a 422 problem, as `field code` strings. */
const fieldCodes = (json: any) => (json.errors ?? []).map((e: any) => `${e.field} ${e.code}`);

describe('register an organisation (UC-01.02)', () => {
  it('the operator registers one: 201 with Location, ETag, PENDING_APPROVAL by default, audited', async () => {
    const body = orgInput({ tradingName: 'Testy', passport: passport(), identifiers: [{ scheme: 'VAT', value: 'GB980780684' }] });
    const r = await hub.call('POST', '/api/v1/organisations', { as: 'operator', body });
    expect(r.status).toBe(201);
    expect(r.json.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(r.headers.get('location')).toBe(`/api/v1/organisations/${r.json.id}`);
    expect(r.headers.get('etag')).toBe('"1"');
    expect(r.json).toMatchObject({
      legalName: body.legalName,
      tradingName: 'Testy',
      registrationNumber: body.registrationNumber,
      roles: ['FSP'],
      status: 'PENDING_APPROVAL',
      version: 1,
      deregisteredAt: null,
    });
    expect(r.json.recordedBy).toBe('test-operator');
    expect(r.json.passport.contacts.primary.email).toBe('grace@example.org');

    const read = await hub.call('GET', `/api/v1/organisations/${r.json.id}`, { as: 'operator' });
    expect(read.status).toBe(200);
    expect(read.headers.get('etag')).toBe('"1"');
    expect(read.json).toEqual(r.json);

    const audit = await hub.call('GET', `/api/v1/audit?recordType=organisation&recordId=${r.json.id}`, { as: 'operator' });
    expect(audit.json.items.map((a: any) => a.action)).toEqual(['organisation.registered', 'organisation.passport-read']); // the operator's read of its passport is itself logged (UC-05.06)
  });

  it('stores a lower-case Companies House number upper-cased', async () => {
    const org = await register(orgInput({ registrationNumber: 'sc654321' }));
    expect(org.registrationNumber).toBe('SC654321');
  });

  it('an FSP may not register organisations: 403 AUTH-ROLE-FORBIDDEN, nothing written', async () => {
    const before = await hub.db.query(`SELECT count(*)::int AS n FROM organisation`);
    const r = await hub.call('POST', '/api/v1/organisations', { as: 'fsp-a', body: orgInput() });
    expect(r.status).toBe(403);
    expect(r.json.code).toBe('AUTH-ROLE-FORBIDDEN');
    const after = await hub.db.query(`SELECT count(*)::int AS n FROM organisation`);
    expect(after[0].n).toBe(before[0].n);
  });

  it('a token without organisations:write gets 403 AUTH-SCOPE-MISSING', async () => {
    const t = await hub.token({ org: DEMO.operator, roles: ['MARKET_FACILITATOR'], scope: 'organisations:read' });
    const r = await hub.call('POST', '/api/v1/organisations', { as: t, body: orgInput() });
    expect(r.status).toBe(403);
    expect(r.json.code).toBe('AUTH-SCOPE-MISSING');
    expect(r.json.requiredScope).toBe('organisations:write');
  });

  it('a registration number already registered: 409 ORG-DUPLICATE naming the existing organisation (any case)', async () => {
    const r = await hub.call('POST', '/api/v1/organisations', { as: 'operator', body: orgInput({ registrationNumber: '09000002' }) });
    expect(r.status).toBe(409);
    expect(r.json.code).toBe('ORG-DUPLICATE');
    expect(r.json.existing.id).toBe(DEMO['fsp-a']);

    const first = await register(orgInput({ registrationNumber: 'OC301234', organisationType: 'LLP' }));
    const again = await hub.call('POST', '/api/v1/organisations', {
      as: 'operator',
      body: orgInput({ registrationNumber: 'oc301234', organisationType: 'LLP' }),
    });
    expect(again.status).toBe(409);
    expect(again.json.code).toBe('ORG-DUPLICATE');
    expect(again.json.existing).toEqual({ id: first.id, legalName: first.legalName });
  });

  it('two concurrent registrations of one number: one 201, one 409 ORG-DUPLICATE', async () => {
    const regNo = '13999999';
    const [a, b] = await Promise.all(
      [0, 1].map(() => hub.call('POST', '/api/v1/organisations', { as: 'operator', body: orgInput({ registrationNumber: regNo }) })),
    );
    expect([a.status, b.status].sort()).toEqual([201, 409]);
    const loser = a.status === 409 ? a : b;
    const winner = a.status === 201 ? a : b;
    expect(loser.json.code).toBe('ORG-DUPLICATE');
    expect(loser.json.existing.id).toBe(winner.json.id);
    const rows = await hub.db.query(`SELECT id FROM organisation WHERE registration_number = $1`, [regNo]);
    expect(rows.map((x) => x.id)).toEqual([winner.json.id]);
  });

  it.each([
    ['1234567', 'too short'],
    ['123456789', 'too long'],
    ['XX123456', 'unknown prefix'],
    ['SC12345A', 'letters in the number'],
  ])('a Ltd with registration number %s (%s): 422 ORG-REGISTRATION-NUMBER-FORMAT', async (regNo) => {
    const r = await hub.call('POST', '/api/v1/organisations', { as: 'operator', body: orgInput({ registrationNumber: regNo }) });
    expect(r.status).toBe(422);
    expect(r.json.code).toBe('REQUEST-VALIDATION');
    expect(fieldCodes(r.json)).toContain('registrationNumber ORG-REGISTRATION-NUMBER-FORMAT');
  });

  it('a registration number with spaces or symbols is refused for any type', async () => {
    const r = await hub.call('POST', '/api/v1/organisations', {
      as: 'operator',
      body: orgInput({ organisationType: 'PARTNERSHIP', registrationNumber: 'AB 12' }),
    });
    expect(r.status).toBe(422);
    expect(fieldCodes(r.json)).toContain('registrationNumber ORG-REGISTRATION-NUMBER-FORMAT');
  });

  it('a partnership or non-UK company need not have a Companies House number', async () => {
    const p = await register(orgInput({ organisationType: 'PARTNERSHIP', registrationNumber: 'P-42' }));
    expect(p.registrationNumber).toBe('P-42');
    const f = await register(
      orgInput({
        organisationType: 'NON_UK_COMPANY',
        registrationNumber: 'HRB12345',
        passport: passport({
          countryOfIncorporation: 'DE',
          registeredAddress: undefined,
          contacts: { primary: { firstName: 'A', lastName: 'B', email: 'a@b.example', mobile: '+4915123456789' } },
        }),
      }),
    );
    expect(f.organisationType).toBe('NON_UK_COMPANY');
  });

  it('type OTHER needs a description (ORG-TYPE-OTHER-DESCRIPTION); unknown type and role are refused', async () => {
    const other = await hub.call('POST', '/api/v1/organisations', {
      as: 'operator',
      body: orgInput({ organisationType: 'OTHER', registrationNumber: 'X1' }),
    });
    expect(other.status).toBe(422);
    expect(fieldCodes(other.json)).toContain('organisationTypeDescription ORG-TYPE-OTHER-DESCRIPTION');
    const type = await hub.call('POST', '/api/v1/organisations', { as: 'operator', body: orgInput({ organisationType: 'GUILD' }) });
    expect(fieldCodes(type.json)).toContain('organisationType ORG-TYPE-UNKNOWN');
    const role = await hub.call('POST', '/api/v1/organisations', { as: 'operator', body: orgInput({ roles: ['FSP', 'WIZARD'] }) });
    expect(fieldCodes(role.json)).toContain('roles.1 ORG-ROLE-UNKNOWN');
    const none = await hub.call('POST', '/api/v1/organisations', { as: 'operator', body: orgInput({ roles: [] }) });
    expect(fieldCodes(none.json)).toContain('roles ORG-ROLES-EMPTY');
    const twice = await hub.call('POST', '/api/v1/organisations', { as: 'operator', body: orgInput({ roles: ['FSP', 'FSP'] }) });
    expect(fieldCodes(twice.json)).toContain('roles ORG-ROLES-EMPTY');
  });

  it('missing legal name and an unknown field are named', async () => {
    const { legalName: _l, ...body } = orgInput();
    const r = await hub.call('POST', '/api/v1/organisations', { as: 'operator', body: { ...body, colour: 'blue' } });
    expect(r.status).toBe(422);
    expect(fieldCodes(r.json)).toEqual(expect.arrayContaining(['legalName REQUEST-FIELD-REQUIRED', 'colour REQUEST-UNKNOWN-FIELD']));
    const empty = await hub.call('POST', '/api/v1/organisations', { as: 'operator', body: orgInput({ legalName: '' }) });
    expect(fieldCodes(empty.json)).toContain('legalName ORG-LEGAL-NAME');
  });

  describe('identifier check digits (ORG-IDENTIFIER-FORMAT)', () => {
    it('accepts valid VAT, EIC, GLN, LEI, MPID and Companies House identifiers', async () => {
      const identifiers = [
        { scheme: 'VAT', value: 'GB980780684' },
        { scheme: 'EIC', value: '10YGB----------A' },
        { scheme: 'GLN', value: '4006381333931' },
        { scheme: 'LEI', value: '213800WAVVOPS85N2205' },
        { scheme: 'MPID', value: 'ABCD' },
        { scheme: 'COMPANIES_HOUSE', value: 'SC123456' },
      ];
      const org = await register(orgInput({ identifiers }));
      expect(org.identifiers).toEqual(identifiers);
    });

    it.each([
      ['VAT', 'GB980780685'],
      ['VAT', 'FR12345678901'],
      ['EIC', '10YGB----------B'],
      ['GLN', '4006381333932'],
      ['GLN', '400638133393'],
      ['LEI', '213800WAVVOPS85N2206'],
      ['MPID', 'ABCDE'],
      ['COMPANIES_HOUSE', 'XX123456'],
    ])('refuses %s %s', async (scheme, value) => {
      const r = await hub.call('POST', '/api/v1/organisations', {
        as: 'operator',
        body: orgInput({
          identifiers: [
            { scheme: 'VAT', value: 'GB980780684' },
            { scheme, value },
          ],
        }),
      });
      expect(r.status).toBe(422);
      expect(fieldCodes(r.json)).toEqual(['identifiers.1.value ORG-IDENTIFIER-FORMAT']);
    });

    it('refuses an unknown identifier scheme (ORG-IDENTIFIER-SCHEME)', async () => {
      const r = await hub.call('POST', '/api/v1/organisations', {
        as: 'operator',
        body: orgInput({ identifiers: [{ scheme: 'DUNS', value: '123456789' }] }),
      });
      expect(r.status).toBe(422);
      expect(fieldCodes(r.json)).toContain('identifiers.0.scheme ORG-IDENTIFIER-SCHEME');
    });
  });

  describe('passport rules', () => {
    it('a UK organisation’s contact mobile starts with +44 (ORG-MOBILE-COUNTRY), for every contact', async () => {
      const contacts = {
        primary: { firstName: 'A', lastName: 'B', email: 'a@b.example', mobile: '+33612345678' },
        technical: { firstName: 'C', lastName: 'D', email: 'c@d.example', mobile: '+353851234567' },
      };
      const r = await hub.call('POST', '/api/v1/organisations', { as: 'operator', body: orgInput({ passport: passport({ contacts }) }) });
      expect(r.status).toBe(422);
      expect(fieldCodes(r.json)).toEqual(
        expect.arrayContaining([
          'passport.contacts.primary.mobile ORG-MOBILE-COUNTRY',
          'passport.contacts.technical.mobile ORG-MOBILE-COUNTRY',
        ]),
      );
      // Incorporated in GB with no address: still UK.
      const coi = await hub.call('POST', '/api/v1/organisations', {
        as: 'operator',
        body: orgInput({ passport: { contacts: { primary: contacts.primary }, countryOfIncorporation: 'GB' } }),
      });
      expect(fieldCodes(coi.json)).toContain('passport.contacts.primary.mobile ORG-MOBILE-COUNTRY');
    });

    it('a non-GB organisation’s mobile carries its own country’s calling code (ORG-MOBILE-COUNTRY), nothing written', async () => {
      const french = (mobile: string, where: Record<string, unknown> = { countryOfIncorporation: 'FR' }) =>
        orgInput({
          organisationType: 'NON_UK_COMPANY',
          registrationNumber: `FR-${++n}`,
          passport: { contacts: { primary: { firstName: 'A', lastName: 'B', email: 'a@b.example', mobile } }, ...where },
        });
      const count = async () => Number((await hub.db.query(`SELECT count(*)::int AS n FROM organisation`))[0].n);
      const before = await count();
      const uk = await hub.call('POST', '/api/v1/organisations', { as: 'operator', body: french('+447700900123') });
      expect(uk.status).toBe(422);
      expect(fieldCodes(uk.json)).toEqual(['passport.contacts.primary.mobile ORG-MOBILE-COUNTRY']);
      // The registered address names the country when both are given.
      const addr = await hub.call('POST', '/api/v1/organisations', {
        as: 'operator',
        body: french('+33612345678', {
          countryOfIncorporation: 'FR',
          registeredAddress: { lines: ['1 Rue'], town: 'Berlin', postcode: '10115', country: 'DE' },
        }),
      });
      expect(fieldCodes(addr.json)).toEqual(['passport.contacts.primary.mobile ORG-MOBILE-COUNTRY']);
      // A country with no known calling code vouches for no mobile.
      const unknown = await hub.call('POST', '/api/v1/organisations', {
        as: 'operator',
        body: french('+33612345678', { countryOfIncorporation: 'ZZ' }),
      });
      expect(fieldCodes(unknown.json)).toEqual(['passport.contacts.primary.mobile ORG-MOBILE-COUNTRY']);
      expect(await count()).toBe(before);
      expect(
        (
          await hub.call('POST', '/api/v1/organisations', {
            as: 'operator',
            body: french('+4915123456789', {
              registeredAddress: { lines: ['1 Strasse'], town: 'Berlin', postcode: '10115', country: 'DE' },
            }),
          })
        ).status,
      ).toBe(201);
    });

    it('a non-UK organisation may give a foreign mobile', async () => {
      const org = await register(
        orgInput({
          organisationType: 'NON_UK_COMPANY',
          registrationNumber: 'FR-552100554',
          passport: {
            contacts: { primary: { firstName: 'A', lastName: 'B', email: 'a@b.example', mobile: '+33612345678' } },
            countryOfIncorporation: 'FR',
          },
        }),
      );
      expect(org.passport.contacts.primary.mobile).toBe('+33612345678');
    });

    it.each([
      [
        { contacts: { primary: { firstName: 'A', lastName: 'B', email: 'a@b.example', mobile: '07700900123' } } },
        'passport.contacts.primary.mobile ORG-MOBILE-FORMAT',
      ],
      [
        { contacts: { primary: { firstName: 'A', lastName: 'B', email: 'not-an-email' } } },
        'passport.contacts.primary.email ORG-EMAIL-FORMAT',
      ],
      [
        {
          contacts: { primary: { firstName: 'A', lastName: 'B', email: 'a@b.example' } },
          registeredAddress: { lines: ['1 Road'], town: 'Town', postcode: 'NOT A PC', country: 'GB' },
        },
        'passport.registeredAddress.postcode ORG-POSTCODE-FORMAT',
      ],
      [
        { contacts: { primary: { firstName: 'A', lastName: 'B', email: 'a@b.example' } }, countryOfIncorporation: 'gb' },
        'passport.countryOfIncorporation ORG-COUNTRY-FORMAT',
      ],
      [
        { contacts: { primary: { firstName: 'A', lastName: 'B', email: 'a@b.example' } }, website: 'ftp://x.example' },
        'passport.website ORG-WEBSITE-FORMAT',
      ],
      [
        { contacts: { primary: { firstName: 'A', lastName: 'B', email: 'a@b.example' } }, yearOfRegistration: 1700 },
        'passport.yearOfRegistration ORG-YEAR-FORMAT',
      ],
    ])('refuses a bad passport field (%#)', async (p, expected) => {
      const r = await hub.call('POST', '/api/v1/organisations', { as: 'operator', body: orgInput({ passport: p }) });
      expect(r.status).toBe(422);
      expect(fieldCodes(r.json)).toContain(expected);
    });

    it('refuses an unknown DNO code (ORG-DNO-CODE-UNKNOWN) and status (ORG-STATUS-UNKNOWN)', async () => {
      const r = await hub.call('POST', '/api/v1/organisations', {
        as: 'operator',
        body: orgInput({ roles: ['DNO'], dnoCodes: ['SPEN_SPM', 'NOPE'], status: 'RETIRED' }),
      });
      expect(r.status).toBe(422);
      expect(fieldCodes(r.json)).toEqual(expect.arrayContaining(['dnoCodes.1 ORG-DNO-CODE-UNKNOWN', 'status ORG-STATUS-UNKNOWN']));
    });
  });

  it('Idempotency-Key replays the registration; reused with another body is refused', async () => {
    const body = orgInput();
    const headers = { 'idempotency-key': 'org-reg-1' };
    const first = await hub.call('POST', '/api/v1/organisations', { as: 'operator', body, headers });
    expect(first.status).toBe(201);
    const replay = await hub.call('POST', '/api/v1/organisations', { as: 'operator', body, headers });
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.json.id).toBe(first.json.id);
    expect(replay.headers.get('location')).toBe(first.headers.get('location'));
    const other = await hub.call('POST', '/api/v1/organisations', { as: 'operator', body: orgInput(), headers });
    expect(other.status).toBe(422);
    expect(other.json.code).toBe('REQUEST-IDEMPOTENCY-KEY-REUSED');
  });
});

describe('read organisations', () => {
  it('the passport is visible to the organisation itself and the operator, null to other organisations', async () => {
    const own = await hub.call('GET', `/api/v1/organisations/${DEMO['fsp-a']}`, { as: 'fsp-a' });
    expect(own.status).toBe(200);
    expect(own.json.passport.contacts.primary.firstName).toBe('Ada');
    const op = await hub.call('GET', `/api/v1/organisations/${DEMO['fsp-a']}`, { as: 'operator' });
    expect(op.json.passport.contacts.primary.firstName).toBe('Ada');
    const other = await hub.call('GET', `/api/v1/organisations/${DEMO['fsp-a']}`, { as: 'fsp-b' });
    expect(other.status).toBe(200);
    expect(other.json.legalName).toBe('Demo Flex Alpha Ltd');
    expect(other.json.passport).toBeNull();
    const dno = await hub.call('GET', `/api/v1/organisations/${DEMO['fsp-a']}`, { as: 'dno' });
    expect(dno.json.passport).toBeNull();

    const list = await hub.call('GET', '/api/v1/organisations?limit=1000', { as: 'fsp-b' });
    expect(list.status).toBe(200);
    const alpha = list.json.items.find((o: any) => o.id === DEMO['fsp-a']);
    expect(alpha.passport).toBeNull();
    expect(list.text).not.toContain('ada@alpha.example');
  });

  it('an unknown organisation is 404 ORG-NOT-FOUND', async () => {
    const r = await hub.call('GET', '/api/v1/organisations/01JDEM00000000000000000000', { as: 'fsp-a' });
    expect(r.status).toBe(404);
    expect(r.json.code).toBe('ORG-NOT-FOUND');
  });

  it('lists with keyset pagination and filters by role and status', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await hub.call('GET', `/api/v1/organisations?limit=3${cursor ? `&cursor=${cursor}` : ''}`, { as: 'operator' });
      expect(page.status).toBe(200);
      expect(page.json.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.json.items.map((o: any) => o.id));
      cursor = page.json.nextCursor;
    } while (cursor);
    const [{ count }] = await hub.db.query(`SELECT count(*)::int AS count FROM organisation`);
    expect(seen.length).toBe(count);
    expect(new Set(seen).size).toBe(count);
    expect([...seen].sort()).toEqual(seen);

    const dnos = await hub.call('GET', '/api/v1/organisations?role=DNO&status=ACTIVE', { as: 'operator' });
    expect(dnos.json.items.map((o: any) => o.id)).toEqual([DEMO.dno]);
    const bad = await hub.call('GET', '/api/v1/organisations?cursor=garbage!', { as: 'operator' });
    expect(bad.status).toBe(400);
    expect(bad.json.code).toBe('REQUEST-CURSOR-INVALID');
  });
});

describe('update an organisation (UC-01.03)', () => {
  it('needs If-Match: 428 without, 412 when stale, 200 with the new ETag and version + 1; the prior version is kept', async () => {
    const org = await register(orgInput({ passport: passport() }));
    const url = `/api/v1/organisations/${org.id}`;
    const none = await hub.call('PATCH', url, { as: 'operator', body: { tradingName: 'New Name' } });
    expect(none.status).toBe(428);
    expect(none.json.code).toBe('REQUEST-IF-MATCH-REQUIRED');
    const stale = await hub.call('PATCH', url, { as: 'operator', body: { tradingName: 'New Name' }, headers: { 'if-match': '"7"' } });
    expect(stale.status).toBe(412);
    expect(stale.json.code).toBe('REQUEST-PRECONDITION-FAILED');
    const junk = await hub.call('PATCH', url, { as: 'operator', body: { tradingName: 'New Name' }, headers: { 'if-match': 'banana' } });
    expect(junk.status).toBe(412);

    hub.clock.advance(1000);
    const ok = await hub.call('PATCH', url, {
      as: 'operator',
      body: { tradingName: 'New Name', status: 'ACTIVE' },
      headers: { 'if-match': '"1"' },
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('etag')).toBe('"2"');
    expect(ok.json).toMatchObject({ tradingName: 'New Name', status: 'ACTIVE', version: 2, legalName: org.legalName });
    expect(ok.json.passport).toEqual(org.passport);

    // The same If-Match again is now stale.
    const again = await hub.call('PATCH', url, { as: 'operator', body: { tradingName: 'Other' }, headers: { 'if-match': '"1"' } });
    expect(again.status).toBe(412);

    const hist = await hub.db.query<{ version: number; data: Organisation }>(
      `SELECT version, data FROM record_history WHERE record_type = 'organisation' AND record_id = $1 ORDER BY version`,
      [org.id],
    );
    expect(hist.map((h) => h.version)).toEqual([1]);
    expect(hist[0].data.tradingName).toBeNull();
    expect(hist[0].data.status).toBe('PENDING_APPROVAL');

    // Weak ETag form is accepted; null clears an optional field.
    const cleared = await hub.call('PATCH', url, { as: 'operator', body: { tradingName: null }, headers: { 'if-match': 'W/"2"' } });
    expect(cleared.status).toBe(200);
    expect(cleared.json.tradingName).toBeNull();
    expect(cleared.json.version).toBe(3);

    const audit = await hub.call('GET', `/api/v1/audit?recordType=organisation&recordId=${org.id}`, { as: 'operator' });
    expect(audit.json.items.map((a: any) => a.action)).toEqual(['organisation.registered', 'organisation.updated', 'organisation.updated']);
    expect(audit.json.items[1].detail.changed.sort()).toEqual(['status', 'tradingName']);
  });

  it('re-checks the merged record: a Ltd cannot take a non-Companies-House number, nor an existing number', async () => {
    const org = await register(orgInput({ organisationType: 'PARTNERSHIP', registrationNumber: 'PART-1' }));
    const url = `/api/v1/organisations/${org.id}`;
    const toLtd = await hub.call('PATCH', url, { as: 'operator', body: { organisationType: 'LTD' }, headers: { 'if-match': '"1"' } });
    expect(toLtd.status).toBe(422);
    expect(fieldCodes(toLtd.json)).toContain('registrationNumber ORG-REGISTRATION-NUMBER-FORMAT');
    const dup = await hub.call('PATCH', url, { as: 'operator', body: { registrationNumber: '09000003' }, headers: { 'if-match': '"1"' } });
    expect(dup.status).toBe(409);
    expect(dup.json.code).toBe('ORG-DUPLICATE');
    expect(dup.json.existing.id).toBe(DEMO['fsp-b']);
    const mobile = await hub.call('PATCH', url, {
      as: 'operator',
      body: {
        passport: passport({ contacts: { primary: { firstName: 'A', lastName: 'B', email: 'a@b.example', mobile: '+12025550123' } } }),
      },
      headers: { 'if-match': '"1"' },
    });
    expect(mobile.status).toBe(422);
    expect(fieldCodes(mobile.json)).toContain('passport.contacts.primary.mobile ORG-MOBILE-COUNTRY');
    const still = await hub.call('GET', url, { as: 'operator' });
    expect(still.json.version).toBe(1);
    expect(still.json.organisationType).toBe('PARTNERSHIP');
  });

  it('an FSP updates its own passport, but not its roles, status, DNO codes or registration number', async () => {
    const url = `/api/v1/organisations/${DEMO['fsp-b']}`;
    const cur = await hub.call('GET', url, { as: 'fsp-b' });
    const v = cur.json.version;
    const ok = await hub.call('PATCH', url, {
      as: 'fsp-b',
      body: { passport: passport(), tradingName: 'Beta Flex' },
      headers: { 'if-match': `"${v}"` },
    });
    expect(ok.status).toBe(200);
    expect(ok.json.passport.contacts.primary.lastName).toBe('Hopper');
    expect(ok.json.version).toBe(v + 1);
    expect(ok.json.recordedBy).toBe('test-fsp-b');

    for (const body of [
      { roles: ['FSP', 'MARKET_FACILITATOR'] },
      { status: 'ACTIVE' },
      { dnoCodes: ['SPEN_SPM'] },
      { registrationNumber: '12999999' },
      { organisationType: 'PLC' },
    ]) {
      const r = await hub.call('PATCH', url, { as: 'fsp-b', body, headers: { 'if-match': `"${v + 1}"` } });
      expect(r.status, JSON.stringify(body)).toBe(403);
      expect(r.json.code).toBe('AUTH-ROLE-FORBIDDEN');
    }
    const after = await hub.call('GET', url, { as: 'operator' });
    expect(after.json.roles).toEqual(['FSP']);
    expect(after.json.version).toBe(v + 1);
  });

  it('an FSP cannot update another organisation', async () => {
    const r = await hub.call('PATCH', `/api/v1/organisations/${DEMO['fsp-a']}`, {
      as: 'fsp-b',
      body: { tradingName: 'Hijacked' },
      headers: { 'if-match': '"1"' },
    });
    expect(r.status).toBe(403);
    expect(r.json.code).toBe('AUTH-ROLE-FORBIDDEN');
    const a = await hub.call('GET', `/api/v1/organisations/${DEMO['fsp-a']}`, { as: 'operator' });
    expect(a.json.tradingName).toBe('Alpha Flex');
  });

  it('PATCH of an unknown organisation is 404', async () => {
    const r = await hub.call('PATCH', '/api/v1/organisations/01JDEM00000000000000000000', {
      as: 'operator',
      body: { tradingName: 'X' },
      headers: { 'if-match': '"1"' },
    });
    expect(r.status).toBe(404);
    expect(r.json.code).toBe('ORG-NOT-FOUND');
  });
});

describe('de-register an organisation (UC-01.04)', () => {
  it('is refused while it controls active assets, allowed once they are de-registered; its tokens then stop working', async () => {
    const org = await register(orgInput({ status: 'ACTIVE', roles: ['FSP'] }));
    const token = await hub.token({ org: org.id, roles: ['FSP'], sub: 'x-user' });
    const asset = await hub.call('POST', '/api/v1/assets', { as: token, body: batteryInput(900) });
    expect(asset.status).toBe(201);
    expect(asset.json.organisationId).toBe(org.id);

    const refused = await hub.call('DELETE', `/api/v1/organisations/${org.id}`, { as: 'operator' });
    expect(refused.status).toBe(409);
    expect(refused.json.code).toBe('ORG-HAS-ACTIVE-ASSETS');
    expect(refused.json.activeAssets).toBe(1);
    expect((await hub.call('GET', `/api/v1/organisations/${org.id}`, { as: 'operator' })).json.status).toBe('ACTIVE');

    const gone = await hub.call('DELETE', `/api/v1/assets/${asset.json.id}`, { as: token });
    expect(gone.status).toBe(200);

    const ok = await hub.call('DELETE', `/api/v1/organisations/${org.id}?reason=${encodeURIComponent('left the market')}`, {
      as: 'operator',
    });
    expect(ok.status).toBe(200);
    expect(ok.json.status).toBe('WITHDRAWN');
    expect(ok.json.deregisteredAt).toBe(hub.clock.now().toISOString());
    expect(ok.json.version).toBe(2);
    const hist = await hub.db.query(`SELECT version FROM record_history WHERE record_type = 'organisation' AND record_id = $1`, [org.id]);
    expect(hist.map((h) => h.version)).toEqual([1]);
    const audit = await hub.call('GET', `/api/v1/audit?recordType=organisation&recordId=${org.id}`, { as: 'operator' });
    expect(audit.json.items.at(-1)).toMatchObject({ action: 'organisation.deregistered', detail: { reason: 'left the market' } });

    const twice = await hub.call('DELETE', `/api/v1/organisations/${org.id}`, { as: 'operator' });
    expect(twice.status).toBe(409);
    expect(twice.json.code).toBe('ORG-ALREADY-DEREGISTERED');
    const patch = await hub.call('PATCH', `/api/v1/organisations/${org.id}`, {
      as: 'operator',
      body: { tradingName: 'Back' },
      headers: { 'if-match': '"2"' },
    });
    expect(patch.status).toBe(409);
    expect(patch.json.code).toBe('ORG-ALREADY-DEREGISTERED');

    // The auth layer caches organisation facts for 15 s; past that the withdrawn org's tokens are refused.
    hub.clock.advance(20_000);
    const denied = await hub.call('GET', '/api/v1/assets', { as: token });
    expect(denied.status).toBe(403);
    expect(denied.json.code).toBe('AUTH-ORGANISATION-INACTIVE');
    const fresh = await hub.token({ org: org.id, roles: ['FSP'] });
    expect((await hub.call('GET', `/api/v1/organisations/${org.id}`, { as: fresh })).json.code).toBe('AUTH-ORGANISATION-INACTIVE');
  });

  it('is refused while it owns active assets controlled by another FSP', async () => {
    const owner = await register(orgInput({ status: 'ACTIVE', roles: ['ASSET_OWNER'] }));
    const asset = await hub.call('POST', '/api/v1/assets', {
      as: 'operator',
      body: { ...batteryInput(901), organisationId: owner.id, fspId: DEMO['fsp-a'] },
    });
    expect(asset.status).toBe(201);
    expect(asset.json.fspId).toBe(DEMO['fsp-a']);
    const refused = await hub.call('DELETE', `/api/v1/organisations/${owner.id}`, { as: 'operator' });
    expect(refused.status).toBe(409);
    expect(refused.json.code).toBe('ORG-HAS-ACTIVE-ASSETS');
  });

  it('a status change to WITHDRAWN by PATCH is held to the same active-asset rule, and records deregisteredAt', async () => {
    const org = await register(orgInput({ status: 'ACTIVE' }));
    const token = await hub.token({ org: org.id, roles: ['FSP'] });
    const asset = await hub.call('POST', '/api/v1/assets', { as: token, body: batteryInput(902) });
    expect(asset.status).toBe(201);
    const r = await hub.call('PATCH', `/api/v1/organisations/${org.id}`, {
      as: 'operator',
      body: { status: 'WITHDRAWN' },
      headers: { 'if-match': '"1"' },
    });
    expect(r.status).toBe(409);
    expect(r.json.code).toBe('ORG-HAS-ACTIVE-ASSETS');
    expect((await hub.call('GET', `/api/v1/organisations/${org.id}`, { as: 'operator' })).json.status).toBe('ACTIVE');

    expect((await hub.call('DELETE', `/api/v1/assets/${asset.json.id}`, { as: token })).status).toBe(200);
    const ok = await hub.call('PATCH', `/api/v1/organisations/${org.id}`, {
      as: 'operator',
      body: { status: 'WITHDRAWN' },
      headers: { 'if-match': '"1"' },
    });
    expect(ok.status).toBe(200);
    expect(ok.json.status).toBe('WITHDRAWN');
    expect(ok.json.deregisteredAt).toBe(hub.clock.now().toISOString());
  });

  it('a SUSPENDED organisation’s tokens are refused once the cache expires', async () => {
    const org = await register(orgInput({ status: 'ACTIVE' }));
    const token = await hub.token({ org: org.id, roles: ['FSP'] });
    expect((await hub.call('GET', '/api/v1/assets', { as: token })).status).toBe(200);
    const s = await hub.call('PATCH', `/api/v1/organisations/${org.id}`, {
      as: 'operator',
      body: { status: 'SUSPENDED' },
      headers: { 'if-match': '"1"' },
    });
    expect(s.status).toBe(200);
    hub.clock.advance(20_000);
    const denied = await hub.call('GET', '/api/v1/assets', { as: token });
    expect(denied.status).toBe(403);
    expect(denied.json.code).toBe('AUTH-ORGANISATION-INACTIVE');
  });

  it('only the operator de-registers, and not itself', async () => {
    const org = await register(orgInput());
    const fsp = await hub.call('DELETE', `/api/v1/organisations/${org.id}`, { as: 'fsp-a' });
    expect(fsp.status).toBe(403);
    expect(fsp.json.code).toBe('AUTH-ROLE-FORBIDDEN');
    const self = await hub.call('DELETE', `/api/v1/organisations/${DEMO.operator}`, { as: 'operator' });
    expect(self.status).toBe(403);
    expect(self.json.code).toBe('AUTH-ROLE-FORBIDDEN');
    const unknown = await hub.call('DELETE', '/api/v1/organisations/01JDEM00000000000000000000', { as: 'operator' });
    expect(unknown.status).toBe(404);
    expect(unknown.json.code).toBe('ORG-NOT-FOUND');
  });

  it('a pending organisation’s tokens are refused', async () => {
    const org = await register(orgInput());
    const token = await hub.token({ org: org.id, roles: ['FSP'] });
    const r = await hub.call('GET', '/api/v1/organisations', { as: token });
    expect(r.status).toBe(403);
    expect(r.json.code).toBe('AUTH-ORGANISATION-INACTIVE');
  });
});
