/**
 * Benchmark: how long the console's asset list takes to show its first rows, with a small
 * register (the demo data and 1,000 assets: more than the list's first page) and then with the FSP
 * controlling N assets (default 1,000,000, loaded by SQL), in one run on one PostgreSQL and one hub (`npm start`'s hub: development mode, demo
 * data). Measured in Debian's Chromium (playwright-core), signed in as the demo FSP's person:
 *
 * - cold: `page.goto('/console/#/assets')`, a full load of the console (its script from cache),
 *   the silent sign-in round trip (the provider's session is kept) and the list's first page, until
 *   the first row of the table is visible;
 * - warm: from the dashboard, a click on "Assets" until the first row is visible (the list's API
 *   request and its render only).
 *
 * The same steps before and after the load are the baseline: the report gives medians and the
 * ratio after / before. It also records the API requests the list made and their durations.
 *
 *   npx tsx bench/console-render.ts   (BENCH_ROWS=1000000 BENCH_BASE_ROWS=1000 BENCH_REPS=5 FMAR_PG_PORT=55504 BENCH_HUB_PORT=55514)
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import type { BrowserContext, Page } from 'playwright-core';
import { envInt, fmt, log, machine, median, startHub, startPg, table } from './lib';
import { loadAssets } from './load';

const ROWS = envInt('BENCH_ROWS', 1_000_000);
const REPS = envInt('BENCH_REPS', 5);
/** Assets of the baseline register (more than the list's first page). */
const BASE_ROWS = envInt('BENCH_BASE_ROWS', 1_000);
const PG_PORT = envInt('FMAR_PG_PORT', 55504);
const HUB_PORT = envInt('BENCH_HUB_PORT', 55514);
const CHROMIUM = '/usr/bin/chromium';

interface Sample {
  coldMs: number;
  warmMs: number;
  api: string[];
}

/** A row of the asset list (React-Admin's Datagrid); the dashboard has none. */
const FIRST_ROW = '.RaDatagrid-row';

async function signIn(page: Page, base: string, person: { email: string; password: string }) {
  await page.goto(`${base}/console/`);
  await page.waitForURL(/\/interaction\//, { timeout: 60_000 });
  await page.getByLabel('Email').fill(person.email);
  await page.getByLabel('Password').fill(person.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Allow' }).click({ timeout: 30_000 });
  await page.waitForURL(/\/console\/(#.*)?$/, { timeout: 30_000 });
}

async function measure(page: Page, base: string): Promise<Sample> {
  const api: string[] = [];
  const started = new Map<import('playwright-core').Request, number>();
  const onRequest = (r: import('playwright-core').Request) => {
    if (new URL(r.url()).pathname.startsWith('/api/v1/assets')) started.set(r, performance.now());
  };
  const onFinished = async (r: import('playwright-core').Request) => {
    const t = started.get(r);
    if (t === undefined) return;
    const u = new URL(r.url());
    api.push(`${u.pathname}${u.search} ${(await r.response())?.status()} ${fmt(performance.now() - t)} ms`);
  };
  page.on('request', onRequest);
  page.on('requestfinished', onFinished);
  try {
    // Cold: a full load of the asset list's URL.
    await page.goto('about:blank');
    const t0 = performance.now();
    await page.goto(`${base}/console/#/assets`);
    await page.locator(FIRST_ROW).first().waitFor({ timeout: 120_000 });
    if (!page.url().endsWith('#/assets')) throw new Error(`the deep link was not kept through sign-in: ${page.url()}`);
    const coldMs = performance.now() - t0;
    // Warm: from the dashboard, the menu's "Assets".
    await page.goto(`${base}/console/#/`);
    await page.getByRole('menuitem', { name: 'Assets' }).waitFor({ timeout: 60_000 });
    await page.waitForLoadState('networkidle');
    if ((await page.locator(FIRST_ROW).count()) !== 0) throw new Error('the dashboard shows asset rows: the warm measure would see them');
    const t1 = performance.now();
    await page.getByRole('menuitem', { name: 'Assets' }).click();
    await page.locator(FIRST_ROW).first().waitFor({ timeout: 120_000 });
    const warmMs = performance.now() - t1;
    return { coldMs, warmMs, api };
  } finally {
    page.off('request', onRequest);
    page.off('requestfinished', onFinished);
  }
}

async function main() {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  log(`console render benchmark: ${fmt(BASE_ROWS)} assets, then ${fmt(ROWS)}; ${REPS} repetitions each`);
  const pg = startPg(PG_PORT);
  const sql = postgres(pg.url, { max: 2, onnotice: () => {} });
  const hub = await startHub(pg.url, HUB_PORT);
  const m = /sign in as (\S+), password (.+?)\)/.exec(hub.output());
  if (!m) throw new Error(`the hub printed no console person:\n${hub.output()}`);
  const person = { email: m[1], password: m[2] };
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'fmar-bench-chromium-'));
  let context: BrowserContext | undefined;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      // The console then makes no transitions (layout.tsx): axe reads settled colours.
      reducedMotion: 'reduce',
      viewport: { width: 1280, height: 860 },
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update'],
    });
    const page = await context.newPage();
    await signIn(page, hub.baseUrl, person);
    const org = hub.orgs['fsp-a'];
    const count = async () => (await sql.unsafe(`SELECT count(*)::int AS n FROM asset WHERE fsp_id = $1`, [org]))[0].n as number;

    const runs: Record<'before' | 'after', Sample[]> = { before: [], after: [] };
    // The baseline register already fills the list's first page (25 rows), so both measure the same render.
    await loadAssets(sql, org, 0, BASE_ROWS);
    await sql.unsafe(`VACUUM ANALYZE asset, asset_alias, asset_natural_key`);
    const demo = await count();
    await measure(page, hub.baseUrl); // warm-up: the script into the browser's cache
    for (let i = 0; i < REPS; i++) runs.before.push(await measure(page, hub.baseUrl));
    log(`small register (${fmt(demo)} assets of the FSP): cold ${runs.before.map((s) => fmt(s.coldMs)).join(', ')} ms`);

    const loadS = await loadAssets(sql, org, BASE_ROWS, ROWS, (d) => log(`  ${fmt(d)} rows`));
    await sql.unsafe(`VACUUM ANALYZE asset, asset_alias, asset_natural_key`);
    const loaded = await count();
    log(`loaded ${fmt(ROWS - BASE_ROWS)} more assets in ${fmt(loadS)} s; the FSP controls ${fmt(loaded)}`);
    await measure(page, hub.baseUrl); // the same warm-up after the load
    for (let i = 0; i < REPS; i++) runs.after.push(await measure(page, hub.baseUrl));
    log(`after the load: cold ${runs.after.map((s) => fmt(s.coldMs)).join(', ')} ms`);

    console.log('\n## Console asset list: results\n');
    console.log('machine', JSON.stringify(machine()));
    const row = (what: string, n: number, s: Sample[]) => [
      what,
      fmt(n),
      fmt(median(s.map((x) => x.coldMs))),
      fmt(median(s.map((x) => x.warmMs))),
      `${fmt(Math.min(...s.map((x) => x.coldMs)))}–${fmt(Math.max(...s.map((x) => x.coldMs)))}`,
    ];
    table(
      ['register', 'assets of the FSP', 'cold: load to first row, ms (median)', 'warm: menu to first row, ms (median)', 'cold range, ms'],
      [row('small (baseline)', demo, runs.before), row('large', loaded, runs.after)],
    );
    const ratio = (k: 'coldMs' | 'warmMs') => median(runs.after.map((x) => x[k])) / median(runs.before.map((x) => x[k]));
    console.log(`\nafter / before (medians): cold ${fmt(ratio('coldMs'), 2)}, warm ${fmt(ratio('warmMs'), 2)}`);
    console.log(`\nthe list's API requests (last repetition after the load):\n${runs.after.at(-1)!.api.join('\n')}`);
  } finally {
    await context?.close();
    rmSync(profile, { recursive: true, force: true });
    await hub.stop();
    await sql.end();
    pg.stop();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
