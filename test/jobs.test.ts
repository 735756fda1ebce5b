import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config';
import { jsonLogger } from '../src/http/request-log';
import {
  BACKGROUND_JOBS,
  EVERY_15_MINUTES,
  EVERY_5_MINUTES,
  EVERY_MINUTE,
  HOURLY,
  runScheduledJobs,
  startJobTimers,
  workerCrons,
  type BackgroundJob,
  type JobHost,
} from '../src/jobs';
import { WORKER_MAX_BULK_BYTES, WORKER_MAX_CIM_BYTES, misconfiguredResponse, workerConfig } from '../src/worker-config';
import { testHub, type TestHub } from './harness';

const wranglerToml = readFileSync(new URL('../wrangler.toml', import.meta.url), 'utf8');

describe('one list of background jobs for both runtimes', () => {
  it('names each job once, in the order a Cron Trigger runs them (writers, then delivery, then sealing)', () => {
    expect(BACKGROUND_JOBS.map((j) => j.name)).toEqual([
      'due-switches',
      'data-quality-validation',
      'cim-import-jobs',
      'webhook-delivery',
      'audit-seal',
      'sweep',
      'consent-status-lists',
      'consent-replay-purge',
      'credential-expiry',
      'data-quality-staleness',
      'data-quality-scorecard-history',
      'delivery-prune',
    ]);
  });

  it('wrangler.toml declares exactly the Cron Triggers the jobs name', () => {
    const m = /^\[triggers\]\s*\ncrons = (\[.*\])$/m.exec(wranglerToml);
    expect(m).not.toBeNull();
    expect(JSON.parse(m![1])).toEqual(workerCrons());
    expect(workerCrons()).toEqual([EVERY_MINUTE, EVERY_5_MINUTES, EVERY_15_MINUTES, HOURLY]);
  });

  it('a job that runs every minute or more often on Node runs every minute on Workers; the others at their own period', () => {
    const minutes: Record<string, number> = { [EVERY_MINUTE]: 1, [EVERY_5_MINUTES]: 5, [EVERY_15_MINUTES]: 15, [HOURLY]: 60 };
    for (const j of BACKGROUND_JOBS) expect([j.name, minutes[j.cron]]).toEqual([j.name, Math.max(1, j.everyMs / 60_000)]);
  });
});

describe('runScheduledJobs (the Worker’s scheduled handler)', () => {
  const ran: string[] = [];
  const job = (name: string, cron: string, over: Partial<BackgroundJob> = {}): BackgroundJob => ({
    name,
    cron,
    everyMs: 60_000,
    run: async () => {
      ran.push(name);
      return name.length;
    },
    ...over,
  });
  const host = {} as JobHost;

  it('runs the jobs of that cron only, in order; a disabled job is reported, a failing one does not stop the next', async () => {
    ran.length = 0;
    const errors: string[] = [];
    const report = await runScheduledJobs(EVERY_MINUTE, host, {
      jobs: [
        job('one', EVERY_MINUTE),
        job('hourly', HOURLY),
        job('off', EVERY_MINUTE, { enabled: () => false }),
        job('broken', EVERY_MINUTE, {
          run: async () => {
            throw new Error('registry down');
          },
        }),
        job('three', EVERY_MINUTE),
      ],
      onError: (n, e) => errors.push(`${n}: ${(e as Error).message}`),
    });
    expect(ran).toEqual(['one', 'three']);
    expect(report).toEqual({ one: 3, off: 'disabled', broken: { error: 'registry down' }, three: 5 });
    expect(errors).toEqual(['broken: registry down']);
  });
});

describe('startJobTimers (the Node runner)', () => {
  it('runs atStart jobs at once, each job again everyMs after its run, wakes one on demand, and stop waits for a running job', async () => {
    const runs: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const timers = startJobTimers({} as JobHost, {
      jobs: [
        { name: 'start', cron: EVERY_MINUTE, everyMs: 60_000, atStart: true, run: async () => (runs.push('start'), 0) },
        { name: 'woken', cron: EVERY_MINUTE, everyMs: 60_000, run: async () => (runs.push('woken'), 0) },
        { name: 'off', cron: EVERY_MINUTE, everyMs: 10, enabled: () => false, run: async () => (runs.push('off'), 0) },
        {
          name: 'slow',
          cron: EVERY_MINUTE,
          everyMs: 60_000,
          run: async () => {
            runs.push('slow');
            await held;
            return 1;
          },
        },
      ],
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(runs).toEqual(['start']);
    timers.wake('woken');
    timers.wake('slow');
    timers.wake('off');
    await new Promise((r) => setTimeout(r, 20));
    expect(runs).toEqual(['start', 'woken', 'slow']);
    let stopped = false;
    const stopping = timers.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(stopped).toBe(true);
    timers.wake('woken');
    await new Promise((r) => setTimeout(r, 20));
    expect(runs).toEqual(['start', 'woken', 'slow']);
  });

  it('is alive while every job ran within its period and a minute; names the stalled ones; not alive once stopped', async () => {
    const log: string[] = [];
    const timers = startJobTimers({ log: jsonLogger('debug', (l) => log.push(l)) } as unknown as JobHost, {
      jobs: [
        { name: 'often', cron: EVERY_MINUTE, everyMs: 1_000, atStart: true, run: async () => 2 },
        { name: 'hourly', cron: EVERY_MINUTE, everyMs: 3_600_000, run: async () => 0 },
      ],
    });
    await new Promise((r) => setTimeout(r, 20));
    const now = Date.now();
    expect(timers.alive(now)).toBe(true);
    expect(timers.stalled(now + 62_000)).toEqual(['often']); // 1 s period + 60 s grace passed without a run
    expect(timers.stalled(now + 3_700_000)).toEqual(['often', 'hourly']);
    expect(log.map((l) => JSON.parse(l) as { msg: string; job: string; did: number })).toEqual([
      expect.objectContaining({ level: 'info', msg: 'job', job: 'often', did: 2 }),
    ]);
    await timers.stop();
    expect(timers.alive()).toBe(false);
    expect(timers.stalled()).toEqual(['often', 'hourly']);
  });
});

describe('the every-minute jobs on a database', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await testHub();
  });
  afterAll(async () => hub?.close());

  it('seal every audit record the seeding wrote; nothing else is due', async () => {
    const unsealed = async () => Number((await hub.db.query(`SELECT count(*)::int AS n FROM audit_log WHERE seq IS NULL`))[0].n);
    const before = await unsealed();
    expect(before).toBeGreaterThan(0);
    const report = await runScheduledJobs(EVERY_MINUTE, {
      ctx: hub.ctx,
      source: 'http://hub.test',
      production: false,
      maxCimBytes: 1_048_576,
      worker: 'test',
      deadline: Date.now() + 30_000,
    });
    expect(report).toEqual({
      'due-switches': 0,
      'data-quality-validation': 'disabled',
      'cim-import-jobs': 0,
      'webhook-delivery': 0,
      'audit-seal': before,
    });
    expect(await unsealed()).toBe(0);
  });
});

describe('the Worker’s settings (src/worker-config.ts)', () => {
  const db = { HYPERDRIVE: { connectionString: 'postgres://u:p@db.example:5432/fmar' } };

  it('production without FMAR_BASE_URL and FMAR_ISSUER is refused, naming both', () => {
    expect(() => workerConfig({ ...db, FMAR_MODE: 'production' }, 'https://w.example')).toThrow(
      new ConfigError('production mode needs FMAR_ISSUER, FMAR_BASE_URL; demo data and generated keys are refused'),
    );
  });

  it('no Hyperdrive binding and no DATABASE_URL is refused, saying how to give one', () => {
    expect(() =>
      workerConfig({ FMAR_MODE: 'production', FMAR_BASE_URL: 'https://fmar.example', FMAR_ISSUER: 'https://fmar.example' }, 'https://w'),
    ).toThrow(new ConfigError('no database: bind Hyperdrive as HYPERDRIVE (wrangler.toml) or set the DATABASE_URL secret'));
  });

  it('defaults: audience <FMAR_BASE_URL>/api, the Worker’s 4 MiB bulk limit; FMAR_MAX_BULK_BYTES and FMAR_AUDIENCE override', () => {
    const cfg = workerConfig(
      { ...db, FMAR_MODE: 'production', FMAR_BASE_URL: 'https://fmar.example', FMAR_ISSUER: 'https://id.example' },
      'https://w',
    );
    expect([cfg.issuer, cfg.audience, cfg.maxBulkBytes, cfg.maxCimBytes, cfg.maxBodyBytes]).toEqual([
      'https://id.example',
      'https://fmar.example/api',
      WORKER_MAX_BULK_BYTES,
      WORKER_MAX_CIM_BYTES,
      1_048_576,
    ]);
    expect([WORKER_MAX_BULK_BYTES, WORKER_MAX_CIM_BYTES]).toEqual([4_194_304, 2_097_152]);
    const over = workerConfig(
      { DATABASE_URL: 'postgres://u:p@h/db', FMAR_BASE_URL: 'https://a.example', FMAR_MAX_BULK_BYTES: '1000', FMAR_AUDIENCE: 'urn:fmar' },
      'https://w',
    );
    expect([over.maxBulkBytes, over.audience]).toEqual([1000, 'urn:fmar']);
    // On Node a CIM import may be as large as a bulk load unless FMAR_MAX_CIM_BYTES says otherwise.
    expect([
      loadConfig({}).maxCimBytes,
      loadConfig({ FMAR_MAX_BULK_BYTES: '5000' }).maxCimBytes,
      loadConfig({ FMAR_MAX_CIM_BYTES: '7' }).maxCimBytes,
    ]).toEqual([67_108_864, 5000, 7]);
  });

  it('development without FMAR_BASE_URL takes the URL the Worker was reached at', () => {
    const cfg = workerConfig({ ...db }, 'http://127.0.0.1:8787');
    expect([cfg.mode, cfg.baseUrl, cfg.issuer, cfg.audience]).toEqual([
      'development',
      'http://127.0.0.1:8787',
      'http://127.0.0.1:8787',
      'http://127.0.0.1:8787/api',
    ]);
  });

  it('misconfigured: /healthz answers 503 saying what is missing; other routes a 503 HUB-MISCONFIGURED problem', async () => {
    const now = new Date('2026-12-07T12:00:00.000Z');
    const health = misconfiguredResponse('/healthz', 'production mode needs FMAR_ISSUER', now);
    expect(health.status).toBe(503);
    expect(health.headers.get('content-type')).toBe('application/json');
    expect(await health.json()).toEqual({
      status: 'misconfigured',
      detail: 'The hub is misconfigured: production mode needs FMAR_ISSUER. See docs/workers.md, "Settings".',
      time: '2026-12-07T12:00:00.000Z',
    });
    const api = misconfiguredResponse('/api/v1/assets', 'production mode needs FMAR_ISSUER', now);
    expect(api.status).toBe(503);
    expect(api.headers.get('content-type')).toBe('application/problem+json');
    expect(api.headers.get('retry-after')).toBe('60');
    const body = (await api.json()) as { code: string; status: number; detail: string };
    expect([body.code, body.status, body.detail]).toEqual([
      'HUB-MISCONFIGURED',
      503,
      'The hub is misconfigured: production mode needs FMAR_ISSUER. See docs/workers.md, "Settings".',
    ]);
  });
});
