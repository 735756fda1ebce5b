import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKGROUND_JOBS } from '../src/jobs';
import { recordScorecardHistory } from '../src/quality/service';
import { DEMO, testHub, type TestHub } from './harness';

/** Scorecards over time (docs/data-quality.md, "Scorecards over time"): the daily points, the job, the read and its refusals. */

let hub: TestHub;
beforeAll(async () => {
  hub = await testHub();
});
afterAll(async () => {
  await hub?.close();
});

const DQ = '/api/v1/data-quality';
const FSP_A = `${DQ}/scorecards/organisations/${DEMO['fsp-a']}`;

async function points(scope: string, key: string) {
  return hub.db.query<{ day: string; assets: string; open_error: string }>(
    `SELECT to_char(day, 'YYYY-MM-DD') AS day, assets::text, open_error::text FROM dq_scorecard_day WHERE scope = $1 AND key = $2 ORDER BY day`,
    [scope, key],
  );
}

describe('scorecard history', () => {
  it('records one point per scorecard and day; a re-run the same day replaces it, another day adds one', async () => {
    hub.clock.set('2026-06-01T09:00:00.000Z');
    const [{ cards }] = await hub.db.query<{ cards: number }>(`SELECT count(*)::int AS cards FROM dq_scorecard`);
    expect(cards).toBeGreaterThan(0);
    expect(await recordScorecardHistory(hub.ctx)).toBe(cards);
    const card = (await hub.call('GET', FSP_A, { as: 'fsp-a' })).json;
    expect(await points('organisation', DEMO['fsp-a'])).toEqual([
      { day: '2026-06-01', assets: String(card.assets), open_error: String(card.openFindings.ERROR) },
    ]);

    // The counters move (as a change would move them); the same day's re-run replaces the point.
    await hub.db.query(`UPDATE dq_scorecard SET open_error = open_error + 3 WHERE scope = 'organisation' AND key = $1`, [DEMO['fsp-a']]);
    hub.clock.set('2026-06-01T23:59:00.000Z');
    expect(await recordScorecardHistory(hub.ctx)).toBe(cards);
    expect(await points('organisation', DEMO['fsp-a'])).toEqual([
      { day: '2026-06-01', assets: String(card.assets), open_error: String(card.openFindings.ERROR + 3) },
    ]);
    const [{ n }] = await hub.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM dq_scorecard_day`);
    expect(n).toBe(cards);

    // The next UTC day: a second point, through the job the hub runs.
    hub.clock.set('2026-06-02T00:30:00.000Z');
    const job = BACKGROUND_JOBS.find((j) => j.name === 'data-quality-scorecard-history')!;
    expect(await job.run({ ctx: hub.ctx, source: 'http://hub.test', production: false, maxCimBytes: 1, worker: 'test' })).toBe(cards);
    expect((await points('organisation', DEMO['fsp-a'])).map((p) => p.day)).toEqual(['2026-06-01', '2026-06-02']);
  });

  it('reads the points from `from` to `to`, oldest first, in the scorecard’s shape; the default is the 30 days to today', async () => {
    hub.clock.set('2026-06-02T12:00:00.000Z');
    const card = (await hub.call('GET', FSP_A, { as: 'fsp-a' })).json;
    // Both points hold the counters as they are now (the first day's re-run replaced its point).
    const point = { assets: card.assets, averageScore: card.averageScore, openFindings: card.openFindings };
    const all = await hub.call('GET', `${FSP_A}/history`, { as: 'fsp-a' });
    expect(all.status).toBe(200);
    expect(all.json).toEqual({
      scope: 'organisation',
      key: DEMO['fsp-a'],
      from: '2026-05-04',
      to: '2026-06-02',
      items: [
        { day: '2026-06-01', ...point },
        { day: '2026-06-02', ...point },
      ],
    });
    const one = await hub.call('GET', `${FSP_A}/history?from=2026-06-02&to=2026-06-02`, { as: 'operator' });
    expect(one.json.items.map((p: { day: string }) => p.day)).toEqual(['2026-06-02']);
    const none = await hub.call('GET', `${FSP_A}/history?from=2025-06-02&to=2026-05-31`, { as: 'operator' });
    expect(none.json).toEqual({ scope: 'organisation', key: DEMO['fsp-a'], from: '2025-06-02', to: '2026-05-31', items: [] });
    const dno = await hub.call('GET', `${DQ}/scorecards/dnos/SPEN_SPM/history?from=2026-06-01`, { as: 'dno' });
    expect(dno.status).toBe(200);
    expect(dno.json.items.map((p: { day: string }) => p.day)).toEqual(['2026-06-01', '2026-06-02']);
  });

  it('refuses what the scorecard refuses, and bad dates with a rule code', async () => {
    const refused = async (path: string, as: string, status: number, code: string) => {
      const r = await hub.call('GET', path, { as });
      expect([r.status, r.json.code]).toEqual([status, code]);
      expect(r.json.instance).toMatch(/^urn:fmar:request:[0-9A-HJKMNP-TV-Z]{26}$/);
    };
    await refused(`${FSP_A}/history`, 'fsp-b', 404, 'DQ-SCORECARD-NOT-FOUND');
    await refused(`${DQ}/scorecards/dnos/UKPN_EPN/history`, 'dno', 404, 'DQ-SCORECARD-NOT-FOUND');
    await refused(`${FSP_A}/history?from=2026-02-30`, 'fsp-a', 422, 'DQ-HISTORY-DATE-INVALID');
    await refused(`${FSP_A}/history?to=yesterday`, 'fsp-a', 422, 'DQ-HISTORY-DATE-INVALID');
    await refused(`${FSP_A}/history?from=2026-06-02&to=2026-06-01`, 'fsp-a', 422, 'DQ-HISTORY-RANGE');
    await refused(`${FSP_A}/history?from=2025-06-01&to=2026-06-02`, 'fsp-a', 422, 'DQ-HISTORY-RANGE');
    // 366 days, both included, is the most.
    expect((await hub.call('GET', `${FSP_A}/history?from=2025-06-02&to=2026-06-02`, { as: 'fsp-a' })).status).toBe(200);
    expect((await hub.call('GET', `${FSP_A}/history`, { as: 'installer' })).status).toBe(403);
  });
});
