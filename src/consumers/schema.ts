import { z } from '@hono/zod-openapi';
import { DisputeInput } from '../disputes/schema';

/** The household's view of the register (docs/consumers.md): one schema per shape, the source of the OpenAPI document and the docs. */

const Named = z.object({ id: z.string(), name: z.string().nullable() });

export const HouseholdAsset = z
  .object({
    id: z.string().openapi({ description: 'Asset ID (ULID)' }),
    name: z.string(),
    category: z.string().openapi({ description: 'Asset category code (catalogue `asset-categories`)' }),
    status: z.string().openapi({ description: 'Register status, e.g. ACTIVE or SUSPENDED_CONSENT_REVOKED' }),
    ratedCapacityKw: z.number(),
    generationCapacityKw: z.number().nullable(),
    demandCapacityKw: z.number().nullable(),
    connectionStatus: z.string(),
    importMpan: z.string().nullable(),
    exportMpan: z.string().nullable(),
    controllingFsp: Named.extend({ since: z.string().nullable().openapi({ description: 'Start of the FSP link in force (RFC 3339)' }) }),
    marketUnits: z
      .array(z.object({ name: z.string(), product: z.string().openapi({ description: 'The product’s name' }) }))
      .openapi({ description: 'Active market units the asset is in, and their products, by name only' }),
    fspHistory: z
      .array(z.object({ fsp: Named, from: z.string().nullable(), to: z.string().nullable() }))
      .openapi({ description: 'Every FSP link, oldest first; the last is the link in force (`to` null)' }),
  })
  .openapi('HouseholdAsset');
export type HouseholdAsset = z.infer<typeof HouseholdAsset>;

export const HouseholdSwitch = z
  .object({
    id: z.string(),
    assetId: z.string(),
    status: z.string(),
    effectiveDate: z.string(),
    losingFspId: z.string(),
    gainingFspId: z.string(),
    requestedAt: z.string(),
  })
  .openapi('HouseholdSwitch');

export const HouseholdConsent = z
  .object({
    id: z.string().openapi({ description: 'The consent’s ID at the consent service (its `jti`)' }),
    issuer: z.string(),
    mpan: z.string(),
    fsp: Named.openapi({ description: 'Who the consent was given to' }),
    purpose: z.string().nullable(),
    validFrom: z.string().nullable(),
    validTo: z.string().nullable(),
    state: z.enum(['ACTIVE', 'EXPIRED', 'REVOKED']),
    revokedAt: z.string().nullable(),
    registeredAssets: z.array(z.string()).openapi({ description: 'Assets registered under the consent' }),
    switches: z.array(HouseholdSwitch).openapi({ description: 'Switches requested under the consent' }),
  })
  .openapi('HouseholdConsent');
export type HouseholdConsent = z.infer<typeof HouseholdConsent>;

export const HouseholdRead = z
  .object({
    at: z.string(),
    action: z.string().openapi({ description: 'asset.read, switch.consent-read, …' }),
    route: z.string().nullable(),
    reader: z.object({
      kind: z.enum(['organisation', 'household']).openapi({
        description: 'An organisation, or another household signed in for the same meter point (the household’s own reads are not listed)',
      }),
      organisationId: z.string().nullable(),
      name: z.string().nullable(),
      actingFor: z.string().nullable(),
    }),
  })
  .openapi('HouseholdRead');
export type HouseholdRead = z.infer<typeof HouseholdRead>;

export const RevokeInput = z
  .object({ reason: z.string().min(1).max(500).optional() })
  .strict()
  .openapi('HouseholdRevocation');

/** A dispute about one of the household's assets: the dispute's own fields (docs/disputes.md), the asset named by ID. */
export const HouseholdDisputeInput = DisputeInput.omit({ recordType: true, recordId: true })
  .extend({ assetId: z.string().min(1).max(64).openapi({ description: 'An asset at one of the household’s meter points' }) })
  .openapi('HouseholdDisputeInput');
