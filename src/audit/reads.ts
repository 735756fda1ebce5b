import type { MiddlewareHandler } from 'hono';
import { tryDecodeURIComponent } from 'hono/utils/url';
import type { AuthEnv } from '../access/auth';
import { seesAll } from '../access/principal';
import type { Ctx } from '../context';
import { logRead } from './audit';

/**
 * Reads of another organisation's passport are audited (UC-05.06): for
 * GET /api/v1/organisations/{id}, after the handler has answered. Only callers who are served the
 * passport of an organisation not their own (the roles that see every record: operator, regulator)
 * and only a 200 write the `organisation.passport-read` record — one INSERT, no transaction; an
 * organisation reading itself, or anyone served no passport, costs nothing. If the record cannot be
 * written the read fails (500): private data is never served unlogged.
 */
export function passportReads(ctx: Ctx): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    await next();
    if (c.req.method !== 'GET' || c.res.status !== 200) return;
    const p = c.get('principal');
    // Mounted on /organisations/* (a wildcard, so the permission check does not take it for a route): only /organisations/{id} itself.
    const m = /\/organisations\/([^/]+)$/.exec(c.req.path);
    const id = m ? tryDecodeURIComponent(m[1]) : undefined;
    if (!p || !id || id === p.organisationId || !seesAll(p)) return;
    await logRead(ctx.db, p, ctx.clock.now(), { action: 'organisation.passport-read', recordType: 'organisation', recordId: id, organisationId: id, detail: { route: 'GET /api/v1/organisations/{id}' } });
  };
}
