/**
 * Write docs/cim-profile.md and docs/cim-shapes.ttl (SHACL) from the profile tables in cim/profile.ts
 * (`npm run docs:cim`); test/cim.test.ts and test/cim-export-shacl.test.ts fail when either is stale.
 */
import { writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { profileMarkdown, profileShapes } from '../cim/index';

const docs = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'docs');
for (const [name, text] of [
  ['cim-profile.md', profileMarkdown()],
  ['cim-shapes.ttl', profileShapes()],
] as const) {
  writeFileSync(resolve(docs, name), text);
  console.log(`wrote ${resolve(docs, name)}`);
}
