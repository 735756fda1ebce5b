import { SignJWT, exportJWK, generateKeyPair, importJWK, type JSONWebKeySet, type JWK } from 'jose';
import type { Now, SqlPort } from './types';

/**
 * The provider's signing keys, kept in the database (table signing_key, purpose 'oidc'):
 * one ES256 key (access tokens) and one RS256 key (ID tokens for clients that want the OpenID
 * default) are current; rotation makes new ones current and keeps the old ones published for
 * verification until `expires_at`, after every token they signed has expired.
 */
export const KEY_PURPOSE = 'oidc';
export const KEY_ALGORITHMS = ['ES256', 'RS256'] as const;

interface KeyRow {
  kid: string;
  alg: string;
  private_jwk: JWK;
  public_jwk: JWK;
  retired_at: string | null;
  expires_at: string | null;
}

export interface KeyRing {
  /** Private JWKs for the provider, current keys first (oidc-provider signs with the first per alg). */
  privateJwks(): JWK[];
  /** Public JWKS: current and retired-but-unexpired keys. */
  publicJwks(): JSONWebKeySet;
  /** The current private key of an algorithm, with its kid. */
  current(alg: (typeof KEY_ALGORITHMS)[number]): { kid: string; jwk: JWK };
  /** Re-read the keys (another process may have rotated them); true when they changed. */
  refresh(): Promise<boolean>;
  /** A stable string that changes whenever the key set does. */
  readonly version: string;
}

async function newKey(alg: string, kid: string) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
  return {
    priv: { ...(await exportJWK(privateKey)), kid, alg, use: 'sig' } as JWK,
    pub: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } as JWK,
  };
}

async function readKeys(db: SqlPort, now: Date): Promise<KeyRow[]> {
  return db.query<KeyRow>(
    `SELECT kid, alg, private_jwk, public_jwk, retired_at, expires_at FROM signing_key
      WHERE purpose = $1 AND (expires_at IS NULL OR expires_at > $2::timestamptz)
      ORDER BY (retired_at IS NULL) DESC, created_at DESC, kid DESC`,
    [KEY_PURPOSE, now.toISOString()],
  );
}

/** Create the current keys when there are none (or an algorithm is missing). Returns how many were made. */
export async function ensureSigningKeys(db: SqlPort, now: Date, newId: () => string): Promise<number> {
  const rows = await readKeys(db, now);
  let made = 0;
  for (const alg of KEY_ALGORITHMS) {
    if (rows.some((r) => r.alg === alg && !r.retired_at)) continue;
    const kid = newId();
    const { priv, pub } = await newKey(alg, kid);
    await db.query(
      `INSERT INTO signing_key (kid, purpose, alg, private_jwk, public_jwk, created_at) VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6::timestamptz)`,
      [kid, KEY_PURPOSE, alg, priv, pub, now.toISOString()],
    );
    made++;
  }
  return made;
}

/**
 * Rotate: new current keys; the previous ones stay published for `retainSec` (default one day,
 * longer than any token the provider issues: access tokens live 5 minutes, ID tokens 1 hour).
 */
export async function rotateSigningKeys(
  db: SqlPort,
  now: Date,
  newId: () => string,
  retainSec = 86_400,
): Promise<{ retired: string[]; created: string[] }> {
  const retired = await db.query<{ kid: string }>(
    `UPDATE signing_key SET retired_at = $2::timestamptz, expires_at = $3::timestamptz
      WHERE purpose = $1 AND retired_at IS NULL RETURNING kid`,
    [KEY_PURPOSE, now.toISOString(), new Date(now.getTime() + retainSec * 1000).toISOString()],
  );
  const before = new Set((await readKeys(db, now)).map((r) => r.kid));
  await ensureSigningKeys(db, now, newId);
  const created = (await readKeys(db, now)).map((r) => r.kid).filter((k) => !before.has(k));
  return { retired: retired.map((r) => r.kid), created };
}

/** Load the key ring; `create` makes missing current keys (development), otherwise they must exist. */
export async function loadKeyRing(db: SqlPort, now: Now, opts: { create?: boolean; newId?: () => string } = {}): Promise<KeyRing> {
  if (opts.create) await ensureSigningKeys(db, now(), opts.newId ?? (() => crypto.randomUUID()));
  let rows = await readKeys(db, now());
  const check = (rs: KeyRow[]) => {
    for (const alg of KEY_ALGORITHMS) {
      if (!rs.some((r) => r.alg === alg && !r.retired_at)) {
        throw new Error(`no current ${alg} signing key: run \`npx fmar keys rotate\` to create the provider's signing keys`);
      }
    }
  };
  check(rows);
  const versionOf = (rs: KeyRow[]) => rs.map((r) => `${r.kid}:${r.retired_at ? 'r' : 'c'}`).join(',');
  let version = versionOf(rows);
  // One object per key set, so that verifiers can tell when to rebuild.
  let published: JSONWebKeySet = { keys: rows.map((r) => r.public_jwk) };
  return {
    privateJwks: () => rows.map((r) => r.private_jwk),
    publicJwks: () => published,
    current(alg) {
      const r = rows.find((k) => k.alg === alg && !k.retired_at)!;
      return { kid: r.kid, jwk: r.private_jwk };
    },
    async refresh() {
      const next = await readKeys(db, now());
      check(next);
      const v = versionOf(next);
      if (v === version) return false;
      rows = next;
      version = v;
      published = { keys: rows.map((r) => r.public_jwk) };
      return true;
    },
    get version() {
      return version;
    },
  };
}

/**
 * Sign an RFC 9068 access token with the ring's current ES256 key: the token-exchange grant, the
 * CLI (`fmar token`) and tests use it; the provider signs client-credentials and user tokens itself
 * with the same key.
 */
export async function signAccessToken(
  ring: KeyRing,
  claims: Record<string, unknown> & { iss: string; aud: string; sub: string; ttlSec: number; jti: string },
  now: Date,
): Promise<string> {
  const { kid, jwk } = ring.current('ES256');
  const key = await importJWK(jwk, 'ES256');
  const { iss, aud, sub, ttlSec, jti, ...rest } = claims;
  const t = Math.floor(now.getTime() / 1000);
  return new SignJWT(rest)
    .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' })
    .setIssuer(iss)
    .setAudience(aud)
    .setSubject(sub)
    .setIssuedAt(t)
    .setJti(jti)
    .setExpirationTime(t + ttlSec)
    .sign(key);
}

/** The provider's cookie secrets, kept in signing_key (purpose 'cookie'), newest first; one is made when there is none. */
export async function ensureCookieKeys(db: SqlPort, now: Date, newId: () => string): Promise<string[]> {
  const read = async () =>
    (
      await db.query<{ k: string }>(
        `SELECT private_jwk->>'k' AS k FROM signing_key WHERE purpose = 'cookie' AND retired_at IS NULL ORDER BY created_at DESC`,
      )
    ).map((r) => r.k);
  const keys = await read();
  if (keys.length) return keys;
  const secret = crypto.getRandomValues(new Uint8Array(32));
  const k = btoa(String.fromCharCode(...secret))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
  await db.query(
    `INSERT INTO signing_key (kid, purpose, alg, private_jwk, public_jwk, created_at) VALUES ($1, 'cookie', 'HS256', $2::jsonb, '{}'::jsonb, $3::timestamptz)`,
    [newId(), { kty: 'oct', k }, now.toISOString()],
  );
  return read();
}
