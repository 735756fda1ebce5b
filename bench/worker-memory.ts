/**
 * Benchmark: the Worker's heap during a bulk registration dry-run (POST /api/v1/assets/bulk?dryRun=true,
 * NDJSON) of growing size, under `wrangler dev` (workerd), read through its inspector
 * (Runtime.getHeapUsage, sampled every 10 ms while the request runs). docs/workers.md, "Memory".
 *
 *   DATABASE_URL=postgres://… npx tsx bench/worker-memory.ts   (BENCH_ROWS=5000,13650,27300,50000 BENCH_PORT=43300
 *                                                             BENCH_MAX_BULK_BYTES=67108864 to measure past the 8 MiB default)
 *
 * Works in its own database beside DATABASE_URL's (created, migrated, seeded, dropped). Local
 * workerd does not stop an isolate at 128 MB, so sizes past the platform's limit can be measured.
 * Not part of CI.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
// Node 20 has no global WebSocket; ws comes with wrangler.
import WebSocket from 'ws';
import { ROOT, assetInput, envInt, fmt, log, sleep, table } from './lib';

const ROWS = (process.env.BENCH_ROWS ?? '5000,13650,27300,50000').split(',').map(Number);
const PORT = envInt('BENCH_PORT', 43300);
const ADMIN = process.env.DATABASE_URL;
if (!ADMIN) throw new Error('DATABASE_URL must point at a PostgreSQL server (scripts/pg-start.sh)');

const children: ChildProcess[] = [];
process.on('exit', () => {
  for (const c of children)
    try {
      if (c.pid && c.exitCode === null) process.kill(-c.pid, 'SIGTERM');
    } catch {
      /* gone */
    }
});

/** A minimal DevTools protocol client over the inspector's WebSocket. */
async function inspector(port: number) {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()) as { webSocketDebuggerUrl: string }[];
  const ws = new WebSocket(targets[0].webSocketDebuggerUrl);
  await new Promise((r, j) => {
    ws.onopen = r;
    ws.onerror = j;
  });
  let id = 0;
  const waiting = new Map<number, (v: any) => void>();
  ws.onmessage = (m: { data: unknown }) => {
    const msg = JSON.parse(String(m.data));
    if (msg.id && waiting.has(msg.id)) {
      waiting.get(msg.id)!(msg.result);
      waiting.delete(msg.id);
    }
  };
  const send = (method: string, params: object = {}) =>
    new Promise<any>((r) => {
      waiting.set(++id, r);
      ws.send(JSON.stringify({ id, method, params }));
    });
  return { send, close: () => ws.close() };
}

async function main() {
  const db = `fmar_worker_memory_${process.pid}`;
  const admin = postgres(ADMIN!, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${db}`);
  const url = new URL(ADMIN!);
  url.pathname = `/${db}`;
  const base = `http://127.0.0.1:${PORT}`;
  const env = { ...process.env, DATABASE_URL: url.href, FMAR_MODE: 'development', FMAR_BASE_URL: base, FMAR_ISSUER: base };
  const cli = (...a: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...a], { cwd: ROOT, env, encoding: 'utf8' }).stdout.trim();
  log(`database ${db}: migrate, keys, seed`);
  cli('migrate');
  cli('keys', 'rotate');
  cli('seed');
  const token = cli('token', 'fsp-a').split('\n').pop()!;
  const w = spawn(
    'npx',
    [
      'wrangler',
      'dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(PORT),
      '--inspector-port',
      String(PORT + 1),
      '--show-interactive-dev-session=false',
      '--persist-to',
      mkdtempSync(join(tmpdir(), 'fmar-bench-mem-')),
      // Sizes past the Worker's default limit (8 MiB) are measured with the limit raised.
      ...(process.env.BENCH_MAX_BULK_BYTES ? ['--var', `FMAR_MAX_BULK_BYTES:${process.env.BENCH_MAX_BULK_BYTES}`] : []),
    ],
    {
      cwd: ROOT,
      detached: true,
      stdio: 'ignore',
      env: {
        ...process.env,
        CI: 'true',
        WRANGLER_SEND_METRICS: 'false',
        CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE: url.href,
      },
    },
  );
  children.push(w);
  for (let i = 0; i < 120; i++) {
    try {
      if ((await fetch(`${base}/healthz`)).status === 200) break;
    } catch {
      /* not yet */
    }
    await sleep(500);
  }
  log('wrangler dev is up; connecting to its inspector');
  const insp = await inspector(PORT + 1);
  log('inspector connected');
  await insp.send('Runtime.enable');
  const rows: (string | number)[][] = [];
  for (const n of ROWS) {
    const body = Array.from({ length: n }, (_, i) => JSON.stringify(assetInput(i))).join('\n') + '\n';
    // (HeapProfiler.collectGarbage gets no answer through wrangler's inspector proxy: the heap is read as it is.)
    const before = (await insp.send('Runtime.getHeapUsage')).usedSize as number;
    let peak = before;
    let done = false;
    const sampler = (async () => {
      while (!done) {
        const u = await insp.send('Runtime.getHeapUsage');
        peak = Math.max(peak, u.usedSize as number);
        await sleep(10);
      }
    })();
    const t = performance.now();
    const res = await fetch(`${base}/api/v1/assets/bulk?dryRun=true`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
      body,
    });
    const text = await res.text();
    done = true;
    await sampler;
    const ms = performance.now() - t;
    log(
      `${fmt(n)} rows, ${fmt(body.length / 1048576, 1)} MiB: ${res.status} in ${fmt(ms)} ms; heap ${fmt(before / 1048576, 1)} → peak ${fmt(peak / 1048576, 1)} MB ${text.slice(0, 120)}`,
    );
    rows.push([fmt(n), fmt(body.length / 1048576, 1), res.status, fmt(before / 1048576, 1), fmt(peak / 1048576, 1), fmt(ms)]);
  }
  insp.close();
  console.log(`\n## Worker heap during a bulk dry-run (${new Date().toISOString().slice(0, 10)})\n`);
  table(['rows', 'body MiB', 'status', 'heap before MB', 'heap peak MB', 'ms'], rows);
  process.kill(-w.pid!, 'SIGTERM');
  await sleep(1000);
  await admin.unsafe(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  await admin.end();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
