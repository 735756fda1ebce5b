import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app';
import { deregisterAsset, registerAssets } from '../src/assets/service';
import { ConfigError, loadConfig } from '../src/config';
import { DIMENSIONS, protectedLattice, type Contribution, type Dimension } from '../src/analytics/disclosure';
import { registerOrganisation } from '../src/organisations/service';
import { batteryInput, mpanFor, testHub, type TestHub } from './harness';

/** UC-05.02: public capacity analytics, with small-cell, dominance and secondary suppression. */

let hub: TestHub;
const fsp: Record<'f1' | 'f2' | 'f3', string> = { f1: '', f2: '', f3: '' };
const identifying: string[] = [];
let n = 0;

/** `count` assets in one cell, controlled by one FSP. */
function assets(count: number, fspId: string, dno: string, distributor: string, category: 'BESS' | 'EV_CHARGER') {
  return Array.from({ length: count }, () => {
    const i = ++n;
    const caps =
      category === 'BESS'
        ? { ratedCapacityKw: 5, generationCapacityKw: 5, demandCapacityKw: 5 }
        : { ratedCapacityKw: 7, demandCapacityKw: 7 };
    const row = batteryInput(i, {
      name: `Analytics asset ${i}`,
      category,
      ...caps,
      organisationId: fspId,
      fspId,
      dno,
      importMpan: mpanFor(500_000 + i, distributor),
      serialNumber: `AN-${i}`,
      location: { postcode: 'G1 1AA', gspGroup: '_N' },
    });
    identifying.push(row.name as string, row.importMpan as string, row.serialNumber as string);
    return row;
  });
}

/**
 * The known dataset (kW):
 *   SPEN_SPM  × BESS  12 (f1 6, f2 6)      SPEN_SPM  × EV 10 (f1 5, f2 5)
 *   UKPN_EPN  × BESS   3 (f3)               UKPN_EPN  × EV 20 (f3 18, f1 2: f3 holds 0.9)
 *   NGED_WMID × BESS  11 (f1 6, f2 5)
 * plus one de-registered asset, which must count nowhere.
 */
beforeAll(async () => {
  hub = await testHub({ seed: false });
  for (const [k, i] of [
    ['f1', 1],
    ['f2', 2],
    ['f3', 3],
  ] as const) {
    const o = await registerOrganisation(hub.ctx, hub.system, {
      legalName: `Analytics FSP ${i} Ltd`,
      organisationType: 'LTD',
      registrationNumber: `0970000${i}`,
      roles: ['FSP'],
      status: 'ACTIVE',
    });
    fsp[k] = o.id;
    identifying.push(o.id, o.legalName);
  }
  const rows = [
    ...assets(6, fsp.f1, 'SPEN_SPM', '13', 'BESS'),
    ...assets(6, fsp.f2, 'SPEN_SPM', '13', 'BESS'),
    ...assets(5, fsp.f1, 'SPEN_SPM', '13', 'EV_CHARGER'),
    ...assets(5, fsp.f2, 'SPEN_SPM', '13', 'EV_CHARGER'),
    ...assets(3, fsp.f3, 'UKPN_EPN', '10', 'BESS'),
    ...assets(18, fsp.f3, 'UKPN_EPN', '10', 'EV_CHARGER'),
    ...assets(2, fsp.f1, 'UKPN_EPN', '10', 'EV_CHARGER'),
    ...assets(6, fsp.f1, 'NGED_WMID', '14', 'BESS'),
    ...assets(5, fsp.f2, 'NGED_WMID', '14', 'BESS'),
    ...assets(1, fsp.f1, 'SPEN_SPM', '13', 'BESS'),
  ];
  const out = await registerAssets(hub.ctx, hub.system, rows, { source: 'test' });
  expect(out.ok, JSON.stringify(out.results.filter((r) => r.status === 'rejected')).slice(0, 500)).toBe(true);
  out.assets.forEach((a) => identifying.push(a.id));
  const gone = out.assets.at(-1)!;
  await deregisterAsset(hub.ctx, hub.system, gone.id, { reason: 'analytics test: de-registered assets are not counted' });
}, 60_000);
afterAll(async () => {
  await hub?.close();
});

const get = (by: string) => hub.call('GET', `/public/analytics/capacity${by === '' ? '' : `?by=${by}`}`);

describe('GET /public/analytics/capacity', () => {
  it('needs no token, and says how long it may be cached', async () => {
    const r = await get('category');
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toBe('public, max-age=60');
    expect(r.json.policy).toMatchObject({ minAssets: 10, dominance: 0.8 });
  });

  it('counts and sums registered assets per cell (de-registered ones excluded)', async () => {
    const r = await get('category');
    expect(r.json.by).toEqual(['category']);
    expect(r.json.cells).toEqual([
      { category: 'BESS', suppressed: false, assets: 26, ratedCapacityKw: 130, generationCapacityKw: 130, demandCapacityKw: 130 },
      { category: 'EV_CHARGER', suppressed: false, assets: 30, ratedCapacityKw: 210, generationCapacityKw: 0, demandCapacityKw: 210 },
    ]);
    expect(r.json.other).toBeNull();
    expect(r.json.total).toEqual({ suppressed: false, assets: 56, ratedCapacityKw: 340, generationCapacityKw: 130, demandCapacityKw: 340 });
  });

  it('suppresses a dominated cell, then the smallest other cell so the grand total cannot give it away', async () => {
    const r = await get('dno');
    // f3 holds (3·5 + 18·7) / 155 = 0.91 of UKPN_EPN's rated capacity (dominance), then NGED_WMID is
    // suppressed too (secondary); neither is listed: a suppressed cell does not say its DNO has assets.
    expect(r.json.cells).toEqual([
      { dno: 'SPEN_SPM', suppressed: false, assets: 22, ratedCapacityKw: 130, generationCapacityKw: 60, demandCapacityKw: 130 },
    ]);
    expect(r.text).not.toContain('UKPN_EPN');
    expect(r.text).not.toContain('NGED_WMID');
    // The two hidden cells are published only together (34 assets, no FSP above 0.8).
    expect(r.json.other).toEqual({
      suppressed: false,
      cells: 2,
      assets: 34,
      ratedCapacityKw: 210,
      generationCapacityKw: 70,
      demandCapacityKw: 210,
    });
    expect(r.json.total.assets - 22).toBe(r.json.other.assets);
  });

  it('suppresses small cells, and protects them against the margins of the coarser tables', async () => {
    const r = await get('category,dno');
    expect(r.json.by).toEqual(['dno', 'category']);
    // Every cell is suppressed (UKPN_EPN/BESS too few, UKPN_EPN/EV_CHARGER dominated, the rest
    // secondary): none is listed, all five are counted together in `other`.
    expect(r.json.cells).toEqual([]);
    expect(r.json.other).toEqual({
      suppressed: false,
      cells: 5,
      assets: 56,
      ratedCapacityKw: 340,
      generationCapacityKw: 130,
      demandCapacityKw: 340,
    });
    // SPEN_SPM/BESS and /EV_CHARGER pass on their own (12 and 10 assets, two FSPs), but by=dno
    // publishes SPEN_SPM (22) and by=category publishes EV_CHARGER (30): publishing either would
    // let UKPN_EPN/EV_CHARGER (20 = 30 − 10) be subtracted out.
  });

  it('no suppressed cell can be derived by subtracting published cells from a published margin, in any pair of tables', async () => {
    const subsets = Array.from({ length: 1 << DIMENSIONS.length }, (_, m) => DIMENSIONS.filter((_, i) => m & (1 << i)));
    const tables = new Map<string, any>();
    for (const dims of subsets) tables.set(dims.join(','), (await get(dims.join(','))).json);
    let margins = 0;
    let checkedLines = 0;
    for (const fine of subsets) {
      for (const coarse of subsets.filter((c) => c.length < fine.length && c.every((d) => fine.includes(d)))) {
        const key = (cell: any, dims: Dimension[]) => JSON.stringify(dims.map((d) => cell[d] ?? null));
        const fineCells = tables.get(fine.join(',')).cells;
        const coarseCells = coarse.length ? tables.get(coarse.join(',')).cells : [{ ...tables.get('').total }];
        // Suppressed cells are not listed: a published margin minus its published cells is what is hidden.
        for (const m of coarseCells.filter((c: any) => !c.suppressed)) {
          margins++;
          const line = fineCells.filter((c: any) => key(c, coarse) === key(m, coarse));
          const derived = m.assets - line.reduce((s: number, c: any) => s + c.assets, 0);
          if (derived === 0) continue;
          checkedLines++;
          // What an attacker gets by subtraction: a total that passes the rules (two or more cells together).
          expect(derived, `${fine}/${coarse} ${key(m, coarse)}`).toBeGreaterThanOrEqual(10);
        }
      }
    }
    expect(margins).toBeGreaterThan(10);
    expect(checkedLines).toBeGreaterThan(3);
  });

  it('identifies no asset or organisation, and publishes no cell below the threshold', async () => {
    // The finest breakdown publishes nothing: every cell of it is below the threshold.
    for (const [by, published] of [
      ['', 1],
      ['dno', 1],
      ['category', 2],
      ['status', 1],
      ['gspGroup', 1],
      ['dno,gspGroup,category,status', 0],
    ] as const) {
      const r = await get(by);
      expect(r.json.cells, by).toHaveLength(published);
      for (const s of identifying) expect(r.text).not.toContain(s);
      for (const c of r.json.cells) expect(c.assets).toBeGreaterThanOrEqual(10);
      for (const c of r.json.cells) expect(c.suppressed).toBe(false);
    }
  });

  it('refuses an unknown or repeated dimension with ANALYTICS-BY-INVALID', async () => {
    for (const by of ['fsp', 'dno,dno', 'name']) {
      const r = await get(by);
      expect(r.status).toBe(400);
      expect(r.headers.get('content-type')).toBe('application/problem+json');
      expect(r.json.code).toBe('ANALYTICS-BY-INVALID');
    }
  });

  it('refuses a malformed date (ANALYTICS-DATE-INVALID) and a day without a snapshot (404 ANALYTICS-SNAPSHOT-NOT-FOUND)', async () => {
    for (const d of ['2026-02-30', 'yesterday', '2026-1-01']) {
      const r = await hub.call('GET', `/public/analytics/capacity?date=${d}`);
      expect(r.status).toBe(400);
      expect(r.json.code).toBe('ANALYTICS-DATE-INVALID');
    }
    const r = await hub.call('GET', '/public/analytics/capacity?date=2001-01-01');
    expect(r.status).toBe(404);
    expect(r.json.code).toBe('ANALYTICS-SNAPSHOT-NOT-FOUND');
    expect(await hub.db.query(`SELECT 1 FROM analytics_snapshot WHERE snapshot_date = '2001-01-01'`)).toEqual([]);
  });

  it('differencing: one asset registered between two reads, 65 s or a day apart, reveals nothing; a releasable change shows the next day', async () => {
    const all = async (query = '') => {
      const subsets = Array.from({ length: 1 << DIMENSIONS.length }, (_, m) => DIMENSIONS.filter((_, i) => m & (1 << i)).join(','));
      const out: Record<string, unknown> = {};
      for (const by of subsets) {
        const r = await hub.call('GET', `/public/analytics/capacity?by=${by}${query}`);
        expect(r.status).toBe(200);
        const { snapshotDate: _d, computedAt: _c, ...figures } = r.json;
        out[by] = figures;
      }
      return out;
    };
    const day1 = await all();
    const day1Date = (await get('')).json.snapshotDate;
    // The same day, 65 s later, after a registration: the same snapshot.
    const one = async (dno: string, distributor: string, f = fsp.f2) =>
      expect((await registerAssets(hub.ctx, hub.system, assets(1, f, dno, distributor, 'BESS'), { source: 'test' })).ok).toBe(true);
    await one('SPEN_SPM', '13');
    hub.clock.advance(65_000);
    expect(await all()).toEqual(day1);
    // The next day: one more asset in an existing cell and one in a DNO no table showed: nothing
    // about either (count, capacity, DNO, GSP group, category) appears in any of the 16 tables.
    hub.clock.advance(86_400_000);
    await one('ENWL', '16', fsp.f3);
    const day2 = await all();
    expect(day2).toEqual(day1);
    expect(JSON.stringify(day2)).not.toContain('ENWL');
    expect((await get('')).json.snapshotDate).not.toBe(day1Date);
    // Earlier days stay readable, unchanged.
    expect(await all(`&date=${day1Date}`)).toEqual(day1);
    // Ten assets of two FSPs in one cell: a change the rules let through, published the next day.
    hub.clock.advance(86_400_000);
    const ten = [...assets(5, fsp.f1, 'SPEN_SPM', '13', 'EV_CHARGER'), ...assets(5, fsp.f2, 'SPEN_SPM', '13', 'EV_CHARGER')];
    expect((await registerAssets(hub.ctx, hub.system, ten, { source: 'test' })).ok).toBe(true);
    hub.clock.advance(86_400_000);
    const day4 = (await get('')).json;
    expect(day4.total.assets).toBe((day1[''] as any).total.assets + 10);
    expect(day4.total.ratedCapacityKw).toBe((day1[''] as any).total.ratedCapacityKw + 70);
    const days = (await hub.call('GET', '/public/analytics/snapshots')).json.items.map((s: any) => s.date);
    expect(days).toHaveLength(3);
    expect(days[days.length - 1]).toBe(day1Date);
  });
});

describe('a day’s snapshot across instances', () => {
  it('instances asking at the same moment for a day with no snapshot all answer the one stored snapshot', async () => {
    hub.clock.advance(86_400_000);
    // A change the rules would release, so a snapshot taken from different register states would differ.
    expect(
      (
        await registerAssets(
          hub.ctx,
          hub.system,
          [...assets(5, fsp.f1, 'NGED_WMID', '14', 'BESS'), ...assets(5, fsp.f2, 'NGED_WMID', '14', 'BESS')],
          { source: 'test' },
        )
      ).ok,
    ).toBe(true);
    const instances = Array.from({ length: 4 }, () => buildApp(hub.ports));
    const answers = await Promise.all(
      instances.flatMap((app) =>
        ['', 'dno'].map(async (by) => {
          const res = await app.request(`/public/analytics/capacity?by=${by}`);
          expect(res.status).toBe(200);
          return { by, body: (await res.json()) as any };
        }),
      ),
    );
    const [{ n }] = await hub.db.query(`SELECT count(*)::int AS n FROM analytics_snapshot WHERE snapshot_date = $1::date`, [
      hub.clock.now().toISOString().slice(0, 10),
    ]);
    expect(n).toBe(1);
    for (const by of ['', 'dno']) {
      const same = answers.filter((a) => a.by === by).map((a) => a.body);
      expect(new Set(same.map((b) => JSON.stringify(b))).size).toBe(1);
    }
  });
});

describe('the disclosure rules (src/analytics/disclosure.ts)', () => {
  const row = (dno: string, fspId: string, assets: number, kw: { rated: number; gen?: number; demand?: number }): Contribution => ({
    keys: { dno, gspGroup: null, category: 'BESS', status: 'VERIFIED' },
    fspId,
    assets,
    ratedKw: kw.rated,
    generationKw: kw.gen ?? 0,
    demandKw: kw.demand ?? 0,
  });
  const policy = { minAssets: 10, dominance: 0.8 };

  it('dominance is checked on each capacity: one FSP with most of the generation hides the cell', () => {
    const lat = protectedLattice([row('A', 'x', 10, { rated: 100, gen: 90 }), row('A', 'y', 10, { rated: 100, gen: 10 })], policy);
    expect(lat.get(0)!.cells.values().next().value!.suppressed).toBe('ANALYTICS-CELL-DOMINANT');
    const ok = protectedLattice([row('A', 'x', 10, { rated: 100, gen: 80 }), row('A', 'y', 10, { rated: 100, gen: 20 })], policy);
    expect(ok.get(0)!.cells.values().next().value!.suppressed).toBeUndefined();
  });

  it('the threshold is "fewer than minAssets": 9 is hidden, 10 is shown', () => {
    const nine = protectedLattice([row('A', 'x', 5, { rated: 5 }), row('A', 'y', 4, { rated: 5 })], policy);
    expect(nine.get(0)!.cells.values().next().value!.suppressed).toBe('ANALYTICS-CELL-TOO-FEW-ASSETS');
    const ten = protectedLattice([row('A', 'x', 5, { rated: 5 }), row('A', 'y', 5, { rated: 5 })], policy);
    expect(ten.get(0)!.cells.values().next().value!.suppressed).toBeUndefined();
  });

  it('two small hidden cells whose sum is still small pull in a third', () => {
    // A (3) and B (4) fail; together 7 still fails against the published total, so C (smallest) goes too.
    const lat = protectedLattice(
      [
        row('A', 'x', 2, { rated: 5 }),
        row('A', 'y', 1, { rated: 5 }),
        row('B', 'x', 2, { rated: 5 }),
        row('B', 'y', 2, { rated: 5 }),
        row('C', 'x', 6, { rated: 5 }),
        row('C', 'y', 6, { rated: 5 }),
        row('D', 'x', 10, { rated: 5 }),
        row('D', 'y', 10, { rated: 5 }),
      ],
      policy,
    );
    const byDno = lat.get(1)!;
    expect([...byDno.cells.values()].map((c) => [c.values[0], c.suppressed ?? 'published'])).toEqual([
      ['A', 'ANALYTICS-CELL-TOO-FEW-ASSETS'],
      ['B', 'ANALYTICS-CELL-TOO-FEW-ASSETS'],
      ['C', 'ANALYTICS-CELL-SECONDARY'],
      ['D', 'published'],
    ]);
  });

  it('FMAR_ANALYTICS_MIN_ASSETS and FMAR_ANALYTICS_DOMINANCE are read and checked', () => {
    const env = { FMAR_MODE: 'development' };
    expect(loadConfig(env).analytics).toEqual({ minAssets: 10, dominance: 0.8 });
    expect(loadConfig({ ...env, FMAR_ANALYTICS_MIN_ASSETS: '20', FMAR_ANALYTICS_DOMINANCE: '0.6' }).analytics).toEqual({
      minAssets: 20,
      dominance: 0.6,
    });
    expect(() => loadConfig({ ...env, FMAR_ANALYTICS_DOMINANCE: '1.5' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...env, FMAR_ANALYTICS_MIN_ASSETS: '1' })).toThrow(ConfigError);
  });
});
