import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { threadId } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CimParseError } from '../cim/index';
import { runCimJobsOnce, startCimJobWorker } from '../src/cim/jobs';
import { Problem } from '../src/http/problem';
import { nodeCimParser } from '../src/node/cim-parser';
import { writeLargeCimModel } from './cim-large';
import { expectRefused, nodeTestHub, rowCounts, type NodeTestHub } from './harness';

/**
 * No request stalls the hub: a real Node hub on the embedded database (PGlite, on disk) queues a ~60 MB
 * CIM model, and while it is stored, parsed (in a worker thread) and matched, /healthz is asked
 * every ~50 ms and must answer every time within 100 ms. The bound is the requirement, so this
 * test measures time; the figures it sees are printed for docs/performance.md.
 */

const HEALTH_BOUND_MS = 100;
/** Batteries in the large model (about 1.24 KB each, so about 60 MB). */
const BATTERIES = 50_000;
/** Resident memory of the whole test process (hub, embedded database, parse thread) must stay below this. */
const RSS_BOUND_MB = 3072;
const TABLES = ['asset', 'asset_alias', 'cim_network_ref', 'record_history', 'event_outbox'];

let hub: NodeTestHub;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fmar-stall-'));
  // The embedded database on disk, as `npm start` runs it.
  hub = await nodeTestHub({}, { dataDir: join(dir, 'data') });
});
afterAll(async () => {
  await hub?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** /healthz round trips every ~50 ms until stopped, and the largest resident size seen meanwhile. */
function watchHealth(base: string, phase: () => string = () => 'idle') {
  const rtts: number[] = [];
  const slowest: { ms: number; phase: string }[] = [];
  const failures: string[] = [];
  let maxRss = process.memoryUsage().rss;
  let running = true;
  const done = (async () => {
    while (running) {
      const t = performance.now();
      const r = await fetch(`${base}/healthz`);
      await r.text();
      const ms = performance.now() - t;
      rtts.push(ms);
      if (ms > HEALTH_BOUND_MS) slowest.push({ ms: Math.round(ms), phase: phase() });
      if (r.status !== 200) failures.push(`healthz ${r.status}`);
      maxRss = Math.max(maxRss, process.memoryUsage().rss);
      await sleep(50);
    }
  })();
  return {
    rtts,
    failures,
    slowest,
    maxRss: () => maxRss,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

/** POST a file with curl in a child process; the status, headers and JSON body. */
async function upload(
  url: string,
  file: string,
  auth: string,
  streamed: boolean,
): Promise<{ status: number; json: any; headers: Map<string, string> }> {
  const { stdout } = await run('curl', [
    '-s',
    '-i',
    '-X',
    'POST',
    '-H',
    `authorization: ${auth}`,
    '-H',
    'content-type: application/rdf+xml',
    '-H',
    'x-file-name: large.xml',
    '-H',
    'expect:',
    // Chunked, without a Content-Length: the hub streams the body to the database as it arrives.
    ...(streamed ? ['-H', 'transfer-encoding: chunked'] : []),
    '--data-binary',
    `@${file}`,
    url,
  ]);
  const [head, ...rest] = stdout.split('\r\n\r\n');
  const lines = head.split('\r\n');
  const headers = new Map(
    lines.slice(1).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()] as [string, string]),
  );
  return { status: Number(lines[0].split(' ')[1]), json: JSON.parse(rest.join('\r\n\r\n')), headers };
}

async function authorization(as: 'dno' | 'operator') {
  return `Bearer ${await hub.devToken(as)}`;
}

describe('a 60 MB CIM import does not stall the hub', () => {
  it.each([
    ['read whole (its Content-Length is within FMAR_MAX_CIM_BYTES)', false],
    ['streamed to the database as it arrives (chunked, no Content-Length; as a job above FMAR_MAX_CIM_BYTES is)', true],
  ])(
    'queued and run by the job worker, the body %s: /healthz answers within 100 ms throughout; the job finishes; memory stays bounded',
    async (_how, streamed) => {
      const file = join(dir, 'large.xml');
      const bytes = await writeLargeCimModel(file, BATTERIES);
      expect(bytes).toBeGreaterThan(60_000_000);
      expect(bytes).toBeLessThan(hub.cfg.maxBulkBytes);
      const before = await rowCounts(hub.db, TABLES);
      // The same watch on the idle hub first: what the machine alone costs (printed beside the import's figures).
      const idle = watchHealth(hub.base);
      await sleep(10_000);
      await idle.stop();
      console.info(
        `[stall] /healthz on the idle hub: ${idle.rtts.length} round trips, median ${median(idle.rtts).toFixed(1)} ms, max ${Math.max(...idle.rtts).toFixed(1)} ms, ${idle.slowest.length} over ${HEALTH_BOUND_MS} ms; resident ${(idle.maxRss() / 1_048_576).toFixed(0)} MB`,
      );
      const worker = startCimJobWorker(hub.ctx, {
        worker: 'stall-test',
        leaseMs: 600_000,
        intervalMs: 200,
        maxBytes: hub.cfg.maxBulkBytes,
        parser: hub.node.hub.ports.cimParser,
      });
      let phase = 'upload';
      const health = watchHealth(hub.base, () => phase);
      // How long the event loop was held at a time while the upload was stored (printed, not asserted: /healthz is the bound).
      const loop = monitorEventLoopDelay({ resolution: 10 });
      loop.enable();
      const startedAt = performance.now();
      let job;
      try {
        // The client is another process (curl), as it would be: the hub's event loop serves only the upload.
        const q = await upload(`${hub.base}/api/v1/cim/import-jobs?mode=enrich`, file, await authorization('dno'), streamed);
        loop.disable();
        const ms = (ns: number) => (ns / 1e6).toFixed(1);
        console.info(
          `[stall] event-loop delay during the upload: p50 ${ms(loop.percentile(50))} ms, p99 ${ms(loop.percentile(99))} ms, max ${ms(loop.max)} ms (${q.headers.get('location') ? 'queued' : 'refused'})`,
        );
        const queued = q.json;
        expect(q.status, JSON.stringify(queued)).toBe(202);
        const queuedAfter = performance.now() - startedAt;
        phase = 'queued';
        for (;;) {
          await sleep(500);
          const r = await fetch(`${hub.base}${q.headers.get('location')}`, { headers: { authorization: await authorization('dno') } });
          job = await r.json();
          if (job.status === 'SUCCEEDED' || job.status === 'FAILED') break;
          phase = `${job.status} ${job.progress.phase ?? ''}`.trim();
        }
        const total = performance.now() - startedAt;
        console.info(
          `[stall] ${(bytes / 1_048_576).toFixed(1)} MB: queued in ${(queuedAfter / 1000).toFixed(1)} s, finished in ${(total / 1000).toFixed(1)} s`,
        );
      } finally {
        await health.stop();
        await worker.stop();
      }
      const rtts = health.rtts;
      console.info(
        `[stall] /healthz during the import: ${rtts.length} round trips, median ${median(rtts).toFixed(1)} ms, max ${Math.max(...rtts).toFixed(1)} ms; max resident ${(health.maxRss() / 1_048_576).toFixed(0)} MB`,
      );
      console.info(`[stall] over ${HEALTH_BOUND_MS} ms: ${JSON.stringify(health.slowest)}`);

      // The job finished: every battery parsed, none matched (the MPANs are nobody's), nothing written.
      expect(job, JSON.stringify(job)).toMatchObject({
        status: 'SUCCEEDED',
        progress: { equipment: BATTERIES, objectsProcessed: BATTERIES * 4 + 3 },
      });
      const report = await fetch(`${hub.base}${job.report}`, { headers: { authorization: await authorization('dno') } });
      const r = await report.json();
      expect(report.status).toBe(200);
      expect(r).toMatchObject({ equipment: BATTERIES, matched: 0, enriched: 0, issueCounts: { 'CIM-MPAN-NOT-FOUND': BATTERIES } });
      expect(r.issues).toHaveLength(500);
      expect(await rowCounts(hub.db, TABLES)).toEqual(before);
      expect((await hub.db.query(`SELECT count(*)::int AS n FROM cim_import_job_file`))[0].n).toBe(0);

      // The hub answered throughout, within the bound, and its memory stayed bounded.
      expect(health.failures).toEqual([]);
      expect(rtts.length).toBeGreaterThan(20);
      expect(health.maxRss() / 1_048_576).toBeLessThan(RSS_BOUND_MB);
      expect(Math.max(...rtts), `slowest /healthz round trip (median ${median(rtts).toFixed(1)} ms)`).toBeLessThan(HEALTH_BOUND_MS);
    },
    900_000,
  );
});

describe('the parse thread', () => {
  const model = (n: number) => {
    const path = join(dir, `m${n}.xml`);
    return writeLargeCimModel(path, n).then(() => Uint8Array.from(readFileSync(path)));
  };

  it('parses in a worker thread (not the API’s), under tsx/vitest, and hands back the neutral model', async () => {
    const content = await model(2000);
    const parser = nodeCimParser({ maxMemoryMb: 512, threadAboveBytes: 1024 });
    const m = await parser.parse([{ name: 'm.xml', content }], { unit: 'W', maxBytes: 64 << 20 });
    expect(m.threadId).toBeGreaterThan(0);
    expect(m.threadId).not.toBe(threadId);
    expect(m).toMatchObject({ objects: 2000 * 4 + 3, classes: { BatteryUnit: 2000, PowerElectronicsConnection: 2000 } });
    expect(m.equipment).toHaveLength(2000);
    expect(m.equipment[0]).toMatchObject({
      className: 'PowerElectronicsConnection',
      category: 'BESS',
      importMpan: '1000000000000',
      input: { ratedCapacityKw: 5 },
    });
    // Small models stay in process: starting a thread costs more than they do.
    const small = await nodeCimParser({ maxMemoryMb: 512, threadAboveBytes: 64 << 20 }).parse(
      [{ name: 'm.xml', content: await model(10) }],
      { unit: 'W', maxBytes: 64 << 20 },
    );
    expect(small.threadId).toBeUndefined();
  });

  it('a refused document is the parser’s own error, with its rule code and location, from the thread too', async () => {
    const parser = nodeCimParser({ maxMemoryMb: 512, threadAboveBytes: 0 });
    const deep = `<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">${'<a>'.repeat(40)}${'</a>'.repeat(40)}</rdf:RDF>`;
    const e = await parser.parse([{ name: 'deep.xml', content: new TextEncoder().encode(deep) }], { unit: 'W', maxBytes: 1 << 20 }).then(
      () => undefined,
      (x) => x,
    );
    expect(e).toBeInstanceOf(CimParseError);
    expect(e).toMatchObject({ code: 'CIM-XML-TOO-DEEP', location: { file: 'deep.xml', line: 1 } });
  });

  it('a parse beyond the memory bound fails with CIM-IMPORT-MEMORY (413); as a job, it FAILS with that problem and writes nothing; the hub lives on', async () => {
    // 40,000 batteries (about 50 MB, 160,003 objects, a model of about 64 MB): beyond a 48 MB bound even with the thread's collections.
    const content = await model(40_000);
    const bounded = nodeCimParser({ maxMemoryMb: 48, threadAboveBytes: 0 });
    // The bound leaves room for the thread itself: a small model parses in it.
    expect(
      (await bounded.parse([{ name: 's.xml', content: await model(10) }], { unit: 'W', maxBytes: 64 << 20 })).threadId,
    ).toBeGreaterThan(0);
    const e = await bounded.parse([{ name: 'm.xml', content: content.slice() }], { unit: 'W', maxBytes: 64 << 20 }).then(
      () => undefined,
      (x) => x,
    );
    expect(e).toBeInstanceOf(Problem);
    expect(e).toMatchObject({ code: 'CIM-IMPORT-MEMORY', status: 413 });

    const before = await rowCounts(hub.db, TABLES);
    const q = await fetch(`${hub.base}/api/v1/cim/import-jobs?mode=enrich`, {
      method: 'POST',
      headers: { authorization: await authorization('dno'), 'content-type': 'application/rdf+xml' },
      body: content,
    });
    const queued = await q.json();
    expect(q.status, JSON.stringify(queued)).toBe(202);
    expect(await runCimJobsOnce(hub.ctx, { worker: 'bounded', leaseMs: 600_000, parser: bounded }, hub.cfg.maxBulkBytes)).toBe(1);
    const job = await (
      await fetch(`${hub.base}/api/v1/cim/import-jobs/${queued.id}`, { headers: { authorization: await authorization('dno') } })
    ).json();
    expect(job).toMatchObject({ status: 'FAILED', error: { code: 'CIM-IMPORT-MEMORY' } });
    const report = await fetch(`${hub.base}/api/v1/cim/import-jobs/${queued.id}/report`, {
      headers: { authorization: await authorization('dno') },
    });
    expect(report.status).toBe(413);
    expect((await report.json()).code).toBe('CIM-IMPORT-MEMORY');
    expect(await rowCounts(hub.db, TABLES)).toEqual(before);
    expect((await fetch(`${hub.base}/healthz`)).status).toBe(200);
  }, 300_000); // a 50 MB upload stored in parts, then parsed until the bound is reached: minutes on a loaded machine

  it('the synchronous import parses above the threshold in the bounded thread (FMAR_PARSER_*), below it in process', async () => {
    // 32 MB: the 25 MB model (20,000 batteries, 80,003 objects) needs more, while the 2.5 MB one fits. (64 MB no
    // longer refuses it: the model takes about 400 bytes an object, docs/performance.md.)
    const other = await nodeTestHub({ FMAR_PARSER_MAX_MEMORY_MB: '32', FMAR_PARSER_THREAD_ABOVE_BYTES: '1048576' });
    try {
      const post = async (content: Uint8Array<ArrayBuffer>) => {
        const r = await fetch(`${other.base}/api/v1/cim/import?mode=enrich`, {
          method: 'POST',
          headers: { authorization: `Bearer ${await other.devToken('dno')}`, 'content-type': 'application/rdf+xml' },
          body: content,
        });
        return { status: r.status, json: await r.json() };
      };
      const large = await model(20_000);
      const tables = ['asset', 'asset_alias', 'cim_network_ref', 'audit_log', 'event_outbox'];
      await expectRefused(other.db, tables, () => post(large), 413, 'CIM-IMPORT-MEMORY');
      // 2,000 batteries (~2.5 MB) need far less than 32 MB: the thread parses them; 10 stay in process.
      expect(await post(await model(2000))).toMatchObject({
        status: 200,
        json: { equipment: 2000, issueCounts: { 'CIM-MPAN-NOT-FOUND': 2000 } },
      });
      expect(await post(await model(10))).toMatchObject({ status: 200, json: { equipment: 10 } });
    } finally {
      await other.close();
    }
  });
});
