import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort, threadId, workerData } from 'node:worker_threads';
import {
  CimParseError,
  cimDigester,
  digestCimFilesInParts,
  type CimFileInput,
  type DigestInParts,
  type DigestOptions,
  type ExtractedAsset,
} from '../../cim/index';
import type { ParseReply, ParseRequest } from './cim-parser';

/**
 * The worker thread's side of src/node/cim-parser.ts: parse, merge and extract, then hand the
 * result back one chunk at a time, each when the main thread asks for it, so the main thread
 * never deserialises more than a chunk per turn of its event loop.
 */
const port = parentPort!;
const { files, options, chunk, streamed } = workerData as {
  files: CimFileInput[];
  options: DigestOptions;
  chunk: number;
  streamed: boolean;
};
/** Streamed files: their parts arrive as messages and are read as they come. */
const digester = streamed ? cimDigester(options) : undefined;
/** Progress is reported at most this often (bytes) while streamed parts are read. */
const PROGRESS_BYTES = 8 * 1_048_576;
let reported = 0;
const send = (m: ParseReply) => port.postMessage(m);

/**
 * A full collection of this thread's heap, where the engine allows one to be asked for. Left to
 * itself, V8 lets a heap bounded at FMAR_PARSER_MAX_MEMORY_MB grow to about twice what is live
 * before it collects (a 1M-object model: about 600 MB live, 1.2 GB held); collecting when the heap
 * has grown by an eighth (at least 32 MB) since the last collection keeps what the thread holds near
 * what it uses, for a dozen or so full collections per large model. The bound itself is unchanged.
 */
const collect = (() => {
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    return typeof gc === 'function' ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  }
})();
/** A collection once the heap has grown by this share of what the last one left, and at least GROWTH_MIN bytes. */
const GROWTH = 1 / 8;
const GROWTH_MIN = 32 * 1_048_576;
let heldAfterCollection = getHeapStatistics().used_heap_size;
function collectIfGrown() {
  if (!collect) return;
  const used = getHeapStatistics().used_heap_size;
  if (used < heldAfterCollection + Math.max(GROWTH_MIN, heldAfterCollection * GROWTH)) return;
  collect();
  heldAfterCollection = getHeapStatistics().used_heap_size;
}

/**
 * An equipment as it crosses to the main thread: without its fields that are undefined (a clone
 * keeps them), and for an enrich without what it does not read, its registration body and its
 * problems (DigestOptions.mode).
 */
const handed = (e: ExtractedAsset): ExtractedAsset => {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e))
    if (v !== undefined && (options.mode !== 'enrich' || (k !== 'input' && k !== 'problems'))) out[k] = v;
  return out as unknown as ExtractedAsset;
};

function* replies(): Generator<ParseReply> {
  let digest: DigestInParts;
  try {
    // The thread holds the only copy of the files (moved to it, not copied): each is let go once decoded.
    digest = digester
      ? digester.finishInParts()
      : digestCimFilesInParts(files, { ...options, release: true }, (bytes, objects) => {
          send({ kind: 'parsed', bytes, objects });
        });
    if (digester) send({ kind: 'parsed', bytes: digester.bytes, objects: digester.objects });
  } catch (e) {
    if (e instanceof CimParseError) {
      yield { kind: 'refused', code: e.code, message: e.message, location: e.location };
      return;
    }
    throw e;
  }
  files.length = 0; // the text is no longer needed: let it be collected while the chunks go
  // Equipment goes as it is extracted, a chunk at a time: the thread holds the model and one chunk, never every equipment.
  let items: ExtractedAsset[] = [];
  for (const e of digest.equipment) {
    items.push(handed(e));
    if (items.length < chunk) continue;
    collectIfGrown();
    yield { kind: 'equipment', items };
    items = [];
  }
  if (items.length) yield { kind: 'equipment', items };
  const model = digest.rest();
  for (let i = 0; i < model.issues.length; i += chunk) yield { kind: 'issues', items: model.issues.slice(i, i + chunk) };
  for (let i = 0; i < model.organisations.length; i += chunk)
    yield { kind: 'organisations', items: model.organisations.slice(i, i + chunk) };
  yield {
    kind: 'done',
    headers: model.headers,
    objects: model.objects,
    classes: model.classes,
    used: model.used,
    bytes: model.bytes,
    threadId,
  };
}

const next = replies();
port.on('message', (m: ParseRequest) => {
  if (typeof m === 'object') {
    // A part of a streamed file. A refusal ends the thread at once: the rest is not sent.
    try {
      digester!.push(m.name, m.part);
      collectIfGrown();
    } catch (e) {
      if (!(e instanceof CimParseError)) throw e;
      send({ kind: 'refused', code: e.code, message: e.message, location: e.location });
      port.close();
      return;
    }
    if (digester!.bytes - reported >= PROGRESS_BYTES) {
      reported = digester!.bytes;
      send({ kind: 'parsed', bytes: digester!.bytes, objects: digester!.objects });
    }
    send({ kind: 'taken' });
    return;
  }
  if (m !== 'more') return;
  const r = next.next();
  if (r.done) {
    port.close();
    return;
  }
  send(r.value);
  if (r.value.kind === 'done' || r.value.kind === 'refused') port.close();
});
