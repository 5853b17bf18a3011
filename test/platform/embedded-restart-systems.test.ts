/**
 * `agora up` embedded keeps what the other systems acknowledged: ballots on both election routes
 * (the Redis route's only in the broker's stream: no subscriber yet), tasks and news posts under
 * load, the whole process SIGKILLed during the load; started again on the same data directory,
 * the election's recent list read then survives a second SIGKILL as it was; after a Ctrl-C a
 * last start with the subscriber drains the stream, and every acknowledged ballot, task and post
 * is stored once. (Hits and votes: embedded-restart.test.ts.)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, afterEach, expect, it } from 'vitest';

import { NewsClient } from '../../src/news/client/client.js';
import { PgliteSql } from '../../src/platform/sql/pglite.js';
import { seedBallot } from '../support/election-ingest-world.js';
import {
  agoraCli,
  freePort,
  killAll,
  type ManagedProcess,
  startProcess,
  waitFor,
  waitForHttp,
} from '../support/processes.js';

const services = [
  'election-api',
  'election-gateway',
  'election-grpc',
  'election-subscriber',
  'tasks',
  'news-agent',
  'news-node',
] as const;
type Service = (typeof services)[number];
const withoutSubscriber = services.filter((service) => service !== 'election-subscriber');

afterEach(() => killAll());
let dataDir = '';
afterAll(async () => {
  if (dataDir !== '') await rm(dataDir, { recursive: true, force: true });
});

interface Stack {
  env: NodeJS.ProcessEnv;
  /** Where each service's /readyz answers. */
  readyz: Record<Service, string>;
  gateway: string;
  api: string;
  tasks: string;
  agent: string;
}

async function stackOf(): Promise<Stack> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    LOG_FORMAT: 'json',
    AGORA_DATA_DIR: dataDir,
    AGORA_NEWS_SECRET: 'embedded-restart-systems-test-secret-32+',
    NEWS_ADMIN_NAME: 'root',
    NEWS_ADMIN_PASSWORD: 'root-password',
  };
  for (const name of ['REDIS_URL', 'DATABASE_URL', 'AGORA_DB_SCHEMA', 'AGORA_ELECTION_API_URL']) {
    Reflect.deleteProperty(env, name);
  }
  const port: Record<string, number> = {};
  for (const name of [...services, 'grpc-admin', 'agent-admin', 'node-admin']) {
    port[name] = await freePort();
  }
  for (const service of services) {
    env[`AGORA_${service.toUpperCase().replaceAll('-', '_')}_PORT`] = String(port[service]);
  }
  env.ELECTION_GRPC_ADMIN_PORT = String(port['grpc-admin']);
  env.NEWS_AGENT_ADMIN_PORT = String(port['agent-admin']);
  env.NEWS_NODE_ADMIN_PORT = String(port['node-admin']);
  env.AGORA_ELECTION_GRPC_URL = `127.0.0.1:${port['election-grpc']}`;
  const http = (name: string) => `http://127.0.0.1:${port[name]}`;
  return {
    env,
    readyz: {
      'election-api': `${http('election-api')}/readyz`,
      'election-gateway': `${http('election-gateway')}/readyz`,
      'election-grpc': `${http('grpc-admin')}/readyz`,
      'election-subscriber': `${http('election-subscriber')}/readyz`,
      tasks: `${http('tasks')}/readyz`,
      'news-agent': `${http('agent-admin')}/readyz`,
      'news-node': `${http('node-admin')}/readyz`,
    },
    gateway: http('election-gateway'),
    api: http('election-api'),
    tasks: http('tasks'),
    agent: `127.0.0.1:${port['news-agent']}`,
  };
}

async function startStack(stack: Stack, only: readonly Service[]): Promise<ManagedProcess> {
  const up = startProcess(process.execPath, [agoraCli, 'up', ...only], { env: stack.env });
  await up.waitForOutput(/Agora is up/, 90_000);
  for (const service of only) await waitForHttp(stack.readyz[service], { timeoutMs: 60_000 });
  return up;
}

/** What the load was told succeeded. */
interface Acknowledged {
  ballots: Map<string, 'grpc' | 'redis'>;
  tasks: Set<number>;
  /** News post key -> the id it was acknowledged with. */
  posts: Map<string, string>;
}

let postError = '';

function startLoad(stack: Stack, acked: Acknowledged, poster: NewsClient) {
  let running = true;
  let sequence = 0;
  const ballots = async (route: 'grpc' | 'redis'): Promise<void> => {
    while (running) {
      const id = `${route}-${sequence++}`;
      try {
        const response = await fetch(`${stack.gateway}/ingest/${route}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(seedBallot({ id })),
        });
        if (response.status === 201) acked.ballots.set(id, route);
      } catch {
        // Refused or cut off by the kill: not acknowledged.
      }
    }
  };
  const tasks = async (): Promise<void> => {
    while (running) {
      try {
        const response = await fetch(`${stack.tasks}/tasks`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ title: `task ${sequence++}` }),
        });
        if (response.status === 201)
          acked.tasks.add(((await response.json()) as { id: number }).id);
      } catch {
        // As above.
      }
    }
  };
  const posts = async (): Promise<void> => {
    while (running) {
      const key = `post-${sequence++}`;
      try {
        acked.posts.set(key, (await poster.post('kept', `post ${key}`, key)).id);
      } catch (error) {
        postError = String(error);
      }
    }
  };
  const callers = [
    ...Array.from({ length: 3 }, () => ballots('grpc')),
    ...Array.from({ length: 3 }, () => ballots('redis')),
    ...Array.from({ length: 3 }, tasks),
    ...Array.from({ length: 2 }, posts),
  ];
  return {
    stop: async () => {
      running = false;
      await Promise.all(callers);
    },
  };
}

async function recentIds(stack: Stack): Promise<string[]> {
  const response = await fetch(`${stack.api}/api/recent`);
  return ((await response.json()) as { items: { id: string }[] }).items.map((item) => item.id);
}

/** How many of `ids` election-api finds stored (its verification route, 500 ids a call). */
async function storedThroughApi(stack: Stack, ids: readonly string[]): Promise<number> {
  let found = 0;
  for (let start = 0; start < ids.length; start += 500) {
    const response = await fetch(`${stack.api}/api/verify/ballots`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ids: ids.slice(start, start + 500) }),
    });
    found += ((await response.json()) as { ballots: unknown[] }).ballots.length;
  }
  return found;
}

function warnings(process: ManagedProcess): string[] {
  return `${process.stdout()}\n${process.stderr()}`
    .split('\n')
    .filter((line) => /"level":(40|50|60)/.test(line));
}

it('keeps every acknowledged ballot (both routes), task and news post through a SIGKILL mid-load, and the recent list', async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'agora-restart-systems-'));
  const stack = await stackOf();
  const acked: Acknowledged = { ballots: new Map(), tasks: new Set(), posts: new Map() };

  const first = await startStack(stack, withoutSubscriber);
  const admin = new NewsClient({ agent: stack.agent, retryForMs: 10_000 });
  await admin.login('root', 'root-password');
  await admin.addArea('kept');
  const poster = new NewsClient({ agent: stack.agent, retryForMs: 2_000, timeoutMs: 2_000 });
  await poster.register('poster', 'poster-password');
  await poster.subscribe('kept');
  const load = startLoad(stack, acked, poster);
  const enough = () =>
    [...acked.ballots.values()].filter((route) => route === 'grpc').length >= 100 &&
    [...acked.ballots.values()].filter((route) => route === 'redis').length >= 100 &&
    acked.tasks.size >= 100 &&
    acked.posts.size >= 50;
  await waitFor(enough, {
    timeoutMs: 60_000,
    message: () =>
      `ballots, tasks and posts acknowledged (so far ${acked.ballots.size} ballots, ` +
      `${acked.tasks.size} tasks, ${acked.posts.size} posts; last post error: ${postError})`,
  });
  // Killed while the load runs: what was acknowledged up to the kill must all be there.
  first.kill('SIGKILL');
  await first.exited;
  await load.stop();

  // Nothing writes now, so the recent list read here is the last one written before this kill.
  const second = await startStack(stack, withoutSubscriber);
  const recent = await recentIds(stack);
  expect(recent.length).toBeGreaterThan(0);
  second.kill('SIGKILL');
  await second.exited;

  const restarted = await startStack(stack, withoutSubscriber);
  expect(await recentIds(stack)).toEqual(recent);
  restarted.kill('SIGINT');
  expect(await restarted.exited).toEqual({ code: 0, signal: null });

  // With the subscriber, the Redis-route ballots kept in the broker's log are drained.
  const last = await startStack(stack, services);
  const redisRoute = [...acked.ballots].filter(([, route]) => route === 'redis').map(([id]) => id);
  await waitFor(async () => (await storedThroughApi(stack, redisRoute)) === redisRoute.length, {
    timeoutMs: 60_000,
    message: 'the subscriber to drain every Redis-route ballot kept in the log',
  });
  last.kill('SIGINT');
  expect(await last.exited).toEqual({ code: 0, signal: null });
  expect(warnings(last)).toEqual([]);

  const sql = await PgliteSql.open({ dataDir, schema: 'public' });
  try {
    const ballots = await sql.query<{ id: string; copies: number }>(
      'SELECT id, count(*)::int AS copies FROM ballots WHERE id = ANY($1) GROUP BY id',
      [[...acked.ballots.keys()]],
    );
    expect(ballots.rows.length).toBe(acked.ballots.size);
    for (const row of ballots.rows) expect(row.copies).toBe(1);
    const tasks = await sql.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM tasks WHERE id = ANY($1)',
      [[...acked.tasks]],
    );
    expect(tasks.rows[0]?.n).toBe(acked.tasks.size);
    const posts = await sql.query<{ client_key: string; id: string }>(
      'SELECT client_key, id::text AS id FROM news_items WHERE client_key = ANY($1)',
      [[...acked.posts.keys()]],
    );
    expect(new Map(posts.rows.map((row) => [row.client_key, row.id]))).toEqual(acked.posts);
  } finally {
    await sql.close();
  }
}, 300_000);
