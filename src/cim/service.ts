import {
  CimParseError,
  MRID_ALIAS_SCHEME,
  organisationMrid,
  legacyOrganisationMrid,
  type CimIssue,
  type ExtractedAsset,
  type ParsedModel,
  type PowerUnit,
} from '../../cim/index';
import { checkPermission } from '../access/auth';
import type { Principal } from '../access/principal';
import { recordedBy, seesAll } from '../access/principal';
import type { Ctx } from '../context';
import { Problem } from '../http/problem';
import { registerAssets } from '../assets/service';
import { ASSET_COLS, assetVisibility, toAsset, type AssetRow } from '../assets/store';
import { enrichAssetsIn } from '../assets/change';
import type { Asset } from '../assets/schema';
import type { RuleCode } from '../rules';
import type { Db, Sql } from '../storage/db';
import type { CimParser } from '../ports';
import { inProcessCimParser, yieldToEventLoop } from './parsing';

/** Composes the cim/ library with the register: export streams, import enriches or bulk-loads. */

export { cimExportStream, type CimExportFilter } from './export';

/** A finding of an import: the library's, or the register's own (matching by MPAN). */
export type ImportIssue = Omit<CimIssue, 'code'> & { code: RuleCode };

export interface CimImportOptions {
  mode: 'enrich' | 'bulk-load';
  dryRun: boolean;
  unit: PowerUnit;
  maxBytes: number;
  organisationId?: string;
  /** Where the files are parsed (src/ports.ts CimParser); absent: in process. */
  parser?: CimParser;
}

export interface CimImportReport {
  mode: 'enrich' | 'bulk-load';
  dryRun: boolean;
  unit: PowerUnit;
  files: { name: string; created?: string; profiles: string[]; modelingAuthoritySet?: string }[];
  objects: number;
  classes: Record<string, number>;
  equipment: number;
  matched?: number;
  enriched?: number;
  unchanged?: number;
  registered?: number;
  results?: unknown[];
  issueCounts: Record<string, number>;
  issues: ImportIssue[];
}

/** How far an import has got (an import job shows it while it runs). */
export interface ImportProgress {
  phase: 'parsing' | 'writing';
  bytesParsed: number;
  objectsProcessed: number;
  equipment: number;
}

/**
 * What an import job adds to an import: progress reports between the steps (outside any
 * transaction), and a last write inside the transaction that writes the import, before it commits,
 * so that the change and the job's outcome commit together.
 */
export interface ImportHooks {
  progress?(p: ImportProgress): Promise<void>;
  beforeCommit?(tx: Sql, outcome: { status: number; report: CimImportReport }): Promise<void>;
}

const MAX_ISSUES = 500;

const sizeOf = (c: Uint8Array | string) => (typeof c === 'string' ? c.length : c.byteLength);

/** Parse and merge the files of one model; a refused document is a problem naming where. */
async function parseModel(
  files: { name: string; content: Uint8Array | string }[],
  o: CimImportOptions,
  hooks: ImportHooks,
): Promise<ParsedModel> {
  const total = files.reduce((n, f) => n + sizeOf(f.content), 0);
  if (total > o.maxBytes) throw new Problem('CIM-XML-TOO-LARGE', `The import is ${total} bytes; at most ${o.maxBytes}.`);
  const progress = hooks.progress;
  try {
    return await (o.parser ?? inProcessCimParser).parse(
      files,
      { unit: o.unit, maxBytes: o.maxBytes },
      progress && ((bytesParsed, objectsProcessed) => progress({ phase: 'parsing', bytesParsed, objectsProcessed, equipment: 0 })),
    );
  } catch (e) {
    if (e instanceof CimParseError) throw new Problem(e.code as RuleCode, e.message, e.location ? { location: e.location } : {});
    throw e;
  }
}

/** UC: a DSO pushes its CIM model. Enrich records network references; bulk-load registers new assets. */
export async function importCim(
  ctx: Ctx,
  actor: Principal,
  files: { name: string; content: Uint8Array | string }[],
  o: CimImportOptions,
  hooks: ImportHooks = {},
): Promise<{ status: number; report: CimImportReport }> {
  if (o.mode === 'bulk-load') checkPermission(actor, 'assets.write');
  const names = files.map((f) => f.name);
  const model = await parseModel(files, o, hooks);
  const extracted = model.equipment;
  if (hooks.progress)
    await hooks.progress({ phase: 'writing', bytesParsed: model.bytes, objectsProcessed: model.objects, equipment: extracted.length });
  const issues: ImportIssue[] = [...model.issues];
  const report: CimImportReport = {
    mode: o.mode,
    dryRun: o.dryRun,
    unit: o.unit,
    files: names.map((name) => {
      const h = model.headers.find((x) => x.file === name);
      return { name, created: h?.created, profiles: h?.profiles ?? [], modelingAuthoritySet: h?.modelingAuthoritySet };
    }),
    objects: model.objects,
    classes: model.classes,
    equipment: extracted.length,
    issueCounts: {},
    issues: [],
  };
  const finish = (status: number) => {
    report.issueCounts = {};
    for (const i of issues) report.issueCounts[i.code] = (report.issueCounts[i.code] ?? 0) + 1;
    report.issues = issues.slice(0, MAX_ISSUES);
    return { status, report };
  };
  if (o.mode === 'enrich') {
    return enrich(ctx, actor, extracted, issues, names, o.dryRun, async (tx, counts) => {
      Object.assign(report, counts);
      const out = finish(200);
      if (hooks.beforeCommit) await hooks.beforeCommit(tx, out);
      return out;
    });
  }
  if (extracted.length === 0)
    throw new Problem('BULK-EMPTY', 'The model holds no PowerElectronicsConnection or EnergyConsumer to register.');
  const rows = await bulkRows(ctx, actor, extracted, o.organisationId);
  type Outcome = Awaited<ReturnType<typeof registerAssets>>;
  const complete = (out: Outcome) => {
    report.registered = o.dryRun ? 0 : out.assets.length;
    report.results = out.results.map((r) => ({
      ...r,
      mrid: extracted[r.row].mrid,
      at: extracted[r.row].at,
      ...(extracted[r.row].problems.length ? { problems: extracted[r.row].problems } : {}),
    }));
    return finish(o.dryRun ? 200 : 201);
  };
  // The job's outcome is written in the registration's own transaction (when it writes anything).
  const before = hooks.beforeCommit;
  const db: Db = before
    ? {
        engine: ctx.db.engine,
        close: () => ctx.db.close(),
        query: (t, p) => ctx.db.query(t, p),
        transaction: (fn) =>
          ctx.db.transaction(async (tx) => {
            const r = await fn(tx);
            const out = r as unknown as Outcome;
            if (out && out.ok && !out.dryRun) await before(tx, complete(out));
            return r;
          }),
      }
    : ctx.db;
  const out = await registerAssets({ ...ctx, db }, actor, rows, { dryRun: o.dryRun, source: 'cim' });
  if (!out.ok) {
    const results = out.results.map((r) => ({
      ...r,
      mrid: extracted[r.row].mrid,
      at: extracted[r.row].at,
      ...(extracted[r.row].problems.length ? { problems: extracted[r.row].problems } : {}),
    }));
    const rejected = results.filter((r) => r.status === 'rejected');
    throw new Problem(
      'CIM-IMPORT-ROWS-INVALID',
      `${rejected.length} of ${rows.length} equipment fail the asset rules; nothing was written.`,
      { ...finish(422).report, results: rejected },
    );
  }
  return complete(out);
}

/** Registration rows: the file's owner / FSP organisations found by their mRID. */
async function bulkRows(ctx: Ctx, actor: Principal, extracted: ExtractedAsset[], defaultOrganisation?: string): Promise<unknown[]> {
  const wanted = new Set(
    extracted
      .flatMap((e) => [e.organisationMrid, e.fspMrid])
      .filter((x): x is string => !!x)
      .map((m) => m.toLowerCase()),
  );
  const byMrid = new Map<string, string>();
  if (wanted.size) {
    for (const r of await ctx.db.query<{ id: string }>(`SELECT id FROM organisation`)) {
      const m = organisationMrid(r.id);
      if (wanted.has(m)) byMrid.set(m, r.id);
      // An export from before the UUIDv8 layout names it by its old mRID (docs/decisions.md).
      const old = legacyOrganisationMrid(r.id);
      if (old && wanted.has(old)) byMrid.set(old, r.id);
    }
  }
  return extracted.map((e) => {
    const org = e.organisationMrid ? byMrid.get(e.organisationMrid.toLowerCase()) : undefined;
    const fsp = e.fspMrid ? byMrid.get(e.fspMrid.toLowerCase()) : undefined;
    const parties: Record<string, string> = {};
    // The caller's own organisation is its default; naming another is for the registration rules to refuse.
    if (org && (seesAll(actor) || org !== actor.organisationId)) parties.organisationId = org;
    else if (!org && defaultOrganisation) parties.organisationId = defaultOrganisation;
    if (fsp && (seesAll(actor) || fsp !== actor.organisationId) && fsp !== org) parties.fspId = fsp;
    return { ...e.input, ...parties };
  });
}

/** The network references an import gives one asset, as stored in cim_network_ref. */
interface NetworkRef {
  asset_id: string;
  equipment_mrid: string;
  connectivity_node_mrid: string | null;
  substation_mrid: string | null;
  feeder_mrid: string | null;
}

/** MPANs per lookup: one small statement each, so a model of any size never holds the database long. */
const MPAN_BATCH = 500;
/** Equipment handled between two yields to the event loop. */
const YIELD_EVERY = 2000;

/** Live assets visible to the actor by MPAN, for these MPANs. */
async function assetsByMpan(sql: Sql, actor: Principal, mpans: string[]): Promise<Map<string, string[]>> {
  const byMpan = new Map<string, string[]>();
  if (!mpans.length) return byMpan;
  const params: unknown[] = [mpans];
  const vis = assetVisibility(actor, params);
  const rows = await sql.query<{ mpan: string; id: string }>(
    `SELECT DISTINCT al.value AS mpan, a.id FROM asset_alias al JOIN asset a ON a.id = al.asset_id
    WHERE al.scheme = 'mpan' AND al.active AND a.deregistered_at IS NULL AND al.value IN (SELECT jsonb_array_elements_text($1::jsonb)) AND ${vis} ORDER BY a.id`,
    params,
  );
  for (const r of rows) byMpan.set(r.mpan, [...(byMpan.get(r.mpan) ?? []), r.id]);
  return byMpan;
}

/**
 * The MPANs of the model that some visible asset has, found in batches outside any transaction,
 * yielding between batches: the lookup of a large model neither blocks the event loop nor holds a
 * transaction open (the embedded database runs one statement at a time, /healthz included).
 */
async function matchedMpans(ctx: Ctx, actor: Principal, mpans: string[]): Promise<string[]> {
  const found: string[] = [];
  for (let i = 0; i < mpans.length; i += MPAN_BATCH) {
    found.push(...(await assetsByMpan(ctx.db, actor, mpans.slice(i, i + MPAN_BATCH))).keys());
    await yieldToEventLoop();
  }
  return found;
}

/**
 * Record network references and the DSO's mRID on visible assets matched by MPAN; all or nothing.
 * An asset whose references or mRID alias change is versioned like any other change: the prior
 * version goes to record_history, the version goes up, and an audit record and a
 * fmar.asset.network-enriched event are written in the same transaction (src/assets/change.ts). An import that changes
 * nothing on an asset leaves it as it was (counted as unchanged).
 */
async function enrich<T>(
  ctx: Ctx,
  actor: Principal,
  extracted: ExtractedAsset[],
  issues: ImportIssue[],
  fileNames: string[],
  dryRun: boolean,
  done: (tx: Sql, counts: { matched: number; enriched: number; unchanged: number }) => Promise<T>,
): Promise<T> {
  const now = ctx.clock.now();
  const at = now.toISOString();
  const mpansOf = (e: ExtractedAsset) => [e.importMpan, e.exportMpan, ...e.mpans].filter((x): x is string => !!x);
  const candidates = await matchedMpans(ctx, actor, [...new Set(extracted.flatMap(mpansOf))]);
  // Equipment that cannot match is reported before the transaction, in slices: a model of any size
  // keeps the transaction (and the embedded database, which /healthz shares) to the matched few.
  const found = new Set(candidates);
  const pending: ExtractedAsset[] = [];
  for (let i = 0; i < extracted.length; i++) {
    if (i % YIELD_EVERY === YIELD_EVERY - 1) await yieldToEventLoop();
    const e = extracted[i];
    const ms = mpansOf(e);
    if (!ms.length) issues.push({ code: 'CIM-EQUIPMENT-NO-MPAN', message: `${e.className} ${e.mrid} has no MPAN.`, ...e.at });
    else if (!ms.some((m) => found.has(m)))
      issues.push({
        code: 'CIM-MPAN-NOT-FOUND',
        message: `${e.className} ${e.mrid}: no visible asset has MPAN ${ms.join(' or ')}.`,
        ...e.at,
      });
    else pending.push(e);
  }
  return ctx.db.transaction(async (tx) => {
    // The matches are read again in the transaction (only those MPANs): what it writes rests on what it read.
    const byMpan = await assetsByMpan(tx, actor, candidates);
    const refs: NetworkRef[] = [];
    const seen = new Set<string>();
    let matched = 0;
    for (const e of pending) {
      const ms = mpansOf(e);
      const ids = [...new Set(ms.flatMap((m) => byMpan.get(m) ?? []))];
      if (!ids.length) {
        issues.push({
          code: 'CIM-MPAN-NOT-FOUND',
          message: `${e.className} ${e.mrid}: no visible asset has MPAN ${ms.join(' or ')}.`,
          ...e.at,
        });
        continue;
      }
      matched++;
      for (const id of ids) {
        if (seen.has(id)) continue;
        seen.add(id);
        refs.push({
          asset_id: id,
          equipment_mrid: e.mrid,
          connectivity_node_mrid: e.network.connectivityNode ?? null,
          substation_mrid: e.network.substation ?? null,
          feeder_mrid: e.network.feeder ?? null,
        });
      }
    }
    if (!refs.length) return done(tx, { matched, enriched: 0, unchanged: 0 });

    // The matched assets, locked, and what this organisation's earlier imports recorded on them.
    const ids = refs.map((r) => r.asset_id);
    const assets = new Map(
      (
        await tx.query<AssetRow>(
          `SELECT ${ASSET_COLS} FROM asset a WHERE a.id IN (SELECT jsonb_array_elements_text($1::jsonb)) AND a.deregistered_at IS NULL ORDER BY a.id FOR UPDATE OF a`,
          [ids],
        )
      ).map((r) => {
        const a = toAsset(r);
        return [a.id, a] as const;
      }),
    );
    const stored = new Map(
      (
        await tx.query<NetworkRef>(
          `SELECT asset_id, equipment_mrid, connectivity_node_mrid, substation_mrid, feeder_mrid FROM cim_network_ref
      WHERE source_organisation_id = $1 AND asset_id IN (SELECT jsonb_array_elements_text($2::jsonb))`,
          [actor.organisationId, ids],
        )
      ).map((r) => [r.asset_id, r]),
    );
    const sameRef = (a: NetworkRef, b: NetworkRef | undefined) =>
      !!b &&
      a.equipment_mrid === b.equipment_mrid &&
      a.connectivity_node_mrid === b.connectivity_node_mrid &&
      a.substation_mrid === b.substation_mrid &&
      a.feeder_mrid === b.feeder_mrid;
    const aliasWanted = (r: NetworkRef) => r.equipment_mrid.length <= 64;
    const hasAlias = (a: Asset, r: NetworkRef) =>
      (a.aliases ?? []).some((x) => x.scheme === MRID_ALIAS_SCHEME && x.value === r.equipment_mrid);
    const changes = refs.filter(
      (r) => assets.has(r.asset_id) && !(sameRef(r, stored.get(r.asset_id)) && (!aliasWanted(r) || hasAlias(assets.get(r.asset_id)!, r))),
    );
    const unchanged = refs.length - changes.length;
    if (dryRun || !changes.length) return done(tx, { matched, enriched: 0, unchanged });

    const by = recordedBy(actor);
    const befores = changes.map((r) => assets.get(r.asset_id)!);
    await tx.query(
      `INSERT INTO cim_network_ref (asset_id, source_organisation_id, equipment_mrid, connectivity_node_mrid, substation_mrid, feeder_mrid, source_files, recorded_at, recorded_by)
      SELECT x.asset_id, $1, x.equipment_mrid, x.connectivity_node_mrid, x.substation_mrid, x.feeder_mrid, $2::jsonb, $3::timestamptz, $4
        FROM jsonb_to_recordset($5::jsonb) AS x(asset_id text, equipment_mrid text, connectivity_node_mrid text, substation_mrid text, feeder_mrid text)
      ON CONFLICT (asset_id, source_organisation_id) DO UPDATE SET equipment_mrid = EXCLUDED.equipment_mrid, connectivity_node_mrid = EXCLUDED.connectivity_node_mrid,
        substation_mrid = EXCLUDED.substation_mrid, feeder_mrid = EXCLUDED.feeder_mrid, source_files = EXCLUDED.source_files, recorded_at = EXCLUDED.recorded_at, recorded_by = EXCLUDED.recorded_by`,
      [actor.organisationId, JSON.stringify(fileNames), at, by, changes],
    );
    const aliases = changes
      .filter(aliasWanted)
      .map((r) => ({ asset_id: r.asset_id, organisation_id: assets.get(r.asset_id)!.organisationId, value: r.equipment_mrid }));
    const detail = (r: NetworkRef) => ({
      equipmentMrid: r.equipment_mrid,
      connectivityNode: r.connectivity_node_mrid,
      substation: r.substation_mrid,
      feeder: r.feeder_mrid,
    });
    const refOf = new Map(changes.map((r) => [r.asset_id, r]));
    // The asset's own change (src/assets): one new version each, the equipment mRID as an alias.
    await enrichAssetsIn(tx, ctx, actor, now, {
      befores,
      aliasScheme: MRID_ALIAS_SCHEME,
      aliases,
      audit: (a, version) => ({
        action: 'asset.cim-enriched',
        recordType: 'asset',
        recordId: a.id,
        organisationId: a.organisationId,
        detail: { version, ...detail(refOf.get(a.id)!), files: fileNames },
      }),
      events: (a, version) => [
        {
          type: 'fmar.asset.network-enriched',
          subject: a.id,
          organisationId: a.fspId,
          data: { assetId: a.id, version, sourceOrganisationId: actor.organisationId, ...detail(refOf.get(a.id)!) },
        },
      ],
    });
    return done(tx, { matched, enriched: changes.length, unchanged });
  });
}
