/**
 * Statistical disclosure control for the public capacity tables (UC-05.02; policy in
 * docs/analytics.md). Pure: contributions in, every publishable table out.
 *
 * The tables of every combination of the dimensions (the "lattice": 2^4 tables, the grand total
 * included) are protected together, because any of them can be asked for and each is a margin of
 * the finer ones: a cell hidden in `by=dno,category` must not be recoverable by subtracting from
 * the `by=dno` table.
 *
 * 1. Primary suppression, per cell: fewer than `minAssets` assets (threshold rule), or one
 *    controlling FSP holding more than `dominance` of the cell's rated, generation or demand
 *    capacity ((1,k) dominance rule).
 * 2. Secondary suppression, to a fixed point. For every table T, every coarser table C (T's
 *    dimensions minus at least one) and every cell m of C, the cells of T that add up to m:
 *    - if m is published, the suppressed cells among them are none, or at least two whose sum
 *      itself passes the primary rules (so `m − published` reveals only a safe aggregate);
 *      otherwise the smallest published one is suppressed too, or m itself when none is left;
 *    - if m is suppressed, at least one of them is suppressed (else m = their sum).
 */

export const DIMENSIONS = ['dno', 'gspGroup', 'category', 'status'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

export type SuppressionReason = 'ANALYTICS-CELL-TOO-FEW-ASSETS' | 'ANALYTICS-CELL-DOMINANT' | 'ANALYTICS-CELL-SECONDARY';

export interface DisclosurePolicy {
  minAssets: number;
  dominance: number;
}

/** One controlling FSP's assets in one finest cell. */
export interface Contribution {
  keys: Record<Dimension, string | null>;
  fspId: string;
  assets: number;
  ratedKw: number;
  generationKw: number;
  demandKw: number;
}

const MEASURES = ['ratedKw', 'generationKw', 'demandKw'] as const;
type Measure = (typeof MEASURES)[number];

export interface Aggregate {
  assets: number;
  ratedKw: number;
  generationKw: number;
  demandKw: number;
  byFsp: Map<string, Record<Measure, number>>;
}

export interface Cell {
  values: (string | null)[];
  agg: Aggregate;
  suppressed?: SuppressionReason;
}

/** One table of the lattice: its dimensions (in DIMENSIONS order) and its non-empty cells. */
export interface Table {
  mask: number;
  dims: Dimension[];
  cells: Map<string, Cell>;
}

export type Lattice = Map<number, Table>;

const dimsOf = (mask: number) => DIMENSIONS.filter((_, i) => mask & (1 << i));
export const maskOf = (dims: readonly Dimension[]) => dims.reduce((m, d) => m | (1 << DIMENSIONS.indexOf(d)), 0);

function emptyAgg(): Aggregate {
  return { assets: 0, ratedKw: 0, generationKw: 0, demandKw: 0, byFsp: new Map() };
}

function addInto(into: Aggregate, from: { assets: number } & Record<Measure, number>, fspId?: string, byFsp?: Aggregate['byFsp']) {
  into.assets += from.assets;
  for (const m of MEASURES) into[m] += from[m];
  const parts: [string, Record<Measure, number>][] = fspId ? [[fspId, from]] : [...(byFsp ?? [])];
  for (const [f, v] of parts) {
    const cur = into.byFsp.get(f) ?? { ratedKw: 0, generationKw: 0, demandKw: 0 };
    for (const m of MEASURES) cur[m] += v[m];
    into.byFsp.set(f, cur);
  }
}

export function sumOf(cells: Cell[]): Aggregate {
  const a = emptyAgg();
  for (const c of cells) addInto(a, c.agg, undefined, c.agg.byFsp);
  return a;
}

/** The primary rules: why this aggregate may not be published, or undefined when it may. */
export function primaryReason(a: Aggregate, p: DisclosurePolicy): SuppressionReason | undefined {
  if (a.assets < p.minAssets) return 'ANALYTICS-CELL-TOO-FEW-ASSETS';
  for (const m of MEASURES) {
    if (a[m] <= 0) continue;
    for (const v of a.byFsp.values()) if (v[m] / a[m] > p.dominance) return 'ANALYTICS-CELL-DOMINANT';
  }
  return undefined;
}

/** Smallest first (assets, then rated capacity, then key): the cheapest cell to hide as a complement. */
const smallest = (cells: [string, Cell][]) =>
  cells.reduce((a, b) =>
    b[1].agg.assets < a[1].agg.assets ||
    (b[1].agg.assets === a[1].agg.assets && (b[1].agg.ratedKw < a[1].agg.ratedKw || (b[1].agg.ratedKw === a[1].agg.ratedKw && b[0] < a[0])))
      ? b
      : a,
  );

/** Build every table of the lattice from the finest contributions and protect them together. */
export function protectedLattice(rows: Contribution[], policy: DisclosurePolicy): Lattice {
  const lattice: Lattice = new Map();
  for (let mask = 0; mask < 1 << DIMENSIONS.length; mask++) {
    const dims = dimsOf(mask);
    const cells = new Map<string, Cell>();
    for (const r of rows) {
      const values = dims.map((d) => r.keys[d]);
      const key = JSON.stringify(values);
      let cell = cells.get(key);
      if (!cell) cells.set(key, (cell = { values, agg: emptyAgg() }));
      addInto(cell.agg, r, r.fspId);
    }
    for (const cell of cells.values()) cell.suppressed = primaryReason(cell.agg, policy);
    lattice.set(mask, { mask, dims, cells });
  }

  const project = (fine: Table, coarse: Table, values: (string | null)[]) =>
    JSON.stringify(coarse.dims.map((d) => values[fine.dims.indexOf(d)]));
  for (let changed = true; changed;) {
    changed = false;
    for (const fine of lattice.values()) {
      for (const coarse of lattice.values()) {
        if (coarse.mask === fine.mask || (coarse.mask & fine.mask) !== coarse.mask) continue;
        const groups = new Map<string, [string, Cell][]>();
        for (const entry of fine.cells) {
          const k = project(fine, coarse, entry[1].values);
          (groups.get(k) ?? groups.set(k, []).get(k)!).push(entry);
        }
        for (const [k, members] of groups) {
          const margin = coarse.cells.get(k)!;
          const hidden = members.filter(([, c]) => c.suppressed);
          const shown = members.filter(([, c]) => !c.suppressed);
          let needMore: boolean;
          if (margin.suppressed) needMore = hidden.length === 0;
          else needMore = hidden.length > 0 && (hidden.length < 2 || primaryReason(sumOf(hidden.map(([, c]) => c)), policy) !== undefined);
          if (!needMore) continue;
          if (shown.length) smallest(shown)[1].suppressed = 'ANALYTICS-CELL-SECONDARY';
          else margin.suppressed = 'ANALYTICS-CELL-SECONDARY';
          changed = true;
        }
      }
    }
  }
  return lattice;
}
