/**
 * /status counts come from counters kept with the writes (migration 2), not from a scan: after
 * concurrent creates, status changes and deletes they equal a fresh count of the table.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { tasksService } from '../../src/tasks/service.js';
import { type InProcessService, startInProcess } from '../support/in-process.js';
import { waitForHttp } from '../support/processes.js';

let running: InProcessService;
let base: string;

beforeAll(async () => {
  running = await startInProcess(tasksService, { label: 'tasks_counts' });
  base = running.service.url;
  await waitForHttp(`${base}/readyz`);
});

afterAll(() => running.remove());

const json = { 'content-type': 'application/json' };

describe('the /status counts', () => {
  it('equal a fresh count after concurrent creates, changes and deletes', async () => {
    const created = await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        const response = await fetch(`${base}/tasks`, {
          method: 'POST',
          headers: json,
          body: JSON.stringify({ title: `task ${i}` }),
        });
        expect(response.status).toBe(201);
        return ((await response.json()) as { id: number }).id;
      }),
    );
    await Promise.all(
      created.slice(0, 30).map((id) =>
        fetch(`${base}/tasks/${id}`, {
          method: 'PATCH',
          headers: json,
          body: JSON.stringify({ done: true }),
        }),
      ),
    );
    await Promise.all([
      ...created.slice(0, 10).map((id) =>
        fetch(`${base}/tasks/${id}`, {
          method: 'PATCH',
          headers: json,
          body: JSON.stringify({ done: false }),
        }),
      ),
      ...created.slice(25, 40).map((id) => fetch(`${base}/tasks/${id}`, { method: 'DELETE' })),
    ]);
    const report = (await (await fetch(`${base}/status`)).json()) as {
      tasks: { pending: number; done: number; total: number };
    };
    // 60 made, 15 deleted (25..39); done: 10..24 (15 of them).
    expect(report.tasks).toEqual({ pending: 30, done: 15, total: 45 });
  });
});
