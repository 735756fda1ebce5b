import { postgresDb } from '../src/storage/postgres';

/**
 * Says which database the suite runs on, and refuses to run on the wrong one: with
 * FMAR_EXPECT_DB=postgres (set by .ci/run for its PostgreSQL run) the suite fails at once unless
 * DATABASE_URL names a PostgreSQL server that answers, so a failed server start can never pass as
 * a PostgreSQL run on the embedded database.
 */
export default async function setup() {
  const url = process.env.DATABASE_URL;
  const expected = process.env.FMAR_EXPECT_DB;
  if (!url) {
    if (expected && expected !== 'pglite')
      throw new Error(`FMAR_EXPECT_DB=${expected} but DATABASE_URL is not set: the suite would run on the embedded database (PGlite).`);
    console.log('[fmar tests] database: embedded PostgreSQL (PGlite), in memory, one per test file');
    return;
  }
  if (expected === 'pglite') throw new Error('FMAR_EXPECT_DB=pglite but DATABASE_URL is set.');
  const db = postgresDb(url, { max: 1 });
  try {
    const [row] = await db.query(`SELECT version() AS version, inet_server_port() AS port`);
    console.log(
      `[fmar tests] database: ${String(row.version).split(' on ')[0]} at ${new URL(url).hostname}:${row.port}, one database per test file`,
    );
  } catch (e) {
    throw new Error(
      `DATABASE_URL names a PostgreSQL server that does not answer (${(e as Error).message}); start it (bash scripts/pg-start.sh) or unset DATABASE_URL to run on PGlite.`,
    );
  } finally {
    await db.close();
  }
}
