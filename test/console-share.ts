import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { expect } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { systemPrincipal } from '../src/access/principal';
import type { OrganisationRole } from '../src/access/roles';
import type { Ctx } from '../src/context';
import { DEMO_SYSTEM_OPERATOR, seedDemoMarket } from '../src/demo/market';
import { inviteUser } from '../src/identity/users';
import type { NodeHub } from '../src/node/server';
import { DEMO } from './harness';

/**
 * Steps of the console's browser journeys for data shares (docs/sharing.md), a private_key_jwt
 * client's JWKS URI and a data-quality rule's definition: run inside a journey's hub and browser,
 * signed in already. Each checks what the person sees and what the API then holds.
 */
export interface ShareJourney {
  page: Page;
  node: NodeHub;
  accessible: (page: Page, what: string) => Promise<void>;
  shots?: string;
}

const ROLES: Record<string, OrganisationRole[]> = {
  'fsp-a': ['FSP', 'AGGREGATOR'],
  operator: ['MARKET_FACILITATOR'],
  so: ['SYSTEM_OPERATOR'],
};
const ORG: Record<string, string> = { ...DEMO, so: DEMO_SYSTEM_OPERATOR.id };

/** The API as one of the demo organisations (a development token of the hub's signer). */
export async function call(node: NodeHub, who: 'fsp-a' | 'operator' | 'so', method: string, path: string, body?: unknown) {
  const token = await node.hub.signer!.sign({ sub: `test-${who}`, org: ORG[who], roles: ROLES[who] });
  const r = await fetch(`${node.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : undefined };
}

/** Sign in at the hub's sign-in page (the provider's session cleared first) and land on a console screen. */
export async function signInAs(
  context: BrowserContext,
  page: Page,
  url: string,
  who: { email: string; password: string },
  heading: string,
) {
  await context.clearCookies();
  // A new document: the console holds its tokens in the page's memory only.
  await page.goto('about:blank');
  await page.goto(url);
  await page.waitForURL(/\/interaction\//, { timeout: 60_000 });
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const landed = page.getByRole('heading', { name: heading });
  const allow = page.getByRole('button', { name: 'Allow' });
  await Promise.race([landed.waitFor({ timeout: 60_000 }), allow.waitFor({ timeout: 60_000 })]);
  if (await allow.isVisible()) await allow.click();
  await landed.waitFor({ timeout: 60_000 });
}

/** Choose an option of a select, and wait until its menu has gone (axe reads a menu fading out as low contrast). */
async function pick(page: Page, field: ReturnType<Page['getByLabel']>, option: string) {
  await field.click();
  await page.getByRole('option', { name: option }).click();
  await page.locator('[role="listbox"]').waitFor({ state: 'detached' });
}

/** The demo System Operator (a platform that pulls shares) and an ACTIVE person of it who signs in to the console. */
export async function ensurePlatformPerson(ctx: Ctx, baseUrl: string) {
  await seedDemoMarket(ctx, systemPrincipal('seed'));
  const who = { email: 'rosalind@so.example', password: `platform-${crypto.randomUUID()}` };
  await inviteUser(
    ctx,
    systemPrincipal('seed'),
    DEMO_SYSTEM_OPERATOR.id,
    { email: who.email, name: 'Rosalind Franklin', userRole: 'ADMIN' },
    baseUrl,
    {
      password: who.password,
    },
  );
  return who;
}

/**
 * Team and access: a private_key_jwt client whose keys are at a JWKS URI. An http URL on another host
 * is refused beside the field (CLIENT-JWKS-URI-INVALID); a JWKS served by this test on a loopback host
 * registers it, the list shows the URI, and the token endpoint accepts an assertion signed with the key.
 */
export async function jwksUriClient(j: ShareJourney) {
  const { page, node } = j;
  const t0 = Date.now();
  const keys = await generateKeyPair('ES256', { extractable: true });
  const pub = { ...(await exportJWK(keys.publicKey)), kid: 'uri-k1', alg: 'ES256', use: 'sig' };
  let fetched = 0;
  const server: Server = createServer((_req, res) => {
    fetched += 1;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [pub] }));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  try {
    const uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
    const register = page.getByRole('form', { name: 'Register an API client' });
    await register.getByLabel('Client name').fill('Platform with a key URL');
    await pick(page, register.getByLabel('Authentication'), 'Its own key (private_key_jwt)');
    await pick(page, register.getByLabel('Its public keys'), 'At a URL (a JWKS URI)');
    const field = register.getByLabel('JWKS URI');
    await field.fill('http://keys.example/jwks.json');
    await register.getByRole('button', { name: 'Register' }).click();
    await register.getByText(/^CLIENT-JWKS-URI-INVALID: A JWKS URI must be https; http only for localhost/).waitFor({ timeout: 30_000 });
    expect(await field.getAttribute('aria-invalid')).toBe('true');
    await j.accessible(page, 'team page: a refused JWKS URI');
    await field.fill(uri);
    await register.getByRole('button', { name: 'Register' }).click();
    const registered = page.getByText(/^Client Platform with a key URL is registered as \S+: the hub fetches its public keys from /);
    await registered.waitFor({ timeout: 30_000 });
    const clientId = /registered as (\S+):/.exec((await registered.textContent())!)![1];
    const row = page
      .getByRole('table', { name: 'API clients of the organisation' })
      .getByRole('row')
      .filter({ hasText: 'Platform with a key URL' });
    await row.getByText(uri).waitFor({ timeout: 30_000 });
    const held = (await call(node, 'fsp-a', 'GET', `/clients/${clientId}`)).json;
    expect(held).toMatchObject({ authMethod: 'private_key_jwt', jwks: null, jwksUri: uri, status: 'ACTIVE' });
    expect(fetched).toBe(0);
    const token = await tokenWithKey(node.url, clientId, 'uri-k1', keys.privateKey);
    expect(token.status, await token.clone().text()).toBe(200);
    expect(fetched).toBe(1);
    console.log(`[console] JWKS URI client steps: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  } finally {
    server.closeAllConnections();
    await new Promise((ok) => server.close(ok));
  }
}

const SO_NAME = DEMO_SYSTEM_OPERATOR.legalName;
const FSP_NAME = 'Demo Flex Alpha Ltd';
interface Share {
  id: string;
  recipientId: string;
  assets: string;
  assetIds: string[] | null;
  status: string;
  state: string;
  version: number;
  purpose: string | null;
  revokeReason: string | null;
}

/**
 * Data shares, from both sides. FSP A's ADMIN (signed in, any screen) grants a share to the System
 * Operator: a listed asset it does not hold is refused beside the field (DATA-SHARE-ASSET-UNKNOWN),
 * all its assets granted; then narrows it to one battery. The platform's ADMIN signs in, sees the share
 * made to it and pulls the passport and the battery. FSP A's ADMIN signs in again, sees both pulls
 * (who, what, when), and revokes the share after a confirmation; the platform's next pull is refused.
 */
export async function dataShares(
  j: ShareJourney & { context: BrowserContext; owner: { email: string; password: string }; platform: { email: string; password: string } },
) {
  const { page, node, accessible, shots } = j;
  const t0 = Date.now();
  const battery = (await call(node, 'fsp-a', 'GET', '/assets?identifier=mpan:1312345678907')).json.items[0] as { id: string; name: string };
  await page.getByRole('menuitem', { name: 'Data shares' }).click();
  await page.getByText('The organisation shares its data with no platform.').waitFor({ timeout: 30_000 });
  await accessible(page, 'data shares: none yet');

  // Grant: a listed asset FSP A does not hold is refused beside the field; all its assets are granted.
  const grant = page.getByRole('form', { name: 'Share with a platform' });
  await pick(page, grant.getByLabel('Platform'), SO_NAME);
  await pick(page, grant.getByLabel('What it shares'), 'The passport and the assets listed');
  const assetsField = grant.getByLabel('Assets (FMAR IDs, one a line)');
  await assetsField.fill('01JNOTANASSET0000000000000');
  const validTo = new Date(Date.now() + 90 * 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z');
  await grant.getByLabel('Valid to').fill(validTo);
  await grant.getByLabel('Purpose (optional)').fill('NESO Single Markets Platform registration');
  await grant.getByRole('button', { name: 'Share' }).click();
  await grant.getByText(/^DATA-SHARE-ASSET-UNKNOWN: Not live assets controlled or owned by/).waitFor({ timeout: 30_000 });
  expect(await assetsField.getAttribute('aria-invalid')).toBe('true');
  await page
    .getByRole('region', { name: 'Share with a platform' })
    .getByRole('alert')
    .getByText(/^REQUEST-VALIDATION: /)
    .waitFor();
  await accessible(page, 'data shares: a refused asset');
  if (shots) await page.screenshot({ path: `${shots}/console-share-refused.png`, fullPage: true });
  expect((await call(node, 'fsp-a', 'GET', '/data-shares?role=owner')).json.items).toEqual([]);
  await pick(page, grant.getByLabel('What it shares'), 'The passport and all our assets');
  await grant.getByRole('button', { name: 'Share' }).click();
  await page.getByText(new RegExp(`^Shared with ${SO_NAME} until .*: live\\.$`)).waitFor({ timeout: 30_000 });
  let [share] = (await call(node, 'fsp-a', 'GET', '/data-shares?role=owner')).json.items as Share[];
  expect(share).toMatchObject({ recipientId: DEMO_SYSTEM_OPERATOR.id, assets: 'ALL', state: 'LIVE', version: 1 });
  expect(share.purpose).toBe('NESO Single Markets Platform registration');
  const table = page.getByRole('table', { name: 'Data shares the organisation granted' });
  await table.getByRole('row').filter({ hasText: SO_NAME }).filter({ hasText: 'passport and all assets' }).waitFor({ timeout: 30_000 });

  // Narrow it to the battery, at the version read.
  await table.getByRole('button', { name: `Narrow the share with ${SO_NAME}` }).click();
  const narrow = page.getByRole('form', { name: `Narrow the share with ${SO_NAME}` });
  await pick(page, narrow.getByLabel('What it shares'), 'The passport and the assets listed');
  await narrow.getByLabel('Assets (FMAR IDs, one a line)').fill(battery.id);
  await accessible(page, 'data shares: narrowing one');
  await narrow.getByRole('button', { name: 'Save the change' }).click();
  await page
    .getByText(`The share with ${SO_NAME} now covers the passport and 1 listed asset(s), until`, { exact: false })
    .waitFor({ timeout: 30_000 });
  [share] = (await call(node, 'fsp-a', 'GET', '/data-shares?role=owner')).json.items as Share[];
  expect(share).toMatchObject({ assets: 'LISTED', assetIds: [battery.id], version: 2, state: 'LIVE' });

  // The platform's ADMIN: the share made to it; the passport and the battery pulled.
  await signInAs(j.context, page, `${node.url}/console/#/data-shares`, j.platform, 'Shared with us');
  const made = page.getByRole('table', { name: 'Data shares made to this platform' });
  await made
    .getByRole('row')
    .filter({ hasText: FSP_NAME })
    .filter({ hasText: 'passport and 1 listed asset(s)' })
    .waitFor({ timeout: 30_000 });
  await made.getByRole('button', { name: `Pull the passport of ${FSP_NAME}` }).click();
  const passport = page.getByRole('region', { name: `The passport of ${FSP_NAME}` });
  await passport.getByText('09000002').waitFor({ timeout: 30_000 });
  await passport.getByText('Lovelace').waitFor();
  await accessible(page, 'data shares: a platform pulls a passport');
  await made.getByRole('button', { name: `Pull the assets of ${FSP_NAME}` }).click();
  const pulled = page.getByRole('table', { name: `Assets ${FSP_NAME} shares` });
  await pulled.getByRole('row').filter({ hasText: battery.id }).filter({ hasText: battery.name }).waitFor({ timeout: 30_000 });
  expect(await pulled.getByRole('row').count()).toBe(2); // the header and the battery: nothing else of FSP A's
  await accessible(page, 'data shares: a platform pulls the assets');
  if (shots) await page.screenshot({ path: `${shots}/console-share-platform.png`, fullPage: true });
  const pulls = (await call(node, 'fsp-a', 'GET', `/data-shares/${share.id}/pulls`)).json.items as {
    action: string;
    reader: { organisationId: string };
    recordIds?: string[];
  }[];
  expect(pulls.map((p) => [p.action, p.reader.organisationId])).toEqual([
    ['organisation.passport-read', DEMO_SYSTEM_OPERATOR.id],
    ['asset.read', DEMO_SYSTEM_OPERATOR.id],
  ]);
  expect(pulls[1].recordIds).toEqual([battery.id]);

  // FSP A's ADMIN again: who pulled what, when; then the share revoked after a confirmation.
  await signInAs(j.context, page, `${node.url}/console/#/data-shares`, j.owner, 'Our data shares');
  await table.getByRole('button', { name: `Pulls of the share with ${SO_NAME}` }).click();
  const seen = page.getByRole('table', { name: `Pulls through the share with ${SO_NAME}` });
  await seen.getByRole('row').filter({ hasText: 'the passport' }).filter({ hasText: SO_NAME }).waitFor({ timeout: 30_000 });
  await seen.getByRole('row').filter({ hasText: 'assets' }).filter({ hasText: battery.id }).waitFor();
  expect(await seen.getByRole('row').count()).toBe(3);
  await accessible(page, 'data shares: the pulls');
  if (shots) await page.screenshot({ path: `${shots}/console-shares.png`, fullPage: true });
  await table.getByRole('button', { name: `Revoke the share with ${SO_NAME}` }).click();
  const confirm = page.getByRole('group', { name: `Revoke the share with ${SO_NAME}` });
  await confirm.getByLabel('Reason (optional)').fill('Registration complete');
  await accessible(page, 'data shares: the revocation asks to confirm');
  expect((await call(node, 'fsp-a', 'GET', `/data-shares/${share.id}`)).json.status).toBe('ACTIVE');
  await confirm.getByRole('button', { name: 'Yes, revoke it' }).click();
  await page.getByText(`The share with ${SO_NAME} is revoked`, { exact: false }).waitFor({ timeout: 30_000 });
  await table.getByRole('row').filter({ hasText: SO_NAME }).filter({ hasText: 'REVOKED' }).waitFor({ timeout: 30_000 });
  expect((await call(node, 'fsp-a', 'GET', `/data-shares/${share.id}`)).json).toMatchObject({
    status: 'REVOKED',
    state: 'REVOKED',
    revokeReason: 'Registration complete',
  });
  const refused = await call(node, 'so', 'GET', `/data-shares/${share.id}/passport`);
  expect([refused.status, refused.json.code]).toEqual([403, 'DATA-SHARE-NOT-LIVE']);
  console.log(`[console] data share steps: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

/**
 * What the browser reports of the refused definition below, on purpose: the 422 answer and the
 * browser's log of it (any other 422 still shows as its own "422 METHOD URL").
 */
export const refusedRuleOnPurpose = (e: string) =>
  /^422 POST \S+\/api\/v1\/data-quality\/rules$/.test(e) ||
  e === 'Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)';

/**
 * Data quality (the operator's ADMIN, on the Data quality page): a rule added with a definition the
 * API refuses beside the field (DQ-RULE-TYPE), corrected and added; then its definition and weight
 * edited at the version read. The API then holds the rule as the form left it.
 */
export async function ruleDefinitions(j: {
  page: Page;
  call: (who: 'operator', method: string, path: string, body?: unknown) => Promise<{ status: number; json: any }>;
  accessible: (page: Page, what: string) => Promise<void>;
  shots?: string;
}) {
  const { page, call, accessible, shots } = j;
  const t0 = Date.now();
  const code = 'DQ-BESS-GENERATION-WITHIN-RATED';
  const add = page.getByRole('form', { name: 'Add a rule' });
  await add.getByLabel('Code').fill(code);
  await pick(page, add.getByLabel('Kind'), 'cross-field');
  await add.getByLabel('Weight').fill('5');
  await add.getByLabel('Description').fill('A battery generates no more than its rated capacity');
  await add.getByLabel('Applies to').fill('BESS');
  const definition = add.getByLabel('Definition');
  await definition.fill('generationCapacityKw <= "rated"');
  await add.getByRole('button', { name: 'Add the rule' }).click();
  await add.getByText(/^DQ-RULE-TYPE: cannot compare number with text \(line 1, column \d+\)$/).waitFor({ timeout: 30_000 });
  expect(await definition.getAttribute('aria-invalid')).toBe('true');
  expect((await call('operator', 'GET', `/data-quality/rules/${code}`)).status).toBe(404);
  await accessible(page, 'data quality: a refused definition');
  await definition.fill('generationCapacityKw <= ratedCapacityKw');
  await add.getByRole('button', { name: 'Add the rule' }).click();
  await page.getByText(`${code} is added, active`, { exact: false }).waitFor({ timeout: 30_000 });
  expect((await call('operator', 'GET', `/data-quality/rules/${code}`)).json).toMatchObject({
    kind: 'cross-field',
    severity: 'WARNING',
    weight: 5,
    appliesTo: ['BESS'],
    definition: 'generationCapacityKw <= ratedCapacityKw',
    active: true,
    version: 1,
  });

  // Edit its definition and weight, at the version read.
  await page.getByRole('button', { name: `Edit ${code}` }).click();
  // The answer to the addition goes once the rule is opened for editing.
  await expect.poll(() => page.getByText(`${code} is added, active`, { exact: false }).count(), { timeout: 10_000 }).toBe(0);
  const edit = page.getByRole('form', { name: `Edit ${code}` });
  expect(await edit.getByLabel('Definition').inputValue()).toBe('generationCapacityKw <= ratedCapacityKw');
  await edit.getByLabel('Definition').fill('generationCapacityKw <= ratedCapacityKw and demandCapacityKw <= ratedCapacityKw');
  await edit.getByLabel('Weight').fill('8');
  await accessible(page, 'data quality: a rule edited');
  if (shots) await edit.screenshot({ path: `${shots}/console-quality-rule.png` });
  await edit.getByRole('button', { name: 'Save the rule' }).click();
  await page.getByText(`${code} is changed (version 2)`, { exact: false }).waitFor({ timeout: 30_000 });
  expect((await call('operator', 'GET', `/data-quality/rules/${code}`)).json).toMatchObject({
    weight: 8,
    definition: 'generationCapacityKw <= ratedCapacityKw and demandCapacityKw <= ratedCapacityKw',
    version: 2,
  });
  await page
    .getByRole('table', { name: 'Data quality rules' })
    .getByRole('row')
    .filter({ hasText: code })
    .filter({ hasText: 'cross-field' })
    .waitFor();
  console.log(`[console] data-quality rule definition steps: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

/** A client_credentials token for a private_key_jwt client: an ES256 assertion signed with its key, at the hub's token endpoint. */
export async function tokenWithKey(url: string, clientId: string, kid: string, key: Parameters<SignJWT['sign']>[0]): Promise<Response> {
  const assertion = await new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(url)
    .setJti(crypto.randomUUID())
    .setIssuedAt()
    .setExpirationTime('2m')
    .sign(key);
  return fetch(`${url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      resource: `${url}/api`,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    }),
  });
}
