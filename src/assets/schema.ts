import { z } from '@hono/zod-openapi';
import { ALIAS_SCHEMES, ASSET_STATUSES } from '../catalogue/codes';
import { codeField } from '../catalogue/schema';
import { isCalendarDate, isKw } from '../http/validation';

/**
 * One definition of the asset resource. Field-level rules live here (their rule code is the
 * message); the category-driven cross-field rules live in ./rules.ts.
 */

const kw = (code: 'ASSET-CAPACITY-RATED' | 'ASSET-CAPACITY-DECIMALS') =>
  z.number(code).refine(isKw, code).openapi({ description: 'kW, at most 2 decimals', example: 5 });
const date = z.string('ASSET-DATE-FORMAT').refine(isCalendarDate, 'ASSET-DATE-FORMAT').openapi({ format: 'date', example: '2025-06-01' });
const mpan = z
  .string('ASSET-MPAN-FORMAT')
  .openapi({ description: '13-digit MPAN core with a valid check digit', example: '1312345678907' });

export const Location = z
  .object({
    postcode: z.string().max(10).optional(),
    gspGroup: codeField('gsp-groups', 'ASSET-GSP-GROUP-UNKNOWN', '_N').optional(),
    latitude: z.number().min(-90, 'ASSET-COORDINATES').max(90, 'ASSET-COORDINATES').optional(),
    longitude: z.number().min(-180, 'ASSET-COORDINATES').max(180, 'ASSET-COORDINATES').optional(),
  })
  .strict()
  .openapi('AssetLocation');

export const Alias = z
  .object({
    scheme: z.enum(ALIAS_SCHEMES, 'ASSET-ALIAS-SCHEME-UNKNOWN'),
    value: z.string().min(1, 'ASSET-ALIAS-FORMAT').max(64, 'ASSET-ALIAS-FORMAT'),
  })
  .strict()
  .openapi('AssetAlias', {
    description: 'An industry identifier of the asset. mpan and serial aliases are derived from the MPAN and serial fields.',
  });

export const NAME_RE = /^[A-Za-z0-9 \-_/()]+$/;

/** Fields that describe the asset (everything a registration or an update may set). */
const described = {
  name: z.string('ASSET-NAME-FORMAT').min(1, 'ASSET-NAME-FORMAT').max(255, 'ASSET-NAME-FORMAT').regex(NAME_RE, 'ASSET-NAME-FORMAT'),
  friendlyCode: z
    .string()
    .min(1, 'ASSET-FRIENDLY-CODE-FORMAT')
    .max(64, 'ASSET-FRIENDLY-CODE-FORMAT')
    .regex(/^[A-Za-z0-9_-]+$/, 'ASSET-FRIENDLY-CODE-FORMAT'),
  category: codeField('asset-categories', 'ASSET-CATEGORY-UNKNOWN', 'BESS'),
  ratedCapacityKw: kw('ASSET-CAPACITY-RATED'),
  generationCapacityKw: kw('ASSET-CAPACITY-DECIMALS'),
  demandCapacityKw: kw('ASSET-CAPACITY-DECIMALS'),
  energySource: codeField('energy-sources', 'ASSET-ENERGY-SOURCE-UNKNOWN', 'GRID'),
  demandTechnology: codeField('demand-technologies', 'ASSET-DEMAND-TECHNOLOGY-UNKNOWN', 'EV'),
  energyConversionType: codeField('energy-conversion-types', 'ASSET-ENERGY-CONVERSION-TYPE-UNKNOWN', 'INVERTER'),
  manufacturer: z.string().min(1, 'ASSET-MANUFACTURER-FORMAT').max(255, 'ASSET-MANUFACTURER-FORMAT'),
  model: z.string().min(1, 'ASSET-MODEL-FORMAT').max(100, 'ASSET-MODEL-FORMAT'),
  serialNumber: z.string('ASSET-SERIAL-FORMAT').regex(/^[A-Za-z0-9_-]{3,64}$/, 'ASSET-SERIAL-FORMAT'),
  commissioningDate: date,
  effectiveDate: date,
  connectionStatus: codeField('connection-statuses', 'ASSET-CONNECTION-STATUS-UNKNOWN', 'CONNECTED'),
  connectionType: codeField('connection-types', 'ASSET-CONNECTION-TYPE-UNKNOWN', 'FIRM'),
  dno: codeField('dno-codes', 'ASSET-DNO-UNKNOWN', 'SPEN_SPM'),
  importMpan: mpan,
  exportMpan: mpan,
  location: Location,
  consentReference: z.string().min(1).max(8192).openapi({
    description:
      'The consumer’s consent (UC-02.01 step 2): a consent token (JWT) or an opaque consent reference from the Consumer Consent Service, bound to the asset’s MPAN and its FSP; verified, then kept as the consent’s ID (jti), never the token.',
  }),
  aliases: z.array(Alias).max(20),
};

const REQUIRED = ['name', 'category', 'ratedCapacityKw', 'connectionStatus'] as const;

export const AssetInput = z
  .object({
    ...(Object.fromEntries(
      Object.entries(described).map(([k, s]) => [k, (REQUIRED as readonly string[]).includes(k) ? s : s.optional()]),
    ) as {
      [K in keyof typeof described]: K extends (typeof REQUIRED)[number] ? (typeof described)[K] : z.ZodOptional<(typeof described)[K]>;
    }),
    organisationId: z
      .string()
      .optional()
      .openapi({ description: 'Owning organisation. Defaults to the caller’s; the operator must name it.' }),
    fspId: z.string().optional().openapi({ description: 'Controlling FSP. Defaults to the owning organisation.' }),
    justification: z.string().min(10, 'ASSET-JUSTIFICATION-FORMAT').max(1000, 'ASSET-JUSTIFICATION-FORMAT').optional().openapi({
      description: 'Acknowledges the warnings that need one (capacity over 1,000,000 kW, MPAN linked under another organisation); audited.',
    }),
  })
  .strict()
  .openapi('AssetInput');
export type AssetInput = z.infer<typeof AssetInput>;

/** Update (JSON merge patch): any described field; null clears an optional one. */
export const AssetPatch = z
  .object({
    ...(Object.fromEntries(
      Object.entries(described).map(([k, s]) => [k, (REQUIRED as readonly string[]).includes(k) ? s.optional() : s.nullable().optional()]),
    ) as {
      [K in keyof typeof described]: K extends (typeof REQUIRED)[number]
        ? z.ZodOptional<(typeof described)[K]>
        : z.ZodOptional<z.ZodNullable<(typeof described)[K]>>;
    }),
    justification: AssetInput.shape.justification,
  })
  .strict()
  .openapi('AssetPatch');
export type AssetPatch = z.infer<typeof AssetPatch>;

export const Warning = z
  .object({ code: z.string(), field: z.string(), detail: z.string(), needsJustification: z.boolean() })
  .openapi('Warning');
export type Warning = z.infer<typeof Warning>;

export const Asset = z
  .object({
    id: z.string().openapi({ description: 'FMAR asset ID (ULID), permanent', example: '01JD8X6N2Q7ZB4Y3W5V6T7S8R9' }),
    friendlyCode: z.string().nullable(),
    name: z.string(),
    category: z.string().openapi({ description: 'A code of the asset-categories catalogue (GET /api/v1/catalogues/asset-categories).' }),
    organisationId: z.string(),
    fspId: z.string().openapi({ description: 'The FSP that holds commercial control now.' }),
    status: z.enum(ASSET_STATUSES),
    ratedCapacityKw: z.number(),
    generationCapacityKw: z.number().nullable(),
    demandCapacityKw: z.number().nullable(),
    energySource: z.string().nullable(),
    demandTechnology: z.string().nullable(),
    energyConversionType: z.string().nullable(),
    manufacturer: z.string().nullable(),
    model: z.string().nullable(),
    serialNumber: z.string().nullable(),
    commissioningDate: z.string().nullable(),
    effectiveDate: z.string().nullable(),
    connectionStatus: z.string(),
    connectionType: z.string().nullable(),
    dno: z.string().nullable(),
    importMpan: z.string().nullable(),
    exportMpan: z.string().nullable(),
    location: Location.nullable(),
    consentReference: z.string().nullable(),
    aliases: z.array(Alias),
    version: z.number().int(),
    recordedAt: z.string(),
    recordedBy: z.string(),
    deregisteredAt: z.string().nullable(),
  })
  .openapi('Asset');
export type Asset = z.infer<typeof Asset>;

/** The described fields as stored (after defaults), what rules.ts checks. */
export type AssetFields = Omit<AssetInput, 'organisationId' | 'fspId' | 'justification'>;
export const DESCRIBED_FIELDS = Object.keys(described) as (keyof typeof described)[];
