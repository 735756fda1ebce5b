import type { AnalyticsSettings } from '../config';
import type { Ctx } from '../context';
import { DIMENSIONS, type Contribution } from './disclosure';

/**
 * Dated snapshots of the public analytics (UC-05.02, docs/analytics.md). The statistics change once
 * a day at most, and between two consecutive snapshots a change to the register is released only
 * finest cell by finest cell (dno × gspGroup × category × status), when the change of that cell
 * itself passes the disclosure rules: at least `minAssets` assets changed, no FSP holding more than
 * `dominance` of any changed capacity. Otherwise the cell keeps its previous figures, so comparing
 * two snapshots reveals nothing about one new, changed or removed asset. Every coarser table is
 * summed from the released finest cells, so no margin moves unless a finest cell was released.
 */

export interface Snapshot {
  date: string;
  takenAt: string;
  contributions: Contribution[];
}

const MEASURES = ['ratedKw', 'generationKw', 'demandKw'] as const;
const cellKey = (c: Contribution) => JSON.stringify(DIMENSIONS.map((d) => c.keys[d]));

function byCell(rows: Contribution[]): Map<string, Contribution[]> {
  const out = new Map<string, Contribution[]>();
  for (const r of rows) (out.get(cellKey(r)) ?? out.set(cellKey(r), []).get(cellKey(r))!).push(r);
  return out;
}

/** The per-FSP change of one finest cell, in absolute values: how many assets and how much of each capacity moved. */
function changeOf(before: Contribution[], after: Contribution[]) {
  const fsps = new Map<string, { assets: number } & Record<(typeof MEASURES)[number], number>>();
  const add = (r: Contribution, sign: number) => {
    const cur = fsps.get(r.fspId) ?? { assets: 0, ratedKw: 0, generationKw: 0, demandKw: 0 };
    cur.assets += sign * r.assets;
    for (const m of MEASURES) cur[m] += sign * r[m];
    fsps.set(r.fspId, cur);
  };
  before.forEach((r) => add(r, -1));
  after.forEach((r) => add(r, 1));
  return [...fsps.values()].map((v) => ({
    assets: Math.abs(v.assets),
    ratedKw: Math.abs(v.ratedKw),
    generationKw: Math.abs(v.generationKw),
    demandKw: Math.abs(v.demandKw),
  }));
}

/** Whether a finest cell's change may be released: the threshold and dominance rules applied to the change itself. */
export function changeReleasable(before: Contribution[], after: Contribution[], policy: AnalyticsSettings): boolean | 'none' {
  const change = changeOf(before, after);
  // Rounded to the published precision: a change no table can show is no change.
  if (change.every((c) => c.assets === 0 && MEASURES.every((m) => Math.round(c[m] * 100) === 0))) return 'none';
  if (change.reduce((s, c) => s + c.assets, 0) < policy.minAssets) return false;
  for (const m of MEASURES) {
    const total = change.reduce((s, c) => s + c[m], 0);
    if (total > 0 && change.some((c) => c[m] / total > policy.dominance)) return false;
  }
  return true;
}

/**
 * The contributions a new snapshot publishes: the register as it is now (`current`) in every finest
 * cell whose change since `previous` may be released, the previous figures elsewhere. The first
 * snapshot (no previous) takes the register as it is: a single snapshot is protected by the
 * suppression rules of disclosure.ts alone.
 */
export function releasedContributions(
  previous: Contribution[] | undefined,
  current: Contribution[],
  policy: AnalyticsSettings,
): Contribution[] {
  if (!previous) return current;
  const before = byCell(previous);
  const after = byCell(current);
  const out: Contribution[] = [];
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    const b = before.get(key) ?? [];
    const a = after.get(key) ?? [];
    out.push(...(changeReleasable(b, a, policy) === true ? a : b));
  }
  return out;
}

/** The one SQL over the register: the analytics view (migration 010) grouped by every dimension and FSP. */
async function currentContributions(ctx: Ctx): Promise<Contribution[]> {
  const rows = await ctx.db.query<{
    dno: string | null;
    gsp_group: string | null;
    category: string;
    status: string;
    fsp_id: string;
    assets: number;
    rated: string | null;
    generation: string | null;
    demand: string | null;
  }>(
    `SELECT dno, gsp_group, category, status, fsp_id, count(*)::int AS assets,
            sum(rated_capacity_kw)::text AS rated, sum(generation_capacity_kw)::text AS generation, sum(demand_capacity_kw)::text AS demand
       FROM analytics_registered_asset
      GROUP BY dno, gsp_group, category, status, fsp_id`,
  );
  return rows.map((r) => ({
    keys: { dno: r.dno ?? null, gspGroup: r.gsp_group ?? null, category: r.category, status: r.status },
    fspId: r.fsp_id,
    assets: Number(r.assets),
    ratedKw: Number(r.rated),
    generationKw: Number(r.generation),
    demandKw: Number(r.demand),
  }));
}

const dateOf = (d: Date) => d.toISOString().slice(0, 10);
const toSnapshot = (r: { snapshot_date: unknown; taken_at: unknown; contributions: Contribution[] }): Snapshot => ({
  date: typeof r.snapshot_date === 'string' ? r.snapshot_date.slice(0, 10) : dateOf(r.snapshot_date as Date),
  takenAt: new Date(r.taken_at as string).toISOString(),
  contributions: r.contributions,
});

async function storedSnapshot(ctx: Ctx, date: string): Promise<Snapshot | undefined> {
  const [r] = await ctx.db.query<{ snapshot_date: string; taken_at: Date; contributions: Contribution[] }>(
    `SELECT snapshot_date::text AS snapshot_date, taken_at, contributions FROM analytics_snapshot WHERE snapshot_date = $1::date`,
    [date],
  );
  return r ? toSnapshot(r) : undefined;
}

/**
 * The snapshot of `date`: the stored one; for today, taken now if there is none yet (every
 * instance computes the same way and the first insert wins, so all answer the same figures).
 * A past day without a snapshot, or a future day, has none.
 */
export async function snapshotOf(ctx: Ctx, date: string, policy: AnalyticsSettings): Promise<Snapshot | undefined> {
  const stored = await storedSnapshot(ctx, date);
  const now = ctx.clock.now();
  if (stored || date !== dateOf(now)) return stored;
  const [prev] = await ctx.db.query<{ contributions: Contribution[] }>(
    `SELECT contributions FROM analytics_snapshot WHERE snapshot_date < $1::date ORDER BY snapshot_date DESC LIMIT 1`,
    [date],
  );
  const released = releasedContributions(prev?.contributions, await currentContributions(ctx), policy);
  await ctx.db.query(
    `INSERT INTO analytics_snapshot (snapshot_date, taken_at, contributions) VALUES ($1::date, $2::timestamptz, $3::jsonb) ON CONFLICT (snapshot_date) DO NOTHING`,
    [date, now.toISOString(), released],
  );
  return storedSnapshot(ctx, date);
}

/** The dates published, newest first (at most a year's worth per page). */
export async function snapshotDates(ctx: Ctx): Promise<{ date: string; takenAt: string }[]> {
  const rows = await ctx.db.query<{ snapshot_date: string; taken_at: Date }>(
    `SELECT snapshot_date::text AS snapshot_date, taken_at FROM analytics_snapshot ORDER BY snapshot_date DESC LIMIT 366`,
  );
  return rows.map((r) => ({ date: String(r.snapshot_date).slice(0, 10), takenAt: new Date(r.taken_at).toISOString() }));
}

export const todayOf = (ctx: Ctx) => dateOf(ctx.clock.now());
