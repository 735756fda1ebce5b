import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAssets } from '../src/assets/service';
import { DEMO, batteryInput, mpanFor, rowCounts, testHub, type TestHub } from './harness';

/**
 * A VEN's resources through the native API (/api/v1/ven-registrations/{id}/resources,
 * docs/openadr.md "VEN resources"): the assets it stands for, bound and removed by its FSP with the
 * same rules, audit and events as OpenADR 3.1's /resources, and seen the same way by the 3.1 view
 * and the reverse lookup behind an asset.
 */

let hub: TestHub;
let ven: { id: string };
let ours: { id: string; importMpan: string }[];
const TABLES = ['ven_resource', 'audit_log', 'event_outbox'] as const;
const path = (id: string) => `/api/v1/ven-registrations/${id}/resources`;

beforeAll(async () => {
  hub = await testHub();
  const out = await registerAssets(
    hub.ctx,
    hub.system,
    Array.from({ length: 3 }, (_, i) => batteryInput(700 + i, { organisationId: DEMO['fsp-a'], importMpan: mpanFor(700 + i) })),
    { source: 'test' },
  );
  expect(out.ok).toBe(true);
  const vtn = await hub.call('POST', '/api/v1/vtns', {
    as: 'operator',
    body: { code: 'NATV', name: 'Native resources VTN', protocol: '3.1', baseUrl: 'https://natv.vtn.example/openadr3' },
  });
  expect(vtn.status, JSON.stringify(vtn.json)).toBe(201);
  const made = await hub.call('POST', '/api/v1/ven-registrations', {
    as: 'fsp-a',
    body: { vtn: 'NATV', venId: 'alpha-native-1', venName: 'alpha-native' },
  });
  expect(made.status, JSON.stringify(made.json)).toBe(201);
  ven = made.json;
  ours = (
    await hub.db.query<{ id: string; import_mpan: string }>(
      `SELECT id, import_mpan FROM asset WHERE fsp_id = $1 AND deregistered_at IS NULL ORDER BY id`,
      [DEMO['fsp-a']],
    )
  ).map((r) => ({ id: r.id, importMpan: r.import_mpan }));
}, 60_000);
afterAll(async () => {
  await hub?.close();
});

describe('a VEN’s resources through /api/v1', () => {
  it('without resources it stands for every live asset of its FSP, paged by asset ID', async () => {
    const first = await hub.call('GET', `${path(ven.id)}?limit=2`, { as: 'fsp-a' });
    expect(first.status).toBe(200);
    expect(first.json.standsFor).toBe('EVERY_ASSET');
    const second = await hub.call('GET', `${path(ven.id)}?limit=1000&cursor=${first.json.nextCursor}`, { as: 'fsp-a' });
    const ids = [...first.json.items, ...second.json.items].map((r: { assetId: string }) => r.assetId);
    expect(ids).toEqual(ours.map((a) => a.id));
    expect(second.json.nextCursor).toBeNull();
    expect(first.json.items[0]).toMatchObject({ resourceName: null, boundAt: null });
  });

  it('the FSP binds an asset by MPAN: the VEN then stands for it alone, as the 3.1 view and the reverse lookup say; audited as from the API', async () => {
    const chosen = ours[1];
    const bound = await hub.call('POST', path(ven.id), { as: 'fsp-a', body: { asset: `mpan:${chosen.importMpan}` } });
    expect(bound.status, JSON.stringify(bound.json)).toBe(201);
    expect(bound.json).toMatchObject({ assetId: chosen.id, resourceName: chosen.id, importMpan: chosen.importMpan });
    expect(bound.json.boundAt).toEqual(expect.any(String));
    const now = await hub.call('GET', path(ven.id), { as: 'fsp-a' });
    expect([now.json.standsFor, now.json.items.map((r: { assetId: string }) => r.assetId)]).toEqual(['RESOURCES', [chosen.id]]);
    // The operator reads the same; OpenADR 3.1's view of the VTN lists the same resource.
    expect((await hub.call('GET', path(ven.id), { as: 'operator' })).json.items).toEqual(now.json.items);
    const oadr = await hub.call('GET', `/openadr/3.1/vtns/NATV/resources?venID=alpha-native-1`, { as: 'operator' });
    expect(oadr.status, JSON.stringify(oadr.json)).toBe(200);
    expect(oadr.json.map((r: { resourceName: string }) => r.resourceName)).toEqual([chosen.id]);
    const behind = await hub.call('GET', `/api/v1/assets/${chosen.id}/ven-registrations`, { as: 'fsp-a' });
    expect(behind.json.items.filter((r: { id: string }) => r.id === ven.id).map((r: { boundToAsset: boolean }) => r.boundToAsset)).toEqual([
      true,
    ]);
    const audit = await hub.db.query<{ action: string; detail: { source: string; assetId: string } }>(
      `SELECT action, detail FROM audit_log WHERE record_type = 'ven_resource' ORDER BY occurred_at`,
    );
    expect(audit.map((a) => [a.action, a.detail.source, a.detail.assetId])).toEqual([['ven_resource.created', 'api', chosen.id]]);
  });

  it('refuses with the rule codes, writing nothing: bound twice, another FSP’s asset, another FSP’s VEN, nothing to remove', async () => {
    const before = await rowCounts(hub.db, TABLES);
    // Its default name (the asset ID) is taken first; under another name, the asset is still bound once per VTN.
    const twice = await hub.call('POST', path(ven.id), { as: 'fsp-a', body: { asset: ours[1].id } });
    expect([twice.status, twice.json.code]).toEqual([409, 'OPENADR-RESOURCE-NAME-TAKEN']);
    const renamed = await hub.call('POST', path(ven.id), { as: 'fsp-a', body: { asset: ours[1].id, resourceName: 'again' } });
    expect([renamed.status, renamed.json.code]).toEqual([409, 'OPENADR-RESOURCE-ASSET-BOUND']);
    const theirs = (await hub.call('POST', '/api/v1/assets', { as: 'fsp-b', body: batteryInput(790) })).json.id as string;
    const afterTheirs = await rowCounts(hub.db, TABLES);
    const foreign = await hub.call('POST', path(ven.id), { as: 'fsp-a', body: { asset: theirs } });
    expect([foreign.status, foreign.json.code]).toEqual([422, 'OPENADR-RESOURCE-ASSET']);
    const empty = await hub.call('POST', path(ven.id), { as: 'fsp-a', body: { asset: '' } });
    expect([empty.status, empty.json.errors?.map((e: { code: string }) => e.code)]).toEqual([422, ['OPENADR-RESOURCE-ASSET']]);
    const notYours = await hub.call('POST', path(ven.id), { as: 'fsp-b', body: { asset: theirs } });
    expect([notYours.status, notYours.json.code]).toEqual([404, 'OPENADR-VEN-NOT-FOUND']);
    expect((await hub.call('GET', path(ven.id), { as: 'fsp-b' })).status).toBe(404);
    const unbound = await hub.call('DELETE', `${path(ven.id)}/${ours[0].id}`, { as: 'fsp-a' });
    expect([unbound.status, unbound.json.code]).toEqual([409, 'OPENADR-RESOURCE-IMPLICIT']);
    expect(await rowCounts(hub.db, TABLES)).toEqual(afterTheirs);
    expect(afterTheirs.ven_resource).toBe(before.ven_resource);
  });

  it('removing its last resource returns the VEN to every asset of its FSP; a retired VEN stands for nothing and takes no resource', async () => {
    const removed = await hub.call('DELETE', `${path(ven.id)}/${ours[1].id}`, { as: 'fsp-a' });
    expect(removed.status).toBe(204);
    const now = await hub.call('GET', `${path(ven.id)}?limit=1000`, { as: 'fsp-a' });
    expect(now.json.standsFor).toBe('EVERY_ASSET');
    expect(now.json.items.length).toBeGreaterThanOrEqual(ours.length);
    const events = await hub.db.query<{ type: string }>(`SELECT type FROM event_outbox WHERE type LIKE 'fmar.ven-resource.%' ORDER BY id`);
    expect([...new Set(events.map((e) => e.type))]).toEqual(['fmar.ven-resource.created', 'fmar.ven-resource.deleted']);
    const retired = await hub.call('DELETE', `/api/v1/ven-registrations/${ven.id}`, { as: 'fsp-a' });
    expect(retired.status).toBe(200);
    expect((await hub.call('GET', path(ven.id), { as: 'fsp-a' })).json).toEqual({
      registrationId: ven.id,
      standsFor: 'NOTHING',
      items: [],
      nextCursor: null,
    });
    const late = await hub.call('POST', path(ven.id), { as: 'fsp-a', body: { asset: ours[0].id } });
    expect([late.status, late.json.code]).toEqual([409, 'OPENADR-REGISTRATION-CANCELLED']);
  });

  it('eight concurrent binds of one asset to eight VENs on one VTN: exactly one is bound, the others refused', async () => {
    const vens = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        hub.call('POST', '/api/v1/ven-registrations', { as: 'fsp-a', body: { vtn: 'NATV', venId: `race-${i}`, venName: `race ${i}` } }),
      ),
    );
    expect(vens.map((v) => v.status)).toEqual(vens.map(() => 201));
    const asset = ours[2].id;
    const answers = await Promise.all(vens.map((v) => hub.call('POST', path(v.json.id), { as: 'fsp-a', body: { asset } })));
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
    expect(answers.filter((a) => a.status !== 201).map((a) => [a.status, a.json.code])).toEqual(
      Array.from({ length: 7 }, () => [409, 'OPENADR-RESOURCE-ASSET-BOUND']),
    );
    const live = await hub.db.query(`SELECT registration_id FROM ven_resource WHERE asset_id = $1 AND deleted_at IS NULL`, [asset]);
    expect(live).toHaveLength(1);
  });
});
