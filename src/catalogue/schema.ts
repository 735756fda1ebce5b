import { z } from '@hono/zod-openapi';
import { isCalendarDate } from '../http/validation';
import type { RuleCode } from '../rules';
import { CATALOGUE_NAMES, type CatalogueName, type CatalogueSnapshot } from './snapshot';
import { unknownCodeDetail } from './validate';

/**
 * One definition of the catalogue resource (UC-05.07): a code list and its codes. Field rules live
 * here (their rule code is the message); the rules that need the catalogue's policy or other codes
 * in ./rules.ts.
 */

export const POLICIES = ['extensible', 'fixed', 'read-only'] as const;

const date = z
  .string('CATALOGUE-DATE-FORMAT')
  .refine(isCalendarDate, 'CATALOGUE-DATE-FORMAT')
  .openapi({ format: 'date', example: '2026-01-01' });
const label = z.string('CATALOGUE-LABEL-FORMAT').trim().min(1, 'CATALOGUE-LABEL-FORMAT').max(200, 'CATALOGUE-LABEL-FORMAT');
const description = z.string('CATALOGUE-LABEL-FORMAT').max(1000, 'CATALOGUE-LABEL-FORMAT');

export const CatalogueSummary = z
  .object({
    name: z.enum(CATALOGUE_NAMES).openapi({ example: 'asset-categories' }),
    title: z.string(),
    description: z.string(),
    policy: z.enum(POLICIES).openapi({
      description:
        'extensible: the operator adds codes and changes them; fixed: no new codes (code stands behind each), existing ones change; read-only: no change through the API.',
    }),
    codePattern: z.string().openapi({ description: 'Regular expression every code of the list matches.' }),
    usedBy: z.array(z.string()).openapi({ description: 'Resource fields whose values come from this list.', example: ['asset.category'] }),
    codes: z.number().int(),
    activeCodes: z.number().int(),
  })
  .openapi('CatalogueSummary');
export type CatalogueSummary = z.infer<typeof CatalogueSummary>;

export const CatalogueCode = z
  .object({
    catalogue: z.string(),
    code: z.string().openapi({ example: 'BESS' }),
    label: z.string().openapi({ example: 'Battery energy storage system' }),
    description: z.string().nullable(),
    active: z.boolean().openapi({ description: 'Inactive codes stay on the records that hold them but are refused as new values.' }),
    effectiveFrom: z.string().nullable().openapi({ format: 'date', description: 'First day the code applies (none: always).' }),
    effectiveTo: z
      .string()
      .nullable()
      .openapi({ format: 'date', description: 'First day the code no longer applies (exclusive; none: open-ended).' }),
    attributes: z.record(z.string(), z.unknown()).openapi({
      description:
        'What the register reads from the code: an asset category’s kind and defaults, a connection status’s connected flag, a DNO’s MPAN distributor ID.',
    }),
    version: z.number().int(),
    recordedAt: z.string(),
    recordedBy: z.string(),
  })
  .openapi('CatalogueCode');
export type CatalogueCode = z.infer<typeof CatalogueCode>;

export const CatalogueCodeInEffect = CatalogueCode.extend({
  inEffect: z.boolean().openapi({
    description: 'Active and within its effective dates on the date asked for (`at`, default today): accepted as a new value then.',
  }),
});

export const CatalogueWithCodes = CatalogueSummary.extend({
  at: z.string().openapi({ format: 'date' }),
  items: z.array(CatalogueCodeInEffect),
}).openapi('Catalogue');

export const CatalogueQuery = z.object({
  at: date.optional().openapi({ description: 'The date the codes are in effect on (YYYY-MM-DD, default today).' }),
  includeInactive: z
    .enum(['true', 'false'])
    .optional()
    .openapi({ description: 'true: every code, with inEffect; default: only the codes in effect on `at`.' }),
});

/** Attributes a new code may carry, per catalogue; other catalogues take none. */
export const CategoryAttributes = z
  .object({
    kind: z.enum(['generating', 'demand', 'storage', 'other'], 'CATALOGUE-ATTRIBUTES').openapi({
      description:
        'generating: energy source and export MPAN required; demand: demand technology and import MPAN; storage: energy source and at least one MPAN; other: neither.',
    }),
    defaultEnergySource: z.string('CATALOGUE-ATTRIBUTES').max(40, 'CATALOGUE-ATTRIBUTES').optional(),
    defaultDemandTechnology: z.string('CATALOGUE-ATTRIBUTES').max(40, 'CATALOGUE-ATTRIBUTES').optional(),
  })
  .strict();
export const ConnectionStatusAttributes = z
  .object({
    connected: z
      .boolean('CATALOGUE-ATTRIBUTES')
      .optional()
      .openapi({ description: 'An asset with this status needs a commissioning date and a DNO (as CONNECTED).' }),
  })
  .strict();

export const CatalogueCodeInput = z
  .object({
    code: z
      .string('CATALOGUE-CODE-FORMAT')
      .min(1, 'CATALOGUE-CODE-FORMAT')
      .max(40, 'CATALOGUE-CODE-FORMAT')
      .openapi({ example: 'FLYWHEEL' }),
    label,
    description: description.optional(),
    active: z.boolean().optional().openapi({ description: 'Default true.' }),
    effectiveFrom: date.optional(),
    effectiveTo: date.optional(),
    attributes: z
      .record(z.string(), z.unknown())
      .optional()
      .openapi({
        description:
          'asset-categories: { kind, defaultEnergySource?, defaultDemandTechnology? } (kind required); connection-statuses: { connected? }; others: none.',
        example: { kind: 'storage', defaultEnergySource: 'GRID' },
      }),
  })
  .strict()
  .openapi('CatalogueCodeInput');
export type CatalogueCodeInput = z.infer<typeof CatalogueCodeInput>;

/** Update: label, description, active and effective dates; null clears an optional one. The code and its attributes never change. */
export const CatalogueCodePatch = z
  .object({
    label: label.optional(),
    description: description.nullable().optional(),
    active: z.boolean().optional(),
    effectiveFrom: date.nullable().optional(),
    effectiveTo: date.nullable().optional(),
  })
  .strict()
  .openapi('CatalogueCodePatch');
export type CatalogueCodePatch = z.infer<typeof CatalogueCodePatch>;

/**
 * The catalogue snapshot that code fields check against, in scope only during one synchronous parse
 * (parseWithCodes): each parse names the database's snapshot it validates against.
 */
let codesInScope: CatalogueSnapshot | undefined;

/**
 * Run a synchronous parse (`schema.safeParse`) whose code fields (codeField, codeFilter) check that
 * each value is a code of its catalogue in `codes`. Outside it a code field checks nothing: every
 * writer checks its codes against the snapshot afterwards (src/catalogue/validate.ts), so a value
 * is never stored unchecked; inside it an unknown code is one more field error of the same parse.
 */
export function parseWithCodes<T>(codes: CatalogueSnapshot, parse: () => T): T {
  const outer = codesInScope;
  codesInScope = codes;
  try {
    return parse();
  } finally {
    codesInScope = outer;
  }
}

/**
 * A field whose value comes from a catalogue: any code the catalogue holds passes the schema (so the
 * OpenAPI type is a string, not a fixed enum); whether it is in effect for the record is checked by
 * the service against the database's catalogue (src/catalogue/validate.ts).
 */
export function codeField(catalogue: CatalogueName, rule: RuleCode, example: string) {
  // The issue carries its detail (fieldErrorsFromZod uses it): the value echoed and where the codes are listed.
  return z
    .string(rule)
    .superRefine((v, ctx) => {
      if (codesInScope && !codesInScope.get(catalogue, v))
        ctx.addIssue({ code: 'custom', message: rule, params: { detail: unknownCodeDetail(v, catalogue) } });
    })
    .openapi({
      description: `A code of the ${catalogue} catalogue: GET /api/v1/catalogues/${catalogue}. New and changed values must be active codes in effect.`,
      example,
    });
}

/**
 * A list or export filter on a code: any code the catalogue holds (active or not, so that old records
 * stay findable), checked like codeField; an unknown one is a 400 naming the catalogue.
 */
export function codeFilter(catalogue: CatalogueName, example: string) {
  return z
    .string()
    .max(64)
    .superRefine((v, ctx) => {
      if (codesInScope && !codesInScope.get(catalogue, v))
        ctx.addIssue({ code: 'custom', message: 'REQUEST-CODE-UNKNOWN', params: { detail: unknownCodeDetail(v, catalogue) } });
    })
    .openapi({ description: `A code of the ${catalogue} catalogue (GET /api/v1/catalogues/${catalogue}).`, example });
}
