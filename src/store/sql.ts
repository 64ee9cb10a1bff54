// The little SQL surface both databases offer the store: parameterised queries written once with
// PostgreSQL's `$1` placeholders, and the few statements whose syntax differs between the two.
export type SqlValue = string | number | null;
export type SqlRow = Record<string, unknown>;

export type Dialect = 'sqlite' | 'postgres';

export interface Sql {
  readonly dialect: Dialect;
  /** Runs one statement and returns its rows (RETURNING rows for writes). */
  query(text: string, params?: SqlValue[]): Promise<SqlRow[]>;
  /** Runs `apply` in one transaction, serialised against other processes migrating the same database. */
  migrate(apply: (tx: Pick<Sql, 'query'>) => Promise<void>): Promise<void>;
  close(): Promise<void>;
}
