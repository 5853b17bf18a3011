/**
 * The Redis driver's grouped appends, seen from Redis itself (MONITOR, filtered to this test's
 * own keys): entries appended in one turn arrive as one script call, in call order.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';

import { RedisBroker } from '../../src/platform/broker/redis.js';
import { testRedisUrl, uniqueName } from '../support/backends.js';

describe('redis broker: appends grouped per event-loop turn', () => {
  const opened: { close: () => Promise<unknown> }[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((handle) => handle.close()));
  });

  async function monitored(prefix: string) {
    const admin = new Redis(testRedisUrl);
    const monitor = await admin.monitor();
    const commands: string[][] = [];
    // Commands a script runs are reported too, from source `lua`: only clients' own are kept.
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (source !== 'lua' && args.some((arg) => arg.startsWith(prefix))) commands.push(args);
    });
    opened.push({
      close: async () => {
        monitor.disconnect();
        const keys = await admin.keys(`${prefix}*`);
        if (keys.length > 0) await admin.del(...keys);
        admin.disconnect();
      },
    });
    return commands;
  }

  it('sends the appends of one turn as one command and keeps their order', async () => {
    const prefix = `${uniqueName('appends')}:`;
    const commands = await monitored(prefix);
    const broker = new RedisBroker({ url: testRedisUrl, keyPrefix: prefix });
    opened.push(broker);
    await broker.ping();

    const ids = await Promise.all(
      Array.from({ length: 50 }, (_, n) => broker.append('votes', { n: String(n) })),
    );
    const later = await broker.append('votes', { n: 'later' });

    await broker.ensureGroup('votes', 'g');
    const entries = await broker.readGroup('votes', 'g', 'c', { count: 100, blockMs: 0 });
    expect(entries.map((entry) => entry.id)).toEqual([...ids, later]);
    expect(entries.map((entry) => entry.fields.n)).toEqual([
      ...Array.from({ length: 50 }, (_, n) => String(n)),
      'later',
    ]);
    // MONITOR reports in the order Redis ran them; the group read comes after the appends.
    const appends = commands.filter(([name]) => /^eval(sha)?$/i.test(name ?? ''));
    expect(appends).toHaveLength(2);
    expect(commands.filter(([name]) => name?.toUpperCase() === 'XADD')).toEqual([]);
  });

  it('keeps call order when appends in one turn ask for different bounds', async () => {
    const prefix = `${uniqueName('appends')}:`;
    const broker = new RedisBroker({ url: testRedisUrl, keyPrefix: prefix });
    opened.push(broker);
    opened.push({ close: () => removeKeys(prefix) });
    const ids = await Promise.all([
      broker.append('log', { n: '1' }),
      broker.append('log', { n: '2' }, { maxLen: 1_000 }),
      broker.append('log', { n: '3' }),
    ]);
    expect([...ids].sort(compareIds)).toEqual(ids);
  });

  it('fails every entry of a batch Redis refuses, as WrongTypeError, not as unavailable', async () => {
    const prefix = `${uniqueName('appends')}:`;
    const broker = new RedisBroker({ url: testRedisUrl, keyPrefix: prefix });
    opened.push(broker);
    await broker.pushRecent('votes', 'not a stream', 5);
    const results = await Promise.allSettled([
      broker.append('votes', { n: '1' }),
      broker.append('votes', { n: '2' }),
    ]);
    for (const result of results) {
      expect(result).toMatchObject({
        status: 'rejected',
        reason: { name: 'WrongTypeError' },
      });
    }
    const admin = new Redis(testRedisUrl);
    await admin.del(`${prefix}votes`);
    admin.disconnect();
  });
});

async function removeKeys(prefix: string): Promise<void> {
  const admin = new Redis(testRedisUrl);
  const keys = await admin.keys(`${prefix}*`);
  if (keys.length > 0) await admin.del(...keys);
  admin.disconnect();
}

function compareIds(a: string, b: string): number {
  const [aMs = 0n, aSeq = 0n] = a.split('-').map(BigInt);
  const [bMs = 0n, bSeq = 0n] = b.split('-').map(BigInt);
  return aMs === bMs ? Number(aSeq - bSeq) : Number(aMs - bMs);
}
