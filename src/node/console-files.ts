import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { ConsoleFiles } from '../http/console-routes';

/** The folder Vite writes the console to (console/vite.config.ts). */
export const CONSOLE_DIST = fileURLToPath(new URL('../../console/dist', import.meta.url));

/**
 * The console's built files on Node, read from console/dist. Hashed files never change under their
 * name, so each is read and gzipped once; index.html is read on each request (a rebuild shows at once).
 */
export function nodeConsoleFiles(dir = CONSOLE_DIST): ConsoleFiles {
  const cache = new Map<string, Promise<{ body: Uint8Array; gzipped: () => Promise<Uint8Array> } | undefined>>();
  return {
    index: () => readFile(join(dir, 'index.html'), 'utf8').catch(() => undefined),
    asset(name) {
      let hit = cache.get(name);
      if (!hit) {
        hit = readFile(join(dir, 'assets', name)).then(
          (body) => {
            let gz: Promise<Uint8Array> | undefined;
            return { body: new Uint8Array(body), gzipped: () => (gz ??= Promise.resolve(new Uint8Array(gzipSync(body, { level: 9 })))) };
          },
          () => {
            cache.delete(name); // absent now, maybe built later
            return undefined;
          },
        );
        cache.set(name, hit);
      }
      return hit;
    },
  };
}
