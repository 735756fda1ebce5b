import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app';
import { loadConfig } from '../src/config';
import { assemble } from '../src/node/setup';
import type { Db } from '../src/storage/db';
import { testHub, type TestHub } from './harness';

/**
 * PostgreSQL undoes one of two transactions that lock the same rows in opposite orders (deadlock,
 * 40P01) or that cannot be serialised (40001). That request wrote nothing and succeeds if sent again:
 * it is answered 503 REQUEST-CONCURRENT-RETRY with Retry-After, never a 500. The undo is injected at
 * the database port (the statement of an asset update fails once with the server's SQLSTATE).
 */
describe('a request undone by the database for a concurrent one', () => {
  let seeded: TestHub;
  let app: ReturnType<typeof buildApp>;
  let failNext: string | undefined;

  beforeAll(async () => {
    seeded = await testHub();
    // The seeded hub's own database, behind a port that fails the next asset UPDATE once.
    const real = seeded.db;
    const failing = (q: Db['query']): Db['query'] =>
      (async (text: string, params?: unknown[]) => {
        if (failNext && /^\s*UPDATE asset a SET/.test(text)) {
          const code = failNext;
          failNext = undefined;
          throw Object.assign(new Error(code === '40P01' ? 'deadlock detected' : 'could not serialize access'), { code });
        }
        return q(text, params);
      }) as Db['query'];
    const db: Db = {
      ...real,
      query: failing(real.query.bind(real)),
      transaction: (fn) => real.transaction((tx) => fn({ ...tx, query: failing(tx.query.bind(tx)) })),
    };
    const cfg = loadConfig({
      FMAR_MODE: 'development',
      FMAR_BASE_URL: 'http://hub.test',
      FMAR_RATE_LIMIT_CLIENT_PER_MINUTE: '0',
      FMAR_RATE_LIMIT_ORG_PER_MINUTE: '0',
    });
    app = buildApp((await assemble(cfg, db, seeded.clock)).ports);
  });
  afterAll(async () => {
    await seeded?.close();
  });

  for (const code of ['40P01', '40001']) {
    it(`${code}: 503 REQUEST-CONCURRENT-RETRY with Retry-After, nothing written; the same request again succeeds`, async () => {
      const token = await seeded.token('fsp-a');
      const list = await seeded.call('GET', '/api/v1/assets?limit=1', { as: 'fsp-a' });
      const asset = list.json.items[0];
      const patch = () =>
        app.request(`/api/v1/assets/${asset.id}`, {
          method: 'PATCH',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/merge-patch+json', 'if-match': `"${asset.version}"` },
          body: JSON.stringify({ name: `Renamed ${code}` }),
        });
      failNext = code;
      const undone = await patch();
      const body = await undone.json();
      expect([undone.status, body.code, undone.headers.get('retry-after')]).toEqual([503, 'REQUEST-CONCURRENT-RETRY', '1']);
      expect((await seeded.call('GET', `/api/v1/assets/${asset.id}`, { as: 'fsp-a' })).json).toMatchObject({
        name: asset.name,
        version: asset.version,
      });
      const again = await patch();
      expect(again.status).toBe(200);
      expect(await again.json()).toMatchObject({ name: `Renamed ${code}`, version: asset.version + 1 });
    });
  }
});
