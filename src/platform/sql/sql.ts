/**
 * The SQL seam: one PostgreSQL dialect, two drivers (pg for real Postgres, PGlite embedded).
 * Services receive a Sql handle and never build one; all SQL is parameterised ($1, $2, ...).
 */

export interface QueryResult<Row> {
  rows: Row[];
  /** Rows affected by INSERT/UPDATE/DELETE, or returned by SELECT. */
  rowCount: number;
}

/** What both a pool and an open transaction can do. */
export interface SqlQueryable {
  query<Row = Record<string, unknown>>(
    text: string,
    params?: readonly unknown[],
  ): Promise<QueryResult<Row>>;
}

export interface Sql extends SqlQueryable {
  /** `pg` or `pglite`, for status tables and logs. */
  readonly driver: 'pg' | 'pglite';
  /** Where it points (URL without password, or the data directory), for messages. */
  readonly location: string;
  /** The schema every unqualified name resolves to (search_path). */
  readonly schema: string;
  /**
   * Runs `work` in one transaction on one connection: committed when it resolves, rolled
   * back when it throws (and the error rethrown).
   */
  transaction<T>(work: (tx: SqlQueryable) => Promise<T>): Promise<T>;
  /** Resolves when the database answers; rejects with SqlUnavailableError otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
