import type { Asset, Warning } from '../assets/schema';
import { fieldError, type FieldError } from '../http/problem';
import { RULES } from '../rules';
import type { MarketUnit } from './schema';

/**
 * The composition rules of a market unit over its member assets (already found and visible):
 * pure, so each rule is tested by its code. Errors in the order a client fixes them.
 */
export function checkComposition(unit: Pick<MarketUnit, 'fspId' | 'type'>, assets: Asset[]): { errors: FieldError[]; warnings: Warning[] } {
  const errors: FieldError[] = [];
  const warnings: Warning[] = [];
  const names = (as: Asset[]) => as.map((a) => a.id).join(', ');

  const gone = assets.filter((a) => a.deregisteredAt);
  if (gone.length) errors.push(fieldError('assetIds', 'UNIT-ASSET-NOT-REGISTERED', `De-registered: ${names(gone)}.`));

  const others = assets.filter((a) => a.fspId !== unit.fspId);
  if (others.length)
    errors.push(
      fieldError(
        'assetIds',
        'UNIT-MIXED-FSP',
        `The unit's FSP is ${unit.fspId}; ${others.map((a) => `${a.id} is controlled by ${a.fspId}`).join(', ')}.`,
      ),
    );

  const dnos = [...new Set(assets.map((a) => a.dno ?? '(none)'))];
  if (dnos.length > 1) errors.push(fieldError('assetIds', 'UNIT-GEOGRAPHY-DNO', `Members are on ${dnos.join(', ')}.`));

  const points = new Set(assets.map((a) => a.importMpan).filter(Boolean));
  if (unit.type === 'SPU' && (points.size !== 1 || assets.some((a) => !a.importMpan))) {
    errors.push(
      fieldError(
        'type',
        'UNIT-SPU-ACCOUNTING-POINT',
        assets.some((a) => !a.importMpan)
          ? `No import MPAN: ${names(assets.filter((a) => !a.importMpan))}.`
          : `Members are behind ${points.size} import MPANs.`,
      ),
    );
  }
  if (unit.type === 'SPG' && points.size < 2)
    errors.push(
      fieldError('type', 'UNIT-SPG-ACCOUNTING-POINTS', `Members are behind ${points.size} import MPAN(s); one accounting point is an SPU.`),
    );

  const gsps = [...new Set(assets.map((a) => a.location?.gspGroup).filter(Boolean))];
  if (gsps.length > 1)
    warnings.push({
      code: 'UNIT-GEOGRAPHY-GSP-GROUP',
      field: 'assetIds',
      detail: `${RULES['UNIT-GEOGRAPHY-GSP-GROUP'].title} Members are in ${gsps.join(', ')}.`,
      needsJustification: false,
    });
  return { errors, warnings };
}
