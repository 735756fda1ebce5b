import { decodeTime } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ULID_RE } from '../src/ids';
import { batteryInput, testHub, type TestHub } from './harness';

/**
 * Asset IDs are ULIDs (time first) whose random part is drawn afresh for each asset: one asset ID
 * does not lead to the assets registered in the same millisecond (it used to be the previous ID + 1).
 */
let hub: TestHub;
beforeAll(async () => {
  hub = await testHub();
});
afterAll(async () => {
  await hub?.close();
});

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const randomPart = (id: string) => [...id.slice(10)].reduce((n, c) => n * 32n + BigInt(CROCKFORD.indexOf(c)), 0n);

describe('asset IDs', () => {
  it('a bulk registration in one millisecond gets IDs that are not one another’s neighbours', async () => {
    const n = 400;
    const text = Array.from({ length: n }, (_, i) => JSON.stringify(batteryInput(610_000 + i, { name: `Id walk ${i}` }))).join('\n');
    const r = await hub.call('POST', '/api/v1/assets/bulk', { as: 'fsp-a', text, contentType: 'application/x-ndjson' });
    expect(r.status, r.text.slice(0, 500)).toBe(201);
    const rows = await hub.db.query(`SELECT id FROM asset WHERE name LIKE 'Id walk %' ORDER BY id`);
    const ids = rows.map((x) => x.id as string);
    expect(ids).toHaveLength(n);
    // The test clock stands still: every ID carries the same millisecond, as a real batch mostly does.
    expect(new Set(ids.map((id) => decodeTime(id)))).toEqual(new Set([hub.clock.now().getTime()]));
    expect(ids.every((id) => ULID_RE.test(id))).toBe(true);
    const steps = ids.slice(1).map((id, i) => randomPart(id) - randomPart(ids[i]));
    expect(steps.filter((d) => d === 1n)).toHaveLength(0);
    // 400 draws of 80 bits: neighbours are far apart (a gap under 2^60 has odds below 1 in 2^11 per pair).
    expect(steps.filter((d) => d < 2n ** 60n).length).toBeLessThan(5);
  });
});
