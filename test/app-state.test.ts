import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app';
import { codeField, parseWithCodes } from '../src/catalogue/schema';
import { BUILT_IN, BUILT_IN_ENTRIES, CATALOGUE_CACHE_MS, CatalogueSnapshot } from '../src/catalogue/snapshot';
import { z } from '@hono/zod-openapi';
import { registerOrganisation, updateOrganisation } from '../src/organisations/service';
import { batteryInput, testHub, type TestHub } from './harness';

/**
 * What one app holds is its own: the signals between the domain and the app (credential
 * revocations, committed events) reach every app built in the process without registering
 * anything; an app built from ports tells its own event sink, not another's; the code lists a
 * request is validated against are its own database's, not a set the process has gathered.
 */

let hub: TestHub;
beforeAll(async () => {
  hub = await testHub();
});
afterAll(async () => {
  await hub?.close();
});

const request = (app: ReturnType<typeof buildApp>, path: string, token: string, init: { method?: string; body?: unknown } = {}) =>
  app.request(path, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${token}`, ...(init.body ? { 'content-type': 'application/json' } : {}) },
    body: init.body ? JSON.stringify(init.body) : undefined,
  });

describe('credential revocations', () => {
  it('reach an app built before many others at once, from its cache, with no clock moving', async () => {
    const org = await registerOrganisation(hub.ctx, hub.system, {
      legalName: 'Revoked Later Ltd',
      organisationType: 'LTD',
      registrationNumber: '09700001',
      roles: ['FSP'],
      status: 'ACTIVE',
    });
    const token = await hub.token({ org: org.id, roles: ['FSP'], sub: 'revoked-later' });
    const first = buildApp(hub.ports);
    expect((await request(first, '/api/v1/assets', token)).status).toBe(200);
    const later = Array.from({ length: 50 }, () => buildApp(hub.ports));
    expect((await request(later[49], '/api/v1/assets', token)).status).toBe(200);

    await updateOrganisation(hub.ctx, hub.system, org.id, { status: 'SUSPENDED' }, org.version);
    for (const app of [first, later[0], later[49]]) {
      const res = await request(app, '/api/v1/assets', token);
      expect(res.status).toBe(403);
      expect((await res.json()).code).toBe('AUTH-ORGANISATION-INACTIVE');
    }
  });
});

describe('the event sink', () => {
  const outboxCount = async () => Number((await hub.db.query(`SELECT count(*)::int AS n FROM event_outbox`))[0].n);

  it('is told, after the commit, how many events a write put in the outbox', async () => {
    const told: number[] = [];
    const app = buildApp({ ...hub.ports, events: { written: (n) => told.push(n) } });
    const token = await hub.token('fsp-a');
    const before = await outboxCount();
    const res = await request(app, '/api/v1/assets', token, { method: 'POST', body: batteryInput(97_001) });
    expect(res.status, await res.clone().text()).toBe(201);
    const after = await outboxCount();
    expect(after).toBeGreaterThan(before);
    expect(told).toEqual([after - before]);
  });

  it('is not told of a refused write, of a read, or of another app’s commits', async () => {
    const told: number[] = [];
    const app = buildApp({ ...hub.ports, events: { written: (n) => told.push(n) } });
    const other = buildApp(hub.ports);
    const token = await hub.token('fsp-a');
    const before = await outboxCount();
    expect(
      (await request(app, '/api/v1/assets', token, { method: 'POST', body: { ...batteryInput(97_002), ratedCapacityKw: -1 } })).status,
    ).toBe(422);
    expect((await request(app, '/api/v1/assets', token)).status).toBe(200);
    expect((await request(other, '/api/v1/assets', token, { method: 'POST', body: batteryInput(97_003) })).status).toBe(201);
    expect(await outboxCount()).toBeGreaterThan(before);
    expect(told).toEqual([]);
  });
});

describe('catalogue codes in the request schemas', () => {
  const fieldCodes = (json: { errors?: { field: string; code: string }[] }) => (json.errors ?? []).map((e) => `${e.field} ${e.code}`);

  it('a code field checks the snapshot the parse names, and nothing outside one', () => {
    const Category = z.object({ category: codeField('asset-categories', 'ASSET-CATEGORY-UNKNOWN', 'BESS') });
    const withFlywheel = new CatalogueSnapshot([
      ...BUILT_IN_ENTRIES,
      {
        catalogue: 'asset-categories',
        code: 'FLYWHEEL',
        active: true,
        effectiveFrom: null,
        effectiveTo: null,
        attributes: { kind: 'storage' },
      },
    ]);
    expect(parseWithCodes(withFlywheel, () => Category.safeParse({ category: 'FLYWHEEL' })).success).toBe(true);
    const refused = parseWithCodes(BUILT_IN, () => Category.safeParse({ category: 'FLYWHEEL' }));
    expect(refused.success).toBe(false);
    expect(refused.error?.issues.map((i) => i.message)).toEqual(['ASSET-CATEGORY-UNKNOWN']);
    // Outside a parse that names a snapshot the writer's own check (src/catalogue/validate.ts) decides.
    expect(Category.safeParse({ category: 'FLYWHEEL' }).success).toBe(true);
  });

  it('a code another database holds is unknown here, reported with the other field errors of the body', async () => {
    const other = await testHub();
    try {
      const added = await other.call('POST', '/api/v1/catalogues/asset-categories/codes', {
        as: 'operator',
        body: { code: 'ZINC_AIR', label: 'Zinc-air storage', attributes: { kind: 'storage' } },
      });
      expect(added.status, added.text).toBe(201);
    } finally {
      await other.close();
    }
    const { name: _name, ...nameless } = batteryInput(97_010, { category: 'ZINC_AIR' });
    const r = await hub.call('POST', '/api/v1/assets', { as: 'fsp-a', body: nameless });
    expect(r.status).toBe(422);
    expect(fieldCodes(r.json)).toEqual(['name REQUEST-FIELD-REQUIRED', 'category ASSET-CATEGORY-UNKNOWN']);
    const filtered = await hub.call('GET', '/api/v1/assets?category=ZINC_AIR', { as: 'fsp-a' });
    expect(filtered.status).toBe(400);
    expect(fieldCodes(filtered.json)).toEqual(['query.category REQUEST-CODE-UNKNOWN']);
  });

  it('a code written to this database by another instance is accepted once the snapshot expires, with no middleware to warm it', async () => {
    await hub.db.query(`INSERT INTO catalogue_code (catalogue, code, label, active, attributes, version, recorded_at, recorded_by)
      VALUES ('asset-categories', 'SODIUM_ION', 'Sodium-ion storage', true, '{"kind":"storage"}'::jsonb, 1, now(), 'another-instance')`);
    const body = batteryInput(97_011, { category: 'SODIUM_ION', energySource: 'GRID' });
    // Another instance's write: this one sees it when its snapshot expires (docs/catalogues.md).
    hub.clock.advance(CATALOGUE_CACHE_MS + 1);
    const r = await hub.call('POST', '/api/v1/assets', { as: 'fsp-a', body });
    expect(r.status, r.text).toBe(201);
    expect(r.json.category).toBe('SODIUM_ION');
    expect((await hub.call('GET', '/api/v1/assets?category=SODIUM_ION', { as: 'fsp-a' })).status).toBe(200);
  });
});
