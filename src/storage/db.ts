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
