import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO, batteryInput, testHub, type TestHub } from './harness';

let hub: TestHub;
beforeAll(async () => {
  hub = await testHub();
});
afterAll(async () => {
  await hub?.close();
});

describe('the hub answers', () => {
  it('reports health with its database engine', async () => {
    const r = await hub.call('GET', '/healthz');
    expect(r.status).toBe(200);
    expect(r.json.database).toBe(process.env.DATABASE_URL ? 'postgres' : 'pglite');
  });

  it('registers an asset for the demo FSP and finds it by MPAN', async () => {
    const input = batteryInput(1);
    const created = await hub.call('POST', '/api/v1/assets', { as: 'fsp-a', body: input });
    expect(created.status).toBe(201);
    expect(created.json.id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(created.json.status).toBe('PENDING_VALIDATION');
    expect(created.json.fspId).toBe(DEMO['fsp-a']);
    const found = await hub.call('GET', `/api/v1/assets?identifier=mpan:${input.importMpan}`, { as: 'fsp-a' });
    expect(found.json.items.map((a: any) => a.id)).toEqual([created.json.id]);
  });

  it('refuses a request without a token as a 401 problem', async () => {
    const r = await hub.call('GET', '/api/v1/assets');
    expect(r.status).toBe(401);
    expect(r.headers.get('content-type')).toBe('application/problem+json');
    expect(r.json.code).toBe('AUTH-TOKEN-MISSING');
  });
});
