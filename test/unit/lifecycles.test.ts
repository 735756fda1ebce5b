import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Asset, AssetFields } from '../../src/assets/schema';
import { statusAfterUpdate } from '../../src/assets/service';
import { FROM, checkFields, checkProposed, checkResolution, mayTransition, type DisputeAction } from '../../src/disputes/rules';
import { DISPUTE_STATUSES, MAX_PROPOSED_BYTES } from '../../src/disputes/schema';
import { addDays, firstDayFrom, londonDay, londonMidnight } from '../../src/kernel/dates';
import { CONTRACT_NEXT, CONTRACT_STATUSES } from '../../src/switching/contracts';
import { OPEN, SWITCH_NEXT, SWITCH_STATUSES, maySwitchMove } from '../../src/switching/switches';

/**
 * The state machines, where they are pure: the dispute lifecycle (src/disputes/rules.ts), the
 * asset status after an update (src/assets/service.ts), the open switch statuses
 * (src/switching/switches.ts, SWITCH_NEXT, which every written transition is checked against) and
 * the switch calendar (src/kernel/dates.ts). No database, no HTTP. That each path of a switch takes
 * its move is tested over HTTP (test/switching.test.ts).
 */

describe('dispute lifecycle: which action each status allows', () => {
  // The whole table: OPEN → review → UNDER_REVIEW → resolve → RESOLVED; withdraw from either open
  // status; comments while open. RESOLVED and WITHDRAWN are final.
  const ALLOWED: Record<(typeof DISPUTE_STATUSES)[number], DisputeAction[]> = {
    OPEN: ['comment', 'review', 'withdraw'],
    UNDER_REVIEW: ['comment', 'resolve', 'withdraw'],
    RESOLVED: [],
    WITHDRAWN: [],
  };
  const ACTIONS: DisputeAction[] = ['comment', 'review', 'resolve', 'withdraw'];

  it.each(DISPUTE_STATUSES.map((s) => [s]))('from %s', (status) => {
    expect(ACTIONS.filter((a) => mayTransition(status, a))).toEqual(ALLOWED[status]);
  });

  it('refused: resolving an OPEN dispute (it is reviewed first), reviewing twice, anything after the end', () => {
    expect([
      mayTransition('OPEN', 'resolve'),
      mayTransition('UNDER_REVIEW', 'review'),
      mayTransition('RESOLVED', 'withdraw'),
      mayTransition('WITHDRAWN', 'comment'),
    ]).toEqual([false, false, false, false]);
  });

  it('the table names only known statuses and every action', () => {
    expect(Object.keys(FROM).sort()).toEqual([...ACTIONS].sort());
    expect(
      Object.values(FROM)
        .flat()
        .every((s) => (DISPUTE_STATUSES as readonly string[]).includes(s)),
    ).toBe(true);
  });
});

describe('dispute rules', () => {
  it('DISPUTE-FIELD-UNKNOWN: a field path must start with a disputable field of the record type', () => {
    expect(checkFields('asset', ['importMpan', 'location.postcode'])).toEqual([]);
    const errors = checkFields('asset', ['importMpan', 'version', 'colour']);
    expect(errors.map((e) => [e.field, e.code])).toEqual([
      ['fields.1', 'DISPUTE-FIELD-UNKNOWN'],
      ['fields.2', 'DISPUTE-FIELD-UNKNOWN'],
    ]);
    expect(errors[1].detail).toMatch(/^"colour" is not a field of asset; its fields are /);
    // Metadata the register writes is not disputable, for any record type.
    for (const t of ['asset', 'organisation', 'market_unit'] as const)
      expect(
        checkFields(t, ['id', 'recordedAt']).map((e) => e.code),
        t,
      ).toEqual(['DISPUTE-FIELD-UNKNOWN', 'DISPUTE-FIELD-UNKNOWN']);
  });

  it('DISPUTE-PROPOSED-FIELD: proposed values only for fields in dispute, and at most MAX_PROPOSED_BYTES of JSON', () => {
    expect([checkProposed(['name'], undefined), checkProposed(['name'], { name: 'x' })]).toEqual([[], []]);
    expect(checkProposed(['name'], { name: 'x', dno: 'SPEN_SPM' }).map((e) => [e.field, e.code, e.detail])).toEqual([
      ['claim.proposedValues', 'DISPUTE-PROPOSED-FIELD', '"dno" is not one of the fields in dispute (name).'],
    ]);
    // {"name":"…"} is 11 bytes around the value.
    expect(checkProposed(['name'], { name: 'x'.repeat(MAX_PROPOSED_BYTES - 11) })).toEqual([]);
    expect(checkProposed(['name'], { name: 'x'.repeat(MAX_PROPOSED_BYTES - 10) }).map((e) => e.detail)).toEqual([
      `At most ${MAX_PROPOSED_BYTES} bytes of JSON.`,
    ]);
  });

  it('resolution: CORRECTED needs a correction; NO_ACTION_REQUIRED needs a note and no correction', () => {
    const correction = { version: 2, changes: { name: 'Fixed' } };
    expect([
      checkResolution({ outcome: 'CORRECTED', correction }),
      checkResolution({ outcome: 'NO_ACTION_REQUIRED', note: 'The record is right.' }),
    ]).toEqual([[], []]);
    expect(checkResolution({ outcome: 'CORRECTED' }).map((e) => [e.field, e.code])).toEqual([
      ['correction', 'DISPUTE-CORRECTION-REQUIRED'],
    ]);
    expect(checkResolution({ outcome: 'NO_ACTION_REQUIRED', note: '   ', correction }).map((e) => [e.field, e.code])).toEqual([
      ['note', 'DISPUTE-REASON-REQUIRED'],
      ['correction', 'DISPUTE-CORRECTION-UNEXPECTED'],
    ]);
  });
});

describe('asset status after an update (statusAfterUpdate)', () => {
  const stored = (status: string): Asset =>
    ({
      status,
      name: 'Battery 1',
      category: 'BESS',
      ratedCapacityKw: 5,
      importMpan: '1300000000016',
      exportMpan: null,
      serialNumber: 'SN-1',
      dno: 'SPEN_SPM',
      aliases: [{ scheme: 'mcs', value: 'MCS-1' }],
    }) as unknown as Asset;
  const after = (over: Partial<AssetFields> = {}) => ({ ...stored('VERIFIED'), ...over }) as unknown as AssetFields;

  it('a Verified or Query asset whose checked fields change is Pending Validation again, for each checked field', () => {
    const changes: Partial<AssetFields>[] = [
      { importMpan: '1300000000034' },
      { exportMpan: '1300000000034' },
      { serialNumber: 'SN-2' },
      { dno: 'SPEN_SPD' },
      { category: 'SOLAR_PV' },
      { ratedCapacityKw: 6 },
      { aliases: [{ scheme: 'mcs', value: 'MCS-2' }] },
      { aliases: [] },
    ];
    for (const status of ['VERIFIED', 'QUERY']) {
      for (const c of changes)
        expect(statusAfterUpdate(stored(status), after(c)), `${status} ${JSON.stringify(c)}`).toBe('PENDING_VALIDATION');
    }
  });

  it('unchanged checked fields keep the status: a rename, another alias, the MCS certificates in another order', () => {
    const withTwo = {
      ...stored('VERIFIED'),
      aliases: [
        { scheme: 'mcs', value: 'MCS-1' },
        { scheme: 'mcs', value: 'MCS-2' },
      ],
    } as unknown as Asset;
    expect([
      statusAfterUpdate(stored('VERIFIED'), after({ name: 'Renamed' })),
      statusAfterUpdate(
        stored('QUERY'),
        after({
          aliases: [
            { scheme: 'mcs', value: 'MCS-1' },
            { scheme: 'evse', value: 'GBABCE1' },
          ],
        }),
      ),
      statusAfterUpdate(
        withTwo,
        after({
          aliases: [
            { scheme: 'mcs', value: 'MCS-2' },
            { scheme: 'mcs', value: 'MCS-1' },
          ],
        }),
      ),
      statusAfterUpdate(stored('VERIFIED'), after({ exportMpan: undefined })), // null and absent are the same
    ]).toEqual(['VERIFIED', 'QUERY', 'VERIFIED', 'VERIFIED']);
  });

  it('any other status is kept whatever changes', () => {
    for (const status of ['PENDING_VALIDATION', 'SUSPENDED_CONSENT_REVOKED', 'DEREGISTERED']) {
      expect(statusAfterUpdate(stored(status), after({ importMpan: '1300000000034', ratedCapacityKw: 7 })), status).toBe(status);
    }
  });
});

describe('switch lifecycle: which status may follow which (SWITCH_NEXT)', () => {
  // The whole table, every (from, to) pair: a new request starts REQUESTED and becomes PENDING in the
  // same transaction (it was checked whole, consent included, before); while PENDING the gaining FSP may
  // withdraw, the operator cancel, and the hub reject or fail it when due; EFFECTIVE only when due.
  const ALLOWED: Record<(typeof SWITCH_STATUSES)[number] | 'new', string[]> = {
    new: ['REQUESTED'],
    REQUESTED: ['PENDING'],
    PENDING: ['EFFECTIVE', 'REJECTED', 'CANCELLED', 'WITHDRAWN', 'FAILED'],
    EFFECTIVE: [],
    REJECTED: [],
    CANCELLED: [],
    WITHDRAWN: [],
    FAILED: [],
  };

  it.each(['new', ...SWITCH_STATUSES].map((s): [string] => [s]))('from %s', (from) => {
    const f = from === 'new' ? null : (from as (typeof SWITCH_STATUSES)[number]);
    expect(SWITCH_STATUSES.filter((to) => maySwitchMove(f, to))).toEqual(ALLOWED[from as keyof typeof ALLOWED]);
  });

  it('refused: skipping the notice (REQUESTED → EFFECTIVE), closing before it is stored PENDING, reopening, a status twice', () => {
    expect([
      maySwitchMove('REQUESTED', 'EFFECTIVE'),
      maySwitchMove('REQUESTED', 'WITHDRAWN'),
      maySwitchMove('CANCELLED', 'PENDING'),
      maySwitchMove('PENDING', 'PENDING'),
      maySwitchMove(null, 'PENDING'),
    ]).toEqual([false, false, false, false, false]);
  });

  it('REQUESTED and PENDING can still move (they are open); the rest are final', () => {
    expect(SWITCH_STATUSES.filter((s) => OPEN.includes(s))).toEqual(['REQUESTED', 'PENDING']);
    expect(SWITCH_STATUSES.filter((s) => !OPEN.includes(s))).toEqual(['EFFECTIVE', 'REJECTED', 'CANCELLED', 'WITHDRAWN', 'FAILED']);
    expect(Object.keys(SWITCH_NEXT)).toEqual([...SWITCH_STATUSES]);
  });

  it('every status is reachable from a new request', () => {
    const seen = new Set<string>(['REQUESTED']);
    for (let grew = true; grew;) {
      grew = false;
      for (const s of [...seen])
        for (const t of SWITCH_NEXT[s as (typeof SWITCH_STATUSES)[number]]) if (!seen.has(t)) grew = seen.add(t).size > 0;
    }
    expect([...SWITCH_STATUSES].filter((s) => !seen.has(s))).toEqual([]);
  });
});

describe('contract lifecycle (CONTRACT_NEXT)', () => {
  it('OFFERED → CONFIRMED → TERMINATED, an offer may be terminated unconfirmed, TERMINATED is final', () => {
    const pairs = CONTRACT_STATUSES.flatMap((f) => CONTRACT_STATUSES.filter((t) => CONTRACT_NEXT[f].includes(t)).map((t) => `${f}→${t}`));
    expect(pairs).toEqual(['OFFERED→CONFIRMED', 'OFFERED→TERMINATED', 'CONFIRMED→TERMINATED']);
  });
});

describe('the switch calendar: Great Britain days (src/kernel/dates.ts)', () => {
  it('London midnight is 23:00 UTC the day before in summer time, 00:00 UTC in winter', () => {
    expect([londonMidnight('2026-06-06').toISOString(), londonMidnight('2026-12-01').toISOString()]).toEqual([
      '2026-06-05T23:00:00.000Z',
      '2026-12-01T00:00:00.000Z',
    ]);
    // The days of the clock changes (29 March and 25 October 2026) start in the old offset.
    expect([
      londonMidnight('2026-03-29').toISOString(),
      londonMidnight('2026-03-30').toISOString(),
      londonMidnight('2026-10-25').toISOString(),
      londonMidnight('2026-10-26').toISOString(),
    ]).toEqual(['2026-03-29T00:00:00.000Z', '2026-03-29T23:00:00.000Z', '2026-10-24T23:00:00.000Z', '2026-10-26T00:00:00.000Z']);
  });

  it('londonDay and firstDayFrom: an instant at midnight starts its own day; a moment after, the next', () => {
    expect([
      londonDay(new Date('2026-06-05T23:00:00Z')),
      londonDay(new Date('2026-06-05T22:59:59Z')),
      londonDay(new Date('2026-12-01T00:00:00Z')),
    ]).toEqual(['2026-06-06', '2026-06-05', '2026-12-01']);
    expect([firstDayFrom(new Date('2026-06-05T23:00:00Z')), firstDayFrom(new Date('2026-06-05T23:00:00.001Z'))]).toEqual([
      '2026-06-06',
      '2026-06-07',
    ]);
  });

  it('addDays crosses months, years and leap days', () => {
    expect([
      addDays('2026-01-31', 1),
      addDays('2026-12-31', 1),
      addDays('2028-02-28', 1),
      addDays('2026-03-01', -1),
      addDays('2026-06-01', 5),
    ]).toEqual(['2026-02-01', '2027-01-01', '2028-02-29', '2026-02-28', '2026-06-06']);
  });

  it('property: every day’s London midnight is that day in London, and the first day from it is the day itself', () => {
    const day = fc.integer({ min: 0, max: 365 * 30 }).map((n) => addDays('2020-01-01', n));
    fc.assert(
      fc.property(day, (d) => {
        const t = londonMidnight(d);
        return londonDay(t) === d && firstDayFrom(t) === d && londonDay(new Date(t.getTime() - 1)) === addDays(d, -1);
      }),
      { numRuns: 300 },
    );
  });
});
