/**
 * Voting while what holds its data fails, `agora load voting` judging each run (exit 0 only
 * when the tally holds every acknowledged vote once): Redis SIGKILLed mid-load and started
 * again on its AOF (appendfsync everysec); Postgres crashed (`pg_ctl stop -m immediate`) and
 * started again; and the fault proxy between the worker and Postgres, or Redis (latency,
 * resets, a blackhole) while /readyz is polled and must tell the truth. Nothing is restarted
 * but the data holder.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import type { LoadReport } from '../../src/load/report.js';
import { faultsInSeededOrder, proxyBefore, readyzIs } from '../support/backend-faults.js';
import { testDatabaseUrl, testRedisUrl, uniqueName } from '../support/backends.js';
import {
  type OwnPostgres,
  type OwnRedis,
  startOwnPostgres,
  startOwnRedis,
} from '../support/data-holders.js';
import { startLoadRun, throughOutage } from '../support/load-run.js';
import {
  freePort,
  killAll,
  type ManagedProcess,
  startAgora,
  waitFor,
  waitForHttp,
} from '../support/processes.js';
import { seededRandom } from '../support/random.js';

let dir: string;
const cleanUps: (() => Promise<void>)[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agora-voting-datastore-'));
});
afterEach(async () => {
  await killAll();
  for (const cleanUp of cleanUps.splice(0).reverse()) await cleanUp();
});
afterAll(async () => {
  await killAll();
});

interface Stack {
  vote: string;
  result: string;
  worker: string;
  env: NodeJS.ProcessEnv;
  process: ManagedProcess;
}

/** `agora up vote worker result` over the given Redis and Postgres, in a prefix and schema. */
async function startVoting(redisUrl: string, databaseUrl: string): Promise<Stack> {
  const ports = { vote: await freePort(), result: await freePort(), worker: await freePort() };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    REDIS_URL: redisUrl,
    DATABASE_URL: databaseUrl,
    AGORA_REDIS_PREFIX: `${uniqueName('vds')}:`,
    AGORA_DB_SCHEMA: uniqueName('vds'),
    AGORA_VOTE_PORT: String(ports.vote),
    AGORA_RESULT_PORT: String(ports.result),
    AGORA_WORKER_PORT: String(ports.worker),
    // Short, so a batch a failed commit left pending comes back within the test's time.
    VOTE_RECLAIM_IDLE_MS: '1500',
    LOG_LEVEL: 'error',
  };
  delete env.AGORA_RESULT_URL;
  const up = startAgora(['up', 'vote', 'worker', 'result'], { env });
  const stack = {
    vote: `http://127.0.0.1:${ports.vote}`,
    result: `http://127.0.0.1:${ports.result}`,
    worker: `http://127.0.0.1:${ports.worker}`,
    env,
    process: up,
  };
  for (const url of [stack.vote, stack.result, stack.worker]) {
    await waitForHttp(`${url}/readyz`, { timeoutMs: 30_000 });
  }
  return stack;
}

/** Starts `agora load voting` against the stack; `finished` has its exit, report and output. */
function startLoad(stack: Stack, seconds: number) {
  return startLoadRun(
    dir,
    [
      'voting',
      '--url',
      `${stack.vote}/`,
      '--result-url',
      `${stack.result}/`,
      '--rate',
      '80',
      '--users',
      '400',
      '--duration',
      `${seconds}s`,
      '--settle-timeout',
      '40s',
      ...throughOutage,
    ],
    { env: stack.env },
  );
}

async function tallyTotal(stack: Stack): Promise<number> {
  const response = await fetch(`${stack.result}/api/results`, {
    signal: AbortSignal.timeout(2_000),
  });
  if (response.status !== 200) return -1;
  return ((await response.json()) as { total: number }).total;
}

/** A vote POSTed now (while it cannot be stored), with a deadline: its status and error message. */
async function voteNow(stack: Stack): Promise<{ status: number; message?: string }> {
  const response = await fetch(`${stack.vote}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"vote":"a"}',
    signal: AbortSignal.timeout(5_000),
  });
  const body = (await response.json()) as { error?: { message?: string } };
  return { status: response.status, message: body.error?.message };
}

function expectJudged(outcome: { code: number | null; report: LoadReport; output: string }) {
  expect(outcome.code, outcome.output).toBe(0);
  expect(outcome.report.verification, outcome.output).toMatchObject({ ok: true });
  expect(outcome.report.acknowledged).toBeGreaterThan(0);
  // No request was left hanging past the run.
  expect(outcome.report.abandoned).toBe(0);
}

describe('voting when its data holders fail', () => {
  it('keeps every acknowledged vote once when Redis is SIGKILLed mid-load and restarted on its AOF', async () => {
    const redis: OwnRedis = await startOwnRedis({ appendfsync: 'everysec' });
    cleanUps.push(() => redis.remove());
    const stack = await startVoting(redis.url, testDatabaseUrl);
    const load = startLoad(stack, 8);
    await waitFor(async () => (await tallyTotal(stack)) >= 100, {
      timeoutMs: 20_000,
      message: 'a hundred votes stored before the crash',
    });

    await redis.crash();
    const down = await readyzIs(`${stack.vote}/readyz`, 503, 'vote to say Redis is away');
    // A public /readyz names the check that waits (the reason is for the log and admin port).
    expect(Object.keys(down.checks).join(' ')).toMatch(/redis|broker/i);
    const refused = await voteNow(stack);
    expect(refused.status).toBe(503);
    expect(refused.message).toBeTruthy();
    await readyzIs(`${stack.worker}/readyz`, 503, 'the worker to say Redis is away');

    await redis.start();
    await readyzIs(`${stack.vote}/readyz`, 200, 'vote to be ready again without a restart');
    await readyzIs(`${stack.worker}/readyz`, 200, 'the worker to be ready again without a restart');
    const outcome = await load.finished();
    expectJudged(outcome);
    expect(outcome.report.total.failed).toBeGreaterThan(0);
    expect(stack.process.exitStatus()).toBeUndefined();
  }, 90_000);

  it('keeps every acknowledged vote once when Postgres crashes mid-load, answering 503 meanwhile', async () => {
    const postgres: OwnPostgres = await startOwnPostgres();
    cleanUps.push(() => postgres.remove());
    const stack = await startVoting(testRedisUrl, postgres.url);
    const load = startLoad(stack, 8);
    await waitFor(async () => (await tallyTotal(stack)) >= 100, {
      timeoutMs: 20_000,
      message: 'a hundred votes stored before the crash',
    });

    await postgres.crash();
    const results = await waitFor(
      async () => {
        const response = await fetch(`${stack.result}/api/results`, {
          signal: AbortSignal.timeout(5_000),
        });
        return (
          response.status === 503 && ((await response.json()) as { error: { message: string } })
        );
      },
      { timeoutMs: 20_000, message: 'the result service to answer 503 while Postgres is away' },
    );
    expect(results.error.message).toMatch(/database/i);
    await readyzIs(`${stack.worker}/readyz`, 503, 'the worker to say Postgres is away');

    await postgres.start();
    await readyzIs(`${stack.result}/readyz`, 200, 'result to be ready again without a restart');
    await readyzIs(`${stack.worker}/readyz`, 200, 'the worker to be ready again without a restart');
    const outcome = await load.finished();
    expectJudged(outcome);
    // Votes were still queued all along: the stream held them until Postgres was back.
    expect(outcome.report.total.failed, outcome.output).toBe(0);
    expect(stack.process.exitStatus()).toBeUndefined();
  }, 90_000);

  it.each([
    ['Postgres', testDatabaseUrl],
    ['Redis', testRedisUrl],
  ] as const)(
    'keeps every vote once through latency, resets and a blackhole between the worker and %s',
    async (backend, backendUrl) => {
      const random = seededRandom(`voting datastore faults ${backend}`);
      const proxy = await proxyBefore(backendUrl);
      cleanUps.push(() => proxy.close());
      const stack = await startVoting(testRedisUrl, testDatabaseUrl);
      // A second worker, the only one whose backend goes through the proxy.
      const workerPort = await freePort();
      const worker = `http://127.0.0.1:${workerPort}`;
      const through =
        backend === 'Postgres'
          ? { DATABASE_URL: proxy.url(testDatabaseUrl) }
          : { REDIS_URL: proxy.url(testRedisUrl) };
      startAgora(['run', 'worker', '--port', String(workerPort)], {
        env: { ...stack.env, ...through },
      });
      await waitForHttp(`${worker}/readyz`, { timeoutMs: 30_000 });

      const load = startLoad(stack, 10);
      for (const fault of faultsInSeededOrder(random)) {
        proxy.setFault(fault);
        if (fault.kind === 'latency') {
          await readyzIs(
            `${worker}/readyz`,
            200,
            `the worker to stay ready while ${backend} is slow`,
          );
        } else {
          const down = await readyzIs(
            `${worker}/readyz`,
            503,
            `the worker to say ${backend} is away (${fault.kind})`,
          );
          expect(Object.keys(down.checks).length).toBeGreaterThan(0);
        }
        proxy.setFault({ kind: 'pass' });
        await readyzIs(`${worker}/readyz`, 200, `the worker to be ready again after ${fault.kind}`);
      }
      expectJudged(await load.finished());
    },
    90_000,
  );
});
