import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO, batteryInput, testHub, type TestHub } from './harness';

/**
 * UC-05.06: reads of private data are logged, one record per request (or export page), and the
 * organisation whose data was read sees who read it (GET /api/v1/organisations/{id}/reads).
 */

let hub: TestHub;
beforeAll(async () => {
  hub = await testHub();
});
afterAll(async () => {
  await hub?.close();
});

let n = 0;
async function asset(as: 'fsp-a' | 'fsp-b') {
  const i = ++n;
  const r = await hub.call('POST', '/api/v1/assets', { as, body: batteryInput(9_100 + i, { serialNumber: `PR-${i}` }) });
  expect(r.status, JSON.stringify(r.json)).toBe(201);
  return r.json as { id: string; importMpan: string };
}

/** The private-read records written since audit_log id `after`. */
async function readsSince(after: number) {
  return hub.db.query<{ action: string; record_type: string; record_id: string; organisation_id: string | null; actor: any; detail: any }>(
    `SELECT action, record_type, record_id, organisation_id, actor, detail FROM audit_log
    WHERE id > $1 AND action IN ('asset.read', 'organisation.passport-read', 'switch.consent-read') ORDER BY id`,
    [after],
  );
}
const lastId = async () => Number((await hub.db.query(`SELECT coalesce(max(id), 0)::int AS n FROM audit_log`))[0].n);

describe('reads of assets', () => {
  it('an FSP reading and looking up its own assets writes nothing (the hot lookup path stays one query)', async () => {
    const a = await asset('fsp-a');
    const before = await lastId();
    for (const path of [
      `/api/v1/assets?identifier=mpan:${a.importMpan}`,
      `/api/v1/assets/${a.id}`,
      `/api/v1/assets/${a.id}/history`,
      `/api/v1/assets/${a.id}/fsp-links`,
      '/api/v1/assets',
      '/api/v1/assets/export',
    ]) {
      expect((await hub.call('GET', path, { as: 'fsp-a' })).status, path).toBe(200);
    }
    expect(await lastId()).toBe(before);
  });

  it('a DNO’s lookup by MPAN writes one asset.read record naming the owner and the asset', async () => {
    const a = await asset('fsp-a');
    const before = await lastId();
    const r = await hub.call('GET', `/api/v1/assets?identifier=mpan:${a.importMpan}`, { as: 'dno' });
    expect(r.json.items.map((x: any) => x.id)).toEqual([a.id]);
    const reads = await readsSince(before);
    expect(reads).toHaveLength(1);
    expect(reads[0]).toMatchObject({
      action: 'asset.read',
      record_type: 'asset',
      record_id: 'lookup',
      organisation_id: DEMO['fsp-a'],
      actor: { sub: 'test-dno', org: DEMO.dno },
      detail: {
        route: 'GET /api/v1/assets',
        organisations: [DEMO['fsp-a']],
        read: { [DEMO['fsp-a']]: { records: 1, ids: [a.id] } },
        asked: { identifier: `mpan:${a.importMpan}`, limit: 100 },
      },
    });
  });

  it('a page of many assets of two organisations is one record, not one per row', async () => {
    const mine = [await asset('fsp-a'), await asset('fsp-a'), await asset('fsp-b')];
    const before = await lastId();
    const r = await hub.call('GET', '/api/v1/assets?limit=1000', { as: 'dno' });
    expect(r.status).toBe(200);
    expect(r.json.items.length).toBeGreaterThan(3);
    const reads = await readsSince(before);
    expect(reads).toHaveLength(1);
    expect(reads[0].record_id).toBe('list');
    expect(reads[0].organisation_id).toBeNull();
    expect(reads[0].detail.organisations).toEqual([DEMO['fsp-a'], DEMO['fsp-b']].sort());
    const served = (org: string) => r.json.items.filter((x: any) => x.organisationId === org || x.fspId === org).map((x: any) => x.id);
    expect(reads[0].detail.read[DEMO['fsp-a']]).toEqual({ records: served(DEMO['fsp-a']).length, ids: served(DEMO['fsp-a']) });
    expect(reads[0].detail.read[DEMO['fsp-b']].ids).toContain(mine[2].id);
  });

  it('single reads, history and FSP links by a DNO or the operator are logged; an unseen asset (404) is not', async () => {
    const a = await asset('fsp-b');
    const before = await lastId();
    for (const [as, path] of [
      ['dno', `/api/v1/assets/${a.id}`],
      ['operator', `/api/v1/assets/${a.id}/history`],
      ['dno', `/api/v1/assets/${a.id}/fsp-links`],
    ] as const) {
      expect((await hub.call('GET', path, { as })).status).toBe(200);
    }
    expect((await hub.call('GET', `/api/v1/assets/${a.id}`, { as: 'fsp-a' })).status).toBe(404);
    const reads = await readsSince(before);
    expect(reads.map((x) => [x.actor.org, x.record_id, x.detail.route, x.detail.organisations])).toEqual([
      [DEMO.dno, a.id, 'GET /api/v1/assets/{id}', [DEMO['fsp-b']]],
      [DEMO.operator, a.id, 'GET /api/v1/assets/{id}/history', [DEMO['fsp-b']]],
      [DEMO.dno, a.id, 'GET /api/v1/assets/{id}/fsp-links', [DEMO['fsp-b']]],
    ]);
  });

  it('a read that cannot be logged fails (500) and serves no private data', async () => {
    const a = await asset('fsp-a');
    await hub.db.query(
      `CREATE FUNCTION test_refuse_asset_read() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.action = 'asset.read' THEN RAISE EXCEPTION 'audit unavailable'; END IF; RETURN NEW; END $$`,
    );
    await hub.db.query(
      `CREATE TRIGGER test_refuse_asset_read BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION test_refuse_asset_read()`,
    );
    try {
      const r = await hub.call('GET', `/api/v1/assets?identifier=mpan:${a.importMpan}`, { as: 'dno' });
      expect(r.status).toBe(500);
      expect(r.text).not.toContain(a.id);
      const one = await hub.call('GET', `/api/v1/assets/${a.id}`, { as: 'dno' });
      expect(one.status).toBe(500);
      expect(one.text).not.toContain(a.importMpan);
      // An export has answered 200 before its first page: the page is not sent, the stream fails.
      const exp = await hub
        .call('GET', '/api/v1/assets/export?format=ndjson', { as: 'dno' })
        .catch((e: unknown) => ({ status: -1, text: String(e) }));
      expect(exp.text).not.toContain(a.id);
      // The FSP's own reads log nothing and are unaffected.
      expect((await hub.call('GET', `/api/v1/assets/${a.id}`, { as: 'fsp-a' })).status).toBe(200);
    } finally {
      await hub.db.query(`DROP TRIGGER test_refuse_asset_read ON audit_log`);
      await hub.db.query(`DROP FUNCTION test_refuse_asset_read()`);
    }
  });

  it('an export by a DNO writes one record per page, with counts and the ID range', async () => {
    const before = await lastId();
    const r = await hub.call('GET', '/api/v1/assets/export?format=ndjson', { as: 'dno' });
    expect(r.status).toBe(200);
    const rows = r.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const reads = await readsSince(before);
    expect(reads).toHaveLength(1);
    const ofA = rows.filter((x) => x.organisationId === DEMO['fsp-a'] || x.fspId === DEMO['fsp-a']).map((x) => x.id);
    expect(reads[0]).toMatchObject({
      record_id: 'export',
      detail: {
        route: 'GET /api/v1/assets/export',
        read: { [DEMO['fsp-a']]: { records: ofA.length, firstId: ofA[0], lastId: ofA.at(-1) } },
      },
    });
  });

  it('a DSO’s CIM export is logged the same way, one record per page', async () => {
    const before = await lastId();
    const r = await hub.call('GET', '/api/v1/cim/export', { as: 'dno' });
    expect(r.status).toBe(200);
    const reads = await readsSince(before);
    expect(reads).toHaveLength(1);
    expect(reads[0]).toMatchObject({
      action: 'asset.read',
      record_id: 'export',
      actor: { org: DEMO.dno },
      detail: { route: 'GET /api/v1/cim/export' },
    });
    expect(reads[0].detail.organisations).toContain(DEMO['fsp-a']);
  });
});

describe('reads of passports and consent evidence', () => {
  it('the operator’s organisation list writes one passport-read record per page naming the organisations with passports; an FSP’s list writes none', async () => {
    const before = await lastId();
    const r = await hub.call('GET', '/api/v1/organisations?limit=1000', { as: 'operator' });
    const withPassport = r.json.items
      .filter((o: any) => o.passport && o.id !== DEMO.operator)
      .map((o: any) => o.id)
      .sort();
    expect(withPassport.length).toBeGreaterThan(0);
    expect((await hub.call('GET', '/api/v1/organisations?limit=1000', { as: 'fsp-b' })).status).toBe(200);
    const reads = await readsSince(before);
    expect(reads).toHaveLength(1);
    expect(reads[0]).toMatchObject({
      action: 'organisation.passport-read',
      record_id: 'list',
      actor: { org: DEMO.operator },
      detail: { route: 'GET /api/v1/organisations', organisations: withPassport },
    });
  });

  it('a switch’s consent evidence read by the operator is logged for both FSPs; the FSPs reading their own switch are not', async () => {
    const a = await asset('fsp-a');
    const consent = await hub.call('POST', '/dev/consent-service/consents', { body: { mpan: a.importMpan, fsp: DEMO['fsp-b'] } });
    expect(consent.status, consent.text).toBe(201);
    const s = await hub.call('POST', '/api/v1/switches', {
      as: 'fsp-b',
      body: { asset: a.id, consent: consent.json.token },
      headers: { 'idempotency-key': `pr-${a.id}` },
    });
    expect(s.status, s.text).toBe(201);
    const before = await lastId();
    for (const as of ['fsp-a', 'fsp-b'] as const) expect((await hub.call('GET', `/api/v1/switches/${s.json.id}`, { as })).status).toBe(200);
    expect(await readsSince(before)).toEqual([]);
    expect((await hub.call('GET', `/api/v1/switches/${s.json.id}`, { as: 'operator' })).status).toBe(200);
    expect((await hub.call('GET', `/api/v1/switches?assetId=${a.id}`, { as: 'operator' })).json.items).toHaveLength(1);
    const reads = await readsSince(before);
    const parties = [DEMO['fsp-a'], DEMO['fsp-b']].sort();
    expect(reads.map((x) => [x.action, x.record_id, x.detail.organisations])).toEqual([
      ['switch.consent-read', s.json.id, parties],
      ['switch.consent-read', 'list', parties],
    ]);
  });
});

describe('GET /api/v1/organisations/{id}/reads', () => {
  it('the organisation sees who read its data, its own share only; another organisation gets 404, the operator may look', async () => {
    const mine = await asset('fsp-a');
    const theirs = await asset('fsp-b');
    hub.clock.advance(1000);
    const since = hub.clock.now().toISOString();
    await hub.call('GET', `/api/v1/assets?identifier=mpan:${mine.importMpan}`, { as: 'dno' });
    await hub.call('GET', '/api/v1/assets?limit=1000', { as: 'dno' });
    const r = await hub.call('GET', `/api/v1/organisations/${DEMO['fsp-b']}/reads?from=${encodeURIComponent(since)}`, { as: 'fsp-b' });
    expect(r.status, r.text).toBe(200);
    // The DNO's lookup of fsp-a's MPAN is not fsp-b's business; the list that served fsp-b's assets is.
    expect(r.json.items).toHaveLength(1);
    expect(r.json.items[0]).toMatchObject({
      action: 'asset.read',
      recordType: 'asset',
      recordId: 'list',
      route: 'GET /api/v1/assets',
      reader: { organisationId: DEMO.dno, subject: 'test-dno', clientId: `dev-${DEMO.dno}`, actingFor: null },
    });
    expect(r.json.items[0].recordIds).toContain(theirs.id);
    expect(r.json.items[0].recordIds).not.toContain(mine.id);
    expect(r.text).not.toContain(DEMO['fsp-a']);
    expect(r.text).not.toContain(mine.importMpan);
    const a = await hub.call('GET', `/api/v1/organisations/${DEMO['fsp-a']}/reads?from=${encodeURIComponent(since)}`, { as: 'fsp-a' });
    expect(a.json.items.map((x: any) => x.recordId)).toEqual(['lookup', 'list']);

    const other = await hub.call('GET', `/api/v1/organisations/${DEMO['fsp-a']}/reads`, { as: 'fsp-b' });
    expect(other.status).toBe(404);
    expect(other.json.code).toBe('ORG-NOT-FOUND');
    expect(
      (await hub.call('GET', `/api/v1/organisations/${DEMO['fsp-a']}/reads?limit=1`, { as: 'operator' })).json.nextCursor,
    ).not.toBeNull();
    const bad = await hub.call('GET', `/api/v1/organisations/${DEMO['fsp-a']}/reads?cursor=abc`, { as: 'fsp-a' });
    expect(bad.status).toBe(400);
    expect(bad.json.code).toBe('REQUEST-CURSOR-INVALID');
  });
});
