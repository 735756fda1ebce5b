import type { Ctx } from '../context';
import { hookPoint } from '../kernel/hooks';

/**
 * A market unit's members changed (created, composition changed, de-registered, a member switched
 * out), in its transaction: data quality re-assesses those assets' connection facts (src/quality,
 * registered in src/hooks.ts); src/units imports none of it.
 */
export const unitMembersChanged = hookPoint<{ ctx: Ctx; now: Date; assetIds: string[] }>('market-unit.members-changed');
