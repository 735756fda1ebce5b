import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testHub, type TestHub } from './harness';

/**
 * The pages a newcomer opens first: GET / (a landing page for a browser, links for an API client),
 * /docs with every asset served by the hub at a hashed, immutable URL, and 404s that point to /docs.
 * test/browser-docs.test.ts opens the same pages in a real browser with the network cut off.
 */
let hub: TestHub;
beforeAll(async () => {
  hub = await testHub();
});
afterAll(async () => {
  await hub?.close();
});

const installedScript = () => {
  const require = createRequire(import.meta.url);
  return readFileSync(join(dirname(require.resolve('@scalar/api-reference')), 'browser', 'standalone.js'), 'utf8');
};

/** Every src/href of a page's HTML. */
const references = (html: string) => [...html.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((m) => m[1]);

describe('GET /docs', () => {
  it('loads its script from the hub, at a URL carrying the content hash, and nothing from another host', async () => {
    const r = await hub.call('GET', '/docs');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/html/);
    const hash = createHash('sha256').update(installedScript()).digest('hex').slice(0, 20);
    expect(references(r.text)).toEqual([`/assets/api-reference.${hash}.js`]);
    expect(r.text).not.toMatch(/https?:\/\/(?!hub\.test)/);
    expect(r.text).toContain('"url": "/openapi.json"');
    // The browser enforces it too: scripts, styles, fonts and images from the hub only.
    expect(r.headers.get('content-security-policy')).toContain("script-src 'self' 'unsafe-inline'");
    expect(r.headers.get('content-security-policy')).toContain("font-src 'self' data:");
  });

  it('serves the script with a long, immutable cache lifetime and its ETag', async () => {
    const page = await hub.call('GET', '/docs');
    const [path] = references(page.text);
    const r = await hub.call('GET', path);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(r.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(r.text).toBe(installedScript());
    const again = await hub.call('GET', path, { headers: { 'if-none-match': r.headers.get('etag')! } });
    expect(again.status).toBe(304);
  });

  it('sends it gzipped to a client that accepts gzip (4.9 MB of script), and plain to one that refuses it', async () => {
    const [path] = references((await hub.call('GET', '/docs')).text);
    const gz = await hub.app.request(path, { headers: { 'accept-encoding': 'gzip, deflate, br' } });
    expect([gz.status, gz.headers.get('content-encoding'), gz.headers.get('vary'), gz.headers.get('cache-control')]).toEqual([
      200,
      'gzip',
      'Accept-Encoding',
      'public, max-age=31536000, immutable',
    ]);
    const bytes = Buffer.from(await gz.arrayBuffer());
    expect(gunzipSync(bytes).toString('utf8')).toBe(installedScript());
    expect(bytes.length).toBeLessThan(installedScript().length / 3);
    // The two encodings are two representations: their ETags differ, and each revalidates to a 304.
    expect(gz.headers.get('etag')).toMatch(/^"[0-9a-f]{20}\.gz"$/);
    const again = await hub.app.request(path, { headers: { 'accept-encoding': 'gzip', 'if-none-match': gz.headers.get('etag')! } });
    expect(again.status).toBe(304);
    const refused = await hub.app.request(path, { headers: { 'accept-encoding': 'gzip;q=0, identity' } });
    expect(refused.headers.get('content-encoding')).toBeNull();
    expect(await refused.text()).toBe(installedScript());
  });

  it('refuses an asset URL with another hash with a 404 that says to reload the page', async () => {
    const r = await hub.call('GET', '/assets/api-reference.00000000000000000000.js');
    expect(r.status).toBe(404);
    expect(r.json.code).toBe('ROUTE-NOT-FOUND');
    expect(r.json.detail).toBe(
      'No asset /assets/api-reference.00000000000000000000.js: asset URLs carry their content hash and change with each release; reload the page that linked it (e.g. /docs).',
    );
  });
});

describe('GET /', () => {
  it('answers a browser with a landing page linking the reference, the OpenAPI and OpenID discovery documents', async () => {
    const r = await hub.call('GET', '/', { headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' } });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(r.headers.get('vary')).toBe('Accept');
    expect(r.text).toContain('<h1>FMAR hub</h1>');
    expect(references(r.text)).toEqual(['/docs', '/openapi.json', '/.well-known/openid-configuration', '/console', '/healthz']);
    expect(r.headers.get('content-security-policy')).toMatch(/^default-src 'none'/);
  });

  it('answers an API client with JSON links', async () => {
    const r = await hub.call('GET', '/', { headers: { accept: 'application/json' } });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      name: 'FMAR hub',
      description: 'Flexibility Market Asset Register. The API reference is at /docs, the OpenAPI document at /openapi.json.',
      links: {
        docs: { href: '/docs' },
        openapi: { href: '/openapi.json' },
        openidConfiguration: { href: '/.well-known/openid-configuration' },
        api: { href: '/api/v1' },
        health: { href: '/healthz' },
        console: { href: '/console' },
      },
    });
    // No Accept at all (curl's */*) is an API client too.
    expect((await hub.call('GET', '/')).json.links.docs).toEqual({ href: '/docs' });
  });
});

describe('GET /favicon.ico', () => {
  it('is 204 (no icon), so a browser opening a page logs no 404', async () => {
    const r = await hub.call('GET', '/favicon.ico');
    expect(r.status).toBe(204);
  });
});

describe('unknown routes', () => {
  it('answer 404 ROUTE-NOT-FOUND naming the route and pointing to /docs', async () => {
    const r = await hub.call('GET', '/api/v1/asets?x=1', { as: 'fsp-a' });
    expect(r.status).toBe(404);
    expect(r.json.code).toBe('ROUTE-NOT-FOUND');
    expect(r.json.detail).toBe(
      'No route GET /api/v1/asets. The API is under /api/v1: /docs lists every operation, /openapi.json describes them.',
    );
  });

  it('do not echo an overlong path in full', async () => {
    const r = await hub.call('DELETE', `/${'x'.repeat(500)}`);
    expect(r.status).toBe(404);
    expect(r.json.detail).toBe(
      `No route DELETE /${'x'.repeat(119)}…. The API is under /api/v1: /docs lists every operation, /openapi.json describes them.`,
    );
  });
});
