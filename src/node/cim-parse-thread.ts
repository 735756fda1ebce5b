import { parentPort, threadId, workerData } from 'node:worker_threads';
import { CimParseError, cimDigester, digestCimFiles, type CimFileInput, type DigestOptions } from '../../cim/index';
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

function* replies(): Generator<ParseReply> {
  let model;
  try {
    // The thread holds the only copy of the files (moved to it, not copied): each is let go once decoded.
    model = digester
      ? digester.finish()
      : digestCimFiles(files, { ...options, release: true }, (bytes, objects) => {
          send({ kind: 'parsed', bytes, objects });
        });
    if (digester) send({ kind: 'parsed', bytes: model.bytes, objects: model.objects });
  } catch (e) {
    if (e instanceof CimParseError) {
      yield { kind: 'refused', code: e.code, message: e.message, location: e.location };
      return;
    }
    throw e;
  }
  files.length = 0; // the text is no longer needed: let it be collected while the chunks go
  for (let i = 0; i < model.issues.length; i += chunk) yield { kind: 'issues', items: model.issues.slice(i, i + chunk) };
  for (let i = 0; i < model.equipment.length; i += chunk) yield { kind: 'equipment', items: model.equipment.slice(i, i + chunk) };
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
