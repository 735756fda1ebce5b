import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { identityMigrations } from '../../identity/migrations';
import type { Migration } from './migrate';

/**
 * The hub's plain .sql migrations beside this file, then the identity library's own (identity/migrations/,
 * versions `identity/NNN_name`). Node only: Workers never migrate, the CLI does.
 */
export function loadMigrations(): Migration[] {
  const dir = fileURLToPath(new URL('./migrations/', import.meta.url));
  const hub = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => ({ version: f.replace(/\.sql$/, ''), sql: readFileSync(dir + f, 'utf8') }));
  return [...hub, ...identityMigrations()];
}
