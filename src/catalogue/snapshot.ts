import type { Clock } from '../ports';
import type { Sql } from '../storage/db';
import {
  ALIAS_SCHEMES,
  ASSET_CATEGORIES,
  ASSET_STATUSES,
  CONNECTION_STATUSES,
  CONNECTION_TYPES,
  DEFAULT_DEMAND_TECHNOLOGY,
  DEFAULT_ENERGY_SOURCE,
  DEMAND_CATEGORIES,
  DEMAND_TECHNOLOGIES,
  ENERGY_CONVERSION_TYPES,
  DISTRIBUTOR_DNO,
  ENERGY_SOURCES,
  GENERATING_CATEGORIES,
  GSP_GROUPS,
  IDENTIFIER_SCHEMES,
  IDNO_CODES,
  ORGANISATION_STATUSES,
  ORGANISATION_TYPES,
} from './codes';
import { ORGANISATION_ROLES } from '../access/roles';

/**
 * The code lists as validation reads them: an immutable snapshot of every catalogue, loaded in one
 * query and cached per database for CATALOGUE_CACHE_MS (a change made by this instance drops the
 * cache at once). A bulk batch of any size reads one snapshot, never a query per row.
 */

export const CATALOGUE_NAMES = [
  'asset-categories',
  'energy-sources',
  'demand-technologies',
  'energy-conversion-types',
  'connection-statuses',
  'connection-types',
  'asset-statuses',
  'dno-codes',
  'gsp-groups',
  'organisation-types',
  'organisation-roles',
  'organisation-statuses',
  'identifier-schemes',
  'alias-schemes',
] as const;
export type CatalogueName = (typeof CATALOGUE_NAMES)[number];

/** One code as validation needs it. */
export interface CodeEntry {
  catalogue: string;
  code: string;
  active: boolean;
  /** Calendar dates, YYYY-MM-DD; `effectiveTo` is exclusive. */
  effectiveFrom: string | null;
  effectiveTo: string | null;
  attributes: Record<string, unknown>;
}

export type CodeState = 'ok' | 'unknown' | 'inactive' | 'not-yet' | 'ended';

/** Whether a code may be given as a new value on `date` (YYYY-MM-DD). */
export function codeState(e: CodeEntry | undefined, date: string): CodeState {
  if (!e) return 'unknown';
  if (!e.active) return 'inactive';
  if (e.effectiveFrom && date < e.effectiveFrom) return 'not-yet';
  if (e.effectiveTo && date >= e.effectiveTo) return 'ended';
  return 'ok';
}

export class CatalogueSnapshot {
  private readonly byCatalogue = new Map<string, Map<string, CodeEntry>>();
  private readonly distributors = new Map<string, string>();

  constructor(entries: Iterable<CodeEntry>) {
    for (const e of entries) {
      let m = this.byCatalogue.get(e.catalogue);
      if (!m) this.byCatalogue.set(e.catalogue, (m = new Map()));
      m.set(e.code, e);
      const d = e.catalogue === 'dno-codes' ? e.attributes.distributorId : undefined;
      if (typeof d === 'string') this.distributors.set(d, e.code);
    }
  }

  get(catalogue: CatalogueName, code: string): CodeEntry | undefined {
    return this.byCatalogue.get(catalogue)?.get(code);
  }

  state(catalogue: CatalogueName, code: string, date: string): CodeState {
    return codeState(this.get(catalogue, code), date);
  }

  codes(catalogue: CatalogueName): CodeEntry[] {
    return [...(this.byCatalogue.get(catalogue)?.values() ?? [])];
  }

  /** The DNO code an MPAN distributor ID (10–36) names, whatever the code's state: the MPAN says where the asset is. */
  dnoForDistributor(id: string): string | undefined {
    return this.distributors.get(id);
  }
}

/** The seed as a snapshot: what 014_catalogues.sql inserts, built from the constants (the fallback for pure callers). */
function builtInEntries(): CodeEntry[] {
  const out: CodeEntry[] = [];
  const add = (
    catalogue: CatalogueName,
    codes: readonly string[],
    attrs: (c: string) => Record<string, unknown> = () => ({}),
    active = true,
  ) => {
    for (const code of codes) out.push({ catalogue, code, active, effectiveFrom: null, effectiveTo: null, attributes: attrs(code) });
  };
  const kind = (c: string) =>
    c === 'BESS'
      ? 'storage'
      : (GENERATING_CATEGORIES as readonly string[]).includes(c)
        ? 'generating'
        : (DEMAND_CATEGORIES as readonly string[]).includes(c)
          ? 'demand'
          : 'other';
  add('asset-categories', ASSET_CATEGORIES, (c) => {
    const a: Record<string, unknown> = { kind: kind(c) };
    const es = (DEFAULT_ENERGY_SOURCE as Record<string, string | undefined>)[c];
    const dt = (DEFAULT_DEMAND_TECHNOLOGY as Record<string, string | undefined>)[c];
    if (es) a.defaultEnergySource = es;
    if (dt) a.defaultDemandTechnology = dt;
    return a;
  });
  add('energy-sources', ENERGY_SOURCES);
  add('demand-technologies', DEMAND_TECHNOLOGIES);
  add('energy-conversion-types', ENERGY_CONVERSION_TYPES);
  add('connection-statuses', CONNECTION_STATUSES.active, (c) => (c === 'CONNECTED' ? { connected: true } : {}));
  add('connection-statuses', CONNECTION_STATUSES.inactive, () => ({}), false);
  add('connection-types', CONNECTION_TYPES.active);
  add('connection-types', CONNECTION_TYPES.inactive, () => ({}), false);
  add('asset-statuses', ASSET_STATUSES);
  add('dno-codes', Object.values(DISTRIBUTOR_DNO), (c) => ({
    distributorId: Object.entries(DISTRIBUTOR_DNO).find(([, v]) => v === c)![0],
  }));
  add('dno-codes', IDNO_CODES, (c) => ({ distributorId: c.slice(5) }));
  add('gsp-groups', GSP_GROUPS);
  add('organisation-types', ORGANISATION_TYPES);
  add('organisation-roles', ORGANISATION_ROLES);
  add('organisation-statuses', ORGANISATION_STATUSES);
  add('identifier-schemes', IDENTIFIER_SCHEMES);
  add('alias-schemes', ALIAS_SCHEMES);
  return out;
}

export const BUILT_IN_ENTRIES: readonly CodeEntry[] = builtInEntries();
export const BUILT_IN: CatalogueSnapshot = new CatalogueSnapshot(BUILT_IN_ENTRIES);

/** How long another instance's catalogue change may take to reach this one. */
export const CATALOGUE_CACHE_MS = 5_000;

interface Cached {
  loadedAt: number;
  generation: number;
  snapshot: Promise<CatalogueSnapshot>;
}
const cache = new WeakMap<object, Cached>();
let generation = 0;

const iso = (d: unknown) => (d == null ? null : typeof d === 'string' ? d.slice(0, 10) : (d as Date).toISOString().slice(0, 10));

/** A catalogue_code row as loadSnapshot reads it (dates as text). */
export interface EntryRow {
  catalogue: string;
  code: string;
  active: boolean;
  effective_from: string | null;
  effective_to: string | null;
  attributes: Record<string, unknown> | null;
}

export function toEntry(r: EntryRow): CodeEntry {
  return {
    catalogue: r.catalogue,
    code: r.code,
    active: !!r.active,
    effectiveFrom: iso(r.effective_from),
    effectiveTo: iso(r.effective_to),
    attributes: r.attributes ?? {},
  };
}

/** Read every code in one statement (a few hundred rows). */
export async function loadSnapshot(db: Sql): Promise<CatalogueSnapshot> {
  const rows = await db.query<EntryRow>(
    `SELECT catalogue, code, active, effective_from::text AS effective_from, effective_to::text AS effective_to, attributes FROM catalogue_code`,
  );
  return new CatalogueSnapshot(rows.map(toEntry));
}

/**
 * The catalogue snapshot of database `db`: cached for CATALOGUE_CACHE_MS by the clock, reloaded
 * after a change on this instance. Inside an open transaction pass its handle as `via`: a cache miss
 * then reads through it (PGlite has one connection, so `db` would wait for the transaction).
 */
export function catalogueSnapshot(db: Sql, clock: Clock, via?: Sql): Promise<CatalogueSnapshot> {
  const now = clock.now().getTime();
  const hit = cache.get(db);
  if (hit && hit.generation === generation && now - hit.loadedAt >= 0 && now - hit.loadedAt < CATALOGUE_CACHE_MS) return hit.snapshot;
  const entry: Cached = { loadedAt: now, generation, snapshot: loadSnapshot(via ?? db) };
  cache.set(db, entry);
  entry.snapshot.catch(() => {
    if (cache.get(db) === entry) cache.delete(db);
  });
  return entry.snapshot;
}

/** In-process signal that a catalogue changed: every cached snapshot is dropped (as revocations does for auth caches). */
export const catalogueChanges = {
  emit(): void {
    generation++;
  },
};
