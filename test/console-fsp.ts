import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { Page } from 'playwright-core';
import { systemPrincipal } from '../src/access/principal';
import type { Ctx } from '../src/context';
import { seedDemoMarket } from '../src/demo/market';
import { DEMO } from './harness';

/**
 * Steps of the console's browser journeys (test/console.test.ts) for an FSP's market units, VEN
 * registrations and contracts, and an asset as of a time: run inside the journeys' one hub and one
 * browser, signed in already, so they add only their own seconds. Each checks what the person sees
 * and what the API then holds.
 */
export interface Journey {
  page: Page;
  ctx: Ctx;
  call: (who: keyof typeof DEMO, method: string, path: string, body?: unknown) => Promise<{ status: number; json: any }>;
  accessible: (page: Page, what: string) => Promise<void>;
  shots?: string;
}

/** What the console shows for a refusal (console/src/problem.ts): "CODE: detail", then each field's rule code and message. */
function refusal(p: { code: string; detail: string; errors?: { field: string; code: string; detail: string }[] }) {
  const byField = new Map<string, string>();
  for (const e of p.errors ?? []) byField.set(e.field, [byField.get(e.field), `${e.code}: ${e.detail}`].filter(Boolean).join('; '));
  const fields = [...byField].map(([f, t]) => `${f}: ${t}`);
  return fields.length ? `${p.code}: ${p.detail.replace(/[.\s]+$/, '')}. ${fields.join('; ')}` : `${p.code}: ${p.detail}`;
}

/** The demo FSP's person: market units, VEN registrations, contracts. `registered` is the asset the journey registered. */
export async function fspScreens(j: Journey, registered: { id: string; mpan: string }) {
  const { page, call, accessible, shots } = j;
  const started = Date.now();
  // The demo market: a System Operator owning the NESO products, the demo battery an SPU qualified for NESO-DFS.
  await seedDemoMarket(j.ctx, systemPrincipal('seed'));
  const assets = (await call('fsp-a', 'GET', '/assets?limit=100')).json.items as { id: string; name: string; importMpan: string }[];
  const charger = assets.find((a) => a.name === 'Driveway charger')!;
  const heatPump = assets.find((a) => a.name === 'Air source heat pump')!;

  // Market units: the demo unit's qualification, with its validity and where it stands now.
  // Through the menu, from the Switches list scrolled sideways (test/console-lists.ts, switchesFit): the menu takes the click.
  await page.getByRole('menuitem', { name: 'Market units' }).click();
  await page.getByRole('button', { name: 'Open Alpha Glasgow battery (DFS)' }).click({ timeout: 30_000 });
  const demoUnit = ((await call('fsp-a', 'GET', '/market-units')).json.items as { id: string; name: string }[]).find(
    (u) => u.name === 'Alpha Glasgow battery (DFS)',
  )!;
  const [q] = (await call('fsp-a', 'GET', `/market-units/${demoUnit.id}/qualifications`)).json.items as {
    validFrom: string;
    systemOperatorId: string;
  }[];
  const quals = page.getByRole('table', { name: 'Qualifications of Alpha Glasgow battery (DFS)' });
  await quals.waitFor({ timeout: 30_000 });
  expect((await quals.locator('tbody tr').allInnerTexts()).map((r) => r.split('\t'))).toEqual([
    [
      'NESO-DFS',
      'QUALIFIED',
      new Date(q.validFrom).toLocaleString('en-GB'),
      'open',
      'qualified, active',
      'DEMO-DFS-QUAL-1',
      q.systemOperatorId,
      expect.any(String),
    ],
  ]);

  // Create: an SPU over two meters is refused with the rule; as an SPG it is registered.
  const body = { name: 'Console unit', type: 'SPU', product: 'NESO-DFS', assetIds: [charger.id, heatPump.id] };
  const refused = await call('fsp-a', 'POST', '/market-units', body);
  expect([refused.status, refused.json.code]).toEqual([422, 'UNIT-SPU-ACCOUNTING-POINT']);
  await page.getByLabel('Name').fill('Console unit');
  await page.getByRole('combobox', { name: 'Product' }).click();
  await page.getByRole('option', { name: /^NESO-DFS: / }).click();
  await page.getByRole('textbox', { name: /^Assets/ }).fill(`mpan:${charger.importMpan} mpan:${heatPump.importMpan}`);
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await page
    .getByRole('alert')
    .filter({ hasText: refusal(refused.json) })
    .waitFor({ timeout: 30_000 });
  await page.getByRole('combobox', { name: 'Type' }).click();
  await page.getByRole('option', { name: 'SPG: several' }).click();
  await page.getByRole('textbox', { name: /^Assets/ }).fill(`mpan:${charger.importMpan} mpan:${heatPump.importMpan}`);
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await page.getByText('Console unit is registered: SPG for NESO-DFS with 2 assets.').waitFor({ timeout: 30_000 });

  // Add the asset registered earlier (by its MPAN), then remove the heat pump: each a new version of the unit.
  await page.getByRole('heading', { name: 'Market unit Console unit' }).waitFor({ timeout: 30_000 });
  await page.getByLabel('Asset to add (FMAR ID or mpan:…)').fill(`mpan:${registered.mpan}`);
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await page.getByText(`Added mpan:${registered.mpan}: Console unit now has 3 assets (version 2).`).waitFor({ timeout: 30_000 });
  await page.getByRole('button', { name: 'Remove Air source heat pump from Console unit' }).click({ timeout: 30_000 });
  await page.getByText('Removed Air source heat pump: Console unit now has 2 assets (version 3).').waitFor({ timeout: 30_000 });
  const unit = ((await call('fsp-a', 'GET', '/market-units')).json.items as { name: string; assetIds: string[]; version: number }[]).find(
    (u) => u.name === 'Console unit',
  )!;
  expect([unit.assetIds, unit.version]).toEqual([[charger.id, registered.id].sort(), 3]);
  await page.getByText('No qualification recorded yet.').waitFor();
  await accessible(page, 'market units');
  if (shots) await page.screenshot({ path: `${shots}/console-market-units.png`, fullPage: true });

  // VEN registrations: a VTN without a registered operator (its registrations are self-declared).
  const vtn = await call('operator', 'POST', '/vtns', {
    code: 'CONS',
    name: 'Console VTN',
    protocol: '3.0',
    baseUrl: 'https://vtn.console.example',
  });
  expect(vtn.status).toBe(201);
  await page.getByRole('menuitem', { name: 'VEN registrations' }).click();
  await page.getByText('No VEN registrations with this status.').waitFor({ timeout: 30_000 });
  const badVen = await call('fsp-a', 'POST', '/ven-registrations', { vtn: vtn.json.id, venId: 'alpha ven 1', venName: 'Alpha VEN' });
  expect([badVen.status, badVen.json.code, badVen.json.errors.map((e: { code: string }) => e.code)]).toEqual([
    422,
    'REQUEST-VALIDATION',
    ['OPENADR-VEN-ID-FORMAT'],
  ]);
  await page.getByRole('combobox', { name: 'VTN' }).click();
  await page.getByRole('option', { name: 'CONS: Console VTN (OpenADR 3.0)' }).click();
  await page.getByLabel('VEN ID').fill('alpha ven 1');
  await page.getByLabel('VEN name').fill('Alpha VEN');
  await page.getByRole('button', { name: 'Register', exact: true }).click();
  await page
    .getByRole('alert')
    .filter({ hasText: refusal(badVen.json) })
    .waitFor({ timeout: 30_000 });
  await page.getByLabel('VEN ID').fill('alpha-ven-1');
  await page.getByRole('button', { name: 'Register', exact: true }).click();
  await page
    .getByText('Alpha VEN (alpha-ven-1) is registered on CONS: self-declared (the VTN has no registered operator).')
    .waitFor({ timeout: 30_000 });
  const vens = page.getByRole('table', { name: 'VEN registrations of the organisation' });
  await vens.getByRole('cell', { name: 'alpha-ven-1' }).waitFor({ timeout: 30_000 });
  expect((await vens.locator('tbody tr').allInnerTexts()).map((r) => r.split('\t').slice(0, 6))).toEqual([
    ['CONS', '3.0', 'alpha-ven-1', 'Alpha VEN', 'in force', 'self-declared (the VTN has no registered operator)'],
  ]);
  const held = (await call('fsp-a', 'GET', '/ven-registrations')).json.items as { id: string; venId: string; confirmation: string }[];
  expect(held.map((r) => [r.venId, r.confirmation])).toEqual([['alpha-ven-1', 'SELF_DECLARED']]);
  await accessible(page, 'VEN registrations');
  if (shots) await page.screenshot({ path: `${shots}/console-ven.png`, fullPage: true });
  // Retire it, after a confirmation: the API holds it cancelled.
  await page.getByRole('button', { name: 'Retire Alpha VEN on CONS' }).click();
  await page.getByRole('button', { name: 'Confirm: retire Alpha VEN on CONS' }).click();
  await page.getByText('Alpha VEN on CONS is retired: its VEN ID and name are free on the VTN.').waitFor({ timeout: 30_000 });
  expect((await call('fsp-a', 'GET', `/ven-registrations/${held[0].id}`)).json.status).toBe('CANCELLED');

  // Contracts: a System Operator's confirmed contract naming the FSP is a service window; the FSP reads it, no actions.
  const day = 86_400_000;
  const k = await call('operator', 'POST', '/contracts', {
    assetId: charger.id,
    fspId: DEMO['fsp-a'],
    product: 'NESO-DFS',
    validFrom: new Date(Date.now() - day).toISOString(),
    validTo: new Date(Date.now() + 30 * day).toISOString(),
    status: 'CONFIRMED',
    reference: 'CONSOLE-K1',
  });
  expect(k.status).toBe(201);
  await page.getByRole('menuitem', { name: 'Contracts' }).click();
  const contracts = page.getByRole('table', { name: 'Contracts the organisation is party to' });
  await contracts.getByRole('cell', { name: 'CONSOLE-K1' }).waitFor({ timeout: 30_000 });
  expect((await contracts.locator('tbody tr').allInnerTexts()).map((r) => r.split('\t'))).toEqual([
    [
      'CONSOLE-K1',
      charger.id,
      'NESO-DFS',
      DEMO['fsp-a'],
      DEMO.operator,
      new Date(k.json.validFrom).toLocaleString('en-GB'),
      new Date(k.json.validTo).toLocaleString('en-GB'),
      'CONFIRMED',
      'service window now: blocks a switch',
    ],
  ]);
  expect(await page.getByRole('button', { name: 'Confirm contract CONSOLE-K1' }).count()).toBe(0);
  await accessible(page, 'contracts (FSP)');
  console.log(`[console] FSP market units, VEN registrations, contracts: ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** The operator's admin on an asset's page with two versions: the asset as of a time; then contracts recorded and confirmed. */
export async function operatorScreens(j: Journey, asset: { id: string; before: { version: number; ratedCapacityKw: number } }) {
  const { page, call, accessible, shots } = j;
  const started = Date.now();
  // As of one millisecond before the correction: the version before it.
  const now = (await call('operator', 'GET', `/assets/${asset.id}`)).json as { recordedAt: string };
  const at = new Date(Date.parse(now.recordedAt) - 1).toISOString();
  await page.getByLabel('As of (RFC 3339, e.g. 2026-01-31T12:00:00Z)').fill(at);
  await page.getByRole('button', { name: 'Show as of' }).click();
  const then = (await call('operator', 'GET', `/assets/${asset.id}?asOf=${encodeURIComponent(at)}`)).json as {
    version: number;
    recordedAt: string;
  };
  expect(then.version).toBe(asset.before.version);
  const shown = page.getByRole('table', { name: `The asset as of ${at}` });
  await shown.waitFor({ timeout: 30_000 });
  await page
    .getByText(
      `As of ${new Date(at).toLocaleString('en-GB')}: version ${then.version}, recorded ${new Date(then.recordedAt).toLocaleString('en-GB')}.`,
    )
    .waitFor();
  expect(await shown.getByRole('row', { name: /^Rated capacity/ }).innerText()).toBe(
    `Rated capacity (kW)\t${asset.before.ratedCapacityKw}`,
  );
  // The asset's page lists the dispute the operator resolved, as the API holds it.
  const disputes = (await call('operator', 'GET', `/disputes?recordType=asset&recordId=${asset.id}`)).json.items as any[];
  expect(disputes.map((d) => d.status)).toEqual(['RESOLVED']);
  await page.getByRole('table', { name: 'Disputes on this asset' }).waitFor({ timeout: 30_000 });
  // Every panel read before the page is left: the operator's reads of the asset's FSP links are audited (the audit trail is compared next).
  await page.getByRole('table', { name: 'FSPs that controlled this asset' }).waitFor({ timeout: 30_000 });
  await page
    .getByRole('heading', { name: 'VEN registrations' })
    .locator('xpath=..')
    .getByText('Loading…')
    .waitFor({ state: 'detached', timeout: 30_000 });
  expect(await rowsOf(page, 'Disputes on this asset')).toEqual(
    disputes.map((d) => [d.id, d.status, d.fields.join(', '), d.claim.summary, instant(d.raisedAt)]),
  );
  await accessible(page, 'an asset as of a time');
  if (shots) await page.screenshot({ path: `${shots}/console-asset-as-of.png`, fullPage: true });

  // Contracts: the operator records one for the FSP (offered), then confirms it: a service window ahead.
  const day = 86_400_000;
  const from = new Date(Date.now() + 60 * day).toISOString().slice(0, 10) + 'T00:00:00Z';
  const to = new Date(Date.now() + 90 * day).toISOString().slice(0, 10) + 'T00:00:00Z';
  await page.getByRole('menuitem', { name: 'Contracts' }).click();
  await page.getByLabel('Asset (FMAR ID)').fill(asset.id);
  await page.getByLabel('FSP (organisation ID)').fill(DEMO['fsp-a']);
  await page.getByRole('textbox', { name: /^Product/ }).fill('NESO-DFS');
  await page.getByLabel('Valid from').fill(from);
  await page.getByLabel('Valid to').fill(to);
  await page.getByLabel('Reference (optional)').fill('CONSOLE-K2');
  await page.getByRole('button', { name: 'Record', exact: true }).click();
  await page.getByText('Contract CONSOLE-K2 is recorded, offered: confirm it to make it a service window.').waitFor({ timeout: 30_000 });
  await page.getByRole('button', { name: 'Confirm contract CONSOLE-K2' }).click({ timeout: 30_000 });
  await page.getByText('Contract CONSOLE-K2 is confirmed: service window ahead: blocks a switch into it.').waitFor({ timeout: 30_000 });
  const held = ((await call('operator', 'GET', `/contracts?assetId=${asset.id}`)).json.items as any[]).map((c) => [
    c.reference,
    c.status,
    c.fspId,
    c.systemOperatorId,
    c.validFrom,
    c.validTo,
  ]);
  expect(held).toEqual([
    ['CONSOLE-K2', 'CONFIRMED', DEMO['fsp-a'], DEMO.operator, new Date(from).toISOString(), new Date(to).toISOString()],
  ]);
  await accessible(page, 'contracts (operator)');
  if (shots) await page.screenshot({ path: `${shots}/console-contracts.png`, fullPage: true });
  console.log(`[console] as of a time, contracts recorded and confirmed: ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** The rows of a table as the page shows them, a cell a string. */
const rowsOf = async (page: Page, name: string) =>
  (await page.getByRole('table', { name }).locator('tbody tr').allInnerTexts()).map((r) => r.split('\t'));
const instant = (iso: string | null) => (iso ? new Date(iso).toLocaleString('en-GB') : 'open');

/**
 * The demo FSP's person on an asset's page: its FSP links, data quality, disputes, market units and
 * VEN registrations, each as the API answers; then the asset list's export, filtered, as CSV and NDJSON.
 */
export async function assetPanels(j: Journey, registered: { id: string }) {
  const { page, call, accessible, shots } = j;
  const started = Date.now();
  const id = registered.id;
  const [links, quality, disputes, units, vens] = await Promise.all([
    call('fsp-a', 'GET', `/assets/${id}/fsp-links`),
    call('fsp-a', 'GET', `/assets/${id}/findings?limit=100`),
    call('fsp-a', 'GET', `/disputes?recordType=asset&recordId=${id}`),
    call('fsp-a', 'GET', `/market-units?assetId=${id}`),
    call('fsp-a', 'GET', `/assets/${id}/ven-registrations?include=expired&include=suspended&include=refused`),
  ]);
  await page.evaluate((x) => {
    window.location.hash = `#/assets/${x}/show`;
  }, id);
  await page.getByRole('table', { name: 'FSPs that controlled this asset' }).waitFor({ timeout: 30_000 });
  expect(await rowsOf(page, 'FSPs that controlled this asset')).toEqual(
    links.json.items.map((l: any) => [l.fspId, instant(l.validFrom), instant(l.validTo), instant(l.recordedAt)]),
  );
  const q = quality.json as { score: number | null; items: any[]; advisories: { ruleCode: string; description: string }[] };
  await page
    .getByText(`Score ${q.score ?? '—'}: ${q.items.length} open findings, ${q.advisories.length} advisories.`, { exact: true })
    .waitFor({ timeout: 30_000 });
  if (q.items.length)
    expect(await rowsOf(page, 'Open findings on this asset')).toEqual(
      q.items.map((f) => [f.ruleCode, f.severity, f.detail, instant(f.openedAt)]),
    );
  else await page.getByText('No open finding.').waitFor();
  expect(q.advisories.length).toBeGreaterThan(0); // registered without a consent reference: DQ-CONSENT-REFERENCE
  expect(await rowsOf(page, 'Advisories on this asset')).toEqual(q.advisories.map((a) => [a.ruleCode, a.description]));
  expect(disputes.json.items).toEqual([]);
  await page.getByText('No dispute on this asset.').waitFor({ timeout: 30_000 });
  // The unit the FSP journey built from it (test/console-fsp.ts, fspScreens).
  await page.getByRole('table', { name: 'Market units this asset is in' }).waitFor({ timeout: 30_000 });
  expect(await rowsOf(page, 'Market units this asset is in')).toEqual(
    units.json.items.map((u: any) => [u.name, u.type, u.product, String(u.assetIds.length), u.status]),
  );
  expect(units.json.items.map((u: any) => u.name)).toEqual(['Console unit']);
  if (vens.json.items.length)
    expect(await rowsOf(page, 'VEN registrations behind this asset')).toEqual(
      vens.json.items.map((v: any) => [
        v.vtnCode,
        v.venId,
        v.venName,
        v.status,
        v.inForce ? 'yes' : 'no',
        v.boundToAsset ? 'this asset' : 'every asset of its FSP',
      ]),
    );
  else await page.getByText('No VEN registration behind this asset.').waitFor({ timeout: 30_000 });
  await accessible(page, "an asset's panels");
  if (shots) await page.screenshot({ path: `${shots}/console-asset-panels.png`, fullPage: true });

  // The list filtered by category, exported: the CSV is the API's export with the same filter; the NDJSON its assets.
  await page.evaluate(() => {
    window.location.hash = `#/assets?filter=${encodeURIComponent(JSON.stringify({ category: 'BESS' }))}`;
  });
  await page.getByRole('button', { name: 'Export CSV' }).waitFor({ timeout: 30_000 });
  const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
  expect(csv.suggestedFilename()).toBe('assets.csv');
  const fromApi = (await call('fsp-a', 'GET', '/assets/export?format=csv&category=BESS')).json as string;
  expect(readFileSync((await csv.path())!, 'utf8')).toBe(fromApi);
  const listed = (await call('fsp-a', 'GET', '/assets?category=BESS&limit=1000')).json.items.map((a: { id: string }) => a.id);
  await page.getByText(`Downloaded assets.csv: ${listed.length} assets.`).waitFor({ timeout: 30_000 });
  const [nd] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export NDJSON' }).click()]);
  expect(nd.suggestedFilename()).toBe('assets.ndjson');
  const lines = readFileSync((await nd.path())!, 'utf8')
    .split('\n')
    .filter(Boolean);
  expect(lines.map((l) => (JSON.parse(l) as { id: string }).id)).toEqual(listed);
  await page.getByText(`Downloaded assets.ndjson: ${listed.length} assets.`).waitFor({ timeout: 30_000 });
  await accessible(page, 'asset list exported');
  // The list left unfiltered: React-Admin keeps a list's filter in the browser's storage, which the next journey shares.
  await page.evaluate(() => {
    window.location.hash = `#/assets?filter=${encodeURIComponent('{}')}`;
  });
  await page.getByRole('button', { name: 'Export CSV' }).waitFor({ timeout: 30_000 });
  await page.waitForFunction(() => !window.location.hash.includes('BESS'));
  console.log(`[console] an asset's panels, the list exported: ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
