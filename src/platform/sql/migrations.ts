/**
 * Versioned schema migrations, applied at start. Each system lists its migrations in order;
 * `migrate` applies the missing ones in one transaction under an advisory lock, so several
 * replicas starting at once apply each migration exactly once and none sees a half-made schema.
 */
import { retryWithBackoff } from '../backoff.js';
import { SqlUnavailableError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Sql } from './sql.js';

export interface Migration {
  /** 1, 2, 3, ... in order; never renumber or edit one that has shipped. */
  version: number;
  name: string;
  /** One or more SQL statements. */
  sql: string;
}

/** The code and the database disagree about a system's migrations; retrying will not help. */
export class MigrationError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MigrationError';
  }
}

/**
 * Applies the migrations of `system` that the database lacks, in order, and returns how many
 * it applied. Refuses a database that has a version the code does not know or names differently.
 */
export async function migrate(
  sql: Sql,
  system: string,
  migrations: readonly Migration[],
): Promise<number> {
  checkMigrations(system, migrations);
  return sql.transaction(async (tx) => {
    // A migration (and the wait for another replica's) may outlast AGORA_DB_STATEMENT_TIMEOUT_MS.
    await tx.query('SET LOCAL statement_timeout = 0');
    // Taken before CREATE TABLE IF NOT EXISTS, which races (23505) when run concurrently.
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [
      `agora_migrations:${sql.schema}`,
    ]);
    await tx.query(`
      CREATE TABLE IF NOT EXISTS agora_migrations (
        system text NOT NULL,
        version integer NOT NULL,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (system, version)
      )`);
    const { rows: applied } = await tx.query<{ version: number; name: string }>(
      'SELECT version, name FROM agora_migrations WHERE system = $1 ORDER BY version',
      [system],
    );
    for (const row of applied) {
      const known = migrations[row.version - 1];
      if (known === undefined) {
        throw new MigrationError(
          `the database has ${system} migration ${row.version} (${row.name}), which this code does not know (it knows up to ${migrations.length}): run a newer version`,
        );
      }
      if (known.name !== row.name) {
        throw new MigrationError(
          `${system} migration ${row.version} is "${row.name}" in the database but "${known.name}" in the code: a shipped migration was changed`,
        );
      }
    }

    const appliedVersions = new Set(applied.map((row) => row.version));
    const missing = migrations.filter((migration) => !appliedVersions.has(migration.version));
    for (const migration of missing) {
      try {
        await tx.query(migration.sql);
      } catch (error) {
        if (error instanceof SqlUnavailableError) throw error;
        throw new MigrationError(
          `${system} migration ${migration.version} (${migration.name}) failed: ${errorMessage(error)}`,
          { cause: error },
        );
      }
      await tx.query('INSERT INTO agora_migrations (system, version, name) VALUES ($1, $2, $3)', [
        system,
        migration.version,
        migration.name,
      ]);
    }
    return missing.length;
  });
}

export interface MigrateWhenReadyOptions {
  /** Stops waiting (rejecting with the signal's reason) when aborted. */
  signal?: AbortSignal;
  logger?: Logger;
  /** Told why migrating waits each time the database does not answer, e.g. for /readyz. */
  onWaiting?: (reason: string) => void;
}

/**
 * `migrate`, retried with backoff while the database does not answer, so a service can start
 * before Postgres. Any other failure (a bad migration, a newer database) is thrown at once.
 */
export async function migrateWhenReady(
  sql: Sql,
  system: string,
  migrations: readonly Migration[],
  options: MigrateWhenReadyOptions = {},
): Promise<number> {
  const { logger, onWaiting } = options;
  const fatal = new AbortController();
  const signal =
    options.signal === undefined ? fatal.signal : AbortSignal.any([options.signal, fatal.signal]);
  try {
    return await retryWithBackoff(
      async () => {
        try {
          return await migrate(sql, system, migrations);
        } catch (error) {
          // Aborting with the error makes retryWithBackoff rethrow it instead of waiting.
          if (!(error instanceof SqlUnavailableError)) fatal.abort(error);
          throw error;
        }
      },
      {
        signal,
        onRetry: (error, attempt, delayMs) => {
          const reason = `${system} migrations wait for the database: ${errorMessage(error)}`;
          logger?.warn({ err: error, attempt, delayMs }, reason);
          onWaiting?.(reason);
        },
      },
    );
  } catch (error) {
    // An abort during the backoff wait rejects with a generic AbortError; give the reason.
    if (signal.aborted) throw signal.reason;
    throw error;
  }
}

function checkMigrations(system: string, migrations: readonly Migration[]): void {
  if (system === '') throw new MigrationError('a system name is required to migrate');
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new MigrationError(
        `${system} migration "${migration.name}" has version ${migration.version} but is number ${index + 1} in the list: versions must be 1, 2, 3, ... in order`,
      );
    }
    if (migration.name.trim() === '') {
      throw new MigrationError(`${system} migration ${migration.version} has no name`);
    }
  });
}

function errorMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}
