import { base64url, calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, errors, jwtVerify, type JWK, type JWTPayload } from 'jose';
import type { Now, SqlPort } from './types';

/**
 * DPoP (RFC 9449) proof verification for a resource server: the request carries an access token
 * bound to a key (`cnf.jkt`) and a proof, signed with that key, of this method, this URL and this
 * token. Web Crypto and jose only, so it runs on Node and on Workers alike.
 */

export type DpopErrorCode =
  'DPOP-PROOF-MISSING' | 'DPOP-PROOF-INVALID' | 'DPOP-PROOF-REPLAYED' | 'DPOP-BINDING-MISMATCH' | 'DPOP-NONCE-REQUIRED';

export class DpopError extends Error {
  override readonly name = 'DpopError';
  constructor(
    readonly code: DpopErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Where used proof `jti`s are remembered; shared between instances when the hub runs on more than one. */
export interface DpopReplayStore {
  /** True if `jti` was already used; records it, until `expiresAtMs`, otherwise. */
  seen(jti: string, expiresAtMs: number): Promise<boolean>;
}

/**
 * A replay store for one process: remembers the last `max` jtis, forgetting the oldest first (a
 * forgotten proof could be replayed until it ages out, so size `max` above the proofs expected in
 * one maxAge window). It keeps no clock of its own, which could disagree with the verifier's `now`
 * and fail open; `expiresAtMs` is for stores with a TTL (a shared KV or database table).
 */
export function memoryReplayStore(max = 50_000): DpopReplayStore {
  const used = new Set<string>();
  return {
    async seen(jti) {
      if (used.has(jti)) return true;
      if (used.size >= max) used.delete(used.values().next().value!);
      used.add(jti);
      return false;
    },
  };
}

/**
 * The replay store in the database (table dpop_replay), shared by every hub instance on it: one
 * conditional insert per proof, so of concurrent requests with one proof exactly one records it.
 * The key is a hash of the jti (a jti may be long; the hash has a fixed size). A row expired by
 * `now` (give it the verifier's clock) is taken over; purgeDpopReplays deletes them.
 */
export function sqlReplayStore(db: SqlPort, now: Now): DpopReplayStore {
  return {
    async seen(jti, expiresAtMs) {
      const key = base64url.encode(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(jti))));
      const expiresAt = new Date(expiresAtMs).toISOString();
      const rows = await db.query(
        `INSERT INTO dpop_replay (jti_hash, expires_at) VALUES ($1, $2::timestamptz)
         ON CONFLICT (jti_hash) DO UPDATE SET expires_at = excluded.expires_at
           WHERE dpop_replay.expires_at <= $3::timestamptz
         RETURNING 1`,
        [key, expiresAt, now().toISOString()],
      );
      return rows.length === 0;
    },
  };
}

/** Delete replay rows whose proofs can no longer be accepted; returns how many. */
export async function purgeDpopReplays(db: SqlPort, now: Date): Promise<number> {
  const rows = await db.query(`DELETE FROM dpop_replay WHERE expires_at <= $1::timestamptz RETURNING 1`, [now.toISOString()]);
  return rows.length;
}

export const DPOP_ALGORITHMS = ['ES256', 'EdDSA', 'RS256', 'PS256'];
const DPOP_MAX_PROOF_BYTES = 8 * 1024;

// RFC 7517/7518 private (and symmetric) key members: a proof must carry only the public key.
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'];

export interface DpopCheck {
  /** The DPoP request header; several values (joined by commas) are refused. */
  proof: string | undefined;
  method: string;
  /** The URL the client addressed (behind a proxy: the external one); query and fragment are ignored. */
  url: string;
  accessToken: string;
  /** `cnf.jkt` of the verified access token. */
  jkt: string;
  now: Date;
  maxAgeSec?: number;
  clockSkewSec?: number;
  replay: DpopReplayStore;
  algorithms?: string[];
  /** A nonce the server issued (RFC 9449 §8); when set, the proof must carry it. */
  nonce?: string;
}

/** Verify a DPoP proof for one request; throws DpopError, whose `code` says which rule failed. */
export async function verifyDpopProof(o: DpopCheck): Promise<{ jkt: string; jti: string }> {
  const maxAgeSec = o.maxAgeSec ?? 300;
  const skewSec = o.clockSkewSec ?? 30;
  const proof = o.proof;

  if (proof === undefined || proof.trim() === '') throw new DpopError('DPOP-PROOF-MISSING', 'The request has no DPoP header.');
  if (proof.length > DPOP_MAX_PROOF_BYTES)
    throw new DpopError('DPOP-PROOF-INVALID', `The DPoP proof is ${proof.length} bytes; at most ${DPOP_MAX_PROOF_BYTES} are accepted.`);
  if (proof.includes(',')) throw new DpopError('DPOP-PROOF-INVALID', 'The request has more than one DPoP header value.');
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(proof))
    throw new DpopError('DPOP-PROOF-INVALID', 'The DPoP proof is not a signed compact JWS (header.payload.signature).');

  const jwk = checkHeader(proof, o.algorithms ?? DPOP_ALGORITHMS);
  const claims = await checkSignature(proof, o.now, skewSec);

  const jti = claims.jti;
  if (typeof jti !== 'string' || jti.length === 0) throw new DpopError('DPOP-PROOF-INVALID', 'The DPoP proof has no jti claim.');
  if (claims.htm !== o.method)
    throw new DpopError('DPOP-PROOF-INVALID', `The DPoP proof's htm (${String(claims.htm)}) is not the request method ${o.method}.`);
  const requestUri = normaliseHtu(o.url);
  if (requestUri === undefined) throw new Error(`verifyDpopProof: the request url ${o.url} is not an absolute http(s) URL`);
  const proofUri = typeof claims.htu === 'string' ? normaliseHtu(claims.htu) : undefined;
  if (proofUri !== requestUri)
    throw new DpopError('DPOP-PROOF-INVALID', `The DPoP proof's htu (${String(claims.htu)}) is not the request URL ${requestUri}.`);
  checkIat(claims.iat, o.now, maxAgeSec, skewSec);
  if (typeof claims.ath !== 'string')
    throw new DpopError('DPOP-PROOF-INVALID', 'The DPoP proof has no ath claim (hash of the access token).');
  if (claims.ath !== (await accessTokenHash(o.accessToken)))
    throw new DpopError('DPOP-PROOF-INVALID', "The DPoP proof's ath is not the hash of the access token presented.");
  if (o.nonce !== undefined && claims.nonce !== o.nonce)
    throw new DpopError('DPOP-NONCE-REQUIRED', 'The DPoP proof must carry the nonce the server issued (DPoP-Nonce).');

  const thumbprint = await calculateJwkThumbprint(jwk, 'sha256');
  if (thumbprint !== o.jkt)
    throw new DpopError(
      'DPOP-BINDING-MISMATCH',
      'The DPoP proof is signed with a key other than the one the access token is bound to (cnf.jkt).',
    );

  // Checked last so that only a proof valid in every other way uses up its jti. A proof is accepted
  // while iat is in [now - maxAge, now + skew], so remembering it maxAge + skew from now covers it.
  if (await o.replay.seen(jti, o.now.getTime() + (maxAgeSec + skewSec) * 1000))
    throw new DpopError('DPOP-PROOF-REPLAYED', `The DPoP proof jti ${jti} was already used.`);
  return { jkt: thumbprint, jti };
}

/** base64url(SHA-256(ASCII(token))), the `ath` claim (RFC 9449 §4.2). */
async function accessTokenHash(accessToken: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(accessToken));
  return base64url.encode(new Uint8Array(digest));
}

/**
 * The URL as RFC 9449 §4.3 compares it: scheme and host lowercase, default port dropped, dot
 * segments resolved, percent-encoding normalised (RFC 3986 §6.2.2), no query or fragment.
 */
function normaliseHtu(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return undefined;
  const path = u.pathname.replace(/%[0-9A-Fa-f]{2}/g, (m) => {
    const ch = String.fromCharCode(parseInt(m.slice(1), 16));
    return /[A-Za-z0-9._~-]/.test(ch) ? ch : m.toUpperCase();
  });
  return `${u.protocol}//${u.host}${path}`;
}

function checkHeader(proof: string, allowed: string[]): JWK {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(proof);
  } catch {
    throw new DpopError('DPOP-PROOF-INVALID', 'The DPoP proof header is not base64url-encoded JSON.');
  }
  if (typeof header.typ !== 'string' || header.typ.toLowerCase() !== 'dpop+jwt')
    throw new DpopError('DPOP-PROOF-INVALID', `The DPoP proof's typ is ${String(header.typ)}, not dpop+jwt.`);
  const alg = header.alg;
  // Never none or a MAC, whatever the caller's list says: the proof must be signed by a private key.
  if (typeof alg !== 'string' || alg === 'none' || alg.startsWith('HS') || !allowed.includes(alg)) {
    throw new DpopError(
      'DPOP-PROOF-INVALID',
      `The DPoP proof's alg ${String(alg)} is not accepted; use one of ${allowed.filter((a) => a !== 'none' && !a.startsWith('HS')).join(', ')}.`,
    );
  }
  const jwk = header.jwk;
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk))
    throw new DpopError('DPOP-PROOF-INVALID', 'The DPoP proof header has no jwk (the public key).');
  const leaked = PRIVATE_JWK_MEMBERS.filter((m) => m in jwk);
  if (leaked.length > 0)
    throw new DpopError(
      'DPOP-PROOF-INVALID',
      `The DPoP proof's jwk holds private key members (${leaked.join(', ')}); send only the public key.`,
    );
  return jwk as JWK;
}

async function checkSignature(proof: string, now: Date, skewSec: number): Promise<JWTPayload> {
  try {
    // The embedded key is the point of DPoP; what binds it to anything is the jkt check afterwards.
    const { payload } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', currentDate: now, clockTolerance: skewSec });
    return payload;
  } catch (e) {
    if (e instanceof errors.JWSSignatureVerificationFailed)
      throw new DpopError('DPOP-PROOF-INVALID', 'The DPoP proof signature does not verify with the jwk in its header.');
    if (e instanceof errors.JWSInvalid) throw new DpopError('DPOP-PROOF-INVALID', `The DPoP proof's jwk cannot verify it (${e.message}).`);
    if (e instanceof errors.JOSEError) throw new DpopError('DPOP-PROOF-INVALID', `The DPoP proof was refused (${e.code}: ${e.message}).`);
    throw new DpopError('DPOP-PROOF-INVALID', `The DPoP proof's jwk cannot verify it (${(e as Error).message}).`);
  }
}

function checkIat(iat: unknown, now: Date, maxAgeSec: number, skewSec: number): void {
  if (typeof iat !== 'number' || !Number.isFinite(iat))
    throw new DpopError('DPOP-PROOF-INVALID', 'The DPoP proof has no numeric iat claim.');
  const nowSec = now.getTime() / 1000;
  if (iat > nowSec + skewSec)
    throw new DpopError(
      'DPOP-PROOF-INVALID',
      `The DPoP proof's iat is ${Math.round(iat - nowSec)} s in the future (at most ${skewSec} s of clock skew is allowed).`,
    );
  if (nowSec - iat > maxAgeSec)
    throw new DpopError('DPOP-PROOF-INVALID', `The DPoP proof is ${Math.round(nowSec - iat)} s old; at most ${maxAgeSec} s is accepted.`);
}
