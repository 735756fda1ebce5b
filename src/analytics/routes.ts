import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import { ANALYTICS_DEFAULTS, type AnalyticsSettings } from '../config';
import type { Ctx } from '../context';
import { ProblemSchema, validationHook } from '../http/common';
import { Problem } from '../http/problem';
import { isCalendarDate } from '../http/validation';
import { DIMENSIONS, maskOf, protectedLattice, sumOf, primaryReason, type Cell, type Dimension, type Lattice } from './disclosure';
import { snapshotDates, snapshotOf, todayOf, type Snapshot } from './snapshots';

/**
 * Public, unauthenticated capacity statistics (UC-05.02), under /public/analytics: no token, no
 * rate-limit counter in the database. Figures come from dated snapshots (./snapshots.ts), one per
 * UTC day, so two reads on one day always agree and consecutive days differ only by released
 * changes. Each snapshot's protected lattice is computed once per instance and answered from memory.
 * Policy and method: docs/analytics.md.
 */
export const CACHE_MS = 60_000;
const tags = ['Analytics'];
/** Snapshots whose lattice an instance keeps in memory (today and recent days asked for). */
const KEPT_SNAPSHOTS = 8;

const round = (n: number) => Math.round(n * 100) / 100;

interface Published {
  snapshot: Snapshot;
  lattice: Lattice;
}

/** The protected lattice of a date's snapshot; concurrent callers share one computation, a snapshot never changes. */
export function analyticsSource(ctx: Ctx, settings: AnalyticsSettings = ANALYTICS_DEFAULTS) {
  const kept = new Map<string, Promise<Published | undefined>>();
  return {
    settings,
    published(date: string): Promise<Published | undefined> {
      let hit = kept.get(date);
      if (!hit) {
        hit = snapshotOf(ctx, date, settings).then((snapshot) =>
          snapshot ? { snapshot, lattice: protectedLattice(snapshot.contributions, settings) } : undefined,
        );
        const entry = hit;
        // Only a found snapshot is kept: "none yet" for today may change at the next request.
        entry.then(
          (p) => {
            if (!p && kept.get(date) === entry) kept.delete(date);
          },
          () => {
            if (kept.get(date) === entry) kept.delete(date);
          },
        );
        kept.set(date, entry);
        if (kept.size > KEPT_SNAPSHOTS) kept.delete(kept.keys().next().value!);
      }
      return hit;
    },
  };
}

const Values = z.object({
  assets: z.number().int(),
  ratedCapacityKw: z.number(),
  generationCapacityKw: z.number(),
  demandCapacityKw: z.number(),
});
const Suppression = z.enum(['ANALYTICS-CELL-TOO-FEW-ASSETS', 'ANALYTICS-CELL-DOMINANT', 'ANALYTICS-CELL-SECONDARY']);
const CapacityCell = z
  .object({
    dno: z.string().nullable().optional(),
    gspGroup: z.string().nullable().optional(),
    category: z.string().optional(),
    status: z.string().optional(),
    suppressed: z.literal(false).openapi({
      description:
        'Always false: suppressed cells are not listed (their dimension values would say they exist); they are counted in `other`',
    }),
  })
  .merge(Values)
  .openapi('AnalyticsCapacityCell');
const Total = z
  .object({ suppressed: z.boolean(), reason: Suppression.optional(), cells: z.number().int().optional() })
  .merge(Values.partial());
const Answer = z
  .object({
    by: z.array(z.enum(DIMENSIONS)),
    snapshotDate: z.string().openapi({ format: 'date', description: 'The UTC day of the snapshot the figures come from' }),
    computedAt: z.string().openapi({
      description:
        'When that snapshot was taken from the register (changes are released between snapshots only where they pass the rules, docs/analytics.md)',
    }),
    policy: z.object({ minAssets: z.number().int(), dominance: z.number(), method: z.string() }),
    cells: z.array(CapacityCell),
    other: Total.nullable().openapi({
      description:
        'The suppressed cells together (`cells`: how many), published only when that total passes the rules itself; null when nothing is suppressed',
    }),
    total: Total.openapi({ description: 'Every registered asset (the grand total), itself subject to the rules' }),
  })
  .openapi('AnalyticsCapacity');

const values = (c: Cell['agg']) => ({
  assets: c.assets,
  ratedCapacityKw: round(c.ratedKw),
  generationCapacityKw: round(c.generationKw),
  demandCapacityKw: round(c.demandKw),
});

/** Parse `by=dno,category`: known dimensions, each once; empty = the grand total alone. */
export function parseBy(raw: string | undefined): Dimension[] {
  const parts = (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = parts.filter((p) => !(DIMENSIONS as readonly string[]).includes(p));
  if (bad.length || new Set(parts).size !== parts.length)
    throw new Problem(
      'ANALYTICS-BY-INVALID',
      `by lists dimensions from ${DIMENSIONS.join(', ')}, each once${bad.length ? `; unknown: ${bad.join(', ')}` : ''}.`,
    );
  return DIMENSIONS.filter((d) => parts.includes(d));
}

/** `date=YYYY-MM-DD`, a real calendar day, or undefined for today. */
export function parseDate(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (!isCalendarDate(raw)) throw new Problem('ANALYTICS-DATE-INVALID', `"${raw}" is not a calendar date YYYY-MM-DD.`);
  return raw;
}

export function analyticsRoutes(ctx: Ctx, settings: AnalyticsSettings = ANALYTICS_DEFAULTS) {
  const source = analyticsSource(ctx, settings);
  const app = new OpenAPIHono({ defaultHook: validationHook });
  const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: ProblemSchema } } });

  app.openapi(
    createRoute({
      method: 'get',
      path: '/capacity',
      tags,
      summary:
        'Public: count and capacity (kW) of registered assets per cell, from a dated daily snapshot, with small and dominated cells suppressed (no token)',
      description:
        'Anonymisation policy and method: docs/analytics.md. Figures come from one snapshot per UTC day (today’s by default, taken at its first request); between consecutive snapshots a cell’s change is released only where the change itself passes the rules. Cells with fewer than the minimum number of assets, or where one controlling FSP holds more than the dominance share of a capacity, are suppressed, and further cells are suppressed so that none can be derived from a published total; suppressed cells are not listed, only counted in `other`.',
      request: {
        query: z.object({
          by: z
            .string()
            .max(100)
            .optional()
            .openapi({
              description: `Comma-separated dimensions from ${DIMENSIONS.join(', ')}; empty for the grand total only`,
              example: 'dno,category',
            }),
          date: z
            .string()
            .max(10)
            .optional()
            .openapi({ format: 'date', description: 'The snapshot day (YYYY-MM-DD, UTC); default today', example: '2026-12-01' }),
        }),
      },
      responses: {
        200: { description: 'The protected table', content: { 'application/json': { schema: Answer } } },
        400: problem('Unknown or repeated dimension, or a malformed date'),
        404: problem('No snapshot of that day'),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const by = parseBy(q.by);
      const today = todayOf(ctx);
      const date = parseDate(q.date) ?? today;
      const published = await source.published(date);
      if (!published)
        throw new Problem(
          'ANALYTICS-SNAPSHOT-NOT-FOUND',
          `No snapshot of ${date}: snapshots are taken once a day, at the day's first request; GET /public/analytics/snapshots lists them.`,
        );
      const lat = published.lattice;
      const table = lat.get(maskOf(by))!;
      const cells = [...table.cells.values()]
        .filter((cell) => !cell.suppressed)
        .sort((a, b) => JSON.stringify(a.values).localeCompare(JSON.stringify(b.values)))
        .map((cell) => ({ ...Object.fromEntries(by.map((d, i) => [d, cell.values[i]])), suppressed: false as const, ...values(cell.agg) }));
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
      const total = !grand
        ? { suppressed: true, reason: 'ANALYTICS-CELL-TOO-FEW-ASSETS' as const }
        : grand.suppressed
          ? { suppressed: true, reason: grand.suppressed }
          : { suppressed: false, ...values(grand.agg) };
      // Today's snapshot holds until the day ends; a past day's never changes.
      c.header('cache-control', date === today ? `public, max-age=${CACHE_MS / 1000}` : 'public, max-age=86400, immutable');
      return c.json(
        {
          by,
          snapshotDate: published.snapshot.date,
          computedAt: published.snapshot.takenAt,
          policy: { ...settings, method: 'docs/analytics.md' },
          cells,
          other,
          total,
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/snapshots',
      tags,
      summary: 'Public: the days a capacity snapshot was taken, newest first (no token)',
      responses: {
        200: {
          description: 'Snapshot days',
          content: {
            'application/json': {
              schema: z.object({ items: z.array(z.object({ date: z.string(), takenAt: z.string() })) }).openapi('AnalyticsSnapshots'),
            },
          },
        },
      },
    }),
    async (c) => {
      c.header('cache-control', `public, max-age=${CACHE_MS / 1000}`);
      return c.json({ items: await snapshotDates(ctx) }, 200);
    },
  );
  return app;
}
