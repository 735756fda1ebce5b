import { HttpError } from 'react-admin';
import { accessToken, refresh, signIn } from './auth';

/** An RFC 9457 problem as the hub sends it (src/http/problem.ts). */
export interface Problem {
  code: string;
  title?: string;
  detail?: string;
  status: number;
  errors?: { field: string; code: string; detail: string }[];
}

/**
 * Call the public API (/api/v1) with the person's access token. A 401 refreshes once and retries;
 * a refused refresh signs in again. Problems become react-admin HttpErrors whose body maps each field
 * to "RULE-CODE: what to fix", so forms show the rule's message beside its field.
 */
export async function api<T>(path: string, init: RequestInit = {}, retried = false): Promise<T> {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${await accessToken()}`);
  if (init.body && !headers.has('content-type')) headers.set('content-type', 'application/json');
  const res = await fetch(`/api/v1${path}`, { ...init, headers });
  if (res.status === 401 && !retried) {
    try {
      await refresh();
    } catch {
      return signIn();
    }
    return api<T>(path, init, true);
  }
  const type = res.headers.get('content-type') ?? '';
  // NDJSON (an export) is text: one JSON document a line, not one document.
  const body: unknown = type.includes('json') && !type.includes('ndjson') ? await res.json() : await res.text();
  if (!res.ok) {
    const p = (typeof body === 'object' && body ? body : { code: 'HTTP', status: res.status, detail: String(body) }) as Problem;
    const errors: Record<string, string> = {};
    for (const e of p.errors ?? [])
      errors[e.field] = errors[e.field] ? `${errors[e.field]}; ${e.code}: ${e.detail}` : `${e.code}: ${e.detail}`;
    throw new HttpError(`${p.code}: ${p.detail ?? p.title ?? res.statusText}`, res.status, { ...p, errors });
  }
  return body as T;
}

/** Query string from the defined values. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
