/**
 * Switch dates are Great Britain calendar days (Europe/London): a switch "effective 2026-10-26"
 * takes effect at local midnight, 00:00 BST or GMT as the day falls. Intl carries the zone rules,
 * so this runs on Node and Workers alike.
 */
const fmt = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

function parts(t: Date) {
  const p = Object.fromEntries(fmt.formatToParts(t).map((x) => [x.type, x.value]));
  return { y: Number(p.year), m: Number(p.month), d: Number(p.day), h: Number(p.hour), min: Number(p.minute) };
}

/** The London calendar day of an instant, YYYY-MM-DD. */
export function londonDay(t: Date): string {
  const { y, m, d } = parts(t);
  return `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/** The instant of London midnight at the start of a YYYY-MM-DD day. */
export function londonMidnight(day: string): Date {
  const [y, m, d] = day.split('-').map(Number);
  const utc = Date.UTC(y, m - 1, d);
  // London is UTC+0 or UTC+1; midnight is never inside a clock change (those happen at 01:00 UTC).
  for (const offsetH of [0, 1]) {
    const t = new Date(utc - offsetH * 3_600_000);
    const p = parts(t);
    if (p.y === y && p.m === m && p.d === d && p.h === 0 && p.min === 0) return t;
  }
  throw new Error(`no London midnight for ${day}`);
}

/** day + n days, as YYYY-MM-DD. */
export function addDays(day: string, n: number): string {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

/** The first London day that starts at or after an instant. */
export function firstDayFrom(t: Date): string {
  const day = londonDay(t);
  return londonMidnight(day).getTime() >= t.getTime() ? day : addDays(day, 1);
}

export const DAY_RE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;
