/** Format and check-digit validation of the industry identifiers the register accepts. */

const MPAN_WEIGHTS = [3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43];

export type MpanVerdict = 'ok' | 'format' | 'checkdigit' | 'distributor';

/** MPAN core: 13 digits; check digit = (Σ dᵢ·wᵢ mod 11) mod 10 over the first 12; distributor 10–36. */
export function checkMpanCore(core: string): MpanVerdict {
  if (!/^\d{13}$/.test(core)) return 'format';
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += (core.charCodeAt(i) - 48) * MPAN_WEIGHTS[i];
  if ((sum % 11) % 10 !== core.charCodeAt(12) - 48) return 'checkdigit';
  const d = Number(core.slice(0, 2));
  if (d < 10 || d > 36) return 'distributor';
  return 'ok';
}

/** Companies House numbers: 8 digits, or a known 2-letter prefix and 6 digits (SC123456, OC301234, …). */
const CH_PREFIXES = [
  'SC',
  'NI',
  'OC',
  'SO',
  'NC',
  'LP',
  'SL',
  'NL',
  'R0',
  'RC',
  'SE',
  'FC',
  'SF',
  'NF',
  'IP',
  'SP',
  'NP',
  'GE',
  'ES',
  'IC',
  'SI',
  'NO',
  'CE',
  'CS',
  'RS',
  'SA',
  'ZC',
  'SR',
  'NR',
  'AC',
  'SZ',
];
export function isCompaniesHouseNumber(v: string): boolean {
  if (/^\d{8}$/.test(v)) return true;
  return /^[A-Z][A-Z0-9]\d{6}$/.test(v) && CH_PREFIXES.includes(v.slice(0, 2));
}

/**
 * UK VAT registration number (GB + 9 digits, or 12 with a branch suffix; GD/HA + 3 digits for
 * government and health bodies). Check: weights 8…2 over the first 7 digits, plus the last two
 * digits, is 0 mod 97 (the older scheme) or 55 mod 97 away from it (the 9755 scheme).
 */
export function isUkVat(raw: string): boolean {
  // A VAT number is at most 14 characters and a few spaces; a longer input is not one, and is not copied.
  if (raw.length > 32) return false;
  const v = raw.replace(/\s/g, '').toUpperCase();
  if (/^GB(GD[0-4]\d{2}|HA[5-9]\d{2})$/.test(v)) return true;
  const m = /^GB(\d{9})(\d{3})?$/.exec(v);
  if (!m) return false;
  const d = m[1];
  let sum = 0;
  for (let i = 0; i < 7; i++) sum += Number(d[i]) * (8 - i);
  const check = Number(d.slice(7));
  return (sum + check) % 97 === 0 || (sum + check + 55) % 97 === 0;
}

const EIC_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-';
/** ENTSO-E Energy Identification Code: 16 characters, the last a check character over the first 15. */
export function isEic(v: string): boolean {
  if (!/^[0-9A-Z-]{15}[0-9A-Z]$/.test(v)) return false;
  let sum = 0;
  for (let i = 0; i < 15; i++) sum += EIC_ALPHABET.indexOf(v[i]) * (16 - i);
  const check = 36 - ((sum - 1) % 37);
  return EIC_ALPHABET[check] === v[15];
}

/** GS1 Global Location Number: 13 digits, GS1 mod-10 check digit. */
export function isGln(v: string): boolean {
  if (!/^\d{13}$/.test(v)) return false;
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += Number(v[i]) * (i % 2 === 0 ? 1 : 3);
  return (10 - (sum % 10)) % 10 === Number(v[12]);
}

/** ISO 17442 Legal Entity Identifier: 20 characters, ISO 7064 mod 97-10 over the whole. */
export function isLei(v: string): boolean {
  if (!/^[0-9A-Z]{18}\d{2}$/.test(v)) return false;
  let rem = 0;
  for (const ch of v) {
    const n = ch >= 'A' ? String(ch.charCodeAt(0) - 55) : ch;
    for (const digit of n) rem = (rem * 10 + Number(digit)) % 97;
  }
  return rem === 1;
}

/** UK postcode (outward + inward code), case-insensitive, one optional space. */
export function isUkPostcode(v: string): boolean {
  return /^(GIR ?0AA|[A-PR-UWYZ]([0-9]{1,2}|[A-HK-Y][0-9]{1,2}|[0-9][A-HJKPSTUW]|[A-HK-Y][0-9][ABEHMNPRVWXY]) ?[0-9][ABD-HJLNP-UW-Z]{2})$/i.test(
    v.trim(),
  );
}

/**
 * An e-mail address: local@domain with a dot inside the domain. The domain's first character is
 * taken alone so the split at its first dot is unambiguous: linear, where `[^\s@]+\.[^\s@]+`
 * backtracked quadratically on long dotted input (the length limit does not stop zod running it).
 */
export const EMAIL_RE = /^[^\s@]+@[^\s@][^\s@.]*\.[^\s@]+$/;

/** EVSE ID (ISO 15118-2 / eMI3): country, operator, 'E' and an outlet ID; '*' separators optional. */
export function normaliseEvseId(v: string): string | undefined {
  const m = /^([A-Z]{2})\*?([A-Z0-9]{3})\*?(E[A-Z0-9][A-Z0-9*]{0,30})$/i.exec(v.trim());
  return m ? `${m[1]}${m[2]}${m[3].replace(/\*/g, '')}`.toUpperCase() : undefined;
}
