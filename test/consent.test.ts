import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Hono } from 'hono';
import { SignJWT, base64url, exportJWK, generateKeyPair, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config';
import {
  ConsentError,
  consentSimulator,
  consentSimulatorRoutes,
  consentVerifierFromConfig,
  isRevoked,
  jwtConsentVerifier,
  recordConsentRevocation,
  referenceConsentVerifier,
  verifyRevocationNotice,
  type ConsentCheck,
  type ConsentVerifier,
} from '../src/consent/index';
import type { Db } from '../src/storage/db';
import { loadMigrations } from '../src/storage/load-migrations';
import { migrate } from '../src/storage/migrate';
import { TestClock, freePort, mpanFor, testDb } from './harness';

/**
 * Consent verification (UC-05.05) against peers that are not the hub: an independent issuer
 * (node:http serving its own JWKS, signing with its own keys through jose), an attacker's JWKS,
 * and a reference-check endpoint. Every refusal is asserted on its rule code.
 */

const HUB = 'http://hub.test';
const MPAN = mpanFor(4242);
const FSP = '01HZFSPGAINING000000000000';
const clock = new TestClock(new Date('2026-06-01T09:00:00.000Z'));
const AT = clock.now();
const NOW = Math.floor(AT.getTime() / 1000);
const DAY = 86_400;

let db: Db;
let drop: () => Promise<void>;
let seq = 0;

// ---- peers -------------------------------------------------------------------------------

interface Peer {
  base: string;
  server: Server;
  hits: Record<string, number>;
  close(): Promise<void>;
}

async function serve(handler: (req: IncomingMessage, body: string, res: ServerResponse) => void): Promise<Peer> {
  const hits: Record<string, number> = {};
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      hits[req.url ?? ''] = (hits[req.url ?? ''] ?? 0) + 1;
      handler(req, body, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    base,
    server,
    hits,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

/** A Consumer Consent Service of its own: keys it generates, a JWKS it serves, tokens it signs. */
async function independentIssuer() {
  const keys: { kid: string; alg: string; privateKey: CryptoKey; pub: JWK }[] = [];
  const peer = await serve((req, _body, res) =>
    req.url === '/jwks' ? json(res, 200, { keys: keys.map((k) => k.pub) }) : json(res, 404, {}),
  );
  async function addKey(alg = 'ES256') {
    const { privateKey, publicKey } = await generateKeyPair(
      alg,
      alg.startsWith('RS') || alg.startsWith('PS') ? { modulusLength: 2048 } : {},
    );
    const kid = `ccs-${alg}-${keys.length + 1}`;
    keys.push({ kid, alg, privateKey, pub: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } });
    return kid;
  }
  await addKey();
  return {
    ...peer,
    issuer: `${peer.base}/ccs`,
    jwksUrl: new URL(`${peer.base}/jwks`),
    keys,
    addKey,
    /** Sign claims (defaults: a valid consent) with the newest key or the one named. */
    async sign(over: Record<string, unknown> = {}, h: { kid?: string; typ?: string | null; header?: Record<string, unknown> } = {}) {
      const k = h.kid ? keys.find((x) => x.kid === h.kid)! : keys[keys.length - 1];
      const header: Record<string, unknown> = {
        alg: k.alg,
        kid: k.kid,
        ...(h.typ === null ? {} : { typ: h.typ ?? 'consent+jwt' }),
        ...(h.header ?? {}),
      };
      return new SignJWT(consentClaims(this.issuer, over)).setProtectedHeader(header as any).sign(k.privateKey);
    },
  };
}
type Issuer = Awaited<ReturnType<typeof independentIssuer>>;

function consentClaims(iss: string, over: Record<string, unknown> = {}) {
  const c: Record<string, unknown> = {
    iss,
    aud: HUB,
    iat: NOW - 60,
    nbf: NOW - 60,
    exp: NOW + 3_600,
    jti: `consent-${++seq}`,
    sub: 'consumer-7',
    mpan: MPAN,
    fsp: FSP,
    purpose: 'flexibility-services',
    consent_from: '2026-06-01',
    consent_to: '2027-05-31',
    ...over,
  };
  for (const k of Object.keys(c)) if (c[k] === undefined) delete c[k];
  return c;
}

function check(consent: string, over: Partial<ConsentCheck> = {}): ConsentCheck {
  return { consent, mpan: MPAN, gainingFspId: FSP, effectiveDate: '2026-07-01', requestKey: `req-${++seq}`, at: AT, ...over };
}

async function refused(p: Promise<unknown>, code: string): Promise<ConsentError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, `expected ${code}`).toBeInstanceOf(ConsentError);
  expect((e as ConsentError).code, (e as ConsentError).detail).toBe(code);
  return e as ConsentError;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('base64url');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const unsigned = (header: object, payload: object, sig = '') =>
  `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(payload))}.${sig}`;

beforeAll(async () => {
  ({ db, drop } = await testDb(clock));
  await migrate(db, loadMigrations(), () => clock.now());
});
afterAll(async () => {
  await db.close();
  await drop();
});

// ---- JWT consent tokens ------------------------------------------------------------------

describe('JWT consent tokens from an independent issuer', () => {
  let ccs: Issuer;
  let attacker: Issuer;
  let verifier: ConsentVerifier;
  beforeAll(async () => {
    ccs = await independentIssuer();
    attacker = await independentIssuer();
    verifier = jwtConsentVerifier({ issuer: ccs.issuer, audience: HUB, keys: ccs.jwksUrl, db });
  });
  afterAll(async () => {
    await ccs.close();
    await attacker.close();
  });

  it('accepts a valid token and keeps evidence, never the token', async () => {
    const status = { status_list: { idx: 7, uri: 'https://ccs.example/statuslists/1' } };
    const token = await ccs.sign({ status });
    const ev = await verifier.verify(check(token));
    expect(ev).toMatchObject({
      method: 'jwt',
      issuer: ccs.issuer,
      kid: ccs.keys[0].kid,
      tokenHash: sha256(token),
      verifiedAt: AT.toISOString(),
      statusList: { uri: 'https://ccs.example/statuslists/1', index: 7 },
      claims: {
        sub: 'consumer-7',
        mpan: MPAN,
        fsp: FSP,
        purpose: 'flexibility-services',
        validFrom: '2026-06-01',
        validTo: '2027-05-31',
        exp: new Date((NOW + 3_600) * 1000).toISOString(),
      },
    });
    expect(JSON.stringify(ev)).not.toContain(token.split('.')[2]);
    const [row] = await db.query(`SELECT request_key, token_hash, method FROM consent_replay WHERE issuer = $1 AND jti = $2`, [
      ccs.issuer,
      ev.jti,
    ]);
    expect(row).toMatchObject({ token_hash: sha256(token), method: 'jwt' });
  });

  it('accepts EdDSA, RS256 and PS256 keys of the issuer', async () => {
    const multi = await independentIssuer();
    try {
      for (const alg of ['EdDSA', 'RS256', 'PS256']) await multi.addKey(alg);
      const v = jwtConsentVerifier({ issuer: multi.issuer, audience: HUB, keys: multi.jwksUrl, db });
      for (const k of multi.keys) expect((await v.verify(check(await multi.sign({}, { kid: k.kid })))).kid).toBe(k.kid);
      expect(multi.hits['/jwks']).toBe(1);
    } finally {
      await multi.close();
    }
  });

  it('refuses alg none, with or without a signature segment', async () => {
    const header = { alg: 'none', typ: 'consent+jwt', kid: ccs.keys[0].kid };
    await refused(verifier.verify(check(unsigned(header, consentClaims(ccs.issuer)))), 'CONSENT-TOKEN-INVALID');
    const e = await refused(verifier.verify(check(unsigned(header, consentClaims(ccs.issuer), 'AAAA'))), 'CONSENT-TOKEN-INVALID');
    expect(e.detail).toMatch(/alg none/);
  });

  it('refuses HS256 signed with the issuer’s public key (algorithm confusion)', async () => {
    const pub = ccs.keys[0].pub;
    for (const secret of [JSON.stringify(pub), `${pub.x}${pub.y}`]) {
      const token = await new SignJWT(consentClaims(ccs.issuer))
        .setProtectedHeader({ alg: 'HS256', typ: 'consent+jwt', kid: pub.kid! })
        .sign(new TextEncoder().encode(secret));
      const e = await refused(verifier.verify(check(token)), 'CONSENT-TOKEN-INVALID');
      expect(e.detail).toMatch(/HS256/);
    }
  });

  it('never fetches keys a token points to (jku, x5u) nor trusts an embedded jwk', async () => {
    const bad = attacker.keys[0];
    const viaJku = await attacker.sign({ iss: ccs.issuer }, { header: { jku: attacker.jwksUrl.href } });
    await refused(verifier.verify(check(viaJku)), 'CONSENT-TOKEN-INVALID');
    const viaX5u = await attacker.sign({ iss: ccs.issuer }, { header: { x5u: `${attacker.base}/cert.pem` } });
    await refused(verifier.verify(check(viaX5u)), 'CONSENT-TOKEN-INVALID');
    const { kid: _k, alg: _a, use: _u, ...embedded } = bad.pub;
    const viaJwk = await attacker.sign({ iss: ccs.issuer }, { header: { jwk: embedded } });
    const e = await refused(verifier.verify(check(viaJwk)), 'CONSENT-TOKEN-INVALID');
    expect(e.detail).toMatch(/configuration only/);
    expect(attacker.hits['/jwks'] ?? 0).toBe(0);
    // Even a header naming the issuer's own kid: the attacker's signature does not verify with it.
    const spoofed = await new SignJWT(consentClaims(ccs.issuer))
      .setProtectedHeader({ alg: 'ES256', typ: 'consent+jwt', kid: ccs.keys[0].kid })
      .sign(bad.privateKey);
    await refused(verifier.verify(check(spoofed)), 'CONSENT-TOKEN-INVALID');
  });

  it('refuses a token of another issuer, for another audience, of another type', async () => {
    await refused(verifier.verify(check(await ccs.sign({ iss: 'https://other-ccs.example' }))), 'CONSENT-ISSUER');
    await refused(verifier.verify(check(await ccs.sign({ aud: 'https://other-hub.example' }))), 'CONSENT-AUDIENCE');
    await refused(verifier.verify(check(await ccs.sign({}, { typ: 'at+jwt' }))), 'CONSENT-TOKEN-INVALID');
    await refused(verifier.verify(check(await ccs.sign({}, { typ: 'JWT' }))), 'CONSENT-TOKEN-INVALID');
    await refused(verifier.verify(check(await ccs.sign({}, { typ: null }))), 'CONSENT-TOKEN-INVALID');
    // The issuer's own key, no kid: keys are named.
    const noKid = await new SignJWT(consentClaims(ccs.issuer))
      .setProtectedHeader({ alg: 'ES256', typ: 'consent+jwt' })
      .sign(ccs.keys[0].privateKey);
    await refused(verifier.verify(check(noKid)), 'CONSENT-TOKEN-INVALID');
    await refused(verifier.verify(check('not.a.token')), 'CONSENT-TOKEN-INVALID');
  });

  it('checks exp, nbf and iat with a bounded clock skew (60 s)', async () => {
    await refused(verifier.verify(check(await ccs.sign({ exp: NOW - 61 }))), 'CONSENT-EXPIRED');
    await verifier.verify(check(await ccs.sign({ exp: NOW - 30 })));
    await refused(verifier.verify(check(await ccs.sign({ nbf: NOW + 120 }))), 'CONSENT-NOT-YET-VALID');
    await verifier.verify(check(await ccs.sign({ nbf: NOW + 30 })));
    await refused(verifier.verify(check(await ccs.sign({ iat: NOW + 600, nbf: undefined }))), 'CONSENT-NOT-YET-VALID');
    await refused(verifier.verify(check(await ccs.sign({ exp: undefined }))), 'CONSENT-TOKEN-INVALID');
    await refused(verifier.verify(check(await ccs.sign({ jti: undefined }))), 'CONSENT-TOKEN-INVALID');
  });

  it('refuses a token issued longer ago than the maximum age (default 1 year, configurable)', async () => {
    await refused(verifier.verify(check(await ccs.sign({ iat: NOW - 366 * DAY, nbf: undefined }))), 'CONSENT-TOO-OLD');
    await verifier.verify(check(await ccs.sign({ iat: NOW - 300 * DAY, nbf: undefined })));
    const strict = jwtConsentVerifier({ issuer: ccs.issuer, audience: HUB, keys: ccs.jwksUrl, db, maxAgeDays: 30 });
    await refused(strict.verify(check(await ccs.sign({ iat: NOW - 31 * DAY, nbf: undefined }))), 'CONSENT-TOO-OLD');
  });

  it('binds the consent to the MPAN, the gaining FSP and the purpose', async () => {
    await refused(verifier.verify(check(await ccs.sign({ mpan: mpanFor(4243) }))), 'CONSENT-MPAN-MISMATCH');
    await refused(verifier.verify(check(await ccs.sign({ mpan: '12345' }))), 'CONSENT-TOKEN-INVALID');
    await refused(verifier.verify(check(await ccs.sign({ fsp: '01HZFSPOTHER00000000000000' }))), 'CONSENT-FSP-MISMATCH');
    await refused(verifier.verify(check(await ccs.sign({ purpose: 'marketing' }))), 'CONSENT-PURPOSE');
    await refused(verifier.verify(check(await ccs.sign({ purpose: undefined }))), 'CONSENT-TOKEN-INVALID');
    await verifier.verify(check(await ccs.sign({ purpose: 'dispute-evidence' }), { purpose: 'dispute-evidence' }));
  });

  it('requires the consent’s validity to cover the effective date (days inclusive, instants at London midnight)', async () => {
    await refused(verifier.verify(check(await ccs.sign({ consent_from: '2026-07-02' }))), 'CONSENT-WINDOW');
    await refused(verifier.verify(check(await ccs.sign({ consent_to: '2026-06-30' }))), 'CONSENT-WINDOW');
    await verifier.verify(check(await ccs.sign({ consent_from: '2026-07-01', consent_to: '2026-07-01' })));
    await verifier.verify(check(await ccs.sign({ consent_to: undefined })));
    // 2026-07-01 starts at 2026-06-30T23:00Z (BST): a consent from 00:00 UTC starts an hour too late.
    await verifier.verify(check(await ccs.sign({ consent_from: Date.parse('2026-06-30T23:00:00Z') / 1000 })));
    await refused(verifier.verify(check(await ccs.sign({ consent_from: '2026-07-01T00:00:00Z' }))), 'CONSENT-WINDOW');
    await refused(verifier.verify(check(await ccs.sign({ consent_to: '2026-06-30T23:00:00Z' }))), 'CONSENT-WINDOW');
    await refused(verifier.verify(check(await ccs.sign({ consent_from: '1 July 2026' }))), 'CONSENT-TOKEN-INVALID');
  });

  it('uses a jti once: a retry of the same request is accepted, any other reuse refused', async () => {
    const token = await ccs.sign();
    const first = await verifier.verify(check(token, { requestKey: 'switch-A' }));
    const retry = await verifier.verify(check(token, { requestKey: 'switch-A' }));
    expect(retry.jti).toBe(first.jti);
    const e = await refused(verifier.verify(check(token, { requestKey: 'switch-B' })), 'CONSENT-REPLAYED');
    expect(e.detail).toContain(first.jti);
    // Another token re-using the jti, even for the same request key.
    await refused(
      verifier.verify(check(await ccs.sign({ jti: first.jti, sub: 'someone-else' }), { requestKey: 'switch-A' })),
      'CONSENT-REPLAYED',
    );
  });

  it('lets exactly one of two concurrent requests use a consent', async () => {
    const token = await ccs.sign();
    const outcomes = await Promise.allSettled(
      [1, 2, 3].map((n) => db.transaction((tx) => verifier.verify(check(token, { requestKey: `race-${n}` }), tx))),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const o of outcomes.filter((x): x is PromiseRejectedResult => x.status === 'rejected'))
      expect(o.reason.code).toBe('CONSENT-REPLAYED');
  });

  it('records the use in the caller’s transaction: a rolled-back switch frees the jti', async () => {
    const token = await ccs.sign();
    await expect(
      db.transaction(async (tx) => {
        await verifier.verify(check(token, { requestKey: 'rolled-back' }), tx);
        throw new Error('switch refused later');
      }),
    ).rejects.toThrow('switch refused later');
    await verifier.verify(check(token, { requestKey: 'next-attempt' }));
  });

  it('refuses a consent the hub has recorded as revoked, by jti or by token hash', async () => {
    const byJti = await ccs.sign();
    const jti = consentClaimsOf(byJti).jti as string;
    expect(
      await recordConsentRevocation(
        db,
        { issuer: ccs.issuer, jti, revokedAt: AT, reason: 'consumer withdrew', source: 'notice', recordedBy: 'test' },
        AT,
      ),
    ).toEqual({ recorded: true });
    expect(await recordConsentRevocation(db, { issuer: ccs.issuer, jti, revokedAt: AT, source: 'notice', recordedBy: 'test' }, AT)).toEqual(
      { recorded: false },
    );
    await refused(verifier.verify(check(byJti)), 'CONSENT-REVOKED');

    const byHash = await ccs.sign();
    await recordConsentRevocation(
      db,
      { issuer: ccs.issuer, tokenHash: sha256(byHash), revokedAt: AT, source: 'operator', recordedBy: 'test' },
      AT,
    );
    expect(await isRevoked(db, { issuer: ccs.issuer, tokenHash: sha256(byHash) })).toBe(true);
    await refused(verifier.verify(check(byHash)), 'CONSENT-REVOKED');
    // A revocation is per issuer: the same jti from another issuer is another consent.
    expect(await isRevoked(db, { issuer: 'https://other-ccs.example', jti })).toBe(false);
  });

  it('refuses a malformed status-list reference', async () => {
    await refused(
      verifier.verify(check(await ccs.sign({ status: { status_list: { idx: -1, uri: 'https://ccs.example/sl' } } }))),
      'CONSENT-TOKEN-INVALID',
    );
    await refused(
      verifier.verify(check(await ccs.sign({ status: { status_list: { idx: 1, uri: 'not a uri' } } }))),
      'CONSENT-TOKEN-INVALID',
    );
    await refused(
      verifier.verify(check(await ccs.sign({ status: { status_list: { idx: 1, uri: 'http://ccs.example/sl' } } }))),
      'CONSENT-TOKEN-INVALID',
    );
  });

  it('verifies revocation notices signed by the issuer and refuses forged ones', async () => {
    const notice = (claims: Record<string, unknown>, signer: Issuer = ccs, typ = 'consent-revocation+jwt') =>
      new SignJWT({ iss: ccs.issuer, aud: HUB, iat: NOW - 5, jti: `notice-${++seq}`, revoked_at: NOW - 10, ...claims })
        .setProtectedHeader({ alg: 'ES256', typ, kid: signer.keys[0].kid })
        .sign(signer.keys[0].privateKey);
    const opts = { issuer: ccs.issuer, audience: HUB, keys: ccs.jwksUrl, at: AT };
    const ok = await verifyRevocationNotice({ ...opts, notice: await notice({ consent_jti: 'consent-x', reason: 'moved house' }) });
    expect(ok).toMatchObject({
      issuer: ccs.issuer,
      kid: ccs.keys[0].kid,
      jti: 'consent-x',
      tokenHash: null,
      reason: 'moved house',
      revokedAt: new Date((NOW - 10) * 1000).toISOString(),
    });
    const byHash = await verifyRevocationNotice({ ...opts, notice: await notice({ consent_hash: sha256('some token') }) });
    expect(byHash.tokenHash).toBe(sha256('some token'));

    await refused(
      verifyRevocationNotice({ ...opts, notice: await notice({ consent_jti: 'consent-x' }, attacker) }),
      'CONSENT-NOTICE-INVALID',
    );
    const spoofed = await new SignJWT({ iss: ccs.issuer, aud: HUB, iat: NOW, revoked_at: NOW, consent_jti: 'consent-x' })
      .setProtectedHeader({ alg: 'ES256', typ: 'consent-revocation+jwt', kid: ccs.keys[0].kid })
      .sign(attacker.keys[0].privateKey);
    await refused(verifyRevocationNotice({ ...opts, notice: spoofed }), 'CONSENT-NOTICE-INVALID');
    await refused(
      verifyRevocationNotice({ ...opts, notice: await notice({ consent_jti: 'consent-x', iss: 'https://other-ccs.example' }) }),
      'CONSENT-NOTICE-INVALID',
    );
    await refused(verifyRevocationNotice({ ...opts, notice: await notice({}) }), 'CONSENT-NOTICE-INVALID');
    // A consent token is not a notice, and a notice is not a consent token.
    await refused(verifyRevocationNotice({ ...opts, notice: await ccs.sign() }), 'CONSENT-NOTICE-INVALID');
    await refused(verifier.verify(check(await notice({ consent_jti: 'consent-x' }))), 'CONSENT-TOKEN-INVALID');
  });

  it('fails closed with CONSENT-SERVICE-UNAVAILABLE and a Retry-After when the JWKS cannot be fetched', async () => {
    const down = new URL(`http://127.0.0.1:${await freePort()}/jwks`);
    const v = jwtConsentVerifier({ issuer: ccs.issuer, audience: HUB, keys: down, db });
    const e = await refused(v.verify(check(await ccs.sign())), 'CONSENT-SERVICE-UNAVAILABLE');
    expect(e.retryAfterSec).toBe(30);
  });
});

function consentClaimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
}

describe('key rotation and the JWKS cooldown', () => {
  it('refetches the JWKS for a new kid after the cooldown, and never more than once per cooldown', async () => {
    const ccs = await independentIssuer();
    try {
      const v = jwtConsentVerifier({ issuer: ccs.issuer, audience: HUB, keys: ccs.jwksUrl, db, jwks: { cooldownMs: 400 } });
      await v.verify(check(await ccs.sign()));
      expect(ccs.hits['/jwks']).toBe(1);

      // The issuer rotates: a token signed with the new key arrives inside the cooldown.
      const k2 = await ccs.addKey();
      const rotated = await ccs.sign();
      await refused(v.verify(check(rotated)), 'CONSENT-TOKEN-INVALID');
      // Unknown kids do not hammer the issuer.
      for (let i = 0; i < 5; i++)
        await refused(v.verify(check(await ccs.sign({}, { kid: k2, header: { kid: `unknown-${i}` } }))), 'CONSENT-TOKEN-INVALID');
      expect(ccs.hits['/jwks']).toBe(1);

      await sleep(450);
      const ev = await v.verify(check(rotated));
      expect(ev.kid).toBe(k2);
      expect(ccs.hits['/jwks']).toBe(2);
      // Tokens of the previous key still verify while the issuer publishes it.
      await v.verify(check(await ccs.sign({}, { kid: ccs.keys[0].kid })));
      for (let i = 0; i < 5; i++)
        await refused(v.verify(check(await ccs.sign({}, { header: { kid: `unknown-again-${i}` } }))), 'CONSENT-TOKEN-INVALID');
      expect(ccs.hits['/jwks']).toBe(2);
    } finally {
      await ccs.close();
    }
  });
});

// ---- the reference adapter ---------------------------------------------------------------

describe('opaque consent references, checked online', () => {
  let ccs: Peer;
  let seen: any[] = [];
  const answers: Record<string, (res: ServerResponse) => void> = {
    'ref-valid': (res) =>
      json(res, 200, {
        valid: true,
        consentId: `cid-${++seq}`,
        validFrom: '2026-06-01',
        validTo: null,
        mpan: MPAN,
        fsp: FSP,
        purpose: 'flexibility-services',
      }),
    'ref-fixed': (res) =>
      json(res, 200, {
        valid: true,
        jti: 'cid-fixed',
        validFrom: '2026-06-01T00:00:00+01:00',
        validTo: '2027-06-01',
        mpan: MPAN,
        fsp: FSP,
        purpose: 'flexibility-services',
      }),
    'ref-other-mpan': (res) =>
      json(res, 200, {
        valid: true,
        consentId: 'cid-mpan',
        validFrom: '2026-06-01',
        mpan: mpanFor(9),
        fsp: FSP,
        purpose: 'flexibility-services',
      }),
    'ref-other-fsp': (res) =>
      json(res, 200, {
        valid: true,
        consentId: 'cid-fsp',
        validFrom: '2026-06-01',
        mpan: MPAN,
        fsp: 'someone-else',
        purpose: 'flexibility-services',
      }),
    'ref-late': (res) =>
      json(res, 200, {
        valid: true,
        consentId: 'cid-late',
        validFrom: '2026-08-01',
        mpan: MPAN,
        fsp: FSP,
        purpose: 'flexibility-services',
      }),
    'ref-invalid': (res) => json(res, 200, { valid: false, reason: 'expired' }),
    'ref-revoked': (res) => json(res, 200, { valid: false, reason: 'revoked' }),
    'ref-garbage': (res) => json(res, 200, { valid: 'yes' }),
    'ref-busy': (res) => json(res, 503, { error: 'busy' }, { 'retry-after': '7' }),
    'ref-hang': () => {
      /* never answers */
    },
  };
  beforeAll(async () => {
    ccs = await serve((req, body, res) => {
      if (req.url !== '/consent-check' || req.method !== 'POST') return json(res, 404, {});
      if (req.headers.authorization !== 'Bearer s3cret' && req.headers['x-api-key'] !== 's3cret')
        return json(res, 401, { error: 'unauthorised' });
      const b = JSON.parse(body);
      seen.push(b);
      const answer = answers[b.reference];
      return answer ? answer(res) : json(res, 404, { error: 'unknown reference' });
    });
  });
  afterAll(() => ccs.close());
  const reference = (o: Partial<Parameters<typeof referenceConsentVerifier>[0]> = {}) =>
    referenceConsentVerifier({
      url: `${ccs.base}/consent-check`,
      issuer: 'https://ccs.example',
      auth: { scheme: 'bearer', token: 's3cret' },
      db,
      ...o,
    });

  it('accepts a valid reference, sends what must hold, and keeps evidence with method reference', async () => {
    seen = [];
    const ev = await reference().verify(check('ref-valid'));
    expect(seen[0]).toEqual({ reference: 'ref-valid', mpan: MPAN, fsp: FSP, effectiveDate: '2026-07-01', purpose: 'flexibility-services' });
    expect(ev).toMatchObject({
      method: 'reference',
      issuer: 'https://ccs.example',
      kid: null,
      tokenHash: sha256('ref-valid'),
      statusList: null,
      claims: { mpan: MPAN, fsp: FSP, validFrom: '2026-06-01' },
    });
    expect(ev.jti).toMatch(/^cid-/);
    expect(ev.claims.validTo).toBeUndefined();
    const api = await reference({ auth: { scheme: 'api-key', token: 's3cret' } }).verify(check('ref-valid'));
    expect(api.method).toBe('reference');
  });

  it('applies the same single-use rule to the consent ID', async () => {
    const v = reference();
    await v.verify(check('ref-fixed', { requestKey: 'ref-A' }));
    await v.verify(check('ref-fixed', { requestKey: 'ref-A' }));
    await refused(v.verify(check('ref-fixed', { requestKey: 'ref-B' })), 'CONSENT-REPLAYED');
  });

  it('refuses what the service says is not valid, and what is not bound to this switch', async () => {
    const v = reference();
    await refused(v.verify(check('ref-unknown')), 'CONSENT-REFERENCE-INVALID');
    await refused(v.verify(check('ref-invalid')), 'CONSENT-REFERENCE-INVALID');
    await refused(v.verify(check('ref-revoked')), 'CONSENT-REVOKED');
    await refused(v.verify(check('ref-other-mpan')), 'CONSENT-MPAN-MISMATCH');
    await refused(v.verify(check('ref-other-fsp')), 'CONSENT-FSP-MISMATCH');
    await refused(v.verify(check('ref-late')), 'CONSENT-WINDOW');
    await refused(v.verify(check('has spaces in it')), 'CONSENT-REFERENCE-INVALID');
  });

  it('refuses a consent the hub has recorded as revoked', async () => {
    await recordConsentRevocation(
      db,
      { issuer: 'https://ccs.example', jti: 'cid-revoked-here', revokedAt: AT, source: 'notice', recordedBy: 'test' },
      AT,
    );
    answers['ref-revoked-here'] = (res) =>
      json(res, 200, {
        valid: true,
        consentId: 'cid-revoked-here',
        validFrom: '2026-06-01',
        mpan: MPAN,
        fsp: FSP,
        purpose: 'flexibility-services',
      });
    await refused(reference().verify(check('ref-revoked-here')), 'CONSENT-REVOKED');
  });

  it('fails closed: timeout, errors, unusable answers and refused credentials are CONSENT-SERVICE-UNAVAILABLE', async () => {
    // The service never answers: only the 150 ms timer's abort gives this detail (src/consent/reference.ts).
    const e = await refused(reference({ timeoutMs: 150 }).verify(check('ref-hang')), 'CONSENT-SERVICE-UNAVAILABLE');
    expect(e.detail).toMatch(/no answer within 150 ms/);
    expect(e.retryAfterSec).toBe(30);
    expect((await refused(reference().verify(check('ref-busy')), 'CONSENT-SERVICE-UNAVAILABLE')).retryAfterSec).toBe(7);
    await refused(reference().verify(check('ref-garbage')), 'CONSENT-SERVICE-UNAVAILABLE');
    await refused(reference({ auth: { scheme: 'bearer', token: 'wrong' } }).verify(check('ref-valid')), 'CONSENT-SERVICE-UNAVAILABLE');
    await refused(
      reference({ url: `http://127.0.0.1:${await freePort()}/consent-check` }).verify(check('ref-valid')),
      'CONSENT-SERVICE-UNAVAILABLE',
    );
  });
});

// ---- configuration, the factory, the simulator -------------------------------------------

describe('configuration and consentVerifierFromConfig', () => {
  let ccs: Issuer;
  let refs: Peer;
  beforeAll(async () => {
    ccs = await independentIssuer();
    refs = await serve((_req, body, res) => {
      const b = JSON.parse(body);
      json(res, 200, {
        valid: true,
        consentId: `cfg-${b.reference}`,
        validFrom: '2026-06-01',
        mpan: b.mpan,
        fsp: b.fsp,
        purpose: b.purpose,
      });
    });
  });
  afterAll(async () => {
    await ccs.close();
    await refs.close();
  });
  const env = (extra: Record<string, string>) => loadConfig({ FMAR_MODE: 'development', FMAR_BASE_URL: HUB, ...extra });

  it('reads the consent settings, with defaults', () => {
    const cfg = env({ FMAR_CONSENT_ISSUER: ccs.issuer, FMAR_CONSENT_JWKS_URL: ccs.jwksUrl.href });
    expect(cfg.consent).toMatchObject({
      issuer: ccs.issuer,
      jwksUrl: ccs.jwksUrl.href,
      audience: HUB,
      maxAgeDays: 365,
      skewSec: 60,
      referenceTimeoutMs: 3_000,
      referenceAuth: 'bearer',
    });
    expect(() => env({ FMAR_CONSENT_ISSUER: ccs.issuer })).toThrow(ConfigError);
    expect(() => env({ FMAR_CONSENT_JWKS_URL: ccs.jwksUrl.href })).toThrow(ConfigError);
    expect(() =>
      env({ FMAR_CONSENT_ISSUER: ccs.issuer, FMAR_CONSENT_JWKS: '{"keys": []}', FMAR_CONSENT_JWKS_URL: ccs.jwksUrl.href }),
    ).toThrow(ConfigError);
    expect(() => env({ FMAR_CONSENT_ISSUER: ccs.issuer, FMAR_CONSENT_JWKS: 'not json' })).toThrow(ConfigError);
    expect(() => env({ FMAR_CONSENT_SKEW_SEC: '3600' })).toThrow(ConfigError);
    expect(() => env({ FMAR_CONSENT_MAX_AGE_DAYS: '0' })).toThrow(ConfigError);
    expect(() => env({ FMAR_CONSENT_REFERENCE_AUTH: 'basic' })).toThrow(ConfigError);
    const prod = {
      FMAR_MODE: 'production',
      FMAR_BASE_URL: 'https://fmar.example',
      FMAR_ISSUER: 'https://fmar.example',
      FMAR_CONSENT_ISSUER: 'https://ccs.example',
    };
    expect(() => loadConfig({ ...prod, FMAR_CONSENT_JWKS_URL: 'http://ccs.example/jwks' })).toThrow(/https/);
    expect(loadConfig({ ...prod, FMAR_CONSENT_JWKS_URL: 'https://ccs.example/jwks' }).consent.audience).toBe('https://fmar.example');
    expect(() =>
      loadConfig({ ...prod, FMAR_CONSENT_JWKS_URL: 'https://ccs.example/jwks', FMAR_CONSENT_REFERENCE_URL: 'https://ccs.example/check' }),
    ).toThrow(/REFERENCE_TOKEN/);
  });

  it('routes a compact JWS to the JWT adapter and anything else to the reference adapter', async () => {
    const cfg = env({
      FMAR_CONSENT_ISSUER: ccs.issuer,
      FMAR_CONSENT_JWKS_URL: ccs.jwksUrl.href,
      FMAR_CONSENT_REFERENCE_URL: `${refs.base}/check`,
      FMAR_CONSENT_REFERENCE_TOKEN: 't',
    });
    const service = consentVerifierFromConfig(cfg, db, clock)!;
    expect(service.methods).toEqual({ jwt: true, reference: true });
    expect((await service.verify(check(await ccs.sign()))).method).toBe('jwt');
    const ref = await service.verify(check('CCS-REF-0001'));
    expect(ref).toMatchObject({ method: 'reference', issuer: ccs.issuer, jti: 'cfg-CCS-REF-0001' });
  });

  it('refuses a kind of consent the hub is not configured for, and is absent when nothing is configured', async () => {
    const jwtOnly = consentVerifierFromConfig(
      env({ FMAR_CONSENT_ISSUER: ccs.issuer, FMAR_CONSENT_JWKS: JSON.stringify({ keys: ccs.keys.map((k) => k.pub) }) }),
      db,
      clock,
    )!;
    expect((await jwtOnly.verify(check(await ccs.sign()))).method).toBe('jwt');
    await refused(jwtOnly.verify(check('CCS-REF-0002')), 'CONSENT-METHOD-UNSUPPORTED');
    const refOnly = consentVerifierFromConfig(env({ FMAR_CONSENT_REFERENCE_URL: `${refs.base}/check` }), db, clock)!;
    await refused(refOnly.verify(check(await ccs.sign())), 'CONSENT-METHOD-UNSUPPORTED');
    await refused(refOnly.verifyRevocationNotice('a.b.c'), 'CONSENT-METHOD-UNSUPPORTED');
    expect(consentVerifierFromConfig(env({}), db, clock)).toBeUndefined();
  });

  it('honours FMAR_CONSENT_SKEW_SEC and FMAR_CONSENT_MAX_AGE_DAYS', async () => {
    const service = consentVerifierFromConfig(
      env({
        FMAR_CONSENT_ISSUER: ccs.issuer,
        FMAR_CONSENT_JWKS_URL: ccs.jwksUrl.href,
        FMAR_CONSENT_SKEW_SEC: '0',
        FMAR_CONSENT_MAX_AGE_DAYS: '10',
      }),
      db,
      clock,
    )!;
    await refused(service.verify(check(await ccs.sign({ exp: NOW - 1 }))), 'CONSENT-EXPIRED');
    await refused(service.verify(check(await ccs.sign({ iat: NOW - 11 * DAY, nbf: undefined }))), 'CONSENT-TOO-OLD');
  });
});

describe('the development consent-service simulator', () => {
  const cfg = loadConfig({ FMAR_MODE: 'development', FMAR_BASE_URL: HUB });
  const sim = consentSimulator({ issuer: `${HUB}/dev/consent-service`, audience: cfg.consent.audience, clock, mode: 'development' });
  const app = new Hono().route('/dev/consent-service', consentSimulatorRoutes(sim, { mode: 'development' }));
  const post = async (path: string, body: unknown) => {
    const res = await app.request(`/dev/consent-service${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as any };
  };

  it('issues consents and revocation notices over HTTP that the hub verifies', async () => {
    const service = consentVerifierFromConfig(cfg, db, clock, { simulator: sim })!;
    const jwks = (await (await app.request('/dev/consent-service/jwks')).json()) as { keys: JWK[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).not.toHaveProperty('d');

    const issued = await post('/consents', { mpan: MPAN, fsp: FSP, validFrom: '2026-06-15', validTo: '2026-12-31' });
    expect(issued.status).toBe(201);
    const ev = await service.verify(check(issued.json.token));
    expect(ev).toMatchObject({
      method: 'jwt',
      issuer: sim.issuer,
      jti: issued.json.jti,
      tokenHash: issued.json.tokenHash,
      claims: { validFrom: '2026-06-15', validTo: '2026-12-31' },
    });

    const revoked = await post('/revocations', { jti: issued.json.jti, reason: 'consumer withdrew' });
    expect(revoked.status).toBe(201);
    const notice = await service.verifyRevocationNotice(revoked.json.notice);
    expect(notice).toMatchObject({ issuer: sim.issuer, jti: issued.json.jti, reason: 'consumer withdrew' });
    await recordConsentRevocation(
      db,
      {
        issuer: notice.issuer,
        jti: notice.jti,
        tokenHash: notice.tokenHash,
        revokedAt: new Date(notice.revokedAt),
        reason: notice.reason,
        source: 'notice',
        recordedBy: 'test',
      },
      AT,
    );
    await refused(service.verify(check(issued.json.token)), 'CONSENT-REVOKED');

    // A rotated simulator key is followed at once (its JWKS is read in process).
    await sim.rotateKey();
    const after = await sim.issueConsent({ mpan: MPAN, fsp: FSP });
    expect((await service.verify(check(after.token))).kid).not.toBe(ev.kid);
  });

  it('validates its requests', async () => {
    const bad = await post('/consents', { mpan: '123', fsp: FSP });
    expect(bad.status).toBe(422);
    expect(bad.json.code).toBe('REQUEST-VALIDATION');
    expect((await post('/revocations', {})).status).toBe(422);
  });

  it('is refused in production', () => {
    expect(() =>
      consentSimulator({ issuer: 'https://fmar.example/dev/consent-service', audience: 'https://fmar.example', clock, mode: 'production' }),
    ).toThrow(/refused in production/);
    expect(() => consentSimulatorRoutes(sim, { mode: 'production' })).toThrow(/refused in production/);
    const prod = loadConfig({ FMAR_MODE: 'production', FMAR_BASE_URL: 'https://fmar.example', FMAR_ISSUER: 'https://fmar.example' });
    expect(() => consentVerifierFromConfig(prod, db, clock, { simulator: sim })).toThrow(/refused in production/);
  });
});
