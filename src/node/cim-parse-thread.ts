import { parentPort, threadId, workerData } from 'node:worker_threads';
import { CimParseError, digestCimFiles, type CimFileInput, type DigestOptions } from '../../cim/index';
import type { ParseReply, ParseRequest } from './cim-parser';

/**
 * The worker thread's side of src/node/cim-parser.ts: parse, merge and extract, then hand the
 * result back one chunk at a time, each when the main thread asks for it, so the main thread
 * never deserialises more than a chunk per turn of its event loop.
 */
const port = parentPort!;
const { files, options, chunk } = workerData as { files: CimFileInput[]; options: DigestOptions; chunk: number };
const send = (m: ParseReply) => port.postMessage(m);

function* replies(): Generator<ParseReply> {
  let model;
  try {
    // The thread holds the only copy of the files (moved to it, not copied): each is let go once decoded.
    model = digestCimFiles(files, { ...options, release: true }, (bytes, objects) => {
      send({ kind: 'parsed', bytes, objects });
    });
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
  if (m !== 'more') return;
  const r = next.next();
  if (r.done) {
    port.close();
    return;
  }
  send(r.value);
  if (r.value.kind === 'done' || r.value.kind === 'refused') port.close();
});
