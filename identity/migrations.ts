import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The identity library's own migrations (identity/migrations/*.sql), for the host to apply with the
 * rest of its schema. Versions are prefixed `identity/` so they never collide with the host's and sort
 * after numbered ones. Each is idempotent, so it also runs cleanly on a database whose tables an
 * earlier host release made. Node only (reads files); Workers never migrate.
 */
export function identityMigrations(): { version: string; sql: string }[] {
  const dir = fileURLToPath(new URL('./migrations/', import.meta.url));
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => ({ version: `identity/${f.replace(/\.sql$/, '')}`, sql: readFileSync(dir + f, 'utf8') }));
}
