import { checkMpanCore } from '../catalogue/identifiers';
import { fieldError, type FieldError } from '../http/problem';
import { SCHEME_FIRMNESS, WEEKDAYS, type ConnectionLimit, type ProfileBand } from './schema';

/** The rules of a connection limit that need no database: pure, tested by code (docs/connection-limits.md). */

/** The MPAN core, as an asset's MPAN is checked: 13 digits, check digit, distributor ID 10–36. */
export function mpanErrors(mpan: string): FieldError[] {
  const verdict = checkMpanCore(mpan);
  if (verdict === 'format') return [fieldError('mpan', 'CONNECTION-LIMIT-MPAN-FORMAT')];
  if (verdict === 'checkdigit') return [fieldError('mpan', 'CONNECTION-LIMIT-MPAN-CHECKDIGIT', `${mpan}: the check digit is wrong.`)];
  if (verdict === 'distributor') return [fieldError('mpan', 'CONNECTION-LIMIT-MPAN-DISTRIBUTOR')];
  return [];
}

type Shape = Pick<
  ConnectionLimit,
  'importLimitKw' | 'exportLimitKw' | 'firmness' | 'validFrom' | 'validTo' | 'profile' | 'schemeReference'
>;

const minutes = (t: string) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3, 5));

/** The bands of a TIMED profile: from before to, a limit in each, within the connection's own, no two overlapping on a common day. */
export function profileErrors(profile: ProfileBand[], limits: Pick<Shape, 'importLimitKw' | 'exportLimitKw'>): FieldError[] {
  const errors: FieldError[] = [];
  const bad = (i: number, detail: string) => errors.push(fieldError(`profile.${i}`, 'CONNECTION-LIMIT-PROFILE-BAND', detail));
  profile.forEach((b, i) => {
    if (minutes(b.from) >= minutes(b.to)) bad(i, `Band ${i} runs from ${b.from} to ${b.to}: from is before to (24:00 ends the day).`);
    if (b.days && new Set(b.days).size !== b.days.length) bad(i, `Band ${i} names a day twice.`);
    if (b.importLimitKw === undefined && b.exportLimitKw === undefined) bad(i, `Band ${i} has no import or export limit.`);
    for (const [k, own] of [
      ['importLimitKw', limits.importLimitKw],
      ['exportLimitKw', limits.exportLimitKw],
    ] as const) {
      const v = b[k];
      if (v === undefined) continue;
      if (own === null) bad(i, `Band ${i} sets ${k}, which the connection has none of.`);
      else if (v > own) bad(i, `Band ${i}'s ${k} ${v} is above the connection's ${own}.`);
    }
  });
  for (let i = 0; i < profile.length; i++)
    for (let j = i + 1; j < profile.length; j++) {
      const a = profile[i];
      const b = profile[j];
      const days = (x: ProfileBand) => new Set(x.days ?? WEEKDAYS);
      const common = [...days(a)].some((d) => days(b).has(d));
      if (common && minutes(a.from) < minutes(b.to) && minutes(b.from) < minutes(a.to))
        bad(j, `Band ${j} (${b.from}–${b.to}) overlaps band ${i} (${a.from}–${a.to}) on a common day.`);
    }
  return errors;
}

/** The cross-field rules of a limit as it will stand (after a create or a patch). */
export function limitErrors(l: Shape): FieldError[] {
  const errors: FieldError[] = [];
  if (l.importLimitKw === null && l.exportLimitKw === null) errors.push(fieldError('importLimitKw', 'CONNECTION-LIMIT-REQUIRED'));
  if (l.validTo && new Date(l.validTo).getTime() <= new Date(l.validFrom).getTime())
    errors.push(fieldError('validTo', 'CONNECTION-LIMIT-PERIOD', `validTo ${l.validTo} is not after validFrom ${l.validFrom}.`));
  if (l.firmness === 'TIMED' && !l.profile?.length)
    errors.push(fieldError('profile', 'CONNECTION-LIMIT-PROFILE', 'A TIMED limit has a profile: its time bands and their limits.'));
  if (l.firmness !== 'TIMED' && l.profile)
    errors.push(fieldError('profile', 'CONNECTION-LIMIT-PROFILE', `A ${l.firmness} limit has no profile; only a TIMED one does.`));
  if (l.firmness === 'TIMED' && l.profile?.length) errors.push(...profileErrors(l.profile, l));
  const scheme = SCHEME_FIRMNESS.includes(l.firmness);
  if (scheme && !l.schemeReference)
    errors.push(
      fieldError(
        'schemeReference',
        'CONNECTION-LIMIT-SCHEME',
        `A ${l.firmness} limit names the DNO's flexible connection scheme (e.g. an ANM zone).`,
      ),
    );
  if (!scheme && l.schemeReference)
    errors.push(fieldError('schemeReference', 'CONNECTION-LIMIT-SCHEME', `A ${l.firmness} limit names no flexible connection scheme.`));
  return errors;
}

/**
 * Whether the MPAN is on the caller's network: the DNO code its distributor ID names is one of the
 * caller's dnoCodes, or a registered asset at the MPAN has a dno in them. Returns the licence area
 * to record (the distributor's first), or undefined.
 */
export function networkOf(distributorDno: string | undefined, assetDnos: string[], dnoCodes: readonly string[]): string | undefined {
  if (distributorDno && dnoCodes.includes(distributorDno)) return distributorDno;
  return assetDnos.find((d) => dnoCodes.includes(d));
}
