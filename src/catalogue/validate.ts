import { fieldError, type FieldError } from '../http/problem';
import type { RuleCode } from '../rules';
import type { CatalogueName, CatalogueSnapshot } from './snapshot';

/**
 * Membership checks of record fields against a catalogue snapshot, pure. A value is checked only
 * when it is new or changed (a record keeps a code that was deactivated after it was recorded), as
 * of the record's effective date or today. The refusal carries the field's own rule code; the
 * detail says whether the code is unknown, inactive or outside its effective dates.
 */
/** Where a catalogue's codes are listed. */
export const catalogueUrl = (catalogue: CatalogueName) => `GET /api/v1/catalogues/${catalogue}`;

/** The detail of a value that is no code of the catalogue: the value (cut, it is the caller's text) and where the codes are. */
export function unknownCodeDetail(value: string, catalogue: CatalogueName): string {
  const shown = value.length > 64 ? `${value.slice(0, 64)}…` : value;
  return `${JSON.stringify(shown)} is not a code of the ${catalogue} catalogue; the codes are listed at ${catalogueUrl(catalogue)}.`;
}

export function checkCode(
  codes: CatalogueSnapshot,
  catalogue: CatalogueName,
  value: string,
  date: string,
  field: string,
  rule: RuleCode,
): FieldError | undefined {
  const e = codes.get(catalogue, value);
  const list = catalogueUrl(catalogue);
  switch (codes.state(catalogue, value, date)) {
    case 'ok':
      return undefined;
    case 'unknown':
      return fieldError(field, rule, unknownCodeDetail(value, catalogue));
    case 'inactive':
      return fieldError(
        field,
        rule,
        `${value} is inactive in the ${catalogue} catalogue: records that hold it keep it, new values must be active codes (${list}).`,
      );
    case 'not-yet':
      return fieldError(field, rule, `${value} applies from ${e!.effectiveFrom} in the ${catalogue} catalogue, not on ${date}.`);
    case 'ended':
      return fieldError(field, rule, `${value} stopped applying on ${e!.effectiveTo} in the ${catalogue} catalogue, before ${date}.`);
  }
}

/** [field path, catalogue, rule code] of every asset field whose value comes from a catalogue. */
export const ASSET_CODE_FIELDS: readonly [string, CatalogueName, RuleCode][] = [
  ['category', 'asset-categories', 'ASSET-CATEGORY-UNKNOWN'],
  ['energySource', 'energy-sources', 'ASSET-ENERGY-SOURCE-UNKNOWN'],
  ['demandTechnology', 'demand-technologies', 'ASSET-DEMAND-TECHNOLOGY-UNKNOWN'],
  ['energyConversionType', 'energy-conversion-types', 'ASSET-ENERGY-CONVERSION-TYPE-UNKNOWN'],
  ['connectionStatus', 'connection-statuses', 'ASSET-CONNECTION-STATUS-UNKNOWN'],
  ['connectionType', 'connection-types', 'ASSET-CONNECTION-TYPE-UNKNOWN'],
  ['dno', 'dno-codes', 'ASSET-DNO-UNKNOWN'],
  ['location.gspGroup', 'gsp-groups', 'ASSET-GSP-GROUP-UNKNOWN'],
];

const at = (o: object, path: string): unknown =>
  path.split('.').reduce<unknown>((v, k) => (v == null ? undefined : (v as Record<string, unknown>)[k]), o);

/** The catalogue errors of an asset (after defaults); `before` is the stored version on an update. */
export function assetCodeErrors(codes: CatalogueSnapshot, asset: object, date: string, before?: object): FieldError[] {
  const errors: FieldError[] = [];
  for (const [field, catalogue, rule] of ASSET_CODE_FIELDS) {
    const v = at(asset, field);
    if (typeof v !== 'string' || (before && at(before, field) === v)) continue;
    const e = checkCode(codes, catalogue, v, date, field, rule);
    if (e) errors.push(e);
  }
  return errors;
}

interface OrgCodes {
  organisationType?: string | null;
  identifiers?: { scheme: string }[] | null;
  dnoCodes?: string[] | null;
}

/** The catalogue errors of an organisation (new, or merged with an update against `before`), as of `date`. */
export function organisationCodeErrors(codes: CatalogueSnapshot, org: OrgCodes, date: string, before?: OrgCodes): FieldError[] {
  const errors: FieldError[] = [];
  const push = (e: FieldError | undefined) => {
    if (e) errors.push(e);
  };
  if (org.organisationType && org.organisationType !== before?.organisationType) {
    push(checkCode(codes, 'organisation-types', org.organisationType, date, 'organisationType', 'ORG-TYPE-UNKNOWN'));
  }
  const heldSchemes = new Set((before?.identifiers ?? []).map((i) => i.scheme));
  for (const [i, id] of (org.identifiers ?? []).entries()) {
    if (!heldSchemes.has(id.scheme))
      push(checkCode(codes, 'identifier-schemes', id.scheme, date, `identifiers.${i}.scheme`, 'ORG-IDENTIFIER-SCHEME'));
  }
  const heldDnos = new Set(before?.dnoCodes ?? []);
  for (const [i, d] of (org.dnoCodes ?? []).entries()) {
    if (!heldDnos.has(d)) push(checkCode(codes, 'dno-codes', d, date, `dnoCodes.${i}`, 'ORG-DNO-CODE-UNKNOWN'));
  }
  return errors;
}
