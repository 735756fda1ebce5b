import { randomSecret, signAccessToken, type KeyRing } from '../../identity/index';
import type { HubConfig } from '../config';
import { httpRevoker, simulatorRevoker, type ConsentRevoker } from '../consent/revoker';
import type { ConsentSimulator } from '../consent/simulator';
import type { StandInClient, TestHousehold } from '../consent/stand-in-provider';
import type { Clock } from '../ports';
import { CONSUMER_CALLBACK_PATH, type ConsumerSignIn } from './sign-in';

/**
 * The household ports from configuration (docs/consumers.md), for the Node hub and the Worker:
 * sign-in through the configured consumer consent service, or in development through the
 * consent-service stand-in (its client secret made at each start); the household's token signed
 * with the hub's own key ring, so only a hub that is its own issuer signs households in.
 */
export function consumerPorts(
  cfg: HubConfig,
  sim: ConsentSimulator | undefined,
  keys: KeyRing,
  clock: Clock,
  newId: () => string,
  households: TestHousehold[] = [],
): {
  consumerSignIn?: ConsumerSignIn;
  consentRevoker?: ConsentRevoker;
  standInProvider?: { households: TestHousehold[]; clients: StandInClient[] };
} {
  const c = cfg.consumer;
  const out: ReturnType<typeof consumerPorts> = {};
  let client: { issuer: string; clientId: string; clientSecret: string } | undefined;
  if (c.issuer && c.clientId && c.clientSecret) client = { issuer: c.issuer, clientId: c.clientId, clientSecret: c.clientSecret };
  else if (sim && cfg.mode === 'development') {
    const stand: StandInClient = {
      clientId: 'fmar-hub',
      clientSecret: randomSecret(),
      redirectUris: [`${cfg.baseUrl}${CONSUMER_CALLBACK_PATH}`],
    };
    out.standInProvider = { households, clients: [stand] };
    client = { issuer: sim.issuer, clientId: stand.clientId, clientSecret: stand.clientSecret };
  }
  const ownIssuer = !cfg.jwksUrl && !cfg.jwks;
  if (client && ownIssuer)
    out.consumerSignIn = {
      ...client,
      mpansClaim: c.mpansClaim,
      tokenTtlSec: c.tokenTtlSec,
      allowHttp: cfg.mode === 'development',
      sign: (t) =>
        signAccessToken(
          keys,
          { iss: cfg.issuer, aud: cfg.audience, sub: t.sub, ttlSec: t.ttlSec, jti: newId(), consumer: t.consumer, scope: t.scope },
          clock.now(),
        ),
    };
  if (c.revocationUrl && client)
    out.consentRevoker = httpRevoker({ url: c.revocationUrl, clientId: client.clientId, clientSecret: client.clientSecret });
  else if (sim && cfg.mode === 'development') out.consentRevoker = simulatorRevoker(sim);
  return out;
}
