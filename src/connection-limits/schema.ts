import { z } from '@hono/zod-openapi';
import { isKw } from '../http/validation';

/**
 * One definition of a connection limit (UC-02.05): what a DNO/IDNO allows at a connection point (an
 * MPAN), in kW, for a period. Field rules live here (their rule code is the message); the rules that
 * need other records in ./rules.ts and ./service.ts. docs/connection-limits.md describes them.
 */

export const FIRMNESS = ['FIRM', 'NON_FIRM', 'TIMED', 'DYNAMIC'] as const;
export const LIMIT_STATUSES = ['ACTIVE', 'WITHDRAWN'] as const;
export const WEEKDAYS = ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'] as const;
/** Firmness kinds that name the DNO's flexible connection scheme (an ANM zone, a curtailment scheme). */
export const SCHEME_FIRMNESS: readonly (typeof FIRMNESS)[number][] = ['NON_FIRM', 'DYNAMIC'];

const kw = z
  .number('CONNECTION-LIMIT-KW')
  .refine(isKw, 'CONNECTION-LIMIT-KW')
  .openapi({ description: 'kW, 0 or more, at most 2 decimals', example: 100 });
const instant = z.iso.datetime({ offset: true, message: 'CONNECTION-LIMIT-PERIOD' });
const time = z.string('CONNECTION-LIMIT-PROFILE-BAND').regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'CONNECTION-LIMIT-PROFILE-BAND');

export const ProfileBand = z
  .object({
    days: z
      .array(z.enum(WEEKDAYS, 'CONNECTION-LIMIT-PROFILE-BAND'))
      .min(1, 'CONNECTION-LIMIT-PROFILE-BAND')
      .max(7, 'CONNECTION-LIMIT-PROFILE-BAND')
      .optional()
      .openapi({ description: 'The days the band applies on (UK local time); every day when absent.' }),
    from: time.openapi({ description: 'Start, HH:MM local time (Europe/London)', example: '16:00' }),
    to: time.openapi({ description: 'End, HH:MM after from; 24:00 is the end of the day', example: '19:00' }),
    importLimitKw: kw.optional(),
    exportLimitKw: kw.optional(),
  })
  .strict()
  .openapi('ConnectionLimitProfileBand');
export type ProfileBand = z.infer<typeof ProfileBand>;

const fields = {
  siteReference: z.string().min(1).max(100).nullable().optional().openapi({ description: 'The DNO’s own reference for the site' }),
  importLimitKw: kw.nullable().optional().openapi({ description: 'Maximum import at the connection point, kW' }),
  exportLimitKw: kw.nullable().optional().openapi({ description: 'Maximum export at the connection point, kW' }),
  firmness: z.enum(FIRMNESS, 'CONNECTION-LIMIT-FIRMNESS-UNKNOWN').openapi({
    description:
      'FIRM: always available; NON_FIRM: curtailable under the DNO’s scheme; TIMED: the profile’s bands apply at their times; DYNAMIC: set in real time by the scheme (e.g. ANM), the limits being the most it allows',
  }),
  validFrom: instant.openapi({ description: 'RFC 3339; when the limit applies from' }),
  validTo: instant.nullable().optional().openapi({ description: 'RFC 3339, after validFrom; null = open' }),
  profile: z
    .array(ProfileBand)
    .min(1, 'CONNECTION-LIMIT-PROFILE')
    .max(48, 'CONNECTION-LIMIT-PROFILE')
    .nullable()
    .optional()
    .openapi({ description: 'TIMED only: the time bands and their limits (within the connection’s own limits)' }),
  schemeReference: z.string().min(1).max(100).nullable().optional().openapi({
    description: 'NON_FIRM and DYNAMIC only: the DNO’s flexible connection scheme, e.g. an ANM zone',
    example: 'ANM-ZONE-ORKNEY-3',
  }),
};

export const ConnectionLimitInput = z
  .object({
    mpan: z.string('CONNECTION-LIMIT-MPAN-FORMAT').max(13, 'CONNECTION-LIMIT-MPAN-FORMAT').openapi({
      description: 'The connection point: a 13-digit MPAN core with a valid check digit, on the caller’s network',
      example: '1312345678907',
    }),
    ...fields,
    validFrom: fields.validFrom.optional().openapi({ description: 'RFC 3339; defaults to now' }),
  })
  .strict()
  .openapi('ConnectionLimitInput');
export type ConnectionLimitInput = z.infer<typeof ConnectionLimitInput>;

/** Update: everything but the MPAN (a connection point's limits move with it: record a new one for another). */
export const ConnectionLimitPatch = z
  .object({ ...fields, firmness: fields.firmness.optional(), validFrom: fields.validFrom.optional() })
  .strict()
  .openapi('ConnectionLimitPatch');
export type ConnectionLimitPatch = z.infer<typeof ConnectionLimitPatch>;

export const ConnectionLimit = z
  .object({
    id: z.string(),
    mpan: z.string(),
    siteReference: z.string().nullable(),
    dnoOrganisationId: z.string().openapi({ description: 'The DNO/IDNO organisation that recorded it' }),
    dno: z.string().openapi({ description: 'The licence area (dno-codes) of the connection point' }),
    importLimitKw: z.number().nullable(),
    exportLimitKw: z.number().nullable(),
    firmness: z.enum(FIRMNESS),
    validFrom: z.string(),
    validTo: z.string().nullable(),
    profile: z.array(ProfileBand).nullable(),
    schemeReference: z.string().nullable(),
    status: z.enum(LIMIT_STATUSES),
    withdrawnAt: z.string().nullable(),
    version: z.number().int(),
    recordedAt: z.string(),
    recordedBy: z.string(),
  })
  .openapi('ConnectionLimit');
export type ConnectionLimit = z.infer<typeof ConnectionLimit>;
