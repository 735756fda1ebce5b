import type { Principal } from '../access/principal';
import type { Ctx } from '../context';
import { hookPoint } from '../kernel/hooks';
import type { Asset } from './schema';

/**
 * The points in an asset change where other domains act in the same transaction (registered in
 * src/hooks.ts): src/assets imports none of them.
 */

/** Assets were registered or changed (after the write): data quality scores them (src/quality). */
export const assetsChanged = hookPoint<{ ctx: Ctx; now: Date; assets: Asset[]; fresh?: boolean }>('asset.changed');

/** A change material to a market unit (capacity, category, connection) of one asset: its qualified units are flagged (src/units). */
export const assetMemberChanged = hookPoint<{ ctx: Ctx; actor: Principal; assetId: string; version: number; changed: string[]; now: Date }>(
  'asset.member-changed',
);

/** Before a de-registration writes anything: a domain that still holds the asset refuses it with a Problem (src/units). */
export const assetDeregistering = hookPoint<{ assetId: string }>('asset.deregistering');
