/** The CIM library's public face. It imports nothing from src/. */
export {
  CIM100,
  CIM_CLASSES_READ,
  DCAT,
  EXCH,
  FMAR_EXT,
  MD,
  NAMESPACES,
  PROPERTY_VARIANTS,
  RDF,
  canonicalName,
  namespaceOf,
} from './namespaces';
export { derivedMrid, isUuidShaped, mridToUlid, normaliseId, ulidToMrid } from './mrid';
export {
  CATEGORY_PROFILE,
  CLASS_SPELLINGS,
  FIELD_PROFILE,
  JSONLD_TERMS,
  NETWORK_REFERENCES,
  OBJECT_PROFILE,
  PROFILE_URI,
  UNIT_FACTORS,
  jsonLdContext,
  profileMarkdown,
  type CategoryProfile,
  type PowerUnit,
  type ProfileCategory,
} from './profile';
export {
  CimWriter,
  MAX_DESCRIPTION,
  MAX_NAME,
  MRID_ALIAS_SCHEME,
  NAME_SCHEMES,
  equipmentMrid,
  identifiedObjectProblems,
  organisationMrid,
  type CimAssetInput,
  type CimHeader,
  type CimMarketUnitInput,
  type CimOrganisationInput,
} from './writer';
export {
  CIM_FATAL_CODES,
  CIM_ISSUE_CODES,
  CimParseError,
  DEFAULT_LIMITS,
  parseCimXml,
  type CimDocument,
  type CimFatalCode,
  type CimHeaderInfo,
  type CimHeaderKind,
  type CimIssue,
  type CimIssueCode,
  type CimObject,
  type CimRef,
  type ParseLimits,
  type SourceLocation,
} from './parser';
export {
  USED_CLASSES,
  classCounts,
  describedOnly,
  inverseIndex,
  mergeDocuments,
  parseCimModel,
  prop,
  refs,
  refsAny,
  unitLinks,
  type CimModel,
} from './model';
export { NAME_TYPES, nameTypeOf } from './names';
export {
  extractAssets,
  extractOrganisations,
  mridOf,
  namesIndex,
  type ExtractedAsset,
  type ExtractedOrganisation,
  type ExtractOptions,
} from './extract';
export { decodeXml, depthExceededAt, escapeText } from './xml';
export { digestCimFiles, usedCounts, type CimFileInput, type DigestOptions, type ParsedModel } from './digest';
