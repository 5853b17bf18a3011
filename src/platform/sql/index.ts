/**
 * Opens the SQL handle a process uses: real Postgres (pg) when a URL is given, otherwise
 * embedded PGlite in a data directory (or in memory).
 */
import type { Logger } from '../logger.js';
import { PgSql } from './pg.js';
import { PgliteSql } from './pglite.js';
import type { Sql } from './sql.js';

export type { CopyValue } from './copy.js';
export {
  isSerializationFailure,
  isUniqueViolation,
  retryTransaction,
  type RetryTransactionOptions,
  sqlStateOf,
} from './errors.js';
export { GroupCommit, type GroupCommitOptions, type Outcome } from './group-commit.js';
export {
  migrate,
  migrateWhenReady,
  type MigrateWhenReadyOptions,
  type Migration,
  MigrationError,
} from './migrations.js';
export { checkSchemaName, PgSql, type PgSqlOptions } from './pg.js';
export { PgliteSql, type PgliteSqlOptions } from './pglite.js';
export type { QueryOptions, QueryResult, Sql, SqlQueryable } from './sql.js';

export interface OpenSqlOptions {
  /** postgres://... ; when set, dataDir is ignored. */
  url?: string;
  /** PGlite's directory when there is no url; undefined keeps the database in memory. */
  dataDir?: string;
  schema?: string;
  logger?: Logger;
  /** pg only: the pool's size and the statement timeout (PgSqlOptions). */
  poolSize?: number;
  statementTimeoutMs?: number;
}

/** A pg handle connects on first use, so it opens even while Postgres is still down. */
export async function openSql(options: OpenSqlOptions): Promise<Sql> {
  if (options.url !== undefined) {
    return new PgSql({
      url: options.url,
      schema: options.schema,
      logger: options.logger,
      poolSize: options.poolSize,
      statementTimeoutMs: options.statementTimeoutMs,
    });
  }
  return PgliteSql.open({ dataDir: options.dataDir, schema: options.schema });
}
