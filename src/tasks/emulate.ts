/**
 * The seed's client emulator: one client sends its tasks concurrently, each with an idempotency
 * key, retrying connection errors and 5xx answers with backoff; then its tasks are read back
 * from the service and judged: every acknowledged task stored exactly once.
 */
import { setTimeout as sleep } from 'node:timers/promises';

import { backoffDelay } from '../platform/backoff.js';
import { TasksApiError, type TasksClient } from './client.js';
import type { Task } from './protocol.js';

export interface SendOptions {
  clientId: string;
  tasks: number;
  /** Requests this client has in flight at once. */
  concurrency: number;
  /** Attempts per task before it counts as failed. */
  maxAttempts: number;
  /** Told after every finished task (acknowledged or failed), for a progress bar. */
  onProgress?: (progress: SendProgress) => void;
  /** Told each acknowledgement's latency, from the first attempt, in milliseconds. */
  onAcknowledged?: (latencyMs: number) => void;
}

export interface SendProgress {
  sent: number;
  acknowledged: number;
  failed: number;
  retries: number;
}

export interface SendOutcome extends SendProgress {
  clientId: string;
  /** Idempotency key -> the id the service acknowledged it with. */
  acknowledgedIds: Map<string, number>;
  /** Why the last attempt of each failed task failed, first few only. */
  failures: string[];
}

export interface ClientVerdict {
  clientId: string;
  acknowledged: number;
  stored: number;
  /** Acknowledged keys with no stored task. */
  lost: string[];
  /** Keys stored more than once, or stored tasks of this client with no key at all. */
  duplicates: string[];
  /** Acknowledged with one id, stored under another. */
  mismatched: string[];
  /** Never acknowledged (every attempt failed) but stored: not a loss, the answer was. */
  storedUnacknowledged: number;
}

/** Title of task `index` of a client, so a stored task says where it came from. */
export function taskTitle(clientId: string, index: number): string {
  return `Task ${index} from ${clientId}`;
}

export function idempotencyKeyOf(index: number): string {
  return `task-${index}`;
}

export async function sendTasks(
  client: Pick<TasksClient, 'create'>,
  options: SendOptions,
): Promise<SendOutcome> {
  const outcome: SendOutcome = {
    clientId: options.clientId,
    sent: 0,
    acknowledged: 0,
    failed: 0,
    retries: 0,
    acknowledgedIds: new Map(),
    failures: [],
  };
  let next = 1;

  const sendOne = async (index: number) => {
    const key = idempotencyKeyOf(index);
    const title = taskTitle(options.clientId, index);
    const started = performance.now();
    outcome.sent += 1;
    for (let attempt = 0; ; attempt++) {
      try {
        const { task } = await client.create(title, { idempotencyKey: key });
        options.onAcknowledged?.(performance.now() - started);
        outcome.acknowledged += 1;
        outcome.acknowledgedIds.set(key, task.id);
        return;
      } catch (error) {
        if (!isRetryable(error) || attempt + 1 >= options.maxAttempts) {
          outcome.failed += 1;
          if (outcome.failures.length < 5) outcome.failures.push(`${key}: ${describe(error)}`);
          return;
        }
        outcome.retries += 1;
        await sleep(backoffDelay(attempt, { initialMs: 50, maxMs: 2_000 }));
      }
    }
  };

  const lane = async () => {
    while (next <= options.tasks) {
      const index = next++;
      await sendOne(index);
      options.onProgress?.(outcome);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, options.tasks) }, lane));
  return outcome;
}

/** Compares what the service acknowledged with what it stores for this client. */
export function judge(outcome: SendOutcome, stored: readonly Task[]): ClientVerdict {
  const byKey = new Map<string, Task[]>();
  const duplicates: string[] = [];
  for (const task of stored) {
    if (task.idempotency_key === null) {
      duplicates.push(`task ${task.id} has no idempotency key`);
      continue;
    }
    byKey.set(task.idempotency_key, [...(byKey.get(task.idempotency_key) ?? []), task]);
  }
  for (const [key, tasks] of byKey) if (tasks.length > 1) duplicates.push(key);

  const lost: string[] = [];
  const mismatched: string[] = [];
  for (const [key, id] of outcome.acknowledgedIds) {
    const tasks = byKey.get(key);
    if (tasks === undefined) lost.push(key);
    else if (!tasks.some((task) => task.id === id)) mismatched.push(key);
  }
  const storedUnacknowledged = [...byKey.keys()].filter(
    (key) => !outcome.acknowledgedIds.has(key),
  ).length;
  return {
    clientId: outcome.clientId,
    acknowledged: outcome.acknowledged,
    stored: stored.length,
    lost,
    duplicates,
    mismatched,
    storedUnacknowledged,
  };
}

export function isSound(verdict: ClientVerdict): boolean {
  return (
    verdict.lost.length === 0 && verdict.duplicates.length === 0 && verdict.mismatched.length === 0
  );
}

/** Connection errors, timeouts, 5xx and 429 may succeed later; any other 4xx will not. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof TasksApiError) return error.status >= 500 || error.status === 429;
  return error instanceof Error;
}

function describe(error: unknown): string {
  if (error instanceof TasksApiError) return `${error.status} ${error.code}: ${error.message}`;
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}
