import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import { limitSessions } from './adapter';
import { esc, page } from './pages';
import type { SqlPort } from './types';

export interface InteractionHost {
  db: SqlPort;
  /** Check a person's email and password; the error text is shown on the page. */
  login(email: string, password: string): Promise<{ accountId: string } | { error: string }>;
  /** The account of the same person in another organisation, if they belong to it (provider.ts, switchingPolicy). */
  switchAccount?(accountId: string, organisationId: string): Promise<string | undefined>;
  /** The API scopes this person may be granted. */
  accountScopes(accountId: string): Promise<string[]>;
  /** Most sessions one person may hold at once; the oldest are ended beyond it. */
  sessionLimit: number;
  scopeDescriptions: Record<string, string>;
}

const MAX_FORM = 16 * 1024;

async function form(req: IncomingMessage): Promise<URLSearchParams> {
  const type = String(req.headers['content-type'] ?? '')
    .split(';')[0]
    .trim();
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_FORM) throw Object.assign(new Error('form too large'), { status: 413 });
    chunks.push(c as Buffer);
  }
  if (type !== 'application/x-www-form-urlencoded') throw Object.assign(new Error('send a form'), { status: 415 });
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function send(res: ServerResponse, status: number, html: string) {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
  });
  res.end(html);
}

function loginPage(uid: string, clientName: string, error?: string, email = '') {
  return page(
    'Sign in',
    `<p>Sign in to continue to <strong>${esc(clientName)}</strong>.</p>
${error ? `<p class="error" role="alert">${esc(error)}</p>` : ''}
<form method="post" action="/interaction/${esc(uid)}/login" autocomplete="on">
<label for="email">Email</label><input id="email" name="email" type="email" required autofocus value="${esc(email)}">
<label for="password">Password</label><input id="password" name="password" type="password" required autocomplete="current-password">
<button type="submit">Sign in</button></form>
<form method="post" action="/interaction/${esc(uid)}/abort"><button type="submit">Cancel</button></form>`,
  );
}

function consentPage(uid: string, clientName: string, scopes: string[], refused: string[], describe: Record<string, string>) {
  const li = (s: string) => `<li><code>${esc(s)}</code>${describe[s] ? ` — ${esc(describe[s])}` : ''}</li>`;
  return page(
    'Allow access',
    `<p><strong>${esc(clientName)}</strong> asks to act for you with:</p><ul>${scopes.map(li).join('')}</ul>
${refused.length ? `<p>Not granted (your role does not include them):</p><ul>${refused.map(li).join('')}</ul>` : ''}
<form method="post" action="/interaction/${esc(uid)}/confirm"><button type="submit">Allow</button></form>
<form method="post" action="/interaction/${esc(uid)}/abort"><button type="submit">Deny</button></form>`,
  );
}

/**
 * The sign-in and consent screens of the authorization code flow: plain server-rendered HTML
 * forms, no script. Returns false for paths it does not serve.
 */
export function interactionHandler(provider: () => Provider, host: InteractionHost) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const url = new URL(req.url ?? '/', 'http://local');
    const m = /^\/interaction\/([A-Za-z0-9_-]{1,64})(?:\/(login|confirm|abort))?$/.exec(url.pathname);
    if (!m) return false;
    const [, uid, action] = m;
    const p = provider();
    try {
      const details = await p.interactionDetails(req, res);
      if (details.uid !== uid) {
        send(
          res,
          400,
          page('Sign-in problem', '<p>This sign-in page does not belong to your browser session. Start again from the application.</p>'),
        );
        return true;
      }
      const client = await p.Client.find(String(details.params.client_id));
      const clientName = String(client?.clientName ?? details.params.client_id);
      const wanted = typeof details.params.organisation === 'string' ? details.params.organisation : undefined;
      // A switch of organisation: the signed-in person acts in another organisation of theirs, no password asked.
      const switched = async (accountId: string | undefined) =>
        wanted && accountId && host.switchAccount ? ((await host.switchAccount(accountId, wanted)) ?? accountId) : accountId;
      if (req.method === 'GET' && !action) {
        const target = details.prompt.name === 'login' ? await switched(details.session?.accountId) : undefined;
        if (target && target !== details.session?.accountId) {
          await adoptAccount(p, uid, details.session?.uid, target);
          await p.interactionFinished(req, res, { login: { accountId: target } }, { mergeWithLastSubmission: false });
          return true;
        }
        if (details.prompt.name === 'login') send(res, 200, loginPage(uid, clientName));
        else {
          const { wanted, refused } = await consentScopes(details, host);
          send(res, 200, consentPage(uid, clientName, wanted, refused, host.scopeDescriptions));
        }
        return true;
      }
      if (req.method !== 'POST') {
        send(res, 405, page('Not allowed', '<p>Use the form.</p>'));
        return true;
      }
      const f = await form(req);
      if (action === 'abort') {
        await p.interactionFinished(
          req,
          res,
          { error: 'access_denied', error_description: 'The person declined.' },
          { mergeWithLastSubmission: false },
        );
        return true;
      }
      if (action === 'login') {
        if (details.prompt.name !== 'login') {
          send(res, 400, page('Sign-in problem', '<p>Already signed in.</p>'));
          return true;
        }
        const email = (f.get('email') ?? '').trim();
        const out = await host.login(email, f.get('password') ?? '');
        if ('error' in out) {
          send(res, 401, loginPage(uid, clientName, out.error, email));
          return true;
        }
        const accountId = (await switched(out.accountId))!;
        if (details.session?.accountId && details.session.accountId !== accountId)
          await adoptAccount(p, uid, details.session.uid, accountId);
        // Keep room for the session this sign-in creates.
        await limitSessions(host.db, accountId, Math.max(0, host.sessionLimit - 1));
        await p.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
        return true;
      }
      // confirm
      if (details.prompt.name !== 'consent') {
        send(res, 400, page('Sign-in problem', '<p>Nothing to confirm.</p>'));
        return true;
      }
      const accountId = details.session!.accountId;
      const grant = details.grantId
        ? await p.Grant.find(details.grantId)
        : new p.Grant({ accountId, clientId: String(details.params.client_id) });
      if (!grant) throw new Error('grant not found');
      const d = details.prompt.details as {
        missingOIDCScope?: string[];
        missingOIDCClaims?: string[];
        missingResourceScopes?: Record<string, string[]>;
      };
      if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
      if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
      const allowed = new Set(await host.accountScopes(accountId));
      for (const [indicator, scopes] of Object.entries(d.missingResourceScopes ?? {})) {
        const ok = scopes.filter((s) => allowed.has(s));
        const refused = scopes.filter((s) => !allowed.has(s));
        if (ok.length) grant.addResourceScope(indicator, ok.join(' '));
        // Recorded as refused, so the provider does not ask again for what the person cannot have.
        if (refused.length) grant.rejectResourceScope(indicator, refused.join(' '));
      }
      const grantId = await grant.save();
      await p.interactionFinished(req, res, { consent: details.grantId ? {} : { grantId } }, { mergeWithLastSubmission: true });
      return true;
    } catch (e) {
      const status = (e as { status?: number }).status ?? 400;
      send(
        res,
        status >= 400 && status < 500 ? status : 400,
        page('Sign-in problem', `<p>${esc((e as Error).message)}</p><p>Start again from the application.</p>`),
      );
      return true;
    }
  };
}

/**
 * The browser's provider session now acts as `accountId` (another account of the same person, or
 * a new sign-in), with no grants: the consent is asked again for that account. Without this the
 * provider would answer a different account by ending the session through a self-submitting form
 * (a script the sign-in pages' CSP does not run).
 */
async function adoptAccount(p: Provider, interactionUid: string, sessionUid: string | undefined, accountId: string): Promise<void> {
  const session = sessionUid ? await p.Session.findByUid(sessionUid) : undefined;
  const interaction = await p.Interaction.find(interactionUid);
  if (!session || !interaction?.session) return;
  session.loginAccount({ accountId });
  session.authorizations = {};
  await session.persist();
  // The interaction remembers the account it began with; the provider refuses to finish it if that changed.
  interaction.session.accountId = accountId;
  await interaction.persist();
}

async function consentScopes(details: Awaited<ReturnType<Provider['interactionDetails']>>, host: InteractionHost) {
  const d = details.prompt.details as { missingOIDCScope?: string[]; missingResourceScopes?: Record<string, string[]> };
  // The consent prompt comes after sign-in: the interaction has a session.
  const allowed = new Set(await host.accountScopes(details.session!.accountId));
  const api = Object.values(d.missingResourceScopes ?? {}).flat();
  return {
    wanted: [...(d.missingOIDCScope ?? []), ...api.filter((s) => allowed.has(s))],
    refused: api.filter((s) => !allowed.has(s)),
  };
}
