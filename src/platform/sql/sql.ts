/**
 * The SQL seam: one PostgreSQL dialect, two drivers (pg for real Postgres, PGlite embedded).
 * Services receive a Sql handle and never build one; all SQL is parameterised ($1, $2, ...).
 */

export interface QueryResult<Row> {
  rows: Row[];
  /** Rows affected by INSERT/UPDATE/DELETE, or returned by SELECT. */
  rowCount: number;
}

import type { CopyValue } from './copy.js';

export interface QueryOptions {
  /**
   * Prepares the statement once per connection and runs it by name afterwards (pg; PGlite
   * ignores it): Postgres parses it once, and plans it once when a generic plan is as good,
   * which saves about a millisecond of its CPU on each run of a large statement. For the
   * fixed texts a hot path runs many times; every distinct text stays prepared on each
   * connection until the connection closes.
   */
  prepare?: boolean;
}

/** What both a pool and an open transaction can do. */
export interface SqlQueryable {
  /**
   * Runs one statement with `$1, $2, ...` bound to `params`. Without params the text may hold
   * several statements (a migration script); the last one's result is returned. Values come
   * back as node-postgres gives them on both drivers: int8 and numeric as strings (cast to
   * int for a number), timestamptz as Date, json as parsed values. A failed statement rejects
   * with an error carrying the SQLSTATE in `code` (23505: unique violation).
   */
  query<Row = Record<string, unknown>>(
    text: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<QueryResult<Row>>;
  /**
   * Loads `rows` into `table` (unqualified: the handle's schema) with `COPY ... FROM STDIN`, the
   * fastest way in for new rows, and resolves with how many were copied. All or nothing: a row
   * that breaks a constraint (23505 for a known key) fails the whole COPY. Table and column
   * names must be plain lower-case identifiers; the values are data, never SQL.
   */
  copyFrom(
    table: string,
    columns: readonly string[],
    rows: readonly (readonly CopyValue[])[],
  ): Promise<number>;
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
   * back when it throws (and the error rethrown). If a statement failed and `work` went on,
   * it rejects with code 25P02 and nothing is committed. Inside `work` use `tx` only: on
   * PGlite (one connection) a query on the handle waits for the transaction to end.
   */
  transaction<T>(work: (tx: SqlQueryable) => Promise<T>): Promise<T>;
  /**
   * Resolves when the database answers; rejects with SqlUnavailableError otherwise. Queries
   * and transactions also reject with SqlUnavailableError while the database is unreachable.
   */
  ping(): Promise<void>;
  close(): Promise<void>;
}
