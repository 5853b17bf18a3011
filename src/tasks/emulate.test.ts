/**
 * The emulator's sending and judging without a network: retries on what may pass later, gives
 * up on what will not, and a verdict that names lost, duplicated and misfiled tasks.
 */
import { describe, expect, it } from 'vitest';

import { type CreateResult, TasksApiError } from './client.js';
import { idempotencyKeyOf, isSound, judge, type SendOutcome, sendTasks } from './emulate.js';
import type { Task } from './protocol.js';

function task(id: number, key: string | null): Task {
  return {
    id,
    title: `t${id}`,
    description: '',
    status: 'pending',
    done: false,
    client_id: 'c',
    idempotency_key: key,
    created_at: '2026-01-01T00:00:00.000Z',
    updated_at: '2026-01-01T00:00:00.000Z',
  };
}

function outcome(acknowledged: [string, number][]): SendOutcome {
  return {
    clientId: 'c',
    sent: acknowledged.length,
    acknowledged: acknowledged.length,
    failed: 0,
    retries: 0,
    acknowledgedIds: new Map(acknowledged),
    failures: [],
  };
}

/** A fake service: `script(key, attempt)` throws or returns the task's id. */
function fakeClient(script: (key: string, attempt: number) => number) {
  const attempts = new Map<string, number>();
  return {
    create: (_title: string, options: { idempotencyKey?: string } = {}): Promise<CreateResult> => {
      const key = options.idempotencyKey ?? '';
      const attempt = attempts.get(key) ?? 0;
      attempts.set(key, attempt + 1);
      try {
        return Promise.resolve({ task: task(script(key, attempt), key), replayed: attempt > 0 });
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    },
  };
}

describe('sendTasks', () => {
  it('retries connection errors and 5xx with the same key until acknowledged', async () => {
    const client = fakeClient((key, attempt) => {
      if (attempt === 0) throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      if (attempt === 1) throw new TasksApiError(503, 'database_unavailable', 'later');
      return Number(key.slice('task-'.length));
    });
    const result = await sendTasks(client, {
      clientId: 'c',
      tasks: 5,
      concurrency: 3,
      maxAttempts: 5,
    });
    expect(result).toMatchObject({ sent: 5, acknowledged: 5, failed: 0, retries: 10 });
    expect(result.acknowledgedIds.get(idempotencyKeyOf(4))).toBe(4);
  });

  it('does not retry a 4xx other than 429, and stops after maxAttempts', async () => {
    const client = fakeClient((key) => {
      if (key === 'task-1') throw new TasksApiError(400, 'invalid_request', 'body.title');
      throw new TasksApiError(500, 'internal', 'boom');
    });
    const result = await sendTasks(client, {
      clientId: 'c',
      tasks: 2,
      concurrency: 1,
      maxAttempts: 3,
    });
    expect(result).toMatchObject({ acknowledged: 0, failed: 2, retries: 2 });
    expect(result.failures[0]).toContain('400 invalid_request');
  });
});

describe('judge', () => {
  it('passes when every acknowledged task is stored once under its id', () => {
    const verdict = judge(
      outcome([
        ['task-1', 1],
        ['task-2', 2],
      ]),
      [task(2, 'task-2'), task(1, 'task-1'), task(3, 'task-3')],
    );
    expect(isSound(verdict)).toBe(true);
    expect(verdict.storedUnacknowledged).toBe(1);
  });

  it('names lost, duplicated and misfiled tasks', () => {
    const verdict = judge(
      outcome([
        ['task-1', 1],
        ['task-2', 2],
        ['task-3', 3],
      ]),
      [task(1, 'task-1'), task(4, 'task-1'), task(9, 'task-3'), task(5, null)],
    );
    expect(verdict.lost).toEqual(['task-2']);
    expect(verdict.duplicates).toEqual(['task 5 has no idempotency key', 'task-1']);
    expect(verdict.mismatched).toEqual(['task-3']);
    expect(isSound(verdict)).toBe(false);
  });
});
