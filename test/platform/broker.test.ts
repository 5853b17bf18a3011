/**
 * Runs the broker contract against both drivers: real Redis and the embedded broker, in memory
 * only and kept in its log (with each fsync policy).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Redis } from 'ioredis';
import { afterAll } from 'vitest';

import { MemoryBroker, MemoryStore } from '../../src/platform/broker/memory.js';
import { RedisBroker } from '../../src/platform/broker/redis.js';
import { testRedisUrl } from '../support/backends.js';
import { describeBrokerContract } from './broker-contract.js';

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

// The persistent stores rewrite their log at 64 KiB, so the suite crosses a few rewrites too.
const dataDir = mkdtempSync(join(tmpdir(), 'agora-broker-contract-'));
const persistent = {
  always: new MemoryStore({ dataDir: join(dataDir, 'always'), compactAtBytes: 64 * 1024 }),
  everysec: new MemoryStore({
    dataDir: join(dataDir, 'everysec'),
    fsync: 'everysec',
    compactAtBytes: 64 * 1024,
  }),
};
afterAll(async () => {
  await Promise.all([persistent.always.close(), persistent.everysec.close()]);
  rmSync(dataDir, { recursive: true, force: true });
});
describeBrokerContract(
  'memory, logged (fsync always)',
  (prefix) => new MemoryBroker({ keyPrefix: prefix, store: persistent.always }),
);
describeBrokerContract(
  'memory, logged (fsync everysec)',
  (prefix) => new MemoryBroker({ keyPrefix: prefix, store: persistent.everysec }),
);
