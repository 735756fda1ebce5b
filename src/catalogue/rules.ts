import { fieldError, type FieldError } from '../http/problem';
import { fieldErrorsFromZod } from '../http/validation';
import { CategoryAttributes, ConnectionStatusAttributes, type CatalogueCodeInput } from './schema';
import type { CatalogueName, CatalogueSnapshot } from './snapshot';

/** The catalogue rules that need the catalogue's definition or other codes: pure, each tested by its code. */

export interface CatalogueDef {
  name: CatalogueName;
  policy: 'extensible' | 'fixed' | 'read-only';
  codePattern: string;
}

/** effectiveTo is exclusive: the first day the code no longer applies, after effectiveFrom. */
export function dateErrors(from: string | null | undefined, to: string | null | undefined): FieldError[] {
  return from && to && to <= from
    ? [fieldError('effectiveTo', 'CATALOGUE-EFFECTIVE-DATES', `effectiveTo ${to} is not after effectiveFrom ${from}.`)]
    : [];
}

/**
 * What a new code may carry: an asset category its kind and defaults (active codes of
 * energy-sources / demand-technologies today), a connection status whether it counts as connected.
 */
export function attributeErrors(
  catalogue: CatalogueName,
  attributes: Record<string, unknown> | undefined,
  codes: CatalogueSnapshot,
  today: string,
): FieldError[] {
  const attrs = attributes ?? {};
  const prefixed = (errors: FieldError[]) => errors.map((e) => ({ ...e, field: `attributes.${e.field}`.replace(/\.\(body\)$/, '') }));
  if (catalogue === 'asset-categories') {
    const parsed = CategoryAttributes.safeParse(attrs);
    if (!parsed.success)
      return prefixed(fieldErrorsFromZod(parsed.error, attrs)).map((e) => ({
        ...e,
        code: e.code === 'REQUEST-UNKNOWN-FIELD' || e.code === 'REQUEST-FIELD-REQUIRED' ? ('CATALOGUE-ATTRIBUTES' as const) : e.code,
      }));
    const out: FieldError[] = [];
    const { defaultEnergySource: es, defaultDemandTechnology: dt } = parsed.data;
    if (es && codes.state('energy-sources', es, today) !== 'ok')
      out.push(fieldError('attributes.defaultEnergySource', 'CATALOGUE-ATTRIBUTES', `${es} is not an active code of energy-sources.`));
    if (dt && codes.state('demand-technologies', dt, today) !== 'ok')
      out.push(
        fieldError('attributes.defaultDemandTechnology', 'CATALOGUE-ATTRIBUTES', `${dt} is not an active code of demand-technologies.`),
      );
    return out;
  }
  if (catalogue === 'connection-statuses') {
    const parsed = ConnectionStatusAttributes.safeParse(attrs);
    return parsed.success
      ? []
      : prefixed(fieldErrorsFromZod(parsed.error, attrs)).map((e) => ({ ...e, code: 'CATALOGUE-ATTRIBUTES' as const }));
  }
  return Object.keys(attrs).length
    ? [fieldError('attributes', 'CATALOGUE-ATTRIBUTES', `The ${catalogue} catalogue takes no attributes.`)]
    : [];
}

/** Every field rule of a new code in an extensible catalogue (the policy itself is the service's first check). */
export function newCodeErrors(def: CatalogueDef, input: CatalogueCodeInput, codes: CatalogueSnapshot, today: string): FieldError[] {
  const errors: FieldError[] = [];
  if (!new RegExp(def.codePattern).test(input.code))
    errors.push(fieldError('code', 'CATALOGUE-CODE-FORMAT', `${def.name} codes match ${def.codePattern}.`));
  errors.push(...dateErrors(input.effectiveFrom, input.effectiveTo));
  errors.push(...attributeErrors(def.name, input.attributes, codes, today));
  return errors;
}
