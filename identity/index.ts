/**
 * The identity library, Workers-safe half: token and key handling the API uses on Node and
 * Workers. The provider itself (oidc-provider, Node only) is exported from identity/node.ts.
 */
export {
  OAUTH_ROUTES,
  TOKEN_EXCHANGE,
  ACCESS_TOKEN_TYPE,
  ACCESS_TOKEN_TTL_SEC,
  CLIENT_ASSERTION_ALGORITHMS,
  ISSUED_AT_SKEW_SEC,
  hashClientSecret,
} from './shared';
export { loadKeyRing, ensureCookieKeys, ensureSigningKeys, rotateSigningKeys, signAccessToken, type KeyRing } from './keys';
export { hashPassword, verifyPassword, passwordProblem, randomSecret, sha256 } from './passwords';
export { esc, page } from './pages';
export { verifyDpopProof, memoryReplayStore, sqlReplayStore, purgeDpopReplays, DpopError, type DpopReplayStore } from './dpop';
export { endAccountSessions, forgetClients, type ClientRow } from './adapter';
export type { SqlPort, TxPort, Now } from './types';
