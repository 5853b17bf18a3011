/**
 * The real-Postgres driver (node-postgres pool). It never crashes on a lost connection: the pool
 * redials on demand, and while Postgres is away every call fails fast with SqlUnavailableError.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import pg from 'pg';
import { from as copyFromStdin } from 'pg-copy-streams';

import { SqlUnavailableError } from '../errors.js';
import type { Logger } from '../logger.js';
import { copyStatement, copyText, type CopyValue } from './copy.js';
import type { QueryOptions, QueryResult, Sql, SqlQueryable } from './sql.js';

export interface PgSqlOptions {
  /** postgres://user:password@host:port/database */
  url: string;
  /** Schema for every unqualified name; created if missing. Defaults to `public`. */
  schema?: string;
  /** Most connections open at once (default 10). */
  poolSize?: number;
  /**
   * Postgres cancels a statement running longer than this (0: never), so a few slow requests
   * cannot hold the pool; a cancelled one fails as SqlUnavailableError (a readable 503).
   */
  statementTimeoutMs?: number;
  logger?: Logger;
}

type PgResult = pg.QueryResult<Record<string, unknown>>;

/** A query issued while Postgres is down fails after this, instead of hanging. */
const connectTimeoutMs = 3_000;

/**
 * A query sent on a connection that then goes silent (a partition, a blackhole: no reset ever
 * comes) fails as unavailable after this, and its connection is dropped, instead of holding
 * its caller until TCP gives up minutes later. With a statement timeout, the client waits that
 * long plus a margin, so Postgres's own cancel (a clean error) comes first when it can answer.
 */
export const queryTimeoutMs = 10_000;
const queryTimeoutMarginMs = 2_000;

function clientQueryTimeout(statementTimeoutMs: number | undefined): number {
  return statementTimeoutMs !== undefined && statementTimeoutMs > 0
    ? statementTimeoutMs + queryTimeoutMarginMs
    : queryTimeoutMs;
}

/** Socket-level failures: the server is down, restarting or unreachable. */
const unavailableErrnos = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs meaning "this server cannot serve you now": class 08 (connection exception),
 * 57P01-57P03 (shutdown, crash, starting up), 53300 (too many connections) and 57014 (a
 * statement cancelled, as statement_timeout does).
 */
const unavailableSqlStates = /^(08...|57P0[123]|53300|57014)$/;

/** node-postgres reports a lost or unusable connection with these messages and no code. */
const unavailableMessages =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed|Cannot use a pool after calling end|Query read timeout)/;

/** Schema names are restricted so they are safe in a search_path option and in messages. */
const schemaNamePattern = /^[a-z_][a-z0-9_]*$/;

/** Returns `name` when it is a valid schema name for either driver; throws otherwise. */
export function checkSchemaName(name: string): string {
  if (!schemaNamePattern.test(name) || name.length > 63) {
    throw new Error(
      `invalid schema name ${JSON.stringify(name)}: use lower-case letters, digits and _ (at most 63)`,
    );
  }
  return name;
}

export class PgSql implements Sql {
  readonly driver = 'pg';
  readonly location: string;
  readonly schema: string;
  private readonly pool: pg.Pool;
  private readonly logger: Logger | undefined;
  private schemaReady: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: PgSqlOptions) {
    this.schema = checkSchemaName(options.schema ?? 'public');
    this.logger = options.logger;
    const location = new URL(options.url);
    location.password = '';
    this.location = location.href;
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: connectTimeoutMs,
      query_timeout: clientQueryTimeout(options.statementTimeoutMs),
      keepAlive: true,
      options: `-c search_path=${pg.escapeIdentifier(this.schema)} -c statement_timeout=${Math.trunc(options.statementTimeoutMs ?? 0)}`,
    });
    // An idle connection that dies (Postgres restarted) is reported here and dropped; without
    // a listener the event would crash the process.
    this.pool.on('error', (error) => {
      this.logger?.warn({ err: error }, 'an idle Postgres connection failed; it will be replaced');
    });
  }

  async query<Row = Record<string, unknown>>(
    text: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<QueryResult<Row>> {
    await this.ensureSchema();
    return this.run(this.pool, text, params, options);
  }

  async copyFrom(
    table: string,
    columns: readonly string[],
    rows: readonly (readonly CopyValue[])[],
  ): Promise<number> {
    await this.ensureSchema();
    const client = await this.connect();
    let broken: Error | undefined;
    try {
      return await this.copy(client, table, columns, rows);
    } catch (error) {
      // A connection that failed mid-COPY is not handed to the next caller.
      if (error instanceof SqlUnavailableError) broken = error;
      throw error;
    } finally {
      client.release(broken);
    }
  }

  async transaction<T>(work: (tx: SqlQueryable) => Promise<T>): Promise<T> {
    await this.ensureSchema();
    const client = await this.connect();
    // A checked-out client whose connection dies between queries emits 'error'; the next query
    // on it rejects, so here it only needs a listener to keep the process alive.
    const onError = (error: Error) => {
      this.logger?.warn({ err: error }, 'a Postgres connection failed during a transaction');
    };
    client.on('error', onError);
    let open = true;
    const tx: SqlQueryable = {
      query: <Row>(text: string, params?: readonly unknown[], options?: QueryOptions) => {
        if (!open) return Promise.reject(new Error('the transaction is over'));
        return this.run<Row>(client, text, params, options);
      },
      copyFrom: (table, columns, rows) => {
        if (!open) return Promise.reject(new Error('the transaction is over'));
        return this.copy(client, table, columns, rows);
      },
    };
    let broken: Error | undefined;
    try {
      await this.run(client, 'BEGIN');
      const result = await work(tx);
      const commit = await this.run(client, 'COMMIT');
      if (commit.command === 'ROLLBACK') throw abortedTransactionError();
      return result;
    } catch (error) {
      if (error instanceof SqlUnavailableError) {
        // The connection is gone or silent: Postgres rolls back on its own once it notices, and
        // a ROLLBACK would only queue behind the query that never got its answer.
        broken = error;
        throw error;
      }
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      }
      throw error;
    } finally {
      open = false;
      client.off('error', onError);
      // Releasing with an error destroys the connection instead of pooling it.
      client.release(broken);
    }
  }

  async ping(): Promise<void> {
    try {
      await this.pool.query('SELECT 1');
    } catch (error) {
      throw new SqlUnavailableError(this.location, error);
    }
  }

  close(): Promise<void> {
    this.closing ??= this.pool.end();
    return this.closing;
  }

  private async run<Row>(
    target: pg.Pool | pg.PoolClient,
    text: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<QueryResult<Row> & { command: string }> {
    let result: PgResult | PgResult[];
    try {
      const values = params as unknown[] | undefined;
      result =
        options?.prepare === true && values !== undefined
          ? await target.query<Record<string, unknown>>({ name: statementName(text), text, values })
          : await target.query<Record<string, unknown>>(text, values);
    } catch (error) {
      throw this.translate(error);
    }
    // Several statements without parameters (a migration script) answer with one result each.
    const results: PgResult[] = Array.isArray(result) ? result : [result];
    const last = results.at(-1);
    if (last === undefined) return { rows: [], rowCount: 0, command: '' };
    return {
      rows: last.rows as Row[],
      rowCount: last.rowCount ?? last.rows.length,
      command: last.command,
    };
  }

  private async copy(
    client: pg.PoolClient,
    table: string,
    columns: readonly string[],
    rows: readonly (readonly CopyValue[])[],
  ): Promise<number> {
    const statement = copyStatement(table, columns, 'STDIN');
    const text = copyText(rows, columns.length);
    const stream = client.query(copyFromStdin(statement));
    try {
      await pipeline(Readable.from([text]), stream);
    } catch (error) {
      throw this.translate(error);
    }
    return stream.rowCount;
  }

  private async connect(): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch (error) {
      throw this.translate(error);
    }
  }

  /** Creates the schema once, on first use, so a handle can be opened while Postgres is down. */
  private ensureSchema(): Promise<void> {
    this.schemaReady ??= this.createSchema().catch((error: unknown) => {
      this.schemaReady = undefined;
      throw error;
    });
    return this.schemaReady;
  }

  private async createSchema(): Promise<void> {
    // Looked up first: CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege on the database
    // even when the schema exists, which a managed database's role may lack.
    const found = await this.run(this.pool, 'SELECT 1 FROM pg_namespace WHERE nspname = $1', [
      this.schema,
    ]);
    if (found.rowCount > 0) return;
    try {
      await this.run(this.pool, `CREATE SCHEMA IF NOT EXISTS ${pg.escapeIdentifier(this.schema)}`);
    } catch (error) {
      // Two connections creating it at once: the loser sees 23505 or 42P06 (duplicate_schema).
      const code = errorCode(error);
      if (code !== '23505' && code !== '42P06') throw error;
    }
  }

  private translate(error: unknown): unknown {
    return isUnavailable(error) ? new SqlUnavailableError(this.location, error) : error;
  }
}

const statementNames = new Map<string, string>();

/** A prepared statement's name: the same on every connection for the same text. */
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `agora_${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
    statementNames.set(text, name);
  }
  return name;
}

function isUnavailable(error: unknown): boolean {
  if (error instanceof AggregateError && error.errors.some(isUnavailable)) return true;
  if (!(error instanceof Error)) return false;
  const code = errorCode(error);
  if (
    typeof code === 'string' &&
    (unavailableErrnos.has(code) || unavailableSqlStates.test(code))
  ) {
    return true;
  }
  return unavailableMessages.test(error.message);
}

function errorCode(error: unknown): unknown {
  return error instanceof Error && 'code' in error ? error.code : undefined;
}

/** COMMIT of a transaction in which a statement failed rolls back; pg reports no error. */
function abortedTransactionError(): Error {
  return Object.assign(new Error('the transaction was rolled back: a statement in it failed'), {
    code: '25P02',
  });
}
