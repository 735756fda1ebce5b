import { digestCimFiles } from '../../cim/index';
import type { CimParser } from '../ports';

/**
 * The parser that runs in the caller's own thread: on Workers (an isolate per request, bounded by
 * the platform's CPU and memory limits) and wherever no other parser is injected. The import's
 * size limit (FMAR_MAX_BULK_BYTES) is checked before it runs and the parser's own depth and size
 * limits apply; on Node, large models go to src/node/cim-parser.ts instead.
 */
export const inProcessCimParser: CimParser = {
  async parse(files, o, progress) {
    const parsed: [number, number][] = [];
    const model = digestCimFiles(files, o, (bytes, objects) => parsed.push([bytes, objects]));
    if (progress) for (const [bytes, objects] of parsed) await progress(bytes, objects);
    return model;
  },
};

/** Let the event loop run (a macrotask; setTimeout exists on every runtime) between batches of a long import. */
export const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
