/**
 * Every rule code the hub can return, with its HTTP status and meaning. The same code names the
 * check in the code, its line in docs/rules.md (generated from this table: `npm run docs`), its
 * test, and goes back to the client in the problem body.
 */
export interface Rule { status: number; title: string; kind?: 'error' | 'warning' }

export const RULES = {
  // Requests
  'REQUEST-MALFORMED-JSON': { status: 400, title: 'The body is not valid JSON.' },
  'REQUEST-MALFORMED-CSV': { status: 400, title: 'The CSV body cannot be parsed (unbalanced quotes or wrong column count).' },
  'REQUEST-UNSUPPORTED-MEDIA-TYPE': { status: 415, title: 'The Content-Type is not one this endpoint accepts.' },
  'REQUEST-TOO-LARGE': { status: 413, title: 'The body is larger than this endpoint accepts.' },
  'REQUEST-VALIDATION': { status: 422, title: 'One or more fields are invalid; see `errors`.' },
  'REQUEST-UNKNOWN-FIELD': { status: 422, title: 'The field is not part of this resource.' },
  'REQUEST-FIELD-TYPE': { status: 422, title: 'The field has the wrong type.' },
  'REQUEST-FIELD-REQUIRED': { status: 422, title: 'The field is required.' },
  'REQUEST-TEXT-INVALID': { status: 422, title: 'Text cannot hold U+0000 (NUL) or an unpaired surrogate (\\uD800–\\uDFFF); the register cannot store it.' },
  'REQUEST-QUERY-INVALID': { status: 400, title: 'A query parameter is invalid.' },
  'REQUEST-CURSOR-INVALID': { status: 400, title: 'The pagination cursor is not one this list issued.' },
  'REQUEST-IF-MATCH-REQUIRED': { status: 428, title: 'Updates must carry If-Match with the ETag last read.' },
  'REQUEST-PRECONDITION-FAILED': { status: 412, title: 'The record changed since the ETag in If-Match was read.' },
  'REQUEST-IDEMPOTENCY-KEY-REUSED': { status: 422, title: 'The Idempotency-Key was used before with a different request.' },
  'REQUEST-IDEMPOTENCY-IN-PROGRESS': { status: 409, title: 'A request with this Idempotency-Key is still being processed; retry shortly.' },
  'REQUEST-IDEMPOTENCY-KEY-FORMAT': { status: 400, title: 'The Idempotency-Key must be 1–255 visible ASCII characters.' },
  'ROUTE-NOT-FOUND': { status: 404, title: 'No such route.' },
  'METHOD-NOT-ALLOWED': { status: 405, title: 'The route does not accept this method.' },
  'INTERNAL-ERROR': { status: 500, title: 'An unexpected error; it has been logged.' },

  // Access
  'AUTH-TOKEN-MISSING': { status: 401, title: 'A Bearer access token is required.' },
  'AUTH-TOKEN-INVALID': { status: 401, title: 'The access token is invalid, expired or not from the configured issuer.' },
  'AUTH-ORGANISATION-INACTIVE': { status: 403, title: 'The token’s organisation is not Active.' },
  'AUTH-SCOPE-MISSING': { status: 403, title: 'The token lacks the scope this action needs.' },
  'AUTH-ROLE-FORBIDDEN': { status: 403, title: 'No role of the organisation may perform this action.' },

  // Organisations
  'ORG-NOT-FOUND': { status: 404, title: 'No organisation with this ID is visible to the caller.' },
  'ORG-DUPLICATE': { status: 409, title: 'An organisation with this registration number is already registered; `existing` names it.' },
  'ORG-LEGAL-NAME': { status: 422, title: 'Legal name: 1–255 characters.' },
  'ORG-TYPE-UNKNOWN': { status: 422, title: 'Organisation type is not in the code list.' },
  'ORG-TYPE-OTHER-DESCRIPTION': { status: 422, title: 'Organisation type OTHER needs a description.' },
  'ORG-ROLE-UNKNOWN': { status: 422, title: 'A role is not in the code list.' },
  'ORG-ROLES-EMPTY': { status: 422, title: 'An organisation has at least one role, each once.' },
  'ORG-STATUS-UNKNOWN': { status: 422, title: 'Status is not in the code list.' },
  'ORG-REGISTRATION-NUMBER-FORMAT': { status: 422, title: 'A Companies House number is 8 characters: 8 digits, or a 2-letter prefix (SC, NI, OC, …) and 6 digits.' },
  'ORG-IDENTIFIER-FORMAT': { status: 422, title: 'An identifier does not match its scheme’s format or check digit (VAT, EIC, GLN, LEI, …).' },
  'ORG-IDENTIFIER-SCHEME': { status: 422, title: 'Identifier scheme is not in the code list.' },
  'ORG-POSTCODE-FORMAT': { status: 422, title: 'Not a UK postcode.' },
  'ORG-EMAIL-FORMAT': { status: 422, title: 'Not an email address.' },
  'ORG-MOBILE-FORMAT': { status: 422, title: 'Mobile numbers are E.164 (+ and 8–15 digits).' },
  'ORG-MOBILE-COUNTRY': { status: 422, title: 'A UK-registered organisation’s contact mobile starts with +44.' },
  'ORG-COUNTRY-FORMAT': { status: 422, title: 'Countries are ISO 3166-1 alpha-2 codes.' },
  'ORG-WEBSITE-FORMAT': { status: 422, title: 'Website must be an https:// or http:// URL.' },
  'ORG-YEAR-FORMAT': { status: 422, title: 'Year of registration is between 1800 and this year.' },
  'ORG-DNO-CODE-UNKNOWN': { status: 422, title: 'A DNO code is not in the code list.' },
  'ORG-HAS-ACTIVE-ASSETS': { status: 409, title: 'An organisation that still controls or owns active assets cannot be de-registered.' },
  'ORG-ALREADY-DEREGISTERED': { status: 409, title: 'The organisation is already de-registered (Withdrawn).' },
  'ORG-NOT-ACTIVE': { status: 422, title: 'The organisation named is not Active.' },
  'ORG-NOT-FSP': { status: 422, title: 'The controlling organisation must hold the FSP or Aggregator role.' },

  // Assets
  'ASSET-NOT-FOUND': { status: 404, title: 'No asset with this ID is visible to the caller.' },
  'ASSET-ID-FORMAT': { status: 400, title: 'Asset IDs are ULIDs: 26 characters of Crockford base 32.' },
  'ASSET-DUPLICATE': { status: 409, title: 'An asset with the same MPAN, category and serial number is already registered; `existingAssetId` names it.' },
  'ASSET-FRIENDLY-CODE-TAKEN': { status: 409, title: 'The friendly code is already used by another asset of this organisation.' },
  'ASSET-ALIAS-TAKEN': { status: 409, title: 'The alias (EVSE ID, ECR ID or FSP reference) already identifies another live asset.' },
  'ASSET-DEREGISTERED': { status: 409, title: 'The asset is de-registered; its record is archived and read-only.' },
  'ASSET-NAME-FORMAT': { status: 422, title: 'Name: 1–255 characters; letters, digits, spaces and only - _ / ( ) as special characters.' },
  'ASSET-FRIENDLY-CODE-FORMAT': { status: 422, title: 'Friendly code: 1–64 characters of A–Z, a–z, 0–9, - and _.' },
  'ASSET-CATEGORY-UNKNOWN': { status: 422, title: 'Category is not in the code list.' },
  'ASSET-CAPACITY-RATED': { status: 422, title: 'Rated capacity is a number of kW above 0 with at most 2 decimals.' },
  'ASSET-CAPACITY-DECIMALS': { status: 422, title: 'Capacities are kW with at most 2 decimals, not negative.' },
  'ASSET-CAPACITY-EXCEEDS-RATED': { status: 422, title: 'Generation and demand capacity cannot exceed rated capacity.' },
  'ASSET-CAPACITY-HIGH': { status: 422, kind: 'warning', title: 'Rated capacity above 1,000,000 kW: resend with a `justification` to register it anyway (audited).' },
  'ASSET-ENERGY-SOURCE-UNKNOWN': { status: 422, title: 'Energy source is not in the code list.' },
  'ASSET-ENERGY-SOURCE-REQUIRED': { status: 422, title: 'Generating categories need an energy source (BESS defaults to GRID).' },
  'ASSET-DEMAND-TECHNOLOGY-UNKNOWN': { status: 422, title: 'Demand technology is not in the code list.' },
  'ASSET-DEMAND-TECHNOLOGY-REQUIRED': { status: 422, title: 'Demand categories need a demand technology (defaulted where the category implies one).' },
  'ASSET-MANUFACTURER-FORMAT': { status: 422, title: 'Manufacturer: at most 255 characters.' },
  'ASSET-MODEL-FORMAT': { status: 422, title: 'Model: at most 100 characters.' },
  'ASSET-SERIAL-FORMAT': { status: 422, title: 'Serial number: 3–64 characters of A–Z, a–z, 0–9, _ and -.' },
  'ASSET-DATE-FORMAT': { status: 422, title: 'Dates are calendar dates, YYYY-MM-DD.' },
  'ASSET-COMMISSIONING-DATE-FUTURE': { status: 422, title: 'Commissioning date is today or earlier.' },
  'ASSET-COMMISSIONING-DATE-REQUIRED': { status: 422, title: 'A CONNECTED asset needs its commissioning date.' },
  'ASSET-EFFECTIVE-DATE-BEFORE-COMMISSIONING': { status: 422, title: 'Effective date is on or after the commissioning date.' },
  'ASSET-CONNECTION-STATUS-UNKNOWN': { status: 422, title: 'Connection status is not an active code (CONNECTED, PENDING, DISCONNECTED).' },
  'ASSET-CONNECTION-TYPE-UNKNOWN': { status: 422, title: 'Connection type is not an active code (FIRM, NON_FIRM, DYNAMIC).' },
  'ASSET-DNO-UNKNOWN': { status: 422, title: 'DNO is not in the code list.' },
  'ASSET-DNO-REQUIRED': { status: 422, title: 'DNO is required with an MPAN or when the asset is CONNECTED.' },
  'ASSET-DNO-MISMATCH': { status: 200, kind: 'warning', title: 'The DNO differs from the distributor the MPAN names (a warning; the asset is registered).' },
  'ASSET-MPAN-FORMAT': { status: 422, title: 'An MPAN core is 13 digits.' },
  'ASSET-MPAN-CHECKDIGIT': { status: 422, title: 'The MPAN core’s check digit is wrong.' },
  'ASSET-MPAN-DISTRIBUTOR': { status: 422, title: 'The MPAN core’s distributor ID (first two digits) is not 10–36.' },
  'ASSET-MPAN-IMPORT-REQUIRED': { status: 422, title: 'Demand categories need an import MPAN.' },
  'ASSET-MPAN-EXPORT-REQUIRED': { status: 422, title: 'Generating categories need an export MPAN.' },
  'ASSET-MPAN-BESS-REQUIRED': { status: 422, title: 'A BESS needs at least one MPAN (import or export).' },
  'ASSET-MPANS-IDENTICAL': { status: 422, title: 'Import and export MPAN must differ.' },
  'ASSET-MPAN-OTHER-ORGANISATION': { status: 422, kind: 'warning', title: 'The MPAN is already linked to an asset of another organisation: resend with a `justification` to register it anyway (audited).' },
  'ASSET-POSTCODE-FORMAT': { status: 422, title: 'Not a UK postcode.' },
  'ASSET-GSP-GROUP-UNKNOWN': { status: 422, title: 'GSP group is one of _A … _P.' },
  'ASSET-COORDINATES': { status: 422, title: 'Latitude (−90…90) and longitude (−180…180) come together.' },
  'ASSET-ALIAS-SCHEME-UNKNOWN': { status: 422, title: 'Alias scheme is one of mpan, serial, evse, ecr, mcs, fsp_ref.' },
  'ASSET-ALIAS-FORMAT': { status: 422, title: 'The alias value does not match its scheme (EVSE ID per ISO 15118 / eMI3, MPAN core, …).' },
  'ASSET-ALIAS-MANAGED': { status: 422, title: 'MPAN and serial aliases come from importMpan, exportMpan and serialNumber; set those fields instead.' },
  'ASSET-IDENTIFIER-QUERY': { status: 400, title: 'identifier is `scheme:value`, e.g. mpan:1312345678907.' },
  'ASSET-JUSTIFICATION-FORMAT': { status: 422, title: 'A justification is 10–1000 characters.' },
  'ASSET-ORGANISATION-REQUIRED': { status: 422, title: 'The operator registering an asset names its organisationId and fspId.' },
  'ASSET-AS-OF-BEFORE-REGISTRATION': { status: 404, title: 'The asset did not exist at the requested time.' },

  // Bulk
  'BULK-EMPTY': { status: 422, title: 'The batch has no rows.' },
  'BULK-TOO-MANY-ROWS': { status: 413, title: 'A batch holds at most 50,000 rows; split the file.' },
  'BULK-ROWS-INVALID': { status: 422, title: 'At least one row is invalid; nothing was written. See `results`.' },
  'BULK-DUPLICATE-IN-BATCH': { status: 422, title: 'Two rows of the batch register the same MPAN + category + serial, friendly code or unique alias.' },
} as const satisfies Record<string, Rule>;

export type RuleCode = keyof typeof RULES;

export function isRuleCode(code: string): code is RuleCode {
  return Object.prototype.hasOwnProperty.call(RULES, code);
}
