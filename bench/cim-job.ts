/**
 * Benchmark: one large CIM import through the jobs API, end to end, as a DSO sends it: the file
 * (test/cim-large.ts, four objects per battery) is POSTed to /api/v1/cim/import-jobs as one
 * RDF/XML body (streamed to the database in parts), the job runs in the hub's job loop (parsed in
 * its thread from parts read back from the database) and its status is polled until it ends. The
 * hub's resident set is sampled every 250 ms throughout (upload, parse, match, report); the
 * slowest of the status requests made meanwhile says whether the API stalled.
 *
 *   npx tsx bench/cim-job.ts     (BENCH_CIM_OBJECTS=1000000 FMAR_PG_PORT=56700 BENCH_HUB_PORT=41710)
 *
 * BENCH_DB=embedded runs the hub on its embedded database (PGlite, in its data folder) instead of a
 * PostgreSQL server.
 */
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { writeLargeCimModel } from '../test/cim-large';
import { envInt, fmt, log, machine, rssOf, startHub, startPg, table } from './lib';

const OBJECTS = envInt('BENCH_CIM_OBJECTS', 1_000_000);
const PG_PORT = envInt('FMAR_PG_PORT', 56700);
const HUB_PORT = envInt('BENCH_HUB_PORT', 41710);
const EMBEDDED = process.env.BENCH_DB === 'embedded';

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'fmar-cim-job-'));
  try {
    const file = join(dir, 'model.xml');
    await writeLargeCimModel(file, Math.round((OBJECTS - 3) / 4));
    const bytes = statSync(file).size;
    log(`model: ${fmt(OBJECTS)} objects, ${fmt(bytes / 1e6, 1)} MB`);
    const pg = EMBEDDED ? undefined : startPg(PG_PORT);
    const hub = await startHub(pg?.url ?? '', HUB_PORT);
    log(`database: ${EMBEDDED ? 'embedded (PGlite)' : 'PostgreSQL'}`);
    const idle = rssOf(hub.pid);
    log(`hub pid ${hub.pid}, RSS idle ${fmt(idle / 1e6)} MB`);
    let peak = idle;
    /** The job's phase as last polled ('upload' until it is queued), and the peak RSS seen in each. */
    let phase = 'upload';
    const peaks: Record<string, number> = {};
    const sampler = setInterval(() => {
      const rss = rssOf(hub.pid);
      peak = Math.max(peak, rss);
      peaks[phase] = Math.max(peaks[phase] ?? 0, rss);
    }, 250);
    const t0 = performance.now();
    const res = await fetch(`${hub.baseUrl}/api/v1/cim/import-jobs?mode=enrich&dryRun=true`, {
      method: 'POST',
      headers: { authorization: `Bearer ${hub.tokens.dno}`, 'content-type': 'application/rdf+xml', 'x-file-name': 'model.xml' },
      body: Readable.toWeb(createReadStream(file)) as ReadableStream<Uint8Array>,
      duplex: 'half',
    } as RequestInit);
    const job = (await res.json()) as { id: string; status: string };
    if (res.status !== 202) throw new Error(`queue: ${res.status} ${JSON.stringify(job)}`);
    const uploadS = (performance.now() - t0) / 1000;
    log(`queued ${job.id} in ${fmt(uploadS, 1)} s; peak RSS so far ${fmt(peak / 1e6)} MB`);
    let slowest = 0;
    /** The phase the slowest status request was answered in, and the three slowest with theirs. */
    let slowestPhase = '';
    const slow: { ms: number; phase: string }[] = [];
    let last: { status: string; progress: Record<string, unknown> } | undefined;
    for (;;) {
      const t = performance.now();
      const r = await fetch(`${hub.baseUrl}/api/v1/cim/import-jobs/${job.id}`, { headers: { authorization: `Bearer ${hub.tokens.dno}` } });
      const ms = performance.now() - t;
      if (ms > slowest) [slowest, slowestPhase] = [ms, phase];
      slow.push({ ms: Math.round(ms), phase });
      last = (await r.json()) as typeof last;
      phase = String(last!.progress.phase ?? last!.status);
      if (last!.status === 'SUCCEEDED' || last!.status === 'FAILED') break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    const totalS = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    const report = (await (
      await fetch(`${hub.baseUrl}/api/v1/cim/import-jobs/${job.id}/report`, { headers: { authorization: `Bearer ${hub.tokens.dno}` } })
    ).json()) as Record<string, unknown>;
    log(`job ${last!.status}: ${JSON.stringify(last!.progress)}`);
    log(
      `peak RSS by phase: ${Object.entries(peaks)
        .map(([p, b]) => `${p} ${fmt(b / 1e6)} MB`)
        .join(', ')}`,
    );
    log(`report: ${JSON.stringify(report).slice(0, 600)}`);
    log(`slowest status requests: ${JSON.stringify(slow.sort((a, b) => b.ms - a.ms).slice(0, 3))}`);
    console.log('\n## CIM import job: results\n');
    console.log('machine', JSON.stringify(machine()), '\n');
    table(
      ['objects', 'document', 'upload (202)', 'to the end', 'hub RSS idle', 'hub peak RSS', 'slowest status request', 'status'],
      [
        [
          fmt(OBJECTS),
          `${fmt(bytes / 1e6, 1)} MB`,
          `${fmt(uploadS, 1)} s`,
          `${fmt(totalS, 1)} s`,
          `${fmt(idle / 1e6)} MB`,
          `${fmt(peak / 1e6)} MB`,
          `${fmt(slowest)} ms (${slowestPhase})`,
          last!.status,
        ],
      ],
    );
    await hub.stop();
    pg?.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
