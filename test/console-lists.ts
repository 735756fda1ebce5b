import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import type { Page } from 'playwright-core';
import type { Journey } from './console-fsp';

/**
 * Steps of the console's browser journeys (test/console.test.ts): lists read past their first page
 * with the API's cursors ("More"), the Switches list within a 1280-pixel window, and a dispute's
 * comments and evidence given by an organisation's person. Each checks what the person sees and what
 * the API then holds.
 */

const seconds = (started: number) => ((Date.now() - started) / 1000).toFixed(1);

/** The Switches list at 1280 × 800: no sideways scroll of the page (its table scrolls in its own box), and the menu still answers. */
export async function switchesFit(j: Journey) {
  const { page, accessible } = j;
  const started = Date.now();
  const before = page.viewportSize();
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.getByRole('menuitem', { name: 'Switches' }).click();
  const box = page.getByRole('region', { name: 'Switches of the organisation' });
  await box.locator('table tbody tr').first().waitFor({ timeout: 30_000 });
  const widths = await page.evaluate(() => {
    const region = document.querySelector('[aria-label="Switches of the organisation"]')!;
    return {
      page: [document.documentElement.scrollWidth, document.documentElement.clientWidth],
      table: [region.querySelector('table')!.scrollWidth, region.clientWidth],
    };
  });
  expect(widths.page[0], `the page is ${widths.page[0]} px wide in a ${widths.page[1]} px window`).toBeLessThanOrEqual(widths.page[1]);
  // The table is the wider part: it scrolls inside its box, which a keyboard can focus (axe: scrollable-region-focusable).
  expect(widths.table[0]).toBeGreaterThan(widths.table[1]);
  await accessible(page, 'switches at 1280 x 800');
  // Scrolled as far sideways as it goes, the menu still takes the click (the next step opens Market units through it).
  await page.evaluate(() => window.scrollTo(10_000, 0));
  expect(await page.evaluate(() => window.scrollX)).toBe(0);
  if (before) await page.setViewportSize(before);
  console.log(`[console] the Switches list within 1280 px: ${seconds(started)} s`);
}

/** The VEN ID and name column of a table's rows. */
async function column(page: Page, table: string, at: number) {
  return (await page.getByRole('table', { name: table }).locator('tbody tr').allInnerTexts()).map((r) => r.split('\t')[at]);
}

/**
 * VEN registrations past the first 100: 105 registered through the API, the first 100 shown, "More"
 * brings the last 5; every registration the API lists is shown once, in the API's order, the last one included.
 */
export async function venRegistrationsMore(j: Journey) {
  const { page, call, accessible, shots } = j;
  const started = Date.now();
  const vtn = await call('operator', 'POST', '/vtns', {
    code: 'LIST',
    name: 'List VTN',
    protocol: '3.0',
    baseUrl: 'https://vtn.list.example',
  });
  expect(vtn.status).toBe(201);
  const n = 105;
  for (let at = 0; at < n; at += 15) {
    const batch = Array.from({ length: Math.min(15, n - at) }, (_, k) => at + k + 1);
    const made = await Promise.all(
      batch.map((i) => call('fsp-a', 'POST', '/ven-registrations', { vtn: vtn.json.id, venId: `list-ven-${i}`, venName: `List VEN ${i}` })),
    );
    expect(made.map((m) => m.status)).toEqual(batch.map(() => 201));
  }
  const held: string[] = [];
  for (let cursor: string | null = ''; cursor !== null;) {
    const pageOf: { items: { venId: string }[]; nextCursor: string | null } = (
      await call('fsp-a', 'GET', `/ven-registrations?status=ACTIVE&limit=40${cursor ? `&cursor=${cursor}` : ''}`)
    ).json;
    held.push(...(pageOf.items as { venId: string }[]).map((r) => r.venId));
    cursor = pageOf.nextCursor;
  }
  expect(held).toHaveLength(n);

  await page.getByRole('menuitem', { name: 'VEN registrations' }).click();
  const shownFirst = page.getByText('100 VEN registrations shown, more to come.');
  await shownFirst.waitFor({ timeout: 30_000 });
  expect(await column(page, 'VEN registrations of the organisation', 2)).toEqual(held.slice(0, 100));
  await accessible(page, 'VEN registrations, the first 100');
  await page.getByRole('button', { name: 'More VEN registrations' }).click();
  const shownAll = page.getByText(`${n} VEN registrations shown, all of them.`);
  await shownAll.waitFor({ timeout: 30_000 });
  const rows = await column(page, 'VEN registrations of the organisation', 2);
  expect(rows).toEqual(held);
  expect(new Set(rows).size).toBe(rows.length);
  expect(rows.at(-1)).toBe(held.at(-1));
  expect(await page.getByRole('button', { name: 'More VEN registrations' }).count()).toBe(0);
  await accessible(page, 'VEN registrations, all of them');
  // A change after "More" reads the pages shown again: the last row stays in view, suspended now.
  const last = `List VEN ${n}`;
  await page.getByRole('button', { name: `Suspend ${last} on LIST` }).click();
  await page.getByText(`${last} on LIST is suspended.`).waitFor({ timeout: 30_000 });
  await page.getByText(`${n - 1} VEN registrations shown, all of them.`).waitFor({ timeout: 30_000 });
  const suspended = (await call('fsp-a', 'GET', '/ven-registrations?status=SUSPENDED')).json.items as { venId: string }[];
  expect(suspended.map((r) => r.venId)).toEqual([`list-ven-${n}`]);
  await shownAll.or(page.getByText(`${n - 1} VEN registrations shown, all of them.`)).scrollIntoViewIfNeeded();
  if (shots) await page.screenshot({ path: `${shots}/console-lists-more.png` });
  console.log(`[console] ${n} VEN registrations, the last reached with More: ${seconds(started)} s`);
}

/** What the console shows of a comment's file: its name, type and size, and its SHA-256 fingerprint. */
const fileShown = (d: { name: string; mediaType: string; sizeBytes: number; sha256: string }) =>
  `${d.name} (${d.mediaType}, ${d.sizeBytes} bytes), SHA-256 ${d.sha256}`;

/**
 * A dispute on the FSP's asset, raised by the operator: the FSP's person opens it, sees the evidence
 * sent with it, and adds a comment with a file's fingerprint (computed in the browser; the file is
 * not sent). The API holds the comment with the same fingerprint, by the FSP.
 */
export async function fspDisputeComment(j: Journey, asset: { id: string; fspId: string }) {
  const { page, call, accessible, shots } = j;
  const started = Date.now();
  const raised = await call('operator', 'POST', '/disputes', {
    recordType: 'asset',
    recordId: asset.id,
    fields: ['name'],
    claim: { summary: 'The installer’s certificate names it differently.' },
    evidence: [{ description: 'Installer’s certificate', url: 'https://evidence.example.com/certificate.pdf' }],
  });
  expect([raised.status, raised.json.status]).toEqual([201, 'OPEN']);
  await page.getByRole('menuitem', { name: 'Disputes' }).click();
  await page.getByRole('cell', { name: 'The installer’s certificate names it differently.' }).click({ timeout: 30_000 });
  const sent = page.getByRole('list', { name: 'Evidence sent with the dispute' });
  await sent.waitFor({ timeout: 30_000 });
  expect(await sent.locator('li').allInnerTexts()).toEqual(['Installer’s certificate: https://evidence.example.com/certificate.pdf']);
  await page.getByText('No comments yet.').waitFor();
  expect(await page.getByRole('button', { name: 'Take under review' }).count()).toBe(0); // the operator's step, not the FSP's

  const file = Buffer.from('Commissioning sheet: Console battery, 5 kW.\n');
  await page.getByRole('textbox', { name: /^Comment/ }).fill('Our commissioning sheet gives the name we registered.');
  await page.getByLabel(/^What shows it/).fill('Commissioning sheet');
  await page.getByLabel(/^A file/).setInputFiles({ name: 'commissioning.txt', mimeType: 'text/plain', buffer: file });
  // The link is disabled once the browser has computed the file's fingerprint (asynchronously).
  await expect.poll(() => page.getByLabel(/^A link to it/).isDisabled(), { timeout: 10_000 }).toBe(true);
  await page.getByRole('button', { name: 'Add the comment' }).click();
  await page.getByText('Your comment is added with 1 piece of evidence.').waitFor({ timeout: 30_000 });

  const held = (await call('fsp-a', 'GET', `/disputes/${raised.json.id}`)).json as {
    comments: { organisationId: string; body: string; evidence: { description: string; document: any }[] }[];
  };
  const document = {
    name: 'commissioning.txt',
    sha256: createHash('sha256').update(file).digest('hex'),
    mediaType: 'text/plain',
    sizeBytes: file.length,
  };
  expect(held.comments.map((c) => [c.organisationId, c.body, c.evidence])).toEqual([
    [asset.fspId, 'Our commissioning sheet gives the name we registered.', [{ description: 'Commissioning sheet', document }]],
  ]);
  const comments = page.getByRole('list', { name: 'Comments on the dispute' });
  await comments.waitFor({ timeout: 30_000 });
  const withComment = comments.getByRole('list', { name: /^Evidence with the comment of / });
  await expect(withComment.locator('li').innerText()).resolves.toBe(`Commissioning sheet: ${fileShown(document)}`);
  await expect(page.getByRole('textbox', { name: /^Comment/ }).inputValue()).resolves.toBe('');
  await accessible(page, 'a dispute, commented by the FSP');
  if (shots) await page.screenshot({ path: `${shots}/console-dispute-comment.png`, fullPage: true });
  console.log(`[console] the FSP's comment with a file's fingerprint: ${seconds(started)} s`);
}

/** The operator, on a dispute's page under review, adds a comment with a link; the API holds it, by the operator. */
export async function operatorDisputeComment(j: Journey, dispute: { id: string; operatorId: string }) {
  const { page, call } = j;
  const before = (await call('operator', 'GET', `/disputes/${dispute.id}`)).json.comments.length as number;
  await page.getByRole('textbox', { name: /^Comment/ }).fill('Asked the DNO for the connection agreement.');
  await page.getByLabel(/^What shows it/).fill('Connection agreement');
  await page.getByLabel(/^A link to it/).fill('https://evidence.example.com/agreement.pdf');
  await page.getByRole('button', { name: 'Add the comment' }).click();
  await page.getByText('Your comment is added with 1 piece of evidence.').waitFor({ timeout: 30_000 });
  const held = (await call('operator', 'GET', `/disputes/${dispute.id}`)).json.comments as {
    organisationId: string;
    body: string;
    evidence: unknown[];
  }[];
  expect(held).toHaveLength(before + 1);
  expect([held.at(-1)!.organisationId, held.at(-1)!.body, held.at(-1)!.evidence]).toEqual([
    dispute.operatorId,
    'Asked the DNO for the connection agreement.',
    [{ description: 'Connection agreement', url: 'https://evidence.example.com/agreement.pdf' }],
  ]);
  const shown = page.getByRole('list', { name: 'Comments on the dispute' }).locator(':scope > li').last();
  await expect(shown.innerText()).resolves.toContain(`${dispute.operatorId}: Asked the DNO for the connection agreement.`);
  await expect(shown.getByRole('list').locator('li').innerText()).resolves.toBe(
    'Connection agreement: https://evidence.example.com/agreement.pdf',
  );
}

/**
 * A VEN's assets on the VEN screen: without resources it stands for every asset of its FSP (as the
 * API lists them); the FSP binds one by MPAN, then removes it, each checked against the API.
 */
export async function venResources(j: Journey, asset: { id: string; mpan: string }) {
  const { page, call, accessible, shots } = j;
  const started = Date.now();
  const reg = ((await call('fsp-a', 'GET', '/ven-registrations?status=ACTIVE&limit=1')).json.items as { id: string; venName: string }[])[0];
  const path = `/ven-registrations/${reg.id}/resources`;
  const every = (await call('fsp-a', 'GET', `${path}?limit=1000`)).json as { standsFor: string; items: { assetId: string }[] };
  expect(every.standsFor).toBe('EVERY_ASSET');
  const title = `Assets ${reg.venName} on LIST stands for`;
  await page.getByRole('button', { name: `Assets of ${reg.venName} on LIST` }).click();
  const table = page.getByRole('table', { name: title });
  await page.getByText(/^It stands for every live asset its organisation controls/).waitFor({ timeout: 30_000 });
  expect(await column(page, title, 5)).toEqual(every.items.map((a) => a.assetId));
  await accessible(page, "a VEN's assets, every asset of its FSP");

  await page.getByLabel(/^Asset to bind/).fill(`mpan:${asset.mpan}`);
  await page.getByRole('button', { name: 'Bind', exact: true }).click();
  await page.getByText(/^It stands for its resources/).waitFor({ timeout: 30_000 });
  const held = (await call('fsp-a', 'GET', path)).json as { standsFor: string; items: { assetId: string; resourceName: string }[] };
  expect([held.standsFor, held.items.map((r) => [r.assetId, r.resourceName])]).toEqual(['RESOURCES', [[asset.id, asset.id]]]);
  expect((await table.locator('tbody tr').allInnerTexts()).map((r) => r.split('\t')[5])).toEqual([asset.id]);
  await page
    .getByRole('status')
    .filter({ hasText: `is a resource of ${reg.venName} on LIST, named ${asset.id}.` })
    .waitFor();
  await accessible(page, "a VEN's assets, one bound");
  if (shots) await page.getByRole('region', { name: title, exact: true }).screenshot({ path: `${shots}/console-ven-resources.png` });

  const name = (await table.locator('tbody tr td').first().innerText()).trim();
  await page.getByRole('button', { name: `Remove ${name} from ${reg.venName}` }).click();
  await page.getByText(/^It stands for every live asset its organisation controls/).waitFor({ timeout: 30_000 });
  expect((await call('fsp-a', 'GET', path)).json.standsFor).toBe('EVERY_ASSET');
  console.log(`[console] a VEN's assets, one bound and removed: ${seconds(started)} s`);
}
