import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAssets } from '../src/assets/service';
import { checkAsset } from '../src/assets/rules';
import { BUILT_IN, BUILT_IN_ENTRIES, CATALOGUE_CACHE_MS, CATALOGUE_NAMES, CatalogueSnapshot } from '../src/catalogue/snapshot';
import type { Db } from '../src/storage/db';
import { DEMO, batteryInput, rowCounts, testHub, type TestHub, expectRefused, invalid } from './harness';

/** UC-05.07: the code lists as data, maintained through /api/v1/catalogues, used by validation. */

let hub: TestHub;
beforeAll(async () => {
  hub = await testHub();
});
afterAll(async () => {
  await hub?.close();
});

const API = '/api/v1/catalogues';
const TABLES = ['catalogue_code', 'record_history', 'audit_log', 'event_outbox'];
let n = 0;

const register = (extra: Record<string, unknown> = {}, as = 'fsp-a') =>
  hub.call('POST', '/api/v1/assets', { as, body: batteryInput(70_000 + ++n, { serialNumber: `CAT-${n}`, ...extra }) });
const addCode = (name: string, body: unknown, as = 'operator') => hub.call('POST', `${API}/${name}/codes`, { as, body });
const patchCode = (name: string, code: string, body: unknown, version: number | null, as = 'operator') =>
  hub.call('PATCH', `${API}/${name}/codes/${code}`, { as, body, headers: version === null ? {} : { 'if-match': `"${version}"` } });

/** The request is refused with this status and rule code, and nothing is written (test/harness.ts). */
const refused = (req: () => Promise<{ status: number; json: any; text?: string }>, status: number, code: string) =>
  expectRefused(hub.db, TABLES, req, status, code);
const fieldCodes = (json: any) => (json.errors ?? []).map((e: any) => `${e.field} ${e.code}`);

describe('reading the catalogues', () => {
  it('lists every code list with its policy; every role reads', async () => {
    const r = await hub.call('GET', API, { as: 'installer' });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.json.items.map((c: any) => c.name).sort()).toEqual([...CATALOGUE_NAMES].sort());
    const policy = Object.fromEntries(r.json.items.map((c: any) => [c.name, c.policy]));
    expect(policy).toEqual({
      'asset-categories': 'extensible',
      'energy-sources': 'extensible',
      'energy-conversion-types': 'extensible',
      'demand-technologies': 'extensible',
      'connection-statuses': 'extensible',
      'connection-types': 'extensible',
      'organisation-types': 'extensible',
      'dno-codes': 'fixed',
      'gsp-groups': 'fixed',
      'identifier-schemes': 'fixed',
      'asset-statuses': 'read-only',
      'organisation-roles': 'read-only',
      'organisation-statuses': 'read-only',
      'alias-schemes': 'read-only',
    });
    const dnos = r.json.items.find((c: any) => c.name === 'dno-codes');
    expect(dnos).toMatchObject({ codes: 27, activeCodes: 27, usedBy: ['asset.dno', 'organisation.dnoCodes'] });
    const someone = await hub.token({ org: DEMO.dno, roles: ['SYSTEM_OPERATOR'] });
    expect((await hub.call('GET', `${API}/gsp-groups`, { as: someone })).status).toBe(200);
    expect((await hub.call('GET', API, { as: null })).status).toBe(401);
  });

  it('the migrations seed exactly the codes, states and attributes of src/catalogue/codes.ts', async () => {
    const rows = await hub.db.query(
      `SELECT catalogue, code, active, attributes FROM catalogue_code WHERE recorded_by IN ('migration:014', 'migration:033') ORDER BY catalogue, code`,
    );
    const seeded = rows.map((r) => ({ catalogue: r.catalogue, code: r.code, active: r.active, attributes: r.attributes }));
    const builtIn = BUILT_IN_ENTRIES.map((e) => ({
      catalogue: e.catalogue,
      code: e.code,
      active: e.active,
      attributes: e.attributes,
    })).sort((a, b) => (a.catalogue + ' ' + a.code < b.catalogue + ' ' + b.code ? -1 : 1));
    expect(seeded.sort((a, b) => (a.catalogue + ' ' + a.code < b.catalogue + ' ' + b.code ? -1 : 1))).toEqual(builtIn);
    const d = await hub.call('GET', `${API}/dno-codes/codes/IDNO_24`, { as: 'fsp-a' });
    expect(d.json).toMatchObject({ code: 'IDNO_24', attributes: { distributorId: '24' }, active: true, version: 1 });
    expect(d.headers.get('etag')).toBe('"1"');
  });

  it('lists the codes in effect by default, every code with includeInactive, as of ?at=', async () => {
    const active = await hub.call('GET', `${API}/connection-statuses`, { as: 'fsp-b' });
    expect(active.json.items.map((k: any) => k.code).sort()).toEqual(['CONNECTED', 'DISCONNECTED', 'PENDING']);
    expect(active.json.at).toBe('2026-06-01');
    const all = await hub.call('GET', `${API}/connection-statuses?includeInactive=true`, { as: 'fsp-b' });
    expect(all.json.items).toHaveLength(7);
    expect(all.json.items.find((k: any) => k.code === 'DE_ENERGISED')).toMatchObject({ active: false, inEffect: false });
    expect((await hub.call('GET', `${API}/energy-sources?at=2026-02-30`, { as: 'fsp-b' })).json.code).toBe('REQUEST-QUERY-INVALID');
    expect((await hub.call('GET', `${API}/colours`, { as: 'fsp-b' })).json.code).toBe('CATALOGUE-NOT-FOUND');
    expect((await hub.call('GET', `${API}/energy-sources/codes/COAL`, { as: 'fsp-b' })).json.code).toBe('CATALOGUE-CODE-NOT-FOUND');
  });
});

describe('adding and changing codes', () => {
  it('a new category is usable for registration at once, with audit and an event to every active organisation', async () => {
    const r = await addCode('asset-categories', {
      code: 'FLYWHEEL',
      label: 'Flywheel storage',
      attributes: { kind: 'storage', defaultEnergySource: 'GRID' },
    });
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    expect(r.json).toMatchObject({
      catalogue: 'asset-categories',
      code: 'FLYWHEEL',
      active: true,
      version: 1,
      recordedBy: expect.any(String),
    });
    expect(r.headers.get('etag')).toBe('"1"');
    expect(r.headers.get('location')).toBe(`${API}/asset-categories/codes/FLYWHEEL`);
    const [audit] = await hub.db.query(
      `SELECT action, detail FROM audit_log WHERE record_type = 'catalogue_code' AND record_id = 'asset-categories/FLYWHEEL'`,
    );
    expect(audit).toMatchObject({ action: 'catalogue.code-added' });
    const [ev] = await hub.db.query(`SELECT id, type, data FROM event_outbox WHERE subject = 'asset-categories/FLYWHEEL'`);
    expect(ev).toMatchObject({
      type: 'fmar.catalogue.changed',
      data: { catalogue: 'asset-categories', code: 'FLYWHEEL', change: 'added', version: 1 },
    });
    const recipients = (await hub.db.query(`SELECT organisation_id FROM event_recipient WHERE event_id = $1`, [ev.id])).map(
      (x) => x.organisation_id,
    );
    expect(recipients).toEqual(expect.arrayContaining([DEMO['fsp-a'], DEMO['fsp-b'], DEMO.dno]));

    const a = await register({ category: 'FLYWHEEL' });
    expect(a.status, JSON.stringify(a.json)).toBe(201);
    // Its kind (storage) and default come from the catalogue: energy source GRID, at least one MPAN.
    expect(a.json).toMatchObject({ category: 'FLYWHEEL', energySource: 'GRID' });
    const noMpan = await register({ category: 'FLYWHEEL', importMpan: undefined });
    expect(fieldCodes(noMpan.json)).toContain('importMpan ASSET-MPAN-BESS-REQUIRED');
    const listed = await hub.call('GET', `${API}/asset-categories`, { as: 'fsp-a' });
    expect(listed.json.items.map((k: any) => k.code)).toContain('FLYWHEEL');
    // Lists and exports filter by it; a code no catalogue holds is a 400.
    const filtered = await hub.call('GET', '/api/v1/assets?category=FLYWHEEL', { as: 'fsp-a' });
    expect(filtered.status, filtered.text).toBe(200);
    expect(filtered.json.items.map((x: any) => x.id)).toEqual([a.json.id]);
    const exported = await hub.call('GET', '/api/v1/assets/export?category=FLYWHEEL', { as: 'fsp-a' });
    expect(exported.status).toBe(200);
    expect(
      exported.text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).id),
    ).toEqual([a.json.id]);
    const unknown = await hub.call('GET', '/api/v1/assets?category=ZEPPELIN', { as: 'fsp-a' });
    expect(unknown.status).toBe(400);
    expect(unknown.json.code).toBe('REQUEST-QUERY-INVALID');
  });

  it('deactivating a category refuses new registrations with it; assets that hold it read and update fine', async () => {
    await addCode('asset-categories', { code: 'COMPRESSED_AIR', label: 'Compressed air storage', attributes: { kind: 'storage' } });
    const held = await register({ category: 'COMPRESSED_AIR', energySource: 'GRID' });
    expect(held.status, JSON.stringify(held.json)).toBe(201);

    const off = await patchCode('asset-categories', 'COMPRESSED_AIR', { active: false, description: 'Withdrawn from the register' }, 1);
    expect(off.status, JSON.stringify(off.json)).toBe(200);
    expect(off.json).toMatchObject({ active: false, version: 2, description: 'Withdrawn from the register' });
    expect(off.headers.get('etag')).toBe('"2"');
    const [ev] = await hub.db.query(
      `SELECT data FROM event_outbox WHERE subject = 'asset-categories/COMPRESSED_AIR' AND data->>'change' = 'updated'`,
    );
    expect(ev.data).toMatchObject({ changed: ['description', 'active'], active: false, version: 2 });

    const before = await rowCounts(hub.db);
    const refusedAsset = await register({ category: 'COMPRESSED_AIR', energySource: 'GRID' });
    expect(refusedAsset.status).toBe(422);
    expect(refusedAsset.json.errors).toEqual([
      expect.objectContaining({
        field: 'category',
        code: 'ASSET-CATEGORY-UNKNOWN',
        detail: expect.stringContaining('inactive in the asset-categories catalogue'),
      }),
    ]);
    expect(await rowCounts(hub.db)).toEqual(before);

    const read = await hub.call('GET', `/api/v1/assets/${held.json.id}`, { as: 'fsp-a' });
    expect(read.status).toBe(200);
    expect(read.json.category).toBe('COMPRESSED_AIR');
    const renamed = await hub.call('PATCH', `/api/v1/assets/${held.json.id}`, {
      as: 'fsp-a',
      body: { name: 'Renamed store' },
      headers: { 'if-match': read.headers.get('etag')! },
    });
    expect(renamed.status, JSON.stringify(renamed.json)).toBe(200);
    expect(renamed.json).toMatchObject({ category: 'COMPRESSED_AIR', name: 'Renamed store' });
    // Changing another asset to the inactive code is a new value: refused.
    const other = await register();
    const moved = await hub.call('PATCH', `/api/v1/assets/${other.json.id}`, {
      as: 'fsp-a',
      body: { category: 'COMPRESSED_AIR' },
      headers: { 'if-match': '"1"' },
    });
    expect(moved.status).toBe(422);
    expect(fieldCodes(moved.json)).toContain('category ASSET-CATEGORY-UNKNOWN');

    const history = await hub.call('GET', `${API}/asset-categories/codes/COMPRESSED_AIR/history`, { as: 'dno' });
    expect(history.json.items.map((k: any) => [k.version, k.active])).toEqual([
      [2, false],
      [1, true],
    ]);
    // Reactivating makes it usable again.
    expect((await patchCode('asset-categories', 'COMPRESSED_AIR', { active: true }, 2)).status).toBe(200);
    expect((await register({ category: 'COMPRESSED_AIR', energySource: 'GRID' })).status).toBe(201);
  });

  it('a code applies from its effectiveFrom: checked as of the asset’s effective date', async () => {
    const r = await addCode('energy-sources', { code: 'TIDAL', label: 'Tidal', effectiveFrom: '2027-01-01' });
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    const today = await register({ energySource: 'TIDAL' });
    expect(today.json.errors).toEqual([
      expect.objectContaining({
        field: 'energySource',
        code: 'ASSET-ENERGY-SOURCE-UNKNOWN',
        detail: expect.stringContaining('applies from 2027-01-01'),
      }),
    ]);
    const later = await register({ energySource: 'TIDAL', effectiveDate: '2027-02-01' });
    expect(later.status, JSON.stringify(later.json)).toBe(201);
    const at = await hub.call('GET', `${API}/energy-sources?at=2027-01-01`, { as: 'fsp-a' });
    expect(at.json.items.map((k: any) => k.code)).toContain('TIDAL');
    expect((await hub.call('GET', `${API}/energy-sources`, { as: 'fsp-a' })).json.items.map((k: any) => k.code)).not.toContain('TIDAL');
  });

  it('refuses each bad write with its rule code, writing nothing', async () => {
    await refused(
      () => addCode('asset-categories', { code: 'flywheel2', label: 'x', attributes: { kind: 'other' } }),
      422,
      invalid('code', 'CATALOGUE-CODE-FORMAT'),
    );
    await refused(
      () => addCode('asset-categories', { code: 'KINDLESS', label: 'No kind' }),
      422,
      invalid('attributes.kind', 'CATALOGUE-ATTRIBUTES'),
    );
    await refused(
      () =>
        addCode('asset-categories', { code: 'BADDEFAULT', label: 'x', attributes: { kind: 'generating', defaultEnergySource: 'COAL' } }),
      422,
      invalid('attributes.defaultEnergySource', 'CATALOGUE-ATTRIBUTES'),
    );
    await refused(
      () => addCode('energy-sources', { code: 'PEAT', label: 'Peat', attributes: { colour: 'brown' } }),
      422,
      invalid('attributes', 'CATALOGUE-ATTRIBUTES'),
    );
    await refused(
      () => addCode('energy-sources', { code: 'PEAT', label: 'Peat', effectiveFrom: '2026-05-01', effectiveTo: '2026-05-01' }),
      422,
      invalid('effectiveTo', 'CATALOGUE-EFFECTIVE-DATES'),
    );
    await refused(() => addCode('energy-sources', { code: 'PEAT', label: '' }), 422, invalid('label', 'CATALOGUE-LABEL-FORMAT'));
    await refused(
      () => addCode('energy-sources', { code: 'PEAT', label: 'Peat', effectiveFrom: '01/05/2026' }),
      422,
      invalid('effectiveFrom', 'CATALOGUE-DATE-FORMAT'),
    );
    await refused(() => addCode('energy-sources', { code: 'SOLAR', label: 'Solar again' }), 409, 'CATALOGUE-CODE-EXISTS');
    await refused(() => addCode('dno-codes', { code: 'NEW_DNO', label: 'A new licence area' }), 409, 'CATALOGUE-NOT-EXTENSIBLE');
    await refused(() => addCode('organisation-roles', { code: 'TRADER', label: 'Trader' }), 409, 'CATALOGUE-READ-ONLY');
    await refused(() => addCode('colours', { code: 'RED', label: 'Red' }), 404, 'CATALOGUE-NOT-FOUND');
    await refused(() => patchCode('organisation-roles', 'FSP', { label: 'Flex provider' }, 1), 409, 'CATALOGUE-READ-ONLY');
    await refused(() => patchCode('energy-sources', 'SOLAR', { label: 'Sun' }, null), 428, 'REQUEST-IF-MATCH-REQUIRED');
    await refused(() => patchCode('energy-sources', 'SOLAR', { label: 'Sun' }, 7), 412, 'REQUEST-PRECONDITION-FAILED');
    await refused(() => patchCode('energy-sources', 'SOLAR', {}, 1), 422, 'CATALOGUE-CHANGE-EMPTY');
    await refused(() => patchCode('energy-sources', 'SOLAR', { label: 'Solar' }, 1), 422, 'CATALOGUE-CHANGE-EMPTY');
    await refused(() => patchCode('energy-sources', 'SOLAR', { code: 'SUN' }, 1), 422, invalid('code', 'REQUEST-UNKNOWN-FIELD'));
    await refused(
      () => patchCode('energy-sources', 'SOLAR', { effectiveFrom: '2026-01-01', effectiveTo: '2025-01-01' }, 1),
      422,
      invalid('effectiveTo', 'CATALOGUE-EFFECTIVE-DATES'),
    );
    await refused(() => patchCode('energy-sources', 'COAL', { label: 'Coal' }, 1), 404, 'CATALOGUE-CODE-NOT-FOUND');
    // Only the operator writes.
    const fsp = await refused(() => addCode('energy-sources', { code: 'PEAT', label: 'Peat' }, 'fsp-a'), 403, 'AUTH-SCOPE-MISSING');
    expect(fsp.status).toBe(403);
    const regulator = await hub.token({ org: DEMO.dno, roles: ['REGULATOR'], scope: 'catalogues:read catalogues:write' });
    await refused(() => addCode('energy-sources', { code: 'PEAT', label: 'Peat' }, regulator), 403, 'AUTH-ROLE-FORBIDDEN');
  });

  it('a fixed catalogue’s code can be relabelled and deactivated; organisations keep what they hold', async () => {
    const org = await hub.call('POST', '/api/v1/organisations', {
      as: 'operator',
      body: {
        legalName: 'Island Networks Ltd',
        organisationType: 'LTD',
        registrationNumber: '13000001',
        roles: ['IDNO'],
        dnoCodes: ['IDNO_36'],
      },
    });
    expect(org.status, JSON.stringify(org.json)).toBe(201);
    const off = await patchCode('dno-codes', 'IDNO_36', { active: false, label: 'IDNO 36 (merged)' }, 1);
    expect(off.status, JSON.stringify(off.json)).toBe(200);
    const refusedOrg = await hub.call('POST', '/api/v1/organisations', {
      as: 'operator',
      body: {
        legalName: 'Other Networks Ltd',
        organisationType: 'LTD',
        registrationNumber: '13000002',
        roles: ['IDNO'],
        dnoCodes: ['IDNO_35', 'IDNO_36'],
      },
    });
    expect(refusedOrg.status).toBe(422);
    expect(fieldCodes(refusedOrg.json)).toEqual(['dnoCodes.1 ORG-DNO-CODE-UNKNOWN']);
    const kept = await hub.call('PATCH', `/api/v1/organisations/${org.json.id}`, {
      as: 'operator',
      body: { tradingName: 'Island', dnoCodes: ['IDNO_36', 'IDNO_35'] },
      headers: { 'if-match': '"1"' },
    });
    expect(kept.status, JSON.stringify(kept.json)).toBe(200);
    expect(kept.json.dnoCodes).toEqual(['IDNO_36', 'IDNO_35']);
    // A new organisation type is usable at once.
    expect((await addCode('organisation-types', { code: 'COMMUNITY_ENERGY', label: 'Community energy group' })).status).toBe(201);
    const coop = await hub.call('POST', '/api/v1/organisations', {
      as: 'operator',
      body: { legalName: 'Village Power', organisationType: 'COMMUNITY_ENERGY', registrationNumber: 'IP012345', roles: ['FSP'] },
    });
    expect(coop.status, JSON.stringify(coop.json)).toBe(201);
    expect(coop.json.organisationType).toBe('COMMUNITY_ENERGY');
  });
});

describe('validation reads a snapshot, not the database per row', () => {
  it('a bulk batch reads the catalogue once', async () => {
    let reads = 0;
    const counting: Db = {
      ...hub.db,
      engine: hub.db.engine,
      close: () => hub.db.close(),
      transaction: (f) => hub.db.transaction(f),
      query: (text, params) => {
        if (/FROM catalogue_code\b/.test(text)) reads++;
        return hub.db.query(text, params);
      },
    };
    const rows = Array.from({ length: 300 }, (_, i) =>
      batteryInput(80_000 + i, { serialNumber: `SNAP-${i}`, category: i % 2 ? 'FLYWHEEL' : 'BESS' }),
    );
    const out = await registerAssets(
      { ...hub.ctx, db: counting },
      hub.system,
      rows.map((r) => ({ ...r, organisationId: DEMO['fsp-a'] })),
      { dryRun: true },
    );
    expect(out.results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(reads).toBe(1);
  });

  it('a change made by another instance is seen once the cache lifetime has passed', async () => {
    // Another instance deactivates DIESEL: this one accepts it until its snapshot expires.
    await hub.db.query(
      `UPDATE catalogue_code SET active = false, version = version + 1 WHERE catalogue = 'energy-sources' AND code = 'DIESEL'`,
    );
    await hub.db.query(
      `INSERT INTO catalogue_code (catalogue, code, label, attributes, recorded_at, recorded_by) VALUES ('asset-categories', 'PUMPED_HYDRO', 'Pumped hydro', '{"kind":"storage"}', now(), 'elsewhere')`,
    );
    hub.clock.advance(CATALOGUE_CACHE_MS + 1);
    const diesel = await register({
      category: 'CHP',
      energySource: 'DIESEL',
      exportMpan: undefined,
      importMpan: undefined,
      connectionStatus: 'PENDING',
      dno: undefined,
    });
    expect(fieldCodes(diesel.json)).toContain('energySource ASSET-ENERGY-SOURCE-UNKNOWN');
    const hydro = await register({ category: 'PUMPED_HYDRO', energySource: 'HYDRO' });
    expect(hydro.status, JSON.stringify(hydro.json)).toBe(201);
  });

  it('checkAsset takes its category behaviour from the snapshot (pure)', () => {
    const snap = new CatalogueSnapshot([
      ...BUILT_IN.codes('energy-sources'),
      {
        catalogue: 'asset-categories',
        code: 'KITE',
        active: true,
        effectiveFrom: null,
        effectiveTo: '2026-01-01',
        attributes: { kind: 'generating', defaultEnergySource: 'WIND' },
      },
      ...BUILT_IN.codes('connection-statuses'),
      ...BUILT_IN.codes('dno-codes'),
    ]);
    const base = { name: 'Kite', category: 'KITE', ratedCapacityKw: 5, connectionStatus: 'PENDING' };
    const old = checkAsset({ ...base, effectiveDate: '2025-06-01', commissioningDate: '2025-06-01' }, '2026-06-01', snap);
    expect(old.asset.energySource).toBe('WIND');
    expect(old.errors.map((e) => `${e.field} ${e.code}`)).toEqual(['exportMpan ASSET-MPAN-EXPORT-REQUIRED']);
    const now = checkAsset(base, '2026-06-01', snap);
    expect(now.errors.map((e) => `${e.field} ${e.code}`)).toEqual([
      'category ASSET-CATEGORY-UNKNOWN',
      'exportMpan ASSET-MPAN-EXPORT-REQUIRED',
    ]);
    expect(now.errors[0].detail).toContain('stopped applying on 2026-01-01');
  });
});
