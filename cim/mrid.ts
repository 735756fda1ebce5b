/**
 * mRIDs. A register ID is a ULID: 128 bits (a 48-bit millisecond timestamp, 80 random bits),
 * written in 26 Crockford base-32 characters. Its mRID is a UUIDv8 (RFC 9562, section 5.8): the
 * ULID's low 122 bits laid out around the version nibble (8) and the variant bits (10), so that
 * tools which check UUIDs accept it. The 6 bits left out are the timestamp's top bits, zero for
 * every ULID minted before the year 2109 (timestamps below 2^42 ms): for those the mapping is
 * reversible and keeps the ULID's order. A ULID with any of those bits set (none is minted today)
 * gets a name-based UUIDv8 instead (`derivedMrid('fmar:ulid', ULID)`). Objects the profile derives
 * from one register record (the unit of a connection, a usage point, a name, ...) get a name-based
 * mRID: a 128-bit hash of the parent mRID and a role, stamped as a UUIDv8, deterministic so
 * exports diff cleanly. docs/decisions.md says why, and what became of earlier mRIDs.
 */
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const ULID_SHAPE = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;
export const UUID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function hexToUuid(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

const bits = (n: number) => (1n << BigInt(n)) - 1n;

function ulidBits(ulid: string): bigint {
  const s = ulid.toUpperCase();
  if (!ULID_SHAPE.test(s)) throw new Error(`not a ULID: ${ulid}`);
  let n = 0n;
  for (const ch of s) n = (n << 5n) | BigInt(CROCKFORD.indexOf(ch));
  return n;
}

/**
 * ULID → UUIDv8 mRID (lowercase): bits 121..74 of the ULID, the version 8, bits 73..62, the
 * variant 10, bits 61..0. Throws on a string that is not a ULID.
 */
export function ulidToMrid(ulid: string): string {
  const n = ulidBits(ulid);
  if (n >> 122n !== 0n) return derivedMrid('fmar:ulid', ulid.toUpperCase());
  const u = ((n >> 74n) << 80n) | (8n << 76n) | (((n >> 62n) & bits(12)) << 64n) | (2n << 62n) | (n & bits(62));
  return hexToUuid(u.toString(16).padStart(32, '0'));
}

/**
 * The mRID that exports before the UUIDv8 layout gave a ULID: its 128 bits as UUID-shaped hex, with
 * no version or variant. Kept so that such an mRID is still recognised (bulk-load finds an
 * organisation by either form).
 */
export function legacyUlidMrid(ulid: string): string {
  return hexToUuid(ulidBits(ulid).toString(16).padStart(32, '0'));
}

/**
 * UUIDv8 mRID minted by ulidToMrid → its ULID. Accepts any case, `_`, `#_` and `urn:uuid:`. Throws on
 * a string that is not a UUID of version 8 and variant 10 (a name-based mRID is one too, and gives
 * a ULID that is no register ID: callers look the result up).
 */
export function mridToUlid(mrid: string): string {
  const hex = normaliseId(mrid).replace(/-/g, '');
  if (!/^[0-9a-f]{12}8[0-9a-f]{3}[89ab][0-9a-f]{15}$/.test(hex)) throw new Error(`not a UUIDv8 mRID: ${mrid}`);
  const u = BigInt('0x' + hex);
  let n = ((u >> 80n) << 74n) | (((u >> 64n) & bits(12)) << 62n) | (u & bits(62));
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
