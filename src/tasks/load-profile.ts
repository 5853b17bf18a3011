/**
 * `agora load tasks`: simulated clients, each with its own X-Client-Id, POST tasks with an
 * idempotency key each (the seed's question: do all of them arrive?); afterwards every client's
 * tasks are read back and each acknowledged task must be stored once, under the id it was
 * acknowledged with.
 */
import { randomBytes } from 'node:crypto';

import { request } from 'undici';

import type { LoadProfile } from '../load/command.js';
import {
  errorReason,
  type RunRecord,
  type Scenario,
  type ScenarioContext,
  type VerificationResult,
} from '../load/scenario.js';
import { idempotencyKeyOf, taskTitle } from './emulate.js';
import { clientIdHeader, idempotencyKeyHeader, type Task, type TaskPage } from './protocol.js';

/** One task as the run saw it; `id` only once acknowledged. */
export interface SentTask {
  clientId: string;
  key: string;
  id?: number;
}

interface SimulatedClient {
  clientId: string;
  sent: number;
}

const route = 'POST /tasks';
const pageSize = 1_000;

export function tasksScenario(): Scenario<SimulatedClient, SentTask> {
  // Clients of this run only: tasks stored by earlier runs or other clients are not read.
  const run = `load-${randomBytes(4).toString('hex')}`;
  return {
    name: 'tasks',
    routes: [route],
    createUser: (index) => ({ clientId: `${run}-${index + 1}`, sent: 0 }),
    async request(client, context) {
      client.sent += 1;
      const task: SentTask = { clientId: client.clientId, key: idempotencyKeyOf(client.sent) };
      try {
        const response = await request(new URL('/tasks', context.baseUrl), {
          method: 'POST',
          dispatcher: context.http,
          signal: context.signal,
          headers: {
            'content-type': 'application/json',
            [clientIdHeader]: task.clientId,
            [idempotencyKeyHeader]: task.key,
          },
          body: JSON.stringify({ title: taskTitle(task.clientId, client.sent) }),
        });
        const status = response.statusCode;
        if (status !== 201) {
          await response.body.dump();
          // Any 5xx may have come after the commit: a 503 too, when Postgres committed the
          // insert and died before answering, so the service saw only the connection drop.
          const unknown = status >= 500;
          return { route, ok: false, status, unconfirmed: unknown ? task : undefined };
        }
        const stored = (await response.body.json()) as Partial<Task>;
        if (typeof stored.id !== 'number' || stored.idempotency_key !== task.key) {
          return { route, ok: false, status, error: 'unexpected answer', unconfirmed: task };
        }
        return { route, ok: true, status, acknowledged: { ...task, id: stored.id } };
      } catch (error) {
        return { route, ok: false, error: errorReason(error), unconfirmed: task };
      }
    },
    async verify(record, context) {
      const clients = [
        ...new Set([...record.acknowledged, ...record.unconfirmed].map((task) => task.clientId)),
      ];
      const stored: Task[] = [];
      for (const clientId of clients) stored.push(...(await readClientTasks(clientId, context)));
      return {
        ...compareTasks(record, stored),
        store: `the tasks service's database, read through GET /tasks at ${context.baseUrl.href}`,
      };
    },
  };
}

/**
 * Each acknowledged task stored exactly once under its acknowledged id; an unconfirmed one
 * stored at most once; nothing stored for a key the run never sent or saw refused.
 */
export function compareTasks(
  record: RunRecord<SentTask>,
  stored: readonly Task[],
): Omit<VerificationResult, 'store'> {
  const name = (clientId: string, key: string) => `${clientId}/${key}`;
  const byKey = new Map<string, Task[]>();
  const differences: string[] = [];
  for (const task of stored) {
    if (task.client_id === null || task.idempotency_key === null) {
      differences.push(`task ${task.id}: stored without a client or an idempotency key`);
      continue;
    }
    const key = name(task.client_id, task.idempotency_key);
    byKey.set(key, [...(byKey.get(key) ?? []), task]);
  }
  for (const [key, tasks] of byKey) {
    if (tasks.length > 1) differences.push(`${key}: stored ${tasks.length} times`);
  }
  for (const task of record.acknowledged) {
    const key = name(task.clientId, task.key);
    const found = byKey.get(key);
    if (found === undefined)
      differences.push(`${key}: acknowledged as task ${task.id}, not stored`);
    else if (!found.some((candidate) => candidate.id === task.id)) {
      differences.push(`${key}: acknowledged as task ${task.id}, stored as ${found[0]?.id}`);
    }
  }
  const sent = new Set(
    [...record.acknowledged, ...record.unconfirmed].map((task) => name(task.clientId, task.key)),
  );
  for (const key of byKey.keys()) {
    if (!sent.has(key)) differences.push(`${key}: stored, but its request was refused`);
  }
  return {
    ok: differences.length === 0,
    checked: record.acknowledged.length,
    expected: { acknowledged: record.acknowledged.length, unconfirmed: record.unconfirmed.length },
    stored: { tasks: stored.length, distinctKeys: byKey.size },
    differences,
  };
}

/** Every task of one client, following `next` to the oldest page. */
async function readClientTasks(clientId: string, context: ScenarioContext): Promise<Task[]> {
  const tasks: Task[] = [];
  let before: number | null = null;
  do {
    const url = new URL('/tasks', context.baseUrl);
    url.searchParams.set('client', clientId);
    url.searchParams.set('limit', String(pageSize));
    if (before !== null) url.searchParams.set('before', String(before));
    const response = await request(url, { dispatcher: context.http, signal: context.signal });
    if (response.statusCode !== 200) {
      await response.body.dump();
      throw new Error(`GET ${url.href} answered ${response.statusCode}`);
    }
    const page = (await response.body.json()) as TaskPage;
    tasks.push(...page.tasks);
    before = page.next;
  } while (before !== null);
  return tasks;
}

export const tasksLoadProfile: LoadProfile = {
  system: 'tasks',
  description:
    'Simulated clients (one X-Client-Id each) POST tasks, each with its own Idempotency-Key; ' +
    "then every client's tasks are read back: each acknowledged task must be stored once, " +
    'under the id it was acknowledged with (exit 3 otherwise).',
  defaultUrl: (env) => env.AGORA_TASKS_URL ?? 'http://127.0.0.1:9000',
  createScenario: () => tasksScenario(),
};
