/**
 * Identifier rules of OpenADR, per protocol. The 3.x rules are the official OpenAPI document's
 * (`objectID`: pattern `^[a-zA-Z0-9_-]*$`, 1–128 characters; `venName`, `clientID`, `target`,
 * `resourceName`: 1–128 characters). OpenADR 2.0b types its IDs as xs:string; the register takes
 * 1–128 visible ASCII characters (no spaces), which every 2.0b VTN we know of issues.
 */

export const PROTOCOLS = ['2.0b', '3.0', '3.1'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export const isProtocol = (s: unknown): s is Protocol => typeof s === 'string' && (PROTOCOLS as readonly string[]).includes(s);
export const is3x = (p: Protocol) => p !== '2.0b';

/** OpenADR 3.x object ID: URL safe, 1–128 characters. */
export const OBJECT_ID_RE = /^[a-zA-Z0-9_-]{1,128}$/;
/** OpenADR 2.0b venID, vtnID, registrationID as the register accepts them. */
export const OADR2B_ID_RE = /^[\x21-\x7e]{1,128}$/;
/** Longest venName, clientID, target or resourceName (OpenADR 3.1). */
export const MAX_TEXT = 128;

/** A VEN ID as its protocol allows it. */
export function isVenId(protocol: Protocol, id: string): boolean {
  return (is3x(protocol) ? OBJECT_ID_RE : OADR2B_ID_RE).test(id);
}

/** An OpenADR text (venName, clientID, target): 1–128 characters, no control characters. */
export function isOadrText(s: string): boolean {
  return s.length >= 1 && [...s].length <= MAX_TEXT && !/[\u0000-\u001f\u007f]/.test(s);
}

/** A VTN's namespace code: 2–8 of A–Z and 0–9 (Elexon's draft uses 4, e.g. SPEN). */
export const VTN_CODE_RE = /^[A-Z0-9]{2,8}$/;

/**
 * The VTN namespace of an object ID in Elexon's draft form `<CODE>-<UUID>` (SPEN-26ecf048-…), or
 * undefined. It lets a VEN ID name its VTN when the caller names none.
 */
export function namespaceOf(id: string): string | undefined {
  const m = /^([A-Z0-9]{2,8})-[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.exec(id);
  return m?.[1];
}

/** A 3.x VTN base URL: https (http only for localhost), no query or fragment. */
export function isVtnBaseUrl(s: string): boolean {
  if (s.length > 2000) return false;
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return false;
  }
  const local = u.hostname === 'localhost' || u.hostname === '127.0.0.1' || u.hostname === '[::1]';
  return (u.protocol === 'https:' || (u.protocol === 'http:' && local)) && !u.search && !u.hash && !u.username && !u.password;
}

/** Base URLs compare without a trailing slash. */
export function normaliseBaseUrl(s: string): string {
  // A loop, not /\/+$/: that regular expression is quadratic on a long run of slashes followed by another character.
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 47) end--;
  return s.slice(0, end);
}
