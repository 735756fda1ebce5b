/**
 * mRIDs. A register ID is a ULID: 128 bits, written in 26 Crockford base-32 characters. Its mRID
 * is the same 128 bits as a lowercase UUID-shaped hex string (8-4-4-4-12), so the mapping is
 * reversible. Objects the profile derives from one register record (the unit of a connection, a
 * usage point, a name, ...) get a name-based mRID: a 128-bit hash of the parent mRID and a role,
 * stamped as a UUIDv8 (RFC 9562 custom layout), deterministic so exports diff cleanly.
 */
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const ULID_SHAPE = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;
export const UUID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function hexToUuid(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** ULID → UUID-shaped mRID (lowercase). Throws on a string that is not a ULID. */
export function ulidToMrid(ulid: string): string {
  const s = ulid.toUpperCase();
  if (!ULID_SHAPE.test(s)) throw new Error(`not a ULID: ${ulid}`);
  let n = 0n;
  for (const ch of s) n = (n << 5n) | BigInt(CROCKFORD.indexOf(ch));
  return hexToUuid(n.toString(16).padStart(32, '0'));
}

/** UUID-shaped mRID → ULID (the inverse of ulidToMrid). Accepts any case, `_`, `#_` and `urn:uuid:`. */
export function mridToUlid(mrid: string): string {
  const hex = normaliseId(mrid).replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/.test(hex)) throw new Error(`not a UUID-shaped mRID: ${mrid}`);
  let n = BigInt('0x' + hex);
  let out = '';
  for (let i = 0; i < 26; i++) {
    out = CROCKFORD[Number(n & 31n)] + out;
    n >>= 5n;
  }
  return out;
}

export function isUuidShaped(s: string): boolean {
  return UUID_SHAPE.test(s);
}

/** 128-bit non-cryptographic hash (four mixed 32-bit lanes); enough for stable derived IDs. */
function hash128(s: string): number[] {
  let h1 = 0x6a09e667,
    h2 = 0xbb67ae85,
    h3 = 0x3c6ef372,
    h4 = 0xa54ff53a;
  for (let i = 0; i < s.length; i++) {
    const k = s.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

/** Deterministic mRID of an object derived from `parent` in a `role` (UUIDv8, variant 10). */
export function derivedMrid(parent: string, role: string): string {
  const hex = hash128(`${parent}/${role}`)
    .map((n) => n.toString(16).padStart(8, '0'))
    .join('')
    .split('');
  hex[12] = '8';
  hex[16] = ['8', '9', 'a', 'b'][parseInt(hex[16], 16) & 3];
  return hexToUuid(hex.join(''));
}

/**
 * The comparison key of an RDF identifier or mRID: without `#`, `urn:uuid:` or leading `_`, in
 * lowercase. Callers keep the original form next to it.
 */
export function normaliseId(raw: string): string {
  let s = raw.trim();
  if (s.startsWith('#')) s = s.slice(1);
  if (/^urn:uuid:/i.test(s)) s = s.slice(9);
  if (s.startsWith('_')) s = s.slice(1);
  return s.toLowerCase();
}
