import type { Ctx } from '../context';
import { hookPoint } from '../kernel/hooks';

/**
 * A connection limit was recorded, changed or withdrawn (in its transaction), at these MPANs: data
 * quality re-assesses the assets there (src/quality, registered in src/hooks.ts); this module
 * imports none of it.
 */
export const connectionLimitChanged = hookPoint<{ ctx: Ctx; now: Date; mpans: string[] }>('connection-limit.changed');
