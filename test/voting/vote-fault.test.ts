/**
 * The vote service when its Redis dies: a readable 503 (page or JSON) and no acknowledgement
 * while it is gone, and votes accepted again once it is back, without restarting vote.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';

import { testVoteSecret } from '../support/backends.js';
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

function vote(contentType: string, body: string) {
  return fetch(base, { method: 'POST', headers: { 'content-type': contentType }, body });
}

beforeAll(async () => {
  redisPort = await freePort();
  redis = await startPrivateRedis(redisPort);
  const port = await freePort();
  startProcess(process.execPath, [agoraCli, 'run', 'vote', '--port', String(port)], {
    env: {
      ...process.env,
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      AGORA_VOTE_SECRET: testVoteSecret,
      LOG_LEVEL: 'error',
    },
  });
  base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/readyz`, { status: 200, timeoutMs: 15_000 });
});

afterAll(() => killAll());

it('refuses votes with a readable 503 while Redis is dead and accepts them once it is back', async () => {
  expect((await vote('application/json', '{"vote":"a"}')).status).toBe(202);

  redis.kill('SIGKILL');
  await redis.exited;

  const json = await vote('application/json', '{"vote":"a"}');
  expect(json.status).toBe(503);
  expect(await json.json()).toMatchObject({
    error: {
      code: 'broker_unavailable',
      message: expect.stringContaining('not recorded') as string,
    },
  });
  const page = await vote('application/x-www-form-urlencoded', 'vote=b');
  expect(page.status).toBe(503);
  expect(page.headers.get('content-type')).toMatch(/^text\/html/);
  expect(await page.text()).toContain('Your vote was not recorded');

  redis = await startPrivateRedis(redisPort);
  const status = await waitFor(
    async () => {
      const response = await vote('application/json', '{"vote":"b"}');
      return response.status === 202 ? response.status : undefined;
    },
    { timeoutMs: 15_000, message: 'vote to accept votes again after Redis came back' },
  );
  expect(status).toBe(202);
});
