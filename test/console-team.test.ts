import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
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
import { deliverDue } from '../src/webhooks/delivery';
import { DEMO, freePort, testDb } from './harness';
import { exportJWK, generateKeyPair } from 'jose';
import { dataShares, ensurePlatformPerson, jwksUriClient, signInAs, tokenWithKey } from './console-share';

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
let db: Awaited<ReturnType<typeof testDb>>['db'];
/** An ADMIN of the demo System Operator, a platform that pulls data shares (test/console-share.ts). */
let platform: { email: string; password: string };

beforeAll(async () => {
  await ensureConsoleBuilt(() => undefined);
  const made = await testDb();
  db = made.db;
  const drop = made.drop;
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
  platform = await ensurePlatformPerson(ctx, cfg.baseUrl);
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
      // The console then makes no transitions (layout.tsx): axe reads settled colours.
      reducedMotion: 'reduce',
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
        window as unknown as {
          axe: { run: (d: Document) => Promise<{ violations: { id: string; impact: string; nodes: { html: string }[] }[] }> };
        }
      ).axe.run(document);
      // Where: the first elements at fault, so a failure says what to fix.
      return r.violations.map((v) => ({ id: v.id, impact: v.impact, where: v.nodes.slice(0, 3).map((n) => n.html.slice(0, 160)) }));
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
      // The list is read again after the change: the row says REVOKED once that read is back.
      await clients.getByRole('row').filter({ hasText: 'Meter reader' }).filter({ hasText: 'REVOKED' }).waitFor({ timeout: 30_000 });
      expect(await tokenWith(clientId, secret2)).toEqual({ status: 401, error: 'invalid_client' });
      const held = await asFsp<{ items: { clientId: string; status: string }[] }>('/clients');
      expect(held.items.find((c) => c.clientId === clientId)?.status).toBe('REVOKED');
      // A private_key_jwt client: a JWKS holding a private part is refused beside the field with its rule code; its public
      // key registers it (no secret), and the token endpoint accepts an assertion signed with the private key.
      const t0 = Date.now();
      const keys = await generateKeyPair('ES256', { extractable: true });
      const pub = { ...(await exportJWK(keys.publicKey)), kid: 'console-k1', alg: 'ES256', use: 'sig' };
      await register.getByLabel('Client name').fill('Trading platform');
      await register.getByLabel('Authentication').click();
      await page.getByRole('option', { name: 'Its own key (private_key_jwt)' }).click();
      const jwksField = register.getByLabel('Public keys (JWKS)');
      await jwksField.fill(JSON.stringify({ keys: [{ ...(await exportJWK(keys.privateKey)), kid: 'console-k1' }] }));
      await register.getByRole('button', { name: 'Register' }).click();
      await register.getByText(/^CLIENT-JWKS-INVALID: /).waitFor({ timeout: 30_000 });
      await clientsPart
        .getByRole('alert')
        .getByText(/^REQUEST-VALIDATION: /)
        .waitFor();
      await jwksField.fill(JSON.stringify({ keys: [pub] }));
      await register.getByRole('button', { name: 'Register' }).click();
      const registered = page.getByText(/^Client Trading platform is registered as \S+ with 1 public key\(s\)/);
      await registered.waitFor({ timeout: 30_000 });
      const keyClientId = /registered as (\S+) with/.exec((await registered.textContent())!)![1];
      expect(await clientsPart.getByTestId('shown-once').count()).toBe(0);
      const byKey = await tokenWithKey(node.url, keyClientId, 'console-k1', keys.privateKey);
      expect(byKey.status, await byKey.clone().text()).toBe(200);
      const heldKeys = await asFsp<{ items: { clientId: string; authMethod: string; jwks: { keys: { kid: string }[] } | null }[] }>(
        '/clients',
      );
      expect(heldKeys.items.find((c) => c.clientId === keyClientId)).toMatchObject({
        authMethod: 'private_key_jwt',
        jwks: { keys: [expect.objectContaining({ kid: 'console-k1', x: pub.x, y: pub.y })] },
      });
      console.log(`[console] private_key_jwt client steps: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      await jwksUriClient({ page, node, accessible });
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

  it('webhooks: subscribe a URL (secret shown once), see its dead letters and replay them, disable it', async () => {
    // A receiver that refuses everything: deliveries to it become dead letters.
    let received = 0;
    const tests: string[] = [];
    const receiver: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        // It takes the test event (and keeps its ID), and refuses every other.
        const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: string; type: string };
        if (event.type === 'fmar.webhook.test') {
          tests.push(event.id);
          res.writeHead(204).end();
          return;
        }
        received++;
        res.writeHead(500).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    const hookUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
    const page = await context.newPage();
    try {
      await page.goto(`${node.url}/console/#/webhooks`);
      await page.getByRole('heading', { name: 'Webhook subscriptions' }).waitFor({ timeout: 60_000 });
      const form = page.getByRole('form', { name: 'Subscribe a URL to events' });
      await form.getByLabel('URL').fill(hookUrl);
      await form.getByLabel('Event types').fill('fmar.asset.*');
      await form.getByRole('button', { name: 'Subscribe' }).click();
      await page.getByText(`${hookUrl} is subscribed to fmar.asset.*.`).waitFor({ timeout: 30_000 });
      expect(await page.getByTestId('shown-once').textContent()).toMatch(/^whsec_[A-Za-z0-9+/=]{40,}$/);
      const subs = await asFsp<{ items: { id: string; url: string; eventTypes: string[]; enabled: boolean }[] }>('/webhooks');
      const sub = subs.items.find((w) => w.url === hookUrl)!;
      expect(sub).toMatchObject({ eventTypes: ['fmar.asset.*'], enabled: true });

      // A test event: sent at once, signed, through the delivery path; the page says what the receiver answered.
      const t0 = Date.now();
      const subsTable = page.getByRole('table', { name: 'Webhook subscriptions of the organisation' });
      await subsTable.getByRole('button', { name: `Send a test event to ${hookUrl}` }).click();
      const tested = page.getByText(new RegExp(`^Test event (\\S+) delivered to ${hookUrl.replace(/[.]/g, '\\.')}: it answered 204\\.$`));
      await tested.waitFor({ timeout: 30_000 });
      expect(tests).toEqual([/^Test event (\S+) delivered/.exec((await tested.textContent())!)![1]]);
      expect((await asFsp<{ items: { eventId: string; type: string; status: string }[] }>(`/webhooks/${sub.id}/deliveries`)).items).toEqual(
        [expect.objectContaining({ eventId: tests[0], type: 'fmar.webhook.test', status: 'DELIVERED' })],
      );
      console.log(`[console] webhook test delivery steps: ${((Date.now() - t0) / 1000).toFixed(1)} s`);

      // An asset event for the FSP, delivered once to a receiver that refuses it: a dead letter.
      const token = await node.hub.signer!.sign({ sub: 'test-check', org: DEMO['fsp-a'], roles: ['FSP', 'AGGREGATOR'] });
      const assets = (await (
        await fetch(`${node.url}/api/v1/assets?limit=1`, { headers: { authorization: `Bearer ${token}` } })
      ).json()) as { items: { id: string; version: number }[] };
      const patched = await fetch(`${node.url}/api/v1/assets/${assets.items[0].id}`, {
        method: 'PATCH',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'if-match': `"${assets.items[0].version}"` },
        body: JSON.stringify({ name: 'Renamed for the webhook test' }),
      });
      expect(patched.status).toBe(200);
      const report = await deliverDue(db, node.hub.ports.clock, { source: node.url, production: false, maxAttempts: 1 });
      expect(received).toBeGreaterThanOrEqual(1);
      expect(report).toMatchObject({ dead: received });
      await page.reload();
      const table = page.getByRole('table', { name: 'Webhook subscriptions of the organisation' });
      const row = table.getByRole('row').filter({ hasText: hookUrl });
      await row.waitFor({ timeout: 60_000 });
      await row.getByRole('button', { name: `Dead letters of ${hookUrl}` }).click();
      const dead = page.getByRole('table', { name: 'Deliveries that failed every attempt' });
      await dead.getByRole('row').filter({ hasText: 'fmar.asset.' }).first().waitFor({ timeout: 30_000 });
      await accessible(page, 'webhooks page');
      if (process.env.FMAR_SCREENSHOTS) await page.screenshot({ path: 'docs/images/console-webhooks.png', fullPage: true });

      // Replay: the dead letters are due again (PENDING), none left dead.
      await page.getByRole('button', { name: 'Replay every dead letter' }).click();
      await page.getByText(`The dead letters of ${hookUrl} are due again.`).waitFor({ timeout: 30_000 });
      const after = (await asFsp<{ items: { status: string; type: string }[] }>(`/webhooks/${sub.id}/deliveries`)).items.filter(
        (d) => d.type !== 'fmar.webhook.test',
      );
      expect(after.map((d) => d.status)).toEqual(after.map(() => 'PENDING'));
      expect(after.length).toBe(received);

      // Disable: the API holds it disabled.
      await row.getByRole('button', { name: `Disable ${hookUrl}` }).click();
      await page.getByText(`${hookUrl} is disabled: nothing is sent to it.`).waitFor({ timeout: 30_000 });
      const held = await asFsp<{ enabled: boolean }>(`/webhooks/${sub.id}`);
      expect(held.enabled).toBe(false);
      expect(outside).toEqual([]);
    } catch (e) {
      await page.screenshot({ path: join(tmpdir(), 'fmar-console-webhooks-failure.png'), fullPage: true }).catch(() => undefined);
      throw e;
    } finally {
      await page.close();
      receiver.close();
    }
  }, 240_000);

  it('data shares: granted, refused beside a field, narrowed, pulled by the platform, the pulls seen, revoked', async () => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    try {
      await signInAs(context, page, `${node.url}/console/#/data-shares`, person, 'Our data shares');
      await dataShares({
        page,
        node,
        accessible,
        context,
        owner: person,
        platform,
        shots: process.env.FMAR_SCREENSHOTS ? 'docs/images' : undefined,
      });
      expect(errors).toEqual([]);
      expect(outside).toEqual([]);
    } catch (e) {
      await page.screenshot({ path: join(tmpdir(), 'fmar-console-share-failure.png'), fullPage: true }).catch(() => undefined);
      throw e;
    } finally {
      await page.close();
    }
  }, 240_000);
});
