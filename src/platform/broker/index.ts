/**
 * Opens the broker a process uses: Redis when a URL is configured, the embedded one otherwise
 * (kept in a log under the data directory when one is given).
 */
import type { Logger } from '../logger.js';
import type { Broker } from './broker.js';
import { MemoryBroker } from './memory.js';
import type { FsyncPolicy } from './memory-log.js';
import { RedisBroker } from './redis.js';

export type * from './broker.js';
export { BrokerLogCorruptError, NoGroupError } from './errors.js';
export {
  MemoryBroker,
  type MemoryBrokerOptions,
  MemoryStore,
  type PersistenceOptions,
} from './memory.js';
export type { FsyncPolicy } from './memory-log.js';
export { RedisBroker, type RedisBrokerOptions } from './redis.js';

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

export function openBroker(options: OpenBrokerOptions): Broker {
  const { url, keyPrefix, dataDir, fsync, logger } = options;
  if (url !== undefined) return new RedisBroker({ url, keyPrefix, logger });
  const persistence = dataDir === undefined ? undefined : { dataDir, fsync, logger };
  return new MemoryBroker({ keyPrefix, logger, persistence });
}
