import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openDb } from '../src/node/setup';
import { postgresDb } from '../src/storage/postgres';
import { DEMO, mpanFor } from './harness';

/**
 * Backups restore (docs/operations.md, "Backups and restore"), done as the document says with the
 * real tools: a populated register is backed up, restored into a fresh place, and `fmar audit verify`
 * on the restore passes with the same head (seq and hash) as on the original, holding the same assets.
 * PostgreSQL: pg_dump (custom format) and pg_restore, in the PostgreSQL run of the suite. The embedded
 * database: a copy of the stopped hub's folder, in the PGlite run.
 */

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(join(tmpdir(), 'fmar-restore-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fmar(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((ok) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: root, env });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => ok({ code, stdout, stderr }));
  });
}

/** The head `fmar audit verify` printed: "Head: seq N sha256 H." */
function head(out: string): { seq: number; hash: string } {
  const m = /^audit chain intact: (\d+) record\(s\) verified .* Head: seq (\d+) sha256 ([0-9a-f]{64})\.$/m.exec(out);
  expect(m, out).not.toBeNull();
  expect(m![1]).toBe(m![2]); // every sealed record verified, the head is the last of them
  return { seq: Number(m![2]), hash: m![3] };
}

const ROWS = 40;
/** Register ROWS assets with the CLI (each an audited change), then seal and verify. */
async function populate(env: NodeJS.ProcessEnv) {
  const seeded = await fmar(['seed'], env); // migrates, then loads the demo organisations and assets
  expect(seeded.code, seeded.stderr).toBe(0);
  const rows = Array.from({ length: ROWS }, (_, i) =>
    JSON.stringify({
      name: `Restore battery ${i}`,
      category: 'BESS',
      ratedCapacityKw: 5,
      connectionStatus: 'CONNECTED',
      commissioningDate: '2025-01-01',
      dno: 'NGED_WMID',
      importMpan: mpanFor(4_000_000 + i, '14'),
      serialNumber: `RESTORE-${i}`,
    }),
  );
  const file = join(dir, 'rows.ndjson');
  writeFileSync(file, rows.join('\n') + '\n');
  const imp = await fmar(['import', file, '--organisation', DEMO['fsp-a']], env);
  expect(imp.code, imp.stderr).toBe(0);
  const verified = await fmar(['audit', 'verify'], env);
  expect(verified.code, verified.stderr).toBe(0);
  return head(verified.stdout);
}

/** The register's assets (ID, version, name), read from the database with no hub running. */
async function assets(env: NodeJS.ProcessEnv): Promise<string[]> {
  const db = await openDb({ databaseUrl: env.DATABASE_URL, dataDir: env.FMAR_DATA_DIR ?? '' });
  try {
    return (await db.query<{ a: string }>(`SELECT id || ' v' || version || ' ' || name AS a FROM asset ORDER BY id`)).map((r) => r.a);
  } finally {
    await db.close();
  }
}

describe.runIf(!!process.env.DATABASE_URL)('PostgreSQL: pg_dump and pg_restore', () => {
  it('restores a populated register into a fresh database: the same assets, and the audit chain verifies with the same head', async () => {
    const server = new URL(process.env.DATABASE_URL!);
    const bin = readdirSync('/usr/lib/postgresql')
      .sort((a, b) => Number(a) - Number(b))
      .map((v) => `/usr/lib/postgresql/${v}/bin`)
      .at(-1)!;
    const suffix = Date.now().toString(36);
    const names = { original: `fmar_backup_${suffix}`, restored: `fmar_restored_${suffix}` };
    const admin = postgresDb(server.toString(), { max: 1 });
    const urlOf = (db: string) => Object.assign(new URL(server.toString()), { pathname: `/${db}` }).toString();
    const env = (db: string): NodeJS.ProcessEnv => ({ ...process.env, DATABASE_URL: urlOf(db), FMAR_MODE: 'development' });
    try {
      await admin.query(`CREATE DATABASE ${names.original}`);
      const original = await populate(env(names.original));
      expect(original.seq).toBeGreaterThan(ROWS);

      const dump = join(dir, 'register.dump');
      execFileSync(`${bin}/pg_dump`, ['--format=custom', '--no-owner', `--file=${dump}`, urlOf(names.original)]);
      await admin.query(`CREATE DATABASE ${names.restored}`);
      execFileSync(`${bin}/pg_restore`, ['--no-owner', '--exit-on-error', `--dbname=${urlOf(names.restored)}`, dump]);

      const verified = await fmar(['audit', 'verify'], env(names.restored));
      expect(verified.code, verified.stderr).toBe(0);
      expect(head(verified.stdout)).toEqual(original);
      const restoredAssets = await assets(env(names.restored));
      expect(restoredAssets).toEqual(await assets(env(names.original)));
      expect(restoredAssets.filter((l) => l.includes('Restore battery'))).toHaveLength(ROWS);
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${names.original} WITH (FORCE)`);
      await admin.query(`DROP DATABASE IF EXISTS ${names.restored} WITH (FORCE)`);
      await admin.close();
    }
  }, 240_000);
});

describe.skipIf(!!process.env.DATABASE_URL)('the embedded database: a copy of the stopped hub’s folder', () => {
  it('restores the register from the copy: the same assets, and the audit chain verifies with the same head', async () => {
    const env = (folder: string): NodeJS.ProcessEnv => {
      const e: NodeJS.ProcessEnv = { ...process.env, FMAR_DATA_DIR: folder, FMAR_MODE: 'development' };
      delete e.DATABASE_URL;
      return e;
    };
    const folder = join(dir, 'data');
    const original = await populate(env(folder));
    expect(existsSync(join(folder, 'hub.lock'))).toBe(false); // nothing holds the folder: the copy is consistent

    const copy = join(dir, 'restored');
    cpSync(folder, copy, { recursive: true });
    const verified = await fmar(['audit', 'verify'], env(copy));
    expect(verified.code, verified.stderr).toBe(0);
    expect(head(verified.stdout)).toEqual(original);
    const restoredAssets = await assets(env(copy));
    expect(restoredAssets).toEqual(await assets(env(folder)));
    expect(restoredAssets.filter((l) => l.includes('Restore battery'))).toHaveLength(ROWS);
  }, 240_000);
});
