/**
 * The SQL behind the task API. Every statement is parameterised and a function resolving means
 * its write is committed (autocommitted, or in the batch `createTasks` writes for a group
 * commit): the route answers 201 only after that.
 */
import { hash } from 'node:crypto';

import { AgoraError } from '../platform/errors.js';
import type { Outcome } from '../platform/sql/group-commit.js';
import type { SqlQueryable } from '../platform/sql/sql.js';
import { statusOf, type Task, type TaskPage, type TaskStatus, taskStatuses } from './protocol.js';

/** A key sent again with a different title or description: a client bug, not a retry. */
export class IdempotencyKeyReusedError extends AgoraError {
  constructor(key: string) {
    super(
      'idempotency_key_reused',
      422,
      `Idempotency-Key "${key}" was already used for a different task; use a new key for a new task.`,
    );
  }
}

export interface NewTask {
  title: string;
  description: string;
  /** '' when the client did not name itself. */
  clientId: string;
  idempotencyKey: string | undefined;
}

export interface CreatedTask {
  task: Task;
  /** False when an earlier request with the same key had created it. */
  created: boolean;
}

export interface TaskQuery {
  status?: TaskStatus;
  clientId?: string;
  /** Only tasks with a smaller id (older): the cursor of the page before. */
  before?: number;
  limit: number;
}

export interface TaskChanges {
  title?: string;
  description?: string;
  done?: boolean;
}

interface TaskRow {
  id: string;
  client_id: string;
  idempotency_key: string | null;
  request_hash: string | null;
  title: string;
  description: string;
  done: boolean;
  created_at: Date;
  updated_at: Date;
}

const columns =
  'id, client_id, idempotency_key, request_hash, title, description, done, created_at, updated_at';

/** What a batch's INSERT returns: the rest of the row is what its task sent. */
type InsertedRow = Pick<
  TaskRow,
  'id' | 'client_id' | 'idempotency_key' | 'created_at' | 'updated_at'
>;

export async function createTask(sql: SqlQueryable, task: NewTask): Promise<CreatedTask> {
  const hash = requestHash(task);
  const insert = await sql.query<TaskRow>(
    // ON CONFLICT waits for a concurrent insert of the same key to commit, then does nothing:
    // never two rows for one key, and no check-then-insert race between replicas.
    `INSERT INTO tasks (client_id, idempotency_key, request_hash, title, description)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT ON CONSTRAINT tasks_idempotency_key DO NOTHING
     RETURNING ${columns}`,
    [task.clientId, task.idempotencyKey ?? null, hash, task.title, task.description],
  );
  const inserted = insert.rows[0];
  if (inserted !== undefined) return { task: toTask(inserted), created: true };

  // Only a keyed insert can conflict; the statement above committed the winner, so this finds it.
  const key = task.idempotencyKey;
  if (key === undefined) throw new Error('an insert without an idempotency key conflicted');
  const { rows } = await sql.query<TaskRow>(
    `SELECT ${columns} FROM tasks WHERE client_id = $1 AND idempotency_key = $2`,
    [task.clientId, key],
  );
  const existing = rows[0];
  if (existing === undefined) {
    // The first task with this key was deleted in between: the key is free again.
    return createTask(sql, task);
  }
  if (existing.request_hash !== hash) throw new IdempotencyKeyReusedError(key);
  return { task: toTask(existing), created: false };
}

/**
 * The tasks of one group commit, in one INSERT, with the meaning each would have had alone and
 * in order: a key already stored, or sent earlier in the batch, finds that task (or, with other
 * content, is refused for that caller only). The INSERT is the batch's only write and commits
 * by itself (GroupCommit's `statement` mode); what follows reads, and a failure after it is
 * that task's outcome, never a throw.
 */
export async function createTasks(
  sql: SqlQueryable,
  tasks: readonly NewTask[],
): Promise<Outcome<CreatedTask>[]> {
  const hashes = tasks.map(requestHash);
  // Each task's (client, key), computed once: every writer inserts keys in this one order, so
  // batches sharing keys wait instead of deadlocking (a retry covers what is left), and rows
  // are matched back to tasks by it.
  const sortKeys = tasks.map((task) => keyOf(task.clientId, task.idempotencyKey ?? ''));
  const order = tasks
    .map((_, i) => i)
    .sort((a, b) => compareText(sortKeys[a] ?? '', sortKeys[b] ?? ''));
  // Only what Postgres chose comes back: the titles and descriptions are the batch's own, and
  // reading them back cost Node time per row for nothing (measured in the README).
  const inserted = await sql.query<InsertedRow>(
    `INSERT INTO tasks (client_id, idempotency_key, request_hash, title, description)
     SELECT client_id, idempotency_key, request_hash, title, description
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
       WITH ORDINALITY AS incoming(client_id, idempotency_key, request_hash, title, description, ord)
     ORDER BY ord
     ON CONFLICT ON CONSTRAINT tasks_idempotency_key DO NOTHING
     RETURNING id, client_id, idempotency_key, created_at, updated_at`,
    [
      order.map((i) => tasks[i]?.clientId ?? ''),
      order.map((i) => tasks[i]?.idempotencyKey ?? null),
      order.map((i) => hashes[i] ?? ''),
      order.map((i) => tasks[i]?.title ?? ''),
      order.map((i) => tasks[i]?.description ?? ''),
    ],
    // One text on every batch: Postgres parses it once per connection, not per batch.
    { prepare: true },
  );
  // A stored row is its task's input plus what Postgres chose. Of tasks sharing a key, the
  // INSERT (in key order, then batch order) wrote the first in the batch.
  const stored = (row: InsertedRow, index: number): TaskRow => {
    const task = tasks[index];
    if (task === undefined) throw new Error(`no task ${index} in the batch`);
    return {
      ...row,
      request_hash: hashes[index] ?? null,
      title: task.title,
      description: task.description,
      done: false,
    };
  };
  const firstWithKey = new Map<string, number>();
  for (const [i, task] of tasks.entries()) {
    const key = sortKeys[i] ?? '';
    if (task.idempotencyKey !== undefined && !firstWithKey.has(key)) firstWithKey.set(key, i);
  }
  const keyed = new Map<string, { row: TaskRow; fresh: boolean }>();
  // Unkeyed tasks never conflict; identity values follow insertion order.
  const unkeyed = inserted.rows
    .filter((row) => row.idempotency_key === null)
    .sort((a, b) => Number(a.id) - Number(b.id));
  const unkeyedInOrder = new Map<number, TaskRow>();
  for (const [n, i] of order.filter((i) => tasks[i]?.idempotencyKey === undefined).entries()) {
    const row = unkeyed[n];
    if (row !== undefined) unkeyedInOrder.set(i, stored(row, i));
  }
  for (const row of inserted.rows) {
    if (row.idempotency_key === null) continue;
    const key = keyOf(row.client_id, row.idempotency_key);
    const index = firstWithKey.get(key);
    if (index === undefined) throw new Error('the INSERT returned a key the batch did not send');
    keyed.set(key, { row: stored(row, index), fresh: true });
  }
  const missing = tasks.filter(
    (task, i) => task.idempotencyKey !== undefined && !keyed.has(sortKeys[i] ?? ''),
  );
  if (missing.length > 0) {
    // The statement above waited for the concurrent inserts it conflicted with to commit.
    const { rows } = await sql.query<TaskRow>(
      `SELECT ${columns} FROM tasks
       WHERE (client_id, idempotency_key) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
      [missing.map((task) => task.clientId), missing.map((task) => task.idempotencyKey ?? '')],
    );
    for (const row of rows) {
      if (row.idempotency_key !== null) {
        keyed.set(keyOf(row.client_id, row.idempotency_key), { row, fresh: false });
      }
    }
  }

  const outcomes: Outcome<CreatedTask>[] = [];
  for (const [i, task] of tasks.entries()) {
    const key = task.idempotencyKey;
    if (key === undefined) {
      const row = unkeyedInOrder.get(i);
      if (row === undefined) throw new Error('an insert without an idempotency key was skipped');
      outcomes.push({ value: { task: toTask(row), created: true } });
      continue;
    }
    const found = keyed.get(sortKeys[i] ?? '');
    if (found === undefined) {
      // The first task with this key was deleted in between: the key is free again. Its own
      // write, whose failure is this task's alone: the batch's insert has committed.
      try {
        outcomes.push({ value: await createTask(sql, task) });
      } catch (error) {
        outcomes.push({ error });
      }
    } else if (found.row.request_hash !== hashes[i]) {
      outcomes.push({ error: new IdempotencyKeyReusedError(key) });
    } else {
      outcomes.push({ value: { task: toTask(found.row), created: found.fresh } });
      // The next task of the batch with this key finds this one.
      found.fresh = false;
    }
  }
  return outcomes;
}

function keyOf(clientId: string, key: string): string {
  return JSON.stringify([clientId, key]);
}

function compareText(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}

export async function findTask(sql: SqlQueryable, id: number): Promise<Task | undefined> {
  const { rows } = await sql.query<TaskRow>(`SELECT ${columns} FROM tasks WHERE id = $1`, [id]);
  return rows[0] === undefined ? undefined : toTask(rows[0]);
}

/** Newest first; `next` is the cursor of the following page, or null when there is none. */
export async function listTasks(sql: SqlQueryable, query: TaskQuery): Promise<TaskPage> {
  const done = query.status === undefined ? null : query.status === 'done';
  const { rows } = await sql.query<TaskRow>(
    `SELECT ${columns} FROM tasks
     WHERE ($1::text IS NULL OR client_id = $1)
       AND ($2::boolean IS NULL OR done = $2)
       AND ($3::bigint IS NULL OR id < $3)
     ORDER BY id DESC
     LIMIT $4`,
    [query.clientId ?? null, done, query.before ?? null, query.limit + 1],
  );
  const page = rows.slice(0, query.limit).map(toTask);
  const last = page.at(-1);
  return { tasks: page, next: rows.length > query.limit && last !== undefined ? last.id : null };
}

export async function updateTask(
  sql: SqlQueryable,
  id: number,
  changes: TaskChanges,
): Promise<Task | undefined> {
  const { rows } = await sql.query<TaskRow>(
    `UPDATE tasks
     SET title = COALESCE($2, title), description = COALESCE($3, description),
         done = COALESCE($4, done), updated_at = now()
     WHERE id = $1
     RETURNING ${columns}`,
    [id, changes.title ?? null, changes.description ?? null, changes.done ?? null],
  );
  return rows[0] === undefined ? undefined : toTask(rows[0]);
}

export async function deleteTask(sql: SqlQueryable, id: number): Promise<boolean> {
  const { rowCount } = await sql.query('DELETE FROM tasks WHERE id = $1', [id]);
  return rowCount > 0;
}

export async function countByStatus(
  sql: SqlQueryable,
): Promise<Record<TaskStatus, number> & { total: number }> {
  const { rows } = await sql.query<{ done: boolean; count: number }>(
    // O(statuses x shards), not O(tasks): the triggers of migration 2 keep these.
    'SELECT done, sum(count)::int AS count FROM task_counts GROUP BY done',
  );
  const counts = Object.fromEntries(taskStatuses.map((status) => [status, 0])) as Record<
    TaskStatus,
    number
  >;
  for (const row of rows) counts[statusOf(row.done)] = row.count;
  return { ...counts, total: counts.pending + counts.done };
}

/** What a key promises to repeat: the same title and description. */
function requestHash(task: NewTask): string {
  return hash('sha256', JSON.stringify([task.title, task.description]), 'base64url');
}

function toTask(row: TaskRow): Task {
  return {
    id: Number(row.id),
    title: row.title,
    description: row.description,
    status: statusOf(row.done),
    done: row.done,
    client_id: row.client_id === '' ? null : row.client_id,
    idempotency_key: row.idempotency_key,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}
