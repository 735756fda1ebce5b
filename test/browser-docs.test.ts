import { silentLogger } from '../src/http/request-log';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { loadConfig } from '../src/config';
import type { NodeHub } from '../src/node/server';
import { freePort, testDb } from './harness';

/**
 * The hub's pages in a real browser (Debian's chromium through playwright-core) with the network cut
 * off: every request to a host other than the hub is aborted and recorded. /docs must list the
 * operations from the hub alone, / must show the landing page, and the sign-out pages load nothing either. In CI a missing chromium is a
 * failure (.ci/run installs it); elsewhere the test is skipped with a message.
 */
const CHROMIUM = '/usr/bin/chromium';
const present = existsSync(CHROMIUM);
if (!present && process.env.CI !== 'true')
  console.warn(`[browser-docs] skipped: ${CHROMIUM} is missing (apt-get install -y chromium); CI installs it and fails without it.`);

describe.skipIf(!present && process.env.CI !== 'true')('the pages in a browser, offline', () => {
  let node: NodeHub;
  let ownUrlHub: NodeHub | undefined;
  let closeDb: () => Promise<void>;
  let browser: Browser;
  let context: BrowserContext;
  let profile: string;
  const outside: string[] = [];
  /** Requests to the hub's public URL (http://hub.test), which the pages must not make by themselves. */
  const viaPublicUrl: string[] = [];
  const failures: string[] = [];

  beforeAll(async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)`).toBe(true);
    const { db, drop } = await testDb();
    closeDb = async () => {
      await db.close();
      await drop();
    };
    const { startNodeHub } = await import('../src/node/server');
    // The public URL is another host on purpose: the reference must not call it by itself.
    const cfg = loadConfig({
      FMAR_MODE: 'development',
      FMAR_BASE_URL: 'http://hub.test',
      FMAR_RATE_LIMIT_CLIENT_PER_MINUTE: '0',
      FMAR_RATE_LIMIT_ORG_PER_MINUTE: '0',
    });
    node = await startNodeHub(cfg, db, { port: 0, host: '127.0.0.1', log: silentLogger });
    const { chromium } = await import('playwright-core');
    profile = mkdtempSync(join(tmpdir(), 'fmar-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 800 },
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    browser = context.browser()!;
    const hubOrigin = new URL(node.url).origin;
    // A second hub on the same database whose public URL is its own address: the OpenID provider
    // builds its URLs from the issuer, so its sign-out pages are tried there.
    const port = await freePort();
    ownUrlHub = await startNodeHub(
      loadConfig({
        FMAR_MODE: 'development',
        FMAR_BASE_URL: `http://127.0.0.1:${port}`,
        FMAR_RATE_LIMIT_CLIENT_PER_MINUTE: '0',
        FMAR_RATE_LIMIT_ORG_PER_MINUTE: '0',
      }),
      db,
      { port, host: '127.0.0.1', log: silentLogger },
    );
    const ownUrlOrigin = `http://127.0.0.1:${port}`;
    await context.route('**/*', async (route) => {
      const url = route.request().url();
      if (url.startsWith('data:') || url.startsWith('blob:') || [hubOrigin, ownUrlOrigin].includes(new URL(url).origin))
        return route.continue();
      if (new URL(url).origin === 'http://hub.test') {
        viaPublicUrl.push(url);
        return route.abort('blockedbyclient');
      }
      outside.push(url);
      return route.abort('blockedbyclient');
    });
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    void browser;
    if (profile) rmSync(profile, { recursive: true, force: true });
    await node?.close();
    await ownUrlHub?.close();
    await closeDb?.();
  });

  async function open(path: string, on: NodeHub = node): Promise<Page> {
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') failures.push(`${path}: ${m.text()}`);
    });
    page.on('pageerror', (e) => failures.push(`${path}: ${e.message}`));
    const res = await page.goto(`${on.url}${path}`, { waitUntil: 'load' });
    expect(res?.status()).toBe(200);
    return page;
  }

  it('/docs lists the operations with nothing requested outside the hub', async () => {
    const page = await open('/docs');
    // The summary of a known operation, as the OpenAPI document names it.
    await page
      .getByText('JSON-LD @context mapping the native JSON resources to the CIM terms of the profile (public)', { exact: true })
      .first()
      .waitFor({ state: 'visible', timeout: 60_000 });
    if (process.env.FMAR_SCREENSHOTS) await page.screenshot({ path: 'docs/images/docs.png' });
    expect(outside).toEqual([]);
    expect(viaPublicUrl).toEqual([]); // the reference calls nothing by itself
    // Content-Security-Policy violations (an inline or outside resource refused) are console errors.
    expect(failures).toEqual([]);
    await page.close();
  }, 120_000);

  it('/ shows the landing page, whose first link opens the reference', async () => {
    const page = await open('/');
    await expect(page.locator('h1').textContent()).resolves.toBe('FMAR hub');
    expect(await page.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href')))).toEqual([
      '/docs',
      '/openapi.json',
      '/.well-known/openid-configuration',
      '/console',
      '/healthz',
    ]);
    if (process.env.FMAR_SCREENSHOTS) await page.screenshot({ path: 'docs/images/landing.png' });
    expect(outside).toEqual([]);
    expect(failures).toEqual([]);
    await page.close();
  }, 60_000);

  it('the sign-out page of the OpenID provider loads nothing from outside either', async () => {
    // Without a session the end-session endpoint answers its success page at once.
    const page = await open('/oauth/logout', ownUrlHub);
    await expect(page.locator('h1').textContent()).resolves.toBe('Signed out');
    expect(outside).toEqual([]);
    expect(failures).toEqual([]);
    await page.close();
  }, 60_000);
});
