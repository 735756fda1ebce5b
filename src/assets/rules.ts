import { BUILT_IN, type CatalogueSnapshot } from '../catalogue/snapshot';
import { assetCodeErrors } from '../catalogue/validate';
import { checkMpanCore, isUkPostcode, normaliseEvseId } from '../catalogue/identifiers';
import { fieldError, type FieldError } from '../http/problem';
import { RULES, type RuleCode } from '../rules';
import type { AssetFields, Warning } from './schema';

/** Rated capacity above which registration needs a justification (Elexon draft). */
export const HIGH_CAPACITY_KW = 1_000_000;

export function warning(code: RuleCode, field: string, detail?: string): Warning {
  return { code, field, detail: detail ?? RULES[code].title, needsJustification: code !== 'ASSET-DNO-MISMATCH' };
}

/**
 * The category-driven rules of fmar-domain.md, applied to a whole asset (new, or merged with an
 * update). The category's kind and defaults, the connected statuses and the DNO of each MPAN
 * distributor come from the catalogues (`codes`, a snapshot; the seed by default); values from a
 * catalogue must be in effect on the asset's effective date (or today) unless `before`, the stored
 * version on an update, already holds them. Returns the asset with defaults applied, hard errors,
 * and warnings.
 */
export function checkAsset(
  input: AssetFields,
  today: string,
  codes: CatalogueSnapshot = BUILT_IN,
  before?: object,
): { asset: AssetFields; errors: FieldError[]; warnings: Warning[] } {
  const a: AssetFields = { ...input };
  const errors: FieldError[] = [];
  const warnings: Warning[] = [];
  const category = codes.get('asset-categories', a.category)?.attributes ?? {};
  const generating = category.kind === 'generating' || category.kind === 'storage';
  const demand = category.kind === 'demand';

  if (!a.energySource && typeof category.defaultEnergySource === 'string') a.energySource = category.defaultEnergySource;
  if (!a.demandTechnology && typeof category.defaultDemandTechnology === 'string') a.demandTechnology = category.defaultDemandTechnology;
  errors.push(...assetCodeErrors(codes, a, a.effectiveDate ?? today, before));
  if (generating && !a.energySource) errors.push(fieldError('energySource', 'ASSET-ENERGY-SOURCE-REQUIRED'));
  if (demand && !a.demandTechnology) errors.push(fieldError('demandTechnology', 'ASSET-DEMAND-TECHNOLOGY-REQUIRED'));

  if (!(a.ratedCapacityKw > 0)) errors.push(fieldError('ratedCapacityKw', 'ASSET-CAPACITY-RATED'));
  for (const f of ['generationCapacityKw', 'demandCapacityKw'] as const) {
    const v = a[f];
    if (v != null && v > a.ratedCapacityKw)
      errors.push(fieldError(f, 'ASSET-CAPACITY-EXCEEDS-RATED', `${f} ${v} kW exceeds the rated capacity ${a.ratedCapacityKw} kW.`));
  }
  if (a.ratedCapacityKw > HIGH_CAPACITY_KW)
    warnings.push(
      warning('ASSET-CAPACITY-HIGH', 'ratedCapacityKw', `Rated capacity ${a.ratedCapacityKw} kW is above ${HIGH_CAPACITY_KW} kW.`),
    );

  if (a.commissioningDate && a.commissioningDate > today)
    errors.push(
      fieldError(
        'commissioningDate',
        'ASSET-COMMISSIONING-DATE-FUTURE',
        `Commissioning date ${a.commissioningDate} is after today (${today}).`,
      ),
    );
  const connected = codes.get('connection-statuses', a.connectionStatus)?.attributes.connected === true;
  if (connected && !a.commissioningDate) errors.push(fieldError('commissioningDate', 'ASSET-COMMISSIONING-DATE-REQUIRED'));
  if (a.effectiveDate && a.commissioningDate && a.effectiveDate < a.commissioningDate)
    errors.push(fieldError('effectiveDate', 'ASSET-EFFECTIVE-DATE-BEFORE-COMMISSIONING'));

  const distributors = new Set<string>();
  for (const f of ['importMpan', 'exportMpan'] as const) {
    const v = a[f];
    if (v == null) continue;
    const verdict = checkMpanCore(v);
    if (verdict === 'format') errors.push(fieldError(f, 'ASSET-MPAN-FORMAT'));
    else if (verdict === 'checkdigit')
      errors.push(fieldError(f, 'ASSET-MPAN-CHECKDIGIT', `${v}: the check digit should be ${expectedCheckDigit(v)}.`));
    else if (verdict === 'distributor') errors.push(fieldError(f, 'ASSET-MPAN-DISTRIBUTOR'));
    else distributors.add(v.slice(0, 2));
  }
  if (demand && !a.importMpan) errors.push(fieldError('importMpan', 'ASSET-MPAN-IMPORT-REQUIRED'));
  if (category.kind === 'generating' && !a.exportMpan) errors.push(fieldError('exportMpan', 'ASSET-MPAN-EXPORT-REQUIRED'));
  if (category.kind === 'storage' && !a.importMpan && !a.exportMpan) errors.push(fieldError('importMpan', 'ASSET-MPAN-BESS-REQUIRED'));
  if (a.importMpan && a.importMpan === a.exportMpan) errors.push(fieldError('exportMpan', 'ASSET-MPANS-IDENTICAL'));

  if (!a.dno && (a.importMpan || a.exportMpan || connected)) errors.push(fieldError('dno', 'ASSET-DNO-REQUIRED'));
  if (a.dno) {
    for (const d of distributors) {
      const expected = codes.dnoForDistributor(d);
      if (expected && expected !== a.dno)
        warnings.push(warning('ASSET-DNO-MISMATCH', 'dno', `DNO ${a.dno} differs from ${expected}, the distributor of MPAN ID ${d}.`));
    }
  }

  const loc = a.location;
  if (loc) {
    if (loc.postcode != null && !isUkPostcode(loc.postcode)) errors.push(fieldError('location.postcode', 'ASSET-POSTCODE-FORMAT'));
    if ((loc.latitude == null) !== (loc.longitude == null)) errors.push(fieldError('location', 'ASSET-COORDINATES'));
  }

  const aliases = [];
  for (const [i, al] of (a.aliases ?? []).entries()) {
    if (al.scheme === 'mpan' || al.scheme === 'serial') {
      errors.push(fieldError(`aliases.${i}.scheme`, 'ASSET-ALIAS-MANAGED'));
      continue;
    }
    const value = normaliseAlias(al.scheme, al.value);
    if (value === undefined)
      errors.push(fieldError(`aliases.${i}.value`, 'ASSET-ALIAS-FORMAT', `"${al.value}" is not a valid ${al.scheme} identifier.`));
    // An ECR reference is unique only within one DNO's register: without the DNO it names nothing.
    else if (al.scheme === 'ecr' && !a.dno)
      errors.push(fieldError('dno', 'ASSET-ECR-DNO-REQUIRED', `ECR reference ${value} belongs to a DNO's register: give the asset's dno.`));
    else aliases.push({ scheme: al.scheme, value });
  }
  a.aliases = aliases;
  return { asset: a, errors, warnings };
}

function expectedCheckDigit(core: string): number {
  const w = [3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43];
  let s = 0;
  for (let i = 0; i < 12; i++) s += Number(core[i]) * w[i];
  return (s % 11) % 10;
}

/** The stored, comparable form of an alias value, or undefined when it is not valid for its scheme. */
export function normaliseAlias(scheme: string, value: string): string | undefined {
  const v = value.trim();
  switch (scheme) {
    case 'mpan':
      return checkMpanCore(v) === 'ok' ? v : undefined;
    case 'serial':
      return /^[A-Za-z0-9_-]{3,64}$/.test(v) ? v : undefined;
    case 'evse':
      return normaliseEvseId(v);
    case 'ecr':
      return /^[A-Za-z0-9_/.-]{1,64}$/.test(v) ? v.toUpperCase() : undefined;
    case 'mcs':
      return /^[A-Za-z0-9/-]{3,40}$/.test(v) ? v.toUpperCase() : undefined;
    // Visible ASCII but `;`, which separates aliases in the CSV export and import.
    case 'fsp_ref':
      return /^[\x21-\x3a\x3c-\x7e]{1,64}$/.test(v) ? v : undefined;
    // A DSO's CIM mRID, kept as written (case, `_`, `urn:uuid:`); visible ASCII but `;`.
    case 'cim_mrid':
      return /^[\x21-\x3a\x3c-\x7e]{1,64}$/.test(v) ? v : undefined;
    default:
      return undefined;
  }
}

/** All aliases an asset carries: derived (MPANs, serial) and given. */
export function allAliases(a: AssetFields): { scheme: string; value: string }[] {
  const out: { scheme: string; value: string }[] = [];
  if (a.importMpan) out.push({ scheme: 'mpan', value: a.importMpan });
  if (a.exportMpan) out.push({ scheme: 'mpan', value: a.exportMpan });
  if (a.serialNumber) out.push({ scheme: 'serial', value: a.serialNumber });
  for (const al of a.aliases ?? []) out.push(al);
  return out;
}

/** Natural keys of a true duplicate: the same MPAN + category + serial. */
export function naturalKeys(a: AssetFields): string[] {
  if (!a.serialNumber) return [];
  return [a.importMpan, a.exportMpan].filter((m): m is string => !!m).map((m) => `${m}|${a.category}|${a.serialNumber}`);
}

export const UNIQUE_ALIAS_SCHEMES = ['evse', 'ecr', 'fsp_ref'];

/**
 * Where a unique alias is unique: EVSE IDs nationally (''), the FSP's reference within the owning
 * organisation, an Embedded Capacity Register reference within its DNO's register (the asset's DNO).
 */
export function aliasScope(scheme: string, orgId: string, dno: string | null | undefined): string {
  if (scheme === 'fsp_ref') return orgId;
  if (scheme === 'ecr') return dno ?? '';
  return '';
}

/** The register an alias row is kept in: the asset's DNO for an ECR reference (migration 026), none otherwise. */
export const aliasRegister = (scheme: string, dno: string | null | undefined): string | null => (scheme === 'ecr' ? (dno ?? null) : null);
