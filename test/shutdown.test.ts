import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openDb } from '../src/node/setup';
import { freePort, mpanFor } from './harness';

/**
 * Graceful shutdown (docs/operations.md, "Shutdown"): the hub as `npm start` runs it gets SIGTERM
 * while a bulk registration is in flight. It stops accepting connections at once, the request
 * completes within the grace period, the process exits 0, the folder's lock is released, no CIM job
 * is left leased, and the register holds the whole batch (nothing half-written).
 */

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(join(tmpdir(), 'fmar-shutdown-'));
const dataDir = join(dir, 'data');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ROWS = 3000;

async function untilHealthy(base: string, hub: ChildProcess) {
  for (let i = 0; i < 1200; i++) {
    if (hub.exitCode !== null) throw new Error(`hub exited ${hub.exitCode}`);
    const r = await fetch(`${base}/healthz`).catch(() => undefined);
    if (r?.status === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('hub did not become healthy');
}

// One embedded hub process: the PostgreSQL run of the suite has nothing to add to how Node stops.
describe.skipIf(!!process.env.DATABASE_URL)('SIGTERM during a bulk registration', () => {
  it('finishes the request in flight, refuses new connections, exits 0 and leaves nothing leased or half-written', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      FMAR_DATA_DIR: dataDir,
      PORT: String(port),
      FMAR_MODE: 'development',
      FMAR_SHUTDOWN_GRACE_MS: '60000',
    };
    delete env.DATABASE_URL;
    delete env.HOST;
    const hub = spawn(process.execPath, ['--import', 'tsx', 'src/node.ts'], { cwd: root, env });
    let out = '';
    hub.stdout!.on('data', (d) => (out += d));
    hub.stderr!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => hub.on('exit', (code) => r(code)));
    await untilHealthy(base, hub);
    const creds = JSON.parse(readFileSync(join(dataDir, 'demo-credentials.json'), 'utf8')) as {
      organisations: { key: string; organisationId: string; accessToken: string }[];
    };
    const fsp = creds.organisations.find((o) => o.key === 'fsp-a')!;

    const body = Array.from({ length: ROWS }, (_, i) =>
      JSON.stringify({
        name: `Shutdown battery ${i}`,
        category: 'BESS',
        ratedCapacityKw: 5,
        connectionStatus: 'CONNECTED',
        commissioningDate: '2025-01-01',
        dno: 'NGED_WMID',
        importMpan: mpanFor(5_000_000 + i, '14'),
        serialNumber: `SHUTDOWN-${i}`,
      }),
    ).join('\n');
    // The body is sent in two halves: the second only once the hub has begun to stop, so the request is
    // surely in flight (its connection busy) when the signal comes.
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const half = body.indexOf('\n', body.length >> 1) + 1;
    const enc = new TextEncoder();
    const stream = new ReadableStream<Uint8Array>({
      async start(c) {
        c.enqueue(enc.encode(body.slice(0, half)));
        await released;
        c.enqueue(enc.encode(body.slice(half)));
        c.close();
      },
    });
    const inFlight = fetch(`${base}/api/v1/assets/bulk`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fsp.accessToken}`, 'content-type': 'application/x-ndjson' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    await new Promise((r) => setTimeout(r, 300));
    hub.kill('SIGTERM');
    for (let i = 0; i < 600 && !out.includes('"msg":"shutdown"'); i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 100));
    // No longer accepting: a new connection is refused.
    const refused = await new Promise<string>((ok) => {
      const req = request(`${base}/healthz`, { agent: false }, (r) => ok(`answered ${r.statusCode}`));
      req.on('error', (e: NodeJS.ErrnoException) => ok(e.code ?? e.message));
      req.end();
    });
    expect(refused, out).toBe('ECONNREFUSED');

    release();
    const res = await inFlight;
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ dryRun: false, total: ROWS, registered: ROWS, rejected: 0 });
    expect(await exited).toBe(0);
    const lines = out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l.msg === 'shutdown')).toMatchObject({ signal: 'SIGTERM', graceMs: 60000 });
    expect(lines.find((l) => l.msg === 'stopped')).toMatchObject({ signal: 'SIGTERM', leasesReleased: 0 });
    const bulkLine = lines.findIndex((l) => l.msg === 'request' && l.route === '/api/v1/assets/bulk');
    expect(lines[bulkLine]).toMatchObject({ status: 201 });
    // The request was still in flight when the hub began to stop: its line comes after the shutdown line.
    expect(bulkLine).toBeGreaterThan(lines.findIndex((l) => l.msg === 'shutdown'));
    expect(existsSync(join(dataDir, 'hub.lock'))).toBe(false);

    const db = await openDb({ dataDir });
    try {
      expect(await db.query(`SELECT count(*)::int AS n FROM asset WHERE serial_number LIKE 'SHUTDOWN-%'`)).toEqual([{ n: ROWS }]);
      expect(await db.query(`SELECT count(*)::int AS n FROM cim_import_job WHERE status = 'RUNNING' AND lease_until > now()`)).toEqual([
        { n: 0 },
      ]);
      expect(await db.query(`SELECT count(*)::int AS n FROM audit_log WHERE seq IS NULL`)).toEqual([{ n: 0 }]); // sealed on the way out
    } finally {
      await db.close();
    }
  }, 240_000);
});
