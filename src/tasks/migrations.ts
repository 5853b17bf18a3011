/**
 * The tasks schema. One row per task; `(client_id, idempotency_key)` is unique, so a retried
 * POST can only ever find the task its first attempt made, however many replicas race on it.
 */
import type { Migration } from '../platform/sql/migrations.js';

export const tasksMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'tasks',
    sql: `
      CREATE TABLE tasks (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        client_id text NOT NULL DEFAULT '',
        idempotency_key text,
        request_hash text,
        title text NOT NULL,
        description text NOT NULL DEFAULT '',
        done boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT tasks_idempotency_key UNIQUE (client_id, idempotency_key)
      );
      CREATE INDEX tasks_client_newest ON tasks (client_id, id DESC);
      CREATE INDEX tasks_done_newest ON tasks (done, id DESC);
    `,
  },
];
