import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO, batteryInput, consentFor, expectRefused, invalid, mpanFor, testHub, type TestHub } from './harness';

/** UC-02.01 to UC-02.04: register, validate, update, de-register and read assets over the API. */

let hub: TestHub;
beforeAll(async () => {
  hub = await testHub();
});
afterAll(async () => {
  await hub?.close();
});

/** A number no other test of this file uses, for MPANs and serials. */
let counter = 0;
const next = () => ++counter;

const evInput = (n: number, extra: Record<string, unknown> = {}) => ({
  name: `Charger ${n}`,
  category: 'EV_CHARGER',
  ratedCapacityKw: 7.4,
  connectionStatus: 'CONNECTED',
  commissioningDate: '2025-01-01',
  dno: 'SPEN_SPM',
  importMpan: mpanFor(2_000_000 + n),
  serialNumber: `EV-${n}`,
  ...extra,
});
const solarInput = (n: number, extra: Record<string, unknown> = {}) => ({
  name: `Roof PV ${n}`,
  category: 'SOLAR_PV',
  ratedCapacityKw: 4,
  connectionStatus: 'CONNECTED',
  commissioningDate: '2025-01-01',
  dno: 'SPEN_SPM',
  exportMpan: mpanFor(3_000_000 + n),
  serialNumber: `PV-${n}`,
  ...extra,
});

async function post(as: string, body: unknown, headers: Record<string, string> = {}) {
  return hub.call('POST', '/api/v1/assets', { as, body, headers });
}
async function create(as: string, body: unknown) {
  const r = await post(as, body);
  expect(r.status, JSON.stringify(r.json)).toBe(201);
  return r.json;
}

/** A 422 whose errors name this field with this rule code. */
function expectFieldError(r: { status: number; json: any }, field: string, code: string) {
  expect(r.status, JSON.stringify(r.json)).toBe(422);
  expect(r.json.code).toBe('REQUEST-VALIDATION');
  expect(r.json.errors).toContainEqual(expect.objectContaining({ field, code }));
}

const TABLES = ['asset', 'asset_alias', 'asset_natural_key', 'record_history', 'asset_fsp_link', 'audit_log', 'event_outbox'];
async function counts() {
  const out: Record<string, number> = {};
  for (const t of TABLES) out[t] = Number((await hub.db.query(`SELECT count(*)::int AS n FROM ${t}`))[0].n);
  return out;
}

/** A fresh ACTIVE FSP organisation and a token for it. */
let orgNo = 0;
async function newFsp(roles: string[] = ['FSP']) {
  orgNo++;
  const r = await hub.call('POST', '/api/v1/organisations', {
    as: 'operator',
    body: {
      legalName: `Asset Test FSP ${orgNo} Ltd`,
      organisationType: 'LTD',
      registrationNumber: String(14_000_000 + orgNo),
      roles,
      status: 'ACTIVE',
    },
  });
  expect(r.status).toBe(201);
  return { id: r.json.id as string, token: await hub.token({ org: r.json.id, roles: roles as any }) };
}

describe('register an asset (UC-02.01)', () => {
  it('registers a battery: 201, Location, ETag, PENDING_VALIDATION, defaults applied, FSP link opened, audited', async () => {
    const location = { postcode: 'G2 1AA', gspGroup: '_N', latitude: 55.86, longitude: -4.25 };
    const base = batteryInput(next(), { manufacturer: 'Acme', model: 'B-10', location });
    const consent = await consentFor(hub, base.importMpan, DEMO['fsp-a']);
    const input = { ...base, consentReference: consent.token };
    const r = await post('fsp-a', input);
    expect(r.status).toBe(201);
    expect(r.headers.get('location')).toBe(`/api/v1/assets/${r.json.id}`);
    expect(r.headers.get('etag')).toBe('"1"');
    expect(r.json).toMatchObject({
      name: input.name,
      category: 'BESS',
      organisationId: DEMO['fsp-a'],
      fspId: DEMO['fsp-a'],
      status: 'PENDING_VALIDATION',
      ratedCapacityKw: 5,
      energySource: 'GRID',
      importMpan: input.importMpan,
      serialNumber: input.serialNumber,
      location,
      consentReference: consent.jti,
      version: 1,
      warnings: [],
      recordedBy: 'test-fsp-a',
      deregisteredAt: null,
    });
    const read = await hub.call('GET', `/api/v1/assets/${r.json.id}`, { as: 'fsp-a' });
    expect(read.status).toBe(200);
    const { warnings: _w, ...asset } = r.json;
    expect(read.json).toEqual(asset);
    const links = await hub.call('GET', `/api/v1/assets/${r.json.id}/fsp-links`, { as: 'fsp-a' });
    expect(links.json.items).toEqual([
      expect.objectContaining({ fspId: DEMO['fsp-a'], validFrom: hub.clock.now().toISOString(), validTo: null }),
    ]);
    const audit = await hub.call('GET', `/api/v1/audit?recordType=asset&recordId=${r.json.id}`, { as: 'operator' });
    expect(audit.json.items).toEqual([
      expect.objectContaining({
        action: 'asset.registered',
        organisationId: DEMO['fsp-a'],
        detail: expect.objectContaining({ version: 1, source: 'api' }),
      }),
    ]);
  });

  it('defaults the demand technology from the category, and the energy source of generating categories', async () => {
    const ev = await create('fsp-a', evInput(next()));
    expect(ev.demandTechnology).toBe('EV');
    const pv = await create('fsp-a', solarInput(next()));
    expect(pv.energySource).toBe('SOLAR');
    const hp = await create('fsp-a', { ...evInput(next()), category: 'HEAT_PUMP' });
    expect(hp.demandTechnology).toBe('HEAT_PUMP');
  });

  it('accepts exactly 1,000,000 kW without a justification, and 2-decimal capacities', async () => {
    const big = await create('fsp-a', batteryInput(next(), { ratedCapacityKw: 1_000_000, generationCapacityKw: 999_999.99 }));
    expect(big.ratedCapacityKw).toBe(1_000_000);
    expect(big.generationCapacityKw).toBe(999_999.99);
    expect(big.warnings).toEqual([]);
  });

  describe('field rules (schema)', () => {
    const cases: [string, Record<string, unknown>, string, string][] = [
      ['name with a forbidden character', { name: 'Battery #1' }, 'name', 'ASSET-NAME-FORMAT'],
      ['name too long', { name: 'x'.repeat(256) }, 'name', 'ASSET-NAME-FORMAT'],
      ['empty name', { name: '' }, 'name', 'ASSET-NAME-FORMAT'],
      ['friendly code with a space', { friendlyCode: 'BAD CODE' }, 'friendlyCode', 'ASSET-FRIENDLY-CODE-FORMAT'],
      ['unknown category', { category: 'NUCLEAR' }, 'category', 'ASSET-CATEGORY-UNKNOWN'],
      ['negative rated capacity', { ratedCapacityKw: -1 }, 'ratedCapacityKw', 'ASSET-CAPACITY-RATED'],
      ['rated capacity with 3 decimals', { ratedCapacityKw: 1.234 }, 'ratedCapacityKw', 'ASSET-CAPACITY-RATED'],
      ['rated capacity as a string', { ratedCapacityKw: '5' }, 'ratedCapacityKw', 'ASSET-CAPACITY-RATED'],
      ['generation capacity with 3 decimals', { generationCapacityKw: 1.005 }, 'generationCapacityKw', 'ASSET-CAPACITY-DECIMALS'],
      ['negative demand capacity', { demandCapacityKw: -2 }, 'demandCapacityKw', 'ASSET-CAPACITY-DECIMALS'],
      ['unknown energy source', { energySource: 'COAL' }, 'energySource', 'ASSET-ENERGY-SOURCE-UNKNOWN'],
      ['unknown demand technology', { demandTechnology: 'FURNACE' }, 'demandTechnology', 'ASSET-DEMAND-TECHNOLOGY-UNKNOWN'],
      ['manufacturer too long', { manufacturer: 'm'.repeat(256) }, 'manufacturer', 'ASSET-MANUFACTURER-FORMAT'],
      ['model too long', { model: 'm'.repeat(101) }, 'model', 'ASSET-MODEL-FORMAT'],
      ['serial too short', { serialNumber: 'AB' }, 'serialNumber', 'ASSET-SERIAL-FORMAT'],
      ['serial with spaces', { serialNumber: 'AB CD' }, 'serialNumber', 'ASSET-SERIAL-FORMAT'],
      ['impossible date', { commissioningDate: '2025-02-30' }, 'commissioningDate', 'ASSET-DATE-FORMAT'],
      ['date in another format', { effectiveDate: '01/02/2025' }, 'effectiveDate', 'ASSET-DATE-FORMAT'],
      ['inactive connection status', { connectionStatus: 'DE_ENERGISED' }, 'connectionStatus', 'ASSET-CONNECTION-STATUS-UNKNOWN'],
      ['inactive connection type', { connectionType: 'TIMED' }, 'connectionType', 'ASSET-CONNECTION-TYPE-UNKNOWN'],
      ['unknown DNO', { dno: 'SPEN_XYZ' }, 'dno', 'ASSET-DNO-UNKNOWN'],
      ['unknown GSP group', { location: { gspGroup: '_Z' } }, 'location.gspGroup', 'ASSET-GSP-GROUP-UNKNOWN'],
      ['latitude out of range', { location: { latitude: 95, longitude: 0 } }, 'location.latitude', 'ASSET-COORDINATES'],
      ['unknown alias scheme', { aliases: [{ scheme: 'imei', value: '123' }] }, 'aliases.0.scheme', 'ASSET-ALIAS-SCHEME-UNKNOWN'],
      ['short justification', { justification: 'because' }, 'justification', 'ASSET-JUSTIFICATION-FORMAT'],
      ['missing name', { name: undefined }, 'name', 'REQUEST-FIELD-REQUIRED'],
      ['missing connection status', { connectionStatus: undefined }, 'connectionStatus', 'REQUEST-FIELD-REQUIRED'],
      ['missing category', { category: undefined }, 'category', 'REQUEST-FIELD-REQUIRED'],
      ['missing rated capacity', { ratedCapacityKw: undefined }, 'ratedCapacityKw', 'REQUEST-FIELD-REQUIRED'],
      ['unknown field', { colour: 'red' }, 'colour', 'REQUEST-UNKNOWN-FIELD'],
      ['unknown nested field', { location: { postcode: 'G2 1AA', street: 'x' } }, 'location.street', 'REQUEST-UNKNOWN-FIELD'],
      ['consent reference as a number', { consentReference: 42 }, 'consentReference', 'REQUEST-FIELD-TYPE'],
      ['aliases as a string', { aliases: 'evse:GB*ABC*E1' }, 'aliases', 'REQUEST-FIELD-TYPE'],
    ];
    it.each(cases)('%s', async (_label, extra, field, code) => {
      const r = await post('fsp-a', batteryInput(next(), extra));
      expectFieldError(r, field, code);
    });

    it('names every invalid field in one response', async () => {
      const r = await post('fsp-a', batteryInput(next(), { name: 'Bad!', category: 'NUCLEAR', serialNumber: 'x', colour: 1 }));
      expect(r.status).toBe(422);
      expect(r.json.errors.map((e: any) => e.field).sort()).toEqual(['category', 'colour', 'name', 'serialNumber']);
    });
  });

  describe('category rules (src/assets/rules.ts), one per rule code', () => {
    it('ASSET-ENERGY-SOURCE-REQUIRED: a CHP (no default source) without an energy source', async () => {
      const r = await post('fsp-a', { ...solarInput(next()), category: 'CHP' });
      expectFieldError(r, 'energySource', 'ASSET-ENERGY-SOURCE-REQUIRED');
      const ok = await post('fsp-a', { ...solarInput(next()), category: 'CHP', energySource: 'NATURAL_GAS' });
      expect(ok.status).toBe(201);
    });

    it('ASSET-DEMAND-TECHNOLOGY-REQUIRED never fires over the API: every demand category has a default', async () => {
      const defaults = {
        EV_CHARGER: 'EV',
        HEAT_PUMP: 'HEAT_PUMP',
        ELECTRIC_BOILER: 'ELECTRIC_BOILER',
        HVAC: 'HVAC',
        REFRIGERATION: 'REFRIGERATION',
        INDUSTRIAL_LOAD: 'INDUSTRIAL_LOAD',
      };
      for (const [category, technology] of Object.entries(defaults)) {
        const a = await create('fsp-a', evInput(next(), { category }));
        expect(a.demandTechnology, category).toBe(technology);
      }
    });

    it('ASSET-CAPACITY-RATED: rated capacity 0', async () => {
      expectFieldError(await post('fsp-a', batteryInput(next(), { ratedCapacityKw: 0 })), 'ratedCapacityKw', 'ASSET-CAPACITY-RATED');
    });

    it('ASSET-CAPACITY-EXCEEDS-RATED: generation or demand capacity above rated', async () => {
      const r = await post('fsp-a', batteryInput(next(), { ratedCapacityKw: 5, generationCapacityKw: 5.01, demandCapacityKw: 6 }));
      expectFieldError(r, 'generationCapacityKw', 'ASSET-CAPACITY-EXCEEDS-RATED');
      expectFieldError(r, 'demandCapacityKw', 'ASSET-CAPACITY-EXCEEDS-RATED');
    });

    it('ASSET-COMMISSIONING-DATE-FUTURE: commissioned tomorrow', async () => {
      const tomorrow = new Date(hub.clock.now().getTime() + 86_400_000).toISOString().slice(0, 10);
      expectFieldError(
        await post('fsp-a', batteryInput(next(), { commissioningDate: tomorrow })),
        'commissioningDate',
        'ASSET-COMMISSIONING-DATE-FUTURE',
      );
      const today = hub.clock.now().toISOString().slice(0, 10);
      expect((await post('fsp-a', batteryInput(next(), { commissioningDate: today }))).status).toBe(201);
    });

    it('ASSET-COMMISSIONING-DATE-REQUIRED: CONNECTED without a commissioning date (PENDING is fine)', async () => {
      expectFieldError(
        await post('fsp-a', batteryInput(next(), { commissioningDate: undefined })),
        'commissioningDate',
        'ASSET-COMMISSIONING-DATE-REQUIRED',
      );
      expect((await post('fsp-a', batteryInput(next(), { commissioningDate: undefined, connectionStatus: 'PENDING' }))).status).toBe(201);
    });

    it('ASSET-EFFECTIVE-DATE-BEFORE-COMMISSIONING', async () => {
      expectFieldError(
        await post('fsp-a', batteryInput(next(), { effectiveDate: '2024-12-31' })),
        'effectiveDate',
        'ASSET-EFFECTIVE-DATE-BEFORE-COMMISSIONING',
      );
      expect((await post('fsp-a', batteryInput(next(), { effectiveDate: '2025-01-01' }))).status).toBe(201);
    });

    it('ASSET-MPAN-FORMAT: not 13 digits, on either MPAN', async () => {
      expectFieldError(await post('fsp-a', batteryInput(next(), { importMpan: '13123456789' })), 'importMpan', 'ASSET-MPAN-FORMAT');
      expectFieldError(await post('fsp-a', batteryInput(next(), { exportMpan: '13123456789O7' })), 'exportMpan', 'ASSET-MPAN-FORMAT');
      expectFieldError(await post('fsp-a', batteryInput(next(), { importMpan: 1312345678907 })), 'importMpan', 'ASSET-MPAN-FORMAT');
    });

    it('ASSET-MPAN-CHECKDIGIT: the error names the expected check digit', async () => {
      const good = mpanFor(1_000_000 + next());
      const expected = good.slice(-1);
      const bad = good.slice(0, 12) + String((Number(expected) + 1) % 10);
      const r = await post('fsp-a', batteryInput(next(), { importMpan: bad }));
      expectFieldError(r, 'importMpan', 'ASSET-MPAN-CHECKDIGIT');
      const e = r.json.errors.find((x: any) => x.code === 'ASSET-MPAN-CHECKDIGIT');
      expect(e.detail).toContain(`should be ${expected}`);
    });

    it('ASSET-MPAN-DISTRIBUTOR: a distributor ID outside 10–36', async () => {
      expectFieldError(
        await post('fsp-a', batteryInput(next(), { importMpan: mpanFor(next(), '09') })),
        'importMpan',
        'ASSET-MPAN-DISTRIBUTOR',
      );
      expectFieldError(
        await post('fsp-a', batteryInput(next(), { importMpan: mpanFor(next(), '37') })),
        'importMpan',
        'ASSET-MPAN-DISTRIBUTOR',
      );
    });

    it('ASSET-MPAN-IMPORT-REQUIRED: a demand category without an import MPAN', async () => {
      expectFieldError(
        await post('fsp-a', evInput(next(), { importMpan: undefined, exportMpan: mpanFor(2_500_000 + next()) })),
        'importMpan',
        'ASSET-MPAN-IMPORT-REQUIRED',
      );
    });

    it('ASSET-MPAN-EXPORT-REQUIRED: a generating category without an export MPAN', async () => {
      expectFieldError(
        await post('fsp-a', solarInput(next(), { exportMpan: undefined, importMpan: mpanFor(3_500_000 + next()) })),
        'exportMpan',
        'ASSET-MPAN-EXPORT-REQUIRED',
      );
    });

    it('ASSET-MPAN-BESS-REQUIRED: a battery with neither MPAN', async () => {
      expectFieldError(
        await post('fsp-a', batteryInput(next(), { importMpan: undefined, dno: undefined, connectionStatus: 'PENDING' })),
        'importMpan',
        'ASSET-MPAN-BESS-REQUIRED',
      );
      // A battery with only an export MPAN is fine.
      const n = next();
      expect((await post('fsp-a', batteryInput(n, { importMpan: undefined, exportMpan: mpanFor(1_500_000 + n) }))).status).toBe(201);
    });

    it('ASSET-MPANS-IDENTICAL: import and export MPAN the same', async () => {
      const b = batteryInput(next());
      expectFieldError(await post('fsp-a', { ...b, exportMpan: b.importMpan }), 'exportMpan', 'ASSET-MPANS-IDENTICAL');
    });

    it('ASSET-DNO-REQUIRED: an MPAN without a DNO, or CONNECTED without one', async () => {
      expectFieldError(await post('fsp-a', batteryInput(next(), { dno: undefined })), 'dno', 'ASSET-DNO-REQUIRED');
      expectFieldError(
        await post('fsp-a', {
          name: 'Other thing',
          category: 'OTHER',
          ratedCapacityKw: 3,
          connectionStatus: 'CONNECTED',
          commissioningDate: '2025-01-01',
        }),
        'dno',
        'ASSET-DNO-REQUIRED',
      );
    });

    it('ASSET-DNO-MISMATCH is only a warning: 201 with warnings[]', async () => {
      const r = await post('fsp-a', batteryInput(next(), { dno: 'SPEN_SPD' }));
      expect(r.status).toBe(201);
      expect(r.json.warnings).toEqual([expect.objectContaining({ code: 'ASSET-DNO-MISMATCH', field: 'dno', needsJustification: false })]);
      expect(r.json.warnings[0].detail).toContain('SPEN_SPM');
      expect(r.json.dno).toBe('SPEN_SPD');
    });

    it('ASSET-POSTCODE-FORMAT: not a UK postcode', async () => {
      expectFieldError(
        await post('fsp-a', batteryInput(next(), { location: { postcode: 'NOT A PC' } })),
        'location.postcode',
        'ASSET-POSTCODE-FORMAT',
      );
    });

    it('ASSET-COORDINATES: latitude without longitude', async () => {
      expectFieldError(await post('fsp-a', batteryInput(next(), { location: { latitude: 55.8 } })), 'location', 'ASSET-COORDINATES');
    });

    it('ASSET-ALIAS-MANAGED: mpan and serial aliases come from the fields', async () => {
      const b = batteryInput(next());
      const r = await post('fsp-a', {
        ...b,
        aliases: [
          { scheme: 'evse', value: `GB*MAN*E${next()}` },
          { scheme: 'mpan', value: b.importMpan },
          { scheme: 'serial', value: 'SER-1' },
        ],
      });
      expectFieldError(r, 'aliases.1.scheme', 'ASSET-ALIAS-MANAGED');
      expectFieldError(r, 'aliases.2.scheme', 'ASSET-ALIAS-MANAGED');
    });

    it('ASSET-ALIAS-FORMAT: a value that does not fit its scheme', async () => {
      const r = await post(
        'fsp-a',
        evInput(next(), {
          aliases: [
            { scheme: 'evse', value: 'not-an-evse' },
            { scheme: 'fsp_ref', value: 'has space' },
          ],
        }),
      );
      expectFieldError(r, 'aliases.0.value', 'ASSET-ALIAS-FORMAT');
      expectFieldError(r, 'aliases.1.value', 'ASSET-ALIAS-FORMAT');
    });

    it('ASSET-CAPACITY-HIGH: above 1,000,000 kW needs a justification, which is audited', async () => {
      const body = batteryInput(next(), { ratedCapacityKw: 1_500_000 });
      const r = await post('fsp-a', body);
      expect(r.status).toBe(422);
      expect(r.json.code).toBe('ASSET-CAPACITY-HIGH');
      expect(r.json.errors).toEqual([expect.objectContaining({ field: 'ratedCapacityKw', code: 'ASSET-CAPACITY-HIGH' })]);
      expect(r.json.warnings).toEqual([expect.objectContaining({ code: 'ASSET-CAPACITY-HIGH', needsJustification: true })]);

      const justification = 'Grid-scale storage park, confirmed with the DNO';
      const ok = await post('fsp-a', { ...body, justification });
      expect(ok.status).toBe(201);
      expect(ok.json.warnings.map((w: any) => w.code)).toEqual(['ASSET-CAPACITY-HIGH']);
      const audit = await hub.call('GET', `/api/v1/audit?recordType=asset&recordId=${ok.json.id}`, { as: 'operator' });
      expect(audit.status).toBe(200);
      expect(audit.json.items[0].detail).toMatchObject({ justification, overridden: ['ASSET-CAPACITY-HIGH'] });
    });

    it('ASSET-MPAN-OTHER-ORGANISATION: an MPAN under another organisation warns and needs a justification', async () => {
      const a = await create('fsp-a', batteryInput(next()));
      // The same organisation reusing its own MPAN (another device) is not warned.
      const same = await post('fsp-a', batteryInput(next(), { importMpan: a.importMpan }));
      expect(same.status).toBe(201);
      expect(same.json.warnings).toEqual([]);

      const body = batteryInput(next(), { importMpan: a.importMpan });
      const r = await post('fsp-b', body);
      expect(r.status).toBe(422);
      expect(r.json.code).toBe('ASSET-MPAN-OTHER-ORGANISATION');
      expect(r.json.errors).toEqual([expect.objectContaining({ field: 'importMpan', code: 'ASSET-MPAN-OTHER-ORGANISATION' })]);

      const justification = 'Second battery behind the same meter, owner consented';
      const ok = await post('fsp-b', { ...body, justification });
      expect(ok.status).toBe(201);
      expect(ok.json.warnings).toEqual([
        expect.objectContaining({ code: 'ASSET-MPAN-OTHER-ORGANISATION', field: 'importMpan', needsJustification: true }),
      ]);
      const audit = await hub.call('GET', `/api/v1/audit?recordType=asset&recordId=${ok.json.id}`, { as: 'operator' });
      expect(audit.json.items[0].detail).toMatchObject({ justification, overridden: ['ASSET-MPAN-OTHER-ORGANISATION'] });
      // Now that fsp-b holds it too, fsp-a is warned, without being told which organisation holds it
      // (who serves a meter is commercially sensitive); the operator is told.
      const back = await post('fsp-a', batteryInput(next(), { importMpan: a.importMpan }));
      expect(back.status).toBe(422);
      expect(back.json.detail).toContain('another organisation');
      expect(back.json.detail).not.toContain(DEMO['fsp-b']);
      const asOperator = await post('operator', { ...batteryInput(next(), { importMpan: a.importMpan }), organisationId: DEMO['fsp-a'] });
      expect(asOperator.status).toBe(422);
      expect(asOperator.json.detail).toContain(DEMO['fsp-b']);
    });
  });

  describe('duplicates and uniqueness', () => {
    it('a true duplicate (same MPAN + category + serial) is 409 ASSET-DUPLICATE naming the existing asset', async () => {
      const body = batteryInput(next());
      const a = await create('fsp-a', body);
      const before = await counts();
      const r = await post('fsp-a', { ...body, name: 'Same battery again' });
      expect(r.status).toBe(409);
      expect(r.json.code).toBe('ASSET-DUPLICATE');
      expect(r.json.existingAssetId).toBe(a.id);
      expect(await counts()).toEqual(before);
      // Another serial behind the same MPAN is another device.
      expect((await post('fsp-a', { ...body, serialNumber: `${body.serialNumber}-B` })).status).toBe(201);
    });

    it('the friendly code is unique per organisation, reusable by another organisation', async () => {
      const code = `FC-${next()}`;
      await create('fsp-a', batteryInput(next(), { friendlyCode: code }));
      const taken = await post('fsp-a', batteryInput(next(), { friendlyCode: code }));
      expect(taken.status).toBe(409);
      expect(taken.json.code).toBe('ASSET-FRIENDLY-CODE-TAKEN');
      const other = await post('fsp-b', batteryInput(next(), { friendlyCode: code }));
      expect(other.status).toBe(201);
      expect(other.json.friendlyCode).toBe(code);
    });

    it('an EVSE ID identifies one live asset nationally (ASSET-ALIAS-TAKEN)', async () => {
      const evse = `GB*EVT*E${next()}*1`;
      await create('fsp-a', evInput(next(), { aliases: [{ scheme: 'evse', value: evse }] }));
      const r = await post('fsp-b', evInput(next(), { aliases: [{ scheme: 'evse', value: evse.replace(/\*/g, '') }] }));
      expect(r.status).toBe(409);
      expect(r.json.code).toBe('ASSET-ALIAS-TAKEN');
    });

    it('an ECR reference is unique within its DNO’s register, not nationally (ASSET-ALIAS-TAKEN); it needs the asset’s DNO', async () => {
      const ref = `ECR-${next()}`;
      const ecr = [{ scheme: 'ecr', value: ref }];
      const spen = await create('fsp-a', batteryInput(next(), { aliases: ecr }));
      // The same reference in another DNO's register is another site.
      const epn = await create(
        'fsp-b',
        batteryInput(next(), { dno: 'UKPN_EPN', importMpan: mpanFor(1_500_000 + next(), '10'), aliases: ecr }),
      );
      expect(epn.aliases).toEqual([{ scheme: 'ecr', value: ref }]);
      // In the same register it is taken, whoever registers it; nothing is written.
      const taken = await expectRefused(
        hub.db,
        TABLES,
        () => post('fsp-b', batteryInput(next(), { aliases: ecr })),
        409,
        'ASSET-ALIAS-TAKEN',
      );
      expect(taken.errors).toEqual([
        expect.objectContaining({ field: 'aliases', code: 'ASSET-ALIAS-TAKEN', detail: expect.stringContaining('SPEN_SPM') }),
      ]);
      // Moving an asset into a register where its reference is taken is refused too.
      const moved = await hub.call('PATCH', `/api/v1/assets/${epn.id}`, {
        as: 'fsp-b',
        body: { dno: 'SPEN_SPM', importMpan: mpanFor(1_500_000 + next()) },
        headers: { 'if-match': '"1"' },
      });
      expect(moved.status).toBe(409);
      expect(moved.json.code).toBe('ASSET-ALIAS-TAKEN');
      // A lookup by the reference finds the asset of each register.
      const found = await hub.call('GET', `/api/v1/assets?identifier=ecr:${ref}`, { as: 'operator' });
      expect(found.json.items.map((a: any) => a.id).sort()).toEqual([spen.id, epn.id].sort());
      // Without a DNO the reference names no register.
      const other = { name: `Site ${next()}`, category: 'OTHER', ratedCapacityKw: 1500, connectionStatus: 'PENDING', aliases: ecr };
      const noDno = await expectRefused(hub.db, TABLES, () => post('fsp-a', other), 422, invalid('dno', 'ASSET-ECR-DNO-REQUIRED'));
      expect(noDno.errors).toEqual([expect.objectContaining({ field: 'dno', code: 'ASSET-ECR-DNO-REQUIRED' })]);
    });

    it('concurrent registrations of one ECR reference: one 201 per register, the second in a register 409', async () => {
      const ecr = [{ scheme: 'ecr', value: `ECR-RACE-${next()}` }];
      const before = await counts();
      const results = await Promise.all([
        post('fsp-a', batteryInput(next(), { aliases: ecr })),
        post('fsp-b', batteryInput(next(), { aliases: ecr })),
        post('fsp-a', batteryInput(next(), { dno: 'UKPN_EPN', importMpan: mpanFor(1_500_000 + next(), '10'), aliases: ecr })),
      ]);
      expect(results[2].status).toBe(201);
      expect(
        results
          .slice(0, 2)
          .map((r) => r.status)
          .sort(),
      ).toEqual([201, 409]);
      expect(results.find((r) => r.status === 409)!.json.code).toBe('ASSET-ALIAS-TAKEN');
      expect((await counts()).asset - before.asset).toBe(2);
    });

    it('ASSET-MPAN-SAME-CATEGORY: a second live asset of the organisation’s, same category and MPAN, serials unable to tell them apart, needs a justification', async () => {
      const noSerial = (n: number, extra: Record<string, unknown> = {}) => batteryInput(n, { serialNumber: undefined, ...extra });
      const first = await create('fsp-a', noSerial(next()));
      expect(first.warnings).toEqual([]);
      const second = noSerial(next(), { importMpan: first.importMpan });
      const r = await expectRefused(hub.db, TABLES, () => post('fsp-a', second), 422, 'ASSET-MPAN-SAME-CATEGORY');
      expect(r.code).toBe('ASSET-MPAN-SAME-CATEGORY');
      expect(r.errors).toEqual([expect.objectContaining({ field: 'importMpan', code: 'ASSET-MPAN-SAME-CATEGORY' })]);
      // A serial on one side only proves nothing either.
      await expectRefused(
        hub.db,
        TABLES,
        () => post('fsp-a', batteryInput(next(), { importMpan: first.importMpan })),
        422,
        'ASSET-MPAN-SAME-CATEGORY',
      );
      // Another category on the meter (a charger beside the battery) is normal.
      const charger = await create('fsp-a', evInput(next(), { importMpan: first.importMpan }));
      expect(charger.warnings).toEqual([]);
      // With a justification it is registered, the override audited.
      const justification = 'Two identical batteries behind one meter, both unlabelled';
      const ok = await create('fsp-a', { ...second, justification });
      expect(ok.warnings).toEqual([expect.objectContaining({ code: 'ASSET-MPAN-SAME-CATEGORY', needsJustification: true })]);
      const audit = await hub.call('GET', `/api/v1/audit?recordType=asset&recordId=${ok.id}`, { as: 'operator' });
      expect(audit.json.items[0].detail).toMatchObject({ justification, overridden: ['ASSET-MPAN-SAME-CATEGORY'] });
      // An update that turns the charger into a battery there is warned the same way; nothing changes.
      const u = await hub.call('PATCH', `/api/v1/assets/${charger.id}`, {
        as: 'fsp-a',
        body: { category: 'BESS' },
        headers: { 'if-match': '"1"' },
      });
      expect(u.status).toBe(422);
      expect(u.json.code).toBe('ASSET-MPAN-SAME-CATEGORY');
      expect((await hub.call('GET', `/api/v1/assets/${charger.id}`, { as: 'fsp-a' })).json).toMatchObject({
        category: 'EV_CHARGER',
        version: 1,
      });
      // Two such rows in one batch: the second is rejected, nothing written.
      const m = mpanFor(1_600_000 + next());
      const rows = [noSerial(next(), { importMpan: m }), noSerial(next(), { importMpan: m })];
      const b = await expectRefused(
        hub.db,
        TABLES,
        () =>
          hub.call('POST', '/api/v1/assets/bulk', {
            as: 'fsp-a',
            text: rows.map((x) => JSON.stringify(x)).join('\n'),
            contentType: 'application/x-ndjson',
          }),
        422,
        'BULK-ROWS-INVALID',
      );
      expect(b.results).toEqual([
        expect.objectContaining({ row: 2, status: 'rejected', errors: [expect.objectContaining({ code: 'ASSET-MPAN-SAME-CATEGORY' })] }),
      ]);
    });

    it('the FSP reference is unique within an organisation only', async () => {
      const ref = `REF-${next()}`;
      await create('fsp-a', batteryInput(next(), { aliases: [{ scheme: 'fsp_ref', value: ref }] }));
      const taken = await post('fsp-a', batteryInput(next(), { aliases: [{ scheme: 'fsp_ref', value: ref }] }));
      expect(taken.status).toBe(409);
      expect(taken.json.code).toBe('ASSET-ALIAS-TAKEN');
      const other = await post('fsp-b', batteryInput(next(), { aliases: [{ scheme: 'fsp_ref', value: ref }] }));
      expect(other.status).toBe(201);
    });

    it('concurrent registrations of the same asset: exactly one 201, the other 409; one set of rows written', async () => {
      const body = batteryInput(next(), { aliases: [{ scheme: 'fsp_ref', value: `RACE-${next()}` }] });
      const before = await counts();
      const results = await Promise.all([post('fsp-a', body), post('fsp-a', body), post('fsp-a', body)]);
      const statuses = results.map((r) => r.status).sort();
      expect(statuses).toEqual([201, 409, 409]);
      for (const r of results.filter((x) => x.status === 409)) expect(['ASSET-DUPLICATE', 'ASSET-ALIAS-TAKEN']).toContain(r.json.code);
      const after = await counts();
      expect(after.asset - before.asset).toBe(1);
      expect(after.asset_alias - before.asset_alias).toBe(3); // mpan, serial, fsp_ref
      expect(after.asset_natural_key - before.asset_natural_key).toBe(1);
      expect(after.asset_fsp_link - before.asset_fsp_link).toBe(0); // the open FSP link is on the asset row (migration 018)
      expect(after.audit_log - before.audit_log).toBe(1);
      expect(after.event_outbox - before.event_outbox).toBe(1);
    });

    it('concurrent registrations with one EVSE ID but different devices: exactly one 201', async () => {
      const evse = `GB*RAC*E${next()}`;
      const before = await counts();
      const results = await Promise.all([
        post('fsp-a', evInput(next(), { aliases: [{ scheme: 'evse', value: evse }] })),
        post('fsp-a', evInput(next(), { aliases: [{ scheme: 'evse', value: evse }] })),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
      const loser = results.find((r) => r.status === 409)!;
      expect(loser.json.code).toBe('ASSET-ALIAS-TAKEN');
      const winner = results.find((r) => r.status === 201)!;
      expect(winner.json.aliases).toEqual([{ scheme: 'evse', value: evse.replace(/\*/g, '') }]);
      expect((await counts()).asset - before.asset).toBe(1);
    });
  });

  describe('who registers for whom', () => {
    it('the operator must name organisationId (ASSET-ORGANISATION-REQUIRED), then registers for it', async () => {
      const r = await post('operator', batteryInput(next()));
      expectFieldError(r, 'organisationId', 'ASSET-ORGANISATION-REQUIRED');
      const ok = await post('operator', batteryInput(next(), { organisationId: DEMO['fsp-b'] }));
      expect(ok.status).toBe(201);
      expect(ok.json.organisationId).toBe(DEMO['fsp-b']);
      expect(ok.json.fspId).toBe(DEMO['fsp-b']);
      expect(ok.json.recordedBy).toBe('test-operator');
    });

    it('an FSP cannot register for, or hand control to, another organisation', async () => {
      const before = await counts();
      const r = await post('fsp-a', batteryInput(next(), { organisationId: DEMO['fsp-b'] }));
      expect(r.status).toBe(422);
      expect(r.json.errors).toContainEqual(expect.objectContaining({ field: 'organisationId', code: 'AUTH-ROLE-FORBIDDEN' }));
      const f = await post('fsp-a', batteryInput(next(), { fspId: DEMO['fsp-b'] }));
      expect(f.json.errors).toContainEqual(expect.objectContaining({ field: 'fspId', code: 'AUTH-ROLE-FORBIDDEN' }));
      // Naming itself is fine.
      expect((await post('fsp-a', batteryInput(next(), { organisationId: DEMO['fsp-a'] }))).status).toBe(201);
      expect((await counts()).asset).toBe(before.asset + 1);
    });

    it('the operator cannot give control to an organisation that is no FSP, or does not exist', async () => {
      const notFsp = await post('operator', batteryInput(next(), { organisationId: DEMO['fsp-a'], fspId: DEMO.installer }));
      expectFieldError(notFsp, 'fspId', 'ORG-NOT-FSP');
      const none = await post('operator', batteryInput(next(), { organisationId: '01JDEM00000000000000000000' }));
      expectFieldError(none, 'organisationId', 'ORG-NOT-FOUND');
    });

    it('the installer and the DNO hold no assets:write', async () => {
      for (const who of ['installer', 'dno']) {
        const r = await post(who, batteryInput(next()));
        expect(r.status).toBe(403);
        expect(r.json.code).toBe('AUTH-SCOPE-MISSING');
      }
    });
  });

  describe('request handling', () => {
    it('malformed JSON is 400 REQUEST-MALFORMED-JSON', async () => {
      const r = await hub.call('POST', '/api/v1/assets', { as: 'fsp-a', text: '{"name": "x",' });
      expect(r.status).toBe(400);
      expect(r.json.code).toBe('REQUEST-MALFORMED-JSON');
    });

    it('a registration without a body is a validation problem naming the required fields', async () => {
      const r = await hub.call('POST', '/api/v1/assets', { as: 'fsp-a' });
      expect(r.status).toBe(422);
      expect(r.json.errors).toContainEqual(expect.objectContaining({ field: 'name', code: 'REQUEST-FIELD-REQUIRED' }));
    });

    it('a body that is not an object is a validation problem', async () => {
      const r = await hub.call('POST', '/api/v1/assets', { as: 'fsp-a', text: '[1, 2]' });
      expect(r.status).toBe(422);
    });

    it('a wrong content type is 415 REQUEST-UNSUPPORTED-MEDIA-TYPE', async () => {
      const r = await hub.call('POST', '/api/v1/assets', {
        as: 'fsp-a',
        text: JSON.stringify(batteryInput(next())),
        contentType: 'text/plain',
      });
      expect(r.status).toBe(415);
      expect(r.json.code).toBe('REQUEST-UNSUPPORTED-MEDIA-TYPE');
      const form = await hub.call('POST', '/api/v1/assets', {
        as: 'fsp-a',
        text: 'name=x',
        contentType: 'application/x-www-form-urlencoded',
      });
      expect(form.status).toBe(415);
    });

    it('an oversized body is 413 REQUEST-TOO-LARGE, nothing written', async () => {
      const before = await counts();
      const r = await post('fsp-a', batteryInput(next(), { consentReference: 'x'.repeat(1_100_000) }));
      expect(r.status).toBe(413);
      expect(r.json.code).toBe('REQUEST-TOO-LARGE');
      expect(await counts()).toEqual(before);
    });

    it('an asset ID that is not a ULID is 400 ASSET-ID-FORMAT; an unknown one 404 ASSET-NOT-FOUND', async () => {
      const bad = await hub.call('GET', '/api/v1/assets/not-an-id', { as: 'fsp-a' });
      expect(bad.status).toBe(400);
      expect(bad.json.code).toBe('ASSET-ID-FORMAT');
      const none = await hub.call('GET', '/api/v1/assets/01ARZ3NDEKTSV4RRFFQ69G5FAV', { as: 'operator' });
      expect(none.status).toBe(404);
      expect(none.json.code).toBe('ASSET-NOT-FOUND');
    });

    it('Idempotency-Key: the same request replays the same response; another request with the key is refused', async () => {
      const body = batteryInput(next());
      const headers = { 'idempotency-key': `asset-${next()}` };
      const first = await post('fsp-a', body, headers);
      expect(first.status).toBe(201);
      const before = await counts();
      const replay = await post('fsp-a', body, headers);
      expect(replay.status).toBe(201);
      expect(replay.json.id).toBe(first.json.id);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(replay.headers.get('location')).toBe(first.headers.get('location'));
      expect(replay.headers.get('etag')).toBe('"1"');
      expect(await counts()).toEqual(before);
      const other = await post('fsp-a', batteryInput(next()), headers);
      expect(other.status).toBe(422);
      expect(other.json.code).toBe('REQUEST-IDEMPOTENCY-KEY-REUSED');
      // Keys are per organisation: fsp-b may use the same key for its own request.
      const b = await post('fsp-b', batteryInput(next()), headers);
      expect(b.status).toBe(201);
      expect(b.json.id).not.toBe(first.json.id);
      const badKey = await post('fsp-a', batteryInput(next()), { 'idempotency-key': 'has space' });
      expect(badKey.status).toBe(400);
      expect(badKey.json.code).toBe('REQUEST-IDEMPOTENCY-KEY-FORMAT');
    });

    it('no partial writes after any refused registration or update', async () => {
      const a = await create(
        'fsp-a',
        batteryInput(next(), { friendlyCode: `NP-${next()}`, aliases: [{ scheme: 'fsp_ref', value: `NP-${next()}` }] }),
      );
      const before = await counts();
      const failures = [
        await post('fsp-a', batteryInput(next(), { name: 'Bad!' })),
        await post('fsp-a', batteryInput(next(), { ratedCapacityKw: 2_000_000 })),
        await post('fsp-a', { ...batteryInput(0), importMpan: a.importMpan, serialNumber: a.serialNumber }),
        await post('fsp-a', batteryInput(next(), { friendlyCode: a.friendlyCode })),
        await post('fsp-a', batteryInput(next(), { aliases: a.aliases })),
        await post('fsp-b', batteryInput(next(), { importMpan: a.importMpan })),
        await hub.call('PATCH', `/api/v1/assets/${a.id}`, { as: 'fsp-a', body: { name: 'Renamed' }, headers: { 'if-match': '"9"' } }),
        await hub.call('PATCH', `/api/v1/assets/${a.id}`, { as: 'fsp-a', body: { ratedCapacityKw: 0 }, headers: { 'if-match': '"1"' } }),
        await hub.call('PATCH', `/api/v1/assets/${a.id}`, { as: 'fsp-b', body: { name: 'Stolen' }, headers: { 'if-match': '"1"' } }),
        await hub.call('DELETE', `/api/v1/assets/${a.id}`, { as: 'fsp-b' }),
      ];
      expect(failures.map((f) => [f.status, f.json.code, (f.json.errors ?? []).map((e: any) => `${e.field} ${e.code}`)])).toEqual([
        [422, 'REQUEST-VALIDATION', ['name ASSET-NAME-FORMAT']],
        [422, 'ASSET-CAPACITY-HIGH', ['ratedCapacityKw ASSET-CAPACITY-HIGH']],
        [409, 'ASSET-DUPLICATE', []],
        [409, 'ASSET-FRIENDLY-CODE-TAKEN', ['friendlyCode ASSET-FRIENDLY-CODE-TAKEN']],
        [409, 'ASSET-ALIAS-TAKEN', ['aliases ASSET-ALIAS-TAKEN']],
        [422, 'ASSET-MPAN-OTHER-ORGANISATION', ['importMpan ASSET-MPAN-OTHER-ORGANISATION']],
        [412, 'REQUEST-PRECONDITION-FAILED', []],
        [422, 'REQUEST-VALIDATION', ['ratedCapacityKw ASSET-CAPACITY-RATED']],
        [404, 'ASSET-NOT-FOUND', []],
        [404, 'ASSET-NOT-FOUND', []],
      ]);
      expect(await counts()).toEqual(before);
      const still = await hub.call('GET', `/api/v1/assets/${a.id}`, { as: 'fsp-a' });
      expect(still.json.version).toBe(1);
    });
  });
});

describe('look up by alias', () => {
  it('finds an EV charger by its EVSE ID with or without * separators, and by MPAN and serial', async () => {
    const n = next();
    const ev = await create(
      'fsp-a',
      evInput(n, {
        aliases: [
          { scheme: 'evse', value: `GB*ABC*E${n}*1` },
          { scheme: 'mcs', value: `mcs-${n}` },
        ],
      }),
    );
    expect(ev.aliases).toEqual([
      { scheme: 'evse', value: `GBABCE${n}1` },
      { scheme: 'mcs', value: `MCS-${n}` },
    ]);
    for (const id of [
      `evse:GB*ABC*E${n}*1`,
      `evse:GBABCE${n}1`,
      `evse:gb*abc*e${n}*1`,
      `mpan:${ev.importMpan}`,
      `serial:${ev.serialNumber}`,
      `mcs:MCS-${n}`,
      `EVSE:GBABCE${n}1`,
    ]) {
      const r = await hub.call('GET', `/api/v1/assets?identifier=${encodeURIComponent(id)}`, { as: 'fsp-a' });
      expect(r.status, id).toBe(200);
      expect(
        r.json.items.map((a: any) => a.id),
        id,
      ).toEqual([ev.id]);
    }
  });

  it('finds by the FSP’s own reference, only within that FSP', async () => {
    const ref = `MY-REF-${next()}`;
    const a = await create('fsp-a', batteryInput(next(), { aliases: [{ scheme: 'fsp_ref', value: ref }] }));
    const mine = await hub.call('GET', `/api/v1/assets?identifier=fsp_ref:${ref}`, { as: 'fsp-a' });
    expect(mine.json.items.map((x: any) => x.id)).toEqual([a.id]);
    const theirs = await hub.call('GET', `/api/v1/assets?identifier=fsp_ref:${ref}`, { as: 'fsp-b' });
    expect(theirs.json.items).toEqual([]);
  });

  it.each(['nonsense', 'mpan:123', 'mpan:1312345678908', 'evse:XX', ':1312345678907', 'unknown:abc'])(
    'a bad identifier query %s is 400 ASSET-IDENTIFIER-QUERY',
    async (q) => {
      const r = await hub.call('GET', `/api/v1/assets?identifier=${encodeURIComponent(q)}`, { as: 'fsp-a' });
      expect(r.status).toBe(400);
      expect(r.json.code).toBe('ASSET-IDENTIFIER-QUERY');
    },
  );
});

describe('update an asset (UC-02.03)', () => {
  it('needs If-Match: 428 without, 412 stale, 200 with the new ETag; history newest first; asOf returns the old version', async () => {
    const a = await create('fsp-a', batteryInput(next()));
    const url = `/api/v1/assets/${a.id}`;
    const t1 = hub.clock.now().toISOString();

    const none = await hub.call('PATCH', url, { as: 'fsp-a', body: { name: 'Renamed' } });
    expect(none.status).toBe(428);
    expect(none.json.code).toBe('REQUEST-IF-MATCH-REQUIRED');
    const stale = await hub.call('PATCH', url, { as: 'fsp-a', body: { name: 'Renamed' }, headers: { 'if-match': '"2"' } });
    expect(stale.status).toBe(412);
    expect(stale.json.code).toBe('REQUEST-PRECONDITION-FAILED');
    expect(stale.json.currentVersion).toBe(1);

    hub.clock.advance(60_000);
    const t2 = hub.clock.now().toISOString();
    const v2 = await hub.call('PATCH', url, { as: 'fsp-a', body: { name: 'Renamed', ratedCapacityKw: 6 }, headers: { 'if-match': '"1"' } });
    expect(v2.status).toBe(200);
    expect(v2.headers.get('etag')).toBe('"2"');
    expect(v2.json).toMatchObject({
      id: a.id,
      name: 'Renamed',
      ratedCapacityKw: 6,
      version: 2,
      recordedAt: t2,
      importMpan: a.importMpan,
      warnings: [],
    });

    hub.clock.advance(60_000);
    const t3 = hub.clock.now().toISOString();
    const v3 = await hub.call('PATCH', url, {
      as: 'fsp-a',
      body: { manufacturer: 'Acme' },
      contentType: 'application/merge-patch+json',
      headers: { 'if-match': 'W/"2"' },
    });
    expect(v3.status).toBe(200);
    expect(v3.json.version).toBe(3);
    expect(v3.json.name).toBe('Renamed');

    const hist = await hub.call('GET', `${url}/history`, { as: 'fsp-a' });
    expect(hist.status).toBe(200);
    expect(hist.json.items.map((x: any) => x.version)).toEqual([3, 2, 1]);
    expect(hist.json.items.map((x: any) => x.name)).toEqual(['Renamed', 'Renamed', a.name]);
    expect(hist.json.items[2].recordedAt).toBe(t1);

    const at = (iso: string) => hub.call('GET', `${url}?asOf=${encodeURIComponent(iso)}`, { as: 'fsp-a' });
    expect((await at(t1)).json.version).toBe(1);
    expect((await at(new Date(Date.parse(t2) - 1).toISOString())).json.name).toBe(a.name);
    expect((await at(t2)).json.version).toBe(2);
    expect((await at(new Date(Date.parse(t3) + 1).toISOString())).json.version).toBe(3);
    const early = await at(new Date(Date.parse(t1) - 1000).toISOString());
    expect(early.status).toBe(404);
    expect(early.json.code).toBe('ASSET-AS-OF-BEFORE-REGISTRATION');
    const junk = await hub.call('GET', `${url}?asOf=yesterday`, { as: 'fsp-a' });
    expect(junk.status).toBe(400);

    const audit = await hub.call('GET', `/api/v1/audit?recordType=asset&recordId=${a.id}`, { as: 'operator' });
    expect(audit.json.items.map((x: any) => x.action)).toEqual(['asset.registered', 'asset.updated', 'asset.updated']);
    expect(audit.json.items[1].detail.changes).toEqual({ name: [a.name, 'Renamed'], ratedCapacityKw: [5, 6] });
  });

  it('re-validates the merged record and refuses unknown fields and ownership changes', async () => {
    const a = await create('fsp-a', batteryInput(next(), { generationCapacityKw: 5 }));
    const url = `/api/v1/assets/${a.id}`;
    const h = { 'if-match': '"1"' };
    expectFieldError(
      await hub.call('PATCH', url, { as: 'fsp-a', body: { ratedCapacityKw: 4 }, headers: h }),
      'generationCapacityKw',
      'ASSET-CAPACITY-EXCEEDS-RATED',
    );
    expectFieldError(
      await hub.call('PATCH', url, { as: 'fsp-a', body: { importMpan: null }, headers: h }),
      'importMpan',
      'ASSET-MPAN-BESS-REQUIRED',
    );
    expectFieldError(
      await hub.call('PATCH', url, { as: 'fsp-a', body: { organisationId: DEMO['fsp-b'] }, headers: h }),
      'organisationId',
      'REQUEST-UNKNOWN-FIELD',
    );
    expectFieldError(
      await hub.call('PATCH', url, { as: 'fsp-a', body: { fspId: DEMO['fsp-b'] }, headers: h }),
      'fspId',
      'REQUEST-UNKNOWN-FIELD',
    );
    expectFieldError(await hub.call('PATCH', url, { as: 'fsp-a', body: { name: 42 }, headers: h }), 'name', 'ASSET-NAME-FORMAT');
    expectFieldError(
      await hub.call('PATCH', url, { as: 'fsp-a', body: { connectionType: 42 }, headers: h }),
      'connectionType',
      'ASSET-CONNECTION-TYPE-UNKNOWN',
    );
    const high = await hub.call('PATCH', url, { as: 'fsp-a', body: { ratedCapacityKw: 1_200_000 }, headers: h });
    expect(high.status).toBe(422);
    expect(high.json.code).toBe('ASSET-CAPACITY-HIGH');
    const justified = await hub.call('PATCH', url, {
      as: 'fsp-a',
      body: { ratedCapacityKw: 1_200_000, justification: 'Repowered site, see DNO letter' },
      headers: h,
    });
    expect(justified.status).toBe(200);
    const audit = await hub.call('GET', `/api/v1/audit?recordType=asset&recordId=${a.id}`, { as: 'operator' });
    expect(audit.json.items[1].detail).toMatchObject({
      justification: 'Repowered site, see DNO letter',
      overridden: ['ASSET-CAPACITY-HIGH'],
    });
  });

  it('an update cannot take another asset’s friendly code, FSP reference or EVSE ID', async () => {
    const code = `UPD-${next()}`;
    const ref = `UPD-REF-${next()}`;
    const evse = `GB*UPD*E${next()}`;
    await create(
      'fsp-a',
      evInput(next(), {
        friendlyCode: code,
        aliases: [
          { scheme: 'fsp_ref', value: ref },
          { scheme: 'evse', value: evse },
        ],
      }),
    );
    const b = await create('fsp-a', evInput(next()));
    const url = `/api/v1/assets/${b.id}`;
    const h = { 'if-match': '"1"' };
    const fc = await hub.call('PATCH', url, { as: 'fsp-a', body: { friendlyCode: code }, headers: h });
    expect(fc.status).toBe(409);
    expect(fc.json.code).toBe('ASSET-FRIENDLY-CODE-TAKEN');
    const fr = await hub.call('PATCH', url, { as: 'fsp-a', body: { aliases: [{ scheme: 'fsp_ref', value: ref }] }, headers: h });
    expect(fr.status).toBe(409);
    expect(fr.json.code).toBe('ASSET-ALIAS-TAKEN');
    const ev = await hub.call('PATCH', url, { as: 'fsp-a', body: { aliases: [{ scheme: 'evse', value: evse }] }, headers: h });
    expect(ev.status).toBe(409);
    expect(ev.json.code).toBe('ASSET-ALIAS-TAKEN');
    const cur = await hub.call('GET', url, { as: 'fsp-a' });
    expect(cur.json.version).toBe(1);
    expect(cur.json.aliases).toEqual([]);
  });

  it('an update that makes a true duplicate is 409 ASSET-DUPLICATE', async () => {
    const a = await create('fsp-a', batteryInput(next()));
    const b = await create('fsp-a', batteryInput(next()));
    const r = await hub.call('PATCH', `/api/v1/assets/${b.id}`, {
      as: 'fsp-a',
      body: { importMpan: a.importMpan, serialNumber: a.serialNumber },
      headers: { 'if-match': '"1"' },
    });
    expect(r.status).toBe(409);
    expect(r.json.code).toBe('ASSET-DUPLICATE');
    expect(r.json.existingAssetId).toBe(a.id);
  });

  it('changing the MPAN keeps the asset ID; lookups follow the new MPAN', async () => {
    const a = await create('fsp-a', batteryInput(next()));
    const newMpan = mpanFor(1_700_000 + next());
    const r = await hub.call('PATCH', `/api/v1/assets/${a.id}`, {
      as: 'fsp-a',
      body: { importMpan: newMpan },
      headers: { 'if-match': '"1"' },
    });
    expect(r.status).toBe(200);
    expect(r.json.id).toBe(a.id);
    const byNew = await hub.call('GET', `/api/v1/assets?identifier=mpan:${newMpan}`, { as: 'fsp-a' });
    expect(byNew.json.items.map((x: any) => x.id)).toEqual([a.id]);
    const byOld = await hub.call('GET', `/api/v1/assets?identifier=mpan:${a.importMpan}`, { as: 'fsp-a' });
    expect(byOld.json.items).toEqual([]);
  });
});

describe('de-register an asset (UC-02.02)', () => {
  it('soft-deletes: DEREGISTERED, still resolvable, out of the default list, read-only, FSP link closed, and re-registrable under a new ID', async () => {
    const body = batteryInput(next(), { aliases: [{ scheme: 'fsp_ref', value: `DEREG-${next()}` }] });
    const a = await create('fsp-a', body);
    hub.clock.advance(1000);
    const stale = await hub.call('DELETE', `/api/v1/assets/${a.id}`, { as: 'fsp-a', headers: { 'if-match': '"5"' } });
    expect(stale.status).toBe(412);
    const del = await hub.call('DELETE', `/api/v1/assets/${a.id}?reason=${encodeURIComponent('removed by owner')}`, {
      as: 'fsp-a',
      headers: { 'if-match': '"1"' },
    });
    expect(del.status).toBe(200);
    expect(del.json).toMatchObject({ id: a.id, status: 'DEREGISTERED', version: 2, deregisteredAt: hub.clock.now().toISOString() });

    const get = await hub.call('GET', `/api/v1/assets/${a.id}`, { as: 'fsp-a' });
    expect(get.status).toBe(200);
    expect(get.json.status).toBe('DEREGISTERED');
    const byMpan = await hub.call('GET', `/api/v1/assets?identifier=mpan:${a.importMpan}`, { as: 'fsp-a' });
    expect(byMpan.json.items.map((x: any) => x.id)).toEqual([a.id]);
    const list = await hub.call('GET', '/api/v1/assets?limit=1000', { as: 'fsp-a' });
    expect(list.json.items.map((x: any) => x.id)).not.toContain(a.id);
    const listDereg = await hub.call('GET', '/api/v1/assets?status=DEREGISTERED&limit=1000', { as: 'fsp-a' });
    expect(listDereg.json.items.map((x: any) => x.id)).toContain(a.id);

    const upd = await hub.call('PATCH', `/api/v1/assets/${a.id}`, {
      as: 'fsp-a',
      body: { name: 'Back again' },
      headers: { 'if-match': '"2"' },
    });
    expect(upd.status).toBe(409);
    expect(upd.json.code).toBe('ASSET-DEREGISTERED');
    const again = await hub.call('DELETE', `/api/v1/assets/${a.id}`, { as: 'fsp-a' });
    expect(again.status).toBe(409);
    expect(again.json.code).toBe('ASSET-DEREGISTERED');

    const links = await hub.call('GET', `/api/v1/assets/${a.id}/fsp-links`, { as: 'fsp-a' });
    expect(links.json.items).toEqual([expect.objectContaining({ fspId: DEMO['fsp-a'], validTo: del.json.deregisteredAt })]);

    const re = await post('fsp-a', body);
    expect(re.status).toBe(201);
    expect(re.json.id).not.toBe(a.id);
    expect(re.json.warnings).toEqual([]);
    const both = await hub.call('GET', `/api/v1/assets?identifier=mpan:${a.importMpan}`, { as: 'fsp-a' });
    expect(both.json.items.map((x: any) => x.id).sort()).toEqual([a.id, re.json.id].sort());

    const audit = await hub.call('GET', `/api/v1/audit?recordType=asset&recordId=${a.id}`, { as: 'operator' });
    expect(audit.json.items.at(-1)).toMatchObject({ action: 'asset.deregistered', detail: { reason: 'removed by owner', version: 2 } });
  });
});

describe('object-level access', () => {
  let mine: any;
  let elsewhere: any;
  beforeAll(async () => {
    mine = await create('fsp-a', batteryInput(next(), { aliases: [{ scheme: 'fsp_ref', value: `OLA-${next()}` }] }));
    const n = next();
    elsewhere = await create('fsp-a', batteryInput(n, { dno: 'UKPN_EPN', importMpan: mpanFor(1_800_000 + n, '10') }));
  });

  it('another FSP gets 404 ASSET-NOT-FOUND for GET, PATCH, DELETE, history and links', async () => {
    const url = `/api/v1/assets/${mine.id}`;
    for (const [method, path, o] of [
      ['GET', url, {}],
      ['PATCH', url, { body: { name: 'Mine now' }, headers: { 'if-match': '"1"' } }],
      ['DELETE', url, {}],
      ['GET', `${url}/history`, {}],
      ['GET', `${url}/fsp-links`, {}],
      ['GET', `${url}?asOf=${encodeURIComponent(hub.clock.now().toISOString())}`, {}],
    ] as const) {
      const r = await hub.call(method, path, { as: 'fsp-b', ...(o as any) });
      expect(r.status, `${method} ${path}`).toBe(404);
      expect(r.json.code).toBe('ASSET-NOT-FOUND');
    }
    expect((await hub.call('GET', url, { as: 'fsp-a' })).json.version).toBe(1);
  });

  it('another FSP does not see it in lists, alias lookups or exports', async () => {
    const list = await hub.call('GET', '/api/v1/assets?limit=1000', { as: 'fsp-b' });
    expect(list.status).toBe(200);
    const ids = list.json.items.map((x: any) => x.id);
    expect(ids).not.toContain(mine.id);
    // Exactly the assets FSP B owns or controls.
    const rowsB = await hub.db.query(
      `SELECT id FROM asset WHERE (fsp_id = $1 OR organisation_id = $1) AND deregistered_at IS NULL ORDER BY id`,
      [DEMO['fsp-b']],
    );
    expect(rowsB.length).toBeGreaterThan(0);
    expect(ids).toEqual(rowsB.map((x) => x.id));
    for (const q of [`mpan:${mine.importMpan}`, `serial:${mine.serialNumber}`, `fsp_ref:${mine.aliases[0].value}`]) {
      const r = await hub.call('GET', `/api/v1/assets?identifier=${encodeURIComponent(q)}`, { as: 'fsp-b' });
      expect(r.json.items, q).toEqual([]);
    }
    const byOrg = await hub.call('GET', `/api/v1/assets?organisationId=${DEMO['fsp-a']}`, { as: 'fsp-b' });
    expect(byOrg.json.items).toEqual([]);
    const exp = await hub.call('GET', '/api/v1/assets/export', { as: 'fsp-b' });
    expect(exp.status).toBe(200);
    expect(exp.text).not.toContain(mine.id);
  });

  it('the demo DNO (SPEN_SPM, SPEN_SPD) sees assets on its networks only, and cannot change them', async () => {
    const on = await hub.call('GET', `/api/v1/assets/${mine.id}`, { as: 'dno' });
    expect(on.status).toBe(200);
    expect(on.json.dno).toBe('SPEN_SPM');
    const off = await hub.call('GET', `/api/v1/assets/${elsewhere.id}`, { as: 'dno' });
    expect(off.status).toBe(404);
    expect(off.json.code).toBe('ASSET-NOT-FOUND');
    const list = await hub.call('GET', '/api/v1/assets?limit=1000', { as: 'dno' });
    const ids = list.json.items.map((x: any) => x.id);
    expect(ids).toContain(mine.id);
    expect(ids).not.toContain(elsewhere.id);
    expect(list.json.items.every((x: any) => ['SPEN_SPM', 'SPEN_SPD'].includes(x.dno))).toBe(true);
    const lookup = await hub.call('GET', `/api/v1/assets?identifier=mpan:${elsewhere.importMpan}`, { as: 'dno' });
    expect(lookup.json.items).toEqual([]);
    const patch = await hub.call('PATCH', `/api/v1/assets/${mine.id}`, {
      as: 'dno',
      body: { name: 'DNO edit' },
      headers: { 'if-match': '"1"' },
    });
    expect(patch.status).toBe(403);
    expect(patch.json.code).toBe('AUTH-SCOPE-MISSING');
  });

  it('the operator sees every asset', async () => {
    for (const a of [mine, elsewhere]) expect((await hub.call('GET', `/api/v1/assets/${a.id}`, { as: 'operator' })).status).toBe(200);
    const list = await hub.call('GET', '/api/v1/assets?limit=1000', { as: 'operator' });
    const [{ n }] = await hub.db.query(`SELECT count(*)::int AS n FROM asset WHERE deregistered_at IS NULL`);
    expect(list.json.items.length).toBe(n);
    expect(list.json.items.map((x: any) => x.id)).toEqual(expect.arrayContaining([mine.id, elsewhere.id]));
  });

  it('the installer (no assets:read) is refused', async () => {
    const r = await hub.call('GET', '/api/v1/assets', { as: 'installer' });
    expect(r.status).toBe(403);
    expect(r.json.code).toBe('AUTH-SCOPE-MISSING');
  });
});

describe('tokens and scopes', () => {
  it('a token without assets:write gets 403 AUTH-SCOPE-MISSING on writes but may read', async () => {
    const t = await hub.token({ org: DEMO['fsp-a'], roles: ['FSP', 'AGGREGATOR'], scope: 'assets:read' });
    const w = await post(t, batteryInput(next()));
    expect(w.status).toBe(403);
    expect(w.json.code).toBe('AUTH-SCOPE-MISSING');
    expect(w.json.requiredScope).toBe('assets:write');
    const r = await hub.call('GET', '/api/v1/assets', { as: t });
    expect(r.status).toBe(200);
  });

  it('a garbage, tampered or expired token is 401 AUTH-TOKEN-INVALID with WWW-Authenticate', async () => {
    const good = await hub.token('fsp-a');
    const [h, p, s] = good.split('.');
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
    const forged = [h, Buffer.from(JSON.stringify({ ...payload, org: DEMO.operator })).toString('base64url'), s].join('.');
    const expired = await hub.signer.sign({ sub: 'short', org: DEMO['fsp-a'], roles: ['FSP'], ttlSec: 60 });
    hub.clock.advance(5 * 60_000);
    for (const t of ['garbage', forged, expired]) {
      const r = await hub.call('GET', '/api/v1/assets', { as: t });
      expect(r.status).toBe(401);
      expect(r.json.code).toBe('AUTH-TOKEN-INVALID');
      expect(r.headers.get('www-authenticate')).toMatch(/^Bearer /);
    }
    const missing = await hub.call('GET', '/api/v1/assets', { headers: { authorization: 'Basic abc' } });
    expect(missing.status).toBe(401);
    expect(missing.json.code).toBe('AUTH-TOKEN-MISSING');
  });

  it('a token for an organisation the register does not hold is 401', async () => {
    const t = await hub.token({ org: '01ARZ3NDEKTSV4RRFFQ69G5FAV', roles: ['FSP'] });
    const r = await hub.call('GET', '/api/v1/assets', { as: t });
    expect(r.status).toBe(401);
    expect(r.json.code).toBe('AUTH-TOKEN-INVALID');
  });
});

describe('keyset pagination', () => {
  it('limit + nextCursor walks every asset exactly once', async () => {
    const fsp = await newFsp();
    const created: string[] = [];
    for (let i = 0; i < 7; i++) {
      const r = await post(fsp.token, batteryInput(next()));
      expect(r.status).toBe(201);
      created.push(r.json.id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    const pageSizes: number[] = [];
    do {
      const r: any = await hub.call('GET', `/api/v1/assets?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, {
        as: fsp.token,
      });
      expect(r.status).toBe(200);
      pageSizes.push(r.json.items.length);
      seen.push(...r.json.items.map((a: any) => a.id));
      cursor = r.json.nextCursor;
    } while (cursor);
    expect(pageSizes).toEqual([3, 3, 1]);
    expect(seen).toEqual([...created].sort());

    // The operator's walk over everything matches the table.
    const all: string[] = [];
    cursor = null;
    do {
      const r: any = await hub.call('GET', `/api/v1/assets?limit=25${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, {
        as: 'operator',
      });
      all.push(...r.json.items.map((a: any) => a.id));
      cursor = r.json.nextCursor;
    } while (cursor);
    const rows = await hub.db.query(`SELECT id FROM asset WHERE deregistered_at IS NULL ORDER BY id`);
    expect(all).toEqual(rows.map((x) => x.id));
  });

  it('a garbage cursor is 400 REQUEST-CURSOR-INVALID; a bad limit is 400', async () => {
    for (const c of ['garbage', 'eyJub3BlIjoxfQ', '!!!']) {
      const r = await hub.call('GET', `/api/v1/assets?cursor=${c}`, { as: 'fsp-a' });
      expect(r.status, c).toBe(400);
      expect(r.json.code).toBe('REQUEST-CURSOR-INVALID');
    }
    for (const l of ['0', '1001', 'ten']) {
      const r = await hub.call('GET', `/api/v1/assets?limit=${l}`, { as: 'fsp-a' });
      expect(r.status, l).toBe(400);
      expect(r.json.code).toBe('REQUEST-QUERY-INVALID');
    }
  });

  it('filters by category and DNO', async () => {
    const evs = await hub.call('GET', '/api/v1/assets?category=EV_CHARGER&limit=1000', { as: 'fsp-a' });
    expect(evs.json.items.length).toBeGreaterThan(0);
    expect(evs.json.items.every((a: any) => a.category === 'EV_CHARGER')).toBe(true);
    const epn = await hub.call('GET', '/api/v1/assets?dno=UKPN_EPN&limit=1000', { as: 'operator' });
    const epnRows = await hub.db.query(`SELECT id FROM asset WHERE dno = 'UKPN_EPN' AND deregistered_at IS NULL ORDER BY id`);
    expect(epnRows.length).toBeGreaterThan(0);
    expect(epn.json.items.map((a: any) => a.id)).toEqual(epnRows.map((x) => x.id));
  });
});
