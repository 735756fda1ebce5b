import { systemPrincipal, type Principal } from '../access/principal';
import type { OrganisationRole } from '../access/roles';
import type { Ctx } from '../context';
import { registerOrganisation } from '../organisations/service';
import { getProduct, updateProduct } from '../products/service';
import { recordQualification } from '../qualifications/service';
import { createMarketUnit } from '../units/service';
import { DEMO_ORGANISATIONS, type DemoOrganisation } from './seed';

/**
 * The demo market (development start only, not the test harness): a System Operator that owns the
 * NESO products, and FSP A's battery as an SPU market unit for Demand Flexibility Service, qualified
 * by that System Operator. So products, qualification and re-assessment can be tried at once
 * (docs/products.md). Idempotent: what exists is left as it is.
 */
export const DEMO_SYSTEM_OPERATOR = {
  id: '01JDEM00000000000000000S0P',
  key: 'so',
  legalName: 'Demo System Operator plc',
  organisationType: 'PLC' as const,
  registrationNumber: '09000006',
  roles: ['SYSTEM_OPERATOR'] as OrganisationRole[],
  status: 'ACTIVE' as const,
};
export const DEMO_UNIT_PRODUCT = 'NESO-DFS';

export async function seedDemoMarket(ctx: Ctx, system: Principal = systemPrincipal('seed')): Promise<DemoOrganisation> {
  const so = DEMO_SYSTEM_OPERATOR;
  const [exists] = await ctx.db.query(`SELECT 1 FROM organisation WHERE id = $1`, [so.id]);
  if (!exists) {
    const { id, key: _k, ...input } = so;
    await registerOrganisation(ctx, system, input, { id });
  }
  // The NESO products the catalogue seeds without an owner are the demo System Operator's.
  for (const p of await ctx.db.query<{ id: string; version: number }>(
    `SELECT id, version FROM product WHERE market = 'NESO' AND owner_organisation_id IS NULL AND status = 'ACTIVE' ORDER BY id`,
  )) {
    await updateProduct(ctx, system, p.id, { ownerOrganisationId: so.id }, Number(p.version));
  }
  const fspA = DEMO_ORGANISATIONS.find((o) => o.key === 'fsp-a')!;
  const [battery] = await ctx.db.query<{ id: string }>(
    `SELECT id FROM asset WHERE organisation_id = $1 AND friendly_code = 'ALPHA-BESS-1' AND deregistered_at IS NULL`,
    [fspA.id],
  );
  const [unit] = battery
    ? await ctx.db.query(
        `SELECT u.id FROM market_unit u JOIN market_unit_member m ON m.market_unit_id = u.id AND m.active WHERE m.asset_id = $1 AND u.product = $2`,
        [battery.id, DEMO_UNIT_PRODUCT],
      )
    : [];
  if (battery && !unit && (await getProduct(ctx, DEMO_UNIT_PRODUCT)).ownerOrganisationId === so.id) {
    const fsp: Principal = {
      subject: 'seed',
      organisationId: fspA.id,
      roles: fspA.roles as OrganisationRole[],
      scopes: ['*'],
      dnoCodes: [],
    };
    const created = await createMarketUnit(ctx, fsp, {
      name: 'Alpha Glasgow battery (DFS)',
      type: 'SPU',
      product: DEMO_UNIT_PRODUCT,
      assetIds: [battery.id],
    });
    const soActor: Principal = { subject: 'seed', organisationId: so.id, roles: so.roles, scopes: ['*'], dnoCodes: [] };
    await recordQualification(ctx, soActor, created.unit.id, {
      outcome: 'QUALIFIED',
      validFrom: ctx.clock.now().toISOString(),
      reference: 'DEMO-DFS-QUAL-1',
    });
  }
  return { key: so.key, id: so.id, roles: so.roles };
}
