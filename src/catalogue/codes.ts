/**
 * The code lists of the FMAR domain reference (Elexon draft data definitions, Sep–Nov 2025).
 * Active codes are accepted on new and changed records; inactive ones are kept so that old
 * records stay readable. The operator-maintained catalogue (UC-05.07) will hold these as data.
 */
export const ORGANISATION_TYPES = [
  'LTD',
  'PLC',
  'LLP',
  'PARTNERSHIP',
  'SOLE_TRADER',
  'CHARITY',
  'PUBLIC_AUTHORITY',
  'GOVERNMENT_DEPARTMENT',
  'NON_UK_COMPANY',
  'OTHER',
] as const;

export const ORGANISATION_STATUSES = ['PENDING_APPROVAL', 'ACTIVE', 'SUSPENDED', 'WITHDRAWN'] as const;

export const IDENTIFIER_SCHEMES = ['COMPANIES_HOUSE', 'VAT', 'EIC', 'GLN', 'LEI', 'MPID', 'OTHER'] as const;

export const ASSET_CATEGORIES = [
  'BESS',
  'SOLAR_PV',
  'WIND_TURBINE',
  'EV_CHARGER',
  'HEAT_PUMP',
  'ELECTRIC_BOILER',
  'HVAC',
  'REFRIGERATION',
  'INDUSTRIAL_LOAD',
  'CHP',
  'OTHER',
] as const;
export type AssetCategory = (typeof ASSET_CATEGORIES)[number];

/** Categories that export (need an energy source and an export MPAN). BESS is both. */
export const GENERATING_CATEGORIES: readonly AssetCategory[] = ['SOLAR_PV', 'WIND_TURBINE', 'CHP'];
/** Categories that consume (need a demand technology and an import MPAN). */
export const DEMAND_CATEGORIES: readonly AssetCategory[] = [
  'EV_CHARGER',
  'HEAT_PUMP',
  'ELECTRIC_BOILER',
  'HVAC',
  'REFRIGERATION',
  'INDUSTRIAL_LOAD',
];

export const ENERGY_SOURCES = [
  'SOLAR',
  'WIND',
  'HYDRO',
  'BIOMASS',
  'BIOGAS',
  'NATURAL_GAS',
  'DIESEL',
  'HYDROGEN',
  'GRID',
  'OTHER',
] as const;
export const DEMAND_TECHNOLOGIES = ['EV', 'HEAT_PUMP', 'HVAC', 'REFRIGERATION', 'ELECTRIC_BOILER', 'INDUSTRIAL_LOAD', 'OTHER'] as const;
/** How an asset meets the network (migration 033; Elexon's EnergyConversionType, which the draft leaves undefined: docs/decisions.md). */
export const ENERGY_CONVERSION_TYPES = ['INVERTER', 'SYNCHRONOUS_MACHINE', 'ASYNCHRONOUS_MACHINE', 'DIRECT_LOAD', 'OTHER'] as const;

/** Demand technology implied by a category, used as the default when none is given. */
export const DEFAULT_DEMAND_TECHNOLOGY: Partial<Record<AssetCategory, (typeof DEMAND_TECHNOLOGIES)[number]>> = {
  EV_CHARGER: 'EV',
  HEAT_PUMP: 'HEAT_PUMP',
  ELECTRIC_BOILER: 'ELECTRIC_BOILER',
  HVAC: 'HVAC',
  REFRIGERATION: 'REFRIGERATION',
  INDUSTRIAL_LOAD: 'INDUSTRIAL_LOAD',
};
/** Energy source implied by a category, used as the default when none is given. */
export const DEFAULT_ENERGY_SOURCE: Partial<Record<AssetCategory, (typeof ENERGY_SOURCES)[number]>> = {
  BESS: 'GRID',
  SOLAR_PV: 'SOLAR',
  WIND_TURBINE: 'WIND',
};

export const CONNECTION_STATUSES = {
  active: ['CONNECTED', 'PENDING', 'DISCONNECTED'],
  inactive: ['DE_ENERGISED', 'COMMISSIONING', 'SUSPENDED', 'DECOMMISSIONED'],
} as const;
export const CONNECTION_TYPES = { active: ['FIRM', 'NON_FIRM', 'DYNAMIC'], inactive: ['TIMED', 'EXPORT_ONLY', 'IMPORT_ONLY'] } as const;

export const ASSET_STATUSES = ['PENDING_VALIDATION', 'VERIFIED', 'QUERY', 'SUSPENDED_CONSENT_REVOKED', 'DEREGISTERED'] as const;

/** MPAN distributor IDs 10–23 and their DNO licence areas (fmar-domain.md). */
export const DISTRIBUTOR_DNO: Record<string, string> = {
  '10': 'UKPN_EPN',
  '11': 'NGED_EMID',
  '12': 'UKPN_LPN',
  '13': 'SPEN_SPM',
  '14': 'NGED_WMID',
  '15': 'NPG_NE',
  '16': 'ENWL',
  '17': 'SSEN_SHEPD',
  '18': 'SPEN_SPD',
  '19': 'UKPN_SPN',
  '20': 'SSEN_SEPD',
  '21': 'NGED_WALES',
  '22': 'NGED_SWEST',
  '23': 'NPG_YK',
};
/** IDNOs (distributor IDs 24–36) are coded IDNO_<id>: the draft names no codes for them. */
export const IDNO_CODES = Array.from({ length: 13 }, (_, i) => `IDNO_${24 + i}`);
export const DNO_CODES = [...Object.values(DISTRIBUTOR_DNO), ...IDNO_CODES];

export function dnoForDistributor(id: string): string | undefined {
  const n = Number(id);
  return DISTRIBUTOR_DNO[id] ?? (n >= 24 && n <= 36 ? `IDNO_${n}` : undefined);
}

/** The 14 Grid Supply Point groups. */
export const GSP_GROUPS = ['_A', '_B', '_C', '_D', '_E', '_F', '_G', '_H', '_J', '_K', '_L', '_M', '_N', '_P'] as const;

export const ALIAS_SCHEMES = ['mpan', 'serial', 'evse', 'ecr', 'mcs', 'fsp_ref', 'cim_mrid'] as const;
export type AliasScheme = (typeof ALIAS_SCHEMES)[number];
