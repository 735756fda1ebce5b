import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerAssets } from '../src/assets/service';
import { seedDemoMarket } from '../src/demo/market';
import { Problem } from '../src/http/problem';
import { MemoryRegistries } from '../src/quality/registries';
import { startValidationWorker, validatePending } from '../src/quality/service';
import { applyDueSwitches } from '../src/switching/switches';
import { DEMO, WRITE_TABLES, batteryInput, consentFor, expectRefused, invalid, mpanFor, rowCounts, testHub, type TestHub } from './harness';

/**
 * "The register tells the truth" (UC-02.01, UC-02.03): the consent an asset is registered under is
 * verified and its revocation suspends the asset; a status says what was checked; a material change
 * of a qualified unit's member flags the unit.
 */
let hub: TestHub;
let so: { id: string };
beforeAll(async () => {
  hub = await testHub();
  const o = await seedDemoMarket(hub.ctx, hub.system);
  so = { id: o.id };
});
afterAll(async () => {
  await hub?.close();
});

const TABLES = [...WRITE_TABLES, 'asset_consent', 'consent_replay'];
let n = 0;
const battery = (extra: Record<string, unknown> = {}) => batteryInput(9_100_000 + ++n, { serialNumber: `TR-${n}`, ...extra });
const post = (body: unknown, as = 'fsp-a') => hub.call('POST', '/api/v1/assets', { as, body });
const patch = (id: string, version: number, body: unknown, as = 'fsp-a') =>
  hub.call('PATCH', `/api/v1/assets/${id}`, { as, body, headers: { 'if-match': `"${version}"` } });
const statusOf = async (id: string) => (await hub.db.query(`SELECT status FROM asset WHERE id = $1`, [id]))[0].status as string;
const eventsOf = (type: string, subject: string) =>
  hub.db.query<{ data: any; organisation_id: string }>(
    `SELECT data, organisation_id FROM event_outbox WHERE type = $1 AND subject = $2 ORDER BY id`,
    [type, subject],
  );

async function registered(extra: Record<string, unknown> = {}, as = 'fsp-a') {
  const r = await post(battery(extra), as);
  expect(r.status, r.text).toBe(201);
  return r.json;
}

describe('consent at registration (UC-02.01 step 2)', () => {
  it('a bogus consentReference is refused with its rule code, and nothing is written', async () => {
    await expectRefused(hub.db, TABLES, () => post(battery({ consentReference: 'ccs-123' })), 422, 'CONSENT-METHOD-UNSUPPORTED');
    await expectRefused(
      hub.db,
      TABLES,
      () => post(battery({ consentReference: 'eyJhbGciOiJFUzI1NiJ9.e30.c2ln' })),
      422,
      'CONSENT-TOKEN-INVALID',
    );
  });

  it('a consent for another MPAN or another FSP is refused', async () => {
    const input = battery();
    const otherMpan = await consentFor(hub, mpanFor(9_199_999), DEMO['fsp-a']);
    await expectRefused(hub.db, TABLES, () => post({ ...input, consentReference: otherMpan.token }), 422, 'CONSENT-MPAN-MISMATCH');
    const otherFsp = await consentFor(hub, input.importMpan, DEMO['fsp-b']);
    await expectRefused(hub.db, TABLES, () => post({ ...input, consentReference: otherFsp.token }), 422, 'CONSENT-FSP-MISMATCH');
    // The operator registering for fsp-a needs a consent naming fsp-a, the FSP that will control the asset.
    await expectRefused(
      hub.db,
      TABLES,
      () => post({ ...input, organisationId: DEMO['fsp-a'], consentReference: otherFsp.token }, 'operator'),
      422,
      'CONSENT-FSP-MISMATCH',
    );
  });

  it('a verified consent is kept as evidence (never the token); the asset shows its ID; the audit names it', async () => {
    const input = battery();
    const c = await consentFor(hub, input.importMpan, DEMO['fsp-a']);
    const r = await post({ ...input, consentReference: c.token });
    expect(r.status, r.text).toBe(201);
    expect(r.json.consentReference).toBe(c.jti);
    const [row] = await hub.db.query(`SELECT fsp_id, consent_jti, token_hash, consent FROM asset_consent WHERE asset_id = $1`, [r.json.id]);
    expect(row).toMatchObject({
      fsp_id: DEMO['fsp-a'],
      consent_jti: c.jti,
      token_hash: c.tokenHash,
      consent: { method: 'jwt', jti: c.jti, claims: { mpan: input.importMpan, fsp: DEMO['fsp-a'] } },
    });
    expect(JSON.stringify(row)).not.toContain(c.token.split('.')[2]);
    const [audit] = await hub.db.query<{ detail: any }>(
      `SELECT detail FROM audit_log WHERE action = 'asset.registered' AND record_id = $1`,
      [r.json.id],
    );
    expect(audit.detail.consent).toEqual({ issuer: hub.ports.consentSimulator!.issuer, jti: c.jti, tokenHash: c.tokenHash, method: 'jwt' });
  });

  it('a consent registers the assets of one request (two behind one meter); another request may not use it again', async () => {
    const mpan = mpanFor(9_150_000);
    const c = await consentFor(hub, mpan, DEMO['fsp-a']);
    const rows = [
      battery({ importMpan: mpan, consentReference: c.token }),
      { ...battery({ importMpan: mpan, consentReference: c.token }), category: 'EV_CHARGER', ratedCapacityKw: 7 },
    ];
    const r = await hub.call('POST', '/api/v1/assets/bulk', {
      as: 'fsp-a',
      text: rows.map((x) => JSON.stringify(x)).join('\n'),
      contentType: 'application/x-ndjson',
    });
    expect(r.status, r.text).toBe(201);
    expect(Number((await hub.db.query(`SELECT count(*)::int AS n FROM asset_consent WHERE consent_jti = $1`, [c.jti]))[0].n)).toBe(2);
    await expectRefused(hub.db, TABLES, () => post(battery({ importMpan: mpan, consentReference: c.token })), 409, 'CONSENT-REPLAYED');
  });

  it('a bulk batch with one bad consent writes nothing and uses up none of its good consents', async () => {
    const good = battery();
    const c = await consentFor(hub, good.importMpan, DEMO['fsp-a']);
    const bad = battery({ consentReference: (await consentFor(hub, mpanFor(9_199_998), DEMO['fsp-a'])).token });
    const body = [{ ...good, consentReference: c.token }, bad].map((x) => JSON.stringify(x)).join('\n');
    const refused = await expectRefused(
      hub.db,
      TABLES,
      () => hub.call('POST', '/api/v1/assets/bulk', { as: 'fsp-a', text: body, contentType: 'application/x-ndjson' }),
      422,
      'BULK-ROWS-INVALID',
    );
    // Rows are numbered by their line in the body (1-based).
    expect(refused.results.map((x: any) => [x.row, x.errors.map((e: any) => [e.field, e.code])])).toEqual([
      [2, [['consentReference', 'CONSENT-MPAN-MISMATCH']]],
    ]);
    // A dry run checks consents too, and uses none up.
    const dry = await hub.call('POST', '/api/v1/assets/bulk?dryRun=true', {
      as: 'fsp-a',
      text: JSON.stringify({ ...good, consentReference: c.token }),
      contentType: 'application/x-ndjson',
    });
    expect(dry.status, dry.text).toBe(200);
    expect((await post({ ...good, consentReference: c.token })).status).toBe(201);
  });

  it('without a consent service a consentReference is refused: 503 CONSENT-SERVICE-UNAVAILABLE, nothing written (fail closed)', async () => {
    const before = await rowCounts(hub.db, TABLES);
    const input = battery();
    const c = await consentFor(hub, input.importMpan, DEMO['fsp-a']);
    const err = await registerAssets({ ...hub.ctx, consent: undefined }, hub.system, [
      { ...input, organisationId: DEMO['fsp-a'], consentReference: c.token },
    ]).catch((e) => e);
    expect(err).toBeInstanceOf(Problem);
    expect([err.status, err.code]).toEqual([503, 'CONSENT-SERVICE-UNAVAILABLE']);
    expect(await rowCounts(hub.db, TABLES)).toEqual(before);
  });

  it('revoking the consent suspends the asset (SUSPENDED_CONSENT_REVOKED), announced to its FSP; a second notice changes nothing', async () => {
    const input = battery();
    const c = await consentFor(hub, input.importMpan, DEMO['fsp-a']);
    const a = (await post({ ...input, consentReference: c.token })).json;
    const { notice } = await hub.ports.consentSimulator!.issueRevocation({ jti: c.jti, reason: 'consumer withdrew' });
    const r = await hub.call('POST', '/consent/revocations', { text: notice, contentType: 'application/jwt' });
    expect(r.status, r.text).toBe(200);
    expect(r.json.suspended).toEqual([a.id]);
    expect(await statusOf(a.id)).toBe('SUSPENDED_CONSENT_REVOKED');
    const [ev] = await eventsOf('fmar.asset.consent-revoked', a.id);
    expect(ev).toMatchObject({
      organisation_id: DEMO['fsp-a'],
      data: {
        assetId: a.id,
        status: 'SUSPENDED_CONSENT_REVOKED',
        fromStatus: 'PENDING_VALIDATION',
        consentJti: c.jti,
        registrationConsent: true,
      },
    });
    const again = await hub.call('POST', '/consent/revocations', {
      text: (await hub.ports.consentSimulator!.issueRevocation({ jti: c.jti })).notice,
      contentType: 'application/jwt',
    });
    expect(again.json.suspended).toEqual([]);
    // Named by its ID again (re-registration), a revoked consent is refused.
    await expectRefused(
      hub.db,
      TABLES,
      () => post(battery({ importMpan: input.importMpan, consentReference: c.jti })),
      422,
      'CONSENT-REVOKED',
    );
  });

  it('an update verifies a new consent, and refuses an MPAN change that leaves the stored consent bound to the old MPAN', async () => {
    const input = battery();
    const c = await consentFor(hub, input.importMpan, DEMO['fsp-a']);
    const a = (await post({ ...input, consentReference: c.token })).json;
    await expectRefused(
      hub.db,
      TABLES,
      () => patch(a.id, 1, { consentReference: 'eyJhbGciOiJFUzI1NiJ9.e30.c2ln' }),
      422,
      'CONSENT-TOKEN-INVALID',
    );
    const moved = mpanFor(9_170_000 + n);
    await expectRefused(hub.db, TABLES, () => patch(a.id, 1, { importMpan: moved }), 422, 'CONSENT-MPAN-MISMATCH');
    const fresh = await consentFor(hub, moved, DEMO['fsp-a']);
    const ok = await patch(a.id, 1, { importMpan: moved, consentReference: fresh.token });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.json.consentReference).toBe(fresh.jti);
    expect((await hub.db.query(`SELECT consent_jti FROM asset_consent WHERE asset_id = $1`, [a.id]))[0].consent_jti).toBe(fresh.jti);
  });

  it('concurrent registrations presenting one consent: exactly one is registered, the other is CONSENT-REPLAYED', async () => {
    const mpan = mpanFor(9_160_000);
    const c = await consentFor(hub, mpan, DEMO['fsp-a']);
    const before = await rowCounts(hub.db, ['asset']);
    const rs = await Promise.all([1, 2, 3].map(() => post(battery({ importMpan: mpan, consentReference: c.token }))));
    expect(rs.map((r) => r.status).sort()).toEqual([201, 409, 409]);
    expect(rs.filter((r) => r.status === 409).map((r) => r.json.code)).toEqual(['CONSENT-REPLAYED', 'CONSENT-REPLAYED']);
    expect((await rowCounts(hub.db, ['asset'])).asset).toBe(before.asset + 1);
  });
});

describe('status that means what it says', () => {
  const mem = new MemoryRegistries();
  const known = (mpan: string) => mem.points.set(mpan, { mpan, distributorId: mpan.slice(0, 2), gspGroup: '_N', energised: true });

  it('a Verified asset patched to an MPAN the registry does not know goes back to Pending Validation, then to Query, each announced', async () => {
    const a = await registered();
    known(a.importMpan);
    await validatePending(hub.ctx, mem);
    expect(await statusOf(a.id)).toBe('VERIFIED');
    const r = await patch(a.id, 2, { importMpan: mpanFor(9_180_000 + n) });
    expect(r.status, r.text).toBe(200);
    expect(r.json.status).toBe('PENDING_VALIDATION');
    expect((await eventsOf('fmar.asset.status-changed', a.id)).map((e) => [e.data.fromStatus, e.data.status])).toEqual([
      ['PENDING_VALIDATION', 'VERIFIED'],
      ['VERIFIED', 'PENDING_VALIDATION'],
    ]);
    await validatePending(hub.ctx, mem);
    expect(await statusOf(a.id)).toBe('QUERY');
    expect((await eventsOf('fmar.asset.status-changed', a.id)).at(-1)!.data).toMatchObject({
      fromStatus: 'PENDING_VALIDATION',
      status: 'QUERY',
    });
  });

  it('a change to a field no check reads keeps the status', async () => {
    const a = await registered();
    known(a.importMpan);
    await validatePending(hub.ctx, mem);
    const r = await patch(a.id, 2, { name: 'Renamed battery', manufacturer: 'Acme' });
    expect(r.json.status).toBe('VERIFIED');
  });

  it.each([
    ['serial number', { serialNumber: 'TR-NEW-SERIAL' }],
    ['DNO', { dno: 'SPEN_SPD' }],
    ['MCS certificate', { aliases: [{ scheme: 'mcs', value: 'MCS-TR-1' }] }],
  ])('a change of the %s returns a Verified asset to Pending Validation', async (_what, change) => {
    const a = await registered();
    known(a.importMpan);
    await validatePending(hub.ctx, mem);
    const r = await patch(a.id, 2, change);
    expect(r.status, r.text).toBe(200);
    expect(r.json.status).toBe('PENDING_VALIDATION');
  });

  it('the checks run by themselves: the validation job validates a new registration', async () => {
    const a = await registered();
    known(a.importMpan);
    const job = startValidationWorker(hub.ctx, mem, { intervalMs: 10, retryAfterMs: 60_000 });
    try {
      await vi.waitFor(async () => expect(await statusOf(a.id)).toBe('VERIFIED'), { timeout: 10_000, interval: 20 });
    } finally {
      await job.stop();
    }
  });

  it('an asset a registry could not answer for stays Pending Validation and is asked again only after the retry interval', async () => {
    const a = await registered();
    known(a.importMpan);
    mem.down.meterPoints = true;
    try {
      await validatePending(hub.ctx, mem, { retryAfterMs: 60_000 });
      expect(await statusOf(a.id)).toBe('PENDING_VALIDATION');
      mem.down.meterPoints = false;
      const calls = mem.calls;
      await validatePending(hub.ctx, mem, { retryAfterMs: 60_000 });
      expect(mem.calls).toBe(calls);
      hub.clock.advance(61_000);
      await validatePending(hub.ctx, mem, { retryAfterMs: 60_000 });
      expect(await statusOf(a.id)).toBe('VERIFIED');
    } finally {
      mem.down.meterPoints = false;
    }
  });

  it('MCS applies only to installations of 50 kW or less: a 5 MW solar farm without a certificate is Verified, a 4 kW roof is Query', async () => {
    const farm = await registered({
      category: 'SOLAR_PV',
      ratedCapacityKw: 5000,
      generationCapacityKw: 5000,
      energySource: 'SOLAR',
      importMpan: undefined,
      exportMpan: mpanFor(9_190_000 + n),
    });
    const roof = await registered({
      category: 'SOLAR_PV',
      ratedCapacityKw: 4,
      generationCapacityKw: 4,
      energySource: 'SOLAR',
      importMpan: undefined,
      exportMpan: mpanFor(9_190_000 + n),
    });
    known(farm.exportMpan);
    known(roof.exportMpan);
    await validatePending(hub.ctx, mem);
    expect(await statusOf(farm.id)).toBe('VERIFIED');
    expect(await statusOf(roof.id)).toBe('QUERY');
    const findings = await hub.call('GET', `/api/v1/assets/${roof.id}/findings`, { as: 'fsp-a' });
    expect(findings.json.items.map((f: any) => f.ruleCode)).toContain('DQ-MCS-CERTIFICATE');
  });
});

describe('market units follow their members', () => {
  const unitOf = async (id: string) => (await hub.call('GET', `/api/v1/market-units/${id}`, { as: 'operator' })).json;
  // A fresh token each time: the switches below move the clock past a token's life.
  const qualify = async (unitId: string) =>
    hub.call('POST', `/api/v1/market-units/${unitId}/qualifications`, {
      as: await hub.token({ org: so.id, roles: ['SYSTEM_OPERATOR'] }),
      body: { outcome: 'QUALIFIED', validFrom: hub.clock.now().toISOString() },
    });

  it('a qualified unit whose member’s capacity rose from 5 to 500 kW is flagged Re-assessment Required, with its notice', async () => {
    const [bess] = await hub.db.query<{ id: string; version: number; market_unit_id: string }>(
      `SELECT a.id, a.version, m.market_unit_id FROM asset a JOIN market_unit_member m ON m.asset_id = a.id AND m.active WHERE a.friendly_code = 'ALPHA-BESS-1'`,
    );
    expect((await unitOf(bess.market_unit_id)).reassessmentRequired).toBe(false);
    const r = await patch(bess.id, bess.version, { ratedCapacityKw: 500 });
    expect(r.status, r.text).toBe(200);
    const unit = await unitOf(bess.market_unit_id);
    expect(unit.reassessmentRequired).toBe(true);
    expect(unit.reassessmentReason).toMatch(/ratedCapacityKw/);
    const [ev] = await eventsOf('fmar.market-unit.reassessment-required', bess.market_unit_id);
    expect(ev.data).toMatchObject({ changedAssetId: bess.id, changed: ['ratedCapacityKw'], productOwnerIds: [so.id] });
  });

  it('a change no unit cares about (the name) flags nothing', async () => {
    const a1 = await registered();
    const a2 = await registered();
    const u = await hub.call('POST', '/api/v1/market-units', {
      as: 'fsp-a',
      body: { name: `Truth SPG ${n}`, type: 'SPG', product: 'NESO-DC', assetIds: [a1.id, a2.id] },
    });
    expect(u.status, u.text).toBe(201);
    expect((await qualify(u.json.id)).status).toBe(201);
    expect((await patch(a1.id, 1, { name: 'Only a new name' })).status).toBe(200);
    expect((await unitOf(u.json.id)).reassessmentRequired).toBe(false);
  });

  it('an SPG left with one member after a switch is flagged, and flagged again when that member switches too', async () => {
    const a1 = await registered();
    const a2 = await registered();
    const u = await hub.call('POST', '/api/v1/market-units', {
      as: 'fsp-a',
      body: { name: `Switch SPG ${n}`, type: 'SPG', product: 'NESO-DFS', assetIds: [a1.id, a2.id] },
    });
    expect(u.status, u.text).toBe(201);
    const switchAway = async (asset: { id: string; importMpan: string }) => {
      const c = await consentFor(hub, asset.importMpan, DEMO['fsp-b'], { validFrom: '2026-01-01' });
      const s = await hub.call('POST', '/api/v1/switches', {
        as: 'fsp-b',
        body: { asset: asset.id, consent: c.token },
        headers: { 'idempotency-key': `truth-${asset.id}` },
      });
      expect(s.status, s.text).toBe(201);
      hub.clock.set(new Date(new Date(s.json.effectiveAt).getTime() + 1000).toISOString());
      expect(await applyDueSwitches(hub.ctx)).toEqual([{ id: s.json.id, status: 'EFFECTIVE' }]);
    };
    await switchAway(a1);
    const left = await unitOf(u.json.id);
    expect(left).toMatchObject({ reassessmentRequired: true, assetIds: [a2.id] });
    expect(left.reassessmentReason).toMatch(/UNIT-SPG-ACCOUNTING-POINTS/);
    expect((await qualify(u.json.id)).status).toBe(201);
    expect((await unitOf(u.json.id)).reassessmentRequired).toBe(false);
    await switchAway(a2);
    const moved = await unitOf(u.json.id);
    expect(moved).toMatchObject({ fspId: DEMO['fsp-b'], reassessmentRequired: true });
    expect(moved.reassessmentReason).toMatch(/one accounting point/);
  });
});

describe('submission by installers and OEMs (UC-02.01 step 1)', () => {
  const SUB_TABLES = [...TABLES, 'asset_submission'];
  const submit = (body: unknown, as = 'installer') => hub.call('POST', '/api/v1/asset-submissions', { as, body });
  const decide = (id: string, what: 'accept' | 'reject', body: unknown, as = 'fsp-a') =>
    hub.call('POST', `/api/v1/asset-submissions/${id}/${what}`, { as, body });
  const submitted = async (asset = battery()) => {
    const r = await submit({ fspId: DEMO['fsp-a'], asset });
    expect(r.status, r.text).toBe(201);
    return { submission: r.json, asset };
  };

  it('an installer submits an asset for an FSP: PENDING, both told; only the parties read it', async () => {
    const { submission } = await submitted();
    expect(submission).toMatchObject({ submitterId: DEMO.installer, fspId: DEMO['fsp-a'], status: 'PENDING', assetId: null });
    const events = await eventsOf('fmar.asset-submission.submitted', submission.id);
    expect(events.map((e) => e.organisation_id).sort()).toEqual([DEMO.installer, DEMO['fsp-a']].sort());
    expect((await hub.call('GET', `/api/v1/asset-submissions/${submission.id}`, { as: 'fsp-a' })).status).toBe(200);
    expect(
      (await hub.call('GET', '/api/v1/asset-submissions?status=PENDING', { as: 'installer' })).json.items.map((s: any) => s.id),
    ).toContain(submission.id);
    const other = await hub.call('GET', `/api/v1/asset-submissions/${submission.id}`, { as: 'fsp-b' });
    expect([other.status, other.json.code]).toEqual([404, 'SUBMISSION-NOT-FOUND']);
  });

  it('refuses bad input, an FSP that is not one, a consent (the FSP’s, at acceptance) and callers who may not submit; nothing written', async () => {
    await expectRefused(
      hub.db,
      SUB_TABLES,
      () => submit({ fspId: DEMO['fsp-a'], asset: battery({ ratedCapacityKw: -1 }) }),
      422,
      invalid('asset.ratedCapacityKw', 'ASSET-CAPACITY-RATED'),
    );
    await expectRefused(hub.db, SUB_TABLES, () => submit({ fspId: DEMO.dno, asset: battery() }), 422, 'SUBMISSION-FSP-INVALID');
    await expectRefused(
      hub.db,
      SUB_TABLES,
      () => submit({ fspId: DEMO['fsp-a'], asset: battery({ consentReference: 'x' }) }),
      422,
      invalid('asset.consentReference', 'REQUEST-UNKNOWN-FIELD'),
    );
    await expectRefused(hub.db, SUB_TABLES, () => submit({ fspId: DEMO['fsp-a'], asset: battery() }, 'fsp-a'), 403, 'AUTH-ROLE-FORBIDDEN');
    await expectRefused(hub.db, SUB_TABLES, () => submit({ fspId: DEMO['fsp-a'], asset: battery() }, 'dno'), 403, 'AUTH-SCOPE-MISSING');
  });

  it('the named FSP accepts with the consumer’s consent: the asset is registered as its own, both told; a second decision is refused', async () => {
    const { submission, asset } = await submitted();
    const c = await consentFor(hub, asset.importMpan, DEMO['fsp-a']);
    await expectRefused(
      hub.db,
      SUB_TABLES,
      () => decide(submission.id, 'accept', { consentReference: c.token }, 'installer'),
      403,
      'AUTH-ROLE-FORBIDDEN',
    );
    await expectRefused(
      hub.db,
      SUB_TABLES,
      () => decide(submission.id, 'accept', { consentReference: c.token }, 'fsp-b'),
      404,
      'SUBMISSION-NOT-FOUND',
    );
    const r = await decide(submission.id, 'accept', { consentReference: c.token });
    expect(r.status, r.text).toBe(200);
    expect(r.json.submission).toMatchObject({ status: 'ACCEPTED', assetId: r.json.asset.id, decidedBy: 'test-fsp-a' });
    expect(r.json.asset).toMatchObject({
      organisationId: DEMO['fsp-a'],
      fspId: DEMO['fsp-a'],
      status: 'PENDING_VALIDATION',
      importMpan: asset.importMpan,
      consentReference: c.jti,
    });
    const events = await eventsOf('fmar.asset-submission.accepted', submission.id);
    expect(events.map((e) => e.organisation_id).sort()).toEqual([DEMO.installer, DEMO['fsp-a']].sort());
    const [audit] = await hub.db.query<{ detail: any }>(
      `SELECT detail FROM audit_log WHERE action = 'asset.registered' AND record_id = $1`,
      [r.json.asset.id],
    );
    expect(audit.detail.source).toBe(`submission ${submission.id}`);
    await expectRefused(hub.db, SUB_TABLES, () => decide(submission.id, 'reject', { reason: 'changed my mind' }), 409, 'SUBMISSION-STATE');
  });

  it('an acceptance whose registration is refused writes nothing and leaves the submission PENDING', async () => {
    const { submission, asset } = await submitted();
    const wrong = await consentFor(hub, asset.importMpan, DEMO['fsp-b']);
    await expectRefused(
      hub.db,
      SUB_TABLES,
      () => decide(submission.id, 'accept', { consentReference: wrong.token }),
      422,
      'CONSENT-FSP-MISMATCH',
    );
    expect((await hub.call('GET', `/api/v1/asset-submissions/${submission.id}`, { as: 'fsp-a' })).json.status).toBe('PENDING');
  });

  it('the named FSP rejects with a reason (required); the installer is told why', async () => {
    const { submission } = await submitted();
    await expectRefused(hub.db, SUB_TABLES, () => decide(submission.id, 'reject', {}), 422, invalid('reason', 'REQUEST-FIELD-REQUIRED'));
    const r = await decide(submission.id, 'reject', { reason: 'not our customer' });
    expect(r.status, r.text).toBe(200);
    expect(r.json).toMatchObject({ status: 'REJECTED', reason: 'not our customer', assetId: null });
    const [ev] = (await eventsOf('fmar.asset-submission.rejected', submission.id)).filter((e) => e.organisation_id === DEMO.installer);
    expect(ev.data).toMatchObject({ status: 'REJECTED', reason: 'not our customer' });
  });

  it('concurrent acceptances: exactly one registers the asset, the others are SUBMISSION-STATE', async () => {
    const { submission } = await submitted();
    const before = await rowCounts(hub.db, ['asset']);
    const rs = await Promise.all([1, 2, 3].map(() => decide(submission.id, 'accept', {})));
    expect(rs.map((r) => r.status).sort()).toEqual([200, 409, 409]);
    expect(rs.filter((r) => r.status === 409).map((r) => r.json.code)).toEqual(['SUBMISSION-STATE', 'SUBMISSION-STATE']);
    expect((await rowCounts(hub.db, ['asset'])).asset).toBe(before.asset + 1);
  });
});
