import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvRecords } from '../src/assets/csv';
import { importFile, localSubmitter, type ImportFileOptions } from '../src/assets/import-file';
import { DEMO, batteryInput, mpanFor, rowCounts, testHub, type TestHub } from './harness';

let hub: TestHub;
let dir: string;
beforeAll(async () => {
  hub = await testHub();
  dir = mkdtempSync(join(tmpdir(), 'fmar-import-'));
});
afterAll(async () => {
  await hub?.close();
  rmSync(dir, { recursive: true, force: true });
});

const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const ndjson = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
const opts = (o: Partial<ImportFileOptions> = {}): ImportFileOptions => ({
  batch: 2,
  dryRun: false,
  onError: 'stop',
  organisation: DEMO['fsp-a'],
  ...o,
});
/** `fmar import` in process, as the CLI's actor, collecting what it reports per row. */
async function run(path: string, o: Partial<ImportFileOptions> = {}, h: TestHub = hub) {
  const printed: string[] = [];
  const out = await importFile(path, localSubmitter(h.ctx, h.system), opts(o), {
    rejected: (r) => printed.push(`${r.row} ${r.errors!.map((e) => e.code).join(',')}`),
  });
  return { ...out, printed };
}

const HEADER = [
  'name',
  'category',
  'ratedCapacityKw',
  'connectionStatus',
  'commissioningDate',
  'dno',
  'importMpan',
  'serialNumber',
  'model',
];
const csvRow = (n: number, over: Partial<Record<string, string>> = {}) =>
  HEADER.map(
    (h) =>
      over[h] ??
      (
        {
          name: `Csv ${n}`,
          category: 'BESS',
          ratedCapacityKw: '5',
          connectionStatus: 'CONNECTED',
          commissioningDate: '2025-01-01',
          dno: 'SPEN_SPM',
          importMpan: mpanFor(6_000 + n),
          serialNumber: `CSV-${n}`,
          model: 'M',
        } as Record<string, string>
      )[h],
  );
const csvText = (rows: string[][]) =>
  [HEADER, ...rows].map((r) => r.map((c) => (/[",\r\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(',')).join('\r\n') + '\r\n';

describe('fmar import (in process)', () => {
  // Line 1 header; row 1 on lines 2–3 (a quoted newline); then one row a line, batches of two rows.
  const rows = [
    csvRow(1, { model: 'two\nlines' }),
    csvRow(2),
    csvRow(3, { ratedCapacityKw: '-1' }),
    csvRow(4),
    csvRow(5, { importMpan: mpanFor(6_002), serialNumber: 'CSV-2' }),
    csvRow(6),
  ];
  const text = csvText(rows);

  it('a dry run checks every batch and reports every error by file line, as the bulk API numbers them; nothing is written', async () => {
    const path = file('dry.csv', text);
    const before = await rowCounts(hub.db);
    const out = await run(path, { dryRun: true, rejects: join(dir, 'dry-rejects.csv') });
    // Row 5 repeats row 2 (another batch): the in-file duplicate names line 4.
    expect(out.printed).toEqual(['5 ASSET-CAPACITY-RATED', '7 BULK-DUPLICATE-IN-BATCH']);
    expect(out).toMatchObject({
      total: 6,
      valid: 4,
      rejected: 2,
      registered: 0,
      byRule: { 'ASSET-CAPACITY-RATED': 1, 'BULK-DUPLICATE-IN-BATCH': 1 },
    });
    expect(out.stoppedAt).toBeUndefined();
    expect(await rowCounts(hub.db)).toEqual(before);
    const rejects = readFileSync(join(dir, 'dry-rejects.csv'), 'utf8');
    const parsed = csvRecords(rejects);
    expect(parsed.header).toEqual([...HEADER, '_row', '_errors']);
    expect(parsed.records.map((r) => [r.cells.slice(0, HEADER.length), r.cells[HEADER.length]])).toEqual([
      [rows[2], '5'],
      [rows[4], '7'],
    ]);
    expect(parsed.records[1].cells[HEADER.length + 1]).toBe('BULK-DUPLICATE-IN-BATCH importMpan: Same importMpan as row 4.');

    // The API numbers the same file's rows the same way (within one request, the duplicate too).
    const api = await hub.call('POST', '/api/v1/assets/bulk?dryRun=true', { as: 'fsp-a', text, contentType: 'text/csv' });
    expect(api.json.results.map((r: any) => `${r.row} ${r.errors.map((e: any) => e.code).join(',')}`)).toEqual(out.printed);
  });

  it('onError=stop: the batches before the bad one are registered, then it stops; a re-run after the fix resumes', async () => {
    const path = file('stop.csv', text);
    const before = await rowCounts(hub.db);
    const out = await run(path);
    expect(out.stoppedAt).toEqual({ from: 5, to: 6 });
    expect(out).toMatchObject({ total: 4, registered: 2, rejected: 1 });
    expect((await rowCounts(hub.db)).asset - before.asset).toBe(2);

    const fixed = file('stop-fixed.csv', csvText([rows[0], rows[1], csvRow(3), rows[3], csvRow(5), rows[5]]));
    const again = await run(fixed);
    expect(again).toMatchObject({ total: 6, existing: 2, registered: 4, rejected: 0 });
    expect(again.stoppedAt).toBeUndefined();
    expect((await rowCounts(hub.db)).asset - before.asset).toBe(6);
  });

  it('onError=skip with --rejects: valid rows land; the rejects file, fixed in place, imports as it is', async () => {
    const rows2 = [batteryInput(6_100), { ...batteryInput(6_101), ratedCapacityKw: 0 }, 'not an object', batteryInput(6_103)];
    const path = file('skip.ndjson', ndjson(rows2).replace('"not an object"', '{"broken": '));
    const rejects = join(dir, 'skip-rejects.ndjson');
    const before = await rowCounts(hub.db);
    const out = await run(path, { onError: 'skip', rejects });
    expect(out.printed).toEqual(['2 ASSET-CAPACITY-RATED', '3 REQUEST-MALFORMED-JSON']);
    expect(out).toMatchObject({ registered: 2, rejected: 2 });
    expect((await rowCounts(hub.db)).asset - before.asset).toBe(2);
    const lines = readFileSync(rejects, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    // As written (no organisation added), with the line and errors added.
    expect(lines[0]).toEqual({
      ...(rows2[1] as object),
      _row: 2,
      _errors: [expect.objectContaining({ field: 'ratedCapacityKw', code: 'ASSET-CAPACITY-RATED' })],
    });
    expect(lines[1]).toEqual({ _row: 3, _errors: [expect.objectContaining({ code: 'REQUEST-MALFORMED-JSON' })], _text: '{"broken":' }); // trimmed

    // Fix the first in the rejects file, drop the unreadable one, and import the file as it is.
    writeFileSync(rejects, JSON.stringify({ ...lines[0], ratedCapacityKw: 4 }) + '\n');
    const again = await run(rejects, { onError: 'skip' });
    expect(again).toMatchObject({ registered: 1, rejected: 0 });
  });

  it('an NDJSON export imports back: a resume into the same hub, a registration into an empty one', async () => {
    const exp = await hub.call('GET', `/api/v1/assets/export?organisationId=${DEMO['fsp-a']}`, { as: 'operator' });
    const path = file('export.ndjson', exp.text);
    const count = exp.text.trim().split('\n').length;
    expect(count).toBeGreaterThan(10);
    const before = await rowCounts(hub.db);
    const same = await run(path, { batch: 4 });
    expect(same).toMatchObject({ total: count, existing: count, registered: 0, rejected: 0 });
    expect(await rowCounts(hub.db)).toEqual(before);

    const fresh = await testHub({ seed: true });
    try {
      // A new hub has the demo organisations and its own registration of the demo assets: those are existing, the rest register.
      const [{ n: demo }] = await fresh.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM asset WHERE organisation_id = $1`, [
        DEMO['fsp-a'],
      ]);
      const out = await run(path, { batch: 4 }, fresh);
      expect(out).toMatchObject({ total: count, existing: demo, registered: count - demo, rejected: 0 });
    } finally {
      await fresh.close();
    }
  });
});

describe('fmar import (the command, in a child process)', () => {
  it('exit code 1 with rejects, the summary on stdout, the rejects file in the input format; no DATABASE_URL: the embedded database', async () => {
    const data = join(dir, 'data');
    const env = { ...process.env, FMAR_DATA_DIR: data, DATABASE_URL: '' };
    delete (env as Record<string, string | undefined>).DATABASE_URL;
    const cli = (args: string[]) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { env, cwd: process.cwd() }).then(
        (r) => ({ code: 0, ...r }),
        (e) => ({ code: e.code as number, stdout: e.stdout as string, stderr: e.stderr as string }),
      );
    expect((await cli(['seed'])).code).toBe(0);
    const path = file('child.csv', csvText([csvRow(11), csvRow(12, { category: 'NUCLEAR' }), csvRow(13)]));
    const rejects = join(dir, 'child-rejects.csv');
    const r = await cli(['import', path, '--organisation', DEMO['fsp-a'], '--on-error', 'skip', '--rejects', rejects]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('3 row(s): 2 registered, 0 already registered, 1 rejected.');
    expect(r.stderr).toContain('row 3: ASSET-CATEGORY-UNKNOWN');
    const parsed = csvRecords(readFileSync(rejects, 'utf8'));
    expect(parsed.header).toEqual([...HEADER, '_row', '_errors']);
    expect(parsed.records.map((x) => x.cells.slice(0, HEADER.length + 1))).toEqual([[...csvRow(12, { category: 'NUCLEAR' }), '3']]);
    expect(parsed.records[0].cells[HEADER.length + 1]).toMatch(/^ASSET-CATEGORY-UNKNOWN category: /);
    // A command missing its argument says what to give, before it opens anything.
    const token = await cli(['token']);
    expect([token.code, token.stdout, token.stderr.trim()]).toEqual([
      2,
      '',
      'fmar: name the organisation: `fmar token ORG` (its ID, or a demo key such as fsp-a, dno, operator)',
    ]);
  }, 180_000);
});
