import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app';
import { registerOrganisation, updateOrganisation } from '../src/organisations/service';
import { batteryInput, testHub, type TestHub } from './harness';

/**
 * What one app holds is its own: the signals between the domain and the app (credential
 * revocations, committed events) reach every app built in the process without registering
 * anything, and an app built from ports tells its own event sink, not another's.
 */

let hub: TestHub;
beforeAll(async () => { hub = await testHub(); });
afterAll(async () => { await hub?.close(); });

const request = (app: ReturnType<typeof buildApp>, path: string, token: string, init: { method?: string; body?: unknown } = {}) =>
  app.request(path, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${token}`, ...(init.body ? { 'content-type': 'application/json' } : {}) },
    body: init.body ? JSON.stringify(init.body) : undefined,
  });

describe('credential revocations', () => {
  it('reach an app built before many others at once, from its cache, with no clock moving', async () => {
    const org = await registerOrganisation(hub.ctx, hub.system, { legalName: 'Revoked Later Ltd', organisationType: 'LTD', registrationNumber: '09700001', roles: ['FSP'], status: 'ACTIVE' });
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
    expect((await request(app, '/api/v1/assets', token, { method: 'POST', body: { ...batteryInput(97_002), ratedCapacityKw: -1 } })).status).toBe(422);
    expect((await request(app, '/api/v1/assets', token)).status).toBe(200);
    expect((await request(other, '/api/v1/assets', token, { method: 'POST', body: batteryInput(97_003) })).status).toBe(201);
    expect(await outboxCount()).toBeGreaterThan(before);
    expect(told).toEqual([]);
  });
});
