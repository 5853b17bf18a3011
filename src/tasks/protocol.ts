/**
 * The task API's vocabulary, shared by the service, the CLI and the emulator: the task as JSON,
 * its status, the client and idempotency headers, and the paging cursor.
 */

export const tasksSystem = 'tasks';

/** Who sends a task: the seed's client1 / client2. Optional; filters `GET /tasks?client=`. */
export const clientIdHeader = 'x-client-id';
/** Makes a retried POST return the task its first attempt created instead of a second one. */
export const idempotencyKeyHeader = 'idempotency-key';
/** Set on a POST answered from an earlier attempt with the same key (Stripe's name). */
export const replayedHeader = 'idempotent-replayed';

/** Client ids and idempotency keys: printable, no spaces, short enough to index. */
export const tokenPattern = '^[A-Za-z0-9._:-]{1,128}$';

export const taskStatuses = ['pending', 'done'] as const;
export type TaskStatus = (typeof taskStatuses)[number];

export interface Task {
  id: number;
  title: string;
  description: string;
  status: TaskStatus;
  done: boolean;
  client_id: string | null;
  idempotency_key: string | null;
  created_at: string;
  updated_at: string;
}

export interface TaskPage {
  tasks: Task[];
  /** Pass as `?before=` for the next (older) page; null on the last page. */
  next: number | null;
}

export interface StatusReport {
  service: string;
  instance: string;
  pid: number;
  started_at: string;
  uptime_seconds: number;
  tasks: Record<TaskStatus, number> & { total: number };
  /** Answers by this instance since it started, by status code. */
  requests: Record<string, number>;
  /** The 4xx and 5xx among them. */
  errors: Record<string, number>;
}

export function statusOf(done: boolean): TaskStatus {
  return done ? 'done' : 'pending';
}
