import type { CimIssue, ExtractedAsset } from '../../cim/index';
import type { Ctx } from '../context';
import type { Asset } from '../assets/schema';
import { checkAssetMpans, type MpanAddition, type MpanField } from '../assets/mpans';
import type { RuleCode } from '../rules';
import type { Sql } from '../storage/db';

type ImportIssue = Omit<CimIssue, 'code'> & { code: RuleCode };

/**
 * The MPANs a file gives a matched asset that it does not have yet (src/cim/service.ts, enrich).
 * A direction the file names fills the asset's empty MPAN of that direction; an MPAN of no
 * direction fills the asset's one empty MPAN. Each is checked by the asset's own rules
 * (src/assets/mpans.ts) and refused, with its rule code, when it fails one, when another live
 * asset already has it (CIM-MPAN-CONFLICT), or when the asset has another MPAN in its direction
 * (CIM-MPAN-DIFFERS: the register's stays).
 */

/** The MPANs of one equipment of the file. */
export type FileMpans = Pick<ExtractedAsset, 'importMpan' | 'exportMpan' | 'mpans' | 'moreMpans' | 'at'>;

const LABEL: Record<MpanField, string> = { importMpan: 'import', exportMpan: 'export' };

/** What the file gives the asset beyond what it has, and where the two disagree. */
function candidates(a: Asset, m: FileMpans): { add: MpanAddition; differs: string[] } {
  const add: MpanAddition = {};
  const differs: string[] = [];
  const known = (v: string) => v === a.importMpan || v === a.exportMpan || v === add.importMpan || v === add.exportMpan;
  const free = (f: MpanField) => !a[f] && !add[f];
  const directed: [MpanField, string | undefined][] = [
    ['importMpan', m.importMpan],
    ['exportMpan', m.exportMpan],
    ...(m.moreMpans ?? []).map((x): [MpanField, string] => [x.direction === 'import' ? 'importMpan' : 'exportMpan', x.value]),
  ];
  for (const [f, v] of directed) {
    if (!v || known(v)) continue;
    if (free(f)) add[f] = v;
    else differs.push(`the file gives ${LABEL[f]} MPAN ${v}; the asset's is ${a[f] ?? add[f]}`);
  }
  for (const v of m.mpans) {
    if (known(v)) continue;
    const open = (['importMpan', 'exportMpan'] as const).filter(free);
    if (open.length === 1) add[open[0]] = v;
    else
      differs.push(
        open.length
          ? `the file gives MPAN ${v} without a direction, and the asset has no MPAN to tell which`
          : `the file gives MPAN ${v}; the asset's are ${a.importMpan} (import) and ${a.exportMpan} (export)`,
      );
  }
  return { add, differs };
}

/**
 * The MPANs each matched asset gains, checked (nothing is written): every refusal is an issue of
 * the import naming the asset and the equipment's place in the file. Two assets of one import are
 * never given the same MPAN: the first in asset order has it, the second is refused.
 */
export async function plannedMpans(
  tx: Sql,
  ctx: Ctx,
  matched: { asset: Asset; file: FileMpans }[],
  issues: ImportIssue[],
  now: Date,
): Promise<Map<string, MpanAddition>> {
  const planned = matched.map(({ asset, file }) => ({ asset, file, ...candidates(asset, file) }));
  const wanted = [...new Set(planned.flatMap((p) => Object.values(p.add)))];
  const holders = new Map<string, Set<string>>();
  // Two imports giving one MPAN at the same moment: the second waits here for the first to commit, then sees its holder.
  if (wanted.length) {
    await tx.query(
      `SELECT pg_advisory_xact_lock(hashtext('fmar.cim-mpan:' || v)) FROM (SELECT jsonb_array_elements_text($1::jsonb) AS v ORDER BY 1) x`,
      [wanted],
    );
    for (const r of await tx.query<{ value: string; asset_id: string }>(
      `SELECT value, asset_id FROM asset_alias WHERE scheme = 'mpan' AND active AND value IN (SELECT jsonb_array_elements_text($1::jsonb))`,
      [wanted],
    ))
      holders.set(r.value, (holders.get(r.value) ?? new Set()).add(r.asset_id));
  }
  const out = new Map<string, MpanAddition>();
  for (const { asset: a, file, add, differs } of planned.sort((x, y) => (x.asset.id < y.asset.id ? -1 : 1))) {
    const where = { ...file.at };
    for (const d of differs) issues.push({ code: 'CIM-MPAN-DIFFERS', message: `Asset ${a.id}: ${d}; not changed.`, ...where });
    const free: MpanAddition = {};
    for (const [f, v] of Object.entries(add) as [MpanField, string][]) {
      if ([...(holders.get(v) ?? [])].some((id) => id !== a.id))
        issues.push({
          code: 'CIM-MPAN-CONFLICT',
          message: `Asset ${a.id}: ${LABEL[f]} MPAN ${v} is already another live asset's; not added.`,
          ...where,
        });
      else free[f] = v;
    }
    if (!Object.keys(free).length) continue;
    const { accepted, refused, warnings } = await checkAssetMpans(tx, ctx, a, free, now);
    for (const w of warnings) issues.push({ code: w.code, message: `Asset ${a.id}: ${w.detail}`, ...where });
    for (const r of refused)
      issues.push({ code: r.code, message: `Asset ${a.id}: ${LABEL[r.field]} MPAN ${r.value} not added: ${r.detail}`, ...where });
    if (!Object.keys(accepted).length) continue;
    out.set(a.id, accepted);
    // Given to this asset: another asset of the import that wants it conflicts with it.
    for (const v of Object.values(accepted)) holders.set(v, (holders.get(v) ?? new Set()).add(a.id));
  }
  return out;
}
