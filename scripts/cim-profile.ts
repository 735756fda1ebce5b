/** Write docs/cim-profile.md from the profile table in cim/profile.ts (`npm run docs:cim`); test/cim.test.ts fails when it is stale. */
import { writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { profileMarkdown } from '../cim/index';

const file = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'cim-profile.md');
writeFileSync(file, profileMarkdown());
console.log(`wrote ${file}`);
