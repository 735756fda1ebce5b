/** What household sign-in needs (src/consumers/sign-in-routes.ts, docs/consumers.md), as the entry points configure it. */
export interface ConsumerSignIn {
  /** The provider's issuer URL, the hub's client there. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The claim listing the meter points (ID token, else userinfo). */
  mpansClaim: string;
  tokenTtlSec: number;
  /** http issuers are accepted (development and the stand-in only). */
  allowHttp: boolean;
  /** Sign the household's hub access token (the hub's own key ring, src/node/setup.ts). */
  sign(claims: { sub: string; consumer: { mpans: string[] }; scope: string; ttlSec: number }): Promise<string>;
  /** How the hub reaches the provider; default the runtime's fetch (tests: the app itself). */
  fetch?: typeof fetch;
}

export const CONSUMER_SIGN_IN_PATH = '/auth/consumer/sign-in';
export const CONSUMER_CALLBACK_PATH = '/auth/consumer/callback';
