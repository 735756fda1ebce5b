/** The types of CIM Names the import understands (NameType.name), and what each becomes in the register. */

/**
 * NameType names the register understands, compared without case, spaces, `_` or `-`: what each
 * becomes. Asset schemes are alias schemes of the asset (`ecr` is the DSO's own number for the
 * connection, unique within its register); organisation schemes are identifier schemes.
 */
export const NAME_TYPES: Readonly<Record<string, { target: 'asset' | 'organisation'; scheme: string }>> = {
  mpan: { target: 'asset', scheme: 'mpan' },
  mpancore: { target: 'asset', scheme: 'mpan' },
  ecr: { target: 'asset', scheme: 'ecr' },
  ecrreference: { target: 'asset', scheme: 'ecr' },
  embeddedcapacityregister: { target: 'asset', scheme: 'ecr' },
  dsoassetnumber: { target: 'asset', scheme: 'ecr' },
  dnoassetnumber: { target: 'asset', scheme: 'ecr' },
  dsoreference: { target: 'asset', scheme: 'ecr' },
  dnoreference: { target: 'asset', scheme: 'ecr' },
  evse: { target: 'asset', scheme: 'evse' },
  evseid: { target: 'asset', scheme: 'evse' },
  mcs: { target: 'asset', scheme: 'mcs' },
  fspref: { target: 'asset', scheme: 'fsp_ref' },
  eic: { target: 'organisation', scheme: 'EIC' },
  energyidentificationcode: { target: 'organisation', scheme: 'EIC' },
  companieshouse: { target: 'organisation', scheme: 'COMPANIES_HOUSE' },
  companieshousenumber: { target: 'organisation', scheme: 'COMPANIES_HOUSE' },
  companynumber: { target: 'organisation', scheme: 'COMPANIES_HOUSE' },
  companyregistrationnumber: { target: 'organisation', scheme: 'COMPANIES_HOUSE' },
  crn: { target: 'organisation', scheme: 'COMPANIES_HOUSE' },
};
export const nameTypeOf = (typeName: string) => NAME_TYPES[typeName.toLowerCase().replace(/[\s_-]+/g, '')];
