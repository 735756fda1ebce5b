/**
 * Summarise a V8 .cpuprofile (from `node --cpu-prof`, e.g. BENCH_HUB_NODE_ARGS="--cpu-prof
 * --cpu-prof-dir=/tmp/prof"): self time by function and by file, top N.
 *   npx tsx bench/cpuprofile.ts /tmp/prof/CPU.*.cpuprofile [topN]
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
const file = process.argv[2];
const top = Number(process.argv[3] ?? 30);
const prof = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
for (let i = 0; i < prof.samples.length; i++) self.set(prof.samples[i], (self.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const fn = new Map<string, number>();
const url = new Map<string, number>();
for (const [id, us] of self) {
  const n = byId.get(id)!;
  const short = n.callFrame.url.replace(/^.*\/node_modules\//, 'nm:').replace(/^.*\/work\/main\//, '');
  const k = `${n.callFrame.functionName || '(anonymous)'} ${short}:${n.callFrame.lineNumber + 1}`;
  fn.set(k, (fn.get(k) ?? 0) + us);
  const u = short.startsWith('nm:')
    ? short
        .split('/')
        .slice(0, short.startsWith('nm:@') ? 2 : 1)
        .join('/')
    : short || n.callFrame.functionName;
  url.set(u, (url.get(u) ?? 0) + us);
}
const show = (m: Map<string, number>, title: string) => {
  console.log(`\n${title} (total ${(total / 1e6).toFixed(2)} s sampled)`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`${(us / 1e3).toFixed(0).padStart(8)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
};
show(fn, 'self time by function');
show(url, 'self time by file / package');
