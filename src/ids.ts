import { monotonicFactory, ulid } from 'ulid';
import type { Clock, IdSource } from './ports';

export const ULID_RE = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** A fraction in [0, 1) from the platform's cryptographic generator (Node and Workers alike). */
function cryptoFraction(): number {
  const b = new Uint32Array(1);
  crypto.getRandomValues(b);
  return b[0] / 0x1_0000_0000;
}

/**
 * ULIDs from the clock port. `next` is monotonic: sortable by creation even within one
 * millisecond (within a millisecond the next ID is the previous + 1). `nextUnguessable` draws all
 * 80 random bits afresh each time, so an asset ID says nothing of the IDs registered with it
 * (docs/decisions.md, "Asset IDs are not sequential").
 */
export function ulidSource(clock: Clock): IdSource {
  const next = monotonicFactory(cryptoFraction);
  return { next: () => next(clock.now().getTime()), nextUnguessable: () => ulid(clock.now().getTime(), cryptoFraction) };
}
