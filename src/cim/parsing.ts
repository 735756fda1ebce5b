import { cimDigester, digestCimFiles, type CimFileInput, type CimStream, type DigestOptions, type ParsedModel } from '../../cim/index';
import type { CimParser } from '../ports';

/**
 * The parser that runs in the caller's own thread: on Workers (an isolate per request, bounded by
 * the platform's CPU and memory limits) and wherever no other parser is injected. The import's
 * size limit (FMAR_MAX_BULK_BYTES) is checked before it runs and the parser's own depth and size
 * limits apply; on Node, large models go to src/node/cim-parser.ts instead.
 */
export const inProcessCimParser: CimParser = {
  async parse(files, o, progress) {
    if (files.some((f) => isStream(f.content))) return parseStreamed(files, o, progress);
    const parsed: [number, number][] = [];
    const model = digestCimFiles(files, o, (bytes, objects) => parsed.push([bytes, objects]));
    if (progress) for (const [bytes, objects] of parsed) await progress(bytes, objects);
    return model;
  },
};

export const isStream = (c: CimFileInput['content']): c is CimStream => typeof c !== 'string' && !(c instanceof Uint8Array);

/** Parts of a file, whatever its form. */
export async function* partsOf(c: CimFileInput['content']): AsyncIterable<Uint8Array> {
  if (isStream(c)) yield* c.read();
  else yield typeof c === 'string' ? new TextEncoder().encode(c) : c;
}

/** Progress is reported at most this often (bytes) while a streamed file is read. */
const PROGRESS_BYTES = 8 * 1_048_576;

/** Streamed files read part by part in this thread, the event loop turning between parts. */
async function parseStreamed(
  files: CimFileInput[],
  o: DigestOptions,
  progress?: (bytes: number, objects: number) => Promise<void>,
): Promise<ParsedModel> {
  const d = cimDigester(o);
  let reported = 0;
  for (const f of files)
    for await (const part of partsOf(f.content)) {
      d.push(f.name, part);
      if (progress && d.bytes - reported >= PROGRESS_BYTES) {
        reported = d.bytes;
        await progress(d.bytes, d.objects);
      }
      await yieldToEventLoop();
    }
  const model = d.finish();
  if (progress) await progress(model.bytes, model.objects);
  return model;
}

/** Let the event loop run (a macrotask; setTimeout exists on every runtime) between batches of a long import. */
export const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
