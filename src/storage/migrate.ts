import type { Db } from './db';

export interface Migration { version: string; sql: string }

/**
 * Apply migrations in version order, each in its own transaction, recording them in
 * schema_migration. An advisory lock keeps two starting instances from racing.
 */
export async function migrate(db: Db, migrations: Migration[], now: () => Date): Promise<string[]> {
  await db.query(`CREATE TABLE IF NOT EXISTS schema_migration (version text PRIMARY KEY, applied_at timestamptz NOT NULL)`);
  const applied: string[] = [];
  await db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(775101)`);
    const done = new Set((await tx.query<{ version: string }>(`SELECT version FROM schema_migration`)).map((r) => r.version));
    for (const m of [...migrations].sort((a, b) => a.version.localeCompare(b.version))) {
      if (done.has(m.version)) continue;
      for (const statement of splitSql(m.sql)) await tx.query(statement);
      await tx.query(`INSERT INTO schema_migration (version, applied_at) VALUES ($1, $2::timestamptz)`, [m.version, now().toISOString()]);
      applied.push(m.version);
    }
  });
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
