/**
 * Opens the broker and the database a set of services needs, once per process: real Redis and
 * Postgres when configured, embedded ones (the embedded broker and PGlite, both kept under the
 * data directory) when allowed and not. It imports only the drivers it opens: a process that
 * needs no SQL never loads pg or PGlite.
 */
import type { Broker } from './broker/broker.js';
import { lockDataDir } from './data-dir-lock.js';
import { ConfigError } from './errors.js';
import type { Logger } from './logger.js';
import { type PlatformConfig, redisUrlOf } from './platform-settings.js';
import type { Backend } from './service.js';
import type { Sql } from './sql/sql.js';

/**
 * What the start-up table and lines call each driver: "memory" would hide that the embedded
 * broker keeps a log on disk.
 */
export const backendNames = {
  redis: 'Redis',
  memory: 'embedded broker',
  pg: 'Postgres',
  pglite: 'embedded PGlite',
} as const satisfies Record<Broker['driver'] | Sql['driver'], string>;

export interface Backends {
  broker?: Broker;
  sql?: Sql;
  /** One line per backend for the start-up table, e.g. "broker: Redis, redis://127.0.0.1:6379/". */
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
  const redisUrl = redisUrlOf(config);
  if (needs.has('broker') && redisUrl === undefined && !allowEmbedded) {
    throw new ConfigError(
      'REDIS_URL',
      `${requiredBy} needs Redis: set REDIS_URL (or REDIS_HOST and REDIS_PORT), or pass --embedded`,
    );
  }
  if (needs.has('sql') && config.databaseUrl === undefined && !allowEmbedded) {
    throw new ConfigError(
      'DATABASE_URL',
      `${requiredBy} needs Postgres: set DATABASE_URL, or pass --embedded`,
    );
  }
  // A second `agora up` on one data directory stops here, before it opens any of the data.
  const embedded =
    (needs.has('broker') && redisUrl === undefined) ||
    (needs.has('sql') && config.databaseUrl === undefined);
  const release = embedded ? lockDataDir(config.dataDir) : () => undefined;

  let broker: Broker | undefined;
  let sql: Sql | undefined;
  try {
    if (needs.has('broker')) {
      const { openBroker } = await import('./broker/open.js');
      broker = await openBroker({
        url: redisUrl,
        keyPrefix: config.redisPrefix ?? '',
        dataDir: config.dataDir,
        fsync: config.brokerFsync,
        logger,
      });
    }
    if (needs.has('sql')) {
      const { openSql } = await import('./sql/index.js');
      sql = await openSql({
        url: config.databaseUrl,
        dataDir: config.dataDir,
        schema: config.databaseSchema,
        logger,
        poolSize: config.databasePoolSize,
        statementTimeoutMs: config.databaseStatementTimeoutMs,
      });
    }
  } catch (error) {
    await broker?.close();
    release();
    throw error;
  }

  return {
    broker,
    sql,
    describe: () => [
      ...(broker ? [`broker: ${backendNames[broker.driver]}, ${broker.location}`] : []),
      ...(sql ? [`sql: ${backendNames[sql.driver]}, ${sql.location}`] : []),
    ],
    close: async () => {
      await Promise.all([broker?.close(), sql?.close()]);
      release();
    },
  };
}
