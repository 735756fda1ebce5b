import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';

/**
 * The embedded database (PGlite) may be opened by one process only: two WASM PostgreSQL instances on
 * one folder lose rows and can corrupt it. Whoever opens the folder (the hub, or a CLI command when no
 * hub runs) first takes `hub.lock` in the data folder, atomically (O_EXCL). The file names the holder's
 * PID and, for a hub, its base URL and a local credential with which the CLI works through the hub's
 * HTTP API instead of opening the folder itself (docs/operations.md, "The data folder lock").
 */

export interface LockInfo {
  pid: number;
  host: string;
  /** `hub` for `npm start`, else the CLI command that holds the folder. */
  holder: string;
  startedAt: string;
  /** The hub's public base URL (the token issuer's), once it listens. */
  baseUrl?: string;
  /** Where the hub listens on this machine, for the CLI to call it. */
  url?: string;
  /** True once the hub's start-up is complete (migrations, demo data, credentials written). */
  ready?: boolean;
  /** A secret that authenticates the local CLI to this hub (the file is readable by its owner only). */
  localSecret?: string;
}

export class DataFolderHeld extends Error {
  constructor(
    readonly dataDir: string,
    readonly info: LockInfo,
  ) {
    super(describeHolder(dataDir, info));
  }
}

export function lockPath(dataDir: string): string {
  return resolve(dataDir, 'hub.lock');
}

function describeHolder(dataDir: string, info: LockInfo): string {
  const who =
    info.holder === 'hub'
      ? `the hub (PID ${info.pid}${info.baseUrl ? `, ${info.baseUrl}` : ''})`
      : `\`fmar ${info.holder}\` (PID ${info.pid})`;
  const elsewhere = info.host !== hostname() ? ` on host ${info.host}` : '';
  return `the embedded database in ${resolve(dataDir)} is in use by ${who}${elsewhere}`;
}

/** Whether a process with this PID is alive on this host (EPERM: alive, but not ours). */
function alive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The lock's holder, or undefined when the folder is free (no lock, or a stale one). */
export function readLock(dataDir: string): LockInfo | undefined {
  const info = parse(lockPath(dataDir));
  return info && !stale(info) ? info : undefined;
}

function parse(path: string): LockInfo | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockInfo;
  } catch {
    return undefined;
  }
}

/**
 * A lock is stale when its process is gone. A lock naming this very PID is stale too (a container
 * restarted with the same PID); one from another host cannot be checked and counts as held.
 */
function stale(info: LockInfo): boolean {
  if (info.host !== hostname()) return false;
  return info.pid === process.pid || !alive(info.pid);
}

export interface DataLock {
  info: LockInfo;
  /** Rewrite the lock with more facts (base URL, ready). */
  update(more: Partial<LockInfo>): void;
  release(): void;
}

/**
 * Take the folder's lock or throw DataFolderHeld naming its live holder. A stale lock (its process
 * died, e.g. kill -9) is taken over: it is first renamed aside, and only the process whose rename moved
 * the stale file itself goes on, so two processes racing for a stale lock cannot both win.
 */
export function acquireLock(dataDir: string, holder: string, opts: { withSecret?: boolean } = {}): DataLock {
  mkdirSync(resolve(dataDir), { recursive: true });
  const path = lockPath(dataDir);
  const info: LockInfo = {
    pid: process.pid,
    host: hostname(),
    holder,
    startedAt: new Date().toISOString(),
    ...(opts.withSecret ? { localSecret: randomBytes(32).toString('base64url') } : {}),
  };
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      try {
        writeSync(fd, JSON.stringify(info));
      } finally {
        closeSync(fd);
      }
      return held(path, info);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const current = parse(path);
    // A lock being written this instant reads as empty: look again shortly.
    if (!current) {
      sleep(50);
      if (!parse(path)) takeOver(path, undefined);
      continue;
    }
    if (!stale(current)) throw new DataFolderHeld(dataDir, current);
    takeOver(path, current);
  }
  const last = parse(path);
  if (last) throw new DataFolderHeld(dataDir, last);
  throw new Error(`could not take the lock ${path}`);
}

function takeOver(path: string, expected: LockInfo | undefined) {
  const aside = `${path}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    renameSync(path, aside);
  } catch {
    return; // someone else moved it first
  }
  const moved = parse(aside);
  const same = expected ? moved?.pid === expected.pid && moved?.startedAt === expected.startedAt : !moved;
  if (!same) {
    // We moved a fresh lock that another process had just taken: put it back (unless yet another exists).
    try {
      linkSync(aside, path);
    } catch {
      /* a newer lock exists; it decides */
    }
  }
  try {
    unlinkSync(aside);
  } catch {
    /* already gone */
  }
}

function held(path: string, info: LockInfo): DataLock {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    // Remove only our own lock (never one a successor took over after we were judged dead).
    if (parse(path)?.pid === info.pid && parse(path)?.startedAt === info.startedAt) {
      try {
        unlinkSync(path);
      } catch {
        /* gone */
      }
    }
  };
  process.on('exit', release);
  return {
    info,
    update(more) {
      Object.assign(info, more);
      const tmp = `${path}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(info), { mode: 0o600 });
      renameSync(tmp, path);
    },
    release,
  };
}

function sleep(ms: number) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
