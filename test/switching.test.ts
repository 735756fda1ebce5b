import { createServer, type Server } from 'node:http';
import { deflateSync } from 'node:zlib';
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config';
import { consentVerifierFromConfig } from '../src/consent/index';
import { registerOrganisation } from '../src/organisations/service';
import { applyDueSwitches, checkConsentStatusLists } from '../src/switching/switches';
import { recordConsentRevocation } from '../src/consent/index';
import { isRevoked } from '../src/consent/index';
import { DEMO, batteryInput, mpanFor, testHub, type TestHub } from './harness';

/**
 * Switching (UC-02.06) end to end through the API, with consent tokens signed by an independent
 * Consumer Consent Service (its own keys, a JWKS served over HTTP).
 */
let hub: TestHub;
let issuer: { base: string; iss: string; server: Server; kid: string; privateKey: CryptoKey; jwks: { keys: JWK[] } };
let so: string;
let seq = 0;
const revokedIdx = new Set<number>();
const BESS_MPAN = '1312345678907';

beforeAll(async () => {
  hub = await testHub();
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const kid = 'ccs-1';
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] };
  const server = createServer(async (req, res) => {
    if (req.url === '/status/1') {
      // A Token Status List of 16 one-bit entries, signed by the consent issuer.
      const bytes = new Uint8Array(2);
      for (const i of revokedIdx) bytes[i >> 3] |= 1 << (i & 7);
      const jwt = await new SignJWT({
        iss: issuer.iss,
        sub: `${issuer.base}/status/1`,
        iat: now(),
        status_list: { bits: 1, lst: Buffer.from(deflateSync(bytes)).toString('base64url') },
      })
        .setProtectedHeader({ alg: 'ES256', kid, typ: 'statuslist+jwt' })
        .sign(privateKey);
      res.writeHead(200, { 'content-type': 'application/statuslist+jwt' });
      res.end(jwt);
      return;
    }
    res.writeHead(req.url === '/jwks' ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(req.url === '/jwks' ? jwks : {}));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  issuer = { base, iss: `${base}/ccs`, server, kid, privateKey, jwks };
  const cfg = loadConfig({
    FMAR_MODE: 'development',
    FMAR_BASE_URL: 'http://hub.test',
    FMAR_CONSENT_ISSUER: issuer.iss,
    FMAR_CONSENT_JWKS_URL: `${base}/jwks`,
  });
  hub.ports.consent = consentVerifierFromConfig(cfg, hub.db, hub.clock);
  so = (
    await registerOrganisation(hub.ctx, hub.system, {
      legalName: 'Demo System Operator plc',
      organisationType: 'PLC',
      registrationNumber: '09000777',
      roles: ['SYSTEM_OPERATOR'],
      status: 'ACTIVE',
    })
  ).id;
});
beforeEach(() => {
  hub.clock.set('2026-06-01T09:00:00.000Z');
});
afterAll(async () => {
  await new Promise<void>((r) => {
    issuer?.server.closeAllConnections();
    issuer?.server.close(() => r());
  });
  await hub?.close();
});

const now = () => Math.floor(hub.clock.now().getTime() / 1000);
async function consent(over: Record<string, unknown> = {}, typ = 'consent+jwt') {
  const claims: Record<string, unknown> = {
    iss: issuer.iss,
    aud: 'http://hub.test',
    iat: now() - 60,
    exp: now() + 30 * 86_400,
    jti: `consent-${++seq}`,
    sub: 'consumer-1',
    mpan: BESS_MPAN,
    fsp: DEMO['fsp-b'],
    purpose: 'flexibility-services',
    consent_from: '2026-06-01',
    consent_to: '2027-05-31',
    ...over,
  };
  return {
    token: await new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: issuer.kid, typ }).sign(issuer.privateKey),
    jti: claims.jti as string,
  };
}
async function notice(over: Record<string, unknown>, key: CryptoKey = issuer.privateKey) {
  return new SignJWT({ iss: issuer.iss, aud: 'http://hub.test', iat: now(), revoked_at: now(), reason: 'consumer withdrew', ...over })
    .setProtectedHeader({ alg: 'ES256', kid: issuer.kid, typ: 'consent-revocation+jwt' })
    .sign(key);
}

async function newBattery(n: number, as: 'fsp-a' | 'fsp-b' = 'fsp-a') {
  const r = await hub.call('POST', '/api/v1/assets', { as, body: batteryInput(n) });
  expect(r.status, r.text).toBe(201);
  return r.json;
}
const request = (body: Record<string, unknown>, as: 'fsp-a' | 'fsp-b' | 'operator' = 'fsp-b', headers: Record<string, string> = {}) =>
  hub.call('POST', '/api/v1/switches', { as, body, headers });
const assetRow = async (id: string) =>
  (
    await hub.db.query<{ fsp_id: string; version: number; status: string }>(`SELECT fsp_id, version, status FROM asset WHERE id = $1`, [id])
  )[0];
const count = async (table: string) => Number((await hub.db.query(`SELECT count(*)::int AS n FROM ${table}`))[0].n);

describe('a switch, from request to effect', () => {
  it('found by MPAN, consent verified, pending through the notice period, then the FSP link moves', async () => {
    const [bess] = await hub.db.query<{ id: string }>(`SELECT id FROM asset WHERE friendly_code = 'ALPHA-BESS-1'`);
    const before = await assetRow(bess.id);
    const c = await consent();
    const r = await request({ asset: `mpan:${BESS_MPAN}`, consent: c.token, reason: 'consumer chose Beta' });
    expect(r.status, r.text).toBe(201);
    expect(r.json).toMatchObject({
      assetId: bess.id,
      losingFspId: DEMO['fsp-a'],
      gainingFspId: DEMO['fsp-b'],
      status: 'PENDING',
      effectiveDate: '2026-06-06',
    });
    expect(r.json.consent).toMatchObject({
      method: 'jwt',
      issuer: issuer.iss,
      kid: issuer.kid,
      jti: c.jti,
      claims: { mpan: BESS_MPAN, fsp: DEMO['fsp-b'] },
    });
    expect(r.text).not.toContain(c.token.split('.')[2]); // evidence, never the token
    expect(r.json.effectiveAt).toBe('2026-06-05T23:00:00.000Z'); // London midnight, BST

    // Both FSPs are told; the losing FSP reads the switch, the DNO may not.
    const events = await hub.db.query(`SELECT organisation_id FROM event_outbox WHERE type = 'fmar.switch.requested' AND subject = $1`, [
      r.json.id,
    ]);
    expect(events.map((e) => e.organisation_id).sort()).toEqual([DEMO['fsp-a'], DEMO['fsp-b']].sort());
    expect(
      (await hub.call('GET', `/api/v1/switches/${r.json.id}`, { as: 'fsp-a' })).json.transitions.map((t: { to: string }) => t.to),
    ).toEqual(['REQUESTED', 'PENDING']);
    expect((await hub.call('GET', `/api/v1/switches/${r.json.id}`, { as: 'dno' })).status).toBe(403);

    // Not yet: the asset stays with FSP A through the notice period.
    expect(await applyDueSwitches(hub.ctx)).toEqual([]);
    expect((await assetRow(bess.id)).fsp_id).toBe(DEMO['fsp-a']);

    const card = async (key: 'fsp-a' | 'fsp-b') =>
      (await hub.call('GET', `/api/v1/data-quality/scorecards/organisations/${DEMO[key]}`, { as: key })).json;
    const cardsBefore = { a: await card('fsp-a'), b: await card('fsp-b') };
    expect([cardsBefore.a.assets, cardsBefore.b.assets]).toEqual([3, 0]);
    hub.clock.set('2026-06-05T23:00:00.000Z');
    expect(await applyDueSwitches(hub.ctx)).toEqual([{ id: r.json.id, status: 'EFFECTIVE' }]);
    // The data quality scorecards follow control: FSP B now counts the asset; FSP A still does, as its owner.
    expect([(await card('fsp-a')).assets, (await card('fsp-b')).assets]).toEqual([3, 1]);
    const after = await assetRow(bess.id);
    expect(after.fsp_id).toBe(DEMO['fsp-b']);
    expect(after.version).toBe(before.version + 1);
    const links = await hub.call('GET', `/api/v1/assets/${bess.id}/fsp-links`, { as: 'fsp-b' });
    expect(links.status, links.text).toBe(200);
    const periods = links.json.items as { fspId: string; validTo: string | null }[];
    expect(periods.map((l) => [l.fspId, l.validTo])).toEqual([
      [DEMO['fsp-a'], '2026-06-05T23:00:00.000Z'],
      [DEMO['fsp-b'], null],
    ]);
    // FSP A lost control: the asset is no longer its to read (docs/decisions.md, "Control follows the FSP link").
    const lost = await hub.call('GET', `/api/v1/assets/${bess.id}`, { as: 'fsp-a' });
    expect([lost.status, lost.json.code]).toEqual([404, 'ASSET-NOT-FOUND']);
    const done = await hub.call('GET', `/api/v1/switches/${r.json.id}`, { as: 'fsp-b' });
    expect(done.json.status).toBe('EFFECTIVE');
    expect(done.json.transitions.map((t: { to: string }) => t.to)).toEqual(['REQUESTED', 'PENDING', 'EFFECTIVE']);
    const audit = await hub.db.query(`SELECT action FROM audit_log WHERE record_id IN ($1, $2) ORDER BY id`, [r.json.id, bess.id]);
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['switch.requested', 'switch.effective', 'asset.fsp-changed']));
    hub.clock.set('2026-06-01T09:00:00.000Z');
  });
});

describe('refusals change nothing', () => {
  it('each forged or mismatched consent, and each impossible switch, gets its own rule code', async () => {
    const a = await newBattery(801);
    const mpan = a.importMpan as string;
    const before = [await count('asset_switch'), await count('consent_replay'), (await assetRow(a.id)).version];
    const cases: [string, Record<string, unknown>, number, string, 'fsp-a' | 'fsp-b'][] = [
      // Told apart from nothing: the same answer as for an unknown asset (see 'a refused switch reveals nothing').
      ['another MPAN', { mpan: '1300000000016' }, 404, 'SWITCH-ASSET-UNKNOWN', 'fsp-b'],
      ['another FSP', { fsp: DEMO['fsp-a'] }, 404, 'SWITCH-ASSET-UNKNOWN', 'fsp-b'],
      ['expired before the effective date', { exp: now() - 120 }, 422, 'CONSENT-EXPIRED', 'fsp-b'],
      ['a window ending before the effective date', { consent_to: '2026-06-03' }, 422, 'CONSENT-WINDOW', 'fsp-b'],
      ['the wrong purpose', { purpose: 'marketing' }, 422, 'CONSENT-PURPOSE', 'fsp-b'],
      ['another issuer', { iss: 'https://evil.example' }, 422, 'CONSENT-ISSUER', 'fsp-b'],
      ['the FSP that already controls it', {}, 409, 'SWITCH-ALREADY-CONTROLLED', 'fsp-a'],
    ];
    for (const [what, over, status, code, as] of cases) {
      const c = await consent({ mpan, ...over });
      const r = await request({ asset: a.id, consent: c.token }, as);
      expect([r.status, r.json?.code], `${what}: ${r.text}`).toEqual([status, code]);
    }
    const [h, p] = (await consent({ mpan })).token.split('.');
    const badSignature = `${h}.${p}.${(await consent({ mpan })).token.split('.')[2]}`;
    expect((await request({ asset: a.id, consent: badSignature })).json.code).toBe('CONSENT-TOKEN-INVALID');
    expect((await request({ asset: a.id, consent: (await consent({ mpan }, 'JWT')).token })).json.code).toBe('CONSENT-TOKEN-INVALID');
    expect((await request({ asset: `mpan:${mpanFor(9_999_999)}`, consent: (await consent()).token })).json.code).toBe(
      'SWITCH-ASSET-UNKNOWN',
    );
    expect([await count('asset_switch'), await count('consent_replay'), (await assetRow(a.id)).version]).toEqual(before);
  });

  it('a refused switch reveals nothing: one status, code and detail for no such asset and not for this consent', async () => {
    const a = await newBattery(851);
    const [row] = await hub.db.query<{ import_mpan: string; serial_number: string | null }>(
      `SELECT import_mpan, serial_number FROM asset WHERE id = $1`,
      [a.id],
    );
    const before = [await count('asset_switch'), await count('consent_replay'), await count('audit_log'), await count('event_outbox')];
    // FSP B holds a valid consent for another meter: it probes FSP A's asset by ID and by serial, and two that do not exist.
    const probe = async (ref: string) => {
      const r = await request({ asset: ref, consent: (await consent({ mpan: '1300000000016' })).token });
      return {
        status: r.status,
        code: r.json.code,
        detail: String(r.json.detail).replace(ref, '<ref>'),
        text: r.text.replace(ref, '<ref>'),
      };
    };
    const answers = [
      await probe(a.id),
      await probe('01JZZZZZZZZZZZZZZZZZZZZZZZ'),
      await probe(`serial:${row.serial_number}`),
      await probe('serial:NO-SUCH-SERIAL'),
      await probe(`mpan:${row.import_mpan}`),
      await probe(`mpan:${mpanFor(9_999_998)}`),
    ];
    for (const x of answers) {
      expect({ status: x.status, code: x.code }).toEqual({ status: 404, code: 'SWITCH-ASSET-UNKNOWN' });
      expect(x.detail).toBe(answers[0].detail);
      expect(x.text).not.toContain(row.import_mpan.slice(2)); // the meter's MPAN, however it is written
    }
    // A bad token is answered the same whether the asset exists or not.
    const bad = async (ref: string) => {
      const r = await request({ asset: ref, consent: 'not-a-token' });
      return [r.status, r.json.code];
    };
    expect(await bad(a.id)).toEqual(await bad('01JZZZZZZZZZZZZZZZZZZZZZZZ'));
    expect([await count('asset_switch'), await count('consent_replay'), await count('audit_log'), await count('event_outbox')]).toEqual(
      before,
    );
  });

  it('a replayed consent is refused; a retry with the same Idempotency-Key is answered again', async () => {
    const a = await newBattery(802);
    const c = await consent({ mpan: a.importMpan });
    const first = await request({ asset: a.id, consent: c.token }, 'fsp-b', { 'idempotency-key': 'switch-802' });
    expect(first.status, first.text).toBe(201);
    const retry = await request({ asset: a.id, consent: c.token }, 'fsp-b', { 'idempotency-key': 'switch-802' });
    expect(retry.status).toBe(201);
    expect(retry.json.id).toBe(first.json.id);
    expect(
      (await hub.call('POST', `/api/v1/switches/${first.json.id}/withdraw`, { as: 'fsp-b', body: { reason: 'test' } })).json.status,
    ).toBe('WITHDRAWN');
    const replay = await request({ asset: a.id, consent: c.token });
    expect(replay.status).toBe(409);
    expect(replay.json.code).toBe('CONSENT-REPLAYED');
  });

  it('a de-registered asset cannot switch', async () => {
    const a = await newBattery(803);
    expect((await hub.call('DELETE', `/api/v1/assets/${a.id}`, { as: 'fsp-a', headers: { 'if-match': '"1"' } })).status).toBe(200);
    const r = await request({ asset: a.id, consent: (await consent({ mpan: a.importMpan })).token });
    expect(r.json.code).toBe('SWITCH-ASSET-DEREGISTERED');
  });

  it('the notice period is enforced and says the earliest date', async () => {
    const a = await newBattery(804);
    const r = await request({ asset: a.id, consent: (await consent({ mpan: a.importMpan })).token, effectiveDate: '2026-06-02' });
    expect(r.status).toBe(422);
    expect(r.json).toMatchObject({ code: 'SWITCH-NOTICE-PERIOD', earliestEffectiveDate: '2026-06-06' });
  });
});

describe('service windows', () => {
  it('a confirmed window of another FSP refuses the switch and names the earliest date', async () => {
    const a = await newBattery(805);
    const soToken = await hub.token({ org: so, roles: ['SYSTEM_OPERATOR'] });
    const k1 = await hub.call('POST', '/api/v1/contracts', {
      as: soToken,
      body: {
        assetId: a.id,
        fspId: DEMO['fsp-a'],
        product: 'DFS',
        validFrom: '2026-06-05T23:00:00Z',
        validTo: '2026-06-20T12:00:00Z',
        status: 'CONFIRMED',
      },
    });
    expect(k1.status, k1.text).toBe(201);
    // A second window straight after: the earliest date follows both.
    const k2 = await hub.call('POST', '/api/v1/contracts', {
      as: soToken,
      body: {
        assetId: a.id,
        fspId: DEMO['fsp-a'],
        product: 'DFS',
        validFrom: '2026-06-20T12:00:00Z',
        validTo: '2026-06-30T23:00:00Z',
        status: 'OFFERED',
      },
    });
    expect(
      (await hub.call('POST', `/api/v1/contracts/${k2.json.id}/status`, { as: soToken, body: { status: 'CONFIRMED' } })).json.status,
    ).toBe('CONFIRMED');
    const r = await request({ asset: a.id, consent: (await consent({ mpan: a.importMpan })).token, effectiveDate: '2026-06-10' });
    expect(r.status).toBe(409);
    expect(r.json).toMatchObject({ code: 'SWITCH-SERVICE-WINDOW', earliestEffectiveDate: '2026-07-01' });
    expect(r.json.blockingContracts.sort()).toEqual([k1.json.id, k2.json.id].sort());
    const ok = await request({ asset: a.id, consent: (await consent({ mpan: a.importMpan })).token, effectiveDate: '2026-07-01' });
    expect(ok.status, ok.text).toBe(201);
    // An FSP cannot record contracts; a terminated window stops blocking.
    expect(
      (
        await hub.call('POST', '/api/v1/contracts', {
          as: 'fsp-a',
          body: { assetId: a.id, fspId: DEMO['fsp-a'], product: 'DFS', validFrom: '2026-06-05T23:00:00Z', validTo: '2026-06-20T12:00:00Z' },
        })
      ).status,
    ).toBe(403);
    expect((await hub.call('POST', `/api/v1/contracts/${k1.json.id}/status`, { as: soToken, body: { status: 'OFFERED' } })).json.code).toBe(
      'CONTRACT-STATUS-TRANSITION',
    );
  });
});

describe('contracts, listed', () => {
  it('pages by start of period then ID with keyset cursors: every contract once, the last reached; a forged cursor is refused', async () => {
    const a = await newBattery(870);
    const soToken = await hub.token({ org: so, roles: ['SYSTEM_OPERATOR'] });
    // Two contracts share each start, so the ID breaks the tie inside a page and across pages.
    for (let i = 0; i < 7; i++) {
      const k = await hub.call('POST', '/api/v1/contracts', {
        as: soToken,
        body: {
          assetId: a.id,
          fspId: DEMO['fsp-a'],
          product: 'DFS',
          validFrom: `2027-0${1 + Math.floor(i / 2)}-01T00:00:00Z`,
          validTo: '2027-12-31T00:00:00Z',
          reference: `PAGE-${i}`,
        },
      });
      expect(k.status, k.text).toBe(201);
    }
    const whole = (await hub.call('GET', `/api/v1/contracts?assetId=${a.id}`, { as: 'fsp-a' })).json;
    expect(whole.nextCursor).toBeNull();
    expect(whole.items).toHaveLength(7);
    const seen: string[] = [];
    for (let cursor: string | null = ''; cursor !== null;) {
      const r = await hub.call('GET', `/api/v1/contracts?assetId=${a.id}&limit=3${cursor ? `&cursor=${cursor}` : ''}`, { as: 'fsp-a' });
      expect(r.status, r.text).toBe(200);
      expect(r.json.items.length).toBeLessThanOrEqual(3);
      seen.push(...r.json.items.map((k: { id: string }) => k.id));
      cursor = r.json.nextCursor;
    }
    expect(seen).toEqual(whole.items.map((k: { id: string }) => k.id));
    expect(whole.items.map((k: { reference: string }) => k.reference)).toEqual(
      [...whole.items]
        .sort((x: { validFrom: string; id: string }, y: { validFrom: string; id: string }) =>
          x.validFrom === y.validFrom ? (x.id < y.id ? -1 : 1) : x.validFrom < y.validFrom ? -1 : 1,
        )
        .map((k: { reference: string }) => k.reference),
    );
    const forged = btoa(JSON.stringify({ after: 'not-a-position' })).replace(/=+$/, '');
    const bad = await hub.call('GET', `/api/v1/contracts?cursor=${forged}`, { as: 'fsp-a' });
    expect([bad.status, bad.json.code]).toEqual([400, 'REQUEST-QUERY-INVALID']);
  });
});

describe('concurrency', () => {
  it('200 concurrent switch requests for one asset: exactly one is accepted', async () => {
    const a = await newBattery(806);
    const tokens = await Promise.all(Array.from({ length: 200 }, () => consent({ mpan: a.importMpan })));
    const results = await Promise.all(tokens.map((c) => request({ asset: a.id, consent: c.token })));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status !== 201).every((r) => r.status === 409 && r.json.code === 'SWITCH-IN-PROGRESS')).toBe(true);
    const [{ n }] = await hub.db.query(`SELECT count(*)::int AS n FROM asset_switch WHERE asset_id = $1`, [a.id]);
    expect(n).toBe(1);
  }, 120_000);
});

describe('withdraw, cancel, revocation', () => {
  it('only the gaining FSP withdraws; only the operator cancels', async () => {
    const a = await newBattery(807);
    const s = await request({ asset: a.id, consent: (await consent({ mpan: a.importMpan })).token });
    const byLoser = await hub.call('POST', `/api/v1/switches/${s.json.id}/withdraw`, { as: 'fsp-a' });
    expect(byLoser.status).toBe(403);
    expect(byLoser.json.code).toBe('SWITCH-NOT-PARTY');
    expect((await hub.call('POST', `/api/v1/switches/${s.json.id}/cancel`, { as: 'fsp-b' })).status).toBe(403);
    const cancelled = await hub.call('POST', `/api/v1/switches/${s.json.id}/cancel`, {
      as: 'operator',
      body: { reason: 'dispute raised' },
    });
    expect(cancelled.json).toMatchObject({ status: 'CANCELLED', closeReason: 'dispute raised' });
    expect((await hub.call('POST', `/api/v1/switches/${s.json.id}/withdraw`, { as: 'fsp-b' })).json.code).toBe('SWITCH-STATE');
  });

  it('a signed revocation notice cancels a pending switch; after effect it suspends the asset; forged notices are refused', async () => {
    const a = await newBattery(808);
    const c1 = await consent({ mpan: a.importMpan });
    const pending = await request({ asset: a.id, consent: c1.token });
    expect(pending.status).toBe(201);
    const forged = await notice({ consent_jti: c1.jti }, (await generateKeyPair('ES256')).privateKey);
    const bad = await hub.call('POST', '/consent/revocations', { text: forged, contentType: 'application/jwt' });
    expect(bad.status).toBe(422);
    expect(bad.json.code).toBe('CONSENT-NOTICE-INVALID');
    const ok = await hub.call('POST', '/consent/revocations', {
      text: await notice({ consent_jti: c1.jti }),
      contentType: 'application/jwt',
    });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.json).toMatchObject({ recorded: true, cancelled: [pending.json.id], suspended: [] });
    expect((await hub.call('GET', `/api/v1/switches/${pending.json.id}`, { as: 'fsp-b' })).json.status).toBe('CANCELLED');

    // A new consent, the switch takes effect, then the consumer revokes: the asset is suspended.
    const c2 = await consent({ mpan: a.importMpan });
    const s2 = await request({ asset: a.id, consent: c2.token });
    expect(s2.status, s2.text).toBe(201);
    hub.clock.set('2026-06-06T00:00:00.000Z');
    const applied = await applyDueSwitches(hub.ctx, {
      isRevoked: (tx, iss, jti, hash) => isRevoked(tx, { issuer: iss, jti, tokenHash: hash }),
    });
    expect(applied).toContainEqual({ id: s2.json.id, status: 'EFFECTIVE' });
    const r2 = await hub.call('POST', '/consent/revocations', { body: { notice: await notice({ consent_jti: c2.jti }) } });
    expect(r2.json).toMatchObject({ suspended: [a.id] });
    expect((await assetRow(a.id)).status).toBe('SUSPENDED_CONSENT_REVOKED');
    const again = await hub.call('POST', '/consent/revocations', { body: { notice: await notice({ consent_jti: c2.jti }) } });
    expect(again.json).toMatchObject({ recorded: false, cancelled: [], suspended: [] });
    hub.clock.set('2026-06-01T09:00:00.000Z');
  });

  it('a consent revoked before the effective date cancels the switch when it comes due', async () => {
    const a = await newBattery(809);
    const c = await consent({ mpan: a.importMpan });
    const s = await request({ asset: a.id, consent: c.token });
    await hub.db.query(
      `INSERT INTO consent_revocation (issuer, jti, revoked_at, source, recorded_at, recorded_by) VALUES ($1, $2, now(), 'operator', now(), 'test')`,
      [issuer.iss, c.jti],
    );
    hub.clock.set('2026-06-06T00:00:00.000Z');
    const applied = await applyDueSwitches(hub.ctx, {
      isRevoked: (tx, iss, jti, hash) => isRevoked(tx, { issuer: iss, jti, tokenHash: hash }),
    });
    expect(applied).toContainEqual({ id: s.json.id, status: 'CANCELLED' });
    expect((await assetRow(a.id)).fsp_id).toBe(DEMO['fsp-a']);
    hub.clock.set('2026-06-01T09:00:00.000Z');
  });

  it('the periodic status-list check cancels a switch whose consent the issuer marked invalid', async () => {
    const a = await newBattery(810);
    const c = await consent({ mpan: a.importMpan, status: { status_list: { uri: `${issuer.base}/status/1`, idx: 5 } } });
    const s = await request({ asset: a.id, consent: c.token });
    expect(s.status, s.text).toBe(201);
    expect(s.json.consent.statusList).toEqual({ uri: `${issuer.base}/status/1`, index: 5 });
    const service = hub.ports.consent!;
    const run = () =>
      checkConsentStatusLists(hub.ctx, {
        statusOf: (ref) => service.statusOf(ref),
        record: (r) =>
          recordConsentRevocation(
            hub.db,
            { issuer: r.issuer, jti: r.jti, tokenHash: r.tokenHash, revokedAt: hub.clock.now(), source: 'status-list', recordedBy: 'test' },
            hub.clock.now(),
          ),
      });
    const first = await run();
    expect(first.revoked).toEqual([]);
    expect(first.checked).toBe(1); // the one consent that carries a status list
    revokedIdx.add(5);
    const second = await run();
    expect(second.revoked).toEqual([c.jti]);
    expect((await hub.call('GET', `/api/v1/switches/${s.json.id}`, { as: 'fsp-b' })).json.status).toBe('CANCELLED');
    expect(await isRevoked(hub.db, { issuer: issuer.iss, jti: c.jti })).toBe(true);
  });
});

describe('market units follow the switch (UC-02.06 step 6)', () => {
  it('a sole-member unit moves with its asset; a unit of several loses the asset and needs re-assessment', async () => {
    const [a, b, c] = [await newBattery(811), await newBattery(812), await newBattery(813)];
    const spu = await hub.call('POST', '/api/v1/market-units', {
      as: 'fsp-a',
      body: { name: 'Alpha SPU', type: 'SPU', product: 'NESO-DFS', assetIds: [a.id] },
    });
    expect(spu.status, spu.text).toBe(201);
    const spg = await hub.call('POST', '/api/v1/market-units', {
      as: 'fsp-a',
      body: { name: 'Alpha SPG', type: 'SPG', product: 'NESO-DFS', assetIds: [b.id, c.id] },
    });
    expect(spg.status, spg.text).toBe(201);
    const switchIds: string[] = [];
    for (const x of [a, b]) {
      const s = await request({ asset: x.id, consent: (await consent({ mpan: x.importMpan })).token });
      expect(s.status, s.text).toBe(201);
      switchIds.push(s.json.id);
    }
    hub.clock.set('2026-06-06T00:00:00.000Z');
    const applied = await applyDueSwitches(hub.ctx);
    expect(applied).toEqual(switchIds.map((id) => ({ id, status: 'EFFECTIVE' })));
    const movedUnit = await hub.call('GET', `/api/v1/market-units/${spu.json.id}`, { as: 'fsp-b' });
    expect(movedUnit.status, movedUnit.text).toBe(200);
    expect(movedUnit.json).toMatchObject({ fspId: DEMO['fsp-b'], assetIds: [a.id], reassessmentRequired: false });
    const flagged = await hub.call('GET', `/api/v1/market-units/${spg.json.id}`, { as: 'fsp-a' });
    expect(flagged.json).toMatchObject({ fspId: DEMO['fsp-a'], assetIds: [c.id], reassessmentRequired: true });
    expect(flagged.json.reassessmentReason).toContain(b.id);
    const [ev] = await hub.db.query(
      `SELECT data FROM event_outbox WHERE type = 'fmar.market-unit.reassessment-required' AND subject = $1`,
      [spg.json.id],
    );
    expect(ev.data).toMatchObject({ removedAssetId: b.id, assetIds: [c.id] });
  });
});
