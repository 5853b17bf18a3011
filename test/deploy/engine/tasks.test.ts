/**
 * The tasks profile in containers, as seed 003 ran it: client containers (the image running
 * `agora tasks emulate`) on the internal network, with no published port, send their tasks to
 * the server by its service name; then one of the two server replicas is killed with
 * `docker kill` while an emulator runs, and every acknowledged task is stored once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ComposeProject } from '../../support/compose-project.js';
import { stopContainer } from '../../support/containers.js';
import { toolOutput } from '../../support/deploy-tools.js';
import { type ManagedProcess, startProcess, waitFor } from '../../support/processes.js';
import { bringUp, readOnlyRun } from './profile.js';

interface TaskPage {
  tasks: { id: number; idempotency_key: string | null }[];
  next: number | null;
}

const project = new ComposeProject(['tasks']);
/** Replica #2's published port: replica #1 is the one killed. */
let url: string;

/** A client container on the back network: `agora tasks emulate` against http://tasks:9000. */
function emulator(prefix: string, tasks: number, concurrency: number): ManagedProcess {
  return startProcess('docker', [
    'run',
    '--rm',
    '--label',
    `com.docker.compose.project=${project.name}`,
    '--network',
    project.network('back-tier'),
    'agora:latest',
    'tasks',
    'emulate',
    '--clients',
    '1',
    '--tasks',
    String(tasks),
    '--concurrency',
    String(concurrency),
    '--client-prefix',
    prefix,
    '--url',
    'http://tasks:9000',
  ]);
}

/** Every task the server stores for one client, read page by page through the published port. */
async function storedTasks(client: string): Promise<TaskPage['tasks']> {
  const stored: TaskPage['tasks'] = [];
  let before: number | null = null;
  do {
    const query = new URLSearchParams({ client, limit: '1000' });
    if (before !== null) query.set('before', String(before));
    const response = await fetch(`${url}/tasks?${query.toString()}`);
    expect(response.status).toBe(200);
    const page = (await response.json()) as TaskPage;
    stored.push(...page.tasks);
    before = page.next;
  } while (before !== null);
  return stored;
}

beforeAll(async () => {
  // redis, postgres and the two tasks replicas
  await bringUp(project, 4);
  url = await project.url('tasks', 9000, 2);
});

afterAll(() => project.down());

describe('tasks profile in containers', () => {
  it('stores all 200 tasks of two client containers sending 100 concurrent tasks each', async () => {
    const clients = [emulator('seed1', 100, 100), emulator('seed2', 100, 100)];
    const exits = await Promise.all(clients.map((client) => client.exited));
    for (const [index, exit] of exits.entries()) {
      expect(exit.code, clients[index]?.output()).toBe(0);
    }
    for (const client of ['seed1-1', 'seed2-1']) {
      const stored = await storedTasks(client);
      expect(stored).toHaveLength(100);
      expect(new Set(stored.map((task) => task.idempotency_key)).size).toBe(100);
    }
  });

  it('stores every acknowledged task once when one replica is killed during a run', async () => {
    const client = emulator('kill', 600, 20);
    try {
      // Once the server holds some of the run's tasks, kill the replica #1.
      await waitFor(async () => (await storedTasks('kill-1')).length >= 50, {
        timeoutMs: 60_000,
        intervalMs: 200,
        message: 'the emulator to have stored 50 tasks',
      });
      await toolOutput('docker', ['kill', await project.container('tasks', 1)]);
      const exit = await client.exited;
      // The emulator checks every acknowledged task is stored exactly once; exit 0 says so.
      expect(exit.code, client.output()).toBe(0);
      const stored = await storedTasks('kill-1');
      expect(stored).toHaveLength(600);
      expect(new Set(stored.map((task) => task.idempotency_key)).size).toBe(600);
    } finally {
      await client.stop(5_000);
    }
  });

  it('runs tasks with a read-only root file system', async () => {
    expect(await readOnlyRun(project, 'tasks', 2)).toBe(0);
  });

  it('stops gracefully on docker stop (SIGTERM), exit code 0', async () => {
    expect(await stopContainer(await project.container('tasks', 2), 15)).toBe(0);
  });
});
