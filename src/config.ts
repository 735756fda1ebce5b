import { LOG_LEVELS, type LogLevel } from './http/request-log';
/** Settings from the environment, with development defaults. No Node imports: Workers use it too. */
export interface HubConfig {
  mode: 'development' | 'production';
  port: number;
  baseUrl: string;
  databaseUrl?: string;
  dataDir: string;
  issuer: string;
  audience: string;
  /** FMAR_TRUST_PROXY: believe X-Forwarded-Proto/-Host/-For (only behind a proxy that sets them); audiences and the issuer come from the base URL either way. */
  trustProxy: boolean;
  jwksUrl?: string;
  jwks?: string;
  maxBodyBytes: number;
  maxBulkBytes: number;
  /** FMAR_MAX_CIM_BYTES: one CIM import (request or job); default FMAR_MAX_BULK_BYTES (a Worker: 2 MiB, src/worker-config.ts). */
  maxCimBytes: number;
  /**
   * FMAR_MAX_CIM_JOB_BYTES: one CIM import job whose body is a single RDF/XML document, streamed to
   * the database in parts and read back in parts (never held whole); default 1 GiB (a Worker:
   * FMAR_MAX_CIM_BYTES, src/worker-config.ts). A multipart job stays under FMAR_MAX_CIM_BYTES.
   */
  maxCimJobBytes: number;
  /** How long verified tokens and the credential facts behind them are cached (ms); 0 = not at all. */
  tokenCacheMs: number;
  authCacheMs: number;
  /** Most concurrent sign-in sessions per person; the oldest end beyond it. */
  sessionLimit: number;
  /** Days of notice before a switch can take effect (UC-02.06). */
  switchNoticeDays: number;
  /** Requests per minute per API client and per organisation (src/http/rate-limit.ts); 0 disables. */
  rateLimit: RateLimitSettings;
  /** The Consumer Consent Service (docs/consent.md). */
  consent: ConsentSettings;
  /** The consumer consent service as the households' OpenID provider (docs/consumers.md). */
  consumer: ConsumerSettings;
  /** The anonymisation policy of the public analytics (docs/analytics.md); defaults when absent. */
  analytics?: AnalyticsSettings;
  /** CIM import parsing on Node (src/node/cim-parser.ts): the parse thread's heap, and the size above which a thread parses. */
  parser: ParserSettings;
  /** FMAR_SHUTDOWN_GRACE_MS: on SIGTERM, how long requests in flight and running jobs may take to finish (Node). */
  shutdownGraceMs: number;
  /** FMAR_LOG_LEVEL: the structured log's level (src/http/request-log.ts); `info` logs a line per request. */
  logLevel: LogLevel;
  /** FMAR_REQUEST_METRICS: count requests (rate, latency, refusals) in the metrics; default true (src/http/metrics.ts). */
  requestMetrics: boolean;
}

/** FMAR_PARSER_MAX_MEMORY_MB and FMAR_PARSER_THREAD_ABOVE_BYTES (docs/cim-profile.md, "Parsing off the request path"). */
export interface ParserSettings {
  maxMemoryMb: number;
  threadAboveBytes: number;
}

/** FMAR_ANALYTICS_MIN_ASSETS (threshold rule) and FMAR_ANALYTICS_DOMINANCE (largest FSP's share above which a cell is hidden). */
export interface AnalyticsSettings {
  minAssets: number;
  dominance: number;
}
export const ANALYTICS_DEFAULTS: AnalyticsSettings = { minAssets: 10, dominance: 0.8 };

function analyticsSettings(env: Record<string, string | undefined>): AnalyticsSettings {
  const minAssets = wholeNumber(env, 'FMAR_ANALYTICS_MIN_ASSETS', ANALYTICS_DEFAULTS.minAssets, 2, 1_000_000);
  const raw = env.FMAR_ANALYTICS_DOMINANCE;
  const dominance = raw === undefined || raw === '' ? ANALYTICS_DEFAULTS.dominance : Number(raw);
  if (!Number.isFinite(dominance) || dominance <= 0 || dominance >= 1)
    throw new ConfigError(`FMAR_ANALYTICS_DOMINANCE must be a share between 0 and 1 (exclusive), not ${raw}`);
  return { minAssets, dominance };
}

export interface ConsentSettings {
  /** FMAR_CONSENT_ISSUER: the `iss` of consent tokens; with a key source, turns the JWT adapter on. */
  issuer?: string;
  jwksUrl?: string;
  /** FMAR_CONSENT_JWKS: an inline JWKS (JSON), instead of jwksUrl. */
  jwks?: string;
  /** FMAR_CONSENT_AUDIENCE: the `aud` consent tokens must name; default the hub's base URL. */
  audience: string;
  /** FMAR_CONSENT_REFERENCE_URL: the reference-check endpoint; turns the reference adapter on. */
  referenceUrl?: string;
  referenceToken?: string;
  /** FMAR_CONSENT_REFERENCE_AUTH: how the token is sent, `bearer` (default) or `api-key` (X-API-Key). */
  referenceAuth: 'bearer' | 'api-key';
  referenceTimeoutMs: number;
  maxAgeDays: number;
  skewSec: number;
}

/**
 * A household signs in through the consumer consent service as an external OpenID provider; the hub
 * is its relying party (docs/consumers.md). Unset issuer: in development the consent-service
 * stand-in, otherwise no household sign-in.
 */
export interface ConsumerSettings {
  /** FMAR_CONSUMER_OIDC_ISSUER: the provider's issuer URL (discovery at `<issuer>/.well-known/openid-configuration`). */
  issuer?: string;
  /** FMAR_CONSUMER_OIDC_CLIENT_ID / FMAR_CONSUMER_OIDC_CLIENT_SECRET: the hub's client at that provider (client_secret_basic). */
  clientId?: string;
  clientSecret?: string;
  /** FMAR_CONSUMER_MPANS_CLAIM: the ID token (or userinfo) claim listing the meter points; default `mpans`. */
  mpansClaim: string;
  /** FMAR_CONSUMER_TOKEN_TTL_SEC: the life of the household's hub token; default 900 (15 minutes). */
  tokenTtlSec: number;
  /** FMAR_CONSENT_REVOCATION_URL: where the hub sends a household's revocation of a consent (production). */
  revocationUrl?: string;
}

function consumerSettings(env: Record<string, string | undefined>, mode: HubConfig['mode']): ConsumerSettings {
  const s: ConsumerSettings = {
    issuer: serviceUrl(env, 'FMAR_CONSUMER_OIDC_ISSUER', mode)?.replace(/\/$/, ''),
    clientId: env.FMAR_CONSUMER_OIDC_CLIENT_ID || undefined,
    clientSecret: env.FMAR_CONSUMER_OIDC_CLIENT_SECRET || undefined,
    mpansClaim: env.FMAR_CONSUMER_MPANS_CLAIM || 'mpans',
    tokenTtlSec: wholeNumber(env, 'FMAR_CONSUMER_TOKEN_TTL_SEC', 900, 60, 3_600),
    revocationUrl: serviceUrl(env, 'FMAR_CONSENT_REVOCATION_URL', mode),
  };
  if (s.issuer && (!s.clientId || !s.clientSecret))
    throw new ConfigError('FMAR_CONSUMER_OIDC_ISSUER needs FMAR_CONSUMER_OIDC_CLIENT_ID and FMAR_CONSUMER_OIDC_CLIENT_SECRET');
  if (!s.issuer && (s.clientId || s.clientSecret))
    throw new ConfigError('FMAR_CONSUMER_OIDC_CLIENT_ID / _SECRET need FMAR_CONSUMER_OIDC_ISSUER');
  return s;
}

export interface RateLimitSettings {
  clientPerMinute: number;
  orgPerMinute: number;
}
export const RATE_LIMIT_DEFAULTS: RateLimitSettings = { clientPerMinute: 1200, orgPerMinute: 6000 };

export class ConfigError extends Error {}

function perMinute(env: Record<string, string | undefined>, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new ConfigError(`${name} must be a whole number of requests per minute (0 disables), not ${raw}`);
  return n;
}

function wholeNumber(env: Record<string, string | undefined>, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, not ${raw}`);
  return n;
}

/** `true` or `false` (unset: the fallback); anything else is a configuration error, not a guess. */
function flag(env: Record<string, string | undefined>, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === 'false') return raw === 'true';
  throw new ConfigError(`${name} must be true or false, not ${raw}`);
}

/** An http(s) URL; https only in production, except for localhost. */
function serviceUrl(env: Record<string, string | undefined>, name: string, mode: HubConfig['mode']): string | undefined {
  const raw = env[name];
  if (!raw) return undefined;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(`${name} is not a URL: ${raw}`);
  }
  const local = u.hostname === 'localhost' || u.hostname === '127.0.0.1' || u.hostname === '[::1]';
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && (mode === 'development' || local)))
    throw new ConfigError(`${name} must be an https URL (http only in development or on localhost), not ${raw}`);
  return u.toString();
}

function consentSettings(env: Record<string, string | undefined>, mode: HubConfig['mode'], baseUrl: string): ConsentSettings {
  const s: ConsentSettings = {
    issuer: env.FMAR_CONSENT_ISSUER || undefined,
    jwksUrl: serviceUrl(env, 'FMAR_CONSENT_JWKS_URL', mode),
    jwks: env.FMAR_CONSENT_JWKS || undefined,
    audience: env.FMAR_CONSENT_AUDIENCE || baseUrl,
    referenceUrl: serviceUrl(env, 'FMAR_CONSENT_REFERENCE_URL', mode),
    referenceToken: env.FMAR_CONSENT_REFERENCE_TOKEN || undefined,
    referenceAuth: (env.FMAR_CONSENT_REFERENCE_AUTH || 'bearer') as ConsentSettings['referenceAuth'],
    referenceTimeoutMs: wholeNumber(env, 'FMAR_CONSENT_REFERENCE_TIMEOUT_MS', 3_000, 1, 30_000),
    maxAgeDays: wholeNumber(env, 'FMAR_CONSENT_MAX_AGE_DAYS', 365, 1, 3_650),
    skewSec: wholeNumber(env, 'FMAR_CONSENT_SKEW_SEC', 60, 0, 300),
  };
  if (s.referenceAuth !== 'bearer' && s.referenceAuth !== 'api-key')
    throw new ConfigError(`FMAR_CONSENT_REFERENCE_AUTH must be bearer or api-key, not ${s.referenceAuth}`);
  if (s.jwksUrl && s.jwks) throw new ConfigError('set FMAR_CONSENT_JWKS_URL or FMAR_CONSENT_JWKS, not both');
  if (s.issuer && !s.jwksUrl && !s.jwks)
    throw new ConfigError("FMAR_CONSENT_ISSUER needs the issuer's keys: FMAR_CONSENT_JWKS_URL or FMAR_CONSENT_JWKS");
  if (!s.issuer && (s.jwksUrl || s.jwks)) throw new ConfigError('FMAR_CONSENT_JWKS_URL / FMAR_CONSENT_JWKS need FMAR_CONSENT_ISSUER');
  if (s.jwks) {
    let set: unknown;
    try {
      set = JSON.parse(s.jwks);
    } catch {
      throw new ConfigError('FMAR_CONSENT_JWKS is not JSON');
    }
    if (!set || typeof set !== 'object' || !Array.isArray((set as { keys?: unknown }).keys))
      throw new ConfigError('FMAR_CONSENT_JWKS must be a JWKS: {"keys": [...]}');
  }
  if (mode === 'production' && s.referenceUrl && !s.referenceToken)
    throw new ConfigError('production mode needs FMAR_CONSENT_REFERENCE_TOKEN with FMAR_CONSENT_REFERENCE_URL');
  return s;
}

function logLevel(env: Record<string, string | undefined>): LogLevel {
  const v = (env.FMAR_LOG_LEVEL ?? 'info').trim().toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(v))
    throw new ConfigError(`FMAR_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, not ${env.FMAR_LOG_LEVEL}`);
  return v as LogLevel;
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
    trustProxy: flag(env, 'FMAR_TRUST_PROXY', false),
    jwksUrl: env.FMAR_JWKS_URL || undefined,
    jwks: env.FMAR_JWKS || undefined,
    maxBodyBytes: Number(env.FMAR_MAX_BODY_BYTES ?? 1_048_576),
    maxBulkBytes: Number(env.FMAR_MAX_BULK_BYTES ?? 64 * 1_048_576),
    maxCimBytes: Number(env.FMAR_MAX_CIM_BYTES ?? env.FMAR_MAX_BULK_BYTES ?? 64 * 1_048_576),
    maxCimJobBytes: Number(env.FMAR_MAX_CIM_JOB_BYTES ?? 1_073_741_824),
    tokenCacheMs: Number(env.FMAR_TOKEN_CACHE_MS ?? 15_000),
    authCacheMs: Number(env.FMAR_AUTH_CACHE_MS ?? 5_000),
    sessionLimit: Number(env.FMAR_SESSION_LIMIT ?? 5),
    switchNoticeDays: Number(env.FMAR_SWITCH_NOTICE_DAYS ?? 5),
    rateLimit: {
      clientPerMinute: perMinute(env, 'FMAR_RATE_LIMIT_CLIENT_PER_MINUTE', RATE_LIMIT_DEFAULTS.clientPerMinute),
      orgPerMinute: perMinute(env, 'FMAR_RATE_LIMIT_ORG_PER_MINUTE', RATE_LIMIT_DEFAULTS.orgPerMinute),
    },
    consent: consentSettings(env, mode, baseUrl),
    consumer: consumerSettings(env, mode),
    analytics: analyticsSettings(env),
    logLevel: logLevel(env),
    requestMetrics: flag(env, 'FMAR_REQUEST_METRICS', true),
    shutdownGraceMs: wholeNumber(env, 'FMAR_SHUTDOWN_GRACE_MS', 25_000, 0, 600_000),
    parser: {
      maxMemoryMb: wholeNumber(env, 'FMAR_PARSER_MAX_MEMORY_MB', 2048, 16, 65_536),
      threadAboveBytes: wholeNumber(env, 'FMAR_PARSER_THREAD_ABOVE_BYTES', 1_048_576, 0, 1 << 30),
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

/**
 * The OTLP traces URL the environment names, or undefined (tracing off): OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
 * as given, else OTEL_EXPORTER_OTLP_ENDPOINT with `/v1/traces`; none with OTEL_SDK_DISABLED=true.
 * Node (src/node/tracing.ts) and Workers (src/worker-tracing.ts) read it alike.
 */
export function tracesUrl(env: Record<string, string | undefined>): string | undefined {
  if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return undefined;
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  const url = traces || (base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined);
  if (!url) return undefined;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError(`${traces ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' : 'OTEL_EXPORTER_OTLP_ENDPOINT'} is not a URL: ${url}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ConfigError(`the OTLP endpoint must be an http(s) URL, not ${url}`);
  return u.toString();
}
