import { describe, expect, it } from 'vitest';
import { derivedMrid, mridToUlid, ulidToMrid } from '../cim/index';
import { legacyUlidMrid } from '../cim/mrid';
import { ulidSource } from '../src/ids';
import { TestClock } from './harness';

/** mRIDs the register mints from its IDs (ULIDs): UUIDv8 of RFC 9562, stable, distinct, reversible. */

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** The ULID's 128 bits as a string of 0/1, decoded character by character (no BigInt: independent of cim/mrid.ts). */
const ulidBinary = (ulid: string) =>
  [...ulid]
    .map((c) => CROCKFORD.indexOf(c).toString(2).padStart(5, '0'))
    .join('')
    .slice(2);
const binaryToUuid = (b: string) => {
  const hex = b
    .match(/.{4}/g)!
    .map((x) => parseInt(x, 2).toString(16))
    .join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};
const version = (m: string) => m[14];
const variantBits = (m: string) => parseInt(m[19], 16).toString(2).padStart(4, '0').slice(0, 2);

function randomUlids(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    // Half with the top 6 bits zero (timestamps below 2^42 ms: the reversible layout), half with some set (name-based).
    let s = i % 2 ? CROCKFORD[Math.floor(Math.random() * 8)] + CROCKFORD[Math.floor(Math.random() * 32)] : '0' + CROCKFORD[i % 4];
    for (let j = 2; j < 26; j++) s += CROCKFORD[Math.floor(Math.random() * 32)];
    out.push(s);
  }
  return out;
}

describe('ULID → mRID (UUIDv8)', () => {
  it('sets version 8 and variant 10, keeping the ULID’s low 122 bits in order around them', () => {
    const ulid = '01JD8X6N2Q7ZB4Y3W5V6T7S8R9';
    const b = ulidBinary(ulid);
    expect(b.slice(0, 6)).toBe('000000');
    const expected = binaryToUuid(b.slice(6, 54) + '1000' + b.slice(54, 66) + '10' + b.slice(66));
    expect(ulidToMrid(ulid)).toBe(expected);
    expect(ulidToMrid(ulid)).toBe('64d474d5-15cf-8f59-8f0f-85d9b47ca309');
    expect(version(ulidToMrid(ulid))).toBe('8');
    expect(variantBits(ulidToMrid(ulid))).toBe('10');
    expect(ulidToMrid('00000000000000000000000000')).toBe('00000000-0000-8000-8000-000000000000');
    // The largest ULID whose top 6 bits are zero: every payload bit set.
    expect(ulidToMrid('03ZZZZZZZZZZZZZZZZZZZZZZZZ')).toBe('ffffffff-ffff-8fff-bfff-ffffffffffff');
  });

  it('is stable, case-insensitive and reversible (mridToUlid), also from `_`, `#_` and `urn:uuid:` forms', () => {
    const ids = ulidSource(new TestClock());
    for (let i = 0; i < 200; i++) {
      const ulid = ids.next();
      const m = ulidToMrid(ulid);
      expect(ulidToMrid(ulid)).toBe(m);
      expect(ulidToMrid(ulid.toLowerCase())).toBe(m);
      expect(mridToUlid(m)).toBe(ulid);
      expect(mridToUlid(`#_${m.toUpperCase()}`)).toBe(ulid);
      expect(mridToUlid(`urn:uuid:${m}`)).toBe(ulid);
    }
    expect(() => mridToUlid('64d474d5-15cf-4f59-8f0f-85d9b47ca309')).toThrow(/not a UUIDv8/);
    expect(() => mridToUlid('64d474d5-15cf-8f59-cf0f-85d9b47ca309')).toThrow(/not a UUIDv8/);
    expect(() => ulidToMrid('not-a-ulid')).toThrow(/not a ULID/);
  });

  it('gives distinct ULIDs distinct mRIDs, keeps their order, and every one is a UUIDv8', () => {
    const ulids = [
      ...randomUlids(20_000),
      '00000000000000000000000000',
      '00000000000000000000000001',
      '03ZZZZZZZZZZZZZZZZZZZZZZZZ',
      // Top bits set (a timestamp from the year 2109 on): a name-based UUIDv8, still distinct.
      '04000000000000000000000000',
      '10000000000000000000000000',
      '7ZZZZZZZZZZZZZZZZZZZZZZZZZ',
      '7ZZZZZZZZZZZZZZZZZZZZZZZZY',
    ];
    const unique = [...new Set(ulids)];
    const mrids = unique.map(ulidToMrid);
    expect(new Set(mrids).size).toBe(unique.length);
    for (const m of mrids) {
      expect(version(m)).toBe('8');
      expect(variantBits(m)).toBe('10');
    }
    // Order is kept where the mapping is reversible (timestamps below 2^42 ms).
    const low = unique.filter((u) => ulidBinary(u).startsWith('000000')).sort();
    expect(low.length).toBeGreaterThanOrEqual(10_000);
    const lowMrids = low.map(ulidToMrid);
    expect([...lowMrids].sort()).toEqual(lowMrids);
    expect(ulidToMrid('7ZZZZZZZZZZZZZZZZZZZZZZZZZ')).toBe(derivedMrid('fmar:ulid', '7ZZZZZZZZZZZZZZZZZZZZZZZZZ'));
  });

  it('differs from the mRID earlier exports gave (the ULID’s bits unchanged), which legacyUlidMrid still gives', () => {
    const ulid = '01JD8X6N2Q7ZB4Y3W5V6T7S8R9';
    expect(legacyUlidMrid(ulid)).toBe(binaryToUuid(ulidBinary(ulid)));
    expect(legacyUlidMrid(ulid)).toBe('019351d3-5457-3fd6-4f0f-85d9b47ca309');
    expect(legacyUlidMrid(ulid)).not.toBe(ulidToMrid(ulid));
  });
});
