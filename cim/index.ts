/** The CIM library's public face. It imports nothing from src/. */
export { CIM100, FMAR_EXT, MD, NAMESPACES, RDF, canonicalName, namespaceOf } from './namespaces';
export { derivedMrid, isUuidShaped, mridToUlid, normaliseId, ulidToMrid } from './mrid';
export {
  CATEGORY_PROFILE,
  CLASS_SPELLINGS,
  EXPORT_SHAPES,
  FIELD_PROFILE,
  JSONLD_TERMS,
  NETWORK_REFERENCES,
  OBJECT_PROFILE,
  PROFILE_URI,
  UNIT_FACTORS,
  jsonLdContext,
  profileMarkdown,
  shapeProperties,
  type CategoryProfile,
  type ClassShape,
  type ShapeProperty,
  type PowerUnit,
  type ProfileCategory,
} from './profile';
export { profileShapes } from './shapes';
export {
  CimWriter,
  MAX_DESCRIPTION,
  MAX_NAME,
  MRID_ALIAS_SCHEME,
  NAME_SCHEMES,
  EXPORT_NAME_TYPES,
  dsoEquipmentId,
  equipmentMrid,
  networkMrid,
  usagePointMrid,
  identifiedObjectProblems,
  legacyOrganisationMrid,
  organisationMrid,
  type CimAssetInput,
  type CimHeader,
  type CimMarketUnitInput,
  type CimNetworkInput,
  type CimOrganisationInput,
  type CimSharing,
  type NetworkClass,
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
  type CimIssue,
  type CimIssueCode,
  type CimObject,
  type CimRef,
  type ParseLimits,
  type SourceLocation,
} from './parser';
export { USED_CLASSES, classCounts, inverseIndex, mergeDocuments, parseCimModel, prop, refs, unitLinks, type CimModel } from './model';
export { extractAssets, type ExtractedAsset, type ExtractOptions } from './extract';
export { decodeXml, depthExceededAt, escapeText } from './xml';
export { digestCimFiles, type CimFileInput, type DigestOptions, type ParsedModel } from './digest';
