/**
 * Helpers for the benchmarks that run the hub inside their own process (bench/tokens.ts,
 * bench/switching.ts): per-thread CPU from /proc, an in-process ops/s loop, a bare node:http
 * server, and a fresh database on either engine.
 */
import { readFileSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openDb } from '../src/node/setup';
import type { Db } from '../src/storage/db';
import { postgresDb } from '../src/storage/postgres';

/** CPU ms of one thread of this process (Linux /proc; utime + stime at 100 Hz). */
export const threadCpuMs = (tid: number) => {
  const f = readFileSync(`/proc/${process.pid}/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
};
export const processCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Calls of `f` per second with `inFlight` at once, and CPU µs per call (whole process, and the main thread). */
export async function opsPerSec(f: () => Promise<unknown>, inFlight: number, seconds = 1) {
  const t0 = performance.now(),
    p0 = processCpuMs(),
    m0 = threadCpuMs(process.pid);
  let n = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() - t0 < seconds * 1000) {
        await f();
        n++;
      }
    }),
  );
  const s = (performance.now() - t0) / 1000;
  return { ops: n / s, cpuUs: (1000 * (processCpuMs() - p0)) / n, mainUs: (1000 * (threadCpuMs(process.pid) - m0)) / n };
}

export async function listen(handler: RequestListener): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}
export const close = (s: Server) =>
  new Promise<void>((res) => {
    s.closeAllConnections();
    s.close(() => res());
  });

/** In-memory PGlite, or a new database `fmar_bench_<tag>_<time>` on the DATABASE_URL server (dropped by `drop`). */
export async function openEngine(engine: 'pglite' | 'postgres', tag: string): Promise<{ db: Db; drop(): Promise<void> }> {
  if (engine === 'pglite') return { db: await openDb({ dataDir: '' }, { memory: true }), drop: async () => {} };
  const server = process.env.DATABASE_URL!;
  const name = `fmar_bench_${tag}_${Date.now()}`;
  const admin = postgresDb(server, { max: 1 });
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.close();
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    db: postgresDb(url.toString()),
    async drop() {
      const a = postgresDb(server, { max: 1 });
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.close();
    },
  };
}
