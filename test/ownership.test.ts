import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * docs/architecture.md, "Who writes which table": only a table's owner INSERTs, UPDATEs or DELETEs
 * it; other modules call the owner. This reads that table and every SQL write in the sources, so the
 * document stays true of the code and a write outside its owner fails here.
 */
const ROOT = join(import.meta.dirname, '..');

function ownersFromDoc(): { owners: Map<string, string[]> } {
  const doc = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');
  const start = doc.indexOf('**Who writes which table.**');
  expect(start).toBeGreaterThan(0);
  const rows = doc
    .slice(start)
    .split('\n')
    .slice(1)
    .filter((l) => l.startsWith('| `'));
  const owners = new Map<string, string[]>();
  for (const row of rows) {
    const [, ownerCell, tableCell] = row.split('|');
    const folders = [...ownerCell.matchAll(/`([^`]+)`/g)].map((m) => m[1].replace(/\/$/, ''));
    for (const m of tableCell.matchAll(/`([a-z_]+)`/g)) owners.set(m[1], [...(owners.get(m[1]) ?? []), ...folders]);
  }
  return { owners };
}

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((f) => {
    const p = `${dir}/${f}`;
    if (statSync(join(ROOT, p)).isDirectory()) return f === 'migrations' ? [] : sourceFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

/** Every table an SQL statement in the sources writes, with the file (comments left out). */
function writes(): { file: string; table: string }[] {
  const out: { file: string; table: string }[] = [];
  for (const file of ['src', 'cim', 'openadr', 'identity'].flatMap(sourceFiles)) {
    const code = readFileSync(join(ROOT, file), 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/^\s*\/\/.*$/gm, '');
    for (const m of code.matchAll(/\b(?:INSERT INTO|UPDATE|DELETE FROM)\s+([a-z_][a-z0-9_]*)\b/g)) out.push({ file, table: m[1] });
  }
  return out;
}

describe('who writes which table (docs/architecture.md)', () => {
  const { owners } = ownersFromDoc();
  const found = writes();

  it('reads the table and finds the writes', () => {
    expect(owners.get('asset')).toEqual(['src/assets']);
    expect(found.filter((w) => w.table === 'asset').map((w) => w.file)).toContain('src/assets/service.ts');
    expect(new Set(found.map((w) => w.table)).size).toBeGreaterThan(40);
  });

  it('every table the code writes has an owner in the document', () => {
    expect([...new Set(found.map((w) => w.table).filter((t) => !owners.has(t)))]).toEqual([]);
  });

  it('only the owner writes a table', () => {
    const outside = found
      .filter((w) => !(owners.get(w.table) ?? []).some((o) => w.file.startsWith(`${o}/`)))
      .map((w) => `${w.file} ${w.table}`);
    expect([...new Set(outside)]).toEqual([]);
  });
});
