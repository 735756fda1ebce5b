/**
 * Benchmark: memory and time of parsing a large CIM model, as an import job's parse thread does it
 * (digestCimFiles: parse, merge, extract), for growing object counts. Each size runs in a fresh
 * child process, which reports its peak resident set (the document, the parser's tree, the
 * objects and the result); the parent prints the table.
 *
 *   npx tsx bench/cim-memory.ts          (BENCH_CIM_OBJECTS=50000,100000,200000)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digestCimFiles } from '../cim/index';
import { writeLargeCimModel } from '../test/cim-large';
import { fmt, table } from './lib';

async function child(objects: number) {
  const dir = mkdtempSync(join(tmpdir(), 'fmar-cim-mem-'));
  try {
    const file = join(dir, 'model.xml');
    // Four objects per battery (connection, unit, usage point, MPAN name), plus three shared ones.
    const bytes = await writeLargeCimModel(file, Math.round((objects - 3) / 4));
    const content = readFileSync(file);
    const before = process.memoryUsage().rss;
    const t0 = performance.now();
    const m = digestCimFiles([{ name: 'model.xml', content }], { unit: 'W', maxBytes: 1e12 });
    const seconds = (performance.now() - t0) / 1000;
    const peak = process.resourceUsage().maxRSS * 1024;
    console.log(JSON.stringify({ objects: m.objects, equipment: m.equipment.length, bytes, seconds, before, peak }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function main() {
  const sizes = (process.env.BENCH_CIM_OBJECTS ?? '50000,100000,200000').split(',').map(Number);
  const rows: string[][] = [];
  for (const n of sizes) {
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--max-old-space-size=8192', import.meta.filename, 'child', String(n)], {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    });
    const r = JSON.parse(out.trim().split('\n').pop()!) as {
      objects: number;
      equipment: number;
      bytes: number;
      seconds: number;
      before: number;
      peak: number;
    };
    rows.push([
      fmt(r.objects),
      `${fmt(r.bytes / 1e6, 1)} MB`,
      `${fmt(r.seconds, 1)} s`,
      `${fmt(r.bytes / 1e6 / r.seconds, 1)} MB/s`,
      `${fmt(r.before / 1e6)} MB`,
      `${fmt(r.peak / 1e6)} MB`,
      `${fmt((r.peak - r.before) / r.objects)} B`,
    ]);
    console.error(`${fmt(r.objects)} objects: ${rows[rows.length - 1].join(', ')}`);
  }
  table(['objects', 'document', 'parse + merge + extract', 'rate', 'RSS before', 'peak RSS', 'peak growth per object'], rows);
}

if (process.argv[2] === 'child') await child(Number(process.argv[3]));
else main();
