import type { Principal } from '../access/principal';
import { registerAssets } from '../assets/service';
import type { OrganisationRole } from '../access/roles';
import type { Ctx } from '../context';
import { registerOrganisation } from '../organisations/service';
import type { OrganisationInput } from '../organisations/schema';

/** Demo organisations with fixed IDs (valid ULIDs), so that docs and examples can name them. */
export const DEMO_ORGANISATIONS: (OrganisationInput & { id: string; key: string })[] = [
  {
    id: '01JDEM0000000000000000PRTR',
    key: 'operator',
    legalName: 'Demo Market Facilitator Ltd',
    organisationType: 'LTD',
    registrationNumber: '09000001',
    roles: ['MARKET_FACILITATOR'],
    status: 'ACTIVE',
  },
  {
    id: '01JDEM0000000000000000FSPA',
    key: 'fsp-a',
    legalName: 'Demo Flex Alpha Ltd',
    tradingName: 'Alpha Flex',
    organisationType: 'LTD',
    registrationNumber: '09000002',
    roles: ['FSP', 'AGGREGATOR'],
    status: 'ACTIVE',
    identifiers: [{ scheme: 'VAT', value: 'GB980780684' }],
    passport: {
      contacts: { primary: { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@alpha.example', mobile: '+447700900001' } },
      registeredAddress: { lines: ['1 Flex Street'], town: 'London', postcode: 'EC1A 1BB', country: 'GB' },
      countryOfIncorporation: 'GB',
    },
  },
  {
    id: '01JDEM0000000000000000FSPB',
    key: 'fsp-b',
    legalName: 'Demo Flex Beta Ltd',
    organisationType: 'LTD',
    registrationNumber: '09000003',
    roles: ['FSP'],
    status: 'ACTIVE',
  },
  {
    id: '01JDEM0000000000000000DN0S',
    key: 'dno',
    legalName: 'Demo Distribution plc',
    organisationType: 'PLC',
    registrationNumber: '09000004',
    roles: ['DNO'],
    status: 'ACTIVE',
    dnoCodes: ['SPEN_SPM', 'SPEN_SPD'],
    identifiers: [{ scheme: 'EIC', value: '10YGB----------A' }],
  },
  {
    id: '01JDEM0000000000000000NSTR',
    key: 'installer',
    legalName: 'Demo Installers Ltd',
    organisationType: 'LTD',
    registrationNumber: '09000005',
    roles: ['INSTALLER'],
    status: 'ACTIVE',
  },
];

export const DEMO_ASSETS = [
  {
    friendlyCode: 'ALPHA-BESS-1',
    name: 'Home battery (Glasgow)',
    category: 'BESS',
    ratedCapacityKw: 5,
    generationCapacityKw: 5,
    demandCapacityKw: 5,
    connectionStatus: 'CONNECTED',
    commissioningDate: '2025-03-01',
    dno: 'SPEN_SPM',
    importMpan: '1312345678907',
    serialNumber: 'BAT-0001',
    manufacturer: 'Demo Batteries',
    model: 'DB-5',
    location: { postcode: 'G1 1AA', gspGroup: '_N' },
  },
  {
    friendlyCode: 'ALPHA-EV-1',
    name: 'Driveway charger',
    category: 'EV_CHARGER',
    ratedCapacityKw: 7.4,
    demandCapacityKw: 7.4,
    connectionStatus: 'CONNECTED',
    commissioningDate: '2024-11-15',
    dno: 'SPEN_SPM',
    importMpan: '1300000000016',
    serialNumber: 'EVC-0001',
    aliases: [{ scheme: 'evse', value: 'GB*ALP*E0001*1' }],
  },
  {
    friendlyCode: 'ALPHA-HP-1',
    name: 'Air source heat pump',
    category: 'HEAT_PUMP',
    ratedCapacityKw: 8,
    demandCapacityKw: 3.5,
    connectionStatus: 'CONNECTED',
    commissioningDate: '2023-10-01',
    dno: 'SPEN_SPM',
    importMpan: '1300000000025',
    serialNumber: 'HP-0001',
    aliases: [{ scheme: 'mcs', value: 'MCS-00012345' }],
  },
];

export interface DemoOrganisation {
  key: string;
  id: string;
  roles: OrganisationRole[];
}

/** Seed once: organisations that already exist are left as they are. */
export async function seedDemo(ctx: Ctx, system: Principal): Promise<DemoOrganisation[]> {
  for (const o of DEMO_ORGANISATIONS) {
    const [exists] = await ctx.db.query(`SELECT 1 FROM organisation WHERE id = $1`, [o.id]);
    if (exists) continue;
    const { id, key: _k, ...input } = o;
    await registerOrganisation(ctx, system, input, { id });
  }
  const fspA = DEMO_ORGANISATIONS[1].id;
  const [has] = await ctx.db.query(`SELECT 1 FROM asset WHERE organisation_id = $1 LIMIT 1`, [fspA]);
  if (!has) {
    const out = await registerAssets(
      ctx,
      system,
      DEMO_ASSETS.map((a) => ({ ...a, organisationId: fspA })),
      { source: 'seed' },
    );
    if (!out.ok) throw new Error(`demo assets rejected: ${JSON.stringify(out.results.filter((r) => r.status === 'rejected'))}`);
  }
  return DEMO_ORGANISATIONS.map((o) => ({ key: o.key, id: o.id, roles: o.roles as OrganisationRole[] }));
}
