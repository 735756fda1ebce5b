import { Hono } from 'hono';
import { Problem, problemResponse } from '../http/problem';
import type { LocalCli } from '../ports';
import { systemPrincipal, type Principal } from './principal';

/**
 * The local CLI channel: `fmar` commands run beside a hub on the embedded database never open its
 * folder (src/node/lock.ts); they call the hub with `Authorization: FMAR-Local <secret>`, the secret
 * written in the folder's lock file (readable by its owner only, like the database files beside it).
 * The caller acts as the CLI always has: actor `cli`, audited as such.
 */
export const LOCAL_SCHEME = 'FMAR-Local';

/** The CLI principal for a valid local credential; undefined for any other Authorization header. */
export function localCliPrincipal(local: LocalCli | undefined, header: string): Principal | undefined {
  if (!header.startsWith(`${LOCAL_SCHEME} `)) return undefined;
  if (!local || !local.accepts(header.slice(LOCAL_SCHEME.length + 1).trim())) {
    throw new Problem('AUTH-TOKEN-INVALID', 'The local CLI credential is not this hub’s (the hub was restarted: run the command again).');
  }
  return systemPrincipal('cli');
}

/** Same-length strings compared without an early exit. */
export function sameSecret(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return d === 0;
}

/** POST /local/token {organisation, scope?}: a development token from this hub's own issuer. */
export function localCliRoutes(local: LocalCli) {
  const app = new Hono();
  app.onError((e) => problemResponse(e instanceof Problem ? e : new Problem('INTERNAL-ERROR')));
  app.post('/token', async (c) => {
    localCliPrincipal(local, (c.req.header('authorization') ?? '').trim()) ??
      (() => {
        throw new Problem('AUTH-TOKEN-MISSING');
      })();
    if (!local.mintToken) throw new Problem('AUTH-DEV-TOKEN-REFUSED');
    const body = (await c.req.json().catch(() => ({}))) as { organisation?: unknown; scope?: unknown };
    if (typeof body.organisation !== 'string' || (body.scope !== undefined && typeof body.scope !== 'string'))
      throw new Problem('REQUEST-QUERY-INVALID', 'Send {"organisation": "<ID or demo key>", "scope": "<optional scopes>"}.');
    const token = await local.mintToken(body.organisation, body.scope);
    if (!token) throw new Problem('ORG-NOT-FOUND', `The register holds no organisation ${body.organisation}.`);
    return c.json({ access_token: token, token_type: 'Bearer' });
  });
  return app;
}
