/**
 * The counter as a process against real Redis: exact counts under concurrent load from another
 * process, and the seed's text and variables.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { testRedisUrl, uniqueName } from '../support/backends.js';
import { agoraCli, freePort, killAll, startProcess, waitForHttp } from '../support/processes.js';

const run = promisify(execFile);
const prefix = `${uniqueName('counter')}:`;
const redis = new Redis(testRedisUrl);
let base: string;

beforeAll(async () => {
  const port = await freePort();
  const url = new URL(testRedisUrl);
  // The seed's variables, exactly as its container got them.
  startProcess(process.execPath, [agoraCli, 'run', 'counter'], {
    env: {
      ...process.env,
      REDIS_URL: '',
      REDIS_HOST: url.hostname,
      REDIS_PORT: url.port || '6379',
      BIND_PORT: String(port),
      AGORA_REDIS_PREFIX: prefix,
    },
  });
  base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/readyz`, { status: 200, timeoutMs: 15_000 });
});

afterAll(async () => {
  await killAll();
  await redis.del(`${prefix}hits`);
  redis.disconnect();
});

describe('the counter', () => {
  it("answers with the seed's text, counting from the value in Redis", async () => {
    await redis.set(`${prefix}hits`, 41);
    const response = await fetch(base);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await response.text()).toBe('Hello from Redis! I have been seen 42 times.');
  });

  it('answers JSON when the client asks for it', async () => {
    const before = Number(await redis.get(`${prefix}hits`));
    const response = await fetch(base, { headers: { accept: 'application/json' } });
    expect(await response.json()).toEqual({
      hits: before + 1,
      message: `Hello from Redis! I have been seen ${before + 1} times.`,
      backend: 'redis',
    });
  });

  it('gives browsers a page that says Redis holds the count, in the language they ask for', async () => {
    const english = await fetch(base, { headers: { accept: 'text/html' } });
    expect(english.headers.get('content-type')).toContain('text/html');
    const page = await english.text();
    expect(page).toContain('Counted in Redis');
    expect(page).toContain('href="?lang=es"');
    const spanish = await fetch(base, {
      headers: { accept: 'text/html', 'accept-language': 'es-GT,es;q=0.9,en;q=0.5' },
    });
    expect(await spanish.text()).toContain('Contado en Redis');
    const favicon = await fetch(new URL('/favicon.ico', base));
    expect(favicon.status).toBe(200);
    expect(favicon.headers.get('content-type')).toContain('image/svg+xml');
  });

  it('counts 2,000 concurrent requests from another process exactly, each number once', async () => {
    const before = Number(await redis.get(`${prefix}hits`));
    const { stdout } = await run(process.execPath, [
      new URL('../support/hammer.mjs', import.meta.url).pathname,
      base,
      '2000',
      '32',
    ]);
    const { statuses, hits } = JSON.parse(stdout) as {
      statuses: Record<string, number>;
      hits: number[];
    };
    expect(statuses).toEqual({ 200: 2000 });
    expect(Number(await redis.get(`${prefix}hits`))).toBe(before + 2000);
    expect(new Set(hits).size).toBe(2000);
    expect(Math.min(...hits)).toBe(before + 1);
    expect(Math.max(...hits)).toBe(before + 2000);
  });

  it('answers an unknown route with a JSON 404 and counts nothing', async () => {
    const before = await redis.get(`${prefix}hits`);
    const missing = await fetch(`${base}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'not_found' } });
    expect(await redis.get(`${prefix}hits`)).toBe(before);
  });
});
