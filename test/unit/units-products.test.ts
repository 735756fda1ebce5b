import { describe, expect, it } from 'vitest';
import type { Asset } from '../../src/assets/schema';
import { opportunities, periodErrors, productIdErrors, qualificationRecorder, relatedProducts } from '../../src/products/rules';
import { checkComposition } from '../../src/units/rules';

/**
 * The market unit composition rules (src/units/rules.ts) and the product, qualification and
 * equivalence rules (src/products/rules.ts), each by its rule code. No database, no HTTP.
 */

const FSP_A = '01JDEM0000000000000000FSPA';
const FSP_B = '01JDEM0000000000000000FSPB';
const asset = (id: string, over: Partial<Asset> = {}): Asset =>
  ({
    id,
    fspId: FSP_A,
    dno: 'SPEN_SPM',
    importMpan: `meter-${id}`,
    deregisteredAt: null,
    location: { gspGroup: '_N' },
    ...over,
  }) as unknown as Asset;
const fieldCodes = (errors: { field: string; code: string }[]) => errors.map((e) => `${e.field} ${e.code}`);

describe('checkComposition: a market unit over its member assets', () => {
  it('a valid SPG (several import MPANs) and a valid SPU (one): no errors, no warnings', () => {
    expect(checkComposition({ fspId: FSP_A, type: 'SPG' }, [asset('A1'), asset('A2')])).toEqual({ errors: [], warnings: [] });
    expect(checkComposition({ fspId: FSP_A, type: 'SPU' }, [asset('A1'), asset('A2', { importMpan: asset('A1').importMpan })])).toEqual({
      errors: [],
      warnings: [],
    });
  });

  it('UNIT-ASSET-NOT-REGISTERED, UNIT-MIXED-FSP, UNIT-GEOGRAPHY-DNO, each naming the assets', () => {
    const r = checkComposition({ fspId: FSP_A, type: 'SPG' }, [
      asset('A1', { deregisteredAt: '2026-01-01T00:00:00.000Z' }),
      asset('A2', { fspId: FSP_B }),
      asset('A3', { dno: 'UKPN_EPN' }),
    ]);
    expect(r.errors.map((e) => [e.field, e.code, e.detail])).toEqual([
      ['assetIds', 'UNIT-ASSET-NOT-REGISTERED', 'De-registered: A1.'],
      ['assetIds', 'UNIT-MIXED-FSP', `The unit's FSP is ${FSP_A}; A2 is controlled by ${FSP_B}.`],
      ['assetIds', 'UNIT-GEOGRAPHY-DNO', 'Members are on SPEN_SPM, UKPN_EPN.'],
    ]);
  });

  it('UNIT-SPU-ACCOUNTING-POINT: an SPU is behind exactly one import MPAN, and every member has one', () => {
    const two = checkComposition({ fspId: FSP_A, type: 'SPU' }, [asset('A1'), asset('A2')]);
    expect(two.errors.map((e) => [e.field, e.code, e.detail])).toEqual([
      ['type', 'UNIT-SPU-ACCOUNTING-POINT', 'Members are behind 2 import MPANs.'],
    ]);
    const none = checkComposition({ fspId: FSP_A, type: 'SPU' }, [asset('A1'), asset('A2', { importMpan: null })]);
    expect(none.errors.map((e) => [e.field, e.code, e.detail])).toEqual([['type', 'UNIT-SPU-ACCOUNTING-POINT', 'No import MPAN: A2.']]);
  });

  it('UNIT-SPG-ACCOUNTING-POINTS: an SPG is behind at least two import MPANs', () => {
    expect(
      fieldCodes(
        checkComposition({ fspId: FSP_A, type: 'SPG' }, [asset('A1'), asset('A2', { importMpan: asset('A1').importMpan })]).errors,
      ),
    ).toEqual(['type UNIT-SPG-ACCOUNTING-POINTS']);
  });

  it('UNIT-GEOGRAPHY-GSP-GROUP: a warning, no error, when members lie in several GSP groups', () => {
    const r = checkComposition({ fspId: FSP_A, type: 'SPG' }, [
      asset('A1'),
      asset('A2', { location: { gspGroup: '_P' } } as Partial<Asset>),
    ]);
    expect(r).toEqual({
      errors: [],
      warnings: [
        {
          code: 'UNIT-GEOGRAPHY-GSP-GROUP',
          field: 'assetIds',
          detail: 'Members lie in more than one GSP group; the unit is kept, but a product may require one. Members are in _N, _P.',
          needsJustification: false,
        },
      ],
    });
  });
});

describe('product rules', () => {
  it('PRODUCT-ID-FORMAT and PRODUCT-ID-MARKET', () => {
    expect([productIdErrors('NESO-DFS', 'NESO'), productIdErrors('DSO-SUSTAIN-PEAK', 'DSO')]).toEqual([[], []]);
    for (const id of ['neso-dfs', 'NESO', 'NESO-', 'NESO--DFS', 'ELEXON-X', `NESO-${'X'.repeat(28)}`])
      expect(fieldCodes(productIdErrors(id, 'NESO')), id).toEqual(['id PRODUCT-ID-FORMAT']);
    expect(productIdErrors('DSO-NEW-1', 'NESO').map((e) => [e.field, e.code, e.detail])).toEqual([
      ['id', 'PRODUCT-ID-MARKET', "A NESO product's ID starts with NESO-."],
    ]);
  });

  it('PRODUCT-PERIOD / QUALIFICATION-PERIOD: validTo, when given, after validFrom (as instants)', () => {
    expect([
      periodErrors('2026-06-01T00:00:00Z', null, 'PRODUCT-PERIOD'),
      periodErrors('2026-06-01T00:00:00Z', '2026-06-01T00:00:01Z', 'PRODUCT-PERIOD'),
    ]).toEqual([[], []]);
    expect(fieldCodes(periodErrors('2026-06-01T00:00:00Z', '2026-06-01T00:00:00Z', 'PRODUCT-PERIOD'))).toEqual(['validTo PRODUCT-PERIOD']);
    // The same instant written in another offset is not after it.
    expect(fieldCodes(periodErrors('2026-06-01T01:00:00+01:00', '2026-06-01T00:00:00Z', 'QUALIFICATION-PERIOD'))).toEqual([
      'validTo QUALIFICATION-PERIOD',
    ]);
  });

  it('qualification: only the owning System Operator records it', () => {
    expect([
      qualificationRecorder({ ownerOrganisationId: 'SO' }, 'SO'),
      qualificationRecorder({ ownerOrganisationId: 'SO' }, 'OTHER'),
      qualificationRecorder({ ownerOrganisationId: null }, 'SO'),
    ]).toEqual([undefined, 'QUALIFICATION-NOT-PRODUCT-OWNER', 'QUALIFICATION-PRODUCT-UNOWNED']);
  });

  const EQUIVALENCES = [
    { id: 'E1', productA: 'NESO-DFS', productB: 'DSO-PEAK', kind: 'EQUIVALENT' as const, status: 'ACTIVE' as const },
    { id: 'E2', productA: 'NESO-DFS', productB: 'NESO-LCM', kind: 'SUBSTITUTABLE' as const, status: 'ACTIVE' as const },
    { id: 'E3', productA: 'DSO-SECURE', productB: 'NESO-DFS', kind: 'SUBSTITUTABLE' as const, status: 'ACTIVE' as const },
    { id: 'E4', productA: 'NESO-DFS', productB: 'NESO-OLD', kind: 'EQUIVALENT' as const, status: 'WITHDRAWN' as const },
  ];

  it('relatedProducts: active equivalences only; EQUIVALENT both ways, SUBSTITUTABLE to B from A', () => {
    expect(relatedProducts('NESO-DFS', EQUIVALENCES)).toEqual([
      { productId: 'DSO-PEAK', equivalenceId: 'E1', kind: 'EQUIVALENT', direction: 'both' },
      { productId: 'DSO-SECURE', equivalenceId: 'E3', kind: 'SUBSTITUTABLE', direction: 'from' },
      { productId: 'NESO-LCM', equivalenceId: 'E2', kind: 'SUBSTITUTABLE', direction: 'to' },
    ]);
    expect(relatedProducts('DSO-PEAK', EQUIVALENCES)).toEqual([
      { productId: 'NESO-DFS', equivalenceId: 'E1', kind: 'EQUIVALENT', direction: 'both' },
    ]);
  });

  it('opportunities: what a qualification opens, never against a substitution, never what is already held', () => {
    expect(opportunities(['NESO-DFS'], EQUIVALENCES)).toEqual([
      { productId: 'DSO-PEAK', viaProductId: 'NESO-DFS', equivalenceId: 'E1', kind: 'EQUIVALENT' },
      { productId: 'NESO-LCM', viaProductId: 'NESO-DFS', equivalenceId: 'E2', kind: 'SUBSTITUTABLE' },
    ]);
    expect(opportunities(['NESO-LCM'], EQUIVALENCES)).toEqual([]);
    expect(opportunities(['NESO-DFS', 'DSO-PEAK', 'NESO-LCM'], EQUIVALENCES)).toEqual([]);
    // Through the first qualified product in ID order.
    expect(opportunities(['DSO-SECURE', 'DSO-PEAK'], EQUIVALENCES)).toEqual([
      { productId: 'NESO-DFS', viaProductId: 'DSO-PEAK', equivalenceId: 'E1', kind: 'EQUIVALENT' },
    ]);
  });
});
