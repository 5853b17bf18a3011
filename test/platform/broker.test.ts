/**
 * Runs the broker contract against both drivers: real Redis and the in-memory broker.
 */
import { Redis } from 'ioredis';
import { afterAll } from 'vitest';
import { testRedisUrl } from '../support/backends.js';
import { describeBrokerContract } from './broker-contract.js';
import { MemoryBroker, MemoryStore } from '../../src/platform/broker/memory.js';
import { RedisBroker } from '../../src/platform/broker/redis.js';

const admin = new Redis(testRedisUrl);
afterAll(() => {
  admin.disconnect();
});

describeBrokerContract(
  'redis',
  (prefix) => new RedisBroker({ url: testRedisUrl, keyPrefix: prefix }),
  {
    cleanUp: async (prefix) => {
      const keys = await admin.keys(`${prefix}*`);
      if (keys.length > 0) await admin.del(...keys);
    },
  },
);

// Handles opened on one prefix share a store, as two processes share one Redis.
const store = new MemoryStore();
describeBrokerContract('memory', (prefix) => new MemoryBroker({ keyPrefix: prefix, store }));
