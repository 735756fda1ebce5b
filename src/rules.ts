/**
 * Every rule code the hub can return, with its HTTP status and meaning. The same code names the
 * check in the code, its line in docs/rules.md (generated from this table: `npm run docs`), its
 * test, and goes back to the client in the problem body.
 */
export interface Rule {
  status: number;
  title: string;
  kind?: 'error' | 'warning';
}

export const RULES = {
  // Requests
  'REQUEST-MALFORMED-JSON': { status: 400, title: 'The body is not valid JSON.' },
  'REQUEST-MALFORMED-CSV': { status: 400, title: 'The CSV body cannot be parsed (unbalanced quotes or wrong column count).' },
  'REQUEST-MALFORMED-MULTIPART': {
    status: 400,
    title: 'The body cannot be parsed as multipart/form-data with the boundary its Content-Type names.',
  },
  'REQUEST-UNSUPPORTED-MEDIA-TYPE': { status: 415, title: 'The Content-Type is not one this endpoint accepts.' },
  'REQUEST-TOO-LARGE': { status: 413, title: 'The body is larger than this endpoint accepts.' },
  'REQUEST-VALIDATION': { status: 422, title: 'One or more fields are invalid; see `errors`.' },
  'REQUEST-UNKNOWN-FIELD': { status: 422, title: 'The field is not part of this resource.' },
  'REQUEST-FIELD-TYPE': { status: 422, title: 'The field has the wrong type.' },
  'REQUEST-FIELD-REQUIRED': { status: 422, title: 'The field is required.' },
  'REQUEST-CODE-UNKNOWN': {
    status: 422,
    title: 'A filter names a code its catalogue does not hold; the detail names the catalogue and where its codes are listed.',
  },
  'REQUEST-TEXT-INVALID': {
    status: 422,
    title: 'Text cannot hold U+0000 (NUL) or an unpaired surrogate (\\uD800–\\uDFFF); the register cannot store it.',
  },
  'REQUEST-QUERY-INVALID': { status: 400, title: 'A query parameter is invalid.' },
  'REQUEST-CURSOR-INVALID': { status: 400, title: 'The pagination cursor is not one this list issued.' },
  'REQUEST-IF-MATCH-REQUIRED': { status: 428, title: 'Updates must carry If-Match with the ETag last read.' },
  'REQUEST-PRECONDITION-FAILED': { status: 412, title: 'The record changed since the ETag in If-Match was read.' },
  'REQUEST-IDEMPOTENCY-KEY-REUSED': {
    status: 422,
    title: 'The Idempotency-Key was used before with a different request; send a new key for a new request.',
  },
  'REQUEST-IDEMPOTENCY-IN-PROGRESS': { status: 409, title: 'A request with this Idempotency-Key is still being processed; retry shortly.' },
  'REQUEST-IDEMPOTENCY-KEY-FORMAT': { status: 400, title: 'The Idempotency-Key must be 1–255 visible ASCII characters.' },
  'ROUTE-NOT-FOUND': { status: 404, title: 'No such route; /docs lists every operation (the detail names the route asked for).' },
  'METHOD-NOT-ALLOWED': { status: 405, title: 'The route does not accept this method.' },
  'INTERNAL-ERROR': { status: 500, title: 'An unexpected error; it has been logged.' },
  'HUB-MISCONFIGURED': {
    status: 503,
    title: 'The hub is not configured to serve requests; the detail names the missing settings (its operator must set them).',
  },
  'REQUEST-CONCURRENT-RETRY': {
    status: 503,
    title:
      'A concurrent request changed the same records at the same moment and this one was undone; nothing was written: send it again (see Retry-After).',
  },

  // Access
  'AUTH-TOKEN-MISSING': { status: 401, title: 'A Bearer access token is required.' },
  'AUTH-TOKEN-INVALID': {
    status: 401,
    title:
      'The access token is invalid, expired or not from the configured issuer; the detail says which check failed and what was expected.',
  },
  'AUTH-ORGANISATION-INACTIVE': { status: 403, title: 'The token’s organisation is not Active.' },
  'AUTH-SCOPE-MISSING': { status: 403, title: 'The token lacks the scope this action needs.' },
  'AUTH-ROLE-FORBIDDEN': { status: 403, title: 'No role of the organisation may perform this action.' },
  'AUTH-ROUTE-UNMAPPED': {
    status: 403,
    title: 'The route declares no action of the permission matrix (`apiRoute` in src/access/api-route.ts), so it is refused.',
  },

  'AUTH-CLIENT-REVOKED': { status: 401, title: 'The token was issued to an API client that is revoked (or unknown to the register).' },
  'AUTH-USER-INACTIVE': { status: 401, title: 'The token was issued to a person who is no longer active.' },
  'AUTH-DELEGATION-INACTIVE': { status: 401, title: 'The token acts under a delegation that is revoked, expired or not yet valid.' },
  'AUTH-DPOP-REQUIRED': {
    status: 401,
    title: 'The access token is DPoP-bound: send it as `Authorization: DPoP <token>` with a DPoP proof.',
  },
  'AUTH-DPOP-INVALID': { status: 401, title: 'The DPoP proof is missing, invalid, replayed or bound to another key.' },
  'AUTH-DELEGATION-ASSETS-LIMITED': { status: 403, title: 'The delegation is limited to named assets, so it cannot register new ones.' },
  'AUTH-DEV-TOKEN-REFUSED': {
    status: 403,
    title: 'Development tokens are minted only by a hub in development mode; in production use an API client of the organisation.',
  },
  'AUTH-TOKEN-ISSUED-IN-FUTURE': {
    status: 401,
    title: 'The access token’s `iat` is more than 60 s in the future: the issuer’s clock is ahead; get a new token once it is corrected.',
  },
  'AUTH-TOKEN-SCOPE-WILDCARD': {
    status: 401,
    title: 'The access token’s scope holds a wildcard (`*`); tokens must name each scope they grant.',
  },
  'AUTH-DELEGATION-ASSETS-ONLY': {
    status: 403,
    title:
      'The delegation is limited to named assets and this action is not about them alone (organisation-wide data: webhooks, VEN registrations, scorecards; gaining an asset by a switch). Act under a delegation without an asset list, or as the FSP.',
  },

  // Identity: API clients, people, delegations
  'CLIENT-NOT-FOUND': { status: 404, title: 'No API client with this ID is visible to the caller.' },
  'CLIENT-AUTH-METHOD': {
    status: 422,
    title:
      'The authentication method does not suit the client kind: machine clients use private_key_jwt (recommended) or a client secret; web/native apps may be public (none, with PKCE).',
  },
  'CLIENT-JWKS-INVALID': {
    status: 422,
    title:
      'The JWKS must hold 1–5 public signing keys (EC P-256, OKP Ed25519 or RSA ≥ 2048 bits), each with a kid, and no private members.',
  },
  'CLIENT-JWKS-ONE-OF': {
    status: 422,
    title: 'A private_key_jwt client gives its public keys either as a JWKS (jwks) or at a URL (jwksUri): exactly one of the two.',
  },
  'CLIENT-JWKS-URI-INVALID': {
    status: 422,
    title:
      'The JWKS URI must be an https URL without user, password or fragment (http only for localhost, 127.0.0.1 or [::1], in development).',
  },
  'CLIENT-REDIRECT-URI': {
    status: 422,
    title: 'Redirect URIs must be https (http only for localhost), without fragment; web and native apps need at least one.',
  },
  'CLIENT-SCOPE-NOT-ALLOWED': {
    status: 422,
    title: 'A requested scope is neither in the baseline of the organisation’s roles nor delegable.',
  },
  'CLIENT-REVOKED': { status: 409, title: 'The API client is revoked.' },
  'CLIENT-DEMO-REFUSED': { status: 409, title: 'Production mode refuses demo clients.' },
  'USER-NOT-FOUND': { status: 404, title: 'No person with this ID is visible to the caller.' },
  'USER-EMAIL-TAKEN': { status: 409, title: 'A person with this email is already registered.' },
  'USER-INVITATION-INVALID': { status: 400, title: 'The invitation link is unknown, used or expired.' },
  'USER-PASSWORD-WEAK': { status: 422, title: 'The password is too short (at least 12 characters) or too long.' },
  'USER-ALREADY-DEACTIVATED': { status: 409, title: 'The person is already deactivated.' },
  'DELEGATION-NOT-FOUND': { status: 404, title: 'No delegation with this ID is visible to the caller.' },
  'DELEGATION-DELEGATE-INVALID': { status: 422, title: 'The delegate must be another active organisation.' },
  'DELEGATION-SCOPE-NOT-DELEGABLE': {
    status: 422,
    title:
      'A scope is not the delegator’s to give (outside its roles’ baseline) or may never be delegated (managing clients, people or delegations).',
  },
  'DELEGATION-ASSET-UNKNOWN': { status: 422, title: 'A named asset does not exist or is not controlled by the delegator.' },
  'DELEGATION-PERIOD': { status: 422, title: 'validTo must be after validFrom and in the future, at most one year after validFrom.' },
  'DELEGATION-ALREADY-REVOKED': { status: 409, title: 'The delegation is already revoked.' },

  // Abuse limits
  'RATE-LIMITED': {
    status: 429,
    title: 'Too many requests for the client or organisation this window; retry after `Retry-After` seconds.',
  },
  'AUTH-CLIENT-LOCKED': {
    status: 429,
    title: 'Too many failed authentications for this client; it is locked until `Retry-After` seconds have passed.',
  },

  // Switching and contracts
  'SWITCH-ASSET-UNKNOWN': {
    status: 404,
    title:
      'No asset has this ID or alias that the consent lets the caller switch: the asset is unknown, or the consent names another MPAN or another FSP (one answer for all, so that a request cannot probe other FSPs’ assets).',
  },
  'SWITCH-NOT-FOUND': { status: 404, title: 'No switch with this ID is visible to the caller.' },
  'SWITCH-ASSET-DEREGISTERED': { status: 409, title: 'The asset is de-registered; it cannot switch.' },
  'SWITCH-ALREADY-CONTROLLED': { status: 409, title: 'The gaining FSP already controls the asset.' },
  'SWITCH-IN-PROGRESS': { status: 409, title: 'Another switch of this asset is already open; `existingSwitchId` names it.' },
  'SWITCH-SERVICE-WINDOW': {
    status: 409,
    title:
      'The effective date falls inside a confirmed service window of another FSP; `earliestEffectiveDate` is the first day a switch could take effect.',
  },
  'SWITCH-NOTICE-PERIOD': {
    status: 422,
    title: 'The effective date is earlier than the notice period allows; `earliestEffectiveDate` says when.',
  },
  'SWITCH-GAINING-ROLE': { status: 403, title: 'Only an FSP or aggregator (or a delegate acting for one) can gain control of an asset.' },
  'SWITCH-STATE': { status: 409, title: 'The switch is not in a state that allows this transition.' },
  'SWITCH-NOT-PARTY': { status: 403, title: 'Only the gaining FSP withdraws a switch; only the operator cancels one.' },
  // Consent codes the switch itself raises (the consent verifier's own codes are in the Consent section).
  'CONSENT-SERVICE-UNAVAILABLE': {
    status: 503,
    title: 'The consent service cannot be reached or is not configured; nothing was changed (fail closed). Retry later.',
  },
  'CONSENT-MPAN-MISMATCH': {
    status: 422,
    title:
      'The consent is bound to another MPAN than the asset’s (or the asset has none). A switch request answers SWITCH-ASSET-UNKNOWN instead.',
  },
  'CONSENT-TOKEN-INVALID': {
    status: 422,
    title: 'The consent token is malformed, wrongly signed, of a refused algorithm or type, or signed by an unknown key.',
  },
  'CONTRACT-NOT-FOUND': { status: 404, title: 'No contract with this ID is visible to the caller.' },
  'CONTRACT-PERIOD': { status: 422, title: 'validTo must be after validFrom.' },
  'CONTRACT-PARTY': {
    status: 422,
    title: 'The FSP must be an active FSP or aggregator, and the asset must exist and not be de-registered.',
  },
  'CONTRACT-STATUS-TRANSITION': {
    status: 409,
    title: 'Contracts move OFFERED → CONFIRMED → TERMINATED (or OFFERED → TERMINATED), never back.',
  },
  'SWITCH-ALIAS-AMBIGUOUS': {
    status: 409,
    title:
      'The alias names several live assets the gaining FSP does not control (e.g. a battery, a heat pump and an EV charger behind one meter); `matchingAssets` lists each one’s asset ID, category and capacity: name the ones to switch in `assets` (one request may switch several).',
  },
  'SWITCH-EFFECTIVE-BEFORE-LINK': {
    status: 422,
    title:
      'The effective date is before the asset’s current FSP link started; `earliestEffectiveDate` is the first day a switch could take effect.',
  },
  'SWITCH-ASSET-REFERENCE': {
    status: 422,
    title: 'Name the asset in `asset` (one ID or alias) or the assets in `assets` (a list of IDs or aliases), not both and not neither.',
  },

  // Market units (UC-03.01 to UC-03.04, docs/units.md)
  'UNIT-NOT-FOUND': { status: 404, title: 'No market unit with this ID is visible to the caller.' },
  'UNIT-NAME-FORMAT': { status: 422, title: 'Name: 1–255 characters; letters, digits, spaces and only - _ / ( ) as special characters.' },
  'UNIT-TYPE-UNKNOWN': { status: 422, title: 'Type is SPU (one accounting point) or SPG (several).' },
  'UNIT-PRODUCT-FORMAT': {
    status: 422,
    title:
      'Product: 2–32 characters of A–Z, 0–9, _ and -, starting with a letter (e.g. NESO-DFS). The product must also be an active product of the catalogue (UNIT-PRODUCT-UNKNOWN).',
  },
  'UNIT-EMPTY': { status: 422, title: 'A market unit has at least one asset.' },
  'UNIT-TOO-MANY-ASSETS': { status: 422, title: 'A market unit names at most 1,000 assets.' },
  'UNIT-ASSET-UNKNOWN': { status: 422, title: 'No asset the caller may write has this ID; the detail names them.' },
  'UNIT-ASSET-NOT-REGISTERED': { status: 422, title: 'A member asset is de-registered; the detail names it.' },
  'UNIT-MIXED-FSP': { status: 422, title: 'Every member asset is controlled by the unit’s FSP; the detail names those that are not.' },
  'UNIT-GEOGRAPHY-DNO': { status: 422, title: 'Every member asset is on the same DNO licence area (`dno`).' },
  'UNIT-GEOGRAPHY-GSP-GROUP': {
    status: 200,
    kind: 'warning',
    title: 'Members lie in more than one GSP group; the unit is kept, but a product may require one.',
  },
  'UNIT-SPU-ACCOUNTING-POINT': {
    status: 422,
    title: 'An SPU is one accounting point: every member has an import MPAN, and it is the same one.',
  },
  'UNIT-SPG-ACCOUNTING-POINTS': {
    status: 422,
    title: 'An SPG spans more than one accounting point (import MPAN); one accounting point is an SPU.',
  },
  'UNIT-ASSET-IN-OTHER-UNIT': {
    status: 409,
    title: 'An asset is already in another active market unit for this product; `otherMarketUnits` names them.',
  },
  'UNIT-DEREGISTERED': { status: 409, title: 'The market unit is de-registered; its record is archived and read-only.' },
  'UNIT-CONTRACT-AWARDED': {
    status: 409,
    title: 'A CONFIRMED contract for the unit, or for one of its assets and the unit’s product, has not ended; `contractIds` names them.',
  },
  'UNIT-FSP-INVALID': { status: 422, title: 'The FSP named must be an active FSP or aggregator.' },
  'UNIT-REASSIGN-SAME-FSP': { status: 409, title: 'The market unit is already controlled by this FSP.' },
  'UNIT-PRODUCT-UNKNOWN': {
    status: 422,
    title: 'The product is not an active product of the catalogue (GET /api/v1/products): unknown, retired (INACTIVE) or past its validTo.',
  },
  'UNIT-QUALIFIED': {
    status: 409,
    title:
      'The unit holds an active qualification (current, QUALIFIED, validTo open or in the future); `qualificationIds` names them. Record its end (a new outcome or validTo) first.',
  },

  // Households (the consumer principal, docs/consumers.md).
  'CONSUMER-SIGN-IN-UNAVAILABLE': {
    status: 503,
    title: 'No consumer consent service is configured as a sign-in provider, or it cannot be reached now (Retry-After).',
  },
  'CONSUMER-SIGN-IN-FAILED': {
    status: 400,
    title: 'The household sign-in failed: cancelled, started in another browser, too old, or the provider’s answer was refused.',
  },
  'CONSUMER-NO-METER-POINTS': {
    status: 403,
    title: 'The consumer consent service named no valid meter point (MPAN) the person may act for.',
  },
  'CONSUMER-MPAN-NOT-BOUND': {
    status: 403,
    title: 'The meter point is not one the household’s sign-in vouched for; a household reaches only its own.',
  },
  'CONSUMER-CONSENT-NOT-FOUND': { status: 404, title: 'No consent with this ID is recorded for the household’s meter points.' },
  'CONSUMER-CONSENT-REVOKED': { status: 409, title: 'The consent is already revoked.' },
  // Consent: consent tokens, reference checks, revocation notices (docs/consent.md). CONSENT-SERVICE-UNAVAILABLE,
  // CONSENT-MPAN-MISMATCH and CONSENT-TOKEN-INVALID are listed with switching above.
  'CONSENT-ISSUER': { status: 422, title: 'The consent token’s `iss` is not the configured Consumer Consent Service.' },
  'CONSENT-AUDIENCE': { status: 422, title: 'The consent token’s `aud` does not name this hub.' },
  'CONSENT-EXPIRED': {
    status: 422,
    title: 'The consent token has expired (`exp`, allowing the clock skew); ask the consent service for a fresh one.',
  },
  'CONSENT-NOT-YET-VALID': {
    status: 422,
    title: 'The consent token is not valid yet (`nbf`, or `iat` in the future, beyond the clock skew).',
  },
  'CONSENT-TOO-OLD': {
    status: 422,
    title: 'The consent token was issued (`iat`) longer ago than the hub accepts (FMAR_CONSENT_MAX_AGE_DAYS).',
  },
  'CONSENT-REPLAYED': {
    status: 409,
    title: 'The consent was already used by another request; only a retry of the same request (same Idempotency-Key) may present it again.',
  },
  'CONSENT-FSP-MISMATCH': {
    status: 422,
    title: 'The consent names another FSP than the one gaining control. A switch request answers SWITCH-ASSET-UNKNOWN instead.',
  },
  'CONSENT-PURPOSE': { status: 422, title: 'The consent was given for another purpose than the one required (flexibility-services).' },
  'CONSENT-WINDOW': { status: 422, title: 'The consent’s validity (consent_from … consent_to) does not cover the effective date.' },
  'CONSENT-REVOKED': { status: 422, title: 'The consumer has revoked this consent.' },
  'CONSENT-REFERENCE-INVALID': {
    status: 422,
    title: 'The consent reference is malformed, unknown to the consent service, or not valid according to it.',
  },
  'CONSENT-METHOD-UNSUPPORTED': {
    status: 422,
    title:
      'This hub is not configured for this kind of consent (a token without a configured issuer, or a reference without a reference-check endpoint).',
  },
  'CONSENT-NOTICE-INVALID': {
    status: 422,
    title: 'The revocation notice is not a valid consent-revocation+jwt signed by the configured consent service.',
  },

  // Organisations
  'ORG-NOT-FOUND': { status: 404, title: 'No organisation with this ID is visible to the caller.' },
  'ORG-DUPLICATE': { status: 409, title: 'An organisation with this registration number is already registered; `existing` names it.' },
  'ORG-LEGAL-NAME': { status: 422, title: 'Legal name: 1–255 characters.' },
  'ORG-TYPE-UNKNOWN': {
    status: 422,
    title:
      'Organisation type is not a code in effect in the organisation-types catalogue (GET /api/v1/catalogues/organisation-types); the detail says whether it is unknown, inactive, not yet in effect or ended.',
  },
  'ORG-TYPE-OTHER-DESCRIPTION': { status: 422, title: 'Organisation type OTHER needs a description.' },
  'ORG-ROLE-UNKNOWN': { status: 422, title: 'A role is not in the code list.' },
  'ORG-ROLES-EMPTY': { status: 422, title: 'An organisation has at least one role, each once.' },
  'ORG-STATUS-UNKNOWN': { status: 422, title: 'Status is not in the code list.' },
  'ORG-REGISTRATION-NUMBER-FORMAT': {
    status: 422,
    title: 'A Companies House number is 8 characters: 8 digits, or a 2-letter prefix (SC, NI, OC, …) and 6 digits.',
  },
  'ORG-IDENTIFIER-FORMAT': {
    status: 422,
    title: 'An identifier does not match its scheme’s format or check digit (VAT, EIC, GLN, LEI, …).',
  },
  'ORG-IDENTIFIER-SCHEME': {
    status: 422,
    title: 'Identifier scheme is not a code in effect in the identifier-schemes catalogue; the detail says why.',
  },
  'ORG-POSTCODE-FORMAT': { status: 422, title: 'Not a UK postcode.' },
  'ORG-EMAIL-FORMAT': { status: 422, title: 'Not an email address.' },
  'ORG-MOBILE-FORMAT': { status: 422, title: 'Mobile numbers are E.164 (+ and 8–15 digits).' },
  'ORG-MOBILE-COUNTRY': {
    status: 422,
    title:
      'A contact mobile starts with the calling code of the organisation’s country (registered address, else country of incorporation): +44 for GB, +33 for FR, …',
  },
  'ORG-COUNTRY-FORMAT': { status: 422, title: 'Countries are ISO 3166-1 alpha-2 codes.' },
  'ORG-WEBSITE-FORMAT': { status: 422, title: 'Website must be an https:// or http:// URL.' },
  'ORG-YEAR-FORMAT': { status: 422, title: 'Year of registration is between 1800 and this year.' },
  'ORG-DNO-CODE-UNKNOWN': { status: 422, title: 'A DNO code is not a code in effect in the dno-codes catalogue; the detail says why.' },
  'ORG-NOT-PENDING': { status: 409, title: 'Only an organisation awaiting approval (PENDING_APPROVAL) is approved or rejected.' },
  'ORG-DECISION-REASON': { status: 422, title: 'A rejection says why, in 3–500 characters; the applicant reads it.' },
  'APPLICANT-TOKEN-INVALID': {
    status: 401,
    title: 'The onboarding routes need the applicant’s token (Authorization: Bearer fmar-applicant-…), as returned at registration.',
  },
  'APPLICANT-ALREADY-SUBMITTED': {
    status: 409,
    title: 'The applicant has already submitted an organisation; one application per applicant.',
  },
  'ORG-HAS-ACTIVE-ASSETS': { status: 409, title: 'An organisation that still controls or owns active assets cannot be de-registered.' },
  'ORG-ALREADY-DEREGISTERED': { status: 409, title: 'The organisation is already de-registered (Withdrawn).' },
  'ORG-NOT-ACTIVE': { status: 422, title: 'The organisation named is not Active.' },
  'ORG-NOT-FSP': { status: 422, title: 'The controlling organisation must hold the FSP or Aggregator role.' },

  // Assets
  'ASSET-NOT-FOUND': { status: 404, title: 'No asset with this ID is visible to the caller.' },
  'ASSET-ID-FORMAT': { status: 400, title: 'Asset IDs are ULIDs: 26 characters of Crockford base 32.' },
  'ASSET-DUPLICATE': {
    status: 409,
    title: 'An asset with the same MPAN, category and serial number is already registered; `existingAssetId` names it.',
  },
  'ASSET-FRIENDLY-CODE-TAKEN': { status: 409, title: 'The friendly code is already used by another asset of this organisation.' },
  'ASSET-ALIAS-TAKEN': {
    status: 409,
    title:
      'The alias already identifies another live asset: an EVSE ID nationally, an ECR reference in the same DNO’s register, an FSP reference in the same organisation.',
  },
  'ASSET-DEREGISTERED': { status: 409, title: 'The asset is de-registered; its record is archived and read-only.' },
  'ASSET-IN-MARKET-UNIT': {
    status: 409,
    title:
      'The asset is a member of an active market unit; remove it from the unit (or de-register the unit) first. `marketUnitIds` names them.',
  },
  'ASSET-NAME-FORMAT': { status: 422, title: 'Name: 1–255 characters; letters, digits, spaces and only - _ / ( ) as special characters.' },
  'ASSET-FRIENDLY-CODE-FORMAT': { status: 422, title: 'Friendly code: 1–64 characters of A–Z, a–z, 0–9, - and _.' },
  'ASSET-CATEGORY-UNKNOWN': {
    status: 422,
    title:
      'Category is not a code in effect in the asset-categories catalogue (GET /api/v1/catalogues/asset-categories); the detail says whether it is unknown, inactive, not yet in effect or ended.',
  },
  'ASSET-CAPACITY-RATED': { status: 422, title: 'Rated capacity is a number of kW above 0 with at most 2 decimals.' },
  'ASSET-CAPACITY-DECIMALS': { status: 422, title: 'Capacities are kW with at most 2 decimals, not negative.' },
  'ASSET-CAPACITY-EXCEEDS-RATED': { status: 422, title: 'Generation and demand capacity cannot exceed rated capacity.' },
  'ASSET-CAPACITY-HIGH': {
    status: 422,
    kind: 'warning',
    title: 'Rated capacity above 1,000,000 kW: resend with a `justification` to register it anyway (audited).',
  },
  'ASSET-ENERGY-SOURCE-UNKNOWN': {
    status: 422,
    title: 'Energy source is not a code in effect in the energy-sources catalogue; the detail says why.',
  },
  'ASSET-ENERGY-SOURCE-REQUIRED': { status: 422, title: 'Generating categories need an energy source (BESS defaults to GRID).' },
  'ASSET-ENERGY-CONVERSION-TYPE-UNKNOWN': {
    status: 422,
    title: 'Energy conversion type is not a code in effect in the energy-conversion-types catalogue; the detail says why.',
  },
  'ASSET-DEMAND-TECHNOLOGY-UNKNOWN': {
    status: 422,
    title: 'Demand technology is not a code in effect in the demand-technologies catalogue; the detail says why.',
  },
  'ASSET-DEMAND-TECHNOLOGY-REQUIRED': {
    status: 422,
    title: 'Demand categories need a demand technology (defaulted where the category implies one).',
  },
  'ASSET-MANUFACTURER-FORMAT': { status: 422, title: 'Manufacturer: at most 255 characters.' },
  'ASSET-MODEL-FORMAT': { status: 422, title: 'Model: at most 100 characters.' },
  'ASSET-SERIAL-FORMAT': { status: 422, title: 'Serial number: 3–64 characters of A–Z, a–z, 0–9, _ and -.' },
  'ASSET-DATE-FORMAT': { status: 422, title: 'Dates are calendar dates, YYYY-MM-DD.' },
  'ASSET-COMMISSIONING-DATE-FUTURE': { status: 422, title: 'Commissioning date is today or earlier.' },
  'ASSET-COMMISSIONING-DATE-REQUIRED': { status: 422, title: 'A CONNECTED asset needs its commissioning date.' },
  'ASSET-EFFECTIVE-DATE-BEFORE-COMMISSIONING': { status: 422, title: 'Effective date is on or after the commissioning date.' },
  'ASSET-CONNECTION-STATUS-UNKNOWN': {
    status: 422,
    title:
      'Connection status is not a code in effect in the connection-statuses catalogue (seeded active: CONNECTED, PENDING, DISCONNECTED); the detail says why.',
  },
  'ASSET-CONNECTION-TYPE-UNKNOWN': {
    status: 422,
    title:
      'Connection type is not a code in effect in the connection-types catalogue (seeded active: FIRM, NON_FIRM, DYNAMIC); the detail says why.',
  },
  'ASSET-DNO-UNKNOWN': { status: 422, title: 'DNO is not a code in effect in the dno-codes catalogue; the detail says why.' },
  'ASSET-DNO-REQUIRED': { status: 422, title: 'DNO is required with an MPAN or when the asset is CONNECTED.' },
  'ASSET-DNO-MISMATCH': {
    status: 200,
    kind: 'warning',
    title: 'The DNO differs from the distributor the MPAN names (a warning; the asset is registered).',
  },
  'ASSET-MPAN-FORMAT': { status: 422, title: 'An MPAN core is 13 digits.' },
  'ASSET-MPAN-CHECKDIGIT': { status: 422, title: 'The MPAN core’s check digit is wrong.' },
  'ASSET-MPAN-DISTRIBUTOR': { status: 422, title: 'The MPAN core’s distributor ID (first two digits) is not 10–36.' },
  'ASSET-MPAN-IMPORT-REQUIRED': { status: 422, title: 'Demand categories need an import MPAN.' },
  'ASSET-MPAN-EXPORT-REQUIRED': { status: 422, title: 'Generating categories need an export MPAN.' },
  'ASSET-MPAN-BESS-REQUIRED': { status: 422, title: 'A BESS needs at least one MPAN (import or export).' },
  'ASSET-MPANS-IDENTICAL': { status: 422, title: 'Import and export MPAN must differ.' },
  'ASSET-MPAN-OTHER-ORGANISATION': {
    status: 422,
    kind: 'warning',
    title: 'The MPAN is already linked to an asset of another organisation: resend with a `justification` to register it anyway (audited).',
  },
  'ASSET-POSTCODE-FORMAT': { status: 422, title: 'Not a UK postcode.' },
  'ASSET-GSP-GROUP-UNKNOWN': {
    status: 422,
    title: 'GSP group is not a code in effect in the gsp-groups catalogue (seeded: _A … _P); the detail says why.',
  },
  'ASSET-COORDINATES': { status: 422, title: 'Latitude (−90…90) and longitude (−180…180) come together.' },
  'ASSET-ALIAS-SCHEME-UNKNOWN': { status: 422, title: 'Alias scheme is one of mpan, serial, evse, ecr, mcs, fsp_ref, cim_mrid.' },
  'ASSET-ALIAS-FORMAT': { status: 422, title: 'The alias value does not match its scheme (EVSE ID per ISO 15118 / eMI3, MPAN core, …).' },
  'ASSET-ALIAS-MANAGED': {
    status: 422,
    title: 'MPAN and serial aliases come from importMpan, exportMpan and serialNumber; set those fields instead.',
  },
  'ASSET-IDENTIFIER-QUERY': { status: 400, title: 'identifier is `scheme:value`, e.g. mpan:1312345678907.' },
  'ASSET-JUSTIFICATION-FORMAT': { status: 422, title: 'A justification is 10–1000 characters.' },
  'ASSET-ORGANISATION-REQUIRED': { status: 422, title: 'The operator registering an asset names its organisationId and fspId.' },
  'ASSET-AS-OF-BEFORE-REGISTRATION': { status: 404, title: 'The asset did not exist at the requested time.' },
  // Asset submissions by installers and OEMs, accepted or rejected by the FSP they name (docs/assets.md)
  'SUBMISSION-NOT-FOUND': { status: 404, title: 'No asset submission with this ID is visible to the caller.' },
  'SUBMISSION-FSP-INVALID': {
    status: 422,
    title: 'The named FSP is not an active FSP or aggregator; name the FSP that will control the asset.',
  },
  'SUBMISSION-NOT-PARTY': { status: 403, title: 'Only the FSP a submission names accepts or rejects it.' },
  'SUBMISSION-STATE': { status: 409, title: 'The submission was already accepted or rejected.' },
  'ASSET-ECR-DNO-REQUIRED': {
    status: 422,
    title: 'An ECR reference is unique within one DNO’s Embedded Capacity Register: an asset with an `ecr` alias gives its `dno`.',
  },
  'ASSET-MPAN-SAME-CATEGORY': {
    status: 422,
    kind: 'warning',
    title:
      'The organisation already has a live asset of this category on this MPAN and the serial numbers cannot tell them apart (one has none): resend with a `justification` to register a second one anyway (audited); otherwise update the existing asset.',
  },

  // Bulk
  'BULK-EMPTY': { status: 422, title: 'The batch has no rows.' },
  'BULK-TOO-MANY-ROWS': { status: 413, title: 'A batch holds at most 50,000 rows; split the file.' },
  'BULK-ROWS-INVALID': { status: 422, title: 'At least one row is invalid; nothing was written. See `results`.' },
  'BULK-DUPLICATE-IN-BATCH': {
    status: 422,
    title:
      'Two rows of the batch (with `fmar import`, of the file) register the same MPAN + category + serial, friendly code or unique alias; the detail names the other row.',
  },
  'BULK-ROW-DEREGISTERED': {
    status: 422,
    title:
      'The row is a de-registered asset (an export’s status DEREGISTERED or deregisteredAt); importing it would make it live again. Remove the row, or drop those fields to register it as a new asset.',
  },
  'BULK-REPORT-NOT-FOUND': {
    status: 404,
    title:
      'No bulk report with this ID for your organisation: reports are kept for 7 days and readable only by the organisation that submitted the batch.',
  },

  // CIM exchange (refusals of a document, then the findings an import report lists)
  'CIM-XML-MALFORMED': { status: 400, title: 'The CIM document is not well-formed XML; `location` names the file, line and column.' },
  'CIM-XML-DOCTYPE': { status: 400, title: 'DOCTYPE and entity declarations are refused: no entity expansion, no external entities.' },
  'CIM-XML-TOO-LARGE': { status: 413, title: 'The CIM document is larger than an import accepts.' },
  'CIM-XML-TOO-DEEP': { status: 400, title: 'The CIM document nests elements deeper than an import accepts (32 levels).' },
  'CIM-XML-ENCODING': { status: 400, title: 'CIM documents are UTF-8 (a BOM is allowed).' },
  'CIM-XML-NOT-RDF': { status: 422, title: 'The root element is not rdf:RDF.' },
  'CIM-IMPORT-ROWS-INVALID': {
    status: 422,
    title: 'A bulk-load found equipment that fails the asset rules; nothing was written. See `results`.',
  },
  'CIM-CLASS-UNKNOWN': { status: 200, kind: 'warning', title: 'Objects of a class the register does not read were kept and not used.' },
  'CIM-REFERENCE-DANGLING': { status: 200, kind: 'warning', title: 'A reference points to an object that no file of the model defines.' },
  'CIM-REFERENCE-AS-LITERAL': {
    status: 200,
    kind: 'warning',
    title: 'An association is written as text instead of rdf:resource; no link was made.',
  },
  'CIM-HEADER-INVALID': {
    status: 200,
    kind: 'warning',
    title: 'The md:FullModel header has an invalid identifier, creation time or profile.',
  },
  'CIM-ID-DUPLICATE': { status: 200, kind: 'warning', title: 'An rdf:ID is defined twice in one file.' },
  'CIM-ID-MISSING': { status: 200, kind: 'warning', title: 'An object has neither rdf:ID nor rdf:about.' },
  'CIM-CLASS-CONFLICT': { status: 200, kind: 'warning', title: 'Two files give one object different classes; the first was kept.' },
  'CIM-MRID-MISMATCH': { status: 200, kind: 'warning', title: 'IdentifiedObject.mRID differs from the object’s RDF identifier.' },
  'CIM-NAMESPACE-UNKNOWN': {
    status: 200,
    kind: 'warning',
    title:
      'A namespace the hub does not know, named in the message; classes and properties under it whose local name is a CIM name the import reads were read by that name (listed), the rest kept and not used.',
  },
  'CIM-VENDOR-VARIANT': {
    status: 200,
    kind: 'warning',
    title:
      'A class or property spelled as some tools write it (PhotovoltaicUnit, Equipment.UsagePoint, Terminal.sequenceNumber) was read as the standard name.',
  },
  'CIM-CLASS-NOT-USED': {
    status: 200,
    kind: 'warning',
    title: 'Objects of a class the import reads, from none of which anything was taken (the report’s `used` leaves the class out).',
  },
  'CIM-MODEL-PARTIAL': {
    status: 200,
    kind: 'warning',
    title:
      'The files only add properties to objects that no file of the import defines (an SSH without its EQ, for example); nothing is read from those objects. Send the defining files with them.',
  },
  'CIM-ORGANISATION-NOT-FOUND': {
    status: 200,
    kind: 'warning',
    title: 'An Organisation of the file matches no registered organisation by its identifiers (EIC, Companies House); see `organisations`.',
  },
  'CIM-ALIAS-CONFLICT': {
    status: 200,
    kind: 'warning',
    title: 'Enrich: a name of the file (an ECR reference) is already another live asset’s alias in the same register; it was not added.',
  },
  'CIM-MPAN-CONFLICT': {
    status: 200,
    kind: 'warning',
    title:
      'Enrich: an MPAN the file gives a matched asset that lacks it is already another live asset’s (or given to another asset of the same import); it was not added.',
  },
  'CIM-MPAN-DIFFERS': {
    status: 200,
    kind: 'warning',
    title:
      'Enrich: the file gives a matched asset an MPAN where the asset already has another in that direction (or, without a direction, where it has both or neither); the register’s MPANs are kept.',
  },
  'CIM-MPAN-NOT-FOUND': {
    status: 200,
    kind: 'warning',
    title: 'Enrich: no asset visible to the caller has this equipment’s MPAN; nothing was recorded for it.',
  },
  'CIM-EQUIPMENT-NO-MPAN': {
    status: 200,
    kind: 'warning',
    title: 'Enrich: the equipment has no MPAN (Name of NameType MPAN), so it matches no asset.',
  },
  'CIM-LIMIT-UNREADABLE': {
    status: 200,
    kind: 'warning',
    title:
      'Enrich: an OperationalLimitSet with active power limits on the equipment or its terminal is not a connection limit the register can read (no MPAN, a limit of no direction, a value that is not a number, a band without its times); it was not recorded. See `limits`.',
  },
  'CIM-LIMIT-CONFLICT': {
    status: 200,
    kind: 'warning',
    title:
      'Enrich: two OperationalLimitSets of the file give one connection point different limits from the same instant; neither was recorded. See `limits`.',
  },
  // CIM import jobs (background imports, docs/cim-profile.md)
  'CIM-JOB-NOT-FOUND': { status: 404, title: 'No import job with this ID is visible to the caller.' },
  'CIM-JOB-NOT-FINISHED': { status: 409, title: 'The import job has not finished; its report is written when it does.' },
  'CIM-JOB-ABANDONED': {
    status: 500,
    title: 'The import job stopped without finishing in every attempt (worker stopped or lost its lease); nothing was written.',
  },
  'CIM-IMPORT-MEMORY': {
    status: 413,
    title:
      'Parsing the model needs more memory than the hub allows a parse (FMAR_PARSER_MAX_MEMORY_MB); nothing was written. Send a smaller model, or ask the operator to raise the limit.',
  },

  // OpenADR: VTN records, VEN registrations, resolution, the 3.1 endpoints (docs/openadr.md)
  'OPENADR-VTN-NOT-FOUND': { status: 404, title: 'No VTN record with this ID (or code, vtnID, base URL) is visible to the caller.' },
  'OPENADR-VEN-NOT-FOUND': { status: 404, title: 'No live VEN registration matches, or none the caller may see.' },
  'OPENADR-RESOURCE-NOT-FOUND': { status: 404, title: 'No OpenADR resource with this ID is visible to the caller.' },
  'OPENADR-PROTOCOL-UNKNOWN': { status: 422, title: 'Protocol is 2.0b, 3.0 or 3.1.' },
  'OPENADR-VTN-CODE-FORMAT': { status: 422, title: 'A VTN namespace code is 2–8 characters of A–Z and 0–9 (e.g. SPEN).' },
  'OPENADR-VTN-CODE-TAKEN': { status: 409, title: 'Another VTN record uses this namespace code.' },
  'OPENADR-VTN-REFERENCE': {
    status: 422,
    title:
      'A 2.0b VTN needs its vtnID (1–128 visible ASCII characters, no spaces); a 3.x VTN has no vtnID and needs its base URL (https; http only for localhost).',
  },
  'OPENADR-VTN-DUPLICATE': { status: 409, title: 'Another VTN record has this vtnID or base URL.' },
  'OPENADR-VTN-UNKNOWN': {
    status: 422,
    title: 'The VTN named is not an active VTN record of the register (name it by its ID or namespace code).',
  },
  'OPENADR-VEN-ID-FORMAT': {
    status: 422,
    title:
      'A VEN ID on a 3.x VTN is an OpenADR object ID (`^[a-zA-Z0-9_-]*$`, 1–128 characters); on a 2.0b VTN 1–128 visible ASCII characters without spaces.',
  },
  'OPENADR-VEN-ID-TAKEN': { status: 409, title: 'This VEN ID is already registered (live) on this VTN.' },
  'OPENADR-VEN-NAME-FORMAT': { status: 422, title: 'venName: 1–128 characters, no control characters.' },
  'OPENADR-VEN-NAME-TAKEN': {
    status: 409,
    title: 'Another live registration on this VTN has this venName (OpenADR: a venName is unique within a VTN).',
  },
  'OPENADR-CLIENT-ID-FORMAT': {
    status: 422,
    title: 'clientID: 1–128 characters without control characters, on OpenADR 3.x registrations only (2.0b has none).',
  },
  'OPENADR-REGISTRATION-ID': {
    status: 422,
    title: 'A 2.0b registration carries the VTN’s registrationID (1–128 visible ASCII characters); a 3.x registration has none.',
  },
  'OPENADR-TARGET-FORMAT': { status: 422, title: 'Targets: at most 50, each 1–128 characters.' },
  'OPENADR-ATTRIBUTE-RESERVED': {
    status: 422,
    title:
      'Attributes of the register’s own types (VTN, VEN_ID, OADR_PROTOCOL, FMAR_ORGANISATION_ID, REGISTRATION_STATUS, REGISTRATION_ID) are derived: a new ven names its VTN and VEN_ID with them; they cannot be changed.',
  },
  'OPENADR-VALIDITY': { status: 422, title: 'validTo must be after validFrom.' },
  'OPENADR-ORGANISATION-REQUIRED': {
    status: 422,
    title:
      'The operator and dispatch platforms name the organisation the VEN belongs to (organisationId, or FMAR_ORGANISATION_ID in OpenADR 3.1).',
  },
  'OPENADR-REGISTRATION-CANCELLED': { status: 409, title: 'The VEN registration is cancelled; it is kept, read-only.' },
  'OPENADR-RESOLVE-QUERY': {
    status: 400,
    title: 'A resolution names the VTN (vtn, vtnId or vtnUrl; or a VEN ID of the form CODE-<uuid>) and one of venId or venName.',
  },
  'OPENADR-QUERY-SKIP': { status: 400, title: 'skip is a whole number from 0 to 100,000.' },
  'OPENADR-QUERY-LIMIT': { status: 400, title: 'limit is a whole number from 0 to 50 (OpenADR 3.1).' },
  'OPENADR-VEN-ROLE-FORBIDDEN': {
    status: 403,
    title:
      'A VEN client writes only VEN_VEN_REQUEST and VEN_RESOURCE_REQUEST bodies for its own ven (venName, resourceName, attributes): not targets or clientID, not another client’s objects.',
  },
  'OPENADR-RESOURCE-ASSET': {
    status: 422,
    title:
      'A resource names a live asset controlled by its ven’s organisation: by an FMAR_ASSET_ID attribute, else an MPAN attribute (an import or export MPAN core), else resourceName = the asset ID.',
  },
  'OPENADR-RESOURCE-ASSET-BOUND': {
    status: 409,
    title: 'The asset is already a resource of a ven on this VTN (an asset is bound to at most one VEN per VTN).',
  },
  'OPENADR-RESOURCE-NAME-TAKEN': { status: 409, title: 'Another resource of this ven has this resourceName (unique per ven).' },
  'OPENADR-RESOURCE-ATTRIBUTE-RESERVED': {
    status: 422,
    title:
      'The register’s resource attributes (DESCRIPTION, MAX_POWER_EXPORT, MAX_POWER_CONSUMPTION, LOCATION, FMAR_ASSET_ID, MPAN, DNO, GSP_GROUP) and DNO:/GSP_GROUP: targets come from the asset: they may be sent only with the values the asset shows.',
  },
  'OPENADR-RESOURCE-VEN-FIXED': {
    status: 422,
    title:
      'A resource belongs to its ven: venID and clientID are the ven’s. To move a resource, delete it and create it under the other ven.',
  },
  'OPENADR-RESOURCE-IMPLICIT': {
    status: 409,
    title:
      'The ven has no explicit resources, so its resources are all the assets its organisation controls: bind the asset with POST /resources before changing or deleting it.',
  },
  'OPENADR-RESOURCE-PROTOCOL': { status: 422, title: 'Resources are bound to OpenADR 3.x vens only.' },
  'OPENADR-TOKEN-ENDPOINT': {
    status: 501,
    title: 'This deployment has no token endpoint here; use the tokenURL that GET /auth/server names.',
  },
  'OPENADR-EXPORT-PROTOCOL': { status: 409, title: 'Only OpenADR 2.0b registrations export as an oadrCreatedPartyRegistration.' },
  'OPENADR-XML-MALFORMED': { status: 400, title: 'The 2.0b document is not well-formed UTF-8 XML.' },
  'OPENADR-XML-DOCTYPE': { status: 400, title: 'DOCTYPE and entity declarations are refused: no entity expansion, no external entities.' },
  'OPENADR-XML-TOO-LARGE': { status: 413, title: 'The 2.0b document is larger than 256 KiB.' },
  'OPENADR-XML-TOO-DEEP': { status: 400, title: 'The 2.0b document nests elements deeper than 16 levels.' },
  'OPENADR-XML-NOT-REGISTRATION': {
    status: 422,
    title:
      'The document is not an oadrCreatedPartyRegistration or oadrCreatePartyRegistration in the OpenADR 2.0b namespace (http://openadr.org/oadr-2.0b/2012/07).',
  },
  'OPENADR-XML-FIELD': {
    status: 422,
    title:
      'The 2.0b document lacks a field the register needs (registrationID, venID, vtnID, eiResponse, requestID, profiles) or holds a value the 2.0b schema does not allow (responseCode, oadrProfileName, oadrTransportName).',
  },
  'OPENADR-XML-REFUSED': {
    status: 422,
    title: 'The oadrCreatedPartyRegistration carries a non-2xx responseCode: the VTN refused the registration, so nothing is recorded.',
  },
  'OPENADR-EXPORT-NOT-ISSUED': {
    status: 409,
    title:
      'Only a registration recorded from its VTN’s oadrCreatedPartyRegistration exports: the register never invents a response code, requestID or profile.',
  },
  'OPENADR-CONFIRMATION-STATE': {
    status: 409,
    title: 'Only an UNCONFIRMED registration can be confirmed, and an UNCONFIRMED or CONFIRMED one rejected.',
  },
  'OPENADR-NOT-SERVED': {
    status: 403,
    title:
      'The register does not serve OpenADR programs, events, reports or subscriptions: write them at the VTN (its base URL is in the VTN record).',
  },
  'OPENADR-OBJECT-NOT-FOUND': { status: 404, title: 'The register holds no OpenADR programs, events, reports or subscriptions.' },
  'OPENADR-MQTT-NOT-SERVED': { status: 404, title: 'The register offers no MQTT notifier binding (GET /notifiers).' },
  'OPENADR-REJECTION-REASON': { status: 422, title: 'A rejection gives its reason (reason, 1–500 characters).' },

  // Webhooks: subscriptions, deliveries, replay (docs/events.md)
  'WEBHOOK-NOT-FOUND': { status: 404, title: 'No webhook subscription with this ID is visible to the caller.' },
  'WEBHOOK-URL-INVALID': {
    status: 422,
    title: 'The webhook URL must be absolute, at most 2,000 characters, without credentials or fragment.',
  },
  'WEBHOOK-URL-SCHEME': {
    status: 422,
    title: 'The webhook URL must be https; http only for localhost, 127.0.0.1 or [::1] in development.',
  },
  'WEBHOOK-URL-PRIVATE': {
    status: 422,
    title:
      'In production the webhook URL must not name a loopback, private, link-local or otherwise non-public IP address, or a local name (localhost, *.local, *.internal, a name without a dot).',
  },
  'WEBHOOK-EVENT-TYPE': {
    status: 422,
    title: 'An event-type filter is an exact type (fmar.switch.effective), a prefix ending in .* (fmar.asset.*) or * (every type).',
  },
  'WEBHOOK-ALL-EVENTS': {
    status: 422,
    title:
      'allEvents is for organisations whose roles see every event (operator, regulator, System Operators, IMPs); others receive the events they are a recipient of.',
  },
  'WEBHOOK-LIMIT': { status: 409, title: 'An organisation has at most 20 webhook subscriptions.' },
  'WEBHOOK-ROTATION-OPEN': {
    status: 409,
    title:
      'The previous secret still signs for 24 h after the last rotation; rotate again after that, or with revokePrevious to end it now.',
  },
  'WEBHOOK-DELIVERY-NOT-FOUND': { status: 404, title: 'The subscription has no delivery of this event.' },
  'WEBHOOK-DELIVERY-PENDING': {
    status: 409,
    title: 'The delivery is pending (already scheduled); only delivered ones and dead letters are replayed.',
  },
  'WEBHOOK-TEST-DISABLED': {
    status: 409,
    title: 'A disabled subscription receives nothing, a test event included: enable it first.',
  },

  // Catalogues: the code lists as data (UC-05.07, docs/catalogues.md)
  'CATALOGUE-NOT-FOUND': { status: 404, title: 'No catalogue with this name; GET /api/v1/catalogues lists them.' },
  'CATALOGUE-CODE-NOT-FOUND': { status: 404, title: 'The catalogue has no such code.' },
  'CATALOGUE-CODE-EXISTS': {
    status: 409,
    title: 'The code is already in the catalogue; codes are never deleted, so reactivate it instead.',
  },
  'CATALOGUE-NOT-EXTENSIBLE': {
    status: 409,
    title: 'Only extensible catalogues take new codes; this one is fixed because code stands behind each of its codes.',
  },
  'CATALOGUE-READ-ONLY': {
    status: 409,
    title: 'The catalogue is read-only: code depends on each of its codes (roles, statuses, alias schemes).',
  },
  'CATALOGUE-CODE-FORMAT': {
    status: 422,
    title:
      'The code does not match the catalogue’s code pattern (upper-case letters, digits and _, 2–40 characters, starting with a letter).',
  },
  'CATALOGUE-LABEL-FORMAT': { status: 422, title: 'Label: 1–200 characters; description: at most 1000.' },
  'CATALOGUE-DATE-FORMAT': { status: 422, title: 'Dates are calendar dates, YYYY-MM-DD.' },
  'CATALOGUE-EFFECTIVE-DATES': {
    status: 422,
    title: 'effectiveTo (the first day the code no longer applies) must be after effectiveFrom.',
  },
  'CATALOGUE-ATTRIBUTES': {
    status: 422,
    title:
      'The attributes do not fit the catalogue: an asset category needs a kind (generating, demand, storage, other) and its defaults must be active codes; a connection status may say connected; other catalogues take none.',
  },
  'CATALOGUE-CHANGE-EMPTY': {
    status: 422,
    title: 'The update changes nothing: give label, description, active, effectiveFrom or effectiveTo.',
  },

  // Public analytics (docs/analytics.md): the query, and why a cell is suppressed
  'ANALYTICS-BY-INVALID': {
    status: 400,
    title: '`by` lists dimensions from dno, gspGroup, category and status, comma-separated, each once.',
  },
  'ANALYTICS-CELL-TOO-FEW-ASSETS': {
    status: 200,
    kind: 'warning',
    title: 'Suppressed: the cell holds fewer than FMAR_ANALYTICS_MIN_ASSETS (default 10) registered assets.',
  },
  'ANALYTICS-CELL-DOMINANT': {
    status: 200,
    kind: 'warning',
    title:
      'Suppressed: one controlling FSP holds more than FMAR_ANALYTICS_DOMINANCE (default 0.8) of the cell’s rated, generation or demand capacity.',
  },
  'ANALYTICS-CELL-SECONDARY': {
    status: 200,
    kind: 'warning',
    title: 'Suppressed so that another suppressed cell cannot be derived by subtracting from a published total (secondary suppression).',
  },
  'ANALYTICS-DATE-INVALID': { status: 400, title: '`date` is a calendar date, YYYY-MM-DD (UTC).' },
  'ANALYTICS-SNAPSHOT-NOT-FOUND': {
    status: 404,
    title:
      'No capacity snapshot of that day: one is taken per UTC day at its first request; GET /public/analytics/snapshots lists the days.',
  },

  // Products, qualification and equivalences (UC-04.01 to UC-04.03, docs/products.md)
  'PRODUCT-NOT-FOUND': { status: 404, title: 'No product with this ID in the catalogue.' },
  'PRODUCT-ID-FORMAT': {
    status: 422,
    title:
      'Product ID: NESO- or DSO- then upper-case words of A–Z and 0–9 joined by single hyphens, at most 32 characters (e.g. NESO-DFS, DSO-SUSTAIN-PEAK).',
  },
  'PRODUCT-ID-MARKET': { status: 422, title: 'The product ID starts with its market: NESO- for a NESO product, DSO- for a DSO product.' },
  'PRODUCT-ID-TAKEN': {
    status: 409,
    title: 'A product with this ID is already in the catalogue (product IDs are never reused, even retired ones).',
  },
  'PRODUCT-NAME-FORMAT': { status: 422, title: 'Name: 1–255 characters.' },
  'PRODUCT-MARKET-UNKNOWN': { status: 422, title: 'Market is NESO or DSO.' },
  'PRODUCT-SERVICE-TYPE-UNKNOWN': {
    status: 422,
    title: 'Service type is one of FREQUENCY_RESPONSE, RESERVE, CONSTRAINT_MANAGEMENT, DEMAND_FLEXIBILITY, VOLTAGE, RESTORATION, OTHER.',
  },
  'PRODUCT-STATUS-UNKNOWN': { status: 422, title: 'Status is ACTIVE or INACTIVE (retired).' },
  'PRODUCT-PERIOD': { status: 422, title: 'validFrom and validTo are RFC 3339 date-times with an offset, and validTo is after validFrom.' },
  'PRODUCT-OWNER-INVALID': {
    status: 422,
    title: 'The owner must be an active organisation with the SYSTEM_OPERATOR role (a DNO acting as DSO holds that role too).',
  },
  'QUALIFICATION-OUTCOME-UNKNOWN': { status: 422, title: 'Outcome is QUALIFIED or FAILED.' },
  'QUALIFICATION-PERIOD': {
    status: 422,
    title: 'validFrom and validTo are RFC 3339 date-times with an offset, and validTo is after validFrom.',
  },
  'QUALIFICATION-PRODUCT-UNKNOWN': { status: 422, title: 'The product is not an active product of the catalogue.' },
  'QUALIFICATION-PRODUCT-UNOWNED': {
    status: 409,
    title:
      'The product has no owning System Operator recorded yet, so nobody may record its qualifications; the operator records the owner first.',
  },
  'QUALIFICATION-NOT-PRODUCT-OWNER': {
    status: 403,
    title: 'Only the product’s owning System Operator records qualifications for it; `ownerOrganisationId` names it.',
  },
  'EQUIVALENCE-NOT-FOUND': { status: 404, title: 'No equivalence with this ID.' },
  'EQUIVALENCE-SELF': { status: 422, title: 'An equivalence relates two different products.' },
  'EQUIVALENCE-PRODUCT-UNKNOWN': { status: 422, title: 'Both products must be in the catalogue.' },
  'EQUIVALENCE-KIND-UNKNOWN': {
    status: 422,
    title: 'Kind is EQUIVALENT (either way) or SUBSTITUTABLE (a unit qualified for productA may offer productB).',
  },
  'EQUIVALENCE-EXISTS': {
    status: 409,
    title: 'An active equivalence between these two products already exists (either way round); `equivalenceId` names it.',
  },
  'EQUIVALENCE-WITHDRAWN': { status: 409, title: 'The equivalence is already withdrawn.' },

  // Disputes and corrections (UC-05.03, docs/disputes.md)
  'DISPUTE-NOT-FOUND': { status: 404, title: 'No dispute with this ID is visible to the caller (for this action).' },
  'DISPUTE-RECORD-TYPE-UNKNOWN': { status: 422, title: 'recordType is asset, organisation or market_unit.' },
  'DISPUTE-FIELDS-EMPTY': { status: 422, title: 'A dispute names 1–20 field paths of the record.' },
  'DISPUTE-FIELD-UNKNOWN': {
    status: 422,
    title:
      'A field path starts with a field of the record’s resource (docs/disputes.md lists them) and has at most 5 dotted segments of letters and digits.',
  },
  'DISPUTE-CLAIM-FORMAT': { status: 422, title: 'The claim says what is wrong in 1–2,000 characters.' },
  'DISPUTE-PROPOSED-FIELD': {
    status: 422,
    title: 'A proposed value is keyed by one of the fields in dispute; at most 8 KB of JSON in all.',
  },
  'DISPUTE-EVIDENCE-SOURCE': { status: 422, title: 'Each evidence item has exactly one of `url` and `document`.' },
  'DISPUTE-EVIDENCE-DESCRIPTION': { status: 422, title: 'Each evidence item has a description of 1–500 characters.' },
  'DISPUTE-EVIDENCE-URL': {
    status: 422,
    title: 'An evidence URL is an absolute https URL of at most 2,048 characters, without user name or password.',
  },
  'DISPUTE-EVIDENCE-DIGEST': { status: 422, title: 'An evidence document carries its SHA-256 digest as 64 lower-case hex characters.' },
  'DISPUTE-EVIDENCE-MEDIA-TYPE': {
    status: 422,
    title: 'An evidence document carries its media type as type/subtype (RFC 6838), e.g. application/pdf.',
  },
  'DISPUTE-EVIDENCE-SIZE': {
    status: 422,
    title: 'An evidence document’s sizeBytes, when given, is 1 to 104,857,600 (100 MiB); its name at most 255 characters.',
  },
  'DISPUTE-EVIDENCE-TOO-MANY': { status: 422, title: 'At most 20 evidence items per request.' },
  'DISPUTE-EVIDENCE-LIMIT': { status: 409, title: 'A dispute holds at most 50 evidence items in all (with its comments).' },
  'DISPUTE-EVIDENCE-REQUIRED': {
    status: 422,
    title: 'A dispute is raised with evidence: send 1–20 items in `evidence` (a description and a url or document each).',
  },
  'DISPUTE-COMMENT-FORMAT': { status: 422, title: 'A comment is 1–4,000 characters.' },
  'DISPUTE-DUPLICATE': {
    status: 409,
    title: 'The organisation already has an open dispute on this record and these fields; `existingDisputeId` names it.',
  },
  'DISPUTE-TRANSITION-ILLEGAL': {
    status: 409,
    title:
      'The dispute’s status does not allow this: OPEN → UNDER_REVIEW → RESOLVED; WITHDRAWN from OPEN or UNDER_REVIEW; comments only while OPEN or UNDER_REVIEW.',
  },
  'DISPUTE-NOT-RAISER': { status: 403, title: 'Only the organisation that raised a dispute withdraws it.' },
  'DISPUTE-OUTCOME-UNKNOWN': { status: 422, title: 'outcome is CORRECTED or NO_ACTION_REQUIRED.' },
  'DISPUTE-CORRECTION-REQUIRED': {
    status: 422,
    title: 'Outcome CORRECTED needs a correction: the record version it applies to and the changes, in the record’s own update format.',
  },
  'DISPUTE-CORRECTION-UNEXPECTED': { status: 422, title: 'Outcome NO_ACTION_REQUIRED carries no correction.' },
  'DISPUTE-REASON-REQUIRED': { status: 422, title: 'Outcome NO_ACTION_REQUIRED needs a note (1–2,000 characters) saying why.' },

  // Data quality (docs/data-quality.md): maintaining rules, then the default rules' findings and advisories (warnings: they never refuse a write)
  'DQ-RULE-NOT-FOUND': { status: 404, title: 'No data quality rule with this code.' },
  'DQ-RULE-EXISTS': {
    status: 409,
    title: 'A data quality rule with this code already exists (codes are never reused; reactivate it instead).',
  },
  'DQ-RULE-SYNTAX': { status: 422, title: 'The rule definition does not parse; `position` (offset, line, column) says where.' },
  'DQ-RULE-FIELD-UNKNOWN': {
    status: 422,
    title: 'The rule definition names a field the rule language does not know; `position` says where.',
  },
  'DQ-RULE-FUNCTION-UNKNOWN': {
    status: 422,
    title: 'The rule definition calls a function other than required, daysSince or mpanDno; `position` says where.',
  },
  'DQ-RULE-TYPE': {
    status: 422,
    title: 'The rule definition compares values of different types (e.g. a number with text); `position` says where.',
  },
  'DQ-RULE-PATTERN-INVALID': {
    status: 422,
    title:
      'A `matches` pattern is not a valid regular expression, is over 200 characters, or nests repetition or back-references (which could run without end).',
  },
  'DQ-RULE-KIND-MISMATCH': {
    status: 422,
    title:
      'The definition does not fit the kind: external-check rules (and only they) name meterPoint.* or mcs.* facts; a staleness rule is exactly `daysSince(recordedAt|validatedAt|lastActivityAt) <= N`.',
  },
  'DQ-RULE-INACTIVE': { status: 409, title: 'The rule is already inactive.' },
  'DQ-SCORECARD-NOT-FOUND': { status: 404, title: 'No scorecard for this organisation or DNO is visible to the caller.' },
  'DQ-HISTORY-DATE-INVALID': { status: 422, title: 'A scorecard history `from` or `to` is not a calendar date (YYYY-MM-DD).' },
  'DQ-HISTORY-RANGE': {
    status: 422,
    title: 'A scorecard history `from` is after `to`, or the two are more than 366 days apart (both included).',
  },
  'DQ-VALIDATION-NOT-APPLICABLE': {
    status: 409,
    title: 'Only a registered asset that is Pending Validation, Verified or Query is validated.',
  },
  'DQ-SERIAL-REQUIRED': {
    status: 200,
    kind: 'warning',
    title: 'A device serial number is recorded (needed to tell a duplicate from a second device).',
  },
  'DQ-DEVICE-IDENTITY': { status: 200, kind: 'warning', title: 'Manufacturer and model are recorded.' },
  'DQ-POSTCODE-PRESENT': { status: 200, kind: 'warning', title: 'The location has a postcode.' },
  'DQ-SERIAL-FORMAT': {
    status: 200,
    kind: 'warning',
    title: 'A serial number is at least four letters, digits or dashes, starting with a letter or digit.',
  },
  'DQ-EV-CAPACITY-RANGE': { status: 200, kind: 'warning', title: 'An EV charger is rated between 1.4 kW and 350 kW.' },
  'DQ-CONNECTION-TYPE-KNOWN': { status: 200, kind: 'warning', title: 'The connection type is recorded for a connected asset.' },
  'DQ-CAPACITY-WITHIN-RATED': { status: 200, kind: 'warning', title: 'Generation and demand capacities do not exceed the rated capacity.' },
  'DQ-COMMISSIONED-BEFORE-EFFECTIVE': {
    status: 200,
    kind: 'warning',
    title: 'The commissioning date is on or before the effective date, and not in the future.',
  },
  'DQ-BESS-EXPORT-MPAN': { status: 200, kind: 'warning', title: 'A battery that can export has an export MPAN.' },
  'DQ-MPAN-DNO-MATCH': { status: 200, kind: 'warning', title: 'The DNO of each MPAN’s distributor ID is the declared DNO.' },
  'DQ-STALE-RECORD': { status: 200, kind: 'warning', title: 'The record was changed or validated within the last 365 days.' },
  'DQ-MPAN-REGISTERED': { status: 200, kind: 'warning', title: 'The meter point registry knows the MPAN.' },
  'DQ-MPAN-DISTRIBUTOR-REGISTRY': {
    status: 200,
    kind: 'warning',
    title: 'The meter point registry’s distributor for the MPAN is the declared DNO.',
  },
  'DQ-MPAN-GSP-GROUP': { status: 200, kind: 'warning', title: 'The meter point registry’s GSP group is the one in the location.' },
  'DQ-MPAN-ENERGISED': { status: 200, kind: 'warning', title: 'The meter point is energised when the asset says it is connected.' },
  'DQ-MCS-CERTIFICATE': { status: 200, kind: 'warning', title: 'An MCS certificate exists for the serial number and category.' },
  'DQ-EXTERNAL-UNAVAILABLE': {
    status: 200,
    kind: 'warning',
    title: 'Every external registry answered the last validation (failing closed: an unanswered check is not a pass).',
  },
  'DQ-CONSENT-REFERENCE': {
    status: 200,
    kind: 'warning',
    title: 'The consumer’s consent is recorded (a consentReference verified at registration or in an update).',
  },
  'DQ-UNIT-CONNECTION-LIMIT': {
    status: 200,
    kind: 'warning',
    title:
      'The members of a market unit at one connection (MPAN) have a summed capacity within that connection’s limit (export; import for demand).',
  },

  // Connection limits (UC-02.05, docs/connection-limits.md)
  'CONNECTION-LIMIT-NOT-FOUND': { status: 404, title: 'No connection limit with this ID that the caller may read.' },
  'CONNECTION-LIMIT-MPAN-FORMAT': { status: 422, title: 'The MPAN is a 13-digit MPAN core.' },
  'CONNECTION-LIMIT-MPAN-CHECKDIGIT': { status: 422, title: 'The MPAN core’s check digit is wrong.' },
  'CONNECTION-LIMIT-MPAN-DISTRIBUTOR': { status: 422, title: 'The MPAN core’s distributor ID (first two digits) is not 10–36.' },
  'CONNECTION-LIMIT-NOT-NETWORK': {
    status: 403,
    title:
      'The MPAN is not on the caller’s network: its distributor ID names a DNO code outside the organisation’s dnoCodes, and no registered asset at that MPAN has a dno in them.',
  },
  'CONNECTION-LIMIT-KW': { status: 422, title: 'A limit in kW is a number from 0 to 9,999,999,999.99 with at most 2 decimals.' },
  'CONNECTION-LIMIT-REQUIRED': { status: 422, title: 'A connection limit has an import limit, an export limit or both.' },
  'CONNECTION-LIMIT-FIRMNESS-UNKNOWN': { status: 422, title: 'Firmness is FIRM, NON_FIRM, TIMED or DYNAMIC.' },
  'CONNECTION-LIMIT-PERIOD': {
    status: 422,
    title: 'validFrom and validTo are RFC 3339 date-times with an offset, and validTo is after validFrom.',
  },
  'CONNECTION-LIMIT-PROFILE': {
    status: 422,
    title: 'A TIMED limit has a profile (its time bands), and only a TIMED limit has one.',
  },
  'CONNECTION-LIMIT-PROFILE-BAND': {
    status: 422,
    title:
      'A band runs from a time to a later time of the day (HH:MM, 24:00 for the end of the day) on the days it names, has an import or export limit (each within the connection’s own), and overlaps no other band on a common day.',
  },
  'CONNECTION-LIMIT-SCHEME': {
    status: 422,
    title:
      'A NON_FIRM or DYNAMIC limit names the DNO’s flexible connection scheme (schemeReference, e.g. an ANM zone); FIRM and TIMED limits name none.',
  },
  'CONNECTION-LIMIT-OVERLAP': {
    status: 409,
    title: 'Another limit in force at this MPAN overlaps the period (`connectionLimitId` names it): end or withdraw it first.',
  },
  'CONNECTION-LIMIT-WITHDRAWN': { status: 409, title: 'The connection limit is withdrawn: it is kept as it was and changes no more.' },

  // Data shares (UC-05.01, docs/sharing.md)
  'DATA-SHARE-NOT-FOUND': {
    status: 404,
    title: 'No data share with this ID that the caller is a party to (or, to pull, that names the caller as its platform).',
  },
  'DATA-SHARE-RECIPIENT-INVALID': {
    status: 422,
    title: 'The recipient is another active organisation with the role SYSTEM_OPERATOR or INDEPENDENT_MARKET_PLATFORM.',
  },
  'DATA-SHARE-ASSETS': {
    status: 422,
    title:
      'assets is NONE, ALL or LISTED; assetIds (1–10,000 asset IDs) goes with LISTED and only with it; ALL and LISTED need an organisation that holds assets (FSP, aggregator or asset owner).',
  },
  'DATA-SHARE-ASSET-UNKNOWN': { status: 422, title: 'A listed asset is not a live asset the granting organisation controls or owns now.' },
  'DATA-SHARE-PERIOD': {
    status: 422,
    title:
      'validFrom and validTo are RFC 3339 date-times with an offset; validTo is after validFrom and in the future, at most 366 days after validFrom (or now, if later).',
  },
  'DATA-SHARE-PURPOSE': { status: 422, title: 'The purpose is 1–500 characters.' },
  'DATA-SHARE-OVERLAP': {
    status: 409,
    title:
      'A share between these two organisations already covers part of the period (`dataShareId` names it): change that one, or revoke it first.',
  },
  'DATA-SHARE-REVOKED': { status: 409, title: 'The data share is revoked: it is kept as it was and changes no more.' },
  'DATA-SHARE-ENDED': { status: 409, title: 'The data share has ended: it is kept as it was; grant a new one.' },
  'DATA-SHARE-NOT-LIVE': {
    status: 403,
    title: 'The data share is not live: it has not started, has ended or is revoked (`state` says which); nothing is served through it.',
  },
  'DATA-SHARE-OWNER-INACTIVE': {
    status: 403,
    title: 'The organisation that granted the share is not active (suspended or de-registered): nothing is served.',
  },
  'DATA-SHARE-ASSET-NOT-SHARED': {
    status: 404,
    title: 'The asset is not one this share covers now (not shared, removed from it, or no longer held by the granting organisation).',
  },
} as const satisfies Record<string, Rule>;

export type RuleCode = keyof typeof RULES;

export function isRuleCode(code: string): code is RuleCode {
  return Object.prototype.hasOwnProperty.call(RULES, code);
}
