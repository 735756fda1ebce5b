import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_SYSTEM_OPERATOR, DEMO_UNIT_PRODUCT, seedDemoMarket } from '../src/demo/market';
import { DEMO, testHub } from './harness';

/** The demo market seeded by `npm start` in development (src/demo/market.ts). */
let hub: Awaited<ReturnType<typeof testHub>>;
beforeAll(async () => {
  hub = await testHub();
});
afterAll(async () => {
  await hub.close();
});

describe('demo market seed', () => {
  it('registers a System Operator that owns the NESO products and qualifies FSP A’s battery unit; a second run changes nothing', async () => {
    const so = await seedDemoMarket(hub.ctx);
    expect(so).toEqual({ key: 'so', id: DEMO_SYSTEM_OPERATOR.id, roles: ['SYSTEM_OPERATOR'] });
    const dfs = await hub.call('GET', `/api/v1/products/${DEMO_UNIT_PRODUCT}`, { as: 'fsp-a' });
    expect(dfs.json.ownerOrganisationId).toBe(so.id);
    const dso = await hub.db.query(`SELECT owner_organisation_id FROM product WHERE market = 'DSO'`);
    expect(dso.map((p: any) => p.owner_organisation_id)).toEqual([null, null, null, null, null]); // the five DSO products

    const units = await hub.call('GET', `/api/v1/market-units?fspId=${DEMO['fsp-a']}`, { as: 'fsp-a' });
    expect(units.json.items).toHaveLength(1);
    const unit = units.json.items[0];
    expect(unit).toMatchObject({ type: 'SPU', product: DEMO_UNIT_PRODUCT, fspId: DEMO['fsp-a'] });
    const quals = await hub.call('GET', `/api/v1/market-units/${unit.id}/qualifications`, { as: 'fsp-a' });
    expect(quals.status, quals.text).toBe(200);
    expect(quals.json.items.map((q: any) => [q.outcome, q.systemOperatorId])).toEqual([['QUALIFIED', so.id]]);

    const counts = async () =>
      (
        await hub.db.query(
          `SELECT (SELECT count(*) FROM organisation)::int AS o, (SELECT count(*) FROM market_unit)::int AS u, (SELECT count(*) FROM qualification)::int AS q, (SELECT count(*) FROM record_history WHERE record_type = 'product')::int AS h`,
        )
      )[0];
    const before = await counts();
    await seedDemoMarket(hub.ctx);
    expect(await counts()).toEqual(before);
  });
});
