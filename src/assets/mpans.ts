import type { Principal } from '../access/principal';
import { catalogueSnapshot } from '../catalogue/snapshot';
import type { Ctx } from '../context';
import type { RuleCode } from '../rules';
import type { Sql } from '../storage/db';
import { checkAsset, naturalKeys } from './rules';
import { DESCRIBED_FIELDS, type Asset, type AssetFields } from './schema';
import { updateAsset } from './service';

/**
 * MPANs another domain gives an asset that has none in that direction (a CIM enrich, src/cim):
 * checked by the asset's own rules one by one, and written as the asset's own update (the MPAN
 * becomes its `mpan` alias; versioned, audited `asset.updated`, event `fmar.asset.updated`).
 */

export type MpanField = 'importMpan' | 'exportMpan';
export type MpanAddition = Partial<Record<MpanField, string>>;
export interface MpanRefusal {
  field: MpanField;
  value: string;
  code: RuleCode;
  detail: string;
}

const FIELDS: readonly MpanField[] = ['importMpan', 'exportMpan'];

/** The asset's described fields, as an update merges them. */
function fieldsOf(a: Asset): AssetFields {
  const out: Record<string, unknown> = {};
  for (const k of DESCRIBED_FIELDS) if (a[k] !== null && a[k] !== undefined) out[k] = a[k];
  return out as AssetFields;
}

/**
 * Which of these MPANs the asset's rules accept, without writing: each is checked alone with the
 * asset as it is (format, check digit, distributor, not the asset's other MPAN), then together
 * (the whole record, and no other asset with the same MPAN, category and serial number). A
 * direction the asset already has is not the caller's to fill: it is left out.
 */
export async function checkAssetMpans(
  tx: Sql,
  ctx: Ctx,
  before: Asset,
  add: MpanAddition,
  now: Date,
): Promise<{ accepted: MpanAddition; refused: MpanRefusal[]; warnings: { code: RuleCode; detail: string }[] }> {
  const codes = await catalogueSnapshot(ctx.db, ctx.clock, tx);
  const today = now.toISOString().slice(0, 10);
  const base = fieldsOf(before);
  const accepted: MpanAddition = {};
  const refused: MpanRefusal[] = [];
  for (const f of FIELDS) {
    const value = add[f];
    if (!value || before[f]) continue;
    const [own] = checkAsset({ ...base, [f]: value }, today, codes, before).errors.filter((e) => e.field === f);
    if (own) refused.push({ field: f, value, code: own.code, detail: own.detail });
    else accepted[f] = value;
  }
  const given = FIELDS.filter((f) => accepted[f]);
  if (!given.length) return { accepted, refused, warnings: [] };
  const refuseAll = (code: RuleCode, detail: string) => {
    for (const f of given) refused.push({ field: f, value: accepted[f]!, code, detail });
    return { accepted: {}, refused, warnings: [] };
  };
  const checked = checkAsset({ ...base, ...accepted }, today, codes, before);
  if (checked.errors.length) return refuseAll(checked.errors[0].code, checked.errors[0].detail);
  const keys = naturalKeys(checked.asset).filter((k) => given.some((f) => k.startsWith(`${accepted[f]}|`)));
  if (keys.length) {
    const [dup] = await tx.query<{ asset_id: string }>(
      `SELECT asset_id FROM asset_natural_key WHERE natural_key IN (SELECT jsonb_array_elements_text($1::jsonb)) AND asset_id <> $2 LIMIT 1`,
      [keys, before.id],
    );
    if (dup) return refuseAll('ASSET-DUPLICATE', 'This MPAN, category and serial number are already registered as another asset.');
  }
  // The warning an update answers for a new MPAN that needs no justification: the DNO is not the MPAN's distributor.
  const warnings = checked.warnings
    .filter((w) => w.code === 'ASSET-DNO-MISMATCH')
    .map((w) => ({ code: w.code as RuleCode, detail: w.detail }));
  return { accepted, refused, warnings };
}

/**
 * Write MPANs that checkAssetMpans accepted, in the caller's transaction, as the asset's own update
 * at `version`. The caller has checked that the actor may enrich the asset (src/cim: a DNO's
 * network); the audit record names the files.
 */
export async function addAssetMpansIn(
  tx: Sql,
  ctx: Ctx,
  actor: Principal,
  o: { assetId: string; version: number; add: MpanAddition; files: string[] },
): Promise<Asset> {
  const { asset } = await updateAsset(ctx, actor, o.assetId, o.add, o.version, { tx, cimImport: { files: o.files } });
  return asset;
}
