/**
 * The tasks system under the seed's test, scaled up (issue 6): `agora up --distributed
 * --replicas tasks=3` runs three cluster workers on one port; two emulator processes send
 * 10,000 tasks each at high concurrency, first undisturbed, then while one worker is SIGKILLed
 * and forked again. Every acknowledged task must be stored exactly once, and nothing more.
 */
import { createServer } from 'node:net';

import { Client } from 'undici';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { PgSql } from '../../src/platform/sql/index.js';
import type { StatusReport } from '../../src/tasks/protocol.js';
import { testDatabaseUrl, uniqueName } from '../support/backends.js';
import {
  freePort,
  killAll,
  type ManagedProcess,
  startAgora,
  waitFor,
  waitForHttp,
} from '../support/processes.js';

const tasksPerClient = 10_000;
const concurrency = 64;

const schema = uniqueName('tasks_cluster');
const sql = new PgSql({ url: testDatabaseUrl, schema });
let base: string;
let cluster: ManagedProcess;

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  cluster = startAgora(['up', '--distributed', '--replicas', 'tasks=3', 'tasks'], {
    env: {
      ...process.env,
      DATABASE_URL: testDatabaseUrl,
      AGORA_DB_SCHEMA: schema,
      AGORA_TASKS_PORT: String(port),
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
    },
  });
  await waitForHttp(`${base}/readyz`, { timeoutMs: 60_000 });
}, 90_000);

afterAll(async () => {
  await killAll();
  await sql.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await sql.close();
});

/** GET /status on a connection of its own, so the cluster may hand it to any worker. */
async function statusOnNewConnection(): Promise<StatusReport> {
  const client = new Client(base);
  try {
    const response = await client.request({ path: '/status', method: 'GET' });
    return (await response.body.json()) as StatusReport;
  } finally {
    await client.close();
  }
}

/** Worker pids seen answering, polling until `count` distinct ones (other than `not`) answered. */
async function workerPids(count: number, not: readonly number[] = []): Promise<Set<number>> {
  const seen = new Set<number>();
  await waitFor(
    async () => {
      const { pid } = await statusOnNewConnection();
      if (!not.includes(pid)) seen.add(pid);
      return seen.size >= count;
    },
    {
      timeoutMs: 30_000,
      message: () => `${count} workers to answer (saw ${[...seen].join(', ')})`,
    },
  );
  return seen;
}

function emulator(prefix: string): ManagedProcess {
  return startAgora(
    [
      'tasks',
      'emulate',
      '--clients',
      '1',
      '--tasks',
      String(tasksPerClient),
      '--concurrency',
      String(concurrency),
      '--client-prefix',
      prefix,
      '--url',
      base,
    ],
    { env: { ...process.env, LOG_LEVEL: 'warn' } },
  );
}

/** Rows, distinct keys and keys stored twice of the given clients, straight from Postgres. */
async function stored(clients: readonly string[]) {
  const { rows } = await sql.query<{ rows: number; keys: number; per_client: number[] }>(
    `SELECT count(*)::int AS rows,
            count(DISTINCT (client_id, idempotency_key))::int AS keys,
            array(SELECT count(*)::int FROM tasks WHERE client_id = ANY($1) GROUP BY client_id)
              AS per_client
     FROM tasks WHERE client_id = ANY($1)`,
    [clients],
  );
  return rows[0];
}

async function expectPass(run: ManagedProcess): Promise<void> {
  const exit = await run.exited;
  expect(run.stdout(), run.output()).toContain(
    `PASS: all ${tasksPerClient} tasks acknowledged and stored exactly once`,
  );
  expect(exit.code).toBe(0);
}

it('runs three workers behind the one port of `up --distributed --replicas tasks=3`', async () => {
  expect((await workerPids(3)).size).toBe(3);
});

it('stores exactly 20,000 tasks from two emulators x 10,000, no duplicates', async () => {
  const runs = [emulator('conc-a'), emulator('conc-b')];
  for (const run of runs) await expectPass(run);
  expect(await stored(['conc-a-1', 'conc-b-1'])).toEqual({
    rows: 2 * tasksPerClient,
    keys: 2 * tasksPerClient,
    per_client: [tasksPerClient, tasksPerClient],
  });
}, 180_000);

it('stores every acknowledged task exactly once while a worker is SIGKILLed and re-forked', async () => {
  const before = await workerPids(3);
  const runs = [emulator('chaos-a'), emulator('chaos-b')];
  const clients = ['chaos-a-1', 'chaos-b-1'];
  await waitFor(async () => ((await stored(clients))?.rows ?? 0) >= 2_000, {
    timeoutMs: 60_000,
    message: 'the emulators to store 2,000 tasks',
  });
  const { pid: victim } = await statusOnNewConnection();
  process.kill(victim, 'SIGKILL');
  // Killed mid-run: both emulators were still sending.
  expect(runs.map((run) => run.exitStatus())).toEqual([undefined, undefined]);

  await cluster.waitForOutput(/forking it again/, 30_000);
  for (const run of runs) await expectPass(run);
  expect(await stored(clients)).toEqual({
    rows: 2 * tasksPerClient,
    keys: 2 * tasksPerClient,
    per_client: [tasksPerClient, tasksPerClient],
  });
  // The replacement serves: a pid that was not there before answers.
  const after = await workerPids(1, [...before]);
  expect(after.has(victim)).toBe(false);
}, 180_000);

it('stops every worker when its port is taken, though its admin port listened first', async () => {
  const port = await freePort();
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve));
  try {
    const run = startAgora(['run', 'tasks', '--cluster', '2', '--port', String(port)], {
      env: { ...process.env, DATABASE_URL: testDatabaseUrl, AGORA_DB_SCHEMA: schema },
    });
    const exit = await run.exited;
    expect(exit.code, run.output()).toBe(1);
    expect(run.output()).toMatch(/a worker died before it served; stopping/);
    expect(run.output()).not.toMatch(/forking it again/);
  } finally {
    await new Promise((resolve) => holder.close(resolve));
  }
}, 60_000);
