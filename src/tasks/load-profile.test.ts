/** `agora load tasks`'s verification: acknowledged tasks against the tasks stored. */
import { Agent } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';

import { startTestTarget } from '../load/test-target.js';
import { compareTasks, type SentTask, tasksScenario } from './load-profile.js';
import type { Task } from './protocol.js';

const sent = (key: string, id?: number): SentTask => ({ clientId: 'c1', key, id });
const task = (id: number, key: string | null, clientId: string | null = 'c1'): Task => ({
  id,
  title: `Task ${id}`,
  description: '',
  status: 'pending',
  done: false,
  client_id: clientId,
  idempotency_key: key,
  created_at: '2026-12-01T00:00:00.000Z',
  updated_at: '2026-12-01T00:00:00.000Z',
});

describe('compareTasks', () => {
  it('passes when each acknowledged task is stored once under its id', () => {
    const record = { acknowledged: [sent('task-1', 7), sent('task-2', 8)], unconfirmed: [] };
    expect(compareTasks(record, [task(8, 'task-2'), task(7, 'task-1')])).toMatchObject({
      ok: true,
      checked: 2,
      differences: [],
    });
  });

  it('accepts an unconfirmed task stored once or not at all', () => {
    const record = {
      acknowledged: [sent('task-1', 7)],
      unconfirmed: [sent('task-2'), sent('task-3')],
    };
    expect(compareTasks(record, [task(7, 'task-1'), task(9, 'task-3')]).ok).toBe(true);
  });

  it('names a lost task, a duplicate, a wrong id and a refused task that was stored', () => {
    const record = {
      acknowledged: [sent('task-1', 7), sent('task-2', 8), sent('task-3', 9)],
      unconfirmed: [],
    };
    const stored = [task(10, 'task-2'), task(9, 'task-3'), task(11, 'task-3'), task(12, 'task-4')];
    const result = compareTasks(record, stored);
    expect(result.ok).toBe(false);
    expect(result.differences).toEqual([
      'c1/task-3: stored 2 times',
      'c1/task-1: acknowledged as task 7, not stored',
      'c1/task-2: acknowledged as task 8, stored as 10',
      'c1/task-4: stored, but its request was refused',
    ]);
  });
});

describe('tasksScenario.request', () => {
  const http = new Agent();
  afterAll(() => http.close());

  /** The outcome of one POST /tasks against a server that answers `status`. */
  async function outcomeOf(status: number) {
    const target = await startTestTarget(() => ({ status, body: '{"error":{"message":"no"}}' }));
    try {
      const scenario = tasksScenario();
      const context = { baseUrl: target.url, http, signal: new AbortController().signal };
      return await scenario.request(scenario.createUser(0), context);
    } finally {
      await target.close();
    }
  }

  it('counts a 503 as unconfirmed: Postgres may have committed before it died', async () => {
    const outcome = await outcomeOf(503);
    expect(outcome).toMatchObject({ ok: false, status: 503 });
    expect(outcome.unconfirmed).toMatchObject({ key: 'task-1' });
  });

  it('counts a 400 as refused: nothing was stored', async () => {
    const outcome = await outcomeOf(400);
    expect(outcome).toMatchObject({ ok: false, status: 400 });
    expect(outcome.unconfirmed).toBeUndefined();
  });
});
