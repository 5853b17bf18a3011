/**
 * The embedded driver: PGlite (Postgres compiled to WebAssembly), in memory or in a directory.
 * It is one connection, so transactions run one at a time and a plain query waits for them.
 */
import { PGlite, type Results, type Transaction, types } from '@electric-sql/pglite';

import { lockDataDir } from '../data-dir-lock.js';
import { SqlUnavailableError } from '../errors.js';
import { copyStatement, copyText, type CopyValue } from './copy.js';
import { checkSchemaName } from './pg.js';
import type { QueryResult, Sql, SqlQueryable } from './sql.js';

export interface PgliteSqlOptions {
  /** A directory holding the database, created if missing; undefined keeps it in memory. */
  dataDir?: string;
  /**
   * For a database in memory: a dump of a data directory (PGlite's `dumpDataDir`, uncompressed)
   * to start from instead of an empty cluster. Opening skips initdb, a few times faster, which
   * counts where many databases are opened one after another (the SQL contract tests).
   */
  loadDataDir?: Blob;
  /** Schema for every unqualified name; created if missing. Defaults to `public`. */
  schema?: string;
}

/** Statements of the kinds the services run, repeated at open on a temporary table. */
const warmUpRounds = 150;

/**
 * A fresh PGlite runs its first statements slowly: WebAssembly starts on a baseline compiler and
 * tiers up only once code is hot, and Postgres fills its caches. Without this the first few
 * hundred votes of a fresh embedded stack waited up to seconds (the event loop is shared). So
 * `open` runs what the services run (parameterised upserts in transactions, COPY, reads) on a
 * temporary table first, which leaves no trace.
 */
async function warmUp(db: PGlite): Promise<void> {
  await db.exec(
    'CREATE TEMP TABLE agora_warm_up (key text PRIMARY KEY, value int NOT NULL, at timestamptz DEFAULT now())',
  );
  for (let round = 0; round < warmUpRounds; round++) {
    await db.transaction(async (tx) => {
      await tx.query(
        'INSERT INTO agora_warm_up (key, value) SELECT * FROM unnest($1::text[], $2::int[]) ' +
          'ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, at = now()',
        [
          [`k${round % 40}`, `k${(round + 7) % 40}`],
          [round, round + 1],
        ],
      );
      await tx.query('SELECT key, value FROM agora_warm_up WHERE key = $1', [`k${round % 40}`]);
    });
  }
  await db.query("COPY agora_warm_up (key, value) FROM '/dev/blob'", [], {
    blob: new Blob(['w1\t1\nw2\t2\n']),
  });
  await db.exec('SELECT count(*), sum(value) FROM agora_warm_up; DROP TABLE agora_warm_up');
}

export class PgliteSql implements Sql {
  readonly driver = 'pglite';
  readonly location: string;
  readonly schema: string;
  private readonly db: PGlite;
  private closing: Promise<void> | undefined;

  private readonly release: () => void;

  private constructor(db: PGlite, location: string, schema: string, release: () => void) {
    this.db = db;
    this.location = location;
    this.schema = schema;
    this.release = release;
  }

  static async open(options: PgliteSqlOptions = {}): Promise<PgliteSql> {
    const schema = checkSchemaName(options.schema ?? 'public');
    if (options.loadDataDir !== undefined && options.dataDir !== undefined) {
      throw new Error('PgliteSql: loadDataDir is for a database in memory, not with a dataDir');
    }
    // A second process writing the same directory would corrupt it: claim it before opening.
    const release = options.dataDir === undefined ? () => undefined : lockDataDir(options.dataDir);
    let db: PGlite;
    try {
      db = await PGlite.create({
        dataDir: options.dataDir,
        loadDataDir: options.loadDataDir,
        // node-postgres returns int8 as a string (it may not fit a double); PGlite a number.
        // Both drivers answer as node-postgres does, so code behaves the same on either.
        parsers: { [types.INT8]: (value: string) => value },
      });
    } catch (error) {
      release();
      throw error;
    }
    try {
      // The name is checked against a strict pattern, so quoting it is enough.
      await db.exec(`CREATE SCHEMA IF NOT EXISTS "${schema}"; SET search_path TO "${schema}"`);
      await warmUp(db);
    } catch (error) {
      await db.close();
      release();
      throw error;
    }
    return new PgliteSql(db, options.dataDir ?? 'memory', schema, release);
  }

  // PGlite's own query() waits for an open transaction to end, so a query from another async
  // flow never runs inside it; only `tx.query` does.
  async query<Row = Record<string, unknown>>(
    text: string,
    params?: readonly unknown[],
  ): Promise<QueryResult<Row>> {
    this.throwIfClosed();
    return this.run(this.db, text, params);
  }

  async copyFrom(
    table: string,
    columns: readonly string[],
    rows: readonly (readonly CopyValue[])[],
  ): Promise<number> {
    this.throwIfClosed();
    return this.copy(this.db, table, columns, rows);
  }

  async transaction<T>(work: (tx: SqlQueryable) => Promise<T>): Promise<T> {
    this.throwIfClosed();
    try {
      return await this.db.transaction((tx) =>
        work({
          query: <Row>(text: string, params?: readonly unknown[]) =>
            this.run<Row>(tx, text, params),
          copyFrom: (table, columns, rows) => this.copy(tx, table, columns, rows),
        }),
      );
    } catch (error) {
      throw this.translate(error);
    }
  }

  async ping(): Promise<void> {
    this.throwIfClosed();
    try {
      await this.db.exec('SELECT 1');
    } catch (error) {
      throw new SqlUnavailableError(this.location, error);
    }
  }

  close(): Promise<void> {
    this.closing ??= this.db.close().finally(this.release);
    return this.closing;
  }

  private async run<Row>(
    target: PGlite | Transaction,
    text: string,
    params?: readonly unknown[],
  ): Promise<QueryResult<Row>> {
    let result: Results<Row> | undefined;
    try {
      if (params === undefined || params.length === 0) {
        // The simple protocol, as node-postgres uses without parameters: a script of several
        // statements (a migration) is allowed, and the last statement's result is returned.
        result = (await target.exec(text)).at(-1) as Results<Row> | undefined;
      } else {
        result = await target.query<Row>(text, [...params]);
      }
    } catch (error) {
      throw this.translate(error);
    }
    if (result === undefined) return { rows: [], rowCount: 0 };
    // PGlite counts affected rows only for INSERT/UPDATE/DELETE; pg counts a SELECT's rows too.
    const rowCount = result.fields.length > 0 ? result.rows.length : (result.affectedRows ?? 0);
    return { rows: result.rows, rowCount };
  }

  /** PGlite's COPY reads a Blob handed to the query as the file `/dev/blob`. */
  private async copy(
    target: PGlite | Transaction,
    table: string,
    columns: readonly string[],
    rows: readonly (readonly CopyValue[])[],
  ): Promise<number> {
    const statement = copyStatement(table, columns, `'/dev/blob'`);
    const blob = new Blob([copyText(rows, columns.length)]);
    try {
      const result = await target.query(statement, [], { blob });
      return result.affectedRows ?? rows.length;
    } catch (error) {
      throw this.translate(error);
    }
  }

  private throwIfClosed(): void {
    if (this.closing !== undefined || this.db.closed) {
      throw new SqlUnavailableError(this.location, new Error('the database is closed'));
    }
  }

  /** Database errors keep their SQLSTATE `code` as pg's do; a closed database is unavailable. */
  private translate(error: unknown): unknown {
    return this.db.closed ? new SqlUnavailableError(this.location, error) : error;
  }
}
