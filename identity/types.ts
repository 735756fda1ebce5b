/**
 * What the identity library needs from its host: a SQL port (the hub's Db satisfies it) and a
 * clock. identity/ never imports from src/.
 */
export interface SqlPort {
  /** Rows are unknown until the caller names their type. */
  query<T extends object = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
}
export interface TxPort extends SqlPort {
  transaction<T>(fn: (tx: SqlPort) => Promise<T>): Promise<T>;
}
export type Now = () => Date;
