import { assetDeregistering, assetMemberChanged, assetsChanged } from './assets/hooks';
import { Problem } from './http/problem';
import { Hooks } from './kernel/hooks';
import { qualificationRecorded } from './products/hooks';
import { connectionLimitChanged } from './connection-limits/hooks';
import { assessAssetsIn, assessConnectionsIn } from './quality/service';
import { unitMembersChanged } from './units/hooks';
import { activeUnitsOfAsset, fellowMembersOf } from './units/store';
import { clearReassessmentIn, flagUnitsOfChangedMember } from './units/service';

/**
 * The hub's cross-domain effects, registered once at the composition root (src/app.ts, src/cli.ts,
 * src/node.ts, src/node/identity.ts, the tests' harness, the benchmarks). Each runs in the
 * transaction of the change that fires it; docs/architecture.md lists them.
 */
export function standardHooks(): Hooks {
  return (
    new Hooks()
      // Data quality scores every asset change in its transaction (findings, score, scorecards).
      .on(assetsChanged, (tx, p) => assessAssetsIn(tx, p.ctx, p.now, p.assets, { fresh: p.fresh }).then(() => undefined))
      // A material change of a member flags its qualified market units for re-assessment.
      .on(assetMemberChanged, (tx, p) => flagUnitsOfChangedMember(tx, p.ctx, p.actor, p).then(() => undefined))
      // … and moves the sums at its connection of the other members of its units.
      .on(assetMemberChanged, async (tx, p) => assessConnectionsIn(tx, p.ctx, p.now, { assetIds: await fellowMembersOf(tx, p.assetId) }))
      // An asset in an active market unit is not de-registered.
      .on(assetDeregistering, async (tx, p) => {
        const units = await activeUnitsOfAsset(tx, p.assetId);
        if (units.length)
          throw new Problem('ASSET-IN-MARKET-UNIT', `Asset ${p.assetId} is in active market unit(s) ${units.join(', ')}.`, {
            marketUnitIds: units,
          });
      })
      // A connection limit's change, or a change of a market unit's members, moves the connection facts of the assets there.
      .on(connectionLimitChanged, (tx, p) => assessConnectionsIn(tx, p.ctx, p.now, { mpans: p.mpans }))
      .on(unitMembersChanged, (tx, p) => assessConnectionsIn(tx, p.ctx, p.now, { assetIds: p.assetIds }))
      // A QUALIFIED outcome clears the unit's re-assessment flag.
      .on(qualificationRecorded, async (tx, p) => {
        if (p.outcome === 'QUALIFIED')
          p.result.reassessmentCleared = await clearReassessmentIn(tx, p.ctx, p.actor, p.unitId, p.qualificationId, p.now);
      })
  );
}
