/**
 * Opens the broker a process uses: Redis when a URL is configured, the embedded one otherwise
 * (kept in a log under the data directory when one is given). Each driver is imported when it
 * is chosen: a service on Redis loads no embedded log, an embedded one no ioredis.
 */
import type { Logger } from '../logger.js';
import type { Broker } from './broker.js';
import type { FsyncPolicy } from './memory-log.js';

export interface OpenBrokerOptions {
  /** A `redis://` or `rediss://` URL; unset means the embedded in-memory broker. */
  url?: string;
  /** Prepended to every key, stream and channel name. */
  keyPrefix?: string;
  /** Where the embedded broker keeps its log; unset keeps it in memory only. */
  dataDir?: string;
  /** The embedded broker's fsync policy (default `always`). */
  fsync?: FsyncPolicy;
  logger?: Logger;
}

export async function openBroker(options: OpenBrokerOptions): Promise<Broker> {
  const { url, keyPrefix, dataDir, fsync, logger } = options;
  if (url !== undefined) {
    const { RedisBroker } = await import('./redis.js');
    return new RedisBroker({ url, keyPrefix, logger });
  }
  const { MemoryBroker } = await import('./memory.js');
  const persistence = dataDir === undefined ? undefined : { dataDir, fsync, logger };
  return new MemoryBroker({ keyPrefix, logger, persistence });
}
