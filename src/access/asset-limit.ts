import { Problem } from '../http/problem';
import type { Principal } from './principal';

/**
 * The asset limit of a delegation (UC-05.04, docs/identity.md): a delegate whose delegation names
 * assets reaches only those, whatever else the delegator reaches. This is the one module that reads
 * `Principal.delegation.assetIds`: every asset-scoped query (assets, switches, contracts, events,
 * market units, findings, disputes, exports) adds `withinAssetLimit` or `unitWithinAssetLimit` to
 * its object-level rule, and `checkPermission` refuses such a delegate every action whose
 * PERMISSIONS entry does not say how the limit applies (`assetLimit`). test/asset-limit.test.ts
 * fails if another module reads the delegation's assets.
 */

/** Whether the principal acts under a delegation limited to named assets. */
export function isAssetLimited(p: Principal): boolean {
  return !!p.delegation?.assetIds;
}

/** SQL: the asset `assetIdSql` names is one the delegation names; TRUE when there is no limit. NULL counts as outside. */
export function withinAssetLimit(p: Principal, params: unknown[], assetIdSql: string): string {
  const ids = p.delegation?.assetIds;
  if (!ids) return 'TRUE';
  params.push(ids);
  return `COALESCE(${assetIdSql} = ANY($${params.length}::text[]), FALSE)`;
}

/** SQL: every member of the market unit `unitIdSql` names is one the delegation names; TRUE when there is no limit. */
export function unitWithinAssetLimit(p: Principal, params: unknown[], unitIdSql: string): string {
  const ids = p.delegation?.assetIds;
  if (!ids) return 'TRUE';
  params.push(ids);
  return `(${unitIdSql} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM market_unit_member lm WHERE lm.market_unit_id = ${unitIdSql} AND NOT (lm.asset_id = ANY($${params.length}::text[]))))`;
}

/** Refuse a limited delegate something that is about more than its named assets (an organisation's aggregate, a new asset). */
export function refuseIfAssetLimited(p: Principal, what: string): void {
  if (isAssetLimited(p))
    throw new Problem(
      'AUTH-DELEGATION-ASSETS-ONLY',
      `The delegation is limited to named assets: ${what} is not about them alone. Ask the FSP for a delegation without an asset list, or act as the FSP.`,
    );
}
