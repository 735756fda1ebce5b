import postgres from 'postgres';
import type { Db, Sql } from './db';

/** PostgreSQL server through postgres.js. Works on Node and on Workers (nodejs_compat). */
export function postgresDb(url: string, opts: { max?: number } = {}): Db {
  const sql = postgres(url, {
    max: opts.max ?? 10,
    onnotice: () => {},
    // numeric and int8 stay strings (exact); the modules convert where they need numbers.
    types: {},
    prepare: true,
  });
  const wrap = (s: postgres.Sql | postgres.TransactionSql): Sql => ({
    async query(text, params = []) {
      return (await s.unsafe(text, params as any[], { prepare: true })) as any[];
    },
  });
  return {
    engine: 'postgres',
    ...wrap(sql),
    async transaction(fn) {
      return (await sql.begin((tx) => fn(wrap(tx)))) as any;
    },
    async close() {
      await sql.end({ timeout: 5 });
    },
  };
}
