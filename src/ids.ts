import { monotonicFactory } from 'ulid';
import type { Clock, IdSource } from './ports';

export const ULID_RE = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** Monotonic ULIDs from the clock port: sortable by creation even within one millisecond. */
export function ulidSource(clock: Clock): IdSource {
  const next = monotonicFactory();
  return { next: () => next(clock.now().getTime()) };
}
