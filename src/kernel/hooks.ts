import type { Sql } from '../storage/db';

/**
 * A point in a resource's change where other domains add effects in the same transaction. The
 * resource that fires it declares it (e.g. `assetsChanged` in src/assets/hooks.ts) with the
 * payload it passes; the composition root (src/hooks.ts) registers the handlers. A resource so
 * never imports the domains that react to it.
 */
export interface HookPoint<P> {
  readonly name: string;
  /** Carries the payload type only; never set. */
  readonly payload?: (p: P) => void;
}

export type Hook<P> = (tx: Sql, payload: P) => Promise<void>;

export function hookPoint<P>(name: string): HookPoint<P> {
  return { name };
}

/** The registry carried on Ctx: handlers per point, run in registration order in the caller's transaction. */
export class Hooks {
  private readonly handlers = new Map<string, Hook<never>[]>();

  on<P>(point: HookPoint<P>, hook: Hook<P>): this {
    const list = this.handlers.get(point.name) ?? [];
    list.push(hook as Hook<never>);
    this.handlers.set(point.name, list);
    return this;
  }

  async run<P>(point: HookPoint<P>, tx: Sql, payload: P): Promise<void> {
    for (const hook of (this.handlers.get(point.name) ?? []) as Hook<P>[]) await hook(tx, payload);
  }

  /** The names of the points that have handlers (for the docs and a test). */
  points(): string[] {
    return [...this.handlers.keys()].sort();
  }
}
