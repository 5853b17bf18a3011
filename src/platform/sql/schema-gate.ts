/**
 * The SQL handle a service is given when it declares migrations: until they are applied every
 * query answers a readable 503 (`database_unavailable`) instead of `relation does not exist`,
 * and `/readyz` says what the schema waits for. The platform applies them in the background.
 */
import { UnavailableError } from '../errors.js';
import type { Logger } from '../logger.js';
import { migrateWhenReady, type Migration } from './migrations.js';
import type { Sql, SqlQueryable } from './sql.js';

const waitingForDatabase = 'waiting for the database';

export class SchemaGate {
  /** "ok" once applied; otherwise why not yet (what `/readyz` and a refused query say). */
  #state = waitingForDatabase;
  readonly #inner: Sql;
  readonly #applied: Promise<void>;
  #markApplied: () => void = () => undefined;
  readonly sql: Sql;

  constructor(
    inner: Sql,
    readonly system: string,
    readonly migrations: readonly Migration[],
  ) {
    this.#inner = inner;
    this.#applied = new Promise((resolve) => {
      this.#markApplied = resolve;
    });
    const open = (): Sql => {
      if (this.#state !== 'ok') {
        throw new UnavailableError(
          'database',
          `The ${system} schema is not ready: ${this.#state}.`,
        );
      }
      return inner;
    };
    this.sql = {
      driver: inner.driver,
      location: inner.location,
      schema: inner.schema,
      query: (text, params, options) => open().query(text, params, options),
      copyFrom: (table, columns, rows) => open().copyFrom(table, columns, rows),
      transaction: <T>(work: (tx: SqlQueryable) => Promise<T>) => open().transaction(work),
      ping: () => inner.ping(),
      // The handle is the process's; the runtime closes it, not a service.
      close: () => Promise.resolve(),
    };
  }

  /** Resolves once the migrations are applied; stays pending while they are not. */
  get applied(): Promise<void> {
    return this.#applied;
  }

  get ready(): boolean {
    return this.#state === 'ok';
  }

  /** The readiness check: resolves once the schema is there, else rejects saying why not. */
  check(): Promise<void> {
    return this.ready ? Promise.resolve() : Promise.reject(new Error(this.#state));
  }

  /**
   * Applies the migrations, waiting with backoff while the database does not answer. Never
   * rejects: a fatal failure (a broken or newer schema) is logged and stays in `/readyz`.
   */
  async apply(options: { signal: AbortSignal; logger: Logger }): Promise<void> {
    const { signal, logger } = options;
    try {
      await migrateWhenReady(this.#inner, this.system, this.migrations, {
        signal,
        logger,
        onWaiting: () => {
          this.#state = waitingForDatabase;
        },
      });
      this.#state = 'ok';
      this.#markApplied();
    } catch (error) {
      if (signal.aborted) return;
      this.#state = error instanceof Error ? error.message : String(error);
      logger.error({ err: error }, `the ${this.system} migrations failed; nothing is served`);
    }
  }
}
