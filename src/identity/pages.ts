import { Hono } from 'hono';
import { esc, page } from '../../identity/index';
import type { Ctx } from '../context';
import { Problem } from '../http/problem';
import { acceptInvitation, invitationFor } from './users';

const HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/** The invitation page a new person opens to choose a password (plain HTML, no script). */
export function invitationPages(ctx: Ctx) {
  const app = new Hono();
  const token = (t: string) => (/^[A-Za-z0-9_-]{20,100}$/.test(t) ? t : undefined);
  const form = (t: string, name: string, email: string, error?: string) =>
    page(
      'Choose a password',
      `<p>Welcome, ${esc(name)} (${esc(email)}).</p>
${error ? `<p class="error" role="alert">${esc(error)}</p>` : ''}
<form method="post" action="/invitations/${esc(t)}"><label for="password">Password (at least 12 characters)</label>
<input id="password" name="password" type="password" minlength="12" maxlength="256" required autocomplete="new-password" autofocus>
<button type="submit">Activate my account</button></form>`,
    );
  const gone = () =>
    page(
      'Invitation not valid',
      '<p>This invitation link is unknown, already used or expired. Ask your organisation’s administrator for a new one.</p>',
    );

  app.get('/invitations/:token', async (c) => {
    const t = token(c.req.param('token'));
    const inv = t ? await invitationFor(ctx, t) : undefined;
    return inv ? c.body(form(t!, inv.name, inv.email), 200, HEADERS) : c.body(gone(), 404, HEADERS);
  });
  app.post('/invitations/:token', async (c) => {
    const t = token(c.req.param('token'));
    const inv = t ? await invitationFor(ctx, t) : undefined;
    if (!inv) return c.body(gone(), 404, HEADERS);
    const type = (c.req.header('content-type') ?? '').split(';')[0].trim();
    if (type !== 'application/x-www-form-urlencoded') return c.body(form(t!, inv.name, inv.email, 'Send the form.'), 415, HEADERS);
    const body = await c.req.parseBody();
    try {
      await acceptInvitation(ctx, t!, String(body.password ?? ''));
    } catch (e) {
      if (e instanceof Problem) return c.body(form(t!, inv.name, inv.email, e.errors[0]?.detail ?? e.message), e.status as 400, HEADERS);
      throw e;
    }
    return c.body(page('Account active', '<p>Your account is active. Sign in from your organisation’s application.</p>'), 200, HEADERS);
  });
  return app;
}
