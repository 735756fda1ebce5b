import type { Asset } from '../assets/schema';
import { dnoForDistributor } from '../catalogue/codes';
import { fieldError, type FieldError } from '../http/problem';
import { DefinitionError, EXTERNAL_FACT, evaluate, factsOf, parseDefinition, stalenessOf, type Facts, type Node } from './language';
import type { DqRule, RuleKind, Severity } from './schema';

/**
 * The data quality engine, pure: compile rules, turn an asset (and its last validation) into
 * facts, evaluate, score, and decide Verified / Query. No I/O, so each rule is tested by its code.
 */

export interface CompiledRule {
  code: string;
  description: string;
  severity: Severity;
  weight: number;
  appliesTo: string[];
  kind: RuleKind;
  tree: Node;
  /** The facts it names, for a finding's detail. */ named: string[];
}

/** What the external registries said at the last validation (stored in dq_asset_score.validation). */
export type CheckStatus = 'ok' | 'not-found' | 'unavailable' | 'not-applicable';
export interface Validation {
  meterPoint?: {
    status: CheckStatus;
    mpan?: string | null;
    distributorId?: string | null;
    dno?: string | null;
    gspGroup?: string | null;
    energised?: boolean | null;
  };
  mcs?: { status: CheckStatus; serialNumber?: string | null; category?: string; ratedCapacityKw?: number; certificate?: string | null };
}

/** Categories installed under an MCS certificate (small-scale generation and heat pumps). */
export const MCS_CATEGORIES = ['SOLAR_PV', 'HEAT_PUMP', 'WIND_TURBINE'];
/** MCS certifies installations of up to 50 kW: a larger one has no certificate to find. */
export const MCS_MAX_KW = 50;

/** Whether the MCS check applies to the asset at all (category, size and a serial to ask about). */
export function mcsApplies(a: { category: string; ratedCapacityKw: number; serialNumber: string | null }): boolean {
  return MCS_CATEGORIES.includes(a.category) && a.ratedCapacityKw <= MCS_MAX_KW && !!a.serialNumber;
}

export interface Failure {
  code: string;
  severity: Severity;
  detail: string;
}
export interface Assessment {
  score: number;
  failing: Failure[];
  evaluated: string[];
}

/** Parse a definition and check it fits its kind: the FieldError to refuse with, or the tree. */
export function compileDefinition(
  kind: RuleKind,
  definition: string,
): { tree?: Node; error?: FieldError & { position?: DefinitionError['position'] } } {
  let tree: Node;
  try {
    tree = parseDefinition(definition);
  } catch (e) {
    if (e instanceof DefinitionError) return { error: { ...fieldError('definition', e.code, e.message), position: e.position } };
    throw e;
  }
  const external = factsOf(tree).some((f) => EXTERNAL_FACT.test(f));
  if (kind === 'external-check' && !external)
    return {
      error: fieldError('definition', 'DQ-RULE-KIND-MISMATCH', 'An external-check rule names at least one meterPoint.* or mcs.* fact.'),
    };
  if (kind !== 'external-check' && external)
    return {
      error: fieldError('definition', 'DQ-RULE-KIND-MISMATCH', `meterPoint.* and mcs.* facts are for external-check rules, not ${kind}.`),
    };
  if (kind === 'staleness' && !stalenessOf(tree))
    return {
      error: fieldError(
        'definition',
        'DQ-RULE-KIND-MISMATCH',
        'A staleness rule is `daysSince(recordedAt|validatedAt|lastActivityAt) <= N` (or < N).',
      ),
    };
  return { tree };
}

export function compileRule(
  r: Pick<DqRule, 'code' | 'description' | 'severity' | 'weight' | 'appliesTo' | 'kind' | 'definition'>,
): CompiledRule {
  const { tree, error } = compileDefinition(r.kind, r.definition);
  // A stored rule was checked on write; one that no longer parses (language changed) is a bug to see.
  if (!tree) throw new Error(`data quality rule ${r.code} does not compile: ${error?.detail}`);
  return {
    code: r.code,
    description: r.description,
    severity: r.severity,
    weight: r.weight,
    appliesTo: r.appliesTo,
    kind: r.kind,
    tree,
    named: factsOf(tree),
  };
}

/** The asset as facts of the rule language; external facts only while they describe the current MPAN / serial. */
export function assetFacts(a: Asset, v: { validatedAt: string | null; validation: Validation | null } | undefined): Facts {
  const validatedAt = v?.validatedAt ?? null;
  const lastActivityAt = validatedAt && validatedAt > a.recordedAt ? validatedAt : a.recordedAt;
  const f: Facts = {
    name: a.name,
    friendlyCode: a.friendlyCode,
    category: a.category,
    organisationId: a.organisationId,
    fspId: a.fspId,
    status: a.status,
    ratedCapacityKw: a.ratedCapacityKw,
    generationCapacityKw: a.generationCapacityKw,
    demandCapacityKw: a.demandCapacityKw,
    energySource: a.energySource,
    demandTechnology: a.demandTechnology,
    manufacturer: a.manufacturer,
    model: a.model,
    serialNumber: a.serialNumber,
    commissioningDate: a.commissioningDate,
    effectiveDate: a.effectiveDate,
    connectionStatus: a.connectionStatus,
    connectionType: a.connectionType,
    dno: a.dno,
    importMpan: a.importMpan,
    exportMpan: a.exportMpan,
    consentReference: a.consentReference,
    'location.postcode': a.location?.postcode ?? null,
    'location.gspGroup': a.location?.gspGroup ?? null,
    'location.latitude': a.location?.latitude ?? null,
    'location.longitude': a.location?.longitude ?? null,
    recordedAt: a.recordedAt,
    validatedAt,
    lastActivityAt,
  };
  const mp = v?.validation?.meterPoint;
  if (mp && (mp.mpan ?? null) === (a.importMpan ?? a.exportMpan ?? null)) {
    Object.assign(f, {
      'meterPoint.status': mp.status,
      'meterPoint.dno': mp.dno ?? null,
      'meterPoint.gspGroup': mp.gspGroup ?? null,
      'meterPoint.energised': mp.energised ?? null,
    });
  }
  const mcs = v?.validation?.mcs;
  // An answer about an installation of another size no longer holds when the size decides whether MCS applies.
  if (mcs && (mcs.serialNumber ?? null) === (a.serialNumber ?? null) && mcs.category === a.category)
    f['mcs.status'] = mcsApplies(a) ? mcs.status : 'not-applicable';
  return f;
}

export function applies(r: CompiledRule, a: Pick<Asset, 'category'>, validated: boolean): boolean {
  return (r.appliesTo.length === 0 || r.appliesTo.includes(a.category)) && (r.kind !== 'external-check' || validated);
}

const show = (v: unknown) => (v === null || v === undefined || v === '' ? '(none)' : String(v));

/**
 * Evaluate the rules on one asset. Score = 100 × (1 − weight of the failing rules / weight of the
 * rules that apply), rounded; 100 when no weighted rule applies.
 */
export function assess(a: Asset, rules: CompiledRule[], facts: Facts, now: Date): Assessment {
  const validated = facts.validatedAt !== null && facts.validatedAt !== undefined;
  let total = 0;
  let failed = 0;
  const failing: Failure[] = [];
  const evaluated: string[] = [];
  for (const r of rules) {
    if (!applies(r, a, validated)) continue;
    evaluated.push(r.code);
    total += r.weight;
    if (evaluate(r.tree, facts, now, dnoForDistributor)) continue;
    failed += r.weight;
    const named = r.named.map((k) => `${k}=${show(facts[k])}`).join(', ');
    failing.push({ code: r.code, severity: r.severity, detail: `${r.description} (${named})` });
  }
  return { score: total === 0 ? 100 : Math.round(100 * (1 - failed / total)), failing, evaluated };
}

/**
 * Verified / Query after a validation: an open ERROR finding puts the asset in Query; with none,
 * it is Verified only if every registry answered (failing closed: an unanswered check never
 * verifies), otherwise its status stays.
 */
export function statusAfterValidation(current: string, open: { severity: Severity }[], allAnswered: boolean): string {
  if (open.some((f) => f.severity === 'ERROR')) return 'QUERY';
  return allAnswered ? 'VERIFIED' : current;
}
