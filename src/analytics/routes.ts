import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { ANALYTICS_DEFAULTS, type AnalyticsSettings } from '../config';
import type { Ctx } from '../context';
import { ProblemSchema, validationHook } from '../http/common';
import { Problem } from '../http/problem';
import { DIMENSIONS, maskOf, protectedLattice, sumOf, primaryReason, type Cell, type Contribution, type Dimension, type Lattice } from './disclosure';

/**
 * Public, unauthenticated capacity statistics (UC-05.02), under /public/analytics: no token, no
 * rate-limit counter in the database. The protected lattice of every table is computed at most once
 * per CACHE_MS per instance and answered from memory; responses say `Cache-Control: public,
 * max-age=60` so a CDN in front answers repeats. Policy and method: docs/analytics.md.
 */
export const CACHE_MS = 60_000;
const tags = ['Analytics'];

const round = (n: number) => Math.round(n * 100) / 100;

/** The one SQL of the module: the analytics view (migration 010) grouped by every dimension and FSP. */
async function contributions(ctx: Ctx): Promise<Contribution[]> {
  const rows = await ctx.db.query(
    `SELECT dno, gsp_group, category, status, fsp_id, count(*)::int AS assets,
            sum(rated_capacity_kw)::text AS rated, sum(generation_capacity_kw)::text AS generation, sum(demand_capacity_kw)::text AS demand
       FROM analytics_registered_asset
      GROUP BY dno, gsp_group, category, status, fsp_id`);
  return rows.map((r) => ({
    keys: { dno: r.dno ?? null, gspGroup: r.gsp_group ?? null, category: r.category, status: r.status },
    fspId: r.fsp_id, assets: Number(r.assets), ratedKw: Number(r.rated), generationKw: Number(r.generation), demandKw: Number(r.demand),
  }));
}

/** The lattice, recomputed when older than CACHE_MS; concurrent callers share one computation. */
export function analyticsSource(ctx: Ctx, settings: AnalyticsSettings = ANALYTICS_DEFAULTS) {
  let cached: { at: number; lattice: Promise<Lattice> } | undefined;
  return {
    settings,
    lattice(): { at: number; lattice: Promise<Lattice> } {
      const now = ctx.clock.now().getTime();
      if (!cached || now - cached.at >= CACHE_MS) {
        const lattice = contributions(ctx).then((rows) => protectedLattice(rows, settings));
        lattice.catch(() => { if (cached?.lattice === lattice) cached = undefined; });
        cached = { at: now, lattice };
      }
      return cached;
    },
  };
}

const Values = z.object({ assets: z.number().int(), ratedCapacityKw: z.number(), generationCapacityKw: z.number(), demandCapacityKw: z.number() });
const Suppression = z.enum(['ANALYTICS-CELL-TOO-FEW-ASSETS', 'ANALYTICS-CELL-DOMINANT', 'ANALYTICS-CELL-SECONDARY']);
const CapacityCell = z.object({
  dno: z.string().nullable().optional(), gspGroup: z.string().nullable().optional(), category: z.string().optional(), status: z.string().optional(),
  suppressed: z.boolean(),
  reason: Suppression.optional().openapi({ description: 'Why the cell is suppressed (rule code, docs/rules.md)' }),
}).merge(Values.partial()).openapi('AnalyticsCapacityCell');
const Total = z.object({ suppressed: z.boolean(), reason: Suppression.optional(), cells: z.number().int().optional() }).merge(Values.partial());
const Answer = z.object({
  by: z.array(z.enum(DIMENSIONS)),
  computedAt: z.string().openapi({ description: 'When the figures were taken from the register (cached up to 60 s)' }),
  policy: z.object({ minAssets: z.number().int(), dominance: z.number(), method: z.string() }),
  cells: z.array(CapacityCell),
  other: Total.nullable().openapi({ description: 'The suppressed cells together, published only when that total passes the rules itself; null when nothing is suppressed' }),
  total: Total.openapi({ description: 'Every registered asset (the grand total), itself subject to the rules' }),
}).openapi('AnalyticsCapacity');

const values = (c: Cell['agg']) => ({ assets: c.assets, ratedCapacityKw: round(c.ratedKw), generationCapacityKw: round(c.generationKw), demandCapacityKw: round(c.demandKw) });

/** Parse `by=dno,category`: known dimensions, each once; empty = the grand total alone. */
export function parseBy(raw: string | undefined): Dimension[] {
  const parts = (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const bad = parts.filter((p) => !(DIMENSIONS as readonly string[]).includes(p));
  if (bad.length || new Set(parts).size !== parts.length) throw new Problem('ANALYTICS-BY-INVALID', `by lists dimensions from ${DIMENSIONS.join(', ')}, each once${bad.length ? `; unknown: ${bad.join(', ')}` : ''}.`);
  return DIMENSIONS.filter((d) => parts.includes(d));
}

export function analyticsRoutes(ctx: Ctx, settings: AnalyticsSettings = ANALYTICS_DEFAULTS) {
  const source = analyticsSource(ctx, settings);
  const app = new OpenAPIHono({ defaultHook: validationHook });
  const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: ProblemSchema } } });

  app.openapi(createRoute({
    method: 'get', path: '/capacity', tags,
    summary: 'Public: count and capacity (kW) of registered assets per cell, with small and dominated cells suppressed (no token)',
    description: 'Anonymisation policy and method: docs/analytics.md. Cells with fewer than the minimum number of assets, or where one controlling FSP holds more than the dominance share of a capacity, are suppressed, and further cells are suppressed so that none can be derived from a published total. Cached for 60 s.',
    request: { query: z.object({ by: z.string().max(100).optional().openapi({ description: `Comma-separated dimensions from ${DIMENSIONS.join(', ')}; empty for the grand total only`, example: 'dno,category' }) }) },
    responses: { 200: { description: 'The protected table', content: { 'application/json': { schema: Answer } } }, 400: problem('Unknown or repeated dimension') },
  }), async (c) => {
    const by = parseBy(c.req.valid('query').by);
    const { at, lattice } = source.lattice();
    const lat = await lattice;
    const table = lat.get(maskOf(by))!;
    const cells = [...table.cells.values()]
      .sort((a, b) => JSON.stringify(a.values).localeCompare(JSON.stringify(b.values)))
      .map((cell) => ({ ...Object.fromEntries(by.map((d, i) => [d, cell.values[i]])), ...(cell.suppressed ? { suppressed: true, reason: cell.suppressed } : { suppressed: false, ...values(cell.agg) }) }));
    const grand = lat.get(0)!.cells.values().next().value as Cell | undefined;
    const grandHidden = !grand || grand.suppressed !== undefined;
    const hidden = [...table.cells.values()].filter((x) => x.suppressed);
    let other: z.infer<typeof Total> | null = null;
    if (hidden.length) {
      const sum = sumOf(hidden);
      // Never a single cell under another name; otherwise the total must pass the primary rules itself.
      // With a suppressed grand total it is withheld too: other + the published cells = the grand total.
      const reason = hidden.length < 2 || grandHidden ? 'ANALYTICS-CELL-SECONDARY' : primaryReason(sum, settings);
      other = reason ? { suppressed: true, reason } : { suppressed: false, cells: hidden.length, ...values(sum) };
    }
    const total = !grand ? { suppressed: true, reason: 'ANALYTICS-CELL-TOO-FEW-ASSETS' as const } : grand.suppressed ? { suppressed: true, reason: grand.suppressed } : { suppressed: false, ...values(grand.agg) };
    c.header('cache-control', `public, max-age=${CACHE_MS / 1000}`);
    return c.json({ by, computedAt: new Date(at).toISOString(), policy: { ...settings, method: 'docs/analytics.md' }, cells, other, total }, 200);
  });
  return app;
}
