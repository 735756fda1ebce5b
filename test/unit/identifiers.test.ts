import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkMpanCore,
  isCompaniesHouseNumber,
  isEic,
  isGln,
  isLei,
  isUkPostcode,
  isUkVat,
  normaliseEvseId,
} from '../../src/catalogue/identifiers';

/**
 * The identifier checks of src/catalogue/identifiers.ts, on values from the schemes' public
 * definitions and on generated ones. No database, no HTTP.
 */

/**
 * The MPAN core check digit as the MRA defines it (Master Registration Agreement, the MPAN core
 * definition that Elexon's data definitions refer to): the first 12 digits times the primes
 * 3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43, summed, mod 11, mod 10. Written here from the
 * definition, so that the tests do not check the code against itself.
 */
function mraCheckDigit(first12: string): number {
  const primes = [3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43];
  return (primes.reduce((sum, p, i) => sum + p * Number(first12[i]), 0) % 11) % 10;
}
const withCheckDigit = (first12: string) => first12 + mraCheckDigit(first12);
const digits = (n: number) => fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n, maxLength: n }).map((d) => d.join(''));
/** 12 digits whose distributor ID (the first two) is 10–36. */
const mpanBody = fc.tuple(fc.integer({ min: 10, max: 36 }), digits(10)).map(([d, rest]) => `${d}${rest}`);

describe('MPAN core (checkMpanCore)', () => {
  it('accepts published cores', () => {
    // Wikipedia, "Meter Point Administration Number": the worked example core 12 0002 3305 96 7.
    expect(checkMpanCore('1200023305967')).toBe('ok');
    // Sums with a remainder of 10 mod 11 give the check digit 0 (the "mod 10" step).
    expect(mraCheckDigit('130000000007')).toBe(0);
    expect(checkMpanCore('1300000000070')).toBe('ok');
  });

  it('format: 13 digits and nothing else', () => {
    for (const v of [
      '',
      '120002330596',
      '12000233059671',
      '120002330596X',
      ' 1200023305967',
      '1200023305967 ',
      '12 0002 3305 967',
      '１200023305967',
    ]) {
      expect(checkMpanCore(v), JSON.stringify(v)).toBe('format');
    }
  });

  it('checkdigit: every other last digit of a published core is refused', () => {
    for (let d = 0; d <= 9; d++) if (d !== 7) expect(checkMpanCore(`120002330596${d}`), String(d)).toBe('checkdigit');
  });

  it('distributor: a valid check digit on a distributor ID outside 10–36', () => {
    for (const first2 of ['00', '09', '37', '99']) expect(checkMpanCore(withCheckDigit(`${first2}0002330596`)), first2).toBe('distributor');
    for (const first2 of ['10', '23', '24', '36']) expect(checkMpanCore(withCheckDigit(`${first2}0002330596`)), first2).toBe('ok');
  });

  it('property: every core built by the MRA definition on distributors 10–36 is ok', () => {
    fc.assert(
      fc.property(mpanBody, (body) => checkMpanCore(withCheckDigit(body)) === 'ok'),
      { numRuns: 500 },
    );
  });

  it('property: any other check digit is refused as checkdigit', () => {
    fc.assert(
      fc.property(mpanBody, fc.integer({ min: 1, max: 9 }), (body, shift) => {
        const wrong = (mraCheckDigit(body) + shift) % 10;
        return checkMpanCore(`${body}${wrong}`) === 'checkdigit';
      }),
      { numRuns: 500 },
    );
  });

  it('property: changing one digit of the first 12 is caught (the weights are primes, none a multiple of 11)', () => {
    // Each weight is invertible mod 11, so a change of one digit moves the sum mod 11; only when the
    // two remainders are 0 and 10 (both giving check digit 0) can it go unseen.
    fc.assert(
      fc.property(mpanBody, fc.integer({ min: 2, max: 11 }), fc.integer({ min: 1, max: 9 }), (body, i, delta) => {
        const core = withCheckDigit(body);
        const changed = core.slice(0, i) + ((Number(core[i]) + delta) % 10) + core.slice(i + 1);
        const before = [3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43].reduce((s, p, k) => s + p * Number(body[k]), 0) % 11;
        const after = [3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43].reduce((s, p, k) => s + p * Number(changed[k]), 0) % 11;
        const collides = (before === 0 && after === 10) || (before === 10 && after === 0);
        return checkMpanCore(changed) === (collides ? 'ok' : 'checkdigit');
      }),
      { numRuns: 500 },
    );
  });
});

describe('UK VAT number (isUkVat)', () => {
  it('accepts numbers that pass the HMRC mod 97 check, with or without a branch suffix and spaces', () => {
    // HMRC's modulus 97 check: weights 8…2 on the first 7 digits, plus the last two, is 0 mod 97.
    expect(isUkVat('GB123456782')).toBe(true); // 112 + 82 = 194 = 2 × 97
    expect(isUkVat('GB980780684')).toBe(true); // 207 + 84 = 291 = 3 × 97
    expect(isUkVat('gb 123 4567 82')).toBe(true);
    expect(isUkVat('GB123456782001')).toBe(true); // branch trader suffix
    // The 9755 scheme (numbers issued from 2010): the total plus 55 is 0 mod 97; 112 + 27 + 55 = 194 = 2 × 97.
    expect(isUkVat('GB123456727')).toBe(true);
  });

  it('accepts government (GD000–GD499) and health authority (HA500–HA999) numbers', () => {
    for (const v of ['GBGD000', 'GBGD499', 'GBHA500', 'GBHA999']) expect(isUkVat(v), v).toBe(true);
    for (const v of ['GBGD500', 'GBHA499', 'GBGD12', 'GBHA1000']) expect(isUkVat(v), v).toBe(false);
  });

  it('refuses a wrong check, a wrong length, another country', () => {
    for (const v of ['GB123456783', 'GB12345678', 'GB1234567820', 'GB12345678200', '123456782', 'FR123456782', 'GB12345678A'])
      expect(isUkVat(v), v).toBe(false);
  });
});

describe('Energy Identification Code (isEic)', () => {
  it('accepts codes from ENTSO-E’s published EIC list', () => {
    // Areas on the ENTSO-E EIC list (the check character per ENTSO-E's EIC reference manual).
    for (const v of ['10YGB----------A', '10YFR-RTE------C', '10YDE-VE-------2', '10YCB-GERMANY--8']) expect(isEic(v), v).toBe(true);
  });

  it('refuses a changed check character, a wrong length, lower case, a dash as the check character', () => {
    for (const v of ['10YGB----------B', '10YGB---------A', '10YGB-----------A', '10ygb----------a', '10YGB-----------'])
      expect(isEic(v), v).toBe(false);
  });

  it('property: a published code with one of its first 15 characters changed is refused', () => {
    const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-';
    const code = '10YFR-RTE------C';
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 14 }), fc.constantFrom(...alphabet), (i, ch) => {
        fc.pre(ch !== code[i]);
        return !isEic(code.slice(0, i) + ch + code.slice(i + 1));
      }),
      { numRuns: 300 },
    );
  });
});

describe('GS1 Global Location Number (isGln)', () => {
  it('accepts numbers with the GS1 mod 10 check digit', () => {
    // GS1's example company prefix 0614141 (GS1 General Specifications); the EAN-13 on Wikipedia's "International Article Number".
    for (const v of ['0614141000036', '4006381333931']) expect(isGln(v), v).toBe(true);
  });

  it('refuses a wrong check digit and a wrong length', () => {
    for (const v of ['0614141000037', '4006381333930', '061414100003', '06141410000366', '061414100003X']) expect(isGln(v), v).toBe(false);
  });

  it('property: exactly one check digit fits any 12 digits', () => {
    fc.assert(
      fc.property(digits(12), (body) => Array.from({ length: 10 }, (_, d) => isGln(`${body}${d}`)).filter(Boolean).length === 1),
      { numRuns: 300 },
    );
  });
});

describe('Legal Entity Identifier (isLei)', () => {
  it('accepts LEIs whose ISO 7064 mod 97-10 check is 1', () => {
    // Apple Inc.'s LEI in the GLEIF register; a second valid LEI with letters in its check range.
    for (const v of ['HWUPKR0MPOU8FGXBT394', '5493001KJTIIGC8Y1R12']) expect(isLei(v), v).toBe(true);
  });

  it('refuses a changed check pair, letters in the check digits, lower case, a wrong length', () => {
    for (const v of [
      'HWUPKR0MPOU8FGXBT395',
      'HWUPKR0MPOU8FGXBT3A4',
      'hwupkr0mpou8fgxbt394',
      'HWUPKR0MPOU8FGXBT39',
      'HWUPKR0MPOU8FGXBT3944',
    ])
      expect(isLei(v), v).toBe(false);
  });

  it('property: a valid LEI with one digit of its first 18 changed to another digit is refused', () => {
    // MOD 97-10 catches every single-digit substitution; a letter counts as two digits, so a change
    // to or from a letter can go unseen (as the standard allows).
    const lei = 'HWUPKR0MPOU8FGXBT394';
    const digitAt = [...lei.slice(0, 18)].flatMap((c, i) => (/\d/.test(c) ? [i] : []));
    fc.assert(
      fc.property(fc.constantFrom(...digitAt), fc.constantFrom(...'0123456789'), (i, ch) => {
        fc.pre(ch !== lei[i]);
        return !isLei(lei.slice(0, i) + ch + lei.slice(i + 1));
      }),
      { numRuns: 300 },
    );
  });
});

describe('Companies House number (isCompaniesHouseNumber)', () => {
  it('accepts 8 digits, or a registered two-letter prefix and 6 digits', () => {
    for (const v of ['00000006', '12345678', 'SC123456', 'NI012345', 'OC301234', 'LP000123', 'R0000123'])
      expect(isCompaniesHouseNumber(v), v).toBe(true);
  });

  it('refuses an unknown prefix, a wrong length, lower case', () => {
    for (const v of ['AB123456', 'XX123456', '1234567', '123456789', 'SC12345', 'sc123456', 'SC 123456'])
      expect(isCompaniesHouseNumber(v), v).toBe(false);
  });
});

describe('EVSE ID (normaliseEvseId)', () => {
  it('normalises eMI3 / ISO 15118-2 EVSE IDs: separators dropped, upper case', () => {
    // The eMI3 EVSE ID examples: country, operator ID, 'E', power outlet ID, '*' separators optional.
    expect(normaliseEvseId('DE*AB7*E840*6487')).toBe('DEAB7E8406487');
    expect(normaliseEvseId('DEAB7E8406487')).toBe('DEAB7E8406487');
    expect(normaliseEvseId('fr*a23*e45b*78c')).toBe('FRA23E45B78C');
    expect(normaliseEvseId('  GB*ABC*E1  ')).toBe('GBABCE1');
  });

  it('refuses an ID without the E, a short operator, a lone E, a foreign character', () => {
    for (const v of ['DE*AB7*840*6487', 'DE*AB*E840', 'DE*AB7*E', 'DE*AB7*E84#0', 'D*AB7*E840'])
      expect(normaliseEvseId(v), v).toBeUndefined();
  });
});

describe('UK postcode (isUkPostcode)', () => {
  it('accepts every outward-code shape, with or without the space, any case', () => {
    // Royal Mail's formats: A9, A99, AA9, AA99, A9A, AA9A, then 9AA; and the special GIR 0AA.
    for (const v of ['M1 1AE', 'B33 8TH', 'CR2 6XH', 'DN55 1PT', 'W1A 0AX', 'EC1A 1BB', 'SW1A1AA', 'sw1a 1aa', 'GIR 0AA'])
      expect(isUkPostcode(v), v).toBe(true);
  });

  it('refuses letters the formats exclude, and what is not a postcode', () => {
    // Q, V, X never start a postcode; C, I, K, M, O, V never end the inward code.
    for (const v of ['QA1 1AA', 'VA1 1AA', 'XA1 1AA', 'SW1A 1AC', 'SW1A 1AI', 'SW1A  1AA', 'SW1A 1AAA', '12345', ''])
      expect(isUkPostcode(v), v).toBe(false);
  });
});
