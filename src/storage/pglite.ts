import { PGlite } from '@electric-sql/pglite';
import { btree_gist } from '@electric-sql/pglite/contrib/btree_gist';
import { poolCounter, type Db, type Sql } from './db';

/** Embedded PostgreSQL (PGlite, WASM) with its data in a folder, or in memory when dataDir is undefined. */
export async function pgliteDb(dataDir?: string): Promise<Db> {
  const pg = await PGlite.create({ dataDir, extensions: { btree_gist } });
  const wrap = (s: { query: PGlite['query'] }): Sql => ({
    async query<T>(text: string, params: unknown[] = []) {
      return (await s.query<T>(text, params)).rows;
    },
  });
  // One statement or transaction at a time: a pool of one.
  const pool = poolCounter(1);
  const top = wrap(pg);
  return {
    engine: 'pglite',
    query: (text, params) => pool.run(() => top.query(text, params)),
    use: pool.use,
    async transaction(fn) {
      return pool.run(() => pg.transaction((tx) => fn(wrap(tx))));
    },
    async close() {
      await pg.close();
    },
  };
}
