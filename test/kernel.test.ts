import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemPrincipal } from '../src/access/principal';
import { Problem } from '../src/http/problem';
import { ulidSource } from '../src/ids';
import { hookPoint, Hooks } from '../src/kernel/hooks';
import { changeVersioned, priorVersions, type Change } from '../src/kernel/versioned';
import { loadMigrations } from '../src/storage/load-migrations';
import { migrate } from '../src/storage/migrate';
import type { Db } from '../src/storage/db';
import { TestClock, testDb } from './harness';

/** The kernel's one versioned change, on a probe table: lock, guard, If-Match, history, version, audit, events; a refusal writes nothing. */

interface Probe {
  id: string;
  name: string;
  version: number;
  recordedAt: string;
  recordedBy: string;
}
interface ProbeRow {
  id: string;
  name: string;
  version: number;
  recorded_at: Date;
  recorded_by: string;
}
const toProbe = (r: ProbeRow): Probe => ({
  id: r.id,
  name: r.name,
  version: Number(r.version),
  recordedAt: new Date(r.recorded_at).toISOString(),
  recordedBy: r.recorded_by,
});
const clock = new TestClock();
const ids = ulidSource(clock);
const actor = systemPrincipal('kernel-test');
let db: Db;
let drop: () => Promise<void>;

beforeAll(async () => {
  ({ db, drop } = await testDb(clock));
  await migrate(db, loadMigrations(), () => clock.now());
  await db.query(
    `CREATE TABLE kernel_probe (id text PRIMARY KEY, name text NOT NULL, version int NOT NULL DEFAULT 1, recorded_at timestamptz NOT NULL, recorded_by text NOT NULL)`,
  );
  await db.query(`INSERT INTO kernel_probe (id, name, recorded_at, recorded_by) VALUES ('P1', 'first', $1::timestamptz, 'seed')`, [
    clock.now().toISOString(),
  ]);
});
afterAll(async () => {
  await db.close();
  await drop();
});

function rename(id: string, name: string, ifMatch?: number): Change<Probe, ProbeRow> {
  return {
    table: 'kernel_probe',
    key: { id },
    label: `Probe ${id}`,
    returning: '*',
    toRecord: toProbe,
    ifMatch,
    history: 'kernel_probe',
    lock: async (tx) => {
      const [r] = await tx.query<ProbeRow>(`SELECT * FROM kernel_probe WHERE id = $1 FOR UPDATE`, [id]);
      return r ? toProbe(r) : undefined;
    },
    notFound: () => new Problem('ROUTE-NOT-FOUND', `No probe ${id}.`),
    set: () => {
      if (!name) throw new Problem('REQUEST-VALIDATION', 'A name is needed.');
      return { sql: 'name = $1', params: [name] };
    },
    audit: (_, after) => [{ action: 'probe.renamed', recordType: 'audit', recordId: id, detail: { version: after.version } }],
    events: (_, after) => [{ type: 'fmar.probe.renamed', subject: id, data: { version: after.version } }],
  };
}
const counts = async () =>
  (
    await db.query<{ h: number; a: number; e: number; v: number }>(
      `SELECT (SELECT count(*) FROM record_history)::int AS h, (SELECT count(*) FROM audit_log)::int AS a, (SELECT count(*) FROM event_outbox)::int AS e, (SELECT version FROM kernel_probe WHERE id = 'P1') AS v`,
    )
  )[0];

describe('changeVersioned', () => {
  it('keeps the prior version, bumps the version and the stamp, writes one audit row and one event', async () => {
    const before = await counts();
    clock.advance(1000);
    const { before: b, after } = await db.transaction((tx) => changeVersioned(tx, { ids }, actor, clock.now(), rename('P1', 'second', 1)));
    expect([b.name, b.version, after.name, after.version, after.recordedBy]).toEqual(['first', 1, 'second', 2, 'kernel-test']);
    expect(after.recordedAt).toBe(clock.now().toISOString());
    expect(await counts()).toEqual({ h: before.h + 1, a: before.a + 1, e: before.e + 1, v: 2 });
    expect(await priorVersions<Probe>(db, 'kernel_probe', 'P1')).toEqual([b]);
  });

  it('refuses a stale If-Match with REQUEST-PRECONDITION-FAILED and the current version, a missing record with its own code, an invalid change with its rule; none writes', async () => {
    const before = await counts();
    const stale = await db
      .transaction((tx) => changeVersioned(tx, { ids }, actor, clock.now(), rename('P1', 'third', 1)))
      .catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(Problem);
    expect([(stale as Problem).code, (stale as Problem).message, (stale as Problem).extra]).toEqual([
      'REQUEST-PRECONDITION-FAILED',
      'Probe P1 is at version 2, not 1.',
      { currentVersion: 2 },
    ]);
    await expect(db.transaction((tx) => changeVersioned(tx, { ids }, actor, clock.now(), rename('P9', 'x')))).rejects.toMatchObject({
      code: 'ROUTE-NOT-FOUND',
    });
    await expect(db.transaction((tx) => changeVersioned(tx, { ids }, actor, clock.now(), rename('P1', '', 2)))).rejects.toMatchObject({
      code: 'REQUEST-VALIDATION',
    });
    expect(await counts()).toEqual(before);
  });
});

describe('Hooks', () => {
  it('runs the handlers of a point in registration order with its payload, and none of another point', async () => {
    const seen: string[] = [];
    const a = hookPoint<{ n: number }>('probe.a');
    const b = hookPoint<{ s: string }>('probe.b');
    const hooks = new Hooks()
      .on(a, async (_, p) => {
        seen.push(`first ${p.n}`);
      })
      .on(a, async (_, p) => {
        seen.push(`second ${p.n}`);
      })
      .on(b, async (_, p) => {
        seen.push(p.s);
      });
    await hooks.run(a, db, { n: 7 });
    expect(seen).toEqual(['first 7', 'second 7']);
    expect(hooks.points()).toEqual(['probe.a', 'probe.b']);
  });
});
