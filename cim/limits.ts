import { inverseIndex, prop, refs, type CimModel, type ObjectIndex } from './model';
import { normaliseId } from './mrid';
import type { CimObject, SourceLocation } from './parser';
import { UNIT_FACTORS, type PowerUnit } from './profile';

/**
 * Connection limits as CIM carries them, read back (the writer's connectionLimit, in reverse): an
 * OperationalLimitSet on an equipment or its terminal with ActivePowerLimits typed import or export,
 * and for a TIMED limit the ScheduledLimitDependency of each direction with its values per band.
 * What is read is the API's input (ConnectionLimitInput), checked by the register's own rules.
 */
export interface ExtractedLimit {
  /** The OperationalLimitSet's mRID, normalised. */
  mrid: string;
  at: SourceLocation;
  /** The limit as the API takes it (POST /connection-limits); absent when it could not be read. */
  input?: Record<string, unknown>;
  /** Why it could not be read, each a sentence. */
  problems: string[];
}

/** The MPANs read from the equipment's usage points, for a set that does not name its own. */
export interface EquipmentMpans {
  importMpan?: string;
  exportMpan?: string;
  mpans: string[];
}

const DIRECTIONS = ['import', 'export'] as const;
type Direction = (typeof DIRECTIONS)[number];
const KEY = { import: 'importLimitKw', export: 'exportLimitKw' } as const;

/** Magnitude in kW (2 decimals when it is one), or the problem. */
function kwOf(raw: string | undefined, unit: PowerUnit): number | string {
  const n = Number(raw);
  if (raw === undefined || raw.trim() === '' || !Number.isFinite(n))
    return `value ${raw === undefined ? '(none)' : `"${raw}"`} is not a number`;
  const v = Math.abs((n * UNIT_FACTORS[unit]) / 1000);
  const r = Math.round(v * 100) / 100;
  return Math.abs(v - r) < 1e-9 ? r : v;
}

/**
 * A reader of the limits on one equipment: the sets on it (`OperationalLimitSet.Equipment`) or on its
 * terminals (`OperationalLimitSet.Terminal`) that hold at least one ActivePowerLimit. Sets of current
 * or voltage limits only (a line's ratings) are not connection limits and are left alone.
 */
export function connectionLimitReader(model: CimModel, unit: PowerUnit, take: (o: CimObject) => void) {
  let idx:
    | {
        onEquipment: ObjectIndex<CimObject>;
        onTerminal: ObjectIndex<CimObject>;
        limitsOf: ObjectIndex<CimObject>;
        dependenciesOf: ObjectIndex<CimObject>;
        valuesOf: ObjectIndex<CimObject>;
      }
    | undefined;
  const index = () =>
    (idx ??= {
      onEquipment: inverseIndex(model, 'OperationalLimitSet.Equipment'),
      onTerminal: inverseIndex(model, 'OperationalLimitSet.Terminal'),
      limitsOf: inverseIndex(model, 'OperationalLimit.OperationalLimitSet'),
      dependenciesOf: inverseIndex(model, 'LimitDependency.OperationalLimit'),
      valuesOf: inverseIndex(model, 'ScheduledLimitValue.ScheduledLimitDependency'),
    });
  let any: boolean | undefined;

  return (equipment: CimObject, terminals: CimObject[], mpans: EquipmentMpans): ExtractedLimit[] => {
    any ??= [...model.objects.values()].some((o) => o.className === 'ActivePowerLimit');
    if (!any) return [];
    const { onEquipment, onTerminal, limitsOf } = index();
    const sets = [...new Set([...(onEquipment.get(equipment.key) ?? []), ...terminals.flatMap((t) => onTerminal.get(t.key) ?? [])])];
    const out: ExtractedLimit[] = [];
    for (const set of sets) {
      const limits = (limitsOf.get(set.key) ?? []).filter((l) => l.className === 'ActivePowerLimit');
      if (set.className !== 'OperationalLimitSet' || !limits.length) continue;
      out.push(readSet(set, limits, mpans));
    }
    return out;
  };

  function readSet(set: CimObject, limits: CimObject[], mpans: EquipmentMpans): ExtractedLimit {
    const problems: string[] = [];
    const ext = (name: string) => set.properties[`fmar:OperationalLimitSet.${name}`]?.[0];
    const mrid = normaliseId(prop(set, 'IdentifiedObject.mRID') ?? set.ids[0] ?? set.key);
    take(set);
    const input: Record<string, unknown> = {};
    const known = [...new Set([mpans.importMpan, mpans.exportMpan, ...mpans.mpans].filter((m): m is string => !!m))];
    const mpan = ext('mpan') ?? (known.length === 1 ? known[0] : undefined);
    if (mpan === undefined)
      problems.push(
        `It names no MPAN (fmar:OperationalLimitSet.mpan) and its equipment has ${known.length ? `${known.length} (${known.join(', ')})` : 'none'}.`,
      );
    else input.mpan = mpan.trim();
    for (const f of ['siteReference', 'firmness', 'validFrom', 'validTo', 'schemeReference']) {
      const v = ext(f);
      if (v !== undefined) input[f] = v.trim();
    }
    const bands = new Map<string, { order: number; band: Record<string, unknown> }>();
    const seen = new Set<Direction>();
    for (const l of limits) {
      take(l);
      const type = model.objects.get(refs(l, 'OperationalLimit.OperationalLimitType')[0]?.key ?? '');
      if (type) take(type);
      const named = (type?.properties['fmar:OperationalLimitType.direction']?.[0] ?? (type && prop(type, 'IdentifiedObject.name')) ?? '')
        .trim()
        .toLowerCase();
      const dir = DIRECTIONS.find((d) => d === named);
      if (!dir) {
        problems.push(`ActivePowerLimit ${mridOf(l)} is of no direction (its OperationalLimitType is neither import nor export).`);
        continue;
      }
      if (seen.has(dir)) {
        problems.push(`It has two ${dir} limits.`);
        continue;
      }
      seen.add(dir);
      const kw = kwOf(prop(l, 'ActivePowerLimit.value'), unit);
      if (typeof kw === 'string') problems.push(`The ${dir} ActivePowerLimit's ${kw}.`);
      else input[KEY[dir]] = kw;
      readSchedule(l, dir, bands, problems);
    }
    if (bands.size) {
      input.profile = [...bands.values()].sort((a, b) => a.order - b.order).map((b) => b.band);
      input.firmness ??= 'TIMED';
    }
    input.firmness ??= 'FIRM';
    return { mrid, at: set.at[0], ...(problems.length ? {} : { input }), problems };
  }

  /** The bands of one direction: each ScheduledActivePowerLimitValue of the limit's ScheduledLimitDependency. */
  function readSchedule(
    limit: CimObject,
    dir: Direction,
    bands: Map<string, { order: number; band: Record<string, unknown> }>,
    problems: string[],
  ) {
    const { dependenciesOf, valuesOf } = index();
    for (const dep of dependenciesOf.get(limit.key) ?? []) {
      if (dep.className !== 'ScheduledLimitDependency') continue;
      take(dep);
      for (const v of valuesOf.get(dep.key) ?? []) {
        if (v.className !== 'ScheduledActivePowerLimitValue') continue;
        take(v);
        const p = (name: string) => v.properties[`fmar:ScheduledLimitValue.${name}`];
        const from = p('from')?.[0]?.trim();
        const to = p('to')?.[0]?.trim();
        const days = (p('day') ?? []).map((d) => d.trim().toUpperCase());
        const number = Number(p('band')?.[0]);
        if (!from || !to) {
          problems.push(`Scheduled value ${mridOf(v)} has no time (fmar:ScheduledLimitValue.from and .to).`);
          continue;
        }
        // The band's number says which values of the two directions are one band; without it, the same days and times do.
        const key = Number.isInteger(number) && number > 0 ? `#${number}` : `${days.join(' ')}|${from}|${to}`;
        const kw = kwOf(prop(v, 'ScheduledActivePowerLimitValue.value'), unit);
        if (typeof kw === 'string') {
          problems.push(`Scheduled value ${mridOf(v)}: ${kw}.`);
          continue;
        }
        const have = bands.get(key);
        if (
          have &&
          (have.band[KEY[dir]] !== undefined ||
            have.band.from !== from ||
            have.band.to !== to ||
            ((have.band.days as string[] | undefined) ?? []).join() !== days.join())
        ) {
          problems.push(`Band ${key} is given twice, or with different times, for ${dir}.`);
          continue;
        }
        if (have) have.band[KEY[dir]] = kw;
        else
          bands.set(key, {
            order: Number.isInteger(number) && number > 0 ? number : 1000 + bands.size,
            band: { ...(days.length ? { days } : {}), from, to, [KEY[dir]]: kw },
          });
      }
    }
  }
}

const mridOf = (o: CimObject) => normaliseId(prop(o, 'IdentifiedObject.mRID') ?? o.ids[0] ?? o.key);
