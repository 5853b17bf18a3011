/**
 * Opens the broker and the database a set of services needs, once per process: real Redis and
 * Postgres when configured, embedded ones (the embedded broker and PGlite, both kept under the
 * data directory) when allowed and not. It imports only the drivers it opens: a process that
 * needs no SQL never loads pg or PGlite.
 */
import type { Broker } from './broker/broker.js';
import { ConfigError } from './errors.js';
import type { Logger } from './logger.js';
import { type PlatformConfig, redisUrlOf } from './platform-settings.js';
import type { Backend } from './service.js';
import type { Sql } from './sql/sql.js';

export interface Backends {
  broker?: Broker;
  sql?: Sql;
  /** One line per backend for the start-up table, e.g. "broker: redis redis://127.0.0.1:6379". */
  describe(): string[];
  close(): Promise<void>;
}

export interface OpenBackendsOptions {
  needs: ReadonlySet<Backend>;
  config: PlatformConfig;
  logger: Logger;
  /** May the in-memory broker and PGlite stand in for unset REDIS_URL / DATABASE_URL? */
  allowEmbedded: boolean;
  /** Names what would have needed the backend, for the error when embedded is not allowed. */
  requiredBy: string;
}

export async function openBackends(options: OpenBackendsOptions): Promise<Backends> {
  const { needs, config, logger, allowEmbedded, requiredBy } = options;
  let broker: Broker | undefined;
  let sql: Sql | undefined;

  if (needs.has('broker')) {
    const url = redisUrlOf(config);
    if (url === undefined && !allowEmbedded) {
      throw new ConfigError(
        'REDIS_URL',
        `${requiredBy} needs Redis: set REDIS_URL (or REDIS_HOST and REDIS_PORT), or pass --embedded`,
      );
    }
    const { openBroker } = await import('./broker/index.js');
    broker = openBroker({
      url,
      keyPrefix: config.redisPrefix ?? '',
      dataDir: config.dataDir,
      fsync: config.brokerFsync,
      logger,
    });
  }
  if (needs.has('sql')) {
    if (config.databaseUrl === undefined && !allowEmbedded) {
      throw new ConfigError(
        'DATABASE_URL',
        `${requiredBy} needs Postgres: set DATABASE_URL, or pass --embedded`,
      );
    }
    const { openSql } = await import('./sql/index.js');
    sql = await openSql({
      url: config.databaseUrl,
      dataDir: config.dataDir,
      schema: config.databaseSchema,
      logger,
    });
  }

  return {
    broker,
    sql,
    describe: () => [
      ...(broker ? [`broker: ${broker.driver} ${broker.location}`] : []),
      ...(sql ? [`sql: ${sql.driver} ${sql.location}`] : []),
    ],
    close: async () => {
      await Promise.all([broker?.close(), sql?.close()]);
    },
  };
}
