import type { Principal } from '../access/principal';
import type { Ctx } from '../context';
import { hookPoint } from '../kernel/hooks';

/**
 * A qualification outcome was recorded for a market unit (in its transaction): src/units clears the
 * unit's Re-assessment Required flag on QUALIFIED and says so in `result` (registered in src/hooks.ts).
 */
export const qualificationRecorded = hookPoint<{
  ctx: Ctx;
  actor: Principal;
  unitId: string;
  qualificationId: string;
  outcome: string;
  now: Date;
  result: { reassessmentCleared: boolean };
}>('qualification.recorded');
