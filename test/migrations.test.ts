import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadMigrations } from '../src/storage/load-migrations';
import { checksum, migrate, MigrationChanged } from '../src/storage/migrate';
import { testDb } from './harness';

/** Migrations only move forward: released files never change, each runs in its own transaction, start-up stops on a changed one. */

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The hub's migrations and the identity library's own, each folder with its list of released checksums. */
const folders = [
  { dir: join(root, 'src/storage/migrations'), list: join(root, 'src/storage/released-migrations.sha256') },
  { dir: join(root, 'identity/migrations'), list: join(root, 'identity/released-migrations.sha256') },
];
const releasedIn = (list: string) =>
  new Map(
    readFileSync(list, 'utf8')
      .trim()
      .split('\n')
      .map((l) => {
        const [sum, file] = l.split(/\s+\*?/);
        return [file, sum] as const;
      }),
  );

describe('migrations', () => {
  it('no released migration file has changed, and every migration is recorded as released', async () => {
    for (const { dir, list } of folders) {
      const released = releasedIn(list);
      const files = readdirSync(dir)
        .filter((f) => f.endsWith('.sql'))
        .sort();
      const changed: string[] = [];
      for (const f of files) {
        const sum = await checksum(readFileSync(join(dir, f), 'utf8'));
        if (released.has(f) && released.get(f) !== sum) changed.push(`${f}: released ${released.get(f)}, now ${sum}`);
      }
      // A released migration is never edited: put the change in a new file.
      expect(changed).toEqual([]);
      // A new migration is recorded once it is final: (cd <its folder> && sha256sum NNN_name.sql) >> <the folder's list>
      expect(files.filter((f) => !released.has(f))).toEqual([]);
      expect([...released.keys()].filter((f) => !files.includes(f))).toEqual([]);
    }
  });

  it('records each migration with its checksum; a changed applied migration stops start-up; a failing one keeps those before it', async () => {
    const { db, drop } = await testDb();
    try {
      const all = loadMigrations();
      const now = () => new Date('2026-06-01T00:00:00Z');
      expect(await migrate(db, all, now)).toEqual(all.map((m) => m.version));
      const rows = await db.query<{ version: string; checksum: string }>(`SELECT version, checksum FROM schema_migration ORDER BY version`);
      expect(rows.map((r) => r.checksum)).toEqual(await Promise.all(all.map((m) => checksum(m.sql))));
      expect(await migrate(db, all, now)).toEqual([]);

      const edited = all.map((m, i) => (i === 0 ? { ...m, sql: `${m.sql}\n-- edited after release\n` } : m));
      const err = await migrate(db, edited, now).catch((e) => e);
      expect(err).toBeInstanceOf(MigrationChanged);
      expect((err as Error).message).toMatch(
        new RegExp(
          `^migration ${all[0].version} was changed after it was applied to this database .*restore the file and put the change in a new migration\\.$`,
        ),
      );

      // Two new migrations, the second failing: the first stays applied, the second leaves nothing behind.
      const more = [
        ...all,
        { version: '999_a', sql: 'CREATE TABLE migration_probe_a (x int);' },
        { version: '999_b', sql: 'CREATE TABLE migration_probe_b (x int);\nSELECT no_such_function();' },
      ];
      await expect(migrate(db, more, now)).rejects.toThrow(/no_such_function/);
      expect((await db.query(`SELECT version FROM schema_migration WHERE version LIKE '999_%'`)).map((r) => r.version)).toEqual(['999_a']);
      expect(
        (await db.query(`SELECT to_regclass('migration_probe_a') IS NOT NULL AS a, to_regclass('migration_probe_b') IS NOT NULL AS b`))[0],
      ).toEqual({ a: true, b: false });
    } finally {
      await db.close();
      await drop();
    }
  });

  it('a database migrated before checksums were kept gets them recorded, not refused', async () => {
    const { db, drop } = await testDb();
    try {
      const all = loadMigrations();
      await migrate(db, all, () => new Date());
      await db.query(`UPDATE schema_migration SET checksum = NULL`);
      expect(await migrate(db, all, () => new Date())).toEqual([]);
      expect((await db.query(`SELECT count(*)::int AS n FROM schema_migration WHERE checksum IS NULL`))[0].n).toBe(0);
    } finally {
      await db.close();
      await drop();
    }
  });
});
