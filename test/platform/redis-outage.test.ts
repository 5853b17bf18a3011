/**
 * The Redis driver when its Redis dies and comes back: commands fail fast with
 * BrokerUnavailableError meanwhile, and the same broker object recovers by itself.
 */
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { RedisBroker } from '../../src/platform/broker/redis.js';
import { BrokerUnavailableError } from '../../src/platform/errors.js';
import {
  freePort,
  killAll,
  type ManagedProcess,
  startPrivateRedis,
  waitFor,
} from '../support/processes.js';

interface LogLine {
  level: number;
  msg: string;
}

const brokers: RedisBroker[] = [];

function openBroker(port: number, log: LogLine[] = []): RedisBroker {
  const logger = pino(
    { level: 'info' },
    {
      write: (line: string) => {
        log.push(JSON.parse(line) as LogLine);
      },
    },
  );
  const broker = new RedisBroker({
    url: `redis://127.0.0.1:${port}`,
    keyPrefix: 'outage:',
    logger,
  });
  brokers.push(broker);
  return broker;
}

let port: number;
let redis: ManagedProcess;

beforeAll(async () => {
  port = await freePort();
  redis = await startPrivateRedis(port);
});

afterAll(async () => {
  await Promise.all(brokers.map((broker) => broker.close()));
  await killAll();
});

it('fails fast while Redis is dead and recovers on the same broker once it is back', async () => {
  const log: LogLine[] = [];
  const broker = openBroker(port, log);
  expect(await broker.incr('hits')).toBe(1);
  const heard: string[] = [];
  await broker.subscribe('news', (message) => heard.push(message));
  await broker.ensureGroup('jobs', 'workers');
  const blockedRead = broker.readGroup('jobs', 'workers', 'w1', { count: 1, blockMs: 20_000 });
  const observer = new Redis(`redis://127.0.0.1:${port}`);
  await waitFor(
    async () => {
      const clients = await observer.call('CLIENT', 'LIST');
      return typeof clients === 'string' && clients.includes('cmd=xreadgroup');
    },
    { message: 'the blocking read to reach Redis' },
  );
  observer.disconnect();

  // Frozen first, so the increment is surely in flight when Redis dies.
  redis.kill('SIGSTOP');
  const inFlight = expect(broker.incr('hits')).rejects.toBeInstanceOf(BrokerUnavailableError);
  const readCut = expect(blockedRead).rejects.toBeInstanceOf(BrokerUnavailableError);
  redis.kill('SIGKILL');
  await redis.exited;
  await inFlight;
  await readCut;
  await expect(broker.incr('hits')).rejects.toBeInstanceOf(BrokerUnavailableError);
  await expect(broker.ping()).rejects.toBeInstanceOf(BrokerUnavailableError);

  redis = await startPrivateRedis(port);
  const hits = await waitFor(() => broker.incr('hits'), {
    timeoutMs: 15_000,
    message: 'an increment to succeed after Redis came back',
  });
  // A Redis without persistence starts empty.
  expect(hits).toBe(1);

  await waitFor(
    async () => {
      await broker.publish('news', 'back');
      return heard.includes('back');
    },
    { timeoutMs: 15_000, message: 'the subscription to be renewed' },
  );

  await broker.ensureGroup('jobs', 'workers');
  const id = await broker.append('jobs', { job: 'after' });
  const entries = await waitFor(
    () => broker.readGroup('jobs', 'workers', 'w1', { count: 1, blockMs: 100 }),
    { timeoutMs: 15_000, message: 'the blocking reader to reconnect' },
  );
  expect(entries).toEqual([{ id, fields: { job: 'after' } }]);

  const warnings = log.filter((line) => line.level === 40);
  expect(warnings).toHaveLength(1);
  expect(log.filter((line) => line.level === 30 && /reachable again/.test(line.msg))).toHaveLength(
    1,
  );
});

it('starts before Redis does, failing fast until it is up', async () => {
  const latePort = await freePort();
  const broker = openBroker(latePort);
  await expect(broker.incr('hits')).rejects.toBeInstanceOf(BrokerUnavailableError);
  await startPrivateRedis(latePort);
  expect(await waitFor(() => broker.incr('hits'), { timeoutMs: 15_000 })).toBe(1);
});
