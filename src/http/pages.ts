import { Hono, type Context } from 'hono';
import { Scalar } from '@scalar/hono-api-reference';
import { esc } from '../../identity/index';
import { Problem } from './problem';

/**
 * Where the static assets of the hub's pages come from: the runtime's entry reads them from the
 * installed npm packages (Node: the file; Workers: a text module in the bundle), so no page loads
 * anything from another host.
 */
export interface PageAssets {
  /** The text of @scalar/api-reference's standalone browser bundle (dist/browser/standalone.js). */
  apiReferenceScript(): Promise<string>;
  /** Serve a gzip copy to clients that accept it (Node); false where the platform compresses (Workers). */
  gzip: boolean;
}

/** One asset served at a URL that names its content hash, so it can be cached for ever. */
interface HashedAsset {
  path: string;
  body: string;
  etag: string;
  contentType: string;
  gzipped: () => Promise<ArrayBuffer>;
}

export const ASSET_PREFIX = '/assets/';
const IMMUTABLE = 'public, max-age=31536000, immutable';

async function sha256Hex(text: string): Promise<string> {
  const d = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

async function hashedAsset(name: string, ext: string, contentType: string, body: string): Promise<HashedAsset> {
  const hash = (await sha256Hex(body)).slice(0, 20);
  let gz: Promise<ArrayBuffer> | undefined;
  // Compressed once, on first demand: the asset never changes while the process runs.
  const gzipped = () => (gz ??= gzip(body));
  return { path: `${ASSET_PREFIX}${name}.${hash}.${ext}`, body, etag: `"${hash}"`, contentType, gzipped };
}

function gzip(text: string): Promise<ArrayBuffer> {
  return new Response(new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'))).arrayBuffer();
}

const acceptsGzip = (header: string | undefined) => /(^|,)\s*gzip\s*(;\s*q=(?!0(\.0*)?\s*(,|$))[\d.]+)?\s*(,|$)/i.test(header ?? '');

/** The API reference's script as a hashed asset, read and hashed once per app (lazily: Workers forbid I/O at start-up). */
function apiReferenceAsset(assets: PageAssets): () => Promise<HashedAsset> {
  let once: Promise<HashedAsset> | undefined;
  return () => {
    once ??= assets
      .apiReferenceScript()
      .then((text) => hashedAsset('api-reference', 'js', 'text/javascript; charset=utf-8', text))
      .catch((e) => {
        once = undefined;
        throw e;
      });
    return once;
  };
}

const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}…` : text);

/** A 404's detail: the route asked for (cut to 120 characters, it is the caller's text) and where the routes are listed. */
export function routeNotFoundDetail(method: string, path: string): string {
  return `No route ${method} ${cut(path, 120)}. The API is under /api/v1: /docs lists every operation, /openapi.json describes them.`;
}

/** The links a newcomer needs, for the landing page and its JSON twin. */
export interface LandingLinks {
  docs: string;
  openapi: string;
  openidConfiguration: string;
  api: string;
  health: string;
  console?: string;
}

export function landingLinks(baseUrl: string, issuer: string, withConsole = false): LandingLinks {
  // The hub's own pages are linked relatively (they work whatever host the hub was reached at); an
  // external issuer's discovery document is absolute.
  const discovery = issuer === baseUrl ? '/.well-known/openid-configuration' : `${issuer}/.well-known/openid-configuration`;
  return {
    docs: '/docs',
    openapi: '/openapi.json',
    openidConfiguration: discovery,
    api: '/api/v1',
    health: '/healthz',
    ...(withConsole ? { console: '/console' } : {}),
  };
}

const LANDING_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

export function landingHtml(links: LandingLinks): string {
  const item = (href: string, label: string, what: string) => `<li><a href="${esc(href)}">${esc(label)}</a>: ${esc(what)}</li>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>FMAR hub</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem;color:#1b1b1b}
li{margin:.4rem 0}code{background:#f3f3f3;padding:0 .2rem}</style></head>
<body><h1>FMAR hub</h1>
<p>A Flexibility Market Asset Register for Great Britain: flexible electricity assets, the Flexibility
Service Providers that operate them, and who controls which asset when. Every change is validated,
versioned, audited and announced as an event.</p>
<h2>Start here</h2>
<ul>
${item(links.docs, 'API reference', 'every operation, its fields and rule codes, with a client to try them')}
${item(links.openapi, 'OpenAPI document', 'the same, as OpenAPI 3.1 JSON for code generators')}
${item(links.openidConfiguration, 'OpenID discovery document', 'where to get an access token (client credentials, authorization code with PKCE)')}
${links.console ? item(links.console, 'Console', 'manage your organisation in a browser') : ''}
${item(links.health, 'Health', 'is the hub up and its database reachable')}
</ul>
<p>The API is under <code>${esc(links.api)}</code>; every call needs a Bearer access token. Errors are
RFC 9457 problems whose <code>code</code> names the rule and whose <code>detail</code> says what to do.</p>
</body></html>`;
}

/** Whether the client prefers a page: a browser's Accept names text/html (an API client's does not). */
function wantsHtml(accept: string | undefined): boolean {
  return /(^|,)\s*text\/html\s*(;|,|$)/i.test(accept ?? '');
}

function landing(c: Context, links: LandingLinks): Response {
  if (wantsHtml(c.req.header('accept'))) {
    return c.body(landingHtml(links), 200, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': LANDING_CSP,
      vary: 'Accept',
      'cache-control': 'no-cache',
      'x-frame-options': 'DENY',
    });
  }
  return c.json(
    {
      name: 'FMAR hub',
      description: 'Flexibility Market Asset Register. The API reference is at /docs, the OpenAPI document at /openapi.json.',
      links: Object.fromEntries(
        Object.entries(links)
          .filter(([, href]) => href)
          .map(([rel, href]) => [rel, { href }]),
      ),
    },
    200,
    { vary: 'Accept', 'cache-control': 'no-cache' },
  );
}

/** The API reference page's policy: scripts and styles from the hub only (inline ones are Scalar's start-up and theme). */
function docsCsp(baseUrl: string): string {
  // "Try it" sends requests to the OpenAPI servers URL: the hub's public URL, which may not be this origin behind a proxy.
  const api = new URL(baseUrl).origin;
  return [
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src 'self' ${api}`,
    "worker-src 'self' blob:",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
  ].join('; ');
}

/**
 * GET / (landing page or JSON links), GET /docs (the Scalar API reference, its script from the hub)
 * and GET /assets/<name>.<hash>.<ext> (immutable).
 */
export function pageRoutes(opts: { assets: PageAssets; baseUrl: string; issuer: string; console?: boolean }) {
  const app = new Hono();
  const script = apiReferenceAsset(opts.assets);
  const links = landingLinks(opts.baseUrl, opts.issuer, opts.console);
  app.get('/', (c) => landing(c, links));
  app.get('/docs', async (c, next) => {
    const asset = await script();
    const reference = Scalar({
      url: '/openapi.json',
      pageTitle: 'FMAR hub API',
      cdn: asset.path,
      // Scalar's defaults reach out to its own hosts (fonts, telemetry, the AI agent); the hub's pages load nothing from outside.
      withDefaultFonts: false,
      telemetry: false,
      agent: { disabled: true },
      showDeveloperTools: 'never',
    } as Parameters<typeof Scalar>[0]);
    const res = (await reference(c, next)) as Response;
    res.headers.set('content-security-policy', docsCsp(opts.baseUrl));
    res.headers.set('cache-control', 'no-cache');
    res.headers.set('x-frame-options', 'DENY');
    return res;
  });
  // Browsers ask for it on every page: no icon, said without a 404 in their console.
  app.get('/favicon.ico', (c) => c.body(null, 204, { 'cache-control': 'public, max-age=86400' }));
  app.get(`${ASSET_PREFIX}:file`, async (c) => {
    const asset = await script();
    if (c.req.path !== asset.path)
      throw new Problem(
        'ROUTE-NOT-FOUND',
        `No asset ${cut(c.req.path, 120)}: asset URLs carry their content hash and change with each release; reload the page that linked it (e.g. /docs).`,
      );
    const zipped = opts.assets.gzip && acceptsGzip(c.req.header('accept-encoding'));
    // Each encoding is its own representation, with its own strong ETag.
    const etag = zipped ? `"${asset.etag.slice(1, -1)}.gz"` : asset.etag;
    const headers: Record<string, string> = { etag, 'cache-control': IMMUTABLE, ...(opts.assets.gzip ? { vary: 'Accept-Encoding' } : {}) };
    if ((c.req.header('if-none-match') ?? '').split(',').some((t) => t.trim() === etag)) return c.body(null, 304, headers);
    Object.assign(headers, { 'content-type': asset.contentType, 'x-content-type-options': 'nosniff' });
    if (zipped) return c.body(await asset.gzipped(), 200, { ...headers, 'content-encoding': 'gzip' });
    return c.body(asset.body, 200, headers);
  });
  return app;
}
