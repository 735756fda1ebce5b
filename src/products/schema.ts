import { z } from '@hono/zod-openapi';

/**
 * One definition of the product catalogue (UC-04.01), qualification (UC-04.02) and the table of
 * equivalences (UC-04.03). Field rules live here (their rule code is the message); the rules that
 * need other records in ./rules.ts and ./service.ts. docs/products.md describes them.
 */

export const PRODUCT_MARKETS = ['NESO', 'DSO'] as const;
export const PRODUCT_STATUSES = ['ACTIVE', 'INACTIVE'] as const;
export const SERVICE_TYPES = [
  'FREQUENCY_RESPONSE',
  'RESERVE',
  'CONSTRAINT_MANAGEMENT',
  'DEMAND_FLEXIBILITY',
  'VOLTAGE',
  'RESTORATION',
  'OTHER',
] as const;
export const QUALIFICATION_OUTCOMES = ['QUALIFIED', 'FAILED'] as const;
export const EQUIVALENCE_KINDS = ['EQUIVALENT', 'SUBSTITUTABLE'] as const;
export const EQUIVALENCE_STATUSES = ['ACTIVE', 'WITHDRAWN'] as const;

/**
 * A product ID: the market (NESO or DSO), then upper-case words of letters and digits joined by
 * single hyphens, 5–32 characters in all (`NESO-DFS`, `DSO-SUSTAIN-PEAK`). It also fits the market
 * units' product code format, so a unit names a product by its ID.
 */
export const PRODUCT_ID_RE = /^(NESO|DSO)(-[A-Z0-9]+)+$/;
export const PRODUCT_ID_MAX = 32;
export const isProductId = (s: string) => s.length <= PRODUCT_ID_MAX && PRODUCT_ID_RE.test(s);

const productId = z.string('PRODUCT-ID-FORMAT').max(PRODUCT_ID_MAX, 'PRODUCT-ID-FORMAT').regex(PRODUCT_ID_RE, 'PRODUCT-ID-FORMAT');
const instant = (code: 'PRODUCT-PERIOD' | 'QUALIFICATION-PERIOD') => z.iso.datetime({ offset: true, message: code });
const text = (max: number) => z.string().max(max);

const productFields = {
  name: z
    .string('PRODUCT-NAME-FORMAT')
    .min(1, 'PRODUCT-NAME-FORMAT')
    .max(255, 'PRODUCT-NAME-FORMAT')
    .openapi({ example: 'Demand Flexibility Service' }),
  description: text(2000).nullable().optional(),
  serviceType: z.enum(SERVICE_TYPES, 'PRODUCT-SERVICE-TYPE-UNKNOWN'),
  ownerOrganisationId: z.string().max(64).nullable().optional().openapi({
    description:
      'The owning System Operator: an active organisation with the SYSTEM_OPERATOR role (a DNO acting as DSO holds that role too). Null until the operator records one.',
  }),
  validFrom: instant('PRODUCT-PERIOD').openapi({ description: 'RFC 3339; when the product is offered from' }),
  validTo: instant('PRODUCT-PERIOD').nullable().optional().openapi({ description: 'RFC 3339, after validFrom; null = open' }),
};

export const ProductInput = z
  .object({
    id: productId.openapi({
      description:
        'The product ID, stable and unique: NESO- or DSO- (the market) then upper-case words of A–Z 0–9 joined by hyphens, at most 32 characters.',
      example: 'NESO-DFS',
    }),
    market: z.enum(PRODUCT_MARKETS, 'PRODUCT-MARKET-UNKNOWN').openapi({ description: 'NESO or DSO; the ID starts with it' }),
    ...productFields,
    validFrom: productFields.validFrom.optional().openapi({ description: 'RFC 3339; defaults to now' }),
  })
  .strict()
  .openapi('ProductInput');
export type ProductInput = z.infer<typeof ProductInput>;

/** Update: everything but the ID and the market; `status: INACTIVE` retires the product (validTo defaults to now). */
export const ProductPatch = z
  .object({
    name: productFields.name.optional(),
    description: productFields.description,
    serviceType: productFields.serviceType.optional(),
    ownerOrganisationId: productFields.ownerOrganisationId,
    validFrom: productFields.validFrom.optional(),
    validTo: productFields.validTo,
    status: z
      .enum(PRODUCT_STATUSES, 'PRODUCT-STATUS-UNKNOWN')
      .optional()
      .openapi({ description: 'INACTIVE retires the product: no new market units or qualifications name it; it is never deleted.' }),
  })
  .strict()
  .openapi('ProductPatch');
export type ProductPatch = z.infer<typeof ProductPatch>;

export const Product = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    market: z.enum(PRODUCT_MARKETS),
    serviceType: z.string(),
    ownerOrganisationId: z.string().nullable().openapi({
      description: 'The owning System Operator organisation; null: not yet recorded (the market says which kind of SO owns it).',
    }),
    status: z.enum(PRODUCT_STATUSES),
    validFrom: z.string(),
    validTo: z.string().nullable(),
    version: z.number().int(),
    recordedAt: z.string(),
    recordedBy: z.string(),
  })
  .openapi('Product');
export type Product = z.infer<typeof Product>;

export const QualificationInput = z
  .object({
    productId: productId
      .optional()
      .openapi({ description: 'The product qualified for; defaults to the unit’s product.', example: 'NESO-DFS' }),
    outcome: z.enum(QUALIFICATION_OUTCOMES, 'QUALIFICATION-OUTCOME-UNKNOWN'),
    validFrom: instant('QUALIFICATION-PERIOD'),
    validTo: instant('QUALIFICATION-PERIOD').nullable().optional().openapi({ description: 'After validFrom; null or absent = open' }),
    reference: text(200).optional().openapi({ description: 'The System Operator’s own reference for the assessment' }),
    notes: text(2000).optional(),
  })
  .strict()
  .openapi('QualificationInput');
export type QualificationInput = z.infer<typeof QualificationInput>;

export const Qualification = z
  .object({
    id: z.string(),
    marketUnitId: z.string(),
    productId: z.string(),
    outcome: z.enum(QUALIFICATION_OUTCOMES),
    validFrom: z.string(),
    validTo: z.string().nullable(),
    reference: z.string().nullable(),
    notes: z.string().nullable(),
    systemOperatorId: z.string().openapi({ description: 'The System Operator that recorded it (the product’s owner at the time)' }),
    supersedes: z.string().nullable().openapi({ description: 'The earlier record for the same unit and product that this one replaces' }),
    current: z.boolean().openapi({ description: 'No later record supersedes it' }),
    recordedAt: z.string(),
    recordedBy: z.string(),
  })
  .openapi('Qualification');
export type Qualification = z.infer<typeof Qualification>;

export const EquivalenceInput = z
  .object({
    productA: z.string().max(64),
    productB: z.string().max(64),
    kind: z.enum(EQUIVALENCE_KINDS, 'EQUIVALENCE-KIND-UNKNOWN').openapi({
      description: 'EQUIVALENT: either qualifies for the other; SUBSTITUTABLE: a unit qualified for productA may offer productB',
    }),
    notes: text(2000).optional(),
  })
  .strict()
  .openapi('EquivalenceInput');

export const Equivalence = z
  .object({
    id: z.string(),
    productA: z.string(),
    productB: z.string(),
    kind: z.enum(EQUIVALENCE_KINDS),
    notes: z.string().nullable(),
    status: z.enum(EQUIVALENCE_STATUSES),
    version: z.number().int(),
    recordedAt: z.string(),
    recordedBy: z.string(),
    withdrawnAt: z.string().nullable(),
  })
  .openapi('Equivalence');
export type Equivalence = z.infer<typeof Equivalence>;

/** A product seen from another: how it relates (`direction`: `both` for EQUIVALENT, else from → to). */
export const Equivalent = z
  .object({
    product: Product,
    equivalenceId: z.string(),
    kind: z.enum(EQUIVALENCE_KINDS),
    direction: z
      .enum(['both', 'to', 'from'])
      .openapi({ description: 'both: EQUIVALENT; to: a unit qualified for the asked product may offer this one; from: the reverse' }),
  })
  .openapi('ProductEquivalent');

/** An opportunity for a unit: a product equivalent to one it is qualified for, that it is not qualified for. */
export const Opportunity = z
  .object({
    product: Product,
    viaProductId: z.string(),
    equivalenceId: z.string(),
    kind: z.enum(EQUIVALENCE_KINDS),
  })
  .openapi('MarketUnitOpportunity');

/** The unit's current qualification for one product, as the unit read shows it. */
export const CurrentQualification = z
  .object({
    qualificationId: z.string(),
    productId: z.string(),
    outcome: z.enum(QUALIFICATION_OUTCOMES),
    validFrom: z.string(),
    validTo: z.string().nullable(),
    recordedAt: z.string(),
  })
  .openapi('CurrentQualification');
export type CurrentQualification = z.infer<typeof CurrentQualification>;
