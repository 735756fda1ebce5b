import {
  CimParseError,
  MRID_ALIAS_SCHEME,
  normaliseId,
  organisationMrid,
  legacyOrganisationMrid,
  sizeOf,
  type CimFileInput,
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
import { aliasRegister, normaliseAlias } from '../assets/rules';
import { addAssetMpansIn } from '../assets/mpans';
import type { Asset } from '../assets/schema';
import { plannedMpans, type FileMpans } from './mpans';
import { enrichOrganisations, matchOrganisations, type OrganisationsReport } from './organisations';
import type { RuleCode } from '../rules';
import type { Db, Sql } from '../storage/db';
import type { CimParser } from '../ports';
import { inProcessCimParser, yieldToEventLoop } from './parsing';
import { importLimits, type LimitsReport } from './limits';
import { raced as limitRaced } from '../connection-limits/service';

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
  /** Objects per class from which something was taken: a class is here exactly when it was used. */
  used: Record<string, number>;
  equipment: number;
  matched?: number;
  enriched?: number;
  /** Enrich, dry run: matched assets the import would change (`assets` shows each with its field diff). */
  wouldEnrich?: number;
  unchanged?: number;
  /** Enrich: each matched asset, its outcome and the fields that change (from → to). */
  assets?: AssetEnrichment[];
  /** Enrich: the file's organisations, matched or not, and the identifiers offered to them. */
  organisations?: OrganisationsReport;
  /** Enrich: the file's connection limits, each recorded, updated, unchanged or rejected with its rule code (src/cim/limits.ts). */
  limits?: LimitsReport;
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

/** Parse and merge the files of one model; a refused document is a problem naming where. */
async function parseModel(files: CimFileInput[], o: CimImportOptions, hooks: ImportHooks): Promise<ParsedModel> {
  const total = files.reduce((n, f) => n + sizeOf(f.content), 0);
  if (total > o.maxBytes) throw new Problem('CIM-XML-TOO-LARGE', `The import is ${total} bytes; at most ${o.maxBytes}.`);
  const progress = hooks.progress;
  try {
    return await (o.parser ?? inProcessCimParser).parse(
      files,
      { unit: o.unit, maxBytes: o.maxBytes, mode: o.mode },
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
  files: CimFileInput[],
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
    used: model.used,
    equipment: extracted.length,
    issueCounts: {},
    issues: [],
  };
  const finish = (status: number) => {
    report.issueCounts = {};
    for (const i of issues) report.issueCounts[i.code] = (report.issueCounts[i.code] ?? 0) + 1;
    report.issues = issues.slice(0, MAX_ISSUES);
    // The lists stop at the same bound as the issues; their counts cover every asset and organisation.
    if (report.assets && report.assets.length > MAX_ISSUES) report.assets = report.assets.slice(0, MAX_ISSUES);
    if (report.organisations && report.organisations.items.length > MAX_ISSUES)
      report.organisations.items = report.organisations.items.slice(0, MAX_ISSUES);
    if (report.limits && report.limits.items.length > MAX_ISSUES) report.limits.items = report.limits.items.slice(0, MAX_ISSUES);
    return { status, report };
  };
  if (o.mode === 'enrich') {
    // Two imports recording overlapping limits at one MPAN at the same moment: the database refuses the second (409).
    return enrich(ctx, actor, model, issues, names, o.dryRun, async (tx, counts) => {
      Object.assign(report, counts);
      const out = finish(200);
      if (hooks.beforeCommit) await hooks.beforeCommit(tx, out);
      return out;
    }).catch((e: unknown) => {
      throw limitRaced(e);
    });
  }
  if (extracted.length === 0)
    throw new Problem('BULK-EMPTY', 'The model holds no PowerElectronicsConnection or EnergyConsumer to register.');
  const rows = await bulkRows(ctx, actor, extracted, o.organisationId);
  // A bulk-load registers assets only: the file's organisations are matched and reported, their identifiers offered (enrich applies them).
  report.organisations = await enrichOrganisations(
    ctx.db,
    ctx,
    actor,
    await matchOrganisations(ctx, model.organisations),
    issues,
    true,
    false,
  );
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

/** What an enrich did, or in a dry run would do, to one matched asset: each changed field from → to. */
export interface AssetEnrichment {
  assetId: string;
  equipmentMrid: string;
  outcome: 'enriched' | 'would-enrich' | 'unchanged';
  changes: Record<string, { from: unknown; to: unknown }>;
}

/**
 * Record network references and the DSO's mRID (and its own asset number, an `ecr` Name) on
 * visible assets matched by MPAN; all or nothing. An asset whose references or aliases change is
 * versioned like any other change: the prior version goes to record_history, the version goes up,
 * and an audit record and a fmar.asset.network-enriched event are written in the same transaction
 * (src/assets/change.ts). An import that changes nothing on an asset leaves it as it was (counted
 * as unchanged). mRIDs are compared and stored normalised (normaliseId), so the same file in
 * another spelling changes nothing. The MPANs of the file a matched asset lacks are added through
 * the asset's own update after it (src/cim/mpans.ts). The file's organisations are matched and
 * enriched in the same transaction (enrichOrganisations).
 */
async function enrich<T>(
  ctx: Ctx,
  actor: Principal,
  model: ParsedModel,
  issues: ImportIssue[],
  fileNames: string[],
  dryRun: boolean,
  done: (tx: Sql, counts: EnrichCounts) => Promise<T>,
): Promise<T> {
  const extracted = model.equipment;
  const now = ctx.clock.now();
  const at = now.toISOString();
  const mpansOf = (e: ExtractedAsset) =>
    [e.importMpan, e.exportMpan, ...e.mpans, ...(e.moreMpans ?? []).map((m) => m.value)].filter((x): x is string => !!x);
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
  const orgMatches = await matchOrganisations(ctx, model.organisations);
  return ctx.db.transaction(async (tx) => {
    // The matches are read again in the transaction (only those MPANs): what it writes rests on what it read.
    const byMpan = await assetsByMpan(tx, actor, candidates);
    const refs: NetworkRef[] = [];
    const ecrOf = new Map<string, string[]>();
    const fileMpans = new Map<string, FileMpans>();
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
      const ecr = e.names
        .filter((n) => n.scheme === 'ecr')
        .map((n) => normaliseAlias('ecr', n.value))
        .filter((v): v is string => !!v);
      for (const id of ids) {
        if (seen.has(id)) continue;
        seen.add(id);
        refs.push({
          asset_id: id,
          equipment_mrid: normaliseId(e.mrid),
          connectivity_node_mrid: e.network.connectivityNode ? normaliseId(e.network.connectivityNode) : null,
          substation_mrid: e.network.substation ? normaliseId(e.network.substation) : null,
          feeder_mrid: e.network.feeder ? normaliseId(e.network.feeder) : null,
        });
        if (ecr.length) ecrOf.set(id, ecr);
        fileMpans.set(id, { importMpan: e.importMpan, exportMpan: e.exportMpan, mpans: e.mpans, moreMpans: e.moreMpans, at: e.at });
      }
    }
    const assetCounts = await enrichMatchedAssets(tx, ctx, actor, { refs, ecrOf, fileMpans }, issues, fileNames, dryRun, now, at);
    const organisations = await enrichOrganisations(tx, ctx, actor, orgMatches, issues, dryRun);
    const limits = await importLimits(tx, ctx, actor, extracted, issues, dryRun);
    return done(tx, { matched, ...assetCounts, organisations, ...(limits ? { limits } : {}) });
  });
}

interface EnrichCounts {
  matched: number;
  enriched: number;
  wouldEnrich: number;
  unchanged: number;
  assets: AssetEnrichment[];
  organisations: OrganisationsReport;
  limits?: LimitsReport;
}

async function enrichMatchedAssets(
  tx: Sql,
  ctx: Ctx,
  actor: Principal,
  matches: { refs: NetworkRef[]; ecrOf: Map<string, string[]>; fileMpans: Map<string, FileMpans> },
  issues: ImportIssue[],
  fileNames: string[],
  dryRun: boolean,
  now: Date,
  at: string,
): Promise<Omit<EnrichCounts, 'matched' | 'organisations'>> {
  const { refs, ecrOf, fileMpans } = matches;
  if (!refs.length) return { enriched: 0, wouldEnrich: 0, unchanged: 0, assets: [] };
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
  // ECR references another live asset already holds in the same register are not added (the register keeps them unique).
  const ecrWanted = [...ecrOf].flatMap(([id, vs]) => vs.map((value) => ({ asset_id: id, value, register: assets.get(id)?.dno ?? null })));
  const taken = new Map<string, string>();
  if (ecrWanted.length)
    for (const r of await tx.query<{ register: string; value: string; asset_id: string }>(
      `SELECT al.register, al.value, al.asset_id FROM asset_alias al JOIN jsonb_to_recordset($1::jsonb) AS x(value text, register text) ON al.value = x.value AND al.register = x.register
      WHERE al.scheme = 'ecr' AND al.active`,
      [ecrWanted.filter((w) => w.register)],
    ))
      taken.set(`${r.register}\u0000${r.value}`, r.asset_id);
  // MPANs of the file the matched assets lack, checked by the asset's rules (src/cim/mpans.ts).
  const mpanAdds = await plannedMpans(
    tx,
    ctx,
    [...assets.values()].filter((a) => fileMpans.has(a.id)).map((a) => ({ asset: a, file: fileMpans.get(a.id)! })),
    issues,
    now,
  );
  const norm = (v: string | null) => (v === null ? null : normaliseId(v));
  const assetsOut: AssetEnrichment[] = [];
  const changes: NetworkRef[] = [];
  const aliasRows: { asset_id: string; organisation_id: string; value: string }[] = [];
  const ecrRows: { asset_id: string; organisation_id: string; scheme: string; value: string; register: string | null }[] = [];
  for (const r of refs) {
    const a = assets.get(r.asset_id);
    if (!a) continue;
    const before = stored.get(r.asset_id);
    const diff: AssetEnrichment['changes'] = {};
    const fields = [
      ['equipmentMrid', 'equipment_mrid'],
      ['connectivityNode', 'connectivity_node_mrid'],
      ['substation', 'substation_mrid'],
      ['feeder', 'feeder_mrid'],
    ] as const;
    const refChanged = !before || fields.some(([, col]) => norm(before[col]) !== r[col]);
    if (refChanged)
      for (const [name, col] of fields)
        if (norm(before?.[col] ?? null) !== r[col]) diff[name] = { from: before?.[col] ?? null, to: r[col] };
    // mRIDs compare normalised; an ECR reference is stored normalised by its own rule (normaliseAlias).
    const has = (scheme: string, v: string) =>
      (a.aliases ?? []).some(
        (x) => x.scheme === scheme && (scheme === MRID_ALIAS_SCHEME ? normaliseId(x.value) === normaliseId(v) : x.value === v),
      );
    const addAliases: { scheme: string; value: string }[] = [];
    if (r.equipment_mrid.length <= 64 && !has(MRID_ALIAS_SCHEME, r.equipment_mrid))
      addAliases.push({ scheme: MRID_ALIAS_SCHEME, value: r.equipment_mrid });
    for (const value of ecrOf.get(r.asset_id) ?? []) {
      if (has('ecr', value)) continue;
      const holder = a.dno ? taken.get(`${a.dno}\u0000${value}`) : undefined;
      if (!a.dno || (holder && holder !== a.id)) {
        issues.push({
          code: 'CIM-ALIAS-CONFLICT',
          message: a.dno
            ? `Asset ${a.id}: ECR reference ${value} is already asset ${holder}'s in register ${a.dno}; not added.`
            : `Asset ${a.id}: ECR reference ${value} not added: the asset has no DNO, whose register it would belong to.`,
        });
        continue;
      }
      addAliases.push({ scheme: 'ecr', value });
    }
    if (addAliases.length) {
      const mine = (a.aliases ?? []).filter((x) => addAliases.some((y) => y.scheme === x.scheme)).map((x) => `${x.scheme}:${x.value}`);
      diff.aliases = { from: mine, to: [...mine, ...addAliases.map((x) => `${x.scheme}:${x.value}`)] };
    }
    const mpans = mpanAdds.get(a.id) ?? {};
    for (const f of ['importMpan', 'exportMpan'] as const) if (mpans[f]) diff[f] = { from: null, to: mpans[f] };
    const networkChanged = refChanged || addAliases.length > 0;
    const changed = networkChanged || Object.keys(mpans).length > 0;
    assetsOut.push({
      assetId: a.id,
      equipmentMrid: r.equipment_mrid,
      outcome: !changed ? 'unchanged' : dryRun ? 'would-enrich' : 'enriched',
      changes: diff,
    });
    if (!networkChanged) continue;
    changes.push(r);
    for (const x of addAliases) {
      if (x.scheme === MRID_ALIAS_SCHEME) aliasRows.push({ asset_id: a.id, organisation_id: a.organisationId, value: x.value });
      else
        ecrRows.push({
          asset_id: a.id,
          organisation_id: a.organisationId,
          scheme: 'ecr',
          value: x.value,
          register: aliasRegister('ecr', a.dno),
        });
    }
  }
  const unchanged = assetsOut.filter((x) => x.outcome === 'unchanged').length;
  const changedCount = assetsOut.length - unchanged;
  if (dryRun || !changedCount) return { enriched: 0, wouldEnrich: dryRun ? changedCount : 0, unchanged, assets: assetsOut };
  if (changes.length) await recordNetworkRefs(tx, ctx, actor, { assets, changes, aliasRows, ecrRows, assetsOut }, fileNames, now, at);
  // Then each asset's new MPANs, as the asset's own update: one more version, audit asset.updated, event fmar.asset.updated.
  const networkChanged = new Set(changes.map((r) => r.asset_id));
  for (const [id, add] of mpanAdds) {
    const version = assets.get(id)!.version + (networkChanged.has(id) ? 1 : 0);
    await addAssetMpansIn(tx, ctx, actor, { assetId: id, version, add, files: fileNames });
  }
  return { enriched: changedCount, wouldEnrich: 0, unchanged, assets: assetsOut };
}

const MPAN_FIELDS = ['importMpan', 'exportMpan'];

/** The network references (and cim_mrid / ecr aliases) that changed: recorded, and each asset versioned, audited and announced (src/assets/change.ts). */
async function recordNetworkRefs(
  tx: Sql,
  ctx: Ctx,
  actor: Principal,
  o: {
    assets: Map<string, Asset>;
    changes: NetworkRef[];
    aliasRows: { asset_id: string; organisation_id: string; value: string }[];
    ecrRows: { asset_id: string; organisation_id: string; scheme: string; value: string; register: string | null }[];
    assetsOut: AssetEnrichment[];
  },
  fileNames: string[],
  now: Date,
  at: string,
): Promise<void> {
  const { assets, changes, aliasRows, ecrRows, assetsOut } = o;
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
  const detail = (r: NetworkRef) => ({
    equipmentMrid: r.equipment_mrid,
    connectivityNode: r.connectivity_node_mrid,
    substation: r.substation_mrid,
    feeder: r.feeder_mrid,
  });
  const refOf = new Map(changes.map((r) => [r.asset_id, r]));
  // The MPANs are the asset's own update's (audited there).
  const changedFields = new Map(assetsOut.map((x) => [x.assetId, Object.keys(x.changes).filter((k) => !MPAN_FIELDS.includes(k))]));
  // The asset's own change (src/assets): one new version each, the equipment mRID (and ECR reference) as aliases.
  await enrichAssetsIn(tx, ctx, actor, now, {
    befores,
    aliasScheme: MRID_ALIAS_SCHEME,
    aliases: aliasRows,
    otherAliases: ecrRows,
    audit: (a, version) => ({
      action: 'asset.cim-enriched',
      recordType: 'asset',
      recordId: a.id,
      organisationId: a.organisationId,
      detail: { version, ...detail(refOf.get(a.id)!), changed: changedFields.get(a.id), files: fileNames },
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
}
