import { z } from '@hono/zod-openapi';
import { OADR2B_ID_RE, PROTOCOLS, VTN_CODE_RE, isOadrText } from '../../openadr/index';

/**
 * One definition each of the VTN record and the VEN registration (the native resources): validation,
 * the OpenAPI document and docs/openadr.md come from here. Rules that need the VTN's protocol (the
 * VEN ID's form) are checked in ./registrations.ts.
 */

export const VTN_STATUSES = ['ACTIVE', 'RETIRED'] as const;
export const REGISTRATION_STATUSES = ['ACTIVE', 'SUSPENDED', 'CANCELLED'] as const;
/** Whether the VTN's operator vouches for a registration (docs/openadr.md, "Confirmation by the VTN's operator"). */
export const CONFIRMATIONS = ['SELF_DECLARED', 'UNCONFIRMED', 'CONFIRMED', 'REJECTED'] as const;

const datetime = z.iso.datetime({ offset: true });
const vtnId = z
  .string('OPENADR-VTN-REFERENCE')
  .regex(OADR2B_ID_RE, 'OPENADR-VTN-REFERENCE')
  .openapi({ description: 'OpenADR 2.0b vtnID (2.0b VTNs only)' });
const baseUrl = z.string('OPENADR-VTN-REFERENCE').min(1, 'OPENADR-VTN-REFERENCE').max(2000, 'OPENADR-VTN-REFERENCE').openapi({
  description: 'Base URL of the VTN’s API (required for 3.x, optional for 2.0b): https, http only for localhost',
  example: 'https://vtn.example/openadr3',
});

export const VtnInput = z
  .object({
    code: z
      .string('OPENADR-VTN-CODE-FORMAT')
      .regex(VTN_CODE_RE, 'OPENADR-VTN-CODE-FORMAT')
      .openapi({ description: 'Namespace code, 2–8 of A–Z 0–9, unique', example: 'SPEN' }),
    name: z.string().min(1).max(255),
    protocol: z.enum(PROTOCOLS, 'OPENADR-PROTOCOL-UNKNOWN'),
    vtnId: vtnId.optional(),
    baseUrl: baseUrl.optional(),
    operatorId: z
      .string()
      .max(64)
      .optional()
      .openapi({ description: 'The organisation that operates the VTN. Defaults to the caller’s; only the operator names another.' }),
  })
  .strict()
  .openapi('VtnInput');
export type VtnInput = z.infer<typeof VtnInput>;

export const VtnPatch = z
  .object({
    name: z.string().min(1).max(255).optional(),
    vtnId: vtnId.optional(),
    baseUrl: baseUrl.nullable().optional(),
    status: z.enum(VTN_STATUSES).optional().openapi({ description: 'RETIRED: no new registrations on it; existing ones stay readable' }),
  })
  .strict()
  .openapi('VtnPatch', {
    description: 'JSON merge patch; the code, protocol and operator of a VTN are fixed (registrations are keyed by them).',
  });
export type VtnPatch = z.infer<typeof VtnPatch>;

export const Vtn = z
  .object({
    id: z.string(),
    code: z.string(),
    name: z.string(),
    operatorId: z.string(),
    protocol: z.enum(PROTOCOLS),
    vtnId: z.string().nullable(),
    baseUrl: z.string().nullable(),
    status: z.enum(VTN_STATUSES),
    version: z.number().int(),
    createdAt: z.string(),
    recordedAt: z.string(),
    recordedBy: z.string(),
  })
  .openapi('Vtn');
export type Vtn = z.infer<typeof Vtn>;

const venName = z
  .string('OPENADR-VEN-NAME-FORMAT')
  .refine(isOadrText, 'OPENADR-VEN-NAME-FORMAT')
  .openapi({ description: 'OpenADR venName: 1–128 characters, unique within the VTN', example: 'alpha-ven-1' });
const clientId = z
  .string('OPENADR-CLIENT-ID-FORMAT')
  .refine(isOadrText, 'OPENADR-CLIENT-ID-FORMAT')
  .openapi({ description: 'OpenADR 3.x clientID of the VEN at the VTN, where there is one' });
const targets = z.array(z.string('OPENADR-TARGET-FORMAT').refine(isOadrText, 'OPENADR-TARGET-FORMAT')).max(50, 'OPENADR-TARGET-FORMAT');

export const VenRegistrationInput = z
  .object({
    vtn: z.string().min(1).max(64).openapi({ description: 'The VTN record: its ID or namespace code', example: 'SPEN' }),
    venId: z.string('OPENADR-VEN-ID-FORMAT').min(1, 'OPENADR-VEN-ID-FORMAT').max(128, 'OPENADR-VEN-ID-FORMAT').openapi({
      description: 'The VEN ID the VTN assigned (3.x: object ID pattern; 2.0b: venID)',
      example: 'SPEN-26ecf048-3f1d-4a5e-9b0c-1d2e3f4a5b6c',
    }),
    venName,
    clientId: clientId.optional(),
    registrationId: z
      .string('OPENADR-REGISTRATION-ID')
      .regex(OADR2B_ID_RE, 'OPENADR-REGISTRATION-ID')
      .optional()
      .openapi({ description: 'OpenADR 2.0b registrationID (2.0b only, required there)' }),
    targets: targets.optional(),
    validFrom: datetime.optional().openapi({ description: 'Default: now' }),
    validTo: datetime.optional(),
    organisationId: z.string().max(64).optional().openapi({
      description:
        'The organisation whose VEN it is (FSP or aggregator). Defaults to the caller’s; the operator and dispatch platforms must name it.',
    }),
  })
  .strict()
  .openapi('VenRegistrationInput');
export type VenRegistrationInput = z.infer<typeof VenRegistrationInput>;

export const VenRegistrationPatch = z
  .object({
    venName: venName.optional(),
    clientId: clientId.nullable().optional(),
    targets: targets.optional(),
    status: z.enum(['ACTIVE', 'SUSPENDED']).optional().openapi({ description: 'Cancel with DELETE' }),
    validFrom: datetime.optional(),
    validTo: datetime.nullable().optional(),
  })
  .strict()
  .openapi('VenRegistrationPatch', {
    description: 'JSON merge patch; the key (VTN, VEN ID), the organisation and a 2.0b registrationID are fixed.',
  });
export type VenRegistrationPatch = z.infer<typeof VenRegistrationPatch>;

export const VenRegistration = z
  .object({
    id: z.string().openapi({ description: 'The register’s ID of the registration (ULID); the ven object ID in OpenADR 3.1' }),
    organisationId: z.string(),
    vtn: z.string().openapi({ description: 'The VTN record’s ID' }),
    vtnCode: z.string(),
    protocol: z.enum(PROTOCOLS),
    venId: z.string(),
    venName: z.string(),
    clientId: z.string().nullable(),
    registrationId: z.string().nullable(),
    targets: z.array(z.string()),
    status: z.enum(REGISTRATION_STATUSES),
    confirmation: z.enum(CONFIRMATIONS).openapi({
      description:
        'CONFIRMED: the VTN’s operator (a registered organisation) confirmed it, or recorded it itself; UNCONFIRMED: awaiting that operator; REJECTED: refused by it (and cancelled); SELF_DECLARED: the VTN has no registered operator, the holder’s word only',
    }),
    confirmationReason: z.string().nullable().openapi({ description: 'The operator’s reason for a rejection' }),
    confirmationAt: z.string().nullable().openapi({ description: 'When the operator confirmed or rejected it' }),
    validFrom: z.string(),
    validTo: z.string().nullable(),
    inForce: z.boolean().openapi({ description: 'ACTIVE and within its validity now' }),
    version: z.number().int(),
    createdAt: z.string(),
    recordedAt: z.string(),
    recordedBy: z.string(),
  })
  .openapi('VenRegistration');
export type VenRegistration = z.infer<typeof VenRegistration>;

/** A VEN's resources natively (/api/v1/ven-registrations/{id}/resources, src/openadr/resource-routes.ts). */
export const VenResourceItem = z
  .object({
    assetId: z.string(),
    name: z.string().openapi({ description: 'The asset’s name' }),
    category: z.string(),
    importMpan: z.string().nullable(),
    resourceName: z
      .string()
      .nullable()
      .openapi({ description: 'The binding’s resourceName; null for an asset the VEN stands for without a binding' }),
    boundAt: z.string().nullable().openapi({ description: 'When the binding was made; null without one' }),
  })
  .openapi('VenResourceItem');
export type VenResourceItem = z.infer<typeof VenResourceItem>;

export const VenResources = z
  .object({
    registrationId: z.string(),
    standsFor: z.enum(['RESOURCES', 'EVERY_ASSET', 'NOTHING']).openapi({
      description:
        'RESOURCES: the assets bound to it (items); EVERY_ASSET: it has no live resource, so it stands for every live asset its organisation controls (items: those assets); NOTHING: the registration is cancelled',
    }),
    items: z.array(VenResourceItem),
    nextCursor: z.string().nullable(),
  })
  .openapi('VenResources');
export type VenResources = z.infer<typeof VenResources>;

export const VenResourceInput = z
  .object({
    asset: z
      .string('OPENADR-RESOURCE-ASSET')
      .min(1, 'OPENADR-RESOURCE-ASSET')
      .max(70, 'OPENADR-RESOURCE-ASSET')
      .openapi({ description: 'The asset: its FMAR ID, or `mpan:<import or export MPAN core>`', example: 'mpan:1300000000016' }),
    resourceName: z.string().min(1).max(128).optional().openapi({ description: 'Unique among the VEN’s resources; default the asset ID' }),
  })
  .strict()
  .openapi('VenResourceInput');
