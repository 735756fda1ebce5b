import apiReferenceScript from '@scalar/api-reference/dist/browser/standalone.js';
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
