/**
 * Password hashing for people's sign-in: PBKDF2-HMAC-SHA256 through Web Crypto (so it runs on
 * Node and Workers), 600,000 iterations as OWASP's Password Storage Cheat Sheet recommends for
 * PBKDF2-HMAC-SHA256, 16-byte random salt. Stored as `pbkdf2-sha256$<iterations>$<salt>$<hash>`
 * (base64url), so the cost can be raised later and old hashes still verify.
 */
const ITERATIONS = 600_000;
const enc = new TextEncoder();
const b64 = (u: Uint8Array) =>
  btoa(String.fromCharCode(...u))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
const unb64 = (s: string) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));

async function derive(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey('raw', enc.encode(password), 'PBKDF2', false, ['deriveBits']);
  return new Uint8Array(
    await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt: salt as BufferSource, iterations }, key, 256),
  );
}

export async function hashPassword(password: string, iterations = ITERATIONS): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  return `pbkdf2-sha256$${iterations}$${b64(salt)}$${b64(await derive(password, salt, iterations))}`;
}

export async function verifyPassword(stored: string | null | undefined, password: string): Promise<boolean> {
  const parts = (stored ?? '').split('$');
  if (parts.length !== 4 || parts[0] !== 'pbkdf2-sha256') {
    // Same work as a real check, so a missing account is not told apart by timing.
    await derive(password, new Uint8Array(16), ITERATIONS);
    return false;
  }
  const got = await derive(password, unb64(parts[2]), Number(parts[1]));
  const want = unb64(parts[3]);
  let diff = got.length ^ want.length;
  for (let i = 0; i < Math.min(got.length, want.length); i++) diff |= got[i] ^ want[i];
  return diff === 0;
}

/** Rules for a new password: NCSC/NIST SP 800-63B style, length over composition. */
export function passwordProblem(password: string): string | undefined {
  if (password.length < 12) return 'Use at least 12 characters.';
  if (password.length > 256) return 'Use at most 256 characters.';
  return undefined;
}

/** A random secret (client secrets, invitation tokens): 256 bits, base64url. */
export function randomSecret(bytes = 32): string {
  return b64(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** SHA-256 of a high-entropy secret (invitation tokens), base64url; Web Crypto, Node and Workers. */
export async function sha256(text: string): Promise<string> {
  return b64(new Uint8Array(await crypto.subtle.digest('SHA-256', enc.encode(text))));
}
