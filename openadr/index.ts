/**
 * The OpenADR library's public face: identifier rules per protocol, the OpenADR 3.1 wire shapes and
 * the mapping to them, list query parameters, and 2.0b oadrCreatedPartyRegistration import/export.
 * It imports nothing from src/ (the register composes it: src/openadr/).
 */
export {
  MAX_TEXT,
  OADR2B_ID_RE,
  OBJECT_ID_RE,
  PROTOCOLS,
  VTN_CODE_RE,
  is3x,
  isOadrText,
  isProtocol,
  isVenId,
  isVtnBaseUrl,
  namespaceOf,
  normaliseBaseUrl,
  type Protocol,
} from './ids';
export {
  AuthServerInfo,
  BlResourceRequest,
  BlVenRequest,
  ObjectId,
  OadrProblem,
  RESOURCE_ATTRIBUTES,
  Resource,
  ResourceRequest,
  VEN_ATTRIBUTES,
  ValuesMap,
  Ven,
  VenRequest,
  VenResourceRequest,
  VenVenRequest,
  assetAttributes,
  assetTargets,
  parseResourceId,
  resourceId,
  toResource,
  toVen,
  type AssetFacts,
  type BindingFacts,
  type VenFacts,
} from './wire';
export { DEFAULT_LIMIT, EventQuery, MAX_LIMIT, MAX_SKIP, Paging, ResourceQuery, VenQuery, targetList } from './query';
export {
  EI_NS,
  OADR2B_LIMITS,
  OADR_NS,
  OADR2B_PROFILES,
  OADR2B_TRANSPORTS,
  Oadr2bError,
  PYLD_NS,
  RESPONSE_CODE_RE,
  XCAL_NS,
  isSuccessCode,
  parseCreatedPartyRegistration,
  parseRegistrationDocument,
  writeCreatedPartyRegistration,
  type CreatePartyRegistration,
  type CreatedPartyRegistration,
  type Oadr2bDocument,
  type Oadr2bErrorCode,
} from './oadr2b';

export { OADR_SCOPES, OADR_SCOPE_NAMES, isOadrScope, type OadrScope } from './scopes';

/** Where the register serves OpenADR 3.1 (relative to its base URL). */
export const OPENADR_BASE = '/openadr/3.1';
