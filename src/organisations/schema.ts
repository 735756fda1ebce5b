import { z } from '@hono/zod-openapi';
import { ORGANISATION_STATUSES } from '../catalogue/codes';
import { ORGANISATION_ROLES } from '../access/roles';
import { codeField } from '../catalogue/schema';
import { callingCodeOf } from '../catalogue/calling-codes';
import { EMAIL_RE, isCompaniesHouseNumber, isEic, isGln, isLei, isUkPostcode, isUkVat } from '../catalogue/identifiers';

/** One definition of the organisation resource: validation, the OpenAPI document and docs come from it. */

const contact = z
  .object({
    firstName: z.string().min(1).max(100),
    lastName: z.string().min(1).max(100),
    email: z.string().max(254).regex(EMAIL_RE, 'ORG-EMAIL-FORMAT'),
    mobile: z
      .string()
      .regex(/^\+[1-9]\d{7,14}$/, 'ORG-MOBILE-FORMAT')
      .optional(),
  })
  .strict()
  .openapi('Contact');

const address = z
  .object({
    lines: z.array(z.string().min(1).max(100)).min(1).max(4),
    town: z.string().min(1).max(100),
    postcode: z.string().max(10),
    country: z.string().regex(/^[A-Z]{2}$/, 'ORG-COUNTRY-FORMAT'),
  })
  .strict()
  .openapi('Address');

export const Passport = z
  .object({
    contacts: z.object({ primary: contact, secondary: contact.optional(), technical: contact.optional() }).strict(),
    registeredAddress: address.optional(),
    countryOfIncorporation: z
      .string()
      .regex(/^[A-Z]{2}$/, 'ORG-COUNTRY-FORMAT')
      .optional(),
    website: z
      .string()
      .max(255)
      .regex(/^https?:\/\/[^\s/$.?#].[^\s]*$/i, 'ORG-WEBSITE-FORMAT')
      .optional(),
    yearOfRegistration: z.number().int('ORG-YEAR-FORMAT').min(1800, 'ORG-YEAR-FORMAT').max(2100, 'ORG-YEAR-FORMAT').optional(),
  })
  .strict()
  .openapi('Passport', { description: 'Submitted once, pulled by other platforms with the organisation’s permission.' });

/** Format checks per identifier scheme: why identifier-schemes is a fixed catalogue (docs/catalogues.md). */
const IDENTIFIER_CHECKS: Record<string, (v: string) => boolean> = {
  COMPANIES_HOUSE: isCompaniesHouseNumber,
  VAT: isUkVat,
  EIC: isEic,
  GLN: isGln,
  LEI: isLei,
  MPID: (v) => /^[A-Z0-9]{4}$/.test(v),
  OTHER: (v) => v.length >= 1 && v.length <= 64,
};

export const Identifier = z
  .object({
    scheme: codeField('identifier-schemes', 'ORG-IDENTIFIER-SCHEME', 'COMPANIES_HOUSE'),
    value: z.string().min(1).max(64),
    description: z.string().max(100).optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    const check = IDENTIFIER_CHECKS[v.scheme];
    if (check && !check(v.value)) ctx.addIssue({ code: 'custom', path: ['value'], message: 'ORG-IDENTIFIER-FORMAT' });
  })
  .openapi('OrganisationIdentifier', {
    description:
      'Another ecosystem ID: Companies House number, VAT (GB, check digits), EIC (check character), GLN, LEI, Market Participant ID (MPID).',
  });

const roles = z
  .array(z.enum(ORGANISATION_ROLES, 'ORG-ROLE-UNKNOWN'))
  .min(1, 'ORG-ROLES-EMPTY')
  .max(ORGANISATION_ROLES.length)
  .refine((r) => new Set(r).size === r.length, 'ORG-ROLES-EMPTY');

const fields = {
  legalName: z.string().min(1, 'ORG-LEGAL-NAME').max(255, 'ORG-LEGAL-NAME'),
  tradingName: z.string().min(1).max(255).optional(),
  organisationType: codeField('organisation-types', 'ORG-TYPE-UNKNOWN', 'LTD'),
  organisationTypeDescription: z.string().min(1).max(255).optional(),
  registrationNumber: z
    .string()
    .min(1, 'ORG-REGISTRATION-NUMBER-FORMAT')
    .max(64, 'ORG-REGISTRATION-NUMBER-FORMAT')
    .regex(/^[A-Za-z0-9/-]+$/, 'ORG-REGISTRATION-NUMBER-FORMAT'),
  roles,
  identifiers: z.array(Identifier).max(20).optional(),
  passport: Passport.optional(),
  dnoCodes: z
    .array(codeField('dno-codes', 'ORG-DNO-CODE-UNKNOWN', 'SPEN_SPM'))
    .max(30)
    .optional(),
  status: z.enum(ORGANISATION_STATUSES, 'ORG-STATUS-UNKNOWN').optional(),
};

/** Types whose registration number is a Companies House number. */
const COMPANIES_HOUSE_TYPES = ['LTD', 'PLC', 'LLP'];

type OrgLike = {
  organisationType?: string;
  registrationNumber?: string;
  organisationTypeDescription?: string | null;
  passport?: z.infer<typeof Passport> | null;
};

/** Cross-field rules shared by registration and update. */
export function organisationCrossChecks(v: OrgLike, ctx: z.RefinementCtx) {
  if (
    v.organisationType &&
    v.registrationNumber &&
    COMPANIES_HOUSE_TYPES.includes(v.organisationType) &&
    !isCompaniesHouseNumber(v.registrationNumber.toUpperCase())
  ) {
    ctx.addIssue({ code: 'custom', path: ['registrationNumber'], message: 'ORG-REGISTRATION-NUMBER-FORMAT' });
  }
  if (v.organisationType === 'OTHER' && !v.organisationTypeDescription) {
    ctx.addIssue({ code: 'custom', path: ['organisationTypeDescription'], message: 'ORG-TYPE-OTHER-DESCRIPTION' });
  }
  const addr = v.passport?.registeredAddress;
  if (addr && addr.country === 'GB' && !isUkPostcode(addr.postcode)) {
    ctx.addIssue({ code: 'custom', path: ['passport', 'registeredAddress', 'postcode'], message: 'ORG-POSTCODE-FORMAT' });
  }
  // The organisation's country: its registered address, else where it is incorporated; mobiles carry that country's calling code.
  const country = addr?.country ?? v.passport?.countryOfIncorporation;
  const callingCode = country ? callingCodeOf(country) : undefined;
  for (const which of ['primary', 'secondary', 'technical'] as const) {
    const m = v.passport?.contacts[which]?.mobile;
    // A country without a known calling code cannot vouch for any mobile: refused, not waved through.
    if (country && m && !(callingCode && m.startsWith(`+${callingCode}`)))
      ctx.addIssue({ code: 'custom', path: ['passport', 'contacts', which, 'mobile'], message: 'ORG-MOBILE-COUNTRY' });
  }
}

export const OrganisationInput = z.object(fields).strict().superRefine(organisationCrossChecks).openapi('OrganisationInput');
export type OrganisationInput = z.infer<typeof OrganisationInput>;

/** What an applicant submits (self-service onboarding, docs/organisations.md): the registration's fields with the passport required and no status (always PENDING_APPROVAL). */
const { status: _status, ...applied } = fields;
export const OrganisationApplication = z
  .object({ ...applied, passport: Passport })
  .strict()
  .superRefine(organisationCrossChecks)
  .openapi('OrganisationApplication');
export type OrganisationApplication = z.infer<typeof OrganisationApplication>;

/** Update: any subset of the fields; null clears an optional one. */
export const OrganisationPatch = z
  .object({
    legalName: fields.legalName.optional(),
    tradingName: fields.tradingName.unwrap().nullable().optional(),
    organisationType: fields.organisationType.optional(),
    organisationTypeDescription: fields.organisationTypeDescription.unwrap().nullable().optional(),
    registrationNumber: fields.registrationNumber.optional(),
    roles: roles.optional(),
    identifiers: fields.identifiers,
    passport: Passport.nullable().optional(),
    dnoCodes: fields.dnoCodes,
    status: fields.status,
  })
  .strict()
  .openapi('OrganisationPatch');
export type OrganisationPatch = z.infer<typeof OrganisationPatch>;

export const Organisation = z
  .object({
    id: z.string().openapi({ example: '01JD8X6N2Q7ZB4Y3W5V6T7S8R9' }),
    legalName: z.string(),
    tradingName: z.string().nullable(),
    organisationType: z
      .string()
      .openapi({ description: 'A code of the organisation-types catalogue (GET /api/v1/catalogues/organisation-types).' }),
    organisationTypeDescription: z.string().nullable(),
    registrationNumber: z.string(),
    roles: z.array(z.enum(ORGANISATION_ROLES)),
    identifiers: z.array(z.object({ scheme: z.string(), value: z.string(), description: z.string().optional() })),
    passport: Passport.nullable().openapi({
      description: 'Only for the organisation itself, the operator and the regulator; null for other callers.',
    }),
    dnoCodes: z.array(z.string()),
    status: z.enum(ORGANISATION_STATUSES),
    version: z.number().int(),
    recordedAt: z.string(),
    recordedBy: z.string(),
    deregisteredAt: z.string().nullable(),
  })
  .openapi('Organisation');
export type Organisation = z.infer<typeof Organisation>;
