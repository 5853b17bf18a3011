/**
 * The broker's public face: the interface, both drivers, their errors, and `openBroker`, which
 * picks one. The platform's own start-up imports `open.ts` alone, so it loads one driver.
 */
export type * from './broker.js';
export { BrokerLogCorruptError, NoGroupError } from './errors.js';
export {
  MemoryBroker,
  type MemoryBrokerOptions,
  MemoryStore,
  type PersistenceOptions,
} from './memory.js';
export type { FsyncPolicy } from './memory-log.js';
export { openBroker, type OpenBrokerOptions } from './open.js';
export { RedisBroker, type RedisBrokerOptions } from './redis.js';
