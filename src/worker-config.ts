import { ConfigError, loadConfig, type HubConfig } from './config';
import { Problem, problemResponse } from './http/problem';

/**
 * The Worker's settings (docs/workers.md, "Settings"): the Node hub's rules (loadConfig) read from
 * the Worker's bindings, with the Worker's own defaults, and the answer a Worker gives while it is
 * misconfigured. No runtime imports here, so the tests load it under Node.
 */

/** The bindings the Worker reads (declared here rather than pulling in @cloudflare/workers-types). */
export interface WorkerEnv {
  /** Hyperdrive binding: a pooled route to PostgreSQL. */
  HYPERDRIVE?: { connectionString: string };
  /** Direct PostgreSQL URL (a secret), used when there is no Hyperdrive binding. */
  DATABASE_URL?: string;
  /** Static Assets binding: the console's built files (console/dist). */
  ASSETS?: unknown;
  [name: string]: unknown;
}

/**
 * FMAR_MAX_BULK_BYTES on a Worker unless set: one bulk request body (CIM has its own bound, below)
 * is read whole into the isolate, whose heap is 128 MB. Measured (bench/worker-memory.ts):
 * a bulk dry-run peaks at about 30 MB plus 7–8 times its body, so 4 MiB (about 13,600 NDJSON asset
 * rows) peaks near 70 MB (docs/workers.md, "Memory").
 */
export const WORKER_MAX_BULK_BYTES = 4 * 1_048_576;

/**
 * FMAR_MAX_CIM_BYTES on a Worker unless set: CIM RDF/XML takes more memory per byte than NDJSON.
 * Measured (bench/cim-memory.ts, the same parser in Node): parsing, merging and extracting a model
 * grows the process by about 6.5 KB per object at 10,000 objects (3.1 MB of RDF/XML: 65 MB), so
 * 4 MiB would come near the isolate's 128 MB with its base; 2 MiB (about 6,500 objects) stays near
 * 45 MB of growth (docs/workers.md, "Memory").
 */
export const WORKER_MAX_CIM_BYTES = 2 * 1_048_576;

/** Plain-string settings from the environment (bindings such as HYPERDRIVE are left out). */
export function workerSettings(env: WorkerEnv): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** The PostgreSQL URL: the Hyperdrive binding's, else DATABASE_URL. */
export function databaseUrl(env: WorkerEnv): string {
  const url = env.HYPERDRIVE?.connectionString || (typeof env.DATABASE_URL === 'string' ? env.DATABASE_URL : '');
  if (!url) throw new ConfigError('no database: bind Hyperdrive as HYPERDRIVE (wrangler.toml) or set the DATABASE_URL secret');
  return url;
}

/**
 * Configuration for the Worker: loadConfig's rules (production needs FMAR_BASE_URL and FMAR_ISSUER),
 * a database, and the Worker's bulk limit. In development without FMAR_BASE_URL the hub's public
 * URL (and so the issuer and audience) is `origin`, where it was reached.
 */
export function workerConfig(env: WorkerEnv, origin: string): HubConfig {
  const vars = workerSettings(env);
  if (!vars.FMAR_MAX_BULK_BYTES) vars.FMAR_MAX_BULK_BYTES = String(WORKER_MAX_BULK_BYTES);
  if (!vars.FMAR_MAX_CIM_BYTES) vars.FMAR_MAX_CIM_BYTES = String(WORKER_MAX_CIM_BYTES);
  // A Worker's isolate holds what it reads: its jobs take no more than its requests.
  if (!vars.FMAR_MAX_CIM_JOB_BYTES) vars.FMAR_MAX_CIM_JOB_BYTES = vars.FMAR_MAX_CIM_BYTES;
  let cfg = loadConfig(vars);
  if (!vars.FMAR_BASE_URL) cfg = loadConfig({ ...vars, FMAR_BASE_URL: origin });
  databaseUrl(env);
  return cfg;
}

/**
 * The answer of a Worker that cannot serve (a setting or the provider's keys missing): /healthz
 * says what is missing (503, `status: "misconfigured"`), every other route answers a 503 problem
 * HUB-MISCONFIGURED with the same detail. Nothing else runs until it is fixed.
 */
export function misconfiguredResponse(path: string, message: string, now: Date): Response {
  const detail = `The hub is misconfigured: ${message}. See docs/workers.md, "Settings".`;
  if (path === '/healthz')
    return new Response(JSON.stringify({ status: 'misconfigured', detail, time: now.toISOString() }), {
      status: 503,
      headers: { 'content-type': 'application/json', 'retry-after': '60' },
    });
  return problemResponse(new Problem('HUB-MISCONFIGURED', detail), { 'retry-after': '60' });
}
