/**
 * Shared plumbing for the benchmarks (not tests; never part of the vitest suite): a throwaway
 * PostgreSQL from scripts/pg-start.sh, the hub as a real HTTP server in a child process, row
 * generators and statistics. Everything talks to 127.0.0.1 only.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

const cleanups: (() => void)[] = [];
function runCleanups() {
  while (cleanups.length) {
    try {
      cleanups.pop()!();
    } catch {
      /* best effort */
    }
  }
}
process.on('exit', runCleanups);
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.on(sig, () => {
    runCleanups();
    process.exit(130);
  });

export const log = (...a: unknown[]) => console.log(`[${new Date().toISOString().slice(11, 19)}]`, ...a);

// ---------------------------------------------------------------------------------------------
// PostgreSQL

export interface Pg {
  url: string;
  dir: string;
  bin: string;
  port: number;
  stop(): void;
}

/** Start a throwaway PostgreSQL 15 (scripts/pg-start.sh) on a port of the benchmark's own. */
export function startPg(port: number): Pg {
  const out = execFileSync('bash', [join(ROOT, 'scripts/pg-start.sh')], {
    env: { ...process.env, FMAR_PG_PORT: String(port) },
    encoding: 'utf8',
  });
  const vars: Record<string, string> = {};
  for (const m of out.matchAll(/^export (\w+)='([^']*)'$/gm)) vars[m[1]] = m[2];
  if (!vars.DATABASE_URL) throw new Error(`pg-start.sh printed no DATABASE_URL:\n${out}`);
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    execFileSync('bash', [join(ROOT, 'scripts/pg-stop.sh')], {
      env: { ...process.env, FMAR_PG_DIR: vars.FMAR_PG_DIR, FMAR_PG_BIN: vars.FMAR_PG_BIN },
      stdio: 'ignore',
    });
  };
  cleanups.push(stop);
  return { url: vars.DATABASE_URL, dir: vars.FMAR_PG_DIR, bin: vars.FMAR_PG_BIN, port, stop };
}

/** The PostgreSQL settings the benchmark ran with (for the report). */
export async function pgSettings(sql: { unsafe: (q: string) => Promise<any[]> }) {
  const names = [
    'server_version',
    'shared_buffers',
    'work_mem',
    'maintenance_work_mem',
    'fsync',
    'synchronous_commit',
    'full_page_writes',
    'max_wal_size',
    'effective_cache_size',
    'jit',
  ];
  const rows = await sql.unsafe(`SELECT name, setting, unit FROM pg_settings WHERE name IN (${names.map((n) => `'${n}'`).join(',')})`);
  return Object.fromEntries(
    rows.map((r: any) => [r.name, r.unit && r.unit !== '' ? `${r.setting}${r.unit === '8kB' ? '×8kB' : r.unit}` : r.setting]),
  );
}

// ---------------------------------------------------------------------------------------------
// The hub (and other servers) as child processes

export interface Server {
  pid: number;
  baseUrl: string;
  child: ChildProcess;
  stop(): Promise<void>;
  output(): string;
}

/** Spawn `node [args] script` with env, wait until its stdout matches `ready`. */
export async function spawnServer(
  script: string,
  env: Record<string, string>,
  opts: { ready: RegExp; port: number; nodeArgs?: string[]; timeoutMs?: number },
): Promise<Server> {
  const args = [...(opts.nodeArgs ?? []), '--import', 'tsx', script];
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
    if (out.length > 200_000) out = out.slice(-100_000);
  });
  child.stderr!.on('data', (d) => {
    out += d;
    if (out.length > 200_000) out = out.slice(-100_000);
  });
  const kill = () => {
    if (child.exitCode === null)
      try {
        process.kill(child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
  };
  cleanups.push(kill);
  await new Promise<void>((res, rej) => {
    const t = setTimeout(() => rej(new Error(`${script} did not start in time:\n${out}`)), opts.timeoutMs ?? 60_000);
    const check = () => {
      if (opts.ready.test(out)) {
        clearTimeout(t);
        res();
      }
    };
    child.stdout!.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(t);
      rej(new Error(`${script} exited with ${code}:\n${out}`));
    });
  });
  child.removeAllListeners('exit');
  return {
    pid: child.pid!,
    baseUrl: `http://127.0.0.1:${opts.port}`,
    child,
    output: () => out,
    async stop() {
      if (child.exitCode !== null) return;
      const done = new Promise((r) => child.once('exit', r));
      process.kill(child.pid!, 'SIGTERM');
      const t = setTimeout(kill, 30_000);
      await done;
      clearTimeout(t);
    },
  };
}

export interface Hub extends Server {
  tokens: Record<'operator' | 'fsp-a' | 'fsp-b' | 'dno' | 'installer', string>;
  orgs: Record<string, string>;
}

/** Limits above what one load generator can send: the rate limiter stays in the path, counting, and refuses nothing. */
export const HIGH_RATE_LIMITS = { FMAR_RATE_LIMIT_CLIENT_PER_MINUTE: '100000000', FMAR_RATE_LIMIT_ORG_PER_MINUTE: '100000000' };

/** The hub exactly as `npm start` runs it (src/node.ts): development mode, PostgreSQL, demo data, audit sealer. */
export async function startHub(
  databaseUrl: string,
  port: number,
  opts: { nodeArgs?: string[]; env?: Record<string, string> } = {},
): Promise<Hub> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fmar-bench-hub-'));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const srv = await spawnServer(
    'src/node.ts',
    {
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      FMAR_MODE: 'development',
      FMAR_DATA_DIR: dataDir,
      FMAR_BASE_URL: `http://127.0.0.1:${port}`,
      NODE_ENV: 'development',
      ...(opts.env ?? {}),
    },
    { ready: /FMAR hub/, port, nodeArgs: opts.nodeArgs },
  );
  const creds = JSON.parse(readFileSync(join(dataDir, 'demo-credentials.json'), 'utf8'));
  const tokens: any = {};
  const orgs: any = {};
  for (const o of creds.organisations) {
    tokens[o.key] = o.accessToken;
    orgs[o.key] = o.organisationId;
  }
  return { ...srv, tokens, orgs };
}

/** Resident set size of a process in bytes (Linux /proc). */
export function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

// ---------------------------------------------------------------------------------------------
// Rows

const MPAN_W = [3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43];
/** MPAN core with a correct check digit: distributor (2 digits) + 10-digit number + check digit. */
export function mpan(distributor: number, n: number): string {
  const base = String(distributor) + String(n).padStart(10, '0');
  let s = 0;
  for (let i = 0; i < 12; i++) s += (base.charCodeAt(i) - 48) * MPAN_W[i];
  return base + ((s % 11) % 10);
}

/** Distributor 10–23 and its DNO licence area (src/catalogue/codes.ts), so that no DNO-mismatch warning is raised. */
export const DISTRIBUTORS: [number, string][] = [
  [10, 'UKPN_EPN'],
  [11, 'NGED_EMID'],
  [12, 'UKPN_LPN'],
  [13, 'SPEN_SPM'],
  [14, 'NGED_WMID'],
  [15, 'NPG_NE'],
  [16, 'ENWL'],
  [17, 'SSEN_SHEPD'],
  [18, 'SPEN_SPD'],
  [19, 'UKPN_SPN'],
  [20, 'SSEN_SEPD'],
  [21, 'NGED_WALES'],
  [22, 'NGED_SWEST'],
  [23, 'NPG_YK'],
];
const POSTCODES = ['G1 1AA', 'EC1A 1BB', 'SW1A 1AA', 'M1 1AE', 'B33 8TH', 'CR2 6XH', 'DN55 1PT', 'LS1 4AP', 'CF10 1EP', 'EH1 1YZ'];
const GSP = ['_A', '_B', '_C', '_D', '_E', '_F', '_G', '_H', '_J', '_K', '_L', '_M', '_N', '_P'];
const MAKERS = [
  ['Demo Batteries', 'DB-5'],
  ['SunCo', 'SC-400'],
  ['ChargeIt', 'CI-7'],
  ['HeatWell', 'HW-8'],
  [undefined, undefined],
];

/**
 * A valid, varied registration for row n (unique per n): ten categories, MPANs with correct check
 * digits on the 14 distributors (DNO matching), unique serials, and evse / mcs / fsp_ref / ecr
 * aliases on some categories. `tag` makes serials and aliases unique per run.
 */
export function assetInput(n: number, tag = 'B'): Record<string, unknown> {
  const [dist, dno] = DISTRIBUTORS[n % DISTRIBUTORS.length];
  const imp = mpan(dist, 2 * n);
  const exp = mpan(dist, 2 * n + 1);
  const year = 2015 + (n % 11);
  const date = `${year}-${String(1 + (n % 12)).padStart(2, '0')}-${String(1 + (n % 28)).padStart(2, '0')}`;
  const [manufacturer, model] = MAKERS[n % MAKERS.length];
  const rated = 3 + (n % 50) + (n % 4) * 0.25;
  const base: Record<string, unknown> = {
    name: `Bench asset ${n}`,
    ratedCapacityKw: rated,
    connectionStatus: n % 17 === 0 ? 'PENDING' : 'CONNECTED',
    commissioningDate: date,
    dno,
    serialNumber: `${tag}-SN-${n}`,
  };
  if (manufacturer) Object.assign(base, { manufacturer, model });
  if (n % 3 === 0) base.location = { postcode: POSTCODES[n % POSTCODES.length], gspGroup: GSP[n % GSP.length] };
  if (n % 7 === 0) base.friendlyCode = `${tag}-FC-${n}`;
  switch (n % 10) {
    case 0:
      return { ...base, category: 'BESS', importMpan: imp, exportMpan: exp, generationCapacityKw: rated, demandCapacityKw: rated };
    case 1:
      return { ...base, category: 'SOLAR_PV', exportMpan: exp, generationCapacityKw: rated };
    case 2:
      return {
        ...base,
        category: 'EV_CHARGER',
        importMpan: imp,
        demandCapacityKw: rated,
        aliases: [{ scheme: 'evse', value: `GB*BNC*E${tag}${n}*1` }],
      };
    case 3:
      return {
        ...base,
        category: 'HEAT_PUMP',
        importMpan: imp,
        demandCapacityKw: Math.floor(rated * 50) / 100,
        aliases: [{ scheme: 'mcs', value: `MCS-${tag}${n}` }],
      };
    case 4:
      return { ...base, category: 'WIND_TURBINE', exportMpan: exp };
    case 5:
      return { ...base, category: 'ELECTRIC_BOILER', importMpan: imp, aliases: [{ scheme: 'fsp_ref', value: `${tag}-REF-${n}` }] };
    case 6:
      return { ...base, category: 'HVAC', importMpan: imp };
    case 7:
      return { ...base, category: 'REFRIGERATION', importMpan: imp, connectionType: 'FIRM' };
    case 8:
      return { ...base, category: 'INDUSTRIAL_LOAD', importMpan: imp, aliases: [{ scheme: 'ecr', value: `ECR-${tag}${n}` }] };
    default:
      return { ...base, category: 'CHP', exportMpan: exp, energySource: 'NATURAL_GAS', generationCapacityKw: rated };
  }
}

// ---------------------------------------------------------------------------------------------
// Statistics and reporting

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
export const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};
export const fmt = (n: number, d = 0) => n.toLocaleString('en-GB', { maximumFractionDigits: d, minimumFractionDigits: d });
export const mb = (bytes: number) => `${fmt(bytes / 1048576, 0)} MB`;

export function machine() {
  const c = cpus();
  return {
    cpus: c.length,
    cpuModel: c[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

/** Print a table in Markdown (so that results paste into docs/performance.md). */
export function table(head: string[], rows: (string | number)[][]) {
  const lines = [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
  console.log(lines.join('\n'));
}

export const envInt = (name: string, dflt: number) => (process.env[name] ? Number(process.env[name]) : dflt);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// CPU accounting (Linux /proc): where the machine's two cores went during a run.

const TICK_MS = 10; // USER_HZ = 100 on Linux
function statOf(pid: number): { ppid: number; cpuMs: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), cpuMs: (Number(f[11]) + Number(f[12])) * TICK_MS };
  } catch {
    return undefined;
  }
}
/** CPU milliseconds (user + system) used so far by a process. */
export function cpuMsOf(pid: number): number {
  return statOf(pid)?.cpuMs ?? 0;
}
/** CPU milliseconds used so far by a PostgreSQL cluster: the postmaster and all its children (backends, autovacuum, …). */
export function pgCpuMs(pgDir: string): number {
  const postmaster = Number(readFileSync(join(pgDir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  let ms = cpuMsOf(postmaster);
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const st = statOf(Number(d));
    if (st && st.ppid === postmaster) ms += st.cpuMs;
  }
  return ms;
}

/** RSS sampling period of the export benchmarks. */
export const SAMPLE_MS = 20;

/**
 * GET a streamed response and read it to the end, handing each chunk to `onChunk`, while sampling
 * `pid`'s resident memory every SAMPLE_MS. Returns bytes, seconds and the peak RSS seen.
 */
export async function readStreamed(url: string, token: string, pid: number, onChunk: (chunk: Uint8Array) => void) {
  let peak = rssOf(pid);
  const timer = setInterval(() => {
    peak = Math.max(peak, rssOf(pid));
  }, SAMPLE_MS);
  try {
    const t0 = performance.now();
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    if (res.status !== 200) throw new Error(`${url}: ${res.status} ${await res.text()}`);
    let bytes = 0;
    for await (const chunk of res.body as any as AsyncIterable<Uint8Array>) {
      bytes += chunk.length;
      onChunk(chunk);
    }
    return { bytes, seconds: (performance.now() - t0) / 1000, peakRss: Math.max(peak, rssOf(pid)) };
  } finally {
    clearInterval(timer);
  }
}
