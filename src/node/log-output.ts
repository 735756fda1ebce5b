/**
 * Standard output for the structured log (src/http/request-log.ts), written once per turn of the
 * event loop rather than once per line. Node writes to a pipe synchronously on Linux, so a write per
 * request made every request wait for the log reader (bench/observability.ts); lines ended in the
 * same turn now go out in one write. What is held is written when it passes `maxChars` and, at the
 * latest, when the process exits.
 */
export function bufferedStdout(maxChars = 64 * 1024): (line: string) => void {
  let held = '';
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (!held) return;
    const out = held;
    held = '';
    process.stdout.write(out);
  };
  process.on('exit', flush);
  return (line) => {
    held += line + '\n';
    if (held.length >= maxChars) flush();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
}
