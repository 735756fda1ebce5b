import type { Db } from './db';

export interface Migration {
  version: string;
  sql: string;
}

/** A migration that was applied to this database has changed since: start-up stops. */
export class MigrationChanged extends Error {
  constructor(
    readonly version: string,
    readonly recorded: string,
    readonly current: string,
  ) {
    super(
      `migration ${version} was changed after it was applied to this database (applied sha256 ${recorded.slice(0, 12)}…, file now ${current.slice(0, 12)}…). A released migration never changes: restore the file and put the change in a new migration.`,
    );
  }
}

const LOCK = 775101;

/** Hex SHA-256 of a migration's text (Web Crypto: no Node import). */
export async function checksum(sql: string): Promise<string> {
  const d = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(sql));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Apply pending migrations in version order, each in its own transaction under an advisory lock
 * (two starting instances never race; a failed migration leaves the ones before it applied). Each
 * is recorded in schema_migration with its checksum; an applied migration whose file has changed
 * stops start-up (MigrationChanged). Rows from before checksums were kept get the current file's.
 */
export async function migrate(db: Db, migrations: Migration[], now: () => Date): Promise<string[]> {
  await db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(${LOCK})`);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migration (version text PRIMARY KEY, applied_at timestamptz NOT NULL)`);
    await tx.query(`ALTER TABLE schema_migration ADD COLUMN IF NOT EXISTS checksum text`);
  });
  const ordered = [...migrations].sort((a, b) => a.version.localeCompare(b.version));
  const sums = new Map(await Promise.all(ordered.map(async (m) => [m.version, await checksum(m.sql)] as const)));
  const recorded = await db.query<{ version: string; checksum: string | null }>(`SELECT version, checksum FROM schema_migration`);
  for (const r of recorded) {
    const current = sums.get(r.version);
    if (current === undefined) continue; // applied by a newer release than this code
    if (r.checksum === null)
      await db.query(`UPDATE schema_migration SET checksum = $2 WHERE version = $1 AND checksum IS NULL`, [r.version, current]);
    else if (r.checksum !== current) throw new MigrationChanged(r.version, r.checksum, current);
  }
  const done = new Set(recorded.map((r) => r.version));
  const applied: string[] = [];
  for (const m of ordered) {
    if (done.has(m.version)) continue;
    const ran = await db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(${LOCK})`);
      // Another instance may have applied it while this one waited for the lock.
      if ((await tx.query(`SELECT 1 FROM schema_migration WHERE version = $1`, [m.version])).length) return false;
      for (const statement of splitSql(m.sql)) await tx.query(statement);
      await tx.query(`INSERT INTO schema_migration (version, applied_at, checksum) VALUES ($1, $2::timestamptz, $3)`, [
        m.version,
        now().toISOString(),
        sums.get(m.version),
      ]);
      return true;
    });
    if (ran) applied.push(m.version);
  }
  return applied;
}

/** Split a migration into statements (prepared statements take one at a time), keeping $$ bodies whole. */
export function splitSql(sql: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inDollar = false;
  for (const line of sql.split('\n')) {
    const trimmed = line.replace(/--.*$/, '');
    if ((trimmed.match(/\$\$/g) ?? []).length % 2 === 1) inDollar = !inDollar;
    cur += line + '\n';
    if (!inDollar && trimmed.trimEnd().endsWith(';')) {
      if (cur.trim()) out.push(cur.trim());
      cur = '';
    }
  }
  if (cur.trim()) out.push(cur.trim());
  return out.filter((s) => s.replace(/--.*$/gm, '').trim().length > 0);
}
