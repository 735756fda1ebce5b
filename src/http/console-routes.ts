import { Hono, type Context } from 'hono';
import { esc, page } from '../../identity/index';

/**
 * The console's built files (console/dist, made by Vite from console/): index.html, and files under
 * assets/ whose names carry their content hash. The runtime's entry reads them (src/node/console-files.ts).
 */
export interface ConsoleFiles {
  /** The built index.html; undefined when the console is not built. */
  index(): Promise<string | undefined>;
  /** A built file under assets/ by its name; undefined when there is none. */
  asset(name: string): Promise<{ body: Uint8Array; gzipped?: () => Promise<Uint8Array> } | undefined>;
}

const IMMUTABLE = 'public, max-age=31536000, immutable';
const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  woff2: 'font/woff2',
  woff: 'font/woff',
};
/** A Vite output name: letters, digits, `_`, `-` and one extension; never a path. */
const ASSET_NAME = /^[A-Za-z0-9_-]{1,120}\.(js|css|svg|png|woff2?)$/;

/** The console's policy: its own scripts and styles (MUI writes style elements), API calls to the hub and the issuer. */
export function consoleCsp(baseUrl: string, issuer: string): string {
  const connect = [...new Set(["'self'", new URL(baseUrl).origin, new URL(issuer).origin])].join(' ');
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    `connect-src ${connect}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "object-src 'none'",
  ].join('; ');
}

const acceptsGzip = (header: string | undefined) => /(^|,)\s*gzip\s*(;\s*q=(?!0(\.0*)?\s*(,|$))[\d.]+)?\s*(,|$)/i.test(header ?? '');

/**
 * GET /console (and /console/, where sign-in returns): the console's index.html, `no-cache`;
 * GET /console/assets/<name>-<hash>.<ext>: its hashed files, immutable for a year. Not built: a 503
 * page saying how to build it.
 */
export function consoleRoutes(opts: { files: ConsoleFiles; baseUrl: string; issuer: string }) {
  const app = new Hono();
  const csp = consoleCsp(opts.baseUrl, opts.issuer);
  const index = async (c: Context) => {
    const html = await opts.files.index();
    const headers = {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': csp,
      'cache-control': 'no-cache',
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    };
    if (html === undefined)
      return c.body(
        page(
          'Console not built',
          `<p>The console's files are not built on this server. <code>npm start</code> builds them; or run <code>npx vite build --config console/vite.config.ts</code> and reload ${esc('/console')}.</p>`,
        ),
        503,
        { ...headers, 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'", 'retry-after': '10' },
      );
    return c.body(html, 200, headers);
  };
  app.get('/console', index);
  app.get('/console/', index);
  app.get('/console/assets/:name', async (c) => {
    const name = c.req.param('name');
    const file = ASSET_NAME.test(name) ? await opts.files.asset(name) : undefined;
    if (!file)
      return c.body(`No console file ${name.slice(0, 120)}: file names carry their content hash; reload /console.`, 404, {
        'content-type': 'text/plain; charset=utf-8',
        'cache-control': 'no-cache',
      });
    const type = TYPES[name.slice(name.lastIndexOf('.') + 1)];
    const headers: Record<string, string> = {
      'content-type': type,
      'cache-control': IMMUTABLE,
      'x-content-type-options': 'nosniff',
      ...(file.gzipped ? { vary: 'Accept-Encoding' } : {}),
    };
    if (file.gzipped && acceptsGzip(c.req.header('accept-encoding')))
      return c.body((await file.gzipped()) as Uint8Array<ArrayBuffer>, 200, { ...headers, 'content-encoding': 'gzip' });
    return c.body(file.body as Uint8Array<ArrayBuffer>, 200, headers);
  });
  return app;
}
