/**
 * The counter when its Redis dies: 503 with a readable message while it is gone, and service
 * again once it is back, without restarting the counter; and a Redis with its AOF on, SIGKILLed
 * while hits are counted, keeps every acknowledged hit (the count goes on from the last one).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';

import { startOwnRedis } from '../support/data-holders.js';
import {
  agoraCli,
  freePort,
  killAll,
  type ManagedProcess,
  startPrivateRedis,
  startProcess,
  waitFor,
  waitForHttp,
} from '../support/processes.js';

let redisPort: number;
let redis: ManagedProcess;
let base: string;

beforeAll(async () => {
  redisPort = await freePort();
  redis = await startPrivateRedis(redisPort);
  const port = await freePort();
  startProcess(process.execPath, [agoraCli, 'run', 'counter', '--port', String(port)], {
    env: { ...process.env, REDIS_URL: `redis://127.0.0.1:${redisPort}` },
  });
  base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/readyz`, { status: 200, timeoutMs: 15_000 });
});

afterAll(() => killAll());

it('answers 503 while Redis is dead and recovers by itself when it is back', async () => {
  expect(await (await fetch(base)).text()).toBe('Hello from Redis! I have been seen 1 times.');

  redis.kill('SIGKILL');
  await redis.exited;

  const down = await fetch(base, { headers: { accept: 'application/json' } });
  expect(down.status).toBe(503);
  const body = (await down.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe('broker_unavailable');
  expect(body.error.message).toContain('cannot reach Redis');
  expect(JSON.stringify(body)).not.toMatch(/\bat .*\.js:\d+/);
  const readyz = await fetch(`${base}/readyz`);
  expect(readyz.status).toBe(503);

  redis = await startPrivateRedis(redisPort);
  // A fresh Redis without persistence counts from zero again, as in the seed.
  const text = await waitFor(
    async () => {
      const response = await fetch(base);
      return response.status === 200 ? response.text() : undefined;
    },
    { timeoutMs: 15_000, message: 'the counter did not recover after Redis came back' },
  );
  expect(text).toBe('Hello from Redis! I have been seen 1 times.');
});

it('continues from its last acknowledged hit when Redis is SIGKILLed mid-load and restarted on its AOF', async () => {
  const own = await startOwnRedis({ appendfsync: 'everysec' });
  try {
    const port = await freePort();
    startProcess(process.execPath, [agoraCli, 'run', 'counter', '--port', String(port)], {
      env: { ...process.env, REDIS_URL: own.url },
    });
    const counter = `http://127.0.0.1:${port}`;
    await waitForHttp(`${counter}/readyz`, { status: 200, timeoutMs: 15_000 });

    // Eight callers hit until told to stop; a hit counts as acknowledged once its 200 arrived.
    const acknowledged: number[] = [];
    let running = true;
    const hit = async (): Promise<void> => {
      while (running) {
        try {
          const response = await fetch(counter, {
            headers: { accept: 'application/json' },
            signal: AbortSignal.timeout(5_000),
          });
          if (response.status === 200) {
            acknowledged.push(((await response.json()) as { hits: number }).hits);
          } else await response.body?.cancel();
        } catch {
          // Cut off by the crash: not acknowledged.
        }
      }
    };
    const callers = Array.from({ length: 8 }, hit);
    await waitFor(() => acknowledged.length >= 300, {
      timeoutMs: 20_000,
      message: '300 acknowledged hits before the crash',
    });
    await own.crash();
    running = false;
    await Promise.all(callers);
    const last = Math.max(...acknowledged);

    await own.start();
    const next = await waitFor(
      async () => {
        const response = await fetch(counter, { headers: { accept: 'application/json' } });
        return response.status === 200 && ((await response.json()) as { hits: number }).hits;
      },
      { timeoutMs: 15_000, message: 'the counter to count again without a restart' },
    );
    expect(next).toBeGreaterThan(last);
    // Each acknowledged value was handed out once.
    expect(new Set(acknowledged).size).toBe(acknowledged.length);
  } finally {
    await killAll();
    await own.remove();
  }
});
