import { z } from '@hono/zod-openapi';
import { Hono } from 'hono';
import { SignJWT, exportJWK, generateKeyPair, type JSONWebKeySet, type JWK } from 'jose';
import { fieldError, problemResponse, validationProblem } from '../http/problem';
import type { Clock } from '../ports';
import { londonDay } from '../kernel/dates';
import { DEFAULT_PURPOSE, MPAN_RE, consentHash, parseBound } from './binding';
import { CONSENT_TOKEN_TYPE } from './jwt';
import { REVOCATION_NOTICE_TYPE } from './revocation';

/**
 * A Consumer Consent Service for development hubs: its own ES256 issuer key (in memory, so a
 * restart invalidates what it issued), its own JWKS, consent tokens and revocation notices in the
 * profile of docs/consent.md. Refused in production: a hub that trusted it would accept consents
 * nobody gave.
 */

export interface ConsentSimulator {
  readonly issuer: string;
  readonly audience: string;
  jwks(): Promise<JSONWebKeySet>;
  issueConsent(o: ConsentRequest): Promise<{ token: string; jti: string; tokenHash: string }>;
  issueRevocation(o: { jti?: string; tokenHash?: string; reason?: string }): Promise<{ notice: string }>;
  /** A new current key (the previous ones stay published); returns its kid. */
  rotateKey(): Promise<string>;
  /** Sign a JWT with the current key (its stand-in OpenID provider's ID tokens, src/consent/stand-in-provider.ts). */
  signJwt(typ: string, claims: Record<string, unknown>, o: { audience: string; ttlSec: number }): Promise<string>;
}

export interface ConsentRequest {
  mpan: string;
  fsp: string;
  validFrom?: string;
  validTo?: string;
  purpose?: string;
  sub?: string;
  /** Lifetime of the token itself (exp − iat), default 30 days. */
  ttlSec?: number;
}

export function consentSimulator(o: {
  issuer: string;
  audience: string;
  clock: Clock;
  mode: 'development' | 'production';
}): ConsentSimulator {
  if (o.mode === 'production')
    throw new Error('the consent-service simulator is refused in production: configure FMAR_CONSENT_ISSUER and its JWKS (docs/consent.md)');
  const keys: { kid: string; privateKey: CryptoKey; pub: JWK }[] = [];
  let published: JSONWebKeySet = { keys: [] };

  async function rotateKey() {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const kid = `sim-${crypto.randomUUID()}`;
    keys.push({ kid, privateKey, pub: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } });
    published = { keys: keys.map((k) => k.pub) };
    return kid;
  }
  async function current() {
    if (!keys.length) await rotateKey();
    return keys[keys.length - 1];
  }
  async function sign(typ: string, claims: Record<string, unknown>, ttlSec: number, audience = o.audience) {
    const k = await current();
    const now = Math.floor(o.clock.now().getTime() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', typ, kid: k.kid })
      .setIssuer(o.issuer)
      .setAudience(audience)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + ttlSec)
      .sign(k.privateKey);
  }

  return {
    issuer: o.issuer,
    audience: o.audience,
    async jwks() {
      await current();
      return published;
    },
    rotateKey,
    signJwt: (typ, claims, so) => sign(typ, claims, so.ttlSec, so.audience),
    async issueConsent(r) {
      const jti = crypto.randomUUID();
      const token = await sign(
        CONSENT_TOKEN_TYPE,
        {
          jti,
          mpan: r.mpan,
          fsp: r.fsp,
          purpose: r.purpose ?? DEFAULT_PURPOSE,
          consent_from: r.validFrom ?? londonDay(o.clock.now()),
          ...(r.validTo ? { consent_to: r.validTo } : {}),
          ...(r.sub ? { sub: r.sub } : {}),
        },
        r.ttlSec ?? 30 * 86_400,
      );
      return { token, jti, tokenHash: await consentHash(token) };
    },
    async issueRevocation(r) {
      if (!r.jti && !r.tokenHash) throw new TypeError('issueRevocation: name the consent by jti or tokenHash');
      const notice = await sign(
        REVOCATION_NOTICE_TYPE,
        {
          jti: crypto.randomUUID(),
          ...(r.jti ? { consent_jti: r.jti } : {}),
          ...(r.tokenHash ? { consent_hash: r.tokenHash } : {}),
          revoked_at: Math.floor(o.clock.now().getTime() / 1000),
          ...(r.reason ? { reason: r.reason } : {}),
        },
        3_600,
      );
      return { notice };
    },
  };
}

const Bound = z.string().refine((v) => parseBound(v) !== undefined, 'a YYYY-MM-DD day or an RFC 3339 instant with offset');
const ConsentBody = z
  .object({
    mpan: z.string().regex(MPAN_RE),
    fsp: z.string().min(1).max(64),
    validFrom: Bound.optional(),
    validTo: Bound.optional(),
    purpose: z.string().min(1).max(64).optional(),
    sub: z.string().min(1).max(256).optional(),
  })
  .strict();
const RevocationBody = z
  .object({
    jti: z.string().min(1).max(256).optional(),
    tokenHash: z.string().min(1).max(64).optional(),
    reason: z.string().max(500).optional(),
  })
  .strict()
  .refine((b) => b.jti || b.tokenHash, { message: 'name the consent by jti or tokenHash', path: ['jti'] });

/**
 * The simulator over HTTP, to mount in development only, e.g. `app.route('/dev/consent-service', …)`:
 * `GET /jwks`, `POST /consents` {mpan, fsp, validFrom?, validTo?, purpose?, sub?} → {token, jti, tokenHash},
 * `POST /revocations` {jti? | tokenHash?, reason?} → {notice}. Unauthenticated by design: anyone
 * who reaches a development hub may play the consumer.
 */
export function consentSimulatorRoutes(sim: ConsentSimulator, o: { mode: 'development' | 'production' }) {
  if (o.mode === 'production') throw new Error('the consent-service simulator routes are refused in production');
  const app = new Hono();
  const body = async <T extends z.ZodType>(req: Request, schema: T): Promise<z.infer<T> | Response> => {
    let json: unknown;
    try {
      json = await req.json();
    } catch {
      json = undefined;
    }
    const r = schema.safeParse(json);
    if (r.success) return r.data;
    return problemResponse(
      validationProblem(r.error.issues.map((i) => fieldError(i.path.join('.') || 'body', 'REQUEST-VALIDATION', i.message))),
    );
  };
  app.get('/', (c) =>
    c.json({
      issuer: sim.issuer,
      audience: sim.audience,
      jwks_uri: `${sim.issuer}/jwks`,
      note: 'development consent-service simulator; refused in production',
    }),
  );
  app.get('/jwks', async (c) => c.json(await sim.jwks()));
  app.post('/consents', async (c) => {
    const b = await body(c.req.raw, ConsentBody);
    return b instanceof Response ? b : c.json(await sim.issueConsent(b), 201);
  });
  app.post('/revocations', async (c) => {
    const b = await body(c.req.raw, RevocationBody);
    return b instanceof Response ? b : c.json(await sim.issueRevocation(b), 201);
  });
  return app;
}
