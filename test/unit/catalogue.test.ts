import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { attributeErrors, dateErrors, newCodeErrors, type CatalogueDef } from '../../src/catalogue/rules';
import { BUILT_IN, BUILT_IN_ENTRIES, CatalogueSnapshot, codeState, type CodeEntry } from '../../src/catalogue/snapshot';
import { assetCodeErrors, checkCode, organisationCodeErrors, unknownCodeDetail } from '../../src/catalogue/validate';

/**
 * The catalogue checks, pure: a code's state on a date (src/catalogue/snapshot.ts), the membership
 * checks of record fields (src/catalogue/validate.ts) and the rules of a new code
 * (src/catalogue/rules.ts), on snapshots built in memory. No database, no HTTP.
 */

const entry = (catalogue: string, code: string, o: Partial<CodeEntry> = {}): CodeEntry => ({
  catalogue,
  code,
  active: true,
  effectiveFrom: null,
  effectiveTo: null,
  attributes: {},
  ...o,
});
const SNAPSHOT = new CatalogueSnapshot([
  entry('connection-types', 'FIRM'),
  entry('connection-types', 'TIMED', { active: false }),
  entry('connection-types', 'WINDOWED', { effectiveFrom: '2026-07-01', effectiveTo: '2027-01-01' }),
  entry('dno-codes', 'SPEN_SPM', { attributes: { distributorId: '13' } }),
  entry('dno-codes', 'OLD_DNO', { active: false, attributes: { distributorId: '99' } }),
  entry('organisation-types', 'LTD'),
  entry('organisation-types', 'GUILD', { effectiveTo: '2026-01-01' }),
  entry('identifier-schemes', 'VAT'),
  entry('identifier-schemes', 'FAX', { active: false }),
  entry('energy-sources', 'SOLAR'),
  entry('energy-sources', 'PEAT', { active: false }),
  entry('demand-technologies', 'EV'),
]);
const fieldCodes = (errors: { field: string; code: string }[]) => errors.map((e) => `${e.field} ${e.code}`);

describe('codeState: whether a code may be given as a new value on a date', () => {
  it('ok, unknown, inactive, not-yet, ended; effectiveFrom inclusive, effectiveTo exclusive', () => {
    const windowed = SNAPSHOT.get('connection-types', 'WINDOWED');
    expect([
      codeState(SNAPSHOT.get('connection-types', 'FIRM'), '2026-06-01'),
      codeState(undefined, '2026-06-01'),
      codeState(SNAPSHOT.get('connection-types', 'TIMED'), '2026-06-01'),
      codeState(windowed, '2026-06-30'),
      codeState(windowed, '2026-07-01'),
      codeState(windowed, '2026-12-31'),
      codeState(windowed, '2027-01-01'),
    ]).toEqual(['ok', 'unknown', 'inactive', 'not-yet', 'ok', 'ok', 'ended']);
  });

  it('inactive wins over the dates', () => {
    expect(codeState(entry('x', 'Y', { active: false, effectiveFrom: '2030-01-01' }), '2026-06-01')).toBe('inactive');
  });

  it('property: a code with dates is ok exactly on the days from effectiveFrom up to, not including, effectiveTo', () => {
    const day = fc.integer({ min: 0, max: 3000 }).map((n) => new Date(Date.UTC(2024, 0, 1 + n)).toISOString().slice(0, 10));
    fc.assert(
      fc.property(day, day, day, (from, to, on) => {
        const state = codeState(entry('x', 'Y', { effectiveFrom: from, effectiveTo: to }), on);
        return state === (on < from ? 'not-yet' : on >= to ? 'ended' : 'ok');
      }),
      { numRuns: 500 },
    );
  });
});

describe('CatalogueSnapshot', () => {
  it('finds codes per catalogue, and the DNO of an MPAN distributor whatever the code’s state', () => {
    expect([
      SNAPSHOT.get('connection-types', 'FIRM')?.code,
      SNAPSHOT.get('dno-codes', 'FIRM'),
      SNAPSHOT.dnoForDistributor('13'),
      SNAPSHOT.dnoForDistributor('99'),
      SNAPSHOT.dnoForDistributor('14'),
    ]).toEqual(['FIRM', undefined, 'SPEN_SPM', 'OLD_DNO', undefined]);
    expect(SNAPSHOT.codes('connection-types').map((e) => e.code)).toEqual(['FIRM', 'TIMED', 'WINDOWED']);
    expect(SNAPSHOT.codes('gsp-groups')).toEqual([]);
  });

  it('the built-in seed: every MPAN distributor 10–36 names its DNO or IDNO', () => {
    const named = Array.from({ length: 27 }, (_, i) => BUILT_IN.dnoForDistributor(String(10 + i)));
    expect(named).toEqual([
      'UKPN_EPN',
      'NGED_EMID',
      'UKPN_LPN',
      'SPEN_SPM',
      'NGED_WMID',
      'NPG_NE',
      'ENWL',
      'SSEN_SHEPD',
      'SPEN_SPD',
      'UKPN_SPN',
      'SSEN_SEPD',
      'NGED_WALES',
      'NGED_SWEST',
      'NPG_YK',
      ...Array.from({ length: 13 }, (_, i) => `IDNO_${24 + i}`),
    ]);
    expect(BUILT_IN_ENTRIES.filter((e) => e.catalogue === 'asset-categories').map((e) => [e.code, e.attributes.kind])).toEqual([
      ['BESS', 'storage'],
      ['SOLAR_PV', 'generating'],
      ['WIND_TURBINE', 'generating'],
      ['EV_CHARGER', 'demand'],
      ['HEAT_PUMP', 'demand'],
      ['ELECTRIC_BOILER', 'demand'],
      ['HVAC', 'demand'],
      ['REFRIGERATION', 'demand'],
      ['INDUSTRIAL_LOAD', 'demand'],
      ['CHP', 'generating'],
      ['OTHER', 'other'],
    ]);
  });
});

describe('checkCode: the refusal carries the field’s own rule code; the detail says why', () => {
  const check = (value: string, date = '2026-06-01') =>
    checkCode(SNAPSHOT, 'connection-types', value, date, 'connectionType', 'ASSET-CONNECTION-TYPE-UNKNOWN');

  it('ok: no error', () => {
    expect(check('FIRM')).toBeUndefined();
  });

  it('unknown, inactive, not yet, ended: one detail each', () => {
    expect([check('LOOSE'), check('TIMED'), check('WINDOWED'), check('WINDOWED', '2027-03-01')]).toEqual([
      {
        field: 'connectionType',
        code: 'ASSET-CONNECTION-TYPE-UNKNOWN',
        detail: '"LOOSE" is not a code of the connection-types catalogue; the codes are listed at GET /api/v1/catalogues/connection-types.',
      },
      {
        field: 'connectionType',
        code: 'ASSET-CONNECTION-TYPE-UNKNOWN',
        detail:
          'TIMED is inactive in the connection-types catalogue: records that hold it keep it, new values must be active codes (GET /api/v1/catalogues/connection-types).',
      },
      {
        field: 'connectionType',
        code: 'ASSET-CONNECTION-TYPE-UNKNOWN',
        detail: 'WINDOWED applies from 2026-07-01 in the connection-types catalogue, not on 2026-06-01.',
      },
      {
        field: 'connectionType',
        code: 'ASSET-CONNECTION-TYPE-UNKNOWN',
        detail: 'WINDOWED stopped applying on 2027-01-01 in the connection-types catalogue, before 2027-03-01.',
      },
    ]);
  });

  it('an unknown value is echoed cut at 64 characters, as JSON (it is the caller’s text)', () => {
    expect(unknownCodeDetail(`${'A'.repeat(70)}"`, 'gsp-groups')).toBe(
      `"${'A'.repeat(64)}…" is not a code of the gsp-groups catalogue; the codes are listed at GET /api/v1/catalogues/gsp-groups.`,
    );
    expect(unknownCodeDetail('a"b', 'gsp-groups')).toBe(
      '"a\\"b" is not a code of the gsp-groups catalogue; the codes are listed at GET /api/v1/catalogues/gsp-groups.',
    );
  });
});

describe('assetCodeErrors: catalogue fields of an asset', () => {
  it('checks new values; an update keeps the values the stored version already holds', () => {
    const asset = { connectionType: 'TIMED', dno: 'OLD_DNO', location: { gspGroup: '_N' } };
    expect(fieldCodes(assetCodeErrors(SNAPSHOT, asset, '2026-06-01'))).toEqual([
      'connectionType ASSET-CONNECTION-TYPE-UNKNOWN',
      'dno ASSET-DNO-UNKNOWN',
      'location.gspGroup ASSET-GSP-GROUP-UNKNOWN',
    ]);
    expect(
      fieldCodes(assetCodeErrors(SNAPSHOT, asset, '2026-06-01', { connectionType: 'TIMED', dno: 'OLD_DNO', location: { gspGroup: '_N' } })),
    ).toEqual([]);
    // A changed value is checked even on an update.
    expect(
      fieldCodes(assetCodeErrors(SNAPSHOT, asset, '2026-06-01', { connectionType: 'FIRM', dno: 'OLD_DNO', location: { gspGroup: '_N' } })),
    ).toEqual(['connectionType ASSET-CONNECTION-TYPE-UNKNOWN']);
  });

  it('fields that are absent or not strings are left to the schema', () => {
    expect(assetCodeErrors(SNAPSHOT, { connectionType: 7, location: null }, '2026-06-01')).toEqual([]);
  });
});

describe('organisationCodeErrors: type, identifier schemes, DNO codes', () => {
  it('refuses unknown, inactive and ended codes by their rule codes, with the index in the field', () => {
    const org = {
      organisationType: 'GUILD',
      identifiers: [{ scheme: 'VAT' }, { scheme: 'FAX' }, { scheme: 'TELEX' }],
      dnoCodes: ['SPEN_SPM', 'OLD_DNO'],
    };
    expect(fieldCodes(organisationCodeErrors(SNAPSHOT, org, '2026-06-01'))).toEqual([
      'organisationType ORG-TYPE-UNKNOWN',
      'identifiers.1.scheme ORG-IDENTIFIER-SCHEME',
      'identifiers.2.scheme ORG-IDENTIFIER-SCHEME',
      'dnoCodes.1 ORG-DNO-CODE-UNKNOWN',
    ]);
    expect(organisationCodeErrors(SNAPSHOT, { organisationType: 'GUILD' }, '2025-12-31')).toEqual([]);
  });

  it('an update keeps the type, schemes and DNO codes it already holds', () => {
    const held = { organisationType: 'GUILD', identifiers: [{ scheme: 'FAX' }], dnoCodes: ['OLD_DNO'] };
    expect(organisationCodeErrors(SNAPSHOT, { ...held, identifiers: [{ scheme: 'FAX' }, { scheme: 'VAT' }] }, '2026-06-01', held)).toEqual(
      [],
    );
    expect(fieldCodes(organisationCodeErrors(SNAPSHOT, { ...held, dnoCodes: ['OLD_DNO', 'NOPE'] }, '2026-06-01', held))).toEqual([
      'dnoCodes.1 ORG-DNO-CODE-UNKNOWN',
    ]);
  });
});

describe('the rules of a new code (src/catalogue/rules.ts)', () => {
  const categories: CatalogueDef = { name: 'asset-categories', policy: 'extensible', codePattern: '^[A-Z][A-Z0-9_]{1,39}$' };
  const TODAY = '2026-06-01';

  it('CATALOGUE-EFFECTIVE-DATES: effectiveTo after effectiveFrom; either alone is fine', () => {
    expect(fieldCodes(dateErrors('2026-06-01', '2026-06-01'))).toEqual(['effectiveTo CATALOGUE-EFFECTIVE-DATES']);
    expect(dateErrors('2026-06-02', '2026-06-01')[0].detail).toBe('effectiveTo 2026-06-01 is not after effectiveFrom 2026-06-02.');
    expect([dateErrors('2026-06-01', '2026-06-02'), dateErrors('2026-06-01', null), dateErrors(undefined, '2026-06-01')]).toEqual([
      [],
      [],
      [],
    ]);
  });

  it('asset categories: a kind is required; defaults must be active codes today; nothing else', () => {
    expect(attributeErrors('asset-categories', { kind: 'storage', defaultEnergySource: 'SOLAR' }, SNAPSHOT, TODAY)).toEqual([]);
    expect(fieldCodes(attributeErrors('asset-categories', {}, SNAPSHOT, TODAY))).toEqual(['attributes.kind CATALOGUE-ATTRIBUTES']);
    expect(fieldCodes(attributeErrors('asset-categories', undefined, SNAPSHOT, TODAY))).toEqual(['attributes.kind CATALOGUE-ATTRIBUTES']);
    expect(fieldCodes(attributeErrors('asset-categories', { kind: 'nuclear' }, SNAPSHOT, TODAY))).toEqual([
      'attributes.kind CATALOGUE-ATTRIBUTES',
    ]);
    expect(fieldCodes(attributeErrors('asset-categories', { kind: 'demand', colour: 'red' }, SNAPSHOT, TODAY))).toEqual([
      'attributes.colour CATALOGUE-ATTRIBUTES',
    ]);
    const defaults = attributeErrors(
      'asset-categories',
      { kind: 'demand', defaultEnergySource: 'PEAT', defaultDemandTechnology: 'ROBOT' },
      SNAPSHOT,
      TODAY,
    );
    expect(defaults.map((e) => [e.field, e.code, e.detail])).toEqual([
      ['attributes.defaultEnergySource', 'CATALOGUE-ATTRIBUTES', 'PEAT is not an active code of energy-sources.'],
      ['attributes.defaultDemandTechnology', 'CATALOGUE-ATTRIBUTES', 'ROBOT is not an active code of demand-technologies.'],
    ]);
  });

  it('connection statuses: only a boolean connected flag', () => {
    expect([
      attributeErrors('connection-statuses', { connected: true }, SNAPSHOT, TODAY),
      attributeErrors('connection-statuses', {}, SNAPSHOT, TODAY),
    ]).toEqual([[], []]);
    expect(fieldCodes(attributeErrors('connection-statuses', { connected: 'yes' }, SNAPSHOT, TODAY))).toEqual([
      'attributes.connected CATALOGUE-ATTRIBUTES',
    ]);
    expect(fieldCodes(attributeErrors('connection-statuses', { live: true }, SNAPSHOT, TODAY))).toEqual([
      'attributes.live CATALOGUE-ATTRIBUTES',
    ]);
  });

  it('other catalogues take no attributes', () => {
    expect(attributeErrors('gsp-groups', {}, SNAPSHOT, TODAY)).toEqual([]);
    expect(attributeErrors('gsp-groups', { x: 1 }, SNAPSHOT, TODAY).map((e) => [e.field, e.code, e.detail])).toEqual([
      ['attributes', 'CATALOGUE-ATTRIBUTES', 'The gsp-groups catalogue takes no attributes.'],
    ]);
  });

  it('newCodeErrors: the code pattern, the dates and the attributes, all in one answer', () => {
    const input = { code: 'flywheel', label: 'Flywheel', effectiveFrom: '2026-07-01', effectiveTo: '2026-07-01', attributes: {} };
    const errors = newCodeErrors(categories, input, SNAPSHOT, TODAY);
    expect(fieldCodes(errors)).toEqual([
      'code CATALOGUE-CODE-FORMAT',
      'effectiveTo CATALOGUE-EFFECTIVE-DATES',
      'attributes.kind CATALOGUE-ATTRIBUTES',
    ]);
    expect(errors[0].detail).toBe('asset-categories codes match ^[A-Z][A-Z0-9_]{1,39}$.');
    expect(newCodeErrors(categories, { code: 'FLYWHEEL', label: 'Flywheel', attributes: { kind: 'storage' } }, SNAPSHOT, TODAY)).toEqual(
      [],
    );
  });
});
