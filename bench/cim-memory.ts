/**
 * Benchmark: memory and time of parsing a large CIM model, as an import job's parse thread does it
 * (digestCimFiles: parse, merge, extract, the bytes let go once decoded), for growing object counts.
 * Each size runs in a fresh child process, which reports its peak resident set (the document, one
 * slice's parse tree, the objects, the result and whatever garbage the collector had not yet
 * reclaimed) and, after a full collection once the merged model is built, the heap the model holds
 * (the objects alone: the text is gone by then); the parent prints the table.
 *
 *   npx tsx bench/cim-memory.ts          (BENCH_CIM_OBJECTS=50000,100000,200000; BENCH_HEAP_MB=8192, the
 *                                         heap bound, 2048 as the parse thread's default; BENCH_CIM_LIVE=0 skips
 *                                         the model-heap measure, which parses the document a second time)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digestCimFiles, mergeDocuments, parseCimXml } from '../cim/index';
import { writeLargeCimModel } from '../test/cim-large';
import { fmt, table } from './lib';

async function child(objects: number) {
  const dir = mkdtempSync(join(tmpdir(), 'fmar-cim-mem-'));
  try {
    const file = join(dir, 'model.xml');
    // Four objects per battery (connection, unit, usage point, MPAN name), plus three shared ones.
    const bytes = await writeLargeCimModel(file, Math.round((objects - 3) / 4));
    let content: Buffer | undefined = readFileSync(file);
    const before = process.memoryUsage().rss;
    const t0 = performance.now();
    const files = [{ name: 'model.xml', content: content as Uint8Array | string }];
    content = undefined;
    const m = digestCimFiles(files, { unit: 'W', maxBytes: 1e12, release: true });
    const seconds = (performance.now() - t0) / 1000;
    const peak = process.resourceUsage().maxRSS * 1024;
    if (process.env.BENCH_CIM_LIVE === '0') {
      console.log(JSON.stringify({ objects: m.objects, equipment: m.equipment.length, bytes, seconds, before, peak, live: null }));
      return;
    }
    // The merged model's own size: parsed again, the heap measured after a full collection with the model alive.
    const gc = (globalThis as { gc?: () => void }).gc!;
    gc();
    const idle = process.memoryUsage().heapUsed;
    const model = mergeDocuments([parseCimXml(readFileSync(file), 'model.xml', { maxBytes: 1e12 })]);
    gc();
    const live = process.memoryUsage().heapUsed - idle;
    console.log(
      JSON.stringify({ objects: m.objects, equipment: m.equipment.length, bytes, seconds, before, peak, live: live / model.objects.size }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function main() {
  const sizes = (process.env.BENCH_CIM_OBJECTS ?? '50000,100000,200000').split(',').map(Number);
  const rows: string[][] = [];
  for (const n of sizes) {
    const out = execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--expose-gc',
        `--max-old-space-size=${process.env.BENCH_HEAP_MB ?? 8192}`,
        import.meta.filename,
        'child',
        String(n),
      ],
      {
        encoding: 'utf8',
        maxBuffer: 1 << 20,
      },
    );
    console.error(out.trim());
    const r = JSON.parse(out.trim().split('\n').pop()!) as {
      objects: number;
      equipment: number;
      bytes: number;
      seconds: number;
      before: number;
      peak: number;
      /** null when not measured (BENCH_CIM_LIVE=0). */
      live: number | null;
    };
    rows.push([
      fmt(r.objects),
      `${fmt(r.bytes / 1e6, 1)} MB`,
      `${fmt(r.seconds, 1)} s`,
      `${fmt(r.bytes / 1e6 / r.seconds, 1)} MB/s`,
      `${fmt(r.before / 1e6)} MB`,
      `${fmt(r.peak / 1e6)} MB`,
      `${fmt((r.peak - r.before) / r.objects)} B`,
      r.live === null ? '–' : `${fmt(r.live)} B`,
    ]);
    console.error(`${fmt(r.objects)} objects: ${rows[rows.length - 1].join(', ')}`);
  }
  table(
    ['objects', 'document', 'parse + merge + extract', 'rate', 'RSS before', 'peak RSS', 'peak growth per object', 'model heap per object'],
    rows,
  );
}

if (process.argv[2] === 'child') await child(Number(process.argv[3]));
else main();
