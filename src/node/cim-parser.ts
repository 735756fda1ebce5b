import { Worker } from 'node:worker_threads';
import {
  CimParseError,
  type CimFatalCode,
  type CimFileInput,
  type CimHeaderInfo,
  type CimIssue,
  type DigestOptions,
  type ExtractedAsset,
  type ExtractedOrganisation,
  type ParsedModel,
  type SourceLocation,
  sizeOf,
} from '../../cim/index';
import { inProcessCimParser, isStream, partsOf } from '../cim/parsing';
import { Problem } from '../http/problem';
import type { CimParser } from '../ports';

/**
 * CIM parsing on Node: a model larger than `threadAboveBytes` is parsed in a worker thread whose
 * heap is bounded (`maxMemoryMb`, FMAR_PARSER_MAX_MEMORY_MB), so a large import neither stalls
 * the API's event loop nor grows the hub's memory without bound. The result comes back as plain
 * data in chunks the main thread pulls one per turn of its event loop.
 */

export interface NodeCimParserOptions {
  /** Old-generation heap of the parse thread, in MB; exceeding it fails the import with CIM-IMPORT-MEMORY. */
  maxMemoryMb: number;
  /** Imports of at most this many bytes are parsed in process (starting a thread costs more than they do). */
  threadAboveBytes: number;
  /** Issues or equipment per message back to the main thread. */
  chunk?: number;
}

/** 'more': the next chunk of the answer; a part of a streamed file; 'end': the streamed files are all sent. */
export type ParseRequest = 'more' | 'end' | { kind: 'part'; name: string; part: Uint8Array };
export type ParseReply =
  | { kind: 'parsed'; bytes: number; objects: number }
  /** A streamed part was read: the next may come. */
  | { kind: 'taken' }
  | { kind: 'issues'; items: CimIssue[] }
  | { kind: 'equipment'; items: ExtractedAsset[] }
  | { kind: 'organisations'; items: ExtractedOrganisation[] }
  | {
      kind: 'done';
      headers: CimHeaderInfo[];
      objects: number;
      classes: Record<string, number>;
      used: Record<string, number>;
      bytes: number;
      threadId: number;
    }
  | { kind: 'refused'; code: CimFatalCode; message: string; location?: SourceLocation };

const WORKER_ENTRY = new URL('./cim-parse-worker.mjs', import.meta.url);

/** A yield to the event loop (a macrotask), so requests waiting on I/O are answered between chunks. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The bytes move to the thread without a copy when they own their whole buffer; otherwise they are copied once. */
function transferable(files: CimFileInput[]): { files: CimFileInput[]; transfer: ArrayBuffer[] } {
  const transfer: ArrayBuffer[] = [];
  const out = files.map((f) => {
    if (typeof f.content === 'string') return f;
    // A streamed file goes to the thread in parts (parseInThread); only its name and size go now.
    if (isStream(f.content)) return { name: f.name, content: '' };
    const c = f.content;
    const owned = c.buffer instanceof ArrayBuffer && c.byteOffset === 0 && c.byteLength === c.buffer.byteLength ? c : c.slice();
    transfer.push(owned.buffer as ArrayBuffer);
    return { name: f.name, content: owned };
  });
  return { files: out, transfer };
}

/** What an enrich's equipment leaves out when it crosses (DigestOptions.mode): one shared empty body and list, never written to. */
const NO_INPUT: Record<string, unknown> = Object.freeze({});
const NO_PROBLEMS: string[] = Object.freeze([]) as unknown as string[];
/** An equipment's empty names or MPANs: one shared empty list, never written to. */
const NONE: never[] = Object.freeze([]) as unknown as never[];

/**
 * Equipment as the main thread keeps it. A structured clone copies every string and object: the
 * values that most equipment of a model share (its class, file, category, name types, and the
 * network place as a whole: feeder and substation) are kept once, an empty list is one shared
 * empty, and an enrich's empty body and problems are put back as shared empties (a 1M-object
 * model: 250,000 equipment).
 */
function receiver(options: DigestOptions): (e: ExtractedAsset) => ExtractedAsset {
  const pool = new Map<string, string>();
  const one = (s: string): string => {
    const have = pool.get(s);
    if (have !== undefined) return have;
    pool.set(s, s);
    return s;
  };
  /** Network places by their three references: most equipment of a feeder share one. */
  const places = new Map<string, ExtractedAsset['network']>();
  const place = (n: ExtractedAsset['network']): ExtractedAsset['network'] => {
    const k = `${n.connectivityNode ?? ''}\u0000${n.feeder ?? ''}\u0000${n.substation ?? ''}`;
    const have = places.get(k);
    if (have) return have;
    places.set(k, Object.freeze(n));
    return n;
  };
  return (e) => {
    e.className = one(e.className);
    e.at.file = one(e.at.file);
    if (e.category !== undefined) e.category = one(e.category);
    e.network = place(e.network);
    if (!e.names.length) e.names = NONE;
    for (const n of e.names) {
      n.scheme = one(n.scheme);
      n.nameType = one(n.nameType);
    }
    if (!e.mpans.length) e.mpans = NONE;
    if (options.mode === 'enrich') {
      e.input ??= NO_INPUT;
      e.problems ??= NO_PROBLEMS;
    }
    return e;
  };
}

export function nodeCimParser(o: NodeCimParserOptions): CimParser {
  const chunk = o.chunk ?? 100;
  return {
    parse(files, options, progress) {
      const total = files.reduce((n, f) => n + sizeOf(f.content), 0);
      if (total <= o.threadAboveBytes) return inProcessCimParser.parse(files, options, progress);
      return parseInThread(files, options, { chunk, maxMemoryMb: o.maxMemoryMb }, progress);
    },
  };
}

function parseInThread(
  files: CimFileInput[],
  options: DigestOptions,
  o: { chunk: number; maxMemoryMb: number },
  progress?: (bytes: number, objects: number) => Promise<void>,
): Promise<ParsedModel & { threadId: number }> {
  const streamed = files.some((f) => isStream(f.content));
  const { files: moved, transfer } = transferable(files);
  const worker = new Worker(WORKER_ENTRY, {
    workerData: { files: moved, options, chunk: o.chunk, streamed },
    transferList: transfer,
    resourceLimits: { maxOldGenerationSizeMb: o.maxMemoryMb },
    // The thread writes nothing to the console of its own accord; errors come back as events.
    stdout: false,
    stderr: false,
  });
  const issues: CimIssue[] = [];
  const equipment: ExtractedAsset[] = [];
  const received = receiver(options);
  const organisations: ExtractedOrganisation[] = [];
  // Progress writes run in order; the first failure (e.g. a job's lost lease) is kept for the end, never left unhandled.
  let reported = Promise.resolve();
  let progressFailed: { error: unknown } | undefined;
  /** The thread took the last part sent: send the next. */
  let taken: (() => void) | undefined;
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (f: () => void) => {
      if (!settled) {
        settled = true;
        taken?.();
        f();
      }
    };
    worker.on('message', (m: ParseReply) => {
      switch (m.kind) {
        case 'parsed':
          if (progress)
            reported = reported
              .then(() => progress(m.bytes, m.objects))
              .catch((error) => {
                progressFailed ??= { error };
              });
          return;
        case 'issues':
          issues.push(...m.items);
          break;
        case 'equipment':
          for (const e of m.items) equipment.push(received(e));
          break;
        case 'organisations':
          organisations.push(...m.items);
          break;
        case 'taken':
          taken?.();
          return;
        case 'refused':
          settle(() => reject(new CimParseError(m.code, m.message, m.location)));
          return;
        case 'done':
          void reported.then(() =>
            settle(() =>
              progressFailed
                ? reject(progressFailed.error)
                : resolve({
                    headers: m.headers,
                    issues,
                    objects: m.objects,
                    classes: m.classes,
                    used: m.used,
                    equipment,
                    organisations,
                    bytes: m.bytes,
                    threadId: m.threadId,
                  }),
            ),
          );
          return;
      }
      // The next chunk only after the event loop has had a turn (turn() never rejects).
      void turn().then(() => worker.postMessage('more' satisfies ParseRequest));
    });
    worker.on('error', (e: Error & { code?: string }) => {
      settle(() =>
        reject(
          e.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? new Problem(
                'CIM-IMPORT-MEMORY',
                `Parsing the model (${files.map((f) => f.name).join(', ')}) needs more than the ${o.maxMemoryMb} MB the hub allows a parse (FMAR_PARSER_MAX_MEMORY_MB); nothing was written. Send a smaller model, or ask the operator to raise the limit.`,
              )
            : e,
        ),
      );
    });
    worker.on('exit', (code) => settle(() => reject(new Error(`The CIM parse thread stopped (exit code ${code}) before it answered.`))));
    if (!streamed) {
      worker.postMessage('more' satisfies ParseRequest);
      return;
    }
    // Streamed files: one part at a time, the next once the thread has read it, so that neither
    // side holds more than a part in flight.
    void (async () => {
      for (const f of files)
        for await (const part of partsOf(f.content)) {
          if (settled) return;
          const owned = part.slice();
          const read = new Promise<void>((r) => (taken = r));
          worker.postMessage({ kind: 'part', name: f.name, part: owned } satisfies ParseRequest, [owned.buffer]);
          await read;
        }
      if (settled) return;
      worker.postMessage('end' satisfies ParseRequest);
      worker.postMessage('more' satisfies ParseRequest);
    })().catch((e: unknown) => {
      settle(() => reject(e));
      void worker.terminate();
    });
  });
}
