/**
 * The counter benchmark: the counter service (`agora run counter`, one Redis INCR per GET /)
 * against the bare node:http baseline, under identical wrk load, one server at a time,
 * alternating over several rounds.
 */
import { Redis } from 'ioredis';

import { baseline } from '../support/baseline.js';
import { type Benchmark, compare, progress } from '../support/benchmark.js';
import { printReport } from '../support/report.js';
import { agoraCli, freePort, type ServerProcess, startServer } from '../support/server-process.js';
import { assertWrkInstalled } from '../support/wrk.js';

export const counterBenchmark: Benchmark = {
  name: 'counter',
  description: 'the counter service (GET /, a Redis INCR each) against the node:http baseline',
  run: async (load) => {
    await assertWrkInstalled();
    const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
    await assertRedisAnswers(redisUrl);
    const counter = { name: 'counter', start: () => startCounter(redisUrl) };
    printReport(await compare([baseline, counter], load), load);
  },
};

async function startCounter(redisUrl: string): Promise<ServerProcess> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  progress(`starting the counter on ${base} with Redis at ${redisUrl}`);
  return startServer('the counter', {
    args: [agoraCli, 'run', 'counter', '--port', String(port)],
    env: {
      ...process.env,
      REDIS_URL: redisUrl,
      // Its own key, so a benchmark never moves the number a real counter shows.
      AGORA_REDIS_PREFIX: process.env.AGORA_REDIS_PREFIX ?? 'agora-bench:',
    },
    url: `${base}/`,
    readyUrl: `${base}/readyz`,
  });
}

/** Fails at once, rather than after the readiness timeout, when Redis is not there. */
async function assertRedisAnswers(url: string): Promise<void> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 2_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  let cause = 'no answer';
  client.on('error', (error: Error) => {
    cause = error.message;
  });
  try {
    await client.connect();
    await client.ping();
  } catch {
    throw new Error(`no Redis answers at ${url} (${cause}); start redis-server or set REDIS_URL`);
  } finally {
    client.disconnect();
  }
}
