import { describe, expect, it } from 'vitest';
import { AssetPatch } from '../../src/assets/schema';
import { MarketUnitPatch } from '../../src/units/schema';
import { fieldErrorsFromZod } from '../../src/http/validation';

/** The field errors of a refused body: one per field and rule, however many checks of that rule failed. */
describe('fieldErrorsFromZod', () => {
  const errorsOf = (schema: { safeParse(v: unknown): { success: boolean; error?: unknown } }, body: unknown) => {
    const r = schema.safeParse(body);
    expect(r.success).toBe(false);
    return fieldErrorsFromZod(r.error as Parameters<typeof fieldErrorsFromZod>[0], body).map((e) => [e.field, e.code]);
  };

  it('an empty asset name (too short and off the pattern) is one ASSET-NAME-FORMAT', () => {
    expect(errorsOf(AssetPatch, { name: '' })).toEqual([['name', 'ASSET-NAME-FORMAT']]);
  });

  it('an empty unit name is one UNIT-NAME-FORMAT', () => {
    expect(errorsOf(MarketUnitPatch, { name: '' })).toEqual([['name', 'UNIT-NAME-FORMAT']]);
  });

  it('different fields and different rules all stay', () => {
    expect(errorsOf(AssetPatch, { name: '', colour: 'red' }).sort()).toEqual([
      ['colour', 'REQUEST-UNKNOWN-FIELD'],
      ['name', 'ASSET-NAME-FORMAT'],
    ]);
  });
});
