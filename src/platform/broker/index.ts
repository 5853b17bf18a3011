/**
 * Opens the broker a process uses: Redis when a URL is configured, the in-memory one otherwise.
 */
import type { Logger } from '../logger.js';
import type { Broker } from './broker.js';
import { MemoryBroker } from './memory.js';
import { RedisBroker } from './redis.js';

export type * from './broker.js';
export { MemoryBroker, MemoryStore, type MemoryBrokerOptions } from './memory.js';
export { RedisBroker, type RedisBrokerOptions } from './redis.js';

export interface OpenBrokerOptions {
  /** A `redis://` or `rediss://` URL; unset means the embedded in-memory broker. */
  url?: string;
  /** Prepended to every key, stream and channel name. */
  keyPrefix?: string;
  logger?: Logger;
}

export function openBroker(options: OpenBrokerOptions): Broker {
  const { url, keyPrefix, logger } = options;
  return url === undefined
    ? new MemoryBroker({ keyPrefix, logger })
    : new RedisBroker({ url, keyPrefix, logger });
}
