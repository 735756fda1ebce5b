import { describe, expect, it } from 'vitest';
import { HttpError } from 'react-admin';
import { explain } from '../../console/src/problem';

/** How the console words a refusal (console/src/problem.ts): the problem, then each refused field. */
describe('explain', () => {
  const refusal = (message: string, errors?: Record<string, string>) => new HttpError(message, 422, errors ? { errors } : undefined);

  it('puts one full stop between the detail and the fields, whether or not the detail ends with one', () => {
    const fields = { validTo: 'QUALIFICATION-PERIOD: validTo is before validFrom.' };
    expect(explain(refusal('REQUEST-VALIDATION: 1 field(s) invalid', fields))).toBe(
      'REQUEST-VALIDATION: 1 field(s) invalid. validTo: QUALIFICATION-PERIOD: validTo is before validFrom.',
    );
    expect(explain(refusal('QUALIFICATION-PERIOD: the period ends at 2026-12-01T00:00:00Z.', fields))).toBe(
      'QUALIFICATION-PERIOD: the period ends at 2026-12-01T00:00:00Z. validTo: QUALIFICATION-PERIOD: validTo is before validFrom.',
    );
  });

  it('leaves a refusal without fields, and an error that is not the API’s, as they are', () => {
    expect(explain(refusal('UNIT-QUALIFIED: the unit holds an active qualification.'))).toBe(
      'UNIT-QUALIFIED: the unit holds an active qualification.',
    );
    expect(explain(new Error('Failed to fetch'))).toBe('Failed to fetch');
  });
});
