import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** A clone alone runs the suite: nothing in the code or the tests reaches outside the repository. */

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (name === 'node_modules' || name === 'fixtures') return [];
    return statSync(p).isDirectory() ? sources(p) : /\.(ts|mjs|js|sh)$/.test(name) ? [p] : [];
  });
}

describe('self-contained repository', () => {
  it('no source, test, bench or script names a path above the repository root', () => {
    const offenders = ['src', 'test', 'bench', 'scripts', 'cim', 'openadr', 'identity', 'bin']
      .flatMap((d) => sources(join(root, d)))
      .filter((f) => f !== fileURLToPath(import.meta.url) && /(\.\.\/)+shared\/|shared\/reference/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(root, f));
    expect(offenders).toEqual([]);
  });

  it('every fixture file is listed in test/fixtures/SOURCES.md', () => {
    const listed = readFileSync(join(root, 'test/fixtures/SOURCES.md'), 'utf8');
    const files = ['cim', 'openadr'].flatMap((d) => readdirSync(join(root, 'test/fixtures', d)));
    files.push(...readdirSync(join(root, 'test/fixtures')).filter((f) => f.endsWith('.xml')));
    expect(files.length).toBeGreaterThan(6);
    expect(files.filter((f) => !listed.includes(`\`${f}\``) && !listed.includes(`/${f}\``))).toEqual([]);
  });
});
