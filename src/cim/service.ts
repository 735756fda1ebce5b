import {
  CimParseError, CimWriter, classCounts, extractAssets, mergeDocuments, organisationMrid, parseCimXml,
  type CimIssue, type ExtractedAsset, type PowerUnit,
} from '../../cim/index';
import { checkPermission } from '../access/auth';
import type { Principal } from '../access/principal';
import { recordedBy, seesAll } from '../access/principal';
import { writeAudit } from '../audit/audit';
import type { Ctx } from '../context';
import { Problem } from '../http/problem';
import { assetPages, registerAssets, type AssetFilter } from '../assets/service';
import { textStream } from '../http/common';
import { assetVisibility } from '../assets/store';
import type { RuleCode } from '../rules';

/** Composes the cim/ library with the register: export streams, import enriches or bulk-loads. */

/** gspGroup is part of AssetFilter; the alias keeps the CIM route's vocabulary. */
export type CimExportFilter = AssetFilter;

/**
 * The register as CIM RDF/XML, streamed in keyset pages (memory stays flat), in asset-ID order so
 * two exports diff cleanly. Visibility is the asset rule: a DSO sees the assets on its networks.
 */
export function cimExportStream(ctx: Ctx, p: Principal, f: CimExportFilter, baseUrl: string, pageSize = 500): ReadableStream<Uint8Array> {
  const writer = new CimWriter();
  return textStream((async function* () {
    yield writer.header({ created: ctx.clock.now(), modelingAuthoritySet: baseUrl });
    for await (const assets of assetPages(ctx, p, f, pageSize)) {
      const orgIds = [...new Set(assets.flatMap((a) => [a.organisationId, a.fspId]))];
      const orgs = new Map((await ctx.db.query(`SELECT id, legal_name FROM organisation WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb))`, [orgIds])).map((o) => [o.id, o.legal_name as string]));
      let out = '';
      for (const a of assets) {
        for (const id of [a.organisationId, a.fspId]) out += writer.organisation({ id, name: orgs.get(id) ?? id });
        out += writer.asset(a);
      }
      yield out;
    }
    yield writer.footer();
  })());
}

/** A finding of an import: the library's, or the register's own (matching by MPAN). */
export type ImportIssue = Omit<CimIssue, 'code'> & { code: RuleCode };

export interface CimImportOptions { mode: 'enrich' | 'bulk-load'; dryRun: boolean; unit: PowerUnit; maxBytes: number; organisationId?: string }

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
  registered?: number;
  results?: unknown[];
  issueCounts: Record<string, number>;
  issues: ImportIssue[];
}

const MAX_ISSUES = 500;

/** Parse and merge the files of one model; a refused document is a problem naming where. */
function parseModel(files: { name: string; content: Uint8Array | string }[], maxBytes: number) {
  const total = files.reduce((n, f) => n + (typeof f.content === 'string' ? f.content.length : f.content.byteLength), 0);
  if (total > maxBytes) throw new Problem('CIM-XML-TOO-LARGE', `The import is ${total} bytes; at most ${maxBytes}.`);
  try {
    return mergeDocuments(files.map((f) => parseCimXml(f.content, f.name, { maxBytes })));
  } catch (e) {
    if (e instanceof CimParseError) throw new Problem(e.code as RuleCode, e.message, e.location ? { location: e.location } : {});
    throw e;
  }
}

/** UC: a DSO pushes its CIM model. Enrich records network references; bulk-load registers new assets. */
export async function importCim(ctx: Ctx, actor: Principal, files: { name: string; content: Uint8Array | string }[], o: CimImportOptions): Promise<{ status: number; report: CimImportReport }> {
  if (o.mode === 'bulk-load') checkPermission(actor, 'assets.write');
  const model = parseModel(files, o.maxBytes);
  const extracted = extractAssets(model, { unit: o.unit });
  const issues: ImportIssue[] = [...model.issues];
  const report: CimImportReport = {
    mode: o.mode, dryRun: o.dryRun, unit: o.unit,
    files: files.map((f) => { const h = model.headers.find((x) => x.file === f.name); return { name: f.name, created: h?.created, profiles: h?.profiles ?? [], modelingAuthoritySet: h?.modelingAuthoritySet }; }),
    objects: model.objects.size, classes: classCounts(model), equipment: extracted.length, issueCounts: {}, issues: [],
  };
  const finish = (status: number) => {
    for (const i of issues) report.issueCounts[i.code] = (report.issueCounts[i.code] ?? 0) + 1;
    report.issues = issues.slice(0, MAX_ISSUES);
    return { status, report };
  };
  if (o.mode === 'enrich') {
    const { matched, enriched } = await enrich(ctx, actor, extracted, issues, files.map((f) => f.name), o.dryRun);
    Object.assign(report, { matched, enriched });
    return finish(200);
  }
  if (extracted.length === 0) throw new Problem('BULK-EMPTY', 'The model holds no PowerElectronicsConnection or EnergyConsumer to register.');
  const rows = await bulkRows(ctx, actor, extracted, o.organisationId);
  const out = await registerAssets(ctx, actor, rows, { dryRun: o.dryRun, source: 'cim' });
  const results = out.results.map((r) => ({ ...r, mrid: extracted[r.row].mrid, at: extracted[r.row].at, ...(extracted[r.row].problems.length ? { problems: extracted[r.row].problems } : {}) }));
  if (!out.ok) {
    const rejected = results.filter((r) => r.status === 'rejected');
    throw new Problem('CIM-IMPORT-ROWS-INVALID', `${rejected.length} of ${rows.length} equipment fail the asset rules; nothing was written.`, { ...finish(422).report, results: rejected });
  }
  report.registered = o.dryRun ? 0 : out.assets.length;
  report.results = results;
  return finish(o.dryRun ? 200 : 201);
}

/** Registration rows: the file's owner / FSP organisations found by their mRID. */
async function bulkRows(ctx: Ctx, actor: Principal, extracted: ExtractedAsset[], defaultOrganisation?: string): Promise<unknown[]> {
  const wanted = new Set(extracted.flatMap((e) => [e.organisationMrid, e.fspMrid]).filter((x): x is string => !!x).map((m) => m.toLowerCase()));
  const byMrid = new Map<string, string>();
  if (wanted.size) {
    for (const r of await ctx.db.query(`SELECT id FROM organisation`)) {
      const m = organisationMrid(r.id);
      if (wanted.has(m)) byMrid.set(m, r.id);
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

/** Record network references and the DSO's mRID on visible assets matched by MPAN; all or nothing. */
async function enrich(ctx: Ctx, actor: Principal, extracted: ExtractedAsset[], issues: ImportIssue[], fileNames: string[], dryRun: boolean) {
  const now = ctx.clock.now();
  const at = now.toISOString();
  return ctx.db.transaction(async (tx) => {
    const mpans = [...new Set(extracted.flatMap((e) => [e.importMpan, e.exportMpan, ...e.mpans]).filter((x): x is string => !!x))];
    const byMpan = new Map<string, { id: string; organisation_id: string }[]>();
    if (mpans.length) {
      const params: unknown[] = [mpans];
      const vis = assetVisibility(actor, params);
      const rows = await tx.query(`SELECT DISTINCT al.value AS mpan, a.id, a.organisation_id FROM asset_alias al JOIN asset a ON a.id = al.asset_id
        WHERE al.scheme = 'mpan' AND al.active AND a.deregistered_at IS NULL AND al.value IN (SELECT jsonb_array_elements_text($1::jsonb)) AND ${vis} ORDER BY a.id`, params);
      for (const r of rows) byMpan.set(r.mpan, [...(byMpan.get(r.mpan) ?? []), { id: r.id, organisation_id: r.organisation_id }]);
    }
    const refs: Record<string, unknown>[] = [];
    const aliases: Record<string, unknown>[] = [];
    const seen = new Set<string>();
    let matched = 0;
    for (const e of extracted) {
      const ms = [e.importMpan, e.exportMpan, ...e.mpans].filter((x): x is string => !!x);
      if (!ms.length) { issues.push({ code: 'CIM-EQUIPMENT-NO-MPAN', message: `${e.className} ${e.mrid} has no MPAN.`, ...e.at }); continue; }
      const assets = [...new Map(ms.flatMap((m) => byMpan.get(m) ?? []).map((a) => [a.id, a])).values()];
      if (!assets.length) { issues.push({ code: 'CIM-MPAN-NOT-FOUND', message: `${e.className} ${e.mrid}: no visible asset has MPAN ${ms.join(' or ')}.`, ...e.at }); continue; }
      matched++;
      for (const a of assets) {
        if (seen.has(a.id)) continue;
        seen.add(a.id);
        refs.push({ asset_id: a.id, equipment_mrid: e.mrid, connectivity_node_mrid: e.network.connectivityNode ?? null, substation_mrid: e.network.substation ?? null, feeder_mrid: e.network.feeder ?? null });
        if (e.mrid.length <= 64) aliases.push({ asset_id: a.id, organisation_id: a.organisation_id, value: e.mrid });
      }
    }
    if (!dryRun && refs.length) {
      const by = recordedBy(actor);
      await tx.query(`INSERT INTO cim_network_ref (asset_id, source_organisation_id, equipment_mrid, connectivity_node_mrid, substation_mrid, feeder_mrid, source_files, recorded_at, recorded_by)
        SELECT x.asset_id, $1, x.equipment_mrid, x.connectivity_node_mrid, x.substation_mrid, x.feeder_mrid, $2::jsonb, $3::timestamptz, $4
          FROM jsonb_to_recordset($5::jsonb) AS x(asset_id text, equipment_mrid text, connectivity_node_mrid text, substation_mrid text, feeder_mrid text)
        ON CONFLICT (asset_id, source_organisation_id) DO UPDATE SET equipment_mrid = EXCLUDED.equipment_mrid, connectivity_node_mrid = EXCLUDED.connectivity_node_mrid,
          substation_mrid = EXCLUDED.substation_mrid, feeder_mrid = EXCLUDED.feeder_mrid, source_files = EXCLUDED.source_files, recorded_at = EXCLUDED.recorded_at, recorded_by = EXCLUDED.recorded_by`,
      [actor.organisationId, JSON.stringify(fileNames), at, by, refs]);
      await tx.query(`INSERT INTO asset_alias (scheme, value, asset_id, organisation_id) SELECT 'cim_mrid', x.value, x.asset_id, x.organisation_id
        FROM jsonb_to_recordset($1::jsonb) AS x(asset_id text, organisation_id text, value text) ON CONFLICT (scheme, value, asset_id) DO UPDATE SET active = true`, [aliases]);
      await writeAudit(tx, actor, now, refs.map((r) => ({
        action: 'asset.cim-enriched', recordType: 'asset', recordId: String(r.asset_id), organisationId: aliases.find((a) => a.asset_id === r.asset_id)?.organisation_id as string | undefined ?? null,
        detail: { equipmentMrid: r.equipment_mrid, connectivityNode: r.connectivity_node_mrid, substation: r.substation_mrid, feeder: r.feeder_mrid, files: fileNames },
      })));
    }
    return { matched, enriched: dryRun ? 0 : refs.length };
  });
}
