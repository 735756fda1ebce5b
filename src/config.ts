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
}

export class ConfigError extends Error {}

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
    audience: env.FMAR_AUDIENCE ?? 'fmar-api',
    jwksUrl: env.FMAR_JWKS_URL || undefined,
    jwks: env.FMAR_JWKS || undefined,
    maxBodyBytes: Number(env.FMAR_MAX_BODY_BYTES ?? 1_048_576),
    maxBulkBytes: Number(env.FMAR_MAX_BULK_BYTES ?? 64 * 1_048_576),
  };
  if (mode === 'production') {
    const missing = [];
    if (!env.FMAR_ISSUER) missing.push('FMAR_ISSUER');
    if (!cfg.jwksUrl && !cfg.jwks) missing.push('FMAR_JWKS_URL (or FMAR_JWKS)');
    if (!env.FMAR_BASE_URL) missing.push('FMAR_BASE_URL');
    if (missing.length) throw new ConfigError(`production mode needs ${missing.join(', ')}; the development signing key and demo data are refused`);
    if (env.FMAR_DEMO === 'true') throw new ConfigError('production mode refuses demo data (unset FMAR_DEMO)');
  }
  return cfg;
}
