/**
 * The roles an organisation can hold (the FMAR domain reference). The permission matrix
 * (src/access/permissions.ts) is keyed by them; the catalogue seeds its `organisation-roles` list
 * from them (src/catalogue/snapshot.ts).
 */
export const ORGANISATION_ROLES = [
  'FSP',
  'AGGREGATOR',
  'ASSET_OWNER',
  'SUPPLIER',
  'DNO',
  'TRANSMISSION_OPERATOR',
  'IDNO',
  'TECHNOLOGY_PROVIDER',
  'INSTALLER',
  'INDEPENDENT_MARKET_PLATFORM',
  'SYSTEM_OPERATOR',
  'MARKET_FACILITATOR',
  'REGULATOR',
  'OTHER',
] as const;
export type OrganisationRole = (typeof ORGANISATION_ROLES)[number];
