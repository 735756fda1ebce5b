import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { PageAssets } from '../http/pages';

/** The pages' assets on Node: read from the installed npm packages (node_modules), never fetched. */
export function nodePageAssets(): PageAssets {
  const require = createRequire(import.meta.url);
  return {
    // The package exports only its Vue entry; the standalone bundle sits beside it in dist/browser.
    apiReferenceScript: () => readFile(join(dirname(require.resolve('@scalar/api-reference')), 'browser', 'standalone.js'), 'utf8'),
    gzip: true,
  };
}
