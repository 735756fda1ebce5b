import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { grantDelegation } from '../src/identity/delegations';
import { registerOrganisation } from '../src/organisations/service';
import { applyDueSwitches } from '../src/switching/switches';
import { DEMO, batteryInput, expectRefused, invalid, mpanFor, testHub, type TestHub } from './harness';

/**
 * "The register tells the truth" (UC-02.06, acceptance against the FMAR design): control follows
 * the FSP link in force, a meter shared by several assets switches the right ones, service windows
 * block the whole effective day, and one switch that cannot be applied stops no other. Each outcome
 * is checked from the side of every party: the losing FSP (and its delegate), the gaining FSP, the
 * DNO and the operator.
 */
let hub: TestHub;
let n = 0;
const SWITCH_TABLES = ['asset_switch', 'asset_switch_transition', 'consent_replay', 'audit_log', 'event_outbox'] as const;
const ASSET_TABLES = [
  'asset',
  'record_history',
  'asset_alias',
  'asset_fsp_link',
  'audit_log',
  'event_outbox',
  'market_unit',
  'market_unit_member',
] as const;

beforeAll(async () => {
  hub = await testHub();
});
beforeEach(() => {
  hub.clock.set('2026-06-01T09:00:00.000Z');
});
afterAll(async () => {
  await hub?.close();
});

type Fsp = 'fsp-a' | 'fsp-b';
async function register(as: Fsp, body: Record<string, unknown>) {
  const r = await hub.call('POST', '/api/v1/assets', { as, body });
  expect(r.status, r.text).toBe(201);
  return r.json as { id: string; version: number; importMpan: string };
}
const battery = (as: Fsp, mpan: string, extra: Record<string, unknown> = {}) =>
  register(as, batteryInput(9000 + ++n, { importMpan: mpan, serialNumber: `TRUTH-${n}`, ...extra }));
const heatPump = (as: Fsp, mpan: string, extra: Record<string, unknown> = {}) =>
  register(as, {
    name: `Heat pump ${++n}`,
    category: 'HEAT_PUMP',
    ratedCapacityKw: 8,
    demandCapacityKw: 3.5,
    connectionStatus: 'CONNECTED',
    commissioningDate: '2023-10-01',
    dno: 'SPEN_SPM',
    importMpan: mpan,
    serialNumber: `HP-${n}`,
    ...extra,
  });
const evCharger = (as: Fsp, mpan: string, extra: Record<string, unknown> = {}) =>
  register(as, {
    name: `Charger ${++n}`,
    category: 'EV_CHARGER',
    ratedCapacityKw: 7.4,
    demandCapacityKw: 7.4,
    connectionStatus: 'CONNECTED',
    commissioningDate: '2024-11-15',
    dno: 'SPEN_SPM',
    importMpan: mpan,
    serialNumber: `EV-${n}`,
    ...extra,
  });
const freshMpan = () => mpanFor(4_000_000 + ++n);

/** A consent of the consumer behind `mpan` for FSP B, from the development Consumer Consent Service. */
const consentFor = async (mpan: string) => (await hub.ports.consentSimulator!.issueConsent({ mpan, fsp: DEMO['fsp-b'] })).token;
const requestSwitch = (body: Record<string, unknown>) =>
  hub.call('POST', '/api/v1/switches', { as: 'fsp-b', body, headers: { 'idempotency-key': `truth-${++n}` } });
const fspOf = async (id: string) => (await hub.db.query(`SELECT fsp_id FROM asset WHERE id = $1`, [id]))[0].fsp_id as string;
const contract = async (assetId: string, from: string, to: string) => {
  await hub.db.query(
    `INSERT INTO contract (id, system_operator_id, fsp_id, asset_id, product, period, status, recorded_at, recorded_by)
    VALUES ($1, $2, $3, $4, 'DFS', tstzrange($5::timestamptz, $6::timestamptz), 'CONFIRMED', $7::timestamptz, 'test')`,
    [hub.ports.ids.next(), DEMO.operator, DEMO['fsp-a'], assetId, from, to, hub.clock.now().toISOString()],
  );
};

/** Run the due-switch job; the outcome of the switches this test made (earlier tests leave theirs pending), in the job's order. */
const applyDue = async (ids: string[]) => (await applyDueSwitches(hub.ctx)).filter((s) => ids.includes(s.id));

/** Switch one asset from FSP A to FSP B and let the switch take effect at its London midnight. */
async function switchToB(asset: { id: string; importMpan: string }) {
  const r = await requestSwitch({ asset: asset.id, consent: await consentFor(asset.importMpan) });
  expect(r.status, r.text).toBe(201);
  hub.clock.set(r.json.effectiveAt);
  expect(await applyDueSwitches(hub.ctx)).toEqual([{ id: r.json.id, status: 'EFFECTIVE' }]);
  return r.json as { id: string };
}

describe('control follows the FSP link', () => {
  it('after the switch FSP A can no longer change, de-register, list, export, group or read the asset; FSP B can; the DNO and the operator still read it', async () => {
    const asset = await battery('fsp-a', freshMpan(), { ratedCapacityKw: 4.5 });
    const d = await grantDelegation(hub.ctx, hub.system, {
      delegatorId: DEMO['fsp-a'],
      delegateId: DEMO.installer,
      scopes: ['assets:read', 'assets:write'],
      validTo: '2027-01-01T00:00:00Z',
    });
    await hub.token('installer'); // the installer's own API client, which the delegated token names
    // Signed when used: the hub's clock moves days ahead with the switch.
    const delegate = () =>
      hub.signer.sign({
        sub: 'installer-app',
        org: DEMO['fsp-a'],
        roles: ['FSP'],
        scope: 'assets:read assets:write',
        clientId: `dev-${DEMO.installer}`,
        act: { sub: 'installer-app', org: DEMO.installer },
        extra: { delegation_id: d.id },
      });
    const read = (as: string) => hub.call('GET', `/api/v1/assets/${asset.id}`, { as });
    const listed = async (as: Fsp) =>
      (await hub.call('GET', `/api/v1/assets?identifier=mpan:${asset.importMpan}`, { as })).json.items.map((a: { id: string }) => a.id);
    const exported = async (as: Fsp) => (await hub.call('GET', '/api/v1/assets/export', { as })).text.includes(asset.id);

    // Before: FSP A and its delegate control it; FSP B does not see it.
    expect((await read('fsp-a')).status).toBe(200);
    expect((await read(await delegate())).status).toBe(200);
    expect([(await read('fsp-b')).status, (await read('fsp-b')).json.code]).toEqual([404, 'ASSET-NOT-FOUND']);
    expect(await listed('fsp-a')).toEqual([asset.id]);

    await switchToB(asset);
    expect(await fspOf(asset.id)).toBe(DEMO['fsp-b']);
    hub.clock.advance(3_600_000);

    // The losing FSP: every asset route answers as if the asset did not exist, and nothing is written.
    const version = (await read('fsp-b')).json.version;
    const patch = () =>
      hub.call('PATCH', `/api/v1/assets/${asset.id}`, {
        as: 'fsp-a',
        body: { ratedCapacityKw: 200, justification: 'losing FSP' },
        headers: { 'if-match': `"${version}"` },
      });
    await expectRefused(hub.db, ASSET_TABLES, patch, 404, 'ASSET-NOT-FOUND');
    await expectRefused(
      hub.db,
      ASSET_TABLES,
      () => hub.call('DELETE', `/api/v1/assets/${asset.id}`, { as: 'fsp-a' }),
      404,
      'ASSET-NOT-FOUND',
    );
    const unit = () =>
      hub.call('POST', '/api/v1/market-units', {
        as: 'fsp-a',
        body: { name: 'Grab back', type: 'SPU', product: 'NESO-DFS', assetIds: [asset.id] },
      });
    await expectRefused(hub.db, ASSET_TABLES, unit, 422, 'UNIT-ASSET-UNKNOWN');
    for (const path of ['', '/history', '/fsp-links', '/findings']) {
      const r = await hub.call('GET', `/api/v1/assets/${asset.id}${path}`, { as: 'fsp-a' });
      expect([path, r.status, r.json.code]).toEqual([path, 404, 'ASSET-NOT-FOUND']);
    }
    expect(await listed('fsp-a')).toEqual([]);
    expect(await exported('fsp-a')).toBe(false);
    const findings = await hub.call('GET', `/api/v1/data-quality/findings?assetId=${asset.id}`, { as: 'fsp-a' });
    expect(findings.text).not.toContain(asset.id);
    // Its delegate loses access with it.
    expect([(await read(await delegate())).status, (await read(await delegate())).json.code]).toEqual([404, 'ASSET-NOT-FOUND']);
    expect((await hub.db.query(`SELECT rated_capacity_kw::float8 AS kw, deregistered_at FROM asset WHERE id = $1`, [asset.id]))[0]).toEqual(
      { kw: 4.5, deregistered_at: null },
    );

    // The gaining FSP: reads, lists, exports and changes it.
    expect(await listed('fsp-b')).toEqual([asset.id]);
    expect(await exported('fsp-b')).toBe(true);
    const changed = await hub.call('PATCH', `/api/v1/assets/${asset.id}`, {
      as: 'fsp-b',
      body: { name: 'Battery of FSP B' },
      headers: { 'if-match': `"${version}"` },
    });
    expect(changed.status, changed.text).toBe(200);
    // News of the asset follows control: FSP B is told of the change, FSP A is not.
    const told = await hub.db.query(
      `SELECT r.organisation_id FROM event_recipient r JOIN event_outbox e ON e.id = r.event_id WHERE e.type = 'fmar.asset.updated' AND e.subject = $1 ORDER BY 1`,
      [asset.id],
    );
    expect(told.map((t) => t.organisation_id)).not.toContain(DEMO['fsp-a']);
    expect(told.map((t) => t.organisation_id)).toContain(DEMO['fsp-b']);

    // The DNO reads it (its network) and may not write; the operator reads it.
    expect((await read('dno')).status).toBe(200);
    const dnoPatch = await hub.call('PATCH', `/api/v1/assets/${asset.id}`, {
      as: 'dno',
      body: { name: 'x' },
      headers: { 'if-match': `"${version + 1}"` },
    });
    expect([dnoPatch.status, dnoPatch.json.code]).toEqual([403, 'AUTH-SCOPE-MISSING']);
    expect((await read('operator')).json.fspId).toBe(DEMO['fsp-b']);
    // The losing FSP keeps the switch record it was party to.
    expect(
      (await hub.call('GET', `/api/v1/switches?assetId=${asset.id}`, { as: 'fsp-a' })).json.items.map((s: { status: string }) => s.status),
    ).toEqual(['EFFECTIVE']);
    // A dispute on the asset raised after the switch is for its parties now: FSP B and the DNO, not FSP A.
    const dispute = await hub.call('POST', '/api/v1/disputes', {
      as: 'dno',
      body: {
        recordType: 'asset',
        recordId: asset.id,
        fields: ['name'],
        claim: { summary: 'Name differs from the site survey' },
        evidence: [{ description: 'Site survey', url: 'https://dno.example/survey/1' }],
      },
    });
    expect(dispute.status, dispute.text).toBe(201);
    expect((await hub.call('GET', `/api/v1/disputes/${dispute.json.id}`, { as: 'fsp-b' })).status).toBe(200);
    const hidden = await hub.call('GET', `/api/v1/disputes/${dispute.json.id}`, { as: 'fsp-a' });
    expect([hidden.status, hidden.json.code]).toEqual([404, 'DISPUTE-NOT-FOUND']);
  });
  it('an ASSET_OWNER organisation keeps reading its asset across the switch and is told of it; it never writes it', async () => {
    const owner = await registerOrganisation(hub.ctx, hub.system, {
      legalName: 'Truth Household Ltd',
      organisationType: 'LTD',
      registrationNumber: '09811001',
      roles: ['ASSET_OWNER'],
      status: 'ACTIVE',
    });
    const ownerToken = () => hub.token({ org: owner.id, roles: ['ASSET_OWNER'], sub: 'householder' });
    const r = await hub.call('POST', '/api/v1/assets', {
      as: 'operator',
      body: batteryInput(9000 + ++n, {
        importMpan: freshMpan(),
        serialNumber: `TRUTH-${n}`,
        organisationId: owner.id,
        fspId: DEMO['fsp-a'],
      }),
    });
    expect(r.status, r.text).toBe(201);
    const told = await hub.db.query(
      `SELECT r.reasons FROM event_recipient r JOIN event_outbox e ON e.id = r.event_id WHERE e.type = 'fmar.asset.registered' AND e.subject = $1 AND r.organisation_id = $2`,
      [r.json.id, owner.id],
    );
    expect(told.map((t) => t.reasons)).toEqual([['asset-owner']]);
    await switchToB(r.json);
    const read = await hub.call('GET', `/api/v1/assets/${r.json.id}`, { as: await ownerToken() });
    expect([read.status, read.json.fspId]).toEqual([200, DEMO['fsp-b']]);
    const write = await hub.call('PATCH', `/api/v1/assets/${r.json.id}`, {
      as: await ownerToken(),
      body: { name: 'Mine' },
      headers: { 'if-match': `"${read.json.version}"` },
    });
    expect([write.status, write.json.code]).toEqual([403, 'AUTH-SCOPE-MISSING']);
  });
});

describe('switching assets that share a meter', () => {
  it('an MPAN naming several assets of another FSP is refused with the candidates, each by ID, category and capacity, and no other FSP named', async () => {
    const mpan = freshMpan();
    const bess = await battery('fsp-a', mpan, { ratedCapacityKw: 4.5 });
    const hp = await heatPump('fsp-a', mpan);
    const ev = await evCharger('fsp-a', mpan);
    const token = await consentFor(mpan);
    const problem = await expectRefused(
      hub.db,
      SWITCH_TABLES,
      () => requestSwitch({ asset: `mpan:${mpan}`, consent: token }),
      409,
      'SWITCH-ALIAS-AMBIGUOUS',
    );
    const expected = [
      { assetId: bess.id, category: 'BESS', ratedCapacityKw: 4.5 },
      { assetId: hp.id, category: 'HEAT_PUMP', ratedCapacityKw: 8 },
      { assetId: ev.id, category: 'EV_CHARGER', ratedCapacityKw: 7.4 },
    ].sort((a, b) => (a.assetId < b.assetId ? -1 : 1));
    expect(problem.matchingAssets).toEqual(expected);
    expect(JSON.stringify(problem)).not.toContain(DEMO['fsp-a']);

    // Named explicitly, one request with one consent switches exactly the battery and the heat pump.
    const r = await requestSwitch({ assets: [bess.id, hp.id], consent: token });
    expect(r.status, r.text).toBe(201);
    expect(r.json.items.map((s: { assetId: string }) => s.assetId).sort()).toEqual([bess.id, hp.id].sort());
    expect(new Set(r.json.items.map((s: { consent: { jti: string } }) => s.consent.jti)).size).toBe(1);
    expect(
      r.json.items.every((s: { status: string; losingFspId: string }) => s.status === 'PENDING' && s.losingFspId === DEMO['fsp-a']),
    ).toBe(true);
    // The losing FSP is told of each.
    const toldA = await hub.db.query(
      `SELECT subject FROM event_outbox WHERE type = 'fmar.switch.requested' AND organisation_id = $1 AND subject = ANY($2::text[])`,
      [DEMO['fsp-a'], r.json.items.map((s: { id: string }) => s.id)],
    );
    expect(toldA.length).toBe(2);
    hub.clock.set(r.json.items[0].effectiveAt);
    expect((await applyDue(r.json.items.map((s: { id: string }) => s.id))).map((s) => s.status)).toEqual(['EFFECTIVE', 'EFFECTIVE']);
    expect([await fspOf(bess.id), await fspOf(hp.id), await fspOf(ev.id)]).toEqual([DEMO['fsp-b'], DEMO['fsp-b'], DEMO['fsp-a']]);
  });

  it('the gaining FSP’s own assets on the meter are no reason to refuse: the one other asset switches', async () => {
    const mpan = freshMpan();
    // FSP B's own charger is registered on the meter first, then FSP A's battery.
    await evCharger('fsp-b', mpan);
    const bess = await battery('fsp-a', mpan, { justification: 'the consumer also has a charger with another FSP' });
    const r = await requestSwitch({ asset: `mpan:${mpan}`, consent: await consentFor(mpan) });
    expect(r.status, r.text).toBe(201);
    expect(r.json).toMatchObject({ assetId: bess.id, losingFspId: DEMO['fsp-a'], gainingFspId: DEMO['fsp-b'], status: 'PENDING' });
  });

  it('a request names its assets in asset or assets, never both or neither', async () => {
    const mpan = freshMpan();
    const bess = await battery('fsp-a', mpan);
    const token = await consentFor(mpan);
    await expectRefused(
      hub.db,
      SWITCH_TABLES,
      () => requestSwitch({ asset: bess.id, assets: [bess.id], consent: token }),
      422,
      invalid('asset', 'SWITCH-ASSET-REFERENCE'),
    );
    await expectRefused(hub.db, SWITCH_TABLES, () => requestSwitch({ consent: token }), 422, invalid('asset', 'SWITCH-ASSET-REFERENCE'));
  });

  it('one refused asset refuses the whole request: nothing is written for the others', async () => {
    const mpan = freshMpan();
    const bess = await battery('fsp-a', mpan);
    const hp = await heatPump('fsp-a', mpan);
    await contract(hp.id, '2026-06-06T15:00:00Z', '2026-06-06T18:00:00Z');
    const refused = await expectRefused(
      hub.db,
      SWITCH_TABLES,
      async () => requestSwitch({ assets: [bess.id, hp.id], consent: await consentFor(mpan), effectiveDate: '2026-06-06' }),
      409,
      'SWITCH-SERVICE-WINDOW',
    );
    expect(refused.earliestEffectiveDate).toBe('2026-06-07');
  });
});

describe('service windows over the whole switch date', () => {
  it('a confirmed window from 16:00 to 19:00 on the effective day blocks the switch and moves the earliest date to the next day', async () => {
    const bess = await battery('fsp-a', freshMpan());
    await contract(bess.id, '2026-06-06T15:00:00Z', '2026-06-06T18:00:00Z'); // 16:00–19:00 BST
    const token = await consentFor(bess.importMpan);
    const refused = await expectRefused(
      hub.db,
      SWITCH_TABLES,
      () => requestSwitch({ asset: bess.id, consent: token, effectiveDate: '2026-06-06' }),
      409,
      'SWITCH-SERVICE-WINDOW',
    );
    expect(refused.earliestEffectiveDate).toBe('2026-06-07');
    const ok = await requestSwitch({ asset: bess.id, consent: token, effectiveDate: refused.earliestEffectiveDate });
    expect([ok.status, ok.json.effectiveDate]).toEqual([201, '2026-06-07']);
  });

  it('the London day is the one that counts across the clock change: 23:15 GMT on 25 October blocks the 25th, 23:15 BST on the 24th does not', async () => {
    hub.clock.set('2026-10-01T09:00:00.000Z');
    const late = await battery('fsp-a', freshMpan());
    await contract(late.id, '2026-10-25T23:15:00Z', '2026-10-25T23:45:00Z'); // 23:15–23:45 GMT on the 25th (a 25-hour day)
    const refused = await expectRefused(
      hub.db,
      SWITCH_TABLES,
      async () => requestSwitch({ asset: late.id, consent: await consentFor(late.importMpan), effectiveDate: '2026-10-25' }),
      409,
      'SWITCH-SERVICE-WINDOW',
    );
    expect(refused.earliestEffectiveDate).toBe('2026-10-26');
    const eve = await battery('fsp-a', freshMpan());
    await contract(eve.id, '2026-10-24T22:15:00Z', '2026-10-24T22:45:00Z'); // 23:15–23:45 BST on the 24th
    const ok = await requestSwitch({ asset: eve.id, consent: await consentFor(eve.importMpan), effectiveDate: '2026-10-25' });
    expect([ok.status, ok.json.effectiveAt]).toEqual([201, '2026-10-24T23:00:00.000Z']);
  });

  it('a window confirmed after the request over part of the effective day rejects the switch when it comes due', async () => {
    const bess = await battery('fsp-a', freshMpan());
    const r = await requestSwitch({ asset: bess.id, consent: await consentFor(bess.importMpan) });
    expect(r.status, r.text).toBe(201);
    await contract(bess.id, '2026-06-06T15:00:00Z', '2026-06-06T18:00:00Z');
    hub.clock.set(r.json.effectiveAt);
    expect(await applyDue([r.json.id])).toEqual([{ id: r.json.id, status: 'REJECTED' }]);
    expect(await fspOf(bess.id)).toBe(DEMO['fsp-a']);
  });
});

describe('one bad switch does not stop all switching', () => {
  it('an effective date before the current FSP link started is refused when requested, with the earliest date; by default that date is chosen', async () => {
    const bess = await battery('fsp-a', freshMpan());
    // A correction recorded that FSP A's link starts on 20 June at 10:00.
    await hub.db.query(`UPDATE asset SET fsp_since = '2026-06-20T09:00:00Z' WHERE id = $1`, [bess.id]);
    const token = await consentFor(bess.importMpan);
    const refused = await expectRefused(
      hub.db,
      SWITCH_TABLES,
      () => requestSwitch({ asset: bess.id, consent: token, effectiveDate: '2026-06-10' }),
      422,
      'SWITCH-EFFECTIVE-BEFORE-LINK',
    );
    expect(refused.earliestEffectiveDate).toBe('2026-06-21');
    const ok = await requestSwitch({ asset: bess.id, consent: token });
    expect([ok.status, ok.json.effectiveDate]).toEqual([201, '2026-06-21']);
  });

  it('a due switch that cannot be applied is FAILED with a reason, told to both FSPs and audited; the switches due after it take effect', async () => {
    const first = await battery('fsp-a', freshMpan());
    const second = await battery('fsp-a', freshMpan());
    const third = await battery('fsp-a', freshMpan());
    const s1 = await requestSwitch({ asset: first.id, consent: await consentFor(first.importMpan), effectiveDate: '2026-06-06' });
    const s2 = await requestSwitch({ asset: second.id, consent: await consentFor(second.importMpan), effectiveDate: '2026-06-07' });
    const s3 = await requestSwitch({ asset: third.id, consent: await consentFor(third.importMpan), effectiveDate: '2026-06-08' });
    expect([s1.status, s2.status, s3.status]).toEqual([201, 201, 201]);
    // Direct changes after the requests: the first asset's link now starts after its switch's effective time;
    // the second has a recorded period that overlaps the one the switch would close (a data error when applied).
    await hub.db.query(`UPDATE asset SET fsp_since = '2026-06-06T12:00:00Z' WHERE id = $1`, [first.id]);
    await hub.db.query(
      `INSERT INTO asset_fsp_link (asset_id, fsp_id, valid, recorded_at, recorded_by) VALUES ($1, $2, tstzrange('2026-06-02T00:00:00Z', '2026-06-03T00:00:00Z'), now(), 'test')`,
      [second.id, DEMO['fsp-a']],
    );
    hub.clock.set('2026-06-08T09:00:00.000Z');
    expect(await applyDue([s1.json.id, s2.json.id, s3.json.id])).toEqual([
      { id: s1.json.id, status: 'FAILED' },
      { id: s2.json.id, status: 'FAILED' },
      { id: s3.json.id, status: 'EFFECTIVE' },
    ]);
    expect([await fspOf(first.id), await fspOf(second.id), await fspOf(third.id)]).toEqual([DEMO['fsp-a'], DEMO['fsp-a'], DEMO['fsp-b']]);

    for (const [s, why] of [
      [s1, "before the asset's current FSP link started"],
      [s2, 'could not be applied'],
    ] as const) {
      for (const as of ['fsp-a', 'fsp-b'] as const) {
        const seen = await hub.call('GET', `/api/v1/switches/${s.json.id}`, { as });
        expect(seen.json.status).toBe('FAILED');
        expect(seen.json.closeReason).toContain(why);
        expect(seen.json.transitions.map((t: { to: string }) => t.to)).toEqual(['REQUESTED', 'PENDING', 'FAILED']);
      }
      const told = await hub.db.query(
        `SELECT organisation_id FROM event_outbox WHERE type = 'fmar.switch.failed' AND subject = $1 ORDER BY 1`,
        [s.json.id],
      );
      expect(told.map((t) => t.organisation_id)).toEqual([DEMO['fsp-a'], DEMO['fsp-b']].sort());
      const audit = await hub.db.query(`SELECT action FROM audit_log WHERE record_id = $1 AND action = 'switch.failed'`, [s.json.id]);
      expect(audit.length).toBe(1);
    }
    // Nothing is left to retry: the next run has nothing due.
    expect(await applyDueSwitches(hub.ctx)).toEqual([]);
  });
});

describe('concurrency (truly concurrent on PostgreSQL; serialised on PGlite)', () => {
  it('concurrent requests naming the same two assets of one meter, in either order: exactly one request wins, for both assets', async () => {
    const mpan = freshMpan();
    const bess = await battery('fsp-a', mpan);
    const hp = await heatPump('fsp-a', mpan);
    const tokens = await Promise.all(Array.from({ length: 20 }, () => consentFor(mpan)));
    const results = await Promise.all(
      tokens.map((consent, i) => requestSwitch({ assets: i % 2 ? [bess.id, hp.id] : [hp.id, bess.id], consent })),
    );
    const won = results.filter((r) => r.status === 201);
    expect(won).toHaveLength(1);
    expect(won[0].json.items).toHaveLength(2);
    expect(results.filter((r) => r.status !== 201).map((r) => `${r.status} ${r.json.code}`)).toEqual(
      Array(19).fill('409 SWITCH-IN-PROGRESS'),
    );
    const [{ n }] = await hub.db.query(`SELECT count(*)::int AS n FROM asset_switch WHERE asset_id = ANY($1::text[])`, [[bess.id, hp.id]]);
    expect(n).toBe(2);
  }, 120_000);

  it('two due-switch jobs at once, with a switch that cannot be applied: each switch is closed exactly once', async () => {
    const assets = [await battery('fsp-a', freshMpan()), await battery('fsp-a', freshMpan()), await battery('fsp-a', freshMpan())];
    const ids: string[] = [];
    for (const a of assets) {
      const r = await requestSwitch({ asset: a.id, consent: await consentFor(a.importMpan), effectiveDate: '2026-06-06' });
      expect(r.status, r.text).toBe(201);
      ids.push(r.json.id);
    }
    await hub.db.query(`UPDATE asset SET fsp_since = '2026-06-06T12:00:00Z' WHERE id = $1`, [assets[1].id]);
    await hub.db.query(
      `INSERT INTO asset_fsp_link (asset_id, fsp_id, valid, recorded_at, recorded_by) VALUES ($1, $2, tstzrange('2026-06-02T00:00:00Z', '2026-06-03T00:00:00Z'), now(), 'test')`,
      [assets[2].id, DEMO['fsp-a']],
    );
    hub.clock.set('2026-06-06T09:00:00.000Z');
    await Promise.all([applyDueSwitches(hub.ctx), applyDueSwitches(hub.ctx)]);
    const closed = await hub.db.query(
      `SELECT switch_id, to_status FROM asset_switch_transition WHERE switch_id = ANY($1::text[]) AND from_status = 'PENDING' ORDER BY switch_id`,
      [ids],
    );
    expect(closed.map((t) => [t.switch_id, t.to_status])).toEqual(
      [
        [ids[0], 'EFFECTIVE'],
        [ids[1], 'FAILED'],
        [ids[2], 'FAILED'],
      ].sort((a, b) => (a[0] < b[0] ? -1 : 1)),
    );
    const [{ n }] = await hub.db.query(
      `SELECT count(*)::int AS n FROM event_outbox WHERE type = 'fmar.switch.failed' AND subject = ANY($1::text[])`,
      [ids],
    );
    expect(n).toBe(4);
  }, 120_000);
});
