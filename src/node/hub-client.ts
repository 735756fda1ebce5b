import { Writable } from 'node:stream';
import { LOCAL_SCHEME } from '../access/local-cli';
import type { SubmitBatch } from '../assets/import-file';
import type { RowResult } from '../assets/service';
import { readLock, type LockInfo } from './lock';

/**
 * `fmar` commands run while a hub holds the embedded database do their work through that hub's HTTP
 * API (src/node/lock.ts), authenticated by the lock file's local credential, as actor `cli`.
 */
export class HubCallError extends Error {
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
    readonly body?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export class HubClient {
  readonly url: string;
  constructor(readonly info: LockInfo) {
    this.url = info.url ?? info.baseUrl ?? '';
  }

  async call(method: string, path: string, init: { body?: BodyInit; contentType?: string } = {}): Promise<Response> {
    const headers: Record<string, string> = { authorization: `${LOCAL_SCHEME} ${this.info.localSecret ?? ''}` };
    if (init.contentType) headers['content-type'] = init.contentType;
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, { method, headers, body: init.body, duplex: 'half' } as RequestInit);
    } catch (e) {
      throw new HubCallError(
        0,
        undefined,
        `the hub (PID ${this.info.pid}) holds the embedded database but does not answer at ${this.url} (${(e as Error).message}); stop it, or wait until it has started`,
      );
    }
    if (res.ok) return res;
    const text = await res.text();
    let body: Record<string, unknown> | undefined;
    try {
      body = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    const code = typeof body?.code === 'string' ? body.code : undefined;
    throw new HubCallError(
      res.status,
      code,
      `${code ? `${code}: ` : ''}${(body?.detail ?? body?.title ?? text.slice(0, 500)) as string}`,
      body,
    );
  }

  async json<T>(method: string, path: string, init: { body?: BodyInit; contentType?: string } = {}): Promise<T> {
    return (await (await this.call(method, path, init)).json()) as T;
  }

  /** Stream a GET answer to a file or stdout. */
  async download(path: string, sink: NodeJS.WritableStream, closeSink: boolean): Promise<void> {
    const res = await this.call('GET', path);
    if (!res.body) return;
    await res.body.pipeTo(Writable.toWeb(sink as Writable) as WritableStream<Uint8Array>, { preventClose: !closeSink });
  }
}

/** The running hub on this data folder, waiting (up to `waitMs`) for one that is still starting. */
export async function runningHub(dataDir: string, waitMs = 60_000): Promise<HubClient | undefined> {
  const until = Date.now() + waitMs;
  for (;;) {
    const info = readLock(dataDir);
    if (!info || info.holder !== 'hub') return undefined;
    if (info.ready && info.localSecret && (info.url || info.baseUrl)) return new HubClient(info);
    if (Date.now() > until) throw new HubCallError(0, undefined, `the hub (PID ${info.pid}) holding ${dataDir} has not finished starting`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Query string of the given, non-empty options. */
export function query(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== ''));
  const s = q.toString();
  return s ? `?${s}` : '';
}

interface BulkAnswer {
  results?: RowResult[];
  report?: string;
}

/**
 * `fmar import`'s batches posted to the running hub's bulk API (NDJSON, the same dryRun and onError),
 * its answer's rows (numbered by line of the body) mapped back to the lines of the file. A line that
 * is not JSON is rejected here, as the hub would; a stop-mode batch holding one is not sent at all.
 */
export function hubSubmitter(hub: HubClient): SubmitBatch {
  return async (records, o) => {
    const unreadable: RowResult[] = records
      .filter((r) => r.problem)
      .map((r) => ({ row: r.line, status: 'rejected', errors: [r.problem!] }));
    const sent = records.filter((r) => !r.problem);
    if (!sent.length) return unreadable;
    if (unreadable.length && o.onError === 'stop' && !o.dryRun)
      return [...unreadable, ...sent.map((r): RowResult => ({ row: r.line, status: 'valid' }))].sort((a, b) => a.row - b.row);
    let answer: BulkAnswer;
    try {
      answer = await hub.json<BulkAnswer>(
        'POST',
        `/api/v1/assets/bulk${query({ dryRun: o.dryRun ? 'true' : undefined, onError: o.onError })}`,
        {
          body: sent.map((r) => JSON.stringify(r.value)).join('\n'),
          contentType: 'application/x-ndjson',
        },
      );
    } catch (e) {
      if (!(e instanceof HubCallError) || e.code !== 'BULK-ROWS-INVALID') throw e;
      answer = e.body as BulkAnswer;
    }
    // More rejected rows than an answer lists: the full list is in the stored report.
    const listed = answer.report
      ? [
          ...(answer.results ?? []).filter((r) => r.status !== 'rejected'),
          ...(await hub.json<{ results: RowResult[] }>('GET', answer.report)).results,
        ]
      : (answer.results ?? []);
    const byRow = new Map(listed.map((r) => [r.row, r]));
    // Rows a refused batch does not list were valid but not written.
    return [...unreadable, ...sent.map((rec, i): RowResult => ({ ...(byRow.get(i + 1) ?? { status: 'valid' }), row: rec.line }))].sort(
      (a, b) => a.row - b.row,
    );
  };
}
