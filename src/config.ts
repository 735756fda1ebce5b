/** Settings from the environment, with development defaults. No Node imports: Workers use it too. */
export interface HubConfig {
  mode: 'development' | 'production';
  port: number;
  baseUrl: string;
  databaseUrl?: string;
  dataDir: string;
  issuer: string;
  audience: string;
  jwksUrl?: string;
  jwks?: string;
  maxBodyBytes: number;
  maxBulkBytes: number;
  /** How long verified tokens and the credential facts behind them are cached (ms); 0 = not at all. */
  tokenCacheMs: number;
  authCacheMs: number;
  /** Most concurrent sign-in sessions per person; the oldest end beyond it. */
  sessionLimit: number;
  /** Days of notice before a switch can take effect (UC-02.06). */
  switchNoticeDays: number;
  /** Requests per minute per API client and per organisation (src/http/rate-limit.ts); 0 disables. */
  rateLimit: RateLimitSettings;
}

export interface RateLimitSettings { clientPerMinute: number; orgPerMinute: number }
export const RATE_LIMIT_DEFAULTS: RateLimitSettings = { clientPerMinute: 1200, orgPerMinute: 6000 };

export class ConfigError extends Error {}

function perMinute(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new ConfigError(`${name} must be a whole number of requests per minute (0 disables), not ${raw}`);
  return n;
}

export function loadConfig(env: Record<string, string | undefined>): HubConfig {
  const mode = (env.FMAR_MODE ?? (env.NODE_ENV === 'production' ? 'production' : 'development')) as HubConfig['mode'];
  if (mode !== 'development' && mode !== 'production') throw new ConfigError(`FMAR_MODE must be development or production, not ${mode}`);
  const port = Number(env.PORT ?? 8080);
  const baseUrl = (env.FMAR_BASE_URL ?? `http://localhost:${port}`).replace(/\/$/, '');
  const cfg: HubConfig = {
    mode,
    port,
    baseUrl,
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: env.FMAR_DATA_DIR ?? '.fmar-data',
    issuer: (env.FMAR_ISSUER ?? baseUrl).replace(/\/$/, ''),
    audience: env.FMAR_AUDIENCE ?? `${baseUrl}/api`,
    jwksUrl: env.FMAR_JWKS_URL || undefined,
    jwks: env.FMAR_JWKS || undefined,
    maxBodyBytes: Number(env.FMAR_MAX_BODY_BYTES ?? 1_048_576),
    maxBulkBytes: Number(env.FMAR_MAX_BULK_BYTES ?? 64 * 1_048_576),
    tokenCacheMs: Number(env.FMAR_TOKEN_CACHE_MS ?? 15_000),
    authCacheMs: Number(env.FMAR_AUTH_CACHE_MS ?? 5_000),
    sessionLimit: Number(env.FMAR_SESSION_LIMIT ?? 5),
    switchNoticeDays: Number(env.FMAR_SWITCH_NOTICE_DAYS ?? 5),
    rateLimit: {
      clientPerMinute: perMinute(env, 'FMAR_RATE_LIMIT_CLIENT_PER_MINUTE', RATE_LIMIT_DEFAULTS.clientPerMinute),
      orgPerMinute: perMinute(env, 'FMAR_RATE_LIMIT_ORG_PER_MINUTE', RATE_LIMIT_DEFAULTS.orgPerMinute),
    },
  };
  if (mode === 'production') {
    const missing = [];
    if (!env.FMAR_ISSUER) missing.push('FMAR_ISSUER');
    if (!env.FMAR_BASE_URL) missing.push('FMAR_BASE_URL');
    if (missing.length) throw new ConfigError(`production mode needs ${missing.join(', ')}; demo data and generated keys are refused`);
    if (env.FMAR_DEMO === 'true') throw new ConfigError('production mode refuses demo data (unset FMAR_DEMO)');
  }
  return cfg;
}
