import apiReferenceScript from '@scalar/api-reference/dist/browser/standalone.js';
import type { ConsoleFiles } from './http/console-routes';
import type { PageAssets } from './http/pages';

/**
 * The pages' assets on Workers: wrangler bundles the installed standalone script as a text module
 * (the [[rules]] entry in wrangler.toml), so the Worker serves it from its own bundle.
 */
export const workerPageAssets: PageAssets = {
  apiReferenceScript: async () => apiReferenceScript,
  // Cloudflare compresses responses at the edge.
  gzip: false,
};

/** The Static Assets binding (wrangler.toml `[assets] binding = "ASSETS"`): the part used here. */
export interface AssetsBinding {
  fetch(request: Request): Promise<Response>;
}

/**
 * The console's built files on Workers: console/dist, uploaded by wrangler as the Worker's static
 * assets (`[assets]`, `run_worker_first = true`, so every request reaches the Worker and the
 * console is served by the same routes, headers and policy as on Node). Read through the binding;
 * the hashed names make each file's answer cacheable for a year. Cloudflare compresses at the edge,
 * so no gzipped copy is offered.
 */
export function workerConsoleFiles(assets: AssetsBinding): ConsoleFiles {
  const get = async (path: string): Promise<Response | undefined> => {
    // The binding resolves the path against the assets folder; the host is not used.
    const r = await assets.fetch(new Request(`https://assets.invalid${path}`));
    if (r.status === 200) return r;
    await r.body?.cancel();
    return undefined;
  };
  return {
    index: async () => (await get('/index.html'))?.text(),
    asset: async (name) => {
      const r = await get(`/assets/${name}`);
      return r ? { body: new Uint8Array(await r.arrayBuffer()) } : undefined;
    },
  };
}
