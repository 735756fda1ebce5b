import { z } from '@hono/zod-openapi';
import { NAME_RE, Warning } from '../assets/schema';
import { CurrentQualification } from '../products/schema';

/**
 * One definition of the market unit resource (UC-03.01 to UC-03.04). Field rules live here (their
 * rule code is the message); the composition rules, which need the member assets, in ./rules.ts.
 */

export const UNIT_TYPES = ['SPU', 'SPG'] as const;
export const UNIT_STATUSES = ['ACTIVE', 'DEREGISTERED'] as const;
/** The shape of a product code (upper-case letters, digits, `_` and `-`); the code must also name an active catalogue product (UC-04.01). */
export const PRODUCT_RE = /^[A-Z][A-Z0-9_-]{1,31}$/;
export const MAX_UNIT_ASSETS = 1000;

const described = {
  name: z
    .string('UNIT-NAME-FORMAT')
    .min(1, 'UNIT-NAME-FORMAT')
    .max(255, 'UNIT-NAME-FORMAT')
    .regex(NAME_RE, 'UNIT-NAME-FORMAT')
    .openapi({ example: 'Glasgow batteries' }),
  type: z
    .enum(UNIT_TYPES, 'UNIT-TYPE-UNKNOWN')
    .openapi({ description: 'SPU: one accounting point (every asset behind one import MPAN); SPG: several.' }),
  assetIds: z
    .array(z.string().max(64), 'UNIT-EMPTY')
    .min(1, 'UNIT-EMPTY')
    .max(MAX_UNIT_ASSETS, 'UNIT-TOO-MANY-ASSETS')
    .openapi({ description: `FMAR asset IDs, 1–${MAX_UNIT_ASSETS}; duplicates count once.` }),
};

export const MarketUnitInput = z
  .object({
    ...described,
    product: z.string('UNIT-PRODUCT-FORMAT').regex(PRODUCT_RE, 'UNIT-PRODUCT-FORMAT').openapi({
      description:
        'The ID of an active product of the catalogue (GET /api/v1/products), e.g. NESO-DFS; 2–32 of A–Z 0–9 _ -, starting with a letter.',
      example: 'NESO-DFS',
    }),
    fspId: z.string().max(64).optional().openapi({
      description: 'The controlling FSP. Defaults to the caller; the operator may name it, else it is the member assets’ FSP.',
    }),
  })
  .strict()
  .openapi('MarketUnitInput');
export type MarketUnitInput = z.infer<typeof MarketUnitInput>;

/** Update: the name, the type and the composition; the product and the FSP do not change here. */
export const MarketUnitPatch = z
  .object({
    name: described.name.optional(),
    type: described.type.optional(),
    assetIds: described.assetIds.optional(),
  })
  .strict()
  .openapi('MarketUnitPatch');
export type MarketUnitPatch = z.infer<typeof MarketUnitPatch>;

export const ReassignInput = z
  .object({
    fspId: z.string().min(1).max(64),
    reason: z.string().max(500).optional(),
  })
  .strict()
  .openapi('MarketUnitReassign');

export const MarketUnit = z
  .object({
    id: z.string().openapi({ description: 'FMAR market unit ID (ULID), permanent' }),
    name: z.string(),
    type: z.enum(UNIT_TYPES),
    product: z.string(),
    fspId: z.string().openapi({ description: 'The FSP that controls the unit and every member asset.' }),
    status: z.enum(UNIT_STATUSES),
    assetIds: z.array(z.string()).openapi({ description: 'Members, in ID order (the last composition, for a de-registered unit).' }),
    reassessmentRequired: z.boolean().openapi({
      description:
        'Set when a switch changed the composition (an asset left with its new FSP), or a change of type or composition was made while the unit held an active qualification: the unit needs its System Operator to qualify it again. Recording QUALIFIED clears it.',
    }),
    reassessmentReason: z.string().nullable(),
    qualifications: z.array(CurrentQualification).openapi({
      description:
        'The current qualification per product (docs/products.md); the full record: GET /api/v1/market-units/{id}/qualifications.',
    }),
    version: z.number().int(),
    recordedAt: z.string(),
    recordedBy: z.string(),
    deregisteredAt: z.string().nullable(),
  })
  .openapi('MarketUnit');
export type MarketUnit = z.infer<typeof MarketUnit>;

export const MarketUnitWithWarnings = MarketUnit.extend({ warnings: z.array(Warning) });
