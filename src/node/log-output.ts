import { write, writeSync } from 'node:fs';

/** Lines held beyond this while the reader is behind are dropped (and counted), so a stalled reader cannot exhaust memory. */
const MAX_HELD_CHARS = 8 * 1_048_576;

/**
 * Standard output for the structured log (src/http/request-log.ts), written off the event loop.
 * Node writes to a pipe synchronously on Linux: with one write per request, every request waited
 * for the log's reader, and a busy reader stalled the hub (bench/observability.ts, profiled: the
 * hub blocked in the write). Here the lines ended while a write is under way are held and go out
 * together in the next one, each write made asynchronously (libuv's thread pool), as pino's
 * asynchronous destination does. If the reader falls behind by more than MAX_HELD_CHARS, new lines
 * are dropped and a line saying how many follows once it catches up. What is held is written
 * synchronously when the process exits.
 */
export function asyncStdout(fd = 1): (line: string) => void {
  // One writer per descriptor (several hubs in one process share standard output and its exit hook).
  let w = writers.get(fd);
  if (!w) writers.set(fd, (w = writer(fd)));
  return w;
}
const writers = new Map<number, (line: string) => void>();

function writer(fd: number): (line: string) => void {
  let held = '';
  let writing = false;
  let dropped = 0;
  const next = () => {
    if (dropped && held.length < MAX_HELD_CHARS / 2) {
      held += `${JSON.stringify({ time: new Date().toISOString(), level: 'warn', msg: 'log lines dropped', count: dropped })}\n`;
      dropped = 0;
    }
    if (!held) {
      writing = false;
      return;
    }
    writing = true;
    const out = Buffer.from(held);
    held = '';
    writeAll(out, 0);
  };
  const writeAll = (out: Buffer, from: number) =>
    write(fd, out, from, out.length - from, null, (err, n) => {
      // A non-blocking pipe that is full: try again shortly; any other error drops this chunk (the log never fails a request).
      if (err) return (err as NodeJS.ErrnoException).code === 'EAGAIN' ? setTimeout(() => writeAll(out, from), 5) : next();
      if (from + n < out.length) writeAll(out, from + n);
      else next();
    });
  process.on('exit', () => {
    if (!held) return;
    const out = Buffer.from(held);
    held = '';
    for (let at = 0, tries = 0; at < out.length && tries < 1000; tries++)
      try {
        at += writeSync(fd, out, at);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') break;
      }
  });
  return (line) => {
    if (held.length > MAX_HELD_CHARS) {
      dropped++;
      return;
    }
    held += line + '\n';
    if (!writing) {
      writing = true;
      setImmediate(next);
    }
  };
}
