import { z } from '@hono/zod-openapi';

/**
 * One definition of a data share (UC-05.01): an organisation lets a named platform organisation
 * pull its passport and, if it says so, its assets (all, or a list) for a period. Field rules live
 * here (their rule code is the message); the rules that need other records in ./service.ts.
 * docs/sharing.md describes them.
 */

export const SHARE_ASSETS = ['NONE', 'ALL', 'LISTED'] as const;
export const SHARE_STATUSES = ['ACTIVE', 'REVOKED'] as const;
/** Where a share stands at an instant: before its period, in it, after it, or revoked. */
export const SHARE_STATES = ['PENDING', 'LIVE', 'ENDED', 'REVOKED'] as const;
export type ShareState = (typeof SHARE_STATES)[number];
/** The longest period one share covers; a platform that pulls for longer is granted again (or the share extended) before it ends. */
export const MAX_SHARE_DAYS = 366;
/** A share ending within this many days is a notice to both parties. */
export const SHARE_ENDING_NOTICE_DAYS = 14;

const instant = z.iso.datetime({ offset: true, message: 'DATA-SHARE-PERIOD' });
const assetIds = z
  .array(z.string('DATA-SHARE-ASSETS').max(64, 'DATA-SHARE-ASSETS'), 'DATA-SHARE-ASSETS')
  .min(1, 'DATA-SHARE-ASSETS')
  .max(10_000, 'DATA-SHARE-ASSETS')
  .openapi({
    description: 'LISTED only, and required there: the assets shared (each one the granting organisation controls or owns now).',
  });
const assets = z.enum(SHARE_ASSETS, 'DATA-SHARE-ASSETS').openapi({
  description:
    'Which of the organisation’s assets the share covers besides its passport: NONE, ALL (every asset it controls or owns while the share lasts), LISTED (assetIds).',
});
const purpose = z.string('DATA-SHARE-PURPOSE').min(1, 'DATA-SHARE-PURPOSE').max(500, 'DATA-SHARE-PURPOSE').openapi({
  description: 'Why the platform pulls the data, e.g. a market’s registration',
  example: 'NESO Single Markets Platform registration',
});

export const DataShareInput = z
  .object({
    recipientId: z
      .string('DATA-SHARE-RECIPIENT-INVALID')
      .max(64, 'DATA-SHARE-RECIPIENT-INVALID')
      .openapi({ description: 'The platform organisation (role SYSTEM_OPERATOR or INDEPENDENT_MARKET_PLATFORM) that pulls the data' }),
    assets: assets.optional().openapi({ description: 'NONE (the default: the passport only), ALL or LISTED' }),
    assetIds: assetIds.optional(),
    validFrom: instant.optional().openapi({ description: 'RFC 3339; defaults to now' }),
    validTo: instant.openapi({
      description: `RFC 3339, after validFrom and in the future, at most ${MAX_SHARE_DAYS} days after validFrom (or now)`,
    }),
    purpose: purpose.optional(),
  })
  .strict()
  .openapi('DataShareInput');
export type DataShareInput = z.infer<typeof DataShareInput>;

/** A change: what is shared (narrowed or widened) and the period; the parties stay. */
export const DataSharePatch = z
  .object({
    assets: assets.optional(),
    assetIds: assetIds.nullable().optional(),
    validFrom: instant.optional(),
    validTo: instant.optional(),
    purpose: purpose.nullable().optional(),
  })
  .strict()
  .openapi('DataSharePatch');
export type DataSharePatch = z.infer<typeof DataSharePatch>;

export const DataShare = z
  .object({
    id: z.string(),
    ownerId: z.string().openapi({ description: 'The organisation whose data is shared (it granted the share)' }),
    recipientId: z.string().openapi({ description: 'The platform organisation that pulls it' }),
    assets: z.enum(SHARE_ASSETS),
    assetIds: z.array(z.string()).nullable(),
    validFrom: z.string(),
    validTo: z.string(),
    purpose: z.string().nullable(),
    status: z.enum(SHARE_STATUSES),
    state: z.enum(SHARE_STATES).openapi({
      description: 'At the time of the answer: PENDING (before validFrom), LIVE (pulls are served), ENDED (validTo passed), REVOKED',
    }),
    revokedAt: z.string().nullable(),
    revokeReason: z.string().nullable(),
    version: z.number().int(),
    recordedAt: z.string(),
    recordedBy: z.string(),
  })
  .openapi('DataShare');
export type DataShare = z.infer<typeof DataShare>;

/** Where a share stands at `at`. */
export function shareState(s: Pick<DataShare, 'status' | 'validFrom' | 'validTo'>, at: Date): ShareState {
  if (s.status === 'REVOKED') return 'REVOKED';
  if (at < new Date(s.validFrom)) return 'PENDING';
  if (at >= new Date(s.validTo)) return 'ENDED';
  return 'LIVE';
}
