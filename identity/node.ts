import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';

export { buildProvider, type IdentityHost, type Account, type DelegationOutcome, type FailureLimiter } from './provider';
export { INTERACTION_PATH, interactionHandler, type InteractionHost } from './interactions';
export { sweepOidc, limitSessions, clientMetadata } from './adapter';

type Listener = (req: IncomingMessage, res: ServerResponse) => unknown;

/**
 * Route the provider's paths to oidc-provider and the sign-in screens to their handler; everything
 * else goes to `fallback` (the Hono app). The provider is read through a function because a key
 * rotation replaces it.
 */
export function identityListener(
  provider: () => Provider,
  interactions: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>,
  fallback: Listener,
): Listener {
  const callbacks = new WeakMap<Provider, Listener>();
  return async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/.well-known/openid-configuration' || path.startsWith('/oauth/')) {
      const p = provider();
      let cb = callbacks.get(p);
      if (!cb) {
        cb = p.callback() as Listener;
        callbacks.set(p, cb);
      }
      return cb(req, res);
    }
    if (path.startsWith('/interaction/') && (await interactions(req, res))) return;
    return fallback(req, res);
  };
}
