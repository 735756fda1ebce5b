import type { RateLimitSettings, AnalyticsSettings } from './config';
import type { CimFileInput, DigestOptions, ParsedModel } from '../cim/index';

// The kernel's ports. Everything the app is built from, these and the domains' adapters, is `Ports` in src/app.ts.

/** Time comes from a port so that tests control it ("control of time is critical"). */
export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };

/** Identifier source: ULIDs (time-ordered, 26 characters of Crockford base 32). */
export interface IdSource {
  /** A ULID after every earlier one of this process (event cursors and audit order rely on it). */
  next(): string;
  /** A ULID with fresh random bits even within one millisecond, never an earlier ID + 1: for IDs that must not lead to their neighbours (assets). */
  nextUnguessable(): string;
}

/**
 * Told after a commit that events were written to the outbox, so a deliverer can wake early: the
 * app's database tells it (signallingCommits, src/events/outbox.ts); the Node hub wakes its webhook
 * deliveries, elsewhere it is quiet (the deliverer polls).
 */
export interface EventSink {
  written(count: number): void;
}
export const quietEventSink: EventSink = { written: () => {} };

/**
 * Parses CIM imports (src/cim/parsing.ts). Node injects one that parses large models in a worker
 * thread under a memory bound (src/node/cim-parser.ts), so the API's event loop never runs a long
 * parse; elsewhere (Workers, tests) the in-process parser runs, within the size limits. Throws
 * CimParseError for a refused document, or a Problem (CIM-IMPORT-MEMORY) when the bound is hit.
 */
export interface CimParser {
  parse(
    files: CimFileInput[],
    o: DigestOptions,
    progress?: (bytesParsed: number, objects: number) => Promise<void>,
  ): Promise<ParsedModel & { threadId?: number }>;
}

export interface AppConfig {
  /** Public base URL of the hub; also the token issuer. */
  baseUrl: string;
  /** Audience that access tokens must name. */
  audience: string;
  mode: 'development' | 'production';
  /** Largest JSON body in bytes (bulk endpoints have their own limit). */
  maxBodyBytes: number;
  maxBulkBytes: number;
  /** Largest CIM import (request or job files); absent: maxBulkBytes. */
  maxCimBytes?: number;
  /** Largest CIM import job sent as one RDF/XML document (streamed to the database); absent: maxCimBytes. */
  maxCimJobBytes?: number;
  /** Requests per minute per API client and per organisation; 0 disables one. Absent: RATE_LIMIT_DEFAULTS. */
  rateLimit?: RateLimitSettings;
  /** Days between a switch request and the earliest day it can take effect (default 5). */
  switchNoticeDays?: number;
  /** How long the credential facts behind a token are cached (src/access/auth.ts); default 5 s. */
  authCacheMs?: number;
  /** The OAuth token endpoint clients use when this process serves none (Workers: the Node issuer's); default `${baseUrl}/oauth/token`. */
  tokenEndpoint?: string;
  /** The public analytics' anonymisation policy (docs/analytics.md); absent: ANALYTICS_DEFAULTS. */
  analytics?: AnalyticsSettings;
  /** The issuer of access tokens, for the landing page's OpenID discovery link; default baseUrl. */
  issuer?: string;
  /** FMAR_REQUEST_METRICS: count requests in the metrics (src/http/metrics.ts); default true. */
  requestMetrics?: boolean;
}

export interface LocalCli {
  /** Whether the presented secret is this hub's (compared in constant time). */
  accepts(secret: string): boolean;
  /** A development access token for an organisation, from this hub's issuer (development only). */
  mintToken?(organisationId: string, scope?: string): Promise<string | undefined>;
}
