import { createHash } from 'node:crypto';
import { SignJWT, base64url, calculateJwkThumbprint, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { DpopError, memoryReplayStore, verifyDpopProof, type DpopCheck, type DpopErrorCode } from '../identity/dpop';

const NOW = new Date('2025-06-01T12:00:00Z');
const NOW_SEC = NOW.getTime() / 1000;
const URL_ = 'https://hub.example/api/v1/assets';
const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJmc3AtYSJ9.c2lnbmF0dXJl';
// Computed with node:crypto rather than the module under test.
const ATH = createHash('sha256').update(TOKEN).digest('base64url');

interface Holder {
  alg: 'ES256' | 'EdDSA';
  privateKey: CryptoKey;
  publicJwk: JWK;
  privateJwk: JWK;
  jkt: string;
}
let es: Holder;
let ed: Holder;
let other: Holder;

async function holder(alg: 'ES256' | 'EdDSA'): Promise<Holder> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  return { alg, privateKey, publicJwk, privateJwk: await exportJWK(privateKey), jkt: await calculateJwkThumbprint(publicJwk, 'sha256') };
}

let counter = 0;
async function proof(
  h: Holder,
  o: { claims?: Record<string, unknown>; header?: Record<string, unknown>; signWith?: CryptoKey | Uint8Array; alg?: string } = {},
): Promise<string> {
  const claims = { jti: `jti-${++counter}`, htm: 'GET', htu: URL_, iat: NOW_SEC, ath: ATH, ...o.claims };
  for (const [k, v] of Object.entries(claims)) if (v === undefined) delete (claims as Record<string, unknown>)[k];
  return new SignJWT(claims)
    .setProtectedHeader({ alg: o.alg ?? h.alg, typ: 'dpop+jwt', jwk: h.publicJwk, ...o.header })
    .sign(o.signWith ?? h.privateKey);
}

function check(p: string | undefined, over: Partial<DpopCheck> = {}): Promise<{ jkt: string; jti: string }> {
  return verifyDpopProof({
    proof: p,
    method: 'GET',
    url: URL_,
    accessToken: TOKEN,
    jkt: es.jkt,
    now: NOW,
    replay: memoryReplayStore(),
    ...over,
  });
}

async function refused(p: Promise<unknown>, code: DpopErrorCode, message?: RegExp): Promise<void> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, 'the proof should have been refused').toBeInstanceOf(DpopError);
  expect((e as DpopError).code).toBe(code);
  if (message) expect((e as DpopError).message).toMatch(message);
}

function unsigned(header: Record<string, unknown>, claims: Record<string, unknown>, signature = ''): string {
  const enc = (v: unknown) => base64url.encode(JSON.stringify(v));
  return `${enc(header)}.${enc(claims)}.${signature}`;
}

beforeAll(async () => {
  [es, ed, other] = await Promise.all([holder('ES256'), holder('EdDSA'), holder('ES256')]);
});

describe('DPoP proofs that pass', () => {
  it('accepts a valid ES256 proof and returns the RFC 7638 thumbprint and jti', async () => {
    const r = await check(await proof(es, { claims: { jti: 'abc' } }));
    // RFC 7638 §3.2 by hand: the required EC members in lexicographic order, no whitespace.
    const { crv, kty, x, y } = es.publicJwk;
    const byHand = createHash('sha256').update(JSON.stringify({ crv, kty, x, y })).digest('base64url');
    expect(r).toEqual({ jkt: byHand, jti: 'abc' });
  });

  it('accepts a valid EdDSA proof', async () => {
    const r = await check(await proof(ed), { jkt: ed.jkt });
    expect(r.jkt).toBe(ed.jkt);
  });

  it('ignores the query and fragment of the request URL and normalises scheme, host and default port', async () => {
    await check(await proof(es), { url: `${URL_}?identifier=mpan:1234#top` });
    await check(await proof(es, { claims: { htu: 'HTTPS://Hub.Example:443/api/v1/assets?x=1' } }));
  });

  it('accepts an iat a little in the future (within the skew) and one just under max age', async () => {
    await check(await proof(es, { claims: { iat: NOW_SEC + 29 } }));
    await check(await proof(es, { claims: { iat: NOW_SEC - 299 } }));
  });
});

describe('DPoP proofs that are refused', () => {
  it('DPOP-PROOF-MISSING: no DPoP header', async () => {
    await refused(check(undefined), 'DPOP-PROOF-MISSING');
    await refused(check(''), 'DPOP-PROOF-MISSING');
  });

  it('DPOP-PROOF-INVALID: more than one DPoP header value', async () => {
    await refused(check(`${await proof(es)}, ${await proof(es)}`), 'DPOP-PROOF-INVALID', /more than one/);
  });

  it('DPOP-PROOF-INVALID: a typ other than dpop+jwt', async () => {
    await refused(check(await proof(es, { header: { typ: 'JWT' } })), 'DPOP-PROOF-INVALID', /typ/);
    await refused(check(await proof(es, { header: { typ: 'at+jwt' } })), 'DPOP-PROOF-INVALID', /typ/);
  });

  it('DPOP-PROOF-INVALID: alg none, hand-built and unsigned', async () => {
    const claims = { jti: 'none-1', htm: 'GET', htu: URL_, iat: NOW_SEC, ath: ATH };
    const header = { alg: 'none', typ: 'dpop+jwt', jwk: es.publicJwk };
    await refused(check(unsigned(header, claims)), 'DPOP-PROOF-INVALID', /not a signed compact JWS/);
    // With a filler signature it gets as far as the algorithm check.
    await refused(check(unsigned(header, claims, 'AAAA')), 'DPOP-PROOF-INVALID', /alg none/);
    // Even if a caller lists it.
    await refused(check(unsigned(header, claims, 'AAAA'), { algorithms: ['none', 'ES256'] }), 'DPOP-PROOF-INVALID', /alg none/);
  });

  it('DPOP-PROOF-INVALID: HS256, even when the caller allows it', async () => {
    const secret = new TextEncoder().encode('a shared secret of thirty-two bytes!');
    const p = await proof(es, { alg: 'HS256', signWith: secret });
    await refused(check(p), 'DPOP-PROOF-INVALID', /alg HS256/);
    await refused(check(p, { algorithms: ['HS256', 'ES256'] }), 'DPOP-PROOF-INVALID', /alg HS256/);
  });

  it('DPOP-PROOF-INVALID: an alg outside the allow-list', async () => {
    await refused(check(await proof(es), { algorithms: ['EdDSA'] }), 'DPOP-PROOF-INVALID', /alg ES256/);
  });

  it('DPOP-PROOF-INVALID: a private key in the header', async () => {
    await refused(check(await proof(es, { header: { jwk: es.privateJwk } })), 'DPOP-PROOF-INVALID', /private key members \(d\)/);
  });

  it('DPOP-PROOF-INVALID: no jwk in the header', async () => {
    await refused(check(await proof(es, { header: { jwk: undefined } })), 'DPOP-PROOF-INVALID', /no jwk/);
  });

  it('DPOP-PROOF-INVALID: a signature that does not verify with the header jwk', async () => {
    // Signed by another key than the one in the header.
    await refused(check(await proof(es, { signWith: other.privateKey })), 'DPOP-PROOF-INVALID', /signature/);
    // A payload changed after signing.
    const [h, , s] = (await proof(es)).split('.');
    const forged = base64url.encode(JSON.stringify({ jti: 'forged', htm: 'GET', htu: URL_, iat: NOW_SEC, ath: ATH }));
    await refused(check(`${h}.${forged}.${s}`), 'DPOP-PROOF-INVALID', /signature/);
  });

  it('DPOP-PROOF-INVALID: htm is not the request method', async () => {
    await refused(check(await proof(es, { claims: { htm: 'POST' } })), 'DPOP-PROOF-INVALID', /htm/);
    await refused(check(await proof(es), { method: 'DELETE' }), 'DPOP-PROOF-INVALID', /htm/);
  });

  it('DPOP-PROOF-INVALID: htu names another path or another host', async () => {
    await refused(check(await proof(es, { claims: { htu: 'https://hub.example/api/v1/organisations' } })), 'DPOP-PROOF-INVALID', /htu/);
    await refused(check(await proof(es, { claims: { htu: 'https://evil.example/api/v1/assets' } })), 'DPOP-PROOF-INVALID', /htu/);
    await refused(check(await proof(es, { claims: { htu: 'http://hub.example/api/v1/assets' } })), 'DPOP-PROOF-INVALID', /htu/);
    await refused(check(await proof(es, { claims: { htu: 'https://hub.example:8443/api/v1/assets' } })), 'DPOP-PROOF-INVALID', /htu/);
  });

  it('DPOP-PROOF-INVALID: iat older than max age, or in the future beyond the skew', async () => {
    await refused(check(await proof(es, { claims: { iat: NOW_SEC - 301 } })), 'DPOP-PROOF-INVALID', /301 s old/);
    await refused(check(await proof(es, { claims: { iat: NOW_SEC - 61 } }), { maxAgeSec: 60 }), 'DPOP-PROOF-INVALID', /old/);
    await refused(check(await proof(es, { claims: { iat: NOW_SEC + 31 } })), 'DPOP-PROOF-INVALID', /future/);
    await refused(check(await proof(es, { claims: { iat: NOW_SEC + 6 } }), { clockSkewSec: 5 }), 'DPOP-PROOF-INVALID', /future/);
  });

  it('DPOP-PROOF-INVALID: ath missing, or the hash of another token', async () => {
    await refused(check(await proof(es, { claims: { ath: undefined } })), 'DPOP-PROOF-INVALID', /no ath/);
    const otherAth = createHash('sha256').update(`${TOKEN}x`).digest('base64url');
    await refused(check(await proof(es, { claims: { ath: otherAth } })), 'DPOP-PROOF-INVALID', /ath is not the hash/);
  });

  it('DPOP-PROOF-INVALID: jti missing', async () => {
    await refused(check(await proof(es, { claims: { jti: undefined } })), 'DPOP-PROOF-INVALID', /no jti/);
  });

  it('DPOP-BINDING-MISMATCH: the proof key is not the key the token is bound to', async () => {
    await refused(check(await proof(es), { jkt: other.jkt }), 'DPOP-BINDING-MISMATCH');
    await refused(check(await proof(ed), { jkt: es.jkt }), 'DPOP-BINDING-MISMATCH');
  });

  it('DPOP-PROOF-REPLAYED: the same jti a second time', async () => {
    const replay = memoryReplayStore();
    const p = await proof(es);
    await check(p, { replay });
    await refused(check(p, { replay }), 'DPOP-PROOF-REPLAYED');
    // A new proof reusing the jti is a replay too, even a minute later.
    const { jti } = await check(await proof(es, { claims: { jti: 'reused' } }), { replay });
    const later = new Date(NOW.getTime() + 60_000);
    await refused(check(await proof(es, { claims: { jti, iat: later.getTime() / 1000 } }), { replay, now: later }), 'DPOP-PROOF-REPLAYED');
  });

  it('DPOP-PROOF-REPLAYED is decided last: an invalid proof does not use up its jti', async () => {
    const replay = memoryReplayStore();
    await refused(check(await proof(es, { claims: { jti: 'later', htm: 'POST' } }), { replay }), 'DPOP-PROOF-INVALID');
    await check(await proof(es, { claims: { jti: 'later' } }), { replay });
  });

  it('DPOP-PROOF-INVALID: a proof over 8 KiB', async () => {
    const big = await proof(es, { claims: { pad: 'x'.repeat(7000) } });
    expect(big.length).toBeGreaterThan(8192);
    await refused(check(big), 'DPOP-PROOF-INVALID', /at most 8192/);
  });

  it('DPOP-NONCE-REQUIRED: the server issued a nonce the proof does not carry', async () => {
    await refused(check(await proof(es), { nonce: 'n-1' }), 'DPOP-NONCE-REQUIRED');
    await refused(check(await proof(es, { claims: { nonce: 'n-0' } }), { nonce: 'n-1' }), 'DPOP-NONCE-REQUIRED');
    await check(await proof(es, { claims: { nonce: 'n-1' } }), { nonce: 'n-1' });
  });
});

describe('memoryReplayStore', () => {
  it('remembers a jti whatever the expiry passed, so a fake clock cannot make it fail open', async () => {
    const store = memoryReplayStore();
    expect(await store.seen('a', 0)).toBe(false);
    expect(await store.seen('a', 0)).toBe(true);
    expect(await store.seen('b', Number.MAX_SAFE_INTEGER)).toBe(false);
  });

  it('holds at most max jtis, forgetting the oldest', async () => {
    const store = memoryReplayStore(2);
    for (const j of ['a', 'b', 'c']) expect(await store.seen(j, 10)).toBe(false);
    expect(await store.seen('c', 10)).toBe(true);
    expect(await store.seen('a', 10)).toBe(false);
  });
});
