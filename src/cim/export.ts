import { CimWriter, type CimConnectionLimitInput, type CimNetworkInput, type CimSharing } from '../../cim/index';
import { limitsAtMpans } from '../connection-limits/store';
import type { Principal } from '../access/principal';
import { logPrivateRead, othersRecords } from '../audit/reads';
import type { Ctx } from '../context';
import { assetPages, assetWhere, type AssetFilter } from '../assets/service';
import { textStream } from '../http/common';
import { ASSET_COLS, toAsset, type AssetRow } from '../assets/store';
import type { Asset } from '../assets/schema';
import type { Sql } from '../storage/db';
import { listMarketUnits } from '../units/service';

/** The register as CIM RDF/XML (docs/cim-profile.md): the export half of the CIM exchange. */

/** gspGroup is part of AssetFilter; the alias keeps the CIM route's vocabulary. */
export type CimExportFilter = AssetFilter;

/** SQL: an identifier as `normaliseId` (cim/mrid.ts) keys it: trimmed, no `#`, `urn:uuid:` or leading `_`, lower case. */
export const sqlNormalisedId = (col: string) => `lower(regexp_replace(btrim(${col}, E' \\t\\r\\n'), '^#?(urn:uuid:)?_?', '', 'i'))`;

/** Each asset's latest references (one row per asset: the most recent enrich of any source organisation). */
const CURRENT_REFS = `SELECT DISTINCT ON (asset_id) asset_id, equipment_mrid, connectivity_node_mrid, feeder_mrid, substation_mrid
  FROM cim_network_ref`;
const CURRENT_ORDER = `ORDER BY asset_id, recorded_at DESC, source_organisation_id`;

/**
 * What more than one asset shares, over the whole register (deregistered assets too, whatever the
 * export's filter: a superset of what any one export holds). Three grouped scans per export; the
 * hub keeps only the shared keys, so memory grows with what is shared, not with the register.
 */
export async function exportSharing(sql: Sql): Promise<CimSharing> {
  const keys = async (q: string) => new Set((await sql.query<{ k: string }>(q)).map((r) => r.k));
  const current = `WITH c AS (${CURRENT_REFS} ${CURRENT_ORDER})`;
  const equipment = await keys(
    `${current} SELECT k FROM (SELECT asset_id, ${sqlNormalisedId('equipment_mrid')} AS k FROM c
       UNION SELECT asset_id, ${sqlNormalisedId('value')} FROM asset_alias WHERE scheme = 'cim_mrid') x GROUP BY k HAVING count(DISTINCT asset_id) > 1`,
  );
  const network = await keys(
    `${current} SELECT k FROM (SELECT asset_id, ${sqlNormalisedId('connectivity_node_mrid')} AS k FROM c WHERE connectivity_node_mrid IS NOT NULL
       UNION SELECT asset_id, ${sqlNormalisedId('feeder_mrid')} FROM c WHERE feeder_mrid IS NOT NULL
       UNION SELECT asset_id, ${sqlNormalisedId('substation_mrid')} FROM c WHERE substation_mrid IS NOT NULL) x
     GROUP BY k HAVING count(DISTINCT asset_id) > 1`,
  );
  const usagePoints = await keys(
    `SELECT 'import/' || import_mpan AS k FROM asset WHERE import_mpan IS NOT NULL GROUP BY import_mpan HAVING count(*) > 1
     UNION ALL SELECT 'export/' || export_mpan FROM asset WHERE export_mpan IS NOT NULL GROUP BY export_mpan HAVING count(*) > 1`,
  );
  return { equipment, network, usagePoints };
}

/** The assets with what their latest enrich recorded (none: `network` absent). */
async function withNetwork(sql: Sql, assets: Asset[]): Promise<(Asset & { network?: CimNetworkInput })[]> {
  if (!assets.length) return [];
  const refs = new Map(
    (
      await sql.query<{
        asset_id: string;
        equipment_mrid: string;
        connectivity_node_mrid: string | null;
        feeder_mrid: string | null;
        substation_mrid: string | null;
      }>(`${CURRENT_REFS} WHERE asset_id IN (SELECT jsonb_array_elements_text($1::jsonb)) ${CURRENT_ORDER}`, [assets.map((a) => a.id)])
    ).map((r) => [
      r.asset_id,
      {
        equipmentMrid: r.equipment_mrid,
        connectivityNode: r.connectivity_node_mrid,
        feeder: r.feeder_mrid,
        substation: r.substation_mrid,
      },
    ]),
  );
  return assets.map((a) => (refs.has(a.id) ? { ...a, network: refs.get(a.id) } : a));
}

/**
 * The register as CIM RDF/XML, streamed in keyset pages (memory stays flat), in asset-ID order so
 * two exports diff cleanly. Visibility is the asset rule: a DSO sees the assets on its networks.
 */
export function cimExportStream(ctx: Ctx, p: Principal, f: CimExportFilter, baseUrl: string, pageSize = 500): ReadableStream<Uint8Array> {
  return textStream(
    (async function* () {
      const writer = new CimWriter(await exportSharing(ctx.db));
      yield writer.header({ created: ctx.clock.now(), modelingAuthoritySet: baseUrl });
      for await (const page of assetPages(ctx, p, f, pageSize)) {
        // Another organisation's assets (a DSO's network export): one private-read record per page, before it is sent (docs/audit.md).
        const shares = othersRecords(
          p,
          page.map((a) => ({ id: a.id, parties: [a.organisationId, a.fspId] })),
        );
        await logPrivateRead(ctx.db, p, ctx.clock.now(), {
          action: 'asset.read',
          recordType: 'asset',
          recordId: 'export',
          route: 'GET /api/v1/cim/export',
          shares,
          listIds: false,
          asked: { ...f, format: 'cim' },
        });
        const assets = await withLimits(ctx, p, await withNetwork(ctx.db, page));
        const orgs = await organisationNames(
          ctx.db,
          assets.flatMap((a) => [a.organisationId, a.fspId]),
        );
        let out = '';
        for (const a of assets) {
          for (const id of [a.organisationId, a.fspId]) out += writer.organisation({ id, name: orgs.get(id) ?? id });
          out += writer.asset(a);
        }
        yield out;
      }
      yield* unitObjects(ctx, p, f, writer, pageSize);
      yield writer.footer();
    })(),
  );
}

/** The assets with the connection limits at their MPANs that the caller may read, ACTIVE and not ended (docs/connection-limits.md). */
async function withLimits<A extends Asset>(
  ctx: Ctx,
  p: Principal,
  assets: A[],
): Promise<(A & { connectionLimits?: CimConnectionLimitInput[] })[]> {
  const mpans = [...new Set(assets.flatMap((a) => [a.importMpan, a.exportMpan]).filter((m): m is string => !!m))];
  const byMpan = new Map<string, CimConnectionLimitInput[]>();
  for (const l of await limitsAtMpans(ctx.db, p, mpans, ctx.clock.now().toISOString())) {
    if (!byMpan.has(l.mpan)) byMpan.set(l.mpan, []);
    byMpan.get(l.mpan)!.push(l);
  }
  return assets.map((a) => {
    // One MPAN for both directions carries its limits once.
    const limits = [...new Set([a.importMpan, a.exportMpan])].flatMap((m) => (m ? (byMpan.get(m) ?? []) : []));
    return limits.length ? { ...a, connectionLimits: limits } : a;
  });
}

async function organisationNames(sql: Sql, ids: string[]): Promise<Map<string, string>> {
  return new Map(
    (
      await sql.query<{ id: string; legal_name: string }>(
        `SELECT id, legal_name FROM organisation WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb))`,
        [[...new Set(ids)]],
      )
    ).map((o) => [o.id, o.legal_name]),
  );
}

/**
 * The market units the caller may read (ACTIVE, in unit-ID order) as RegisteredResources, each
 * linked to those of its member assets that this export holds (same visibility, same filter). A
 * unit none of whose members is in the export is left out, so no reference dangles.
 */
async function* unitObjects(ctx: Ctx, p: Principal, f: CimExportFilter, writer: CimWriter, pageSize: number): AsyncGenerator<string> {
  let after: string | undefined;
  for (;;) {
    const page = await listMarketUnits(ctx, p, {}, { limit: pageSize, after });
    if (!page.items.length) return;
    const ids = [...new Set(page.items.flatMap((u) => u.assetIds))];
    const params: unknown[] = [];
    const where = assetWhere(p, f, params);
    params.push(ids);
    const rows = await ctx.db.query<AssetRow>(
      `SELECT ${ASSET_COLS} FROM asset a WHERE ${where} AND a.id IN (SELECT jsonb_array_elements_text($${params.length}::jsonb))`,
      params,
    );
    const members = new Map((await withNetwork(ctx.db, rows.map(toAsset))).map((a) => [a.id, a] as const));
    const orgs = await organisationNames(
      ctx.db,
      page.items.map((u) => u.fspId),
    );
    let out = '';
    for (const u of page.items) {
      const inExport = u.assetIds.map((id) => members.get(id)).filter((a) => !!a);
      if (!inExport.length) continue;
      out += writer.organisation({ id: u.fspId, name: orgs.get(u.fspId) ?? u.fspId });
      out += writer.marketUnit({ id: u.id, name: u.name, type: u.type, product: u.product, fspId: u.fspId, members: inExport });
    }
    if (out) yield out;
    if (!page.next) return;
    after = page.next;
  }
}
