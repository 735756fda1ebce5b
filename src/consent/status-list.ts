import { base64url, jwtVerify } from 'jose';
import { ConsentError } from '../kernel/consent-port';
import { CONSENT_ALGORITHMS, checkHeader, type IssuerKeys } from './issuer';

/**
 * Token Status List (IETF draft-ietf-oauth-status-list, https://datatracker.ietf.org/doc/draft-ietf-oauth-status-list/):
 * a consent token may carry `status: { status_list: { uri, idx } }`. The list is a JWT (typ
 * `statuslist+jwt`) whose `sub` is its URI and whose `status_list` claim holds `bits` (1, 2, 4 or 8
 * per token) and `lst`, the status bytes ZLIB-compressed and base64url-encoded; token `idx` sits at
 * bit offset idx × bits, least significant bits first. 0 is VALID, 1 INVALID (revoked),
 * 2 SUSPENDED. The hub only accepts lists signed by the consent issuer's own keys.
 */
export const STATUS_LIST_TYPE = 'statuslist+jwt';
export const STATUS = { VALID: 0, INVALID: 1, SUSPENDED: 2 } as const;

async function inflate(bytes: Uint8Array): Promise<Uint8Array> {
  // 'deflate' in the Compression Streams standard is the ZLIB format (RFC 1950) the draft uses.
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new DecompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** The status of entry `idx` in a decoded list. */
export function statusAt(list: Uint8Array, bits: number, idx: number): number {
  const bit = idx * bits;
  const byte = Math.floor(bit / 8);
  if (byte >= list.length) throw new ConsentError('CONSENT-SERVICE-UNAVAILABLE', `The status list is shorter than index ${idx}.`);
  return (list[byte] >> (bit % 8)) & ((1 << bits) - 1);
}

/** Fetch, verify and read one entry of a status list. Fails closed (CONSENT-SERVICE-UNAVAILABLE) when it cannot. */
export async function fetchStatus(o: {
  uri: string;
  idx: number;
  issuer: string;
  keys: IssuerKeys;
  at: Date;
  timeoutMs?: number;
  fetch?: typeof fetch;
}): Promise<number> {
  const f = o.fetch ?? fetch;
  let text: string;
  try {
    const res = await f(o.uri, {
      headers: { accept: 'application/statuslist+jwt' },
      signal: AbortSignal.timeout(o.timeoutMs ?? 5000),
      redirect: 'error',
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    text = (await res.text()).trim();
    if (text.length > 1_000_000) throw new Error('status list too large');
  } catch (e) {
    throw new ConsentError('CONSENT-SERVICE-UNAVAILABLE', `The status list ${o.uri} cannot be fetched: ${(e as Error).message}.`);
  }
  checkHeader(text, STATUS_LIST_TYPE, 'CONSENT-SERVICE-UNAVAILABLE');
  let payload;
  try {
    ({ payload } = await jwtVerify(text, o.keys.getKey, {
      algorithms: CONSENT_ALGORITHMS,
      typ: STATUS_LIST_TYPE,
      issuer: o.issuer,
      subject: o.uri,
      currentDate: o.at,
      clockTolerance: 60,
    }));
  } catch (e) {
    throw new ConsentError(
      'CONSENT-SERVICE-UNAVAILABLE',
      `The status list ${o.uri} is not a valid list of the consent issuer (${(e as { code?: string }).code ?? 'invalid'}).`,
    );
  }
  const sl = payload.status_list as { bits?: unknown; lst?: unknown } | undefined;
  const bits = Number(sl?.bits);
  if (![1, 2, 4, 8].includes(bits) || typeof sl?.lst !== 'string')
    throw new ConsentError('CONSENT-SERVICE-UNAVAILABLE', `The status list ${o.uri} has no valid status_list claim.`);
  let list: Uint8Array;
  try {
    list = await inflate(base64url.decode(sl.lst));
  } catch {
    throw new ConsentError('CONSENT-SERVICE-UNAVAILABLE', `The status list ${o.uri} does not decompress.`);
  }
  return statusAt(list, bits, o.idx);
}
