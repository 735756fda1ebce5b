import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkAsset, normaliseAlias } from '../../src/assets/rules';
import type { AssetFields } from '../../src/assets/schema';
import { BUILT_IN_ENTRIES, CatalogueSnapshot, type CodeEntry } from '../../src/catalogue/snapshot';

/**
 * The category-driven cross-field rules of src/assets/rules.ts (checkAsset), each by its rule
 * code, valid and invalid, on the seed catalogues or on a snapshot built here. No database, no HTTP.
 */

const TODAY = '2026-06-01';
/** MPAN cores with valid check digits on distributor 13 (SPEN_SPM) and 10 (UKPN_EPN). */
const MPAN_13_A = '1300000000016';
const MPAN_13_B = '1300000000034';
const MPAN_10 = '1000000000068';

const battery = (over: Partial<AssetFields> = {}): AssetFields =>
  ({
    name: 'Battery 1',
    category: 'BESS',
    ratedCapacityKw: 5,
    connectionStatus: 'CONNECTED',
    commissioningDate: '2025-01-01',
    dno: 'SPEN_SPM',
    importMpan: MPAN_13_A,
    serialNumber: 'SN-1',
    ...over,
  }) as AssetFields;
const codesOf = (r: ReturnType<typeof checkAsset>) => r.errors.map((e) => `${e.field} ${e.code}`);
const warningsOf = (r: ReturnType<typeof checkAsset>) => r.warnings.map((w) => `${w.field} ${w.code} ${w.needsJustification}`);
/** The seed catalogues plus `extra` (replacing a code of the same catalogue and name). */
const seedWith = (...extra: CodeEntry[]) =>
  new CatalogueSnapshot([
    ...BUILT_IN_ENTRIES.filter((e) => !extra.some((x) => x.catalogue === e.catalogue && x.code === e.code)),
    ...extra,
  ]);
const entry = (catalogue: string, code: string, attributes: Record<string, unknown> = {}, o: Partial<CodeEntry> = {}): CodeEntry => ({
  catalogue,
  code,
  active: true,
  effectiveFrom: null,
  effectiveTo: null,
  attributes,
  ...o,
});

describe('checkAsset: a valid asset of each kind passes, with its defaults', () => {
  it('storage (BESS): no errors, energy source GRID by default', () => {
    const r = checkAsset(battery(), TODAY);
    expect([codesOf(r), r.warnings, r.asset.energySource, r.asset.demandTechnology]).toEqual([[], [], 'GRID', undefined]);
  });

  it('generating (SOLAR_PV): export MPAN, energy source SOLAR by default', () => {
    const r = checkAsset(battery({ category: 'SOLAR_PV', importMpan: undefined, exportMpan: MPAN_13_A }), TODAY);
    expect([codesOf(r), r.asset.energySource]).toEqual([[], 'SOLAR']);
  });

  it('demand (EV_CHARGER … INDUSTRIAL_LOAD): import MPAN, each category’s demand technology by default', () => {
    const defaults = {
      EV_CHARGER: 'EV',
      HEAT_PUMP: 'HEAT_PUMP',
      ELECTRIC_BOILER: 'ELECTRIC_BOILER',
      HVAC: 'HVAC',
      REFRIGERATION: 'REFRIGERATION',
      INDUSTRIAL_LOAD: 'INDUSTRIAL_LOAD',
    };
    for (const [category, technology] of Object.entries(defaults)) {
      const r = checkAsset(battery({ category }), TODAY);
      expect([codesOf(r), r.asset.demandTechnology], category).toEqual([[], technology]);
    }
  });

  it('a given energy source or demand technology is kept, not replaced by the default', () => {
    expect(checkAsset(battery({ energySource: 'SOLAR' }), TODAY).asset.energySource).toBe('SOLAR');
    expect(checkAsset(battery({ category: 'EV_CHARGER', demandTechnology: 'OTHER' }), TODAY).asset.demandTechnology).toBe('OTHER');
  });
});

describe('checkAsset: each rule by its code', () => {
  it('ASSET-ENERGY-SOURCE-REQUIRED: a generating category without a default (CHP) and without a source', () => {
    expect(codesOf(checkAsset(battery({ category: 'CHP', importMpan: undefined, exportMpan: MPAN_13_A }), TODAY))).toEqual([
      'energySource ASSET-ENERGY-SOURCE-REQUIRED',
    ]);
    expect(
      codesOf(checkAsset(battery({ category: 'CHP', importMpan: undefined, exportMpan: MPAN_13_A, energySource: 'NATURAL_GAS' }), TODAY)),
    ).toEqual([]);
  });

  it('ASSET-DEMAND-TECHNOLOGY-REQUIRED: a demand category without a default (not in the seed) and without a technology', () => {
    const codes = seedWith(entry('asset-categories', 'DATA_CENTRE', { kind: 'demand' }));
    expect(codesOf(checkAsset(battery({ category: 'DATA_CENTRE' }), TODAY, codes))).toEqual([
      'demandTechnology ASSET-DEMAND-TECHNOLOGY-REQUIRED',
    ]);
    expect(codesOf(checkAsset(battery({ category: 'DATA_CENTRE', demandTechnology: 'OTHER' }), TODAY, codes))).toEqual([]);
  });

  it('ASSET-CAPACITY-RATED: the rated capacity is above 0', () => {
    for (const kw of [0, -1])
      expect(codesOf(checkAsset(battery({ ratedCapacityKw: kw }), TODAY)), String(kw)).toEqual(['ratedCapacityKw ASSET-CAPACITY-RATED']);
    expect(codesOf(checkAsset(battery({ ratedCapacityKw: 0.01 }), TODAY))).toEqual([]);
  });

  it('ASSET-CAPACITY-EXCEEDS-RATED: generation or demand capacity above the rated one; equal is allowed', () => {
    const r = checkAsset(battery({ ratedCapacityKw: 5, generationCapacityKw: 5.01, demandCapacityKw: 6 }), TODAY);
    expect(codesOf(r)).toEqual(['generationCapacityKw ASSET-CAPACITY-EXCEEDS-RATED', 'demandCapacityKw ASSET-CAPACITY-EXCEEDS-RATED']);
    expect(r.errors[0].detail).toBe('generationCapacityKw 5.01 kW exceeds the rated capacity 5 kW.');
    expect(codesOf(checkAsset(battery({ ratedCapacityKw: 5, generationCapacityKw: 5, demandCapacityKw: 5 }), TODAY))).toEqual([]);
  });

  it('ASSET-CAPACITY-HIGH: a warning above 1,000,000 kW that needs a justification; at the bound none', () => {
    const r = checkAsset(battery({ ratedCapacityKw: 1_000_000.01 }), TODAY);
    expect([codesOf(r), warningsOf(r)]).toEqual([[], ['ratedCapacityKw ASSET-CAPACITY-HIGH true']]);
    expect(checkAsset(battery({ ratedCapacityKw: 1_000_000 }), TODAY).warnings).toEqual([]);
  });

  it('ASSET-COMMISSIONING-DATE-FUTURE: after today; today itself is allowed', () => {
    const r = checkAsset(battery({ commissioningDate: '2026-06-02' }), TODAY);
    expect([codesOf(r), r.errors[0].detail]).toEqual([
      ['commissioningDate ASSET-COMMISSIONING-DATE-FUTURE'],
      'Commissioning date 2026-06-02 is after today (2026-06-01).',
    ]);
    expect(codesOf(checkAsset(battery({ commissioningDate: TODAY }), TODAY))).toEqual([]);
  });

  it('ASSET-COMMISSIONING-DATE-REQUIRED: a connected status (the catalogue’s attribute) without a commissioning date', () => {
    expect(codesOf(checkAsset(battery({ commissioningDate: undefined }), TODAY))).toEqual([
      'commissioningDate ASSET-COMMISSIONING-DATE-REQUIRED',
    ]);
    expect(codesOf(checkAsset(battery({ commissioningDate: undefined, connectionStatus: 'PENDING' }), TODAY))).toEqual([]);
    // The attribute, not the code, decides: a catalogue that marks PENDING connected requires the date for it too.
    const codes = seedWith(entry('connection-statuses', 'PENDING', { connected: true }));
    expect(codesOf(checkAsset(battery({ commissioningDate: undefined, connectionStatus: 'PENDING' }), TODAY, codes))).toEqual([
      'commissioningDate ASSET-COMMISSIONING-DATE-REQUIRED',
    ]);
  });

  it('ASSET-EFFECTIVE-DATE-BEFORE-COMMISSIONING: the effective date is not before the commissioning date', () => {
    expect(codesOf(checkAsset(battery({ effectiveDate: '2024-12-31' }), TODAY))).toEqual([
      'effectiveDate ASSET-EFFECTIVE-DATE-BEFORE-COMMISSIONING',
    ]);
    expect(codesOf(checkAsset(battery({ effectiveDate: '2025-01-01' }), TODAY))).toEqual([]);
  });

  it('ASSET-MPAN-FORMAT, -CHECKDIGIT (naming the expected digit), -DISTRIBUTOR, on either MPAN', () => {
    expect(codesOf(checkAsset(battery({ importMpan: '130000000001' }), TODAY))).toEqual(['importMpan ASSET-MPAN-FORMAT']);
    const wrong = checkAsset(battery({ importMpan: '1300000000017' }), TODAY);
    expect([codesOf(wrong), wrong.errors[0].detail]).toEqual([
      ['importMpan ASSET-MPAN-CHECKDIGIT'],
      '1300000000017: the check digit should be 6.',
    ]);
    // 0900000000001 has a valid check digit on distributor 09.
    expect(codesOf(checkAsset(battery({ exportMpan: '0900000000001' }), TODAY))).toEqual(['exportMpan ASSET-MPAN-DISTRIBUTOR']);
  });

  it('ASSET-MPAN-IMPORT-REQUIRED (demand), ASSET-MPAN-EXPORT-REQUIRED (generating), ASSET-MPAN-BESS-REQUIRED (storage: either)', () => {
    expect(codesOf(checkAsset(battery({ category: 'HEAT_PUMP', importMpan: undefined, exportMpan: MPAN_13_A }), TODAY))).toEqual([
      'importMpan ASSET-MPAN-IMPORT-REQUIRED',
    ]);
    expect(codesOf(checkAsset(battery({ category: 'WIND_TURBINE', importMpan: MPAN_13_A }), TODAY))).toEqual([
      'exportMpan ASSET-MPAN-EXPORT-REQUIRED',
    ]);
    expect(codesOf(checkAsset(battery({ importMpan: undefined }), TODAY))).toEqual(['importMpan ASSET-MPAN-BESS-REQUIRED']);
    expect(codesOf(checkAsset(battery({ importMpan: undefined, exportMpan: MPAN_13_A }), TODAY))).toEqual([]);
    // OTHER needs no MPAN; without one and not connected, no DNO either.
    expect(
      codesOf(checkAsset(battery({ category: 'OTHER', importMpan: undefined, dno: undefined, connectionStatus: 'PENDING' }), TODAY)),
    ).toEqual([]);
  });

  it('ASSET-MPANS-IDENTICAL: import and export MPAN differ', () => {
    expect(codesOf(checkAsset(battery({ exportMpan: MPAN_13_A }), TODAY))).toEqual(['exportMpan ASSET-MPANS-IDENTICAL']);
    expect(codesOf(checkAsset(battery({ exportMpan: MPAN_13_B }), TODAY))).toEqual([]);
  });

  it('ASSET-DNO-REQUIRED: an MPAN or a connected status needs the DNO', () => {
    expect(codesOf(checkAsset(battery({ dno: undefined }), TODAY))).toEqual(['dno ASSET-DNO-REQUIRED']);
    expect(codesOf(checkAsset(battery({ category: 'OTHER', importMpan: undefined, dno: undefined }), TODAY))).toEqual([
      'dno ASSET-DNO-REQUIRED',
    ]);
  });

  it('ASSET-DNO-MISMATCH: a warning without justification when an MPAN’s distributor names another DNO, once per distributor', () => {
    const r = checkAsset(battery({ importMpan: MPAN_10, exportMpan: MPAN_13_A }), TODAY);
    expect([codesOf(r), warningsOf(r), r.warnings[0].detail]).toEqual([
      [],
      ['dno ASSET-DNO-MISMATCH false'],
      'DNO SPEN_SPM differs from UKPN_EPN, the distributor of MPAN ID 10.',
    ]);
    expect(checkAsset(battery({ importMpan: MPAN_13_A, exportMpan: MPAN_13_B }), TODAY).warnings).toEqual([]);
  });

  it('ASSET-POSTCODE-FORMAT and ASSET-COORDINATES (latitude and longitude come together)', () => {
    expect(codesOf(checkAsset(battery({ location: { postcode: 'NOT A CODE' } }), TODAY))).toEqual([
      'location.postcode ASSET-POSTCODE-FORMAT',
    ]);
    expect(codesOf(checkAsset(battery({ location: { latitude: 55.8 } }), TODAY))).toEqual(['location ASSET-COORDINATES']);
    expect(codesOf(checkAsset(battery({ location: { longitude: -4.2 } }), TODAY))).toEqual(['location ASSET-COORDINATES']);
    expect(
      codesOf(checkAsset(battery({ location: { postcode: 'G1 1AA', latitude: 55.8, longitude: -4.2, gspGroup: '_N' } }), TODAY)),
    ).toEqual([]);
  });

  it('ASSET-ALIAS-MANAGED, ASSET-ALIAS-FORMAT, ASSET-ECR-DNO-REQUIRED; valid aliases are stored normalised', () => {
    const r = checkAsset(
      battery({
        dno: 'SPEN_SPM',
        aliases: [
          { scheme: 'mpan', value: MPAN_13_B },
          { scheme: 'serial', value: 'SN-2' },
          { scheme: 'evse', value: 'not an evse' },
          { scheme: 'evse', value: 'gb*abc*e1' },
          { scheme: 'ecr', value: 'ecr-7' },
        ],
      }),
      TODAY,
    );
    expect(codesOf(r)).toEqual([
      'aliases.0.scheme ASSET-ALIAS-MANAGED',
      'aliases.1.scheme ASSET-ALIAS-MANAGED',
      'aliases.2.value ASSET-ALIAS-FORMAT',
    ]);
    expect(r.asset.aliases).toEqual([
      { scheme: 'evse', value: 'GBABCE1' },
      { scheme: 'ecr', value: 'ECR-7' },
    ]);
    const noDno = checkAsset(
      battery({
        category: 'OTHER',
        importMpan: undefined,
        dno: undefined,
        connectionStatus: 'PENDING',
        aliases: [{ scheme: 'ecr', value: 'ecr-7' }],
      }),
      TODAY,
    );
    expect([codesOf(noDno), noDno.asset.aliases]).toEqual([['dno ASSET-ECR-DNO-REQUIRED'], []]);
  });
});

describe('checkAsset: catalogue codes (src/catalogue/validate.ts through checkAsset)', () => {
  it('an unknown code of each catalogue field gets that field’s rule code', () => {
    const r = checkAsset(
      battery({
        category: 'NUCLEAR',
        energySource: 'COAL',
        connectionStatus: 'HALF',
        connectionType: 'LOOSE',
        dno: 'NOPE',
        location: { gspGroup: '_Z' },
      }),
      TODAY,
    );
    expect(codesOf(r)).toEqual([
      'category ASSET-CATEGORY-UNKNOWN',
      'energySource ASSET-ENERGY-SOURCE-UNKNOWN',
      'connectionStatus ASSET-CONNECTION-STATUS-UNKNOWN',
      'connectionType ASSET-CONNECTION-TYPE-UNKNOWN',
      'dno ASSET-DNO-UNKNOWN',
      'location.gspGroup ASSET-GSP-GROUP-UNKNOWN',
    ]);
  });

  it('an inactive code is refused on a new asset and kept on an update that does not change it', () => {
    const r = checkAsset(battery({ connectionStatus: 'DE_ENERGISED' }), TODAY);
    expect([codesOf(r), r.errors[0].detail]).toEqual([
      ['connectionStatus ASSET-CONNECTION-STATUS-UNKNOWN'],
      'DE_ENERGISED is inactive in the connection-statuses catalogue: records that hold it keep it, new values must be active codes (GET /api/v1/catalogues/connection-statuses).',
    ]);
    expect(
      codesOf(checkAsset(battery({ connectionStatus: 'DE_ENERGISED' }), TODAY, undefined, battery({ connectionStatus: 'DE_ENERGISED' }))),
    ).toEqual([]);
  });

  it('a code is checked on the asset’s effective date, else today', () => {
    const codes = seedWith(entry('connection-types', 'FLEXIBLE', {}, { effectiveFrom: '2026-07-01', effectiveTo: '2027-01-01' }));
    expect(codesOf(checkAsset(battery({ connectionType: 'FLEXIBLE' }), TODAY, codes))).toEqual([
      'connectionType ASSET-CONNECTION-TYPE-UNKNOWN',
    ]);
    expect(codesOf(checkAsset(battery({ connectionType: 'FLEXIBLE', effectiveDate: '2026-07-01' }), TODAY, codes))).toEqual([]);
    expect(codesOf(checkAsset(battery({ connectionType: 'FLEXIBLE', effectiveDate: '2027-01-01' }), TODAY, codes))).toEqual([
      'connectionType ASSET-CONNECTION-TYPE-UNKNOWN',
    ]);
  });
});

describe('normaliseAlias', () => {
  it('per scheme: the stored form, or undefined when the value does not fit', () => {
    expect([
      normaliseAlias('mpan', ` ${MPAN_13_A} `),
      normaliseAlias('mpan', '1300000000017'),
      normaliseAlias('serial', 'SN-1'),
      normaliseAlias('serial', 'S1'),
      normaliseAlias('ecr', 'spen/ecr.12'),
      normaliseAlias('ecr', 'a b'),
      normaliseAlias('mcs', 'mcs-123'),
      normaliseAlias('mcs', 'M1'),
      normaliseAlias('fsp_ref', 'Ref:1'),
      normaliseAlias('fsp_ref', 'a;b'),
      normaliseAlias('cim_mrid', 'urn:uuid:0A1b'),
      normaliseAlias('unknown', 'x'),
    ]).toEqual([
      MPAN_13_A,
      undefined,
      'SN-1',
      undefined,
      'SPEN/ECR.12',
      undefined,
      'MCS-123',
      undefined,
      'Ref:1',
      undefined,
      'urn:uuid:0A1b',
      undefined,
    ]);
  });

  it('property: fsp_ref keeps any visible ASCII text without ";" as written, and refuses any with it', () => {
    const visible = fc.string({
      unit: fc.constantFrom(...Array.from({ length: 94 }, (_, i) => String.fromCharCode(33 + i))),
      minLength: 1,
      maxLength: 64,
    });
    fc.assert(
      fc.property(visible, (v) => normaliseAlias('fsp_ref', v) === (v.includes(';') ? undefined : v)),
      { numRuns: 300 },
    );
  });
});
