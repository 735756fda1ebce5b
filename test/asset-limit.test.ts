import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The asset limit of a delegation has one home, src/access/asset-limit.ts: no other module reads
 * the delegation's asset list, so no resource can apply it its own (forgetful) way. The walk in
 * test/permission-matrix.test.ts checks what a limited delegate gets on every route.
 */
const ROOT = join(__dirname, '..');
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('the asset limit has one home', () => {
  it('only src/access/asset-limit.ts reads Principal.delegation.assetIds', () => {
    const readers = sources(join(ROOT, 'src'))
      .filter((f) => /delegation\??\.assetIds/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(ROOT, f).replace(/\\/g, '/'));
    expect(readers).toEqual(['src/access/asset-limit.ts']);
  });
});
