/** The database port: one query path for PostgreSQL (postgres.js) and embedded PGlite. */
export type Row = Record<string, unknown>;

export interface Sql {
  /** Run one statement with positional parameters ($1, $2, …) and return its rows. */
  query<T extends object = Row>(text: string, params?: unknown[]): Promise<T[]>;
}

export interface Db extends Sql {
  readonly engine: 'postgres' | 'pglite';
  /** Run fn in one transaction; a thrown error rolls everything back. */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /** How the connection pool is used right now (metrics, src/http/metrics.ts); absent where it is not known (Workers). */
  use?(): PoolUse;
}

/**
 * Statements and transactions in flight against the pool: each holds one connection while it runs
 * (`busy`, at most `size`); beyond `size` they wait for one (`waiting`). PGlite runs one at a time.
 */
export interface PoolUse {
  size: number;
  busy: number;
  waiting: number;
}

/** A counter of work in flight, as PoolUse; `run` counts a statement or transaction while it runs. */
export function poolCounter(size: number) {
  let inFlight = 0;
  return {
    use: (): PoolUse => ({ size, busy: Math.min(inFlight, size), waiting: Math.max(0, inFlight - size) }),
    async run<T>(work: () => Promise<T>): Promise<T> {
      inFlight++;
      try {
        return await work();
      } finally {
        inFlight--;
      }
    },
  };
}

/** Unique-violation and exclusion-violation SQLSTATEs, mapped to 409s by the modules that own the constraint. */
export function pgErrorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown } | null;
  return e && typeof e.code === 'string' ? e.code : undefined;
}

export function constraintName(err: unknown): string | undefined {
  const e = err as { constraint_name?: string; constraint?: string } | null;
  return e?.constraint_name ?? e?.constraint;
}
