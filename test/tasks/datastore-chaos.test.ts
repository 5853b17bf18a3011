/**
 * The tasks service while Postgres fails, the seed's emulator (`agora tasks emulate`) judging
 * each run (exit 0 only when every acknowledged task is stored exactly once), and `agora load
 * tasks` beside it (exit 0 only when every acknowledged task is stored once and no unconfirmed
 * one twice): Postgres crashed with `pg_ctl stop -m immediate` and started again, and the fault
 * proxy between the service and Postgres (latency, resets, a blackhole). Meanwhile probes with a
 * deadline must each get a task or a readable error, /readyz must tell the truth, and the
 * service is never restarted.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { queryTimeoutMs } from '../../src/platform/sql/pg.js';
import { faultsInSeededOrder, proxyBefore, readyzIs } from '../support/backend-faults.js';
import { testDatabaseUrl, uniqueName } from '../support/backends.js';
import { startOwnPostgres } from '../support/data-holders.js';
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

let dir = '';
const cleanUps: (() => Promise<void>)[] = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agora-tasks-datastore-'));
});
afterEach(async () => {
  await killAll();
  for (const cleanUp of cleanUps.splice(0).reverse()) await cleanUp();
});
afterAll(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

async function startTasks(databaseUrl: string): Promise<{ base: string; process: ManagedProcess }> {
  const port = await freePort();
  const env = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    AGORA_DB_SCHEMA: uniqueName('tds'),
    LOG_LEVEL: 'error',
  };
  const service = startAgora(['run', 'tasks', '--port', String(port)], { env });
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/readyz`, { timeoutMs: 30_000 });
  return { base, process: service };
}

function startEmulator(base: string): ManagedProcess {
  return startAgora([
    'tasks',
    'emulate',
    '--url',
    base,
    '--clients',
    '2',
    '--tasks',
    '1500',
    '--concurrency',
    '2',
    '--max-attempts',
    '40',
  ]);
}

/** `agora load tasks` against the service; `finished` has its exit, report and output. */
function startLoad(base: string, seconds: number) {
  return startLoadRun(dir, [
    'tasks',
    '--url',
    base,
    '--rate',
    '40',
    '--users',
    '20',
    '--duration',
    `${seconds}s`,
    ...throughOutage,
  ]);
}

async function storedCount(base: string): Promise<number> {
  const response = await fetch(`${base}/status`, { signal: AbortSignal.timeout(2_000) });
  const status = (await response.json()) as { tasks?: { total?: number } };
  return status.tasks?.total ?? 0;
}

/**
 * A task POSTed with a client deadline: it is made (201) or refused readably (503 with an error
 * message); a timeout fails the test, as a request that hung past its deadline. The deadline
 * leaves room for the driver's query deadline (`queryTimeoutMs`), which a blackhole runs into.
 */
async function probe(base: string): Promise<number> {
  const response = await fetch(`${base}/tasks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-client-id': 'probe' },
    body: JSON.stringify({ title: 'probe' }),
    signal: AbortSignal.timeout(queryTimeoutMs + 5_000),
  });
  const body = (await response.json()) as { id?: number; error?: { message?: string } };
  if (response.status === 201) expect(body.id).toBeTypeOf('number');
  else {
    expect(response.status).toBe(503);
    expect(body.error?.message).toMatch(/database/i);
  }
  return response.status;
}

async function expectJudged(emulator: ManagedProcess): Promise<void> {
  const exit = await emulator.exited;
  expect(exit.code, emulator.output()).toBe(0);
  expect(emulator.output()).toMatch(/^PASS: all \d+ tasks acknowledged and stored exactly once$/m);
}

describe('tasks when Postgres fails', () => {
  it('stores every acknowledged task once when Postgres crashes mid-run, answering 503 meanwhile', async () => {
    const postgres = await startOwnPostgres();
    cleanUps.push(() => postgres.remove());
    const tasks = await startTasks(postgres.url);
    const emulator = startEmulator(tasks.base);
    const load = startLoad(tasks.base, 20);
    await waitFor(async () => (await storedCount(tasks.base)) >= 200, {
      timeoutMs: 20_000,
      message: 'two hundred tasks stored before the crash',
    });
    expect(emulator.exitStatus(), 'the emulator ended before the crash').toBeUndefined();
    expect(load.run.exitStatus(), 'the load ended before the crash').toBeUndefined();

    await postgres.crash();
    await readyzIs(`${tasks.base}/readyz`, 503, 'tasks to say Postgres is away');
    expect(await probe(tasks.base)).toBe(503);

    await postgres.start();
    await readyzIs(`${tasks.base}/readyz`, 200, 'tasks to be ready again without a restart');
    expect(await probe(tasks.base)).toBe(201);
    await expectJudged(emulator);
    const outcome = await load.finished();
    expect(outcome.code, outcome.output).toBe(0);
    expect(outcome.report.verification, outcome.output).toMatchObject({ ok: true });
    expect(outcome.report.acknowledged).toBeGreaterThan(0);
    // The crash was felt (refusals, resets) and no request was left hanging past the run.
    expect(outcome.report.total.failed, outcome.output).toBeGreaterThan(0);
    expect(outcome.report.abandoned).toBe(0);
    expect(tasks.process.exitStatus()).toBeUndefined();
  }, 90_000);

  it('stores every task once through latency, resets and a blackhole, no request outliving its deadline', async () => {
    const random = seededRandom('tasks datastore faults');
    const proxy = await proxyBefore(testDatabaseUrl);
    cleanUps.push(() => proxy.close());
    const tasks = await startTasks(proxy.url(testDatabaseUrl));
    const emulator = startEmulator(tasks.base);
    // Long enough to outlast the faults: its verification must read a healthy service.
    const load = startLoad(tasks.base, 30);
    await waitFor(async () => (await storedCount(tasks.base)) >= 100, {
      timeoutMs: 20_000,
      message: 'a hundred tasks stored before the faults',
    });
    for (const fault of faultsInSeededOrder(random)) {
      expect(emulator.exitStatus(), 'the emulator ended before the faults').toBeUndefined();
      proxy.setFault(fault);
      if (fault.kind === 'latency') {
        await readyzIs(`${tasks.base}/readyz`, 200, 'tasks to stay ready while Postgres is slow');
        expect(await probe(tasks.base)).toBe(201);
      } else {
        await readyzIs(
          `${tasks.base}/readyz`,
          503,
          `tasks to say Postgres is away (${fault.kind})`,
        );
        expect(await probe(tasks.base)).toBe(503);
      }
      proxy.setFault({ kind: 'pass' });
      await readyzIs(`${tasks.base}/readyz`, 200, `tasks to be ready again after ${fault.kind}`);
    }
    expect(load.run.exitStatus(), 'the load ended before the faults did').toBeUndefined();
    await expectJudged(emulator);
    const outcome = await load.finished();
    expect(outcome.code, outcome.output).toBe(0);
    expect(outcome.report.verification, outcome.output).toMatchObject({ ok: true });
    expect(outcome.report.total.failed, outcome.output).toBeGreaterThan(0);
    expect(outcome.report.abandoned).toBe(0);
  }, 120_000);
});
