import { SignJWT, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type { Clock, IdSource } from '../ports';
import type { Db } from '../storage/db';
import { baselineScopes } from './permissions';
import type { OrganisationRole } from '../catalogue/codes';

/**
 * Development signing key: the hub signs its own access tokens until the OpenID provider issues
 * them. Kept in the database (signing_key, purpose 'dev-access-token'); refused in production.
 */
export interface DevSigner {
  kid: string;
  publicJwk: JWK;
  sign(claims: { sub: string; org: string; roles: readonly OrganisationRole[]; scope?: string; act?: { sub: string; org?: string }; ttlSec?: number }): Promise<string>;
}

export async function devSigner(db: Db, clock: Clock, ids: IdSource, issuer: string, audience: string): Promise<DevSigner> {
  let [row] = await db.query(`SELECT kid, private_jwk, public_jwk FROM signing_key WHERE purpose = 'dev-access-token' AND retired_at IS NULL ORDER BY created_at DESC LIMIT 1`);
  if (!row) {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const kid = ids.next();
    const priv = { ...(await exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' };
    const pub = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
    await db.query(`INSERT INTO signing_key (kid, purpose, alg, private_jwk, public_jwk, created_at) VALUES ($1, 'dev-access-token', 'ES256', $2::jsonb, $3::jsonb, $4::timestamptz)`,
      [kid, priv, pub, clock.now().toISOString()]);
    row = { kid, private_jwk: priv, public_jwk: pub };
  }
  const key = await importJWK(row.private_jwk, 'ES256');
  return {
    kid: row.kid,
    publicJwk: row.public_jwk,
    async sign(c) {
      const now = Math.floor(clock.now().getTime() / 1000);
      return new SignJWT({ org: c.org, scope: c.scope ?? baselineScopes(c.roles).join(' '), ...(c.act ? { act: c.act } : {}), client_id: `dev-${c.org}` })
        .setProtectedHeader({ alg: 'ES256', kid: row.kid, typ: 'at+jwt' })
        .setIssuer(issuer)
        .setAudience(audience)
        .setSubject(c.sub)
        .setIssuedAt(now)
        .setJti(ids.next())
        .setExpirationTime(now + (c.ttlSec ?? 12 * 3600))
        .sign(key);
    },
  };
}
