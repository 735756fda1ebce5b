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
import { ensureDemoPerson } from '../src/demo/people';
import { standardHooks } from '../src/hooks';
import { silentLogger } from '../src/http/request-log';
import { ensureConsoleBuilt } from '../src/node/console-build';
import type { NodeHub } from '../src/node/server';
import { DEMO, freePort, testDb } from './harness';

/**
 * The console's "Team and access" page (docs/console.md) in a real browser, as the demo FSP's ADMIN:
 * a deep link survives sign-in; a person is invited (the link shown once, the API then holds an
 * INVITED person); an API client is registered (its secret shown once and accepted by the token
 * endpoint), rotated (the old secret refused, the new one accepted) and revoked (no secret works).
 * axe-core on the page: no serious or critical violation. In CI a missing chromium is a failure.
 */
const CHROMIUM = '/usr/bin/chromium';
const present = existsSync(CHROMIUM);

let node: NodeHub;
let closeDb: () => Promise<void>;
let person: { email: string; password: string };

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
  node = await startNodeHub(cfg, db, { port, host: '127.0.0.1', log: silentLogger });
  const ctx: Ctx = { db, clock: node.hub.ports.clock, ids: node.hub.ports.ids, hooks: standardHooks() };
  await seedDemo(ctx, systemPrincipal('seed'));
  person = await ensureDemoPerson(ctx, cfg.baseUrl);
}, 180_000);

afterAll(async () => {
  await node?.close();
  await closeDb?.();
});

describe.skipIf(!present && process.env.CI !== 'true')('the console: team and access', () => {
  let context: BrowserContext;
  let profile: string;
  const outside: string[] = [];
  const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

  beforeAll(async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)`).toBe(true);
    const { chromium } = await import('playwright-core');
    profile = mkdtempSync(join(tmpdir(), 'fmar-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 860 },
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update'],
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
      const r = await (
        window as unknown as { axe: { run: (d: Document) => Promise<{ violations: { id: string; impact: string }[] }> } }
      ).axe.run(document);
      return r.violations.map((v) => ({ id: v.id, impact: v.impact }));
    });
    expect(
      violations.filter((v) => v.impact === 'serious' || v.impact === 'critical'),
      what,
    ).toEqual([]);
  }

  /** The token endpoint's answer to client_credentials with this secret. */
  async function tokenWith(clientId: string, secret: string) {
    const r = await fetch(`${node.url}/oauth/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: `${node.url}/api` }),
    });
    return { status: r.status, error: ((await r.json()) as { error?: string }).error };
  }

  async function asFsp<T>(path: string): Promise<T> {
    const token = await node.hub.signer!.sign({ sub: 'test-check', org: DEMO['fsp-a'], roles: ['FSP', 'AGGREGATOR'] });
    const r = await fetch(`${node.url}/api/v1${path}`, { headers: { authorization: `Bearer ${token}` } });
    expect(r.status).toBe(200);
    return (await r.json()) as T;
  }

  it('an ADMIN follows a deep link through sign-in, invites a person, registers, rotates and revokes a client', async () => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      // A deep link: the sign-in page first, then back on the page asked for.
      await page.goto(`${node.url}/console/#/team`);
      await page.waitForURL(/\/interaction\//, { timeout: 60_000 });
      await page.getByLabel('Email').fill(person.email);
      await page.getByLabel('Password').fill(person.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('button', { name: 'Allow' }).click({ timeout: 30_000 });
      await page.getByRole('heading', { name: 'People' }).waitFor({ timeout: 60_000 });
      expect(new URL(page.url()).hash).toBe('#/team');
      const people = page.getByRole('table', { name: 'People of the organisation' });
      await expect(people.getByRole('row', { name: /Ada Lovelace/ }).textContent()).resolves.toContain('ACTIVE');
      // No button to deactivate oneself.
      expect(await people.getByRole('button', { name: 'Deactivate Ada Lovelace' }).count()).toBe(0);
      await accessible(page, 'team page');

      // Invite: the link is shown once; the API holds the invited person.
      const invite = page.getByRole('form', { name: 'Invite a person' });
      await invite.getByLabel('Email').fill('grace@alpha.example');
      await invite.getByLabel('Name').fill('Grace Hopper');
      await invite.getByLabel('Role').click();
      await page.getByRole('option', { name: 'VIEWER' }).click();
      await invite.getByRole('button', { name: 'Invite' }).click();
      const link = await page.getByRole('region', { name: 'People' }).getByTestId('shown-once').textContent({ timeout: 30_000 });
      expect(link).toMatch(new RegExp(`^${node.url}/invitations/`));
      await people.getByRole('row', { name: /Grace Hopper/ }).waitFor();
      await people.getByRole('button', { name: 'Deactivate Grace Hopper' }).waitFor();
      const users = await asFsp<{ items: { email: string; userRole: string; status: string }[] }>(`/organisations/${DEMO['fsp-a']}/users`);
      expect(users.items.find((u) => u.email === 'grace@alpha.example')).toMatchObject({ userRole: 'VIEWER', status: 'INVITED' });

      // Register a client: its secret is shown once and the token endpoint accepts it.
      const clientsPart = page.getByRole('region', { name: 'API clients' });
      const clients = clientsPart.getByRole('table', { name: 'API clients of the organisation' });
      const register = page.getByRole('form', { name: 'Register an API client' });
      await register.getByLabel('Client name').fill('Meter reader');
      await register.getByRole('button', { name: 'Register' }).click();
      await page.getByText(/Client Meter reader is registered as/).waitFor({ timeout: 30_000 });
      const secret1 = (await clientsPart.getByTestId('shown-once').textContent())!;
      const clientId = /registered as (\S+)\./.exec((await page.getByText(/Client Meter reader is registered as/).textContent())!)![1];
      expect(await tokenWith(clientId, secret1)).toEqual({ status: 200, error: undefined });

      // Rotate: a new secret; the old one is refused at once.
      await clients.getByRole('button', { name: 'Rotate the secret of Meter reader' }).click();
      await page.getByText('A new secret for Meter reader; the old one stopped working.').waitFor({ timeout: 30_000 });
      const secret2 = (await clientsPart.getByTestId('shown-once').textContent())!;
      expect(secret2).not.toBe(secret1);
      expect(await tokenWith(clientId, secret1)).toEqual({ status: 401, error: 'invalid_client' });
      expect(await tokenWith(clientId, secret2)).toEqual({ status: 200, error: undefined });

      // Revoke, after a confirmation: no secret works and the list says REVOKED.
      await clients.getByRole('button', { name: 'Revoke Meter reader' }).click();
      await clients.getByRole('button', { name: 'Confirm: revoke Meter reader' }).click();
      await page.getByText(/Meter reader is revoked/).waitFor({ timeout: 30_000 });
      await expect(clients.getByRole('row', { name: /Meter reader/ }).textContent()).resolves.toContain('REVOKED');
      expect(await tokenWith(clientId, secret2)).toEqual({ status: 401, error: 'invalid_client' });
      const held = await asFsp<{ items: { clientId: string; status: string }[] }>('/clients');
      expect(held.items.find((c) => c.clientId === clientId)?.status).toBe('REVOKED');
      await accessible(page, 'team page after the changes');
      if (process.env.FMAR_SCREENSHOTS) await page.screenshot({ path: 'docs/images/console-team.png', fullPage: true });
      expect(errors).toEqual([]);
      expect(outside).toEqual([]);
    } catch (e) {
      await page.screenshot({ path: join(tmpdir(), 'fmar-console-team-failure.png'), fullPage: true }).catch(() => undefined);
      throw e;
    } finally {
      await page.close();
    }
  }, 240_000);
});
