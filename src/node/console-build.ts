import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONSOLE_DIST } from './console-files';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SOURCES = join(ROOT, 'console');
/** Written beside the build: the hash of the sources it was built from. */
const STAMP = join(CONSOLE_DIST, '.source-hash');

/** SHA-256 over console/ (but its build) and package-lock.json: what the built files depend on. */
export function consoleSourceHash(): string {
  const h = createHash('sha256');
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (p !== CONSOLE_DIST && e.name !== 'node_modules') walk(p);
      } else if (e.isFile()) {
        h.update(relative(ROOT, p)).update('\0').update(readFileSync(p)).update('\0');
      }
    }
  };
  walk(SOURCES);
  const lock = join(ROOT, 'package-lock.json');
  if (existsSync(lock)) h.update(readFileSync(lock));
  return h.digest('hex');
}

/**
 * Build the console (Vite) unless console/dist was built from the same sources: `npm start` calls
 * this, so there is no second set-up step, and a start with nothing changed costs one hash of the
 * sources. Without Vite (a production install without dev dependencies) an existing build is served
 * as it is.
 */
export async function ensureConsoleBuilt(log: (line: string) => void = console.log): Promise<'fresh' | 'built' | 'unavailable'> {
  const hash = consoleSourceHash();
  if (existsSync(join(CONSOLE_DIST, 'index.html')) && existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === hash) return 'fresh';
  let vite: typeof import('vite');
  try {
    vite = await import('vite');
  } catch {
    log(
      `fmar: the console is ${existsSync(join(CONSOLE_DIST, 'index.html')) ? 'older than its sources' : 'not built'} and Vite is not installed (npm ci installs it); /console serves what is built`,
    );
    return 'unavailable';
  }
  const started = Date.now();
  // Vite and React's JSX transform follow NODE_ENV: a test runner's `test` would make React's development build.
  const env = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await vite.build({ configFile: join(SOURCES, 'vite.config.ts'), mode: 'production', logLevel: 'warn' });
  } finally {
    if (env === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = env;
  }
  writeFileSync(STAMP, `${hash}\n`);
  log(`fmar: built the console in ${((Date.now() - started) / 1000).toFixed(1)} s (console/dist)`);
  return 'built';
}
