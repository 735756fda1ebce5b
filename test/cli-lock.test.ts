import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, mpanFor } from './harness';

/**
 * The embedded database is opened by one process only (src/node/lock.ts, docs/operations.md): the
 * README's CLI commands run beside `npm start` on the same data folder work through the hub's API or
 * are refused with one line naming the hub; nothing is lost, the hub stays healthy, a restart is clean.
 * Real processes: the hub as `npm start` runs it and the CLI as `npx fmar` runs it, on PGlite.
 */

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(join(tmpdir(), 'fmar-lock-'));
const dataDir = join(dir, 'data');
let port = 0;
let hub: ChildProcess | undefined;
let hubLog = '';
/** Assets the hub holds after the import (demo assets + 200). */
let expected = 0;

function env(): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, FMAR_DATA_DIR: dataDir, PORT: String(port), FMAR_MODE: 'development' };
  delete e.DATABASE_URL; // the embedded database, whatever the suite runs on
  delete e.HOST;
  return e;
}

/** Run a node entry (src/cli.ts or src/node.ts) to its end. */
function run(
  entry: string,
  args: string[],
  more: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((ok) => {
    const p = spawn(process.execPath, ['--import', 'tsx', entry, ...args], { cwd: root, env: { ...env(), ...more } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => {
      stdout += d;
    });
    p.stderr.on('data', (d) => {
      stderr += d;
    });
    p.on('close', (code) => ok({ code, stdout, stderr }));
  });
}
const fmar = (...args: string[]) => run('src/cli.ts', args);

function startHub(): ChildProcess {
  hubLog = '';
  const p = spawn(process.execPath, ['--import', 'tsx', 'src/node.ts'], { cwd: root, env: env() });
  p.stdout!.on('data', (d) => {
    hubLog += d;
  });
  p.stderr!.on('data', (d) => {
    hubLog += d;
  });
  return p;
}

const base = () => `http://127.0.0.1:${port}`;

/** Poll /healthz until 200; returns what the credentials file held at that first 200. */
async function untilHealthy(): Promise<string | undefined> {
  for (let i = 0; i < 1200; i++) {
    const r = await fetch(`${base()}/healthz`).catch(() => undefined);
    if (r?.status === 200) {
      const f = join(dataDir, 'demo-credentials.json');
      return existsSync(f) ? readFileSync(f, 'utf8') : undefined;
    }
    if (r) expect(r.status).toBe(503); // starting: never a 200 before start-up is complete
    await new Promise((s) => setTimeout(s, 100));
  }
  throw new Error(`hub did not become healthy:\n${hubLog}`);
}

function stopHub(p: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  return new Promise((ok) => {
    p.once('close', (code) => ok(code));
    p.kill(signal);
  });
}

async function api(path: string, token: string) {
  const r = await fetch(`${base()}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: r.status, text: await r.text() };
}

const FSP_A = '01JDEM0000000000000000FSPA';

// The lock is about the embedded database: the PostgreSQL run of the suite has nothing to add here.
describe.skipIf(!!process.env.DATABASE_URL)('the CLI beside a running embedded hub', () => {
  beforeAll(async () => {
    port = await freePort();
    hub = startHub();
    await untilHealthy();
  }, 180_000);
  afterAll(async () => {
    if (hub && hub.exitCode === null && hub.signalCode === null) await stopHub(hub);
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds the folder with a lock naming its PID, base URL and readiness', () => {
    const lock = JSON.parse(readFileSync(join(dataDir, 'hub.lock'), 'utf8'));
    expect(lock).toMatchObject({ pid: hub!.pid, holder: 'hub', baseUrl: `http://localhost:${port}`, url: base(), ready: true });
    expect(lock.localSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('runs every CLI command against the folder: through the hub, or refused with one line naming it', async () => {
    // token: minted by the running hub, for its own issuer, and accepted by it
    const tok = await fmar('token', 'operator');
    expect(tok.code).toBe(0);
    const operator = tok.stdout.trim();
    const claims = JSON.parse(Buffer.from(operator.split('.')[1], 'base64url').toString());
    expect(claims.iss).toBe(`http://localhost:${port}`);
    const before = await api('/api/v1/assets/export', operator);
    expect(before.status).toBe(200);
    const demoAssets = before.text.trim().split('\n').length;

    // import: 200 rows, every one registered and seen by the hub
    const rows = Array.from({ length: 200 }, (_, i) =>
      JSON.stringify({
        name: `Lock battery ${i}`,
        category: 'BESS',
        ratedCapacityKw: 5,
        connectionStatus: 'CONNECTED',
        commissioningDate: '2025-01-01',
        dno: 'NGED_WMID',
        importMpan: mpanFor(3_000_000 + i, '14'),
        serialNumber: `LOCK-${i}`,
      }),
    );
    writeFileSync(join(dir, 'rows.ndjson'), rows.join('\n') + '\n');
    const imp = await fmar('import', join(dir, 'rows.ndjson'), '--organisation', FSP_A, '--batch', '64');
    expect(imp.stderr).not.toMatch(/rejected/);
    expect(imp.code).toBe(0);
    expect(imp.stdout.trim()).toBe(`200 row(s): 200 registered, 0 already registered, 0 rejected through the hub (PID ${hub!.pid}).`);
    // run again (a resume after a crash): every row counts as already registered
    const again = await fmar('import', join(dir, 'rows.ndjson'), '--organisation', FSP_A, '--batch', '64');
    expect(again.code).toBe(0);
    expect(again.stdout.trim()).toBe(`200 row(s): 0 registered, 200 already registered, 0 rejected through the hub (PID ${hub!.pid}).`);
    // --on-error skip --rejects through the hub: the valid row lands, the bad one goes to the rejects file with its line and rule code
    writeFileSync(
      join(dir, 'mixed.ndjson'),
      `${rows[0]}\n${JSON.stringify({ ...JSON.parse(rows[0]), importMpan: '1312345678900', serialNumber: 'LOCK-BAD' })}\nnot json\n`,
    );
    const mixed = await fmar(
      'import',
      join(dir, 'mixed.ndjson'),
      '--organisation',
      FSP_A,
      '--on-error',
      'skip',
      '--rejects',
      join(dir, 'rejects.ndjson'),
    );
    expect(mixed.code).toBe(1);
    expect(mixed.stdout.trim()).toBe(`3 row(s): 0 registered, 1 already registered, 2 rejected through the hub (PID ${hub!.pid}).`);
    const rejects = readFileSync(join(dir, 'rejects.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rejects.map((r) => [r._row, r._errors.map((e: { code: string }) => e.code)])).toEqual([
      [2, ['ASSET-MPAN-CHECKDIGIT']],
      [3, ['REQUEST-MALFORMED-JSON']],
    ]);
    const after = await api('/api/v1/assets/export', operator);
    expected = demoAssets + 200;
    expect(after.text.trim().split('\n').length).toBe(expected);

    // export and cim export: the hub's rows, exactly
    const exp = await fmar('export', '--out', join(dir, 'out.ndjson'));
    expect(exp.code).toBe(0);
    expect(readFileSync(join(dir, 'out.ndjson'), 'utf8').trim().split('\n').length).toBe(demoAssets + 200);
    const cim = await fmar('cim', 'export', '--out', join(dir, 'out.xml'), '--organisation', FSP_A);
    expect(cim.code).toBe(0);
    expect(readFileSync(join(dir, 'out.xml'), 'utf8').match(/<cim:BatteryUnit /g)?.length).toBeGreaterThanOrEqual(200);

    // audit verify: the hub's chain, sealed and intact
    const audit = await fmar('audit', 'verify');
    expect(audit.code).toBe(0);
    expect(audit.stdout).toMatch(/^audit chain intact: \d+ record\(s\) verified/);

    // migrate: nothing to do; seed, keys, data-quality: refused at once, naming the hub
    const mig = await fmar('migrate');
    expect(mig.code).toBe(0);
    expect(mig.stdout).toContain(`the running hub (PID ${hub!.pid}) applied every migration`);
    for (const args of [['seed'], ['keys', 'list'], ['data-quality', 'reevaluate']]) {
      const r = await fmar(...args);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(`is in use by the hub (PID ${hub!.pid}, http://localhost:${port})`);
    }

    // a second hub on the same folder refuses the same way
    const second = await run('src/node.ts', [], { PORT: String(await freePort()) });
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(`fmar: the embedded database in ${resolve(dataDir)} is in use by the hub (PID ${hub!.pid}`);
    expect(second.stderr).not.toMatch(/\n\s+at /); // no stack trace

    // the hub is healthy after all of it
    expect((await fetch(`${base()}/healthz`)).status).toBe(200);
  }, 300_000);

  it('restarts clean: the lock is released on exit, every row is there, /healthz waits for fresh credentials', async () => {
    const previous = readFileSync(join(dataDir, 'demo-credentials.json'), 'utf8');
    expect(await stopHub(hub!)).toBe(0);
    expect(existsSync(join(dataDir, 'hub.lock'))).toBe(false);
    hub = startHub();
    const atFirst200 = await untilHealthy();
    // The credentials file is there at the first 200, and the client secrets rotate at each start: never the old ones.
    expect(typeof atFirst200).toBe('string');
    expect(atFirst200).not.toBe(previous);
    const tok = (await fmar('token', 'operator')).stdout.trim();
    const all = await api('/api/v1/assets/export', tok);
    expect(all.text.trim().split('\n').length).toBe(expected);
  }, 240_000);

  it('a hub killed with SIGKILL leaves a stale lock that the next process takes over', async () => {
    await stopHub(hub!, 'SIGKILL');
    expect(JSON.parse(readFileSync(join(dataDir, 'hub.lock'), 'utf8')).pid).toBe(hub!.pid);
    const exp = await fmar('export', '--out', join(dir, 'after-kill.ndjson'));
    expect(exp.code).toBe(0);
    expect(readFileSync(join(dir, 'after-kill.ndjson'), 'utf8').trim().split('\n').length).toBe(expected);
    expect(existsSync(join(dataDir, 'hub.lock'))).toBe(false);
  }, 120_000);

  it('a port in use is one line, not a stack trace', async () => {
    const blocker = createServer().listen(port, '127.0.0.1');
    await new Promise((s) => blocker.once('listening', s));
    try {
      const r = await run('src/node.ts', []);
      expect(r.code).toBe(2);
      expect(r.stderr.split('\n').filter((l) => l.startsWith('fmar:'))).toEqual([
        `fmar: port ${port} is already in use (another hub or program listens on it). Stop that program, or choose another port: PORT=${port + 1} npm start`,
      ]);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(join(dataDir, 'hub.lock'))).toBe(false);
    } finally {
      await new Promise((s) => blocker.close(s));
    }
  }, 120_000);
});
