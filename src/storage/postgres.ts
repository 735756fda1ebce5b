import postgres from 'postgres';
import { poolCounter, type Db, type Sql } from './db';

/** PostgreSQL server through postgres.js. Works on Node and on Workers (nodejs_compat). */
export function postgresDb(url: string, opts: { max?: number } = {}): Db {
  const max = opts.max ?? 10;
  const sql = postgres(url, {
    max,
    onnotice: () => {},
    // numeric and int8 stay strings (exact); the modules convert where they need numbers.
    types: {},
    prepare: true,
  });
  const wrap = (s: postgres.Sql | postgres.TransactionSql): Sql => ({
    async query<T>(text: string, params: unknown[] = []) {
      // postgres.js types its parameters and rows loosely; the port's caller names the row type.
      return (await s.unsafe(text, params as postgres.ParameterOrJSON<never>[], { prepare: true })) as unknown as T[];
    },
  });
  // Each statement outside a transaction, and each transaction, holds one of the pool's connections while it runs.
  const pool = poolCounter(max);
  const top = wrap(sql);
  return {
    engine: 'postgres',
    query: (text, params) => pool.run(() => top.query(text, params)),
    use: pool.use,
    async transaction<T>(fn: (tx: Sql) => Promise<T>) {
      return pool.run(async () => (await sql.begin((tx) => fn(wrap(tx)))) as T);
    },
    async close() {
      await sql.end({ timeout: 5 });
    },
  };
}
