import { expect } from 'vitest';
import type { Page } from 'playwright-core';
import { DEMO_SYSTEM_OPERATOR } from '../src/demo/market';
import type { Journey } from './console-fsp';

/**
 * Steps of the console's browser journeys (test/console.test.ts) for a market unit's opportunities,
 * versions and de-registration (the FSP's person) and a System Operator's qualification page (the
 * operator's admin, a member of the demo System Operator). Run inside the journeys' one hub and one
 * browser, signed in already; each checks what the person sees and what the API then holds.
 */

/** A call of the API as the demo System Operator (a development token). */
export type SoCall = (method: string, path: string, body?: unknown) => Promise<{ status: number; json: any }>;

/** The refusals these steps provoke on purpose, which the browser logs as failed requests. */
export const refusedOnPurpose = (e: string) =>
  /status of 409 \(Conflict\)/.test(e) ||
  /status of 422 \(Unprocessable Entity\)/.test(e) ||
  /^422 POST \S+\/api\/v1\/market-units\/[0-9A-Z]{26}\/qualifications$/.test(e);

const rowsOf = async (page: Page, name: string) =>
  (await page.getByRole('table', { name }).locator('tbody tr').allInnerTexts()).map((r) => r.split('\t'));
const instant = (iso: string | null) => (iso ? new Date(iso).toLocaleString('en-GB') : 'open');

type Unit = {
  id: string;
  name: string;
  version: number;
  status: string;
  type: string;
  product: string;
  fspId: string;
  assetIds: string[];
  recordedAt: string;
  recordedBy: string;
  reassessmentRequired: boolean;
  reassessmentReason: string | null;
};
/** A unit's versions as the API answers, as the page's table shows them (all but the "What changed" column, checked apart). */
const versionRows = (items: Unit[]) =>
  items.map((v) => [String(v.version), instant(v.recordedAt), v.status, v.type, String(v.assetIds.length), v.recordedBy]);

/**
 * The demo FSP's person on its market units: the demo unit's opportunity (an equivalence the operator
 * records) and history, its de-registration refused while it is qualified; the console unit's
 * versions with what changed; a unit de-registered with a reason, then found under de-registered.
 */
export async function unitLifecycle(j: Journey) {
  const { page, call, accessible, shots } = j;
  const started = Date.now();
  const eq = await call('operator', 'POST', '/product-equivalences', {
    productA: 'NESO-DFS',
    productB: 'DSO-SUSTAIN-PEAK',
    kind: 'SUBSTITUTABLE',
  });
  expect(eq.status).toBe(201);
  const assets = (await call('fsp-a', 'GET', '/assets?limit=100')).json.items as { id: string; name: string }[];
  const heatPump = assets.find((a) => a.name === 'Air source heat pump')!;
  const made = await call('fsp-a', 'POST', '/market-units', {
    name: 'Console heat pump',
    type: 'SPU',
    product: 'NESO-DFS',
    assetIds: [heatPump.id],
  });
  expect(made.status).toBe(201);
  const units = (await call('fsp-a', 'GET', '/market-units')).json.items as Unit[];
  const demo = units.find((u) => u.name === 'Alpha Glasgow battery (DFS)')!;
  const consoleUnit = units.find((u) => u.name === 'Console unit')!;

  // The demo unit: qualified for NESO-DFS, so DSO-SUSTAIN-PEAK is an opportunity; its versions as the API holds them.
  await page.evaluate(() => {
    window.location.hash = '#/market-units';
  });
  await page.getByRole('button', { name: `Open ${demo.name}` }).click({ timeout: 30_000 });
  const opportunities = (await call('fsp-a', 'GET', `/market-units/${demo.id}/opportunities`)).json.items as any[];
  expect(opportunities.map((o) => [o.product.id, o.viaProductId, o.kind])).toEqual([['DSO-SUSTAIN-PEAK', 'NESO-DFS', 'SUBSTITUTABLE']]);
  await page.getByRole('table', { name: `Opportunities of ${demo.name}` }).waitFor({ timeout: 30_000 });
  expect(await rowsOf(page, `Opportunities of ${demo.name}`)).toEqual(
    opportunities.map((o) => [`${o.product.id}: ${o.product.name}`, o.product.market, o.product.serviceType, 'NESO-DFS', 'substitutable']),
  );
  const demoHistory = (await call('fsp-a', 'GET', `/market-units/${demo.id}/history`)).json.items as Unit[];
  const demoVersions = `Versions of ${demo.name}, newest first`;
  await page.getByRole('table', { name: demoVersions }).waitFor({ timeout: 30_000 });
  const shownDemo = await rowsOf(page, demoVersions);
  expect(shownDemo.map((r) => [...r.slice(0, 5), r[6]])).toEqual(versionRows(demoHistory));
  expect(shownDemo.at(-1)![5]).toBe('registered');

  // De-registering it is refused while its qualification is active: the API's rule and detail shown; the API still holds it.
  const refused = await call('fsp-a', 'DELETE', `/market-units/${demo.id}?reason=${encodeURIComponent('No longer offered.')}`);
  expect([refused.status, refused.json.code]).toEqual([409, 'UNIT-QUALIFIED']);
  await page.getByRole('button', { name: `De-register ${demo.name}` }).click();
  await page.getByLabel('Reason (optional)').fill('No longer offered.');
  await page.getByRole('button', { name: `Confirm: de-register ${demo.name}` }).click();
  await page
    .getByRole('alert')
    .filter({ hasText: `${refused.json.code}: ${refused.json.detail}` })
    .waitFor({ timeout: 30_000 });
  expect((await call('fsp-a', 'GET', `/market-units/${demo.id}`)).json).toMatchObject({ status: 'ACTIVE', version: demo.version });
  await accessible(page, "a market unit's opportunities and history, its de-registration refused");
  if (shots) await page.screenshot({ path: `${shots}/console-unit-opportunities.png`, fullPage: true });

  // The console unit (test/console-fsp.ts): created with two assets, one added, one removed; each version says what changed.
  await page.getByRole('button', { name: `Open ${consoleUnit.name}` }).click();
  const history = (await call('fsp-a', 'GET', `/market-units/${consoleUnit.id}/history`)).json.items as Unit[];
  const versions = `Versions of ${consoleUnit.name}, newest first`;
  await page.getByRole('table', { name: versions }).waitFor({ timeout: 30_000 });
  const shown = await rowsOf(page, versions);
  expect(shown.map((r) => [...r.slice(0, 5), r[6]])).toEqual(versionRows(history));
  const [v3, v2] = history;
  const added = v2.assetIds.filter((a) => !history[2].assetIds.includes(a));
  const removed = v2.assetIds.filter((a) => !v3.assetIds.includes(a));
  expect([added.length, removed]).toEqual([1, [heatPump.id]]);
  expect(shown.map((r) => r[5])).toEqual([`removed ${heatPump.id}`, `added ${added[0]}`, 'registered']);

  // The heat pump's own unit, de-registered with a reason after a confirmation: the API holds it, its reason in the audit trail.
  await page.getByRole('button', { name: 'Open Console heat pump' }).click();
  await page.getByRole('button', { name: 'De-register Console heat pump' }).click();
  await page.getByLabel('Reason (optional)').fill('The heat pump leaves the service.');
  await page.getByRole('button', { name: 'Confirm: de-register Console heat pump' }).click();
  await page
    .getByText('Console heat pump is de-registered (version 2); its assets stay registered. It is listed under de-registered.')
    .waitFor({ timeout: 30_000 });
  const gone = (await call('fsp-a', 'GET', `/market-units/${made.json.id}`)).json;
  expect([gone.status, gone.version, typeof gone.deregisteredAt]).toEqual(['DEREGISTERED', 2, 'string']);
  const audit = (await call('operator', 'GET', `/audit?recordId=${made.json.id}&limit=50`)).json.items as any[];
  expect(audit.filter((r) => r.action === 'market-unit.deregistered').map((r) => r.detail.reason)).toEqual([
    'The heat pump leaves the service.',
  ]);
  expect(await page.getByRole('button', { name: 'Open Console heat pump' }).count()).toBe(0);
  // Under de-registered: its versions, the last one the de-registration; no action on it.
  await page.getByRole('combobox', { name: 'Status' }).click();
  await page.getByRole('option', { name: 'de-registered' }).click();
  await page.getByRole('button', { name: 'Open Console heat pump' }).click({ timeout: 30_000 });
  const goneVersions = 'Versions of Console heat pump, newest first';
  await page.getByRole('table', { name: goneVersions }).waitFor({ timeout: 30_000 });
  const goneHistory = (await call('fsp-a', 'GET', `/market-units/${made.json.id}/history`)).json.items as Unit[];
  const goneShown = await rowsOf(page, goneVersions);
  expect(goneShown.map((r) => [...r.slice(0, 5), r[6]])).toEqual(versionRows(goneHistory));
  expect(goneShown.map((r) => r[5])).toEqual(['status ACTIVE → DEREGISTERED', 'registered']);
  expect(await page.getByRole('button', { name: 'De-register Console heat pump' }).count()).toBe(0);
  await page.getByText('No opportunity now.').waitFor();
  await accessible(page, 'a de-registered market unit and its history');
  if (shots) await page.screenshot({ path: `${shots}/console-unit-history.png`, fullPage: true });
  // The list left on active units: React-Admin's storage is shared with the next journey, this page's filter is not.
  console.log(`[console] market units' opportunities, history, de-registration: ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/**
 * The operator's admin switches to the demo System Operator (a MEMBER there): its units for the
 * products it owns, a qualification refused for its period (the rule beside "Valid to"), then
 * recorded as not qualified with a reason; the API holds it as the person's record.
 */
export async function qualifyScreens(j: Journey & { asSystemOperator: SoCall }) {
  const { page, accessible, shots, asSystemOperator: so } = j;
  const started = Date.now();
  await page.getByRole('combobox', { name: 'Organisation' }).selectOption({ label: 'Demo System Operator plc (MEMBER)' });
  await page.getByRole('button', { name: 'Allow' }).click({ timeout: 30_000 });
  await page.getByRole('heading', { name: 'Demo System Operator plc' }).waitFor({ timeout: 60_000 });
  await page.getByText('Roles: SYSTEM_OPERATOR · you are MEMBER').waitFor();
  const menu = await page.getByRole('menuitem').allInnerTexts();
  expect(menu).toEqual(expect.arrayContaining(['Qualify market units', 'Market units', 'Products', 'Qualifications', 'Contracts']));
  expect(menu).not.toContain('Organisations');

  // The units naming a product it owns, as the API answers the System Operator.
  await page.getByRole('menuitem', { name: 'Qualify market units' }).click();
  const owned = (await so('GET', `/products?ownerOrganisationId=${DEMO_SYSTEM_OPERATOR.id}&status=ACTIVE&limit=100`)).json.items as {
    id: string;
  }[];
  expect(owned.map((p) => p.id)).toContain('NESO-DFS');
  const units: Unit[] = [];
  for (const p of owned) units.push(...((await so('GET', `/market-units?product=${p.id}&status=ACTIVE&limit=100`)).json.items as Unit[]));
  const table = page.getByRole('table', { name: 'Market units for your products' });
  await table
    .locator('tbody tr')
    .nth(units.length - 1)
    .waitFor({ timeout: 30_000 });
  const listed = await rowsOf(page, 'Market units for your products');
  expect(listed.map((r) => r.slice(0, 5))).toEqual(units.map((u) => [u.name, u.type, u.product, String(u.assetIds.length), u.fspId]));
  const nowOf = (rows: string[][], name: string) => rows.find((r) => r[0] === name)?.[5];
  // The demo battery's capacity was corrected (the dispute above) while its unit was qualified: the unit awaits a re-assessment.
  const demo = units.find((u) => u.name === 'Alpha Glasgow battery (DFS)')!;
  expect([demo.reassessmentRequired, demo.reassessmentReason]).toEqual([true, expect.stringContaining('ratedCapacityKw')]);
  expect([nowOf(listed, demo.name), nowOf(listed, 'Console unit')]).toEqual([
    `qualified, active; re-assessment required: ${demo.reassessmentReason}`,
    'awaiting: none recorded',
  ]);
  const target = units.find((u) => u.name === 'Console unit')!;

  // Not qualified, with a reason; first with a validity that ends before it starts: the rule's message beside "Valid to".
  const from = new Date().toISOString().slice(0, 19) + 'Z';
  const before = new Date(Date.parse(from) - 86_400_000).toISOString().slice(0, 19) + 'Z';
  const body = {
    productId: 'NESO-DFS',
    outcome: 'FAILED',
    validFrom: from,
    validTo: before,
    reference: 'CONSOLE-QUAL-1',
    notes: 'Baseline metering is missing for one asset.',
  };
  const bad = await so('POST', `/market-units/${target.id}/qualifications`, body);
  expect([bad.status, bad.json.errors.map((e: any) => [e.field, e.code])]).toEqual([422, [['validTo', 'QUALIFICATION-PERIOD']]]);
  await page.getByRole('button', { name: 'Record an outcome for Console unit' }).click();
  const form = page.getByRole('form', { name: 'Record an outcome for Console unit' });
  await form.getByRole('combobox', { name: 'Outcome' }).click();
  await page.getByRole('option', { name: 'Not qualified' }).click();
  await form.getByLabel('Valid from').fill(from);
  await form.getByLabel('Valid to (optional)').fill(before);
  await form.getByLabel('Your reference (optional)').fill(body.reference);
  await form.getByLabel('Reason or notes (optional)').fill(body.notes);
  await form.getByRole('button', { name: 'Record', exact: true }).click();
  await page.getByRole('alert').filter({ hasText: bad.json.code }).waitFor({ timeout: 30_000 });
  const describedBy = await form.getByLabel('Valid to (optional)').getAttribute('aria-describedby');
  await expect(page.locator(`[id="${describedBy}"]`).textContent()).resolves.toBe(`QUALIFICATION-PERIOD: ${bad.json.errors[0].detail}`);
  expect((await so('GET', `/market-units/${target.id}/qualifications`)).json.items).toEqual([]); // nothing written
  await accessible(page, 'a qualification refused, its rule beside the field');
  if (shots) await page.screenshot({ path: `${shots}/console-qualify-refused.png`, fullPage: true });

  // Open-ended: recorded. The API holds it as the person's record for the System Operator; the page lists it.
  await form.getByLabel('Valid to (optional)').fill('');
  await form.getByRole('button', { name: 'Record', exact: true }).click();
  await page
    .getByText(`Recorded: Console unit not qualified for NESO-DFS, valid from ${instant(from)} to open.`)
    .waitFor({ timeout: 30_000 });
  const held = (await so('GET', `/market-units/${target.id}/qualifications`)).json.items as any[];
  const [account] = await j.ctx.db.query<{ id: string }>(
    `SELECT u.id FROM app_user u JOIN app_user home ON home.id = u.person_id WHERE lower(home.email) = 'grace@operator.example' AND u.organisation_id = $1`,
    [DEMO_SYSTEM_OPERATOR.id],
  );
  expect(held.map((q) => [q.productId, q.outcome, q.validFrom, q.validTo, q.reference, q.notes, q.systemOperatorId, q.current])).toEqual([
    ['NESO-DFS', 'FAILED', new Date(from).toISOString(), null, body.reference, body.notes, DEMO_SYSTEM_OPERATOR.id, true],
  ]);
  expect(held[0].recordedBy).toContain(account.id);
  const records = `Qualifications of Console unit`;
  await page.getByRole('table', { name: records }).waitFor({ timeout: 30_000 });
  expect(await rowsOf(page, records)).toEqual(
    held.map((q) => [
      q.productId,
      q.outcome,
      instant(q.validFrom),
      'open',
      'failed',
      q.reference,
      q.notes,
      q.systemOperatorId,
      instant(q.recordedAt),
    ]),
  );
  await expect
    .poll(async () => nowOf(await rowsOf(page, 'Market units for your products'), 'Console unit'), { timeout: 30_000 })
    .toBe('failed');
  await accessible(page, 'a qualification recorded');
  if (shots) await page.screenshot({ path: `${shots}/console-qualify.png`, fullPage: true });

  // The demo unit re-assessed: qualified for a year, which supersedes its record and clears the re-assessment.
  const [earlier] = (await so('GET', `/market-units/${demo.id}/qualifications`)).json.items as { id: string }[];
  const until = new Date(Date.parse(from) + 365 * 86_400_000).toISOString().slice(0, 19) + 'Z';
  await page.getByRole('button', { name: `Record an outcome for ${demo.name}` }).click();
  const again = page.getByRole('form', { name: `Record an outcome for ${demo.name}` });
  await again.getByLabel('Valid from').fill(from);
  await again.getByLabel('Valid to (optional)').fill(until);
  await again.getByLabel('Your reference (optional)').fill('CONSOLE-QUAL-2');
  await again.getByRole('button', { name: 'Record', exact: true }).click();
  await page
    .getByText(
      `Recorded: ${demo.name} qualified for NESO-DFS, valid from ${instant(from)} to ${instant(until)}; it supersedes record ${earlier.id}; re-assessment cleared.`,
    )
    .waitFor({ timeout: 30_000 });
  const after = (await so('GET', `/market-units/${demo.id}`)).json;
  expect([after.reassessmentRequired, after.qualifications.map((q: any) => [q.productId, q.outcome, q.validTo])]).toEqual([
    false,
    [['NESO-DFS', 'QUALIFIED', new Date(until).toISOString()]],
  ]);
  await expect
    .poll(async () => nowOf(await rowsOf(page, 'Market units for your products'), demo.name), { timeout: 30_000 })
    .toBe('qualified, active');
  console.log(`[console] a System Operator's qualification recorded: ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
