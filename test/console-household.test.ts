import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { systemPrincipal } from '../src/access/principal';
import { loadConfig } from '../src/config';
import type { Ctx } from '../src/context';
import { seedDemo } from '../src/demo/seed';
import { standardHooks } from '../src/hooks';
import { ensureConsoleBuilt } from '../src/node/console-build';
import type { NodeHub } from '../src/node/server';
import { DEMO, freePort, testDb } from './harness';

/**
 * The household's console (docs/consumers.md, docs/console.md) in a real browser on a phone-sized
 * screen, against one started hub: the household signs in from the hub's sign-in page through the
 * consumer consent service (the development stand-in), sees its battery, withdraws the consent the
 * battery was registered under after a confirmation, and sees it suspended, in the page and through
 * the API. axe-core checks each state: no serious or critical violation. Every request to another
 * host is aborted and recorded. In CI a missing chromium is a failure (.ci/run installs it).
 */
const CHROMIUM = '/usr/bin/chromium';
const present = existsSync(CHROMIUM);
const BESS_MPAN = '1312345678907';

let node: NodeHub;
let closeDb: () => Promise<void>;
let bessId: string;

beforeAll(async () => {
  await ensureConsoleBuilt(() => undefined);
  const { db, drop } = await testDb();
  closeDb = async () => {
    await db.close();
    await drop();
  };
  const { startNodeHub } = await import('../src/node/server');
  const port = await freePort();
  const cfg = loadConfig({
    FMAR_MODE: 'development',
    FMAR_BASE_URL: `http://127.0.0.1:${port}`,
    FMAR_RATE_LIMIT_CLIENT_PER_MINUTE: '0',
    FMAR_RATE_LIMIT_ORG_PER_MINUTE: '0',
  });
  node = await startNodeHub(cfg, db, { port, host: '127.0.0.1' });
  const ctx: Ctx = { db, clock: node.hub.ports.clock, ids: node.hub.ports.ids, hooks: standardHooks() };
  await seedDemo(ctx, systemPrincipal('seed'));
  // The demo battery's FSP records the household's consent on it: its control now rests on that consent.
  const [bess] = await db.query<{ id: string; version: number }>(`SELECT id, version FROM asset WHERE import_mpan = $1`, [BESS_MPAN]);
  bessId = bess.id;
  const consent = await node.hub.ports.consentSimulator!.issueConsent({ mpan: BESS_MPAN, fsp: DEMO['fsp-a'] });
  const patched = await call(
    'fsp-a',
    'PATCH',
    `/assets/${bessId}`,
    { consentReference: consent.token },
    { 'if-match': `"${bess.version}"` },
  );
  expect(patched.status, JSON.stringify(patched.json)).toBe(200);
}, 180_000);

afterAll(async () => {
  await node?.close();
  await closeDb?.();
});

/** A development token for a demo organisation, and a call of the API with it (or with a household's token). */
async function call(
  who: keyof typeof DEMO | { token: string },
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const token =
    typeof who === 'object' ? who.token : await node.hub.signer!.sign({ sub: `test-${who}`, org: DEMO[who], roles: ['FSP', 'AGGREGATOR'] });
  const res = await fetch(`${node.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, json: (text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as any };
}

describe.skipIf(!present && process.env.CI !== 'true')('the household console in a browser', () => {
  let context: BrowserContext;
  let profile: string;
  const outside: string[] = [];
  const errors: string[] = [];
  const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  const shots = process.env.FMAR_SCREENSHOTS ? 'docs/images' : undefined;

  beforeAll(async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)`).toBe(true);
    const { chromium } = await import('playwright-core');
    profile = mkdtempSync(join(tmpdir(), 'fmar-chromium-household-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      // The console then makes no transitions (layout.tsx): axe reads settled colours.
      reducedMotion: 'reduce',
      // A phone: the household's pages are made for one first.
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 1,
      isMobile: true,
      hasTouch: true,
      acceptDownloads: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    const origin = new URL(node.url).origin;
    await context.route('**/*', async (route) => {
      const url = route.request().url();
      if (url.startsWith('data:') || url.startsWith('blob:') || new URL(url).origin === origin) return route.continue();
      outside.push(url);
      return route.abort('blockedbyclient');
    });
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  async function accessible(page: Page, what: string) {
    await page.evaluate(axeSource);
    const violations = await page.evaluate(async () => {
      const r = await (window as unknown as { axe: { run: (d: Document) => Promise<{ violations: any[] }> } }).axe.run(document);
      return r.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        nodes: v.nodes.map((n: any) => `${n.target.join(' ')} ${String(n.html).slice(0, 200)} ${n.failureSummary ?? ''}`).slice(0, 3),
      }));
    });
    const bad = violations.filter((v: { impact: string }) => v.impact === 'serious' || v.impact === 'critical');
    expect(bad, `${what}: ${JSON.stringify(bad)}`).toEqual([]);
  }

  it('a household signs in through the consumer consent service, sees its battery, withdraws the consent and sees the battery suspended', async () => {
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('response', (r) => {
      if (r.status() >= 400) errors.push(`${r.status()} ${r.request().method()} ${r.url()}`);
    });
    try {
      await journey(page);
    } catch (e) {
      await page.screenshot({ path: join(tmpdir(), 'fmar-console-household-failure.png'), fullPage: true }).catch(() => undefined);
      throw new Error(
        `${(e as Error).message}\nbrowser errors: ${JSON.stringify(errors)}\nscreenshot: ${join(tmpdir(), 'fmar-console-household-failure.png')}`,
      );
    }
    expect(outside).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  }, 240_000);

  async function journey(page: Page) {
    // The household's token lives in the console's memory only: taken from its own API calls, to ask the API as the household.
    let householdToken: string | undefined;
    page.on('request', (r) => {
      if (r.url().includes('/api/v1/consumer/')) householdToken = r.headers().authorization?.replace(/^Bearer /, '');
    });
    // The console sends the browser to the hub's sign-in page, which offers the household route.
    await page.goto(`${node.url}/console/`);
    await page.waitForURL(/\/interaction\//, { timeout: 60_000 });
    await page.getByRole('link', { name: 'sign in through the consumer consent service' }).click();
    // The stand-in's page: choose the Glasgow household.
    await page.getByLabel(/Flat 1, 1 Demo Street, Glasgow/).check({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'What the register holds about your meter' }).waitFor({ timeout: 60_000 });
    // The token was taken from the fragment, which is gone from the address.
    expect(new URL(page.url()).hash).toBe('');
    // Only the household's page: no organisation menu or screen.
    expect(await page.getByRole('menuitem').count()).toBe(0);
    const battery = page.getByRole('article', { name: 'Home battery: Home battery (Glasgow)' });
    await battery.waitFor({ timeout: 30_000 });
    const facts = async (scope: ReturnType<Page['getByRole']>) =>
      Object.fromEntries(
        await scope.locator('dt').evaluateAll((dts) => dts.map((dt) => [dt.textContent, (dt.nextElementSibling as HTMLElement).innerText])),
      ) as Record<string, string>;
    expect(await facts(battery)).toMatchObject({
      Status: 'Registered, not yet checked',
      Size: '5 kW',
      'Meter point': BESS_MPAN,
    });
    expect((await facts(battery))['Controlled by']).toMatch(/^Alpha Flex, since /);
    const consent = page.getByRole('article', { name: 'Consent for Alpha Flex' });
    expect(await facts(consent)).toMatchObject({
      State: 'In force',
      'Meter point': BESS_MPAN,
      'What was done with it': 'Your device was registered with it',
    });
    await accessible(page, 'the household page');
    if (shots) await page.screenshot({ path: `${shots}/console-household.png`, fullPage: true });

    // Withdraw: first the confirmation, saying what will happen.
    await consent.getByRole('button', { name: 'Withdraw this consent' }).click();
    const confirm = page.getByRole('group', { name: 'Withdraw your consent for Alpha Flex?' });
    await confirm.waitFor();
    await accessible(page, 'the confirmation');
    if (shots) await page.screenshot({ path: `${shots}/console-household-withdraw.png` });
    await confirm.getByRole('button', { name: 'Yes, withdraw it' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: 'Your consent for Alpha Flex is withdrawn. 1 device(s) it controlled are suspended.' })
      .waitFor({ timeout: 30_000 });
    await battery.getByText('Suspended: the consent it relied on was withdrawn').waitFor({ timeout: 30_000 });
    expect((await facts(consent)).State).toMatch(/^Withdrawn on /);
    await accessible(page, 'after the withdrawal');

    // The API holds it: the FSP reads the battery suspended, and so does the household with its own token.
    expect((await call('fsp-a', 'GET', `/assets/${bessId}`)).json.status).toBe('SUSPENDED_CONSENT_REVOKED');
    const own = await call({ token: householdToken! }, 'GET', `/consumer/assets/${bessId}`);
    expect([own.status, own.json.status]).toEqual([200, 'SUSPENDED_CONSENT_REVOKED']);

    // Something wrong: a dispute about the battery's size, with a link as evidence; then followed on the page and held by the API.
    await page.getByRole('button', { name: 'Tell us something is wrong' }).click();
    const form = page.getByRole('form', { name: 'Tell us something is wrong' });
    await form.getByLabel('Its size (kW)').check();
    await form.getByLabel('What it should say, in your words').fill('The battery is 10 kW, not 5.');
    await form.getByLabel('What shows it (e.g. the installer’s certificate)').fill('The installer’s certificate');
    await form.getByLabel('A link to it (https://…), or choose a file below').fill('https://evidence.example.com/certificate.pdf');
    // "Send" is enabled now: axe reads its colours once its transition from the disabled grey has ended.
    await page.waitForFunction(() => document.getAnimations().length === 0);
    await accessible(page, 'the dispute form');
    await form.getByRole('button', { name: 'Send' }).click();
    const dispute = page.getByRole('article', { name: 'Home battery: Home battery (Glasgow), its size (kW)' });
    await dispute.waitFor({ timeout: 30_000 });
    expect(await facts(dispute)).toMatchObject({ State: 'Sent, waiting for review', 'You said': 'The battery is 10 kW, not 5.' });
    const held = (await call({ token: householdToken! }, 'GET', '/consumer/disputes')).json.items;
    expect(held.map((d: any) => [d.recordId, d.fields, d.status, d.evidence.length])).toEqual([[bessId, ['ratedCapacityKw'], 'OPEN', 1]]);
    await accessible(page, 'a dispute followed');
    if (shots) await page.screenshot({ path: `${shots}/console-household-dispute.png`, fullPage: true });

    // Its data: the CSV the browser saves holds the suspended battery.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download (CSV, for a spreadsheet)' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^fmar-household-\d{4}-\d{2}-\d{2}\.csv$/);
    const csv = readFileSync((await download.path())!, 'utf8').split('\r\n');
    expect(csv[0]).toBe('section,record,field,value');
    expect(csv).toContain(`assets,${bessId},status,SUSPENDED_CONSENT_REVOKED`);
  }
});
